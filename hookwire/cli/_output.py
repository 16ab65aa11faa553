"""What the commands print: aligned tables for people, stable JSON for machines.

Everything shown to people passes through :func:`escape` first: plugin names, versions, errors
and reprs come from installed distributions and plugin code, and a terminal must never
interpret them (ANSI escape sequences, bidi overrides, carriage returns). Tables are plain text —
no markup language is ever applied to data, so ``[bold]`` in a name is shown as written.

Data goes to stdout; diagnostics (warnings, errors, traces) go to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._loading.registry import PluginState
from .._text import escape

if TYPE_CHECKING:
    from .._dispatch.foreign import ForeignSignal
    from .._dispatch.introspection import ReceiverInfo
    from .._dispatch.signal import Signal
    from .._loading.registry import PluginRecord, Registry

__all__ = [
    "deprecated_uses",
    "describe_args",
    "plugin_check_lines",
    "plugins_json",
    "plugins_table",
    "render_table",
    "signal_args_json",
    "signals_json",
    "signals_lines",
    "warn",
    "write_json",
    "write_lines",
]

PROG = "hookwire"


def render_table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], width: int | None = None
) -> list[str]:
    """Rows aligned under ``headers``; cells are escaped, trailing spaces removed.

    With ``width`` (a terminal's), columns too wide to fit are narrowed, widest first, and their
    cells wrapped onto the row's next lines, as ``rich`` tables do; no column is narrowed below
    its header or :data:`_NARROWEST` characters.
    """
    cells = [[escape(cell) for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    if width is not None:
        widths = _narrowed(widths, [len(header) for header in headers], width)
    lines = []
    for row in [list(headers), *cells]:
        wrapped = [_wrap(cell, widths[index]) for index, cell in enumerate(row)]
        for depth in range(max(len(parts) for parts in wrapped)):
            padded = "  ".join(
                (parts[depth] if depth < len(parts) else "").ljust(widths[index])
                for index, parts in enumerate(wrapped)
            )
            lines.append(padded.rstrip())
    return lines


#: The fewest characters a column is narrowed to when a table must fit a terminal.
_NARROWEST = 8


def _narrowed(widths: list[int], headers: list[int], width: int) -> list[int]:
    widths = list(widths)
    floors = [
        max(header, min(_NARROWEST, natural))
        for header, natural in zip(headers, widths, strict=True)
    ]
    excess = sum(widths) + 2 * (len(widths) - 1) - width
    while excess > 0:
        widest = max(range(len(widths)), key=lambda index: widths[index] - floors[index])
        if widths[widest] <= floors[widest]:
            break  # as narrow as it goes: the terminal wraps the rest
        widths[widest] -= 1
        excess -= 1
    return widths


def _wrap(cell: str, width: int) -> list[str]:
    """``cell`` in pieces of at most ``width``, broken after a separator where one is near."""
    pieces = []
    while len(cell) > width:
        cut = max(cell.rfind(mark, 0, width) for mark in " ./:_-") + 1
        if cut < width // 2:
            cut = width
        pieces.append(cell[:cut].rstrip())
        cell = cell[cut:].lstrip(" ")
    pieces.append(cell)
    return pieces


def terminal_width() -> int | None:
    """The width of the terminal stdout is, ``None`` when it is no terminal: output read by
    programs or kept in files stays one line per row."""
    import os
    import shutil

    try:
        if not os.isatty(sys.stdout.fileno()):
            return None
    except (AttributeError, OSError, ValueError):
        return None
    return shutil.get_terminal_size().columns


def short_path(path: str) -> str:
    """``path`` as a person reads it on a terminal: relative to the current directory when
    it lies there, else ``.../`` and the part below the search-path entry holding it
    (``.../pizzeria_loyalty/signals.py``), else whole."""
    import os

    roots = [(entry, ".../") for entry in sys.path if entry] + [(os.getcwd(), "")]
    best: tuple[int, str] | None = None
    for root, lead in roots:
        root = os.path.abspath(root)
        if path.startswith(root.rstrip(os.sep) + os.sep) and (best is None or len(root) > best[0]):
            best = (len(root), lead + os.path.relpath(path, root))
    return path if best is None else best[1]


def write_lines(lines: Iterable[str]) -> None:
    """Write data lines to stdout."""
    out = sys.stdout
    for line in lines:
        out.write(line + "\n")


def warn(message: str) -> None:
    """One escaped warning line on stderr."""
    sys.stderr.write(f"{PROG}: warning: {escape(message)}\n")


def write_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (non-ASCII and control characters escaped)."""
    import json

    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def _shown(registry: Registry, include_disabled: bool) -> list[PluginRecord]:
    return [
        record
        for record in registry
        if include_disabled or record.state is not PluginState.DISABLED
    ]


def plugins_json(registry: Registry, *, include_disabled: bool) -> list[dict[str, Any]]:
    """The ``plugins list --json`` array (``docs/reference/json.md``); failed plugins always
    included."""
    return registry.to_json(include_disabled=include_disabled)


def plugins_table(
    registry: Registry, *, include_disabled: bool, verbose: bool = False
) -> list[str]:
    """The ``plugins list`` table, then one ``! error`` line per failed plugin; ``[]`` when
    there is nothing to show. ``verbose`` gives one block per plugin instead (see
    :func:`plugin_blocks`)."""
    records = _shown(registry, include_disabled)
    if not records:
        return []
    if verbose:
        return plugin_blocks(records)
    headers = ["NAME", "STATE", "DISTRIBUTION", "VERSION", "RECEIVERS", "REQUIRES", "ENTRY POINT"]
    rows = []
    for record in records:
        row: list[object] = [
            record.name,
            record.state.value,
            record.distribution,
            record.version,
            len(record.receivers()),
            ", ".join(record.requires) or None,
            record.entry_point,
        ]
        rows.append(row)
    lines = render_table(headers, rows)
    lines.extend(_error_lines(records))
    return lines


def plugin_blocks(records: Iterable[PluginRecord]) -> list[str]:
    """``plugins list --verbose``: per plugin a heading line (name, state, distribution) and
    one ``label: value`` line per detail, so that long paths never push the other fields out
    of a narrow terminal."""
    lines: list[str] = []
    for record in records:
        if lines:
            lines.append("")
        origin = f"{record.distribution or '-'} {record.version or ''}".strip()
        lines.append(f"{escape(record.name)}: {record.state.value} ({escape(origin)})")
        details: list[tuple[str, object]] = [
            ("receivers", len(record.receivers())),
            ("requires", ", ".join(record.requires) or None),
            ("entry point", record.entry_point),
            ("module file", record.module_file),
            ("metadata", record.dist_path),
        ]
        if record.listens:
            details.append(("listens to", ", ".join(record.listens)))
        for entry in record.shadowed:
            # The path on a line of its own, under the value: it is what makes lines long.
            details += [("shadows", f"{entry.distribution} {entry.version}"), ("", entry.dist_path)]
        if record.state is PluginState.DISABLED and record.reason:
            details.append(("disabled", record.reason))
        if record.state is PluginState.FAILED and record.error:
            details.append(("error", record.error))
        width = max(len(label) for label, _ in details) + 1
        lines.extend(
            f"  {(label + ':' if label else '').ljust(width)} {escape(value)}"
            for label, value in details
        )
    return lines


def _error_lines(records: Iterable[PluginRecord]) -> list[str]:
    # The loader's one-line errors already name the plugin, its distribution and the phase.
    return [
        f"! {escape(record.error)}"
        for record in records
        if record.error and record.state is PluginState.FAILED
    ]


def plugin_check_lines(registry: Registry) -> tuple[list[str], int]:
    """``plugins check`` output and the number of failures found.

    One line per plugin (``ok``, ``FAILED`` or ``disabled``), each failure's one-line cause,
    each discovery problem (unreadable metadata, a name offered twice), then a count by state.
    Failed plugins count as failures, and so do the discovery problems that also fail a strict
    load (:attr:`Registry.blocking_problems`): those of a plugin that would be loaded, and an
    allow- or deny-list name that nothing offers. A problem of a distribution that offers the
    host nothing (a malformed ``[console_scripts]`` line), or of a plugin that is not selected,
    is shown, not counted: the check answers for what would load. Receivers of ready plugins
    that take a deprecated signal argument get a ``~`` line each and are named in the summary;
    they are not failures.
    """
    records = list(registry)
    problems = list(registry.problems)
    labels = {"ready": "ok", "failed": "FAILED"}
    rows = [
        (
            labels.get(record.state.value, record.state.value),
            record.name,
            f"{record.distribution or '-'} {record.version or ''}".strip(),
        )
        for record in records
    ]
    lines = render_table(("STATUS", "PLUGIN", "DISTRIBUTION"), rows) if rows else []
    lines.extend(_error_lines(records))
    # Declarations that did not hold (check activates every lazy plugin to see them).
    drift = [line for record in records for line in record.drift]
    lines.extend(f"! {escape(line)}" for line in drift)
    lines.extend(f"! {escape(problem)}" for problem in problems)
    counts: dict[str, int] = {}
    for record in records:
        counts[record.state.value] = counts.get(record.state.value, 0) + 1
    order = ["ready", "failed", "disabled"]
    states = sorted(counts, key=lambda state: (order.index(state) if state in order else 3, state))
    noun = "plugin" if len(records) == 1 else "plugins"
    summary = f"{len(records)} {noun}"
    if states:
        summary += ": " + ", ".join(f"{counts[state]} {state}" for state in states)
    if problems:
        summary += f"; {len(problems)} discovery problem{'s' if len(problems) > 1 else ''}"
    if drift:
        summary += f"; {len(drift)} declaration{'s' if len(drift) > 1 else ''} not kept"
    deprecations = deprecated_uses(registry)
    lines.extend(line for _, line in deprecations)
    if deprecations:
        users = len({plugin for plugin, _ in deprecations})
        summary += (
            f"; {users} plugin{'s' if users > 1 else ''} "
            f"use{'' if users > 1 else 's'} deprecated signal arguments"
        )
    lines.append(summary)
    return lines, counts.get("failed", 0) + len(registry.blocking_problems) + len(drift)


def deprecated_uses(registry: Registry) -> list[tuple[str, str]]:
    """``(plugin, line)`` for every receiver of a ready plugin that takes a deprecated signal
    argument (what it was warned about when it connected); the line reads ``~ plugin 'NAME':
    <receiver> takes 'ARG', a deprecated argument of SIGNAL: <what to use instead>``."""
    from .._dispatch.contracts import deprecated_names_used, deprecation_message
    from .._dispatch.signal import all_signals

    ready = {record.name for record in registry.by_state(PluginState.READY)}
    found: list[tuple[str, str]] = []
    for signal in sorted(all_signals(), key=lambda signal: str(signal.qualified_name)):
        deprecated = signal.deprecated_args
        if not deprecated:
            continue
        for info in signal.describe_receivers():
            plugin = info.plugin
            if plugin is None or plugin not in ready or info.receiver is None:
                continue
            for name in deprecated_names_used(deprecated, info.receiver):
                message = deprecation_message(
                    signal.qualified_name, deprecated, info.receiver, name, None
                )
                found.append((plugin, escape(f"~ plugin {plugin!r}: {message}")))
    return found


def signal_args_json(signal: Signal | ForeignSignal) -> list[dict[str, Any]] | None:
    """The declared arguments of ``signal`` as ``[{name, type, deprecated, replacement}]``
    (declared ones first, in declaration order, then the deprecated ones); ``None`` for a
    signal that declares none."""
    from .._dispatch.contracts import type_name

    if signal.args is None:
        return None
    shown: list[dict[str, Any]] = [
        {"name": name, "type": type_name(kind), "deprecated": False, "replacement": None}
        for name, kind in signal.args.items()
    ]
    shown.extend(
        {"name": name, "type": None, "deprecated": True, "replacement": replacement or None}
        for name, replacement in (signal.deprecated_args or {}).items()
    )
    return shown


def declared_listeners(registry: Registry) -> dict[str, list[tuple[str, str]]]:
    """``signal name -> [(plugin, activation state)]`` of the lazy plugins declaring it,
    read from the registry (nothing is imported)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for record in registry:
        state = record.activation
        if state is not None:
            for name in record.listens:
                found.setdefault(name, []).append((record.name, state))
    return found


def signals_json(
    signals: Sequence[Signal | ForeignSignal],
    declared: Mapping[str, list[tuple[str, str]]] | None = None,
) -> list[dict[str, Any]]:
    """The ``signals --json`` array (``docs/reference/json.md``): each signal's doc and
    declared arguments, its receivers in the order they will be called, and (``declared``,
    from :func:`declared_listeners`) the lazy plugins that declare it."""
    shown = []
    for signal in signals:
        entry: dict[str, Any] = {
            "signal": signal.qualified_name,
            "doc": signal.doc,
            "args": signal_args_json(signal),
            "receivers": [info.to_json() for info in signal.describe_receivers()],
        }
        lazy = (declared or {}).get(signal.qualified_name)
        if lazy:
            entry["declared"] = [{"plugin": plugin, "state": state} for plugin, state in lazy]
        shown.append(entry)
    return shown


def describe_args(signal: Signal | ForeignSignal) -> str | None:
    """``"order: Order, size: str; deprecated: toppings (use pizza.toppings)"``, ``"none"``
    for a signal that declares no argument, ``None`` for one without a declaration."""
    declared = signal_args_json(signal)
    if declared is None:
        return None
    current = [
        f"{arg['name']}: {arg['type']}" if arg["type"] else arg["name"]
        for arg in declared
        if not arg["deprecated"]
    ]
    old = [
        f"{arg['name']} ({arg['replacement']})" if arg["replacement"] else arg["name"]
        for arg in declared
        if arg["deprecated"]
    ]
    text = ", ".join(current) or "none"
    return f"{text}; deprecated: {', '.join(old)}" if old else text


def _flags(info: ReceiverInfo) -> str:
    flags = ["async" if info.is_async else "sync", "weak" if info.weak else "strong"]
    if info.remote is not None:
        flags.append(f"remote:{info.remote.get('engine')}/{info.remote.get('queue')}")
    if info.dispatch_uid is not None:
        flags.append(f"uid={info.dispatch_uid!r}")
    return " ".join(flags)


def sender_text(sender: str | None, *, pending: bool) -> str:
    """A receiver's sender filter for people: ``any``, the sender, or a lazy reference still
    pending, said to be so (``blogsite.views:Post (pending)``)."""
    if sender is None:
        return "any"
    return f"{sender} (pending)" if pending else sender


def _location(info: ReceiverInfo, *, short: bool) -> str:
    if not info.file:
        return "-"
    file = short_path(info.file) if short else info.file
    return f"{file}:{info.line}" if info.line else str(file)


def _fitted(line: str, width: int | None) -> list[str]:
    """An indented line of prose, wrapped to ``width`` under its own indentation."""
    if width is None or len(line) <= width:
        return [line]
    import textwrap

    indent = " " * (len(line) - len(line.lstrip(" ")) + 2)
    return textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False)


def signals_lines(
    signals: Sequence[Signal | ForeignSignal],
    width: int | None = None,
    declared: Mapping[str, list[tuple[str, str]]] | None = None,
) -> list[str]:
    """``signals`` for people: each signal, its doc and declared arguments, the lazy plugins
    declaring it (``declared``, from :func:`declared_listeners`), then its receivers in call
    order. With ``width`` (a terminal's), file paths are shortened and the tables fitted to
    it (see :func:`render_table`)."""
    lines: list[str] = []
    for signal in signals:
        infos = signal.describe_receivers()
        noun = "receiver" if len(infos) == 1 else "receivers"
        if lines:
            lines.append("")
        lines.append(f"{escape(signal.qualified_name)} ({len(infos)} {noun})")
        if signal.doc:
            lines.extend(_fitted(f"  {escape(' '.join(signal.doc.split()))}", width))
        arguments = describe_args(signal)
        if arguments is not None:
            lines.extend(_fitted(f"  arguments: {escape(arguments)}", width))
        lazy = (declared or {}).get(signal.qualified_name)
        if lazy:
            listed = ", ".join(f"{plugin} ({state})" for plugin, state in lazy)
            lines.extend(_fitted(f"  lazy plugins: {escape(listed)}", width))
        if not infos:
            continue
        rows = [
            (
                position,
                info.name,
                info.plugin,
                sender_text(
                    info.sender_repr if info.sender is not None else None,
                    pending=info.sender_pending,
                ),
                _flags(info),
                _location(info, short=width is not None),
            )
            for position, info in enumerate(infos, 1)
        ]
        headers = ("#", "RECEIVER", "PLUGIN", "SENDER", "KIND", "DEFINED AT")
        table = render_table(headers, rows, None if width is None else width - 2)
        lines.extend("  " + line for line in table)
    return lines
