"""``hookwire plugins info``: everything known about one plugin.

The plugin's record (state, error, entry point, module file, requirements), its distribution's
metadata (summary, license, project URLs) and every receiver it connected, for people or as
JSON (the shape is documented in ``docs/schemas/plugins-info.schema.json``).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .._text import escape
from ._output import PROG, render_table, sender_text, write_json, write_lines
from ._params import HostArgument, HostOption, one_host
from ._policy import Options, output_guard

if TYPE_CHECKING:
    from .._loading.registry import PluginRecord, Registry

__all__ = ["plugin_info", "plugins_info"]


def _metadata(record: PluginRecord) -> dict[str, Any]:
    """Summary, license and project URLs from the plugin's installed metadata."""
    found: dict[str, Any] = {"summary": None, "license": None, "project_urls": {}}
    if not record.dist_path:
        return found
    from pathlib import Path

    import importlib_metadata

    try:
        metadata = importlib_metadata.PathDistribution(Path(record.dist_path)).metadata
    except Exception:  # unreadable metadata: the record already tells what is known
        return found
    found["summary"] = metadata.get("Summary")
    classifiers = [
        str(classifier).rpartition(" :: ")[2]
        for classifier in metadata.get_all("Classifier") or []
        if str(classifier).startswith("License :: ")
    ]
    found["license"] = (
        metadata.get("License-Expression") or metadata.get("License") or ", ".join(classifiers)
    ) or None
    urls: dict[str, str] = {}
    if metadata.get("Home-page"):
        urls["Homepage"] = str(metadata["Home-page"])
    for entry in metadata.get_all("Project-URL") or []:
        label, _, url = str(entry).partition(",")
        urls[label.strip()] = url.strip()
    found["project_urls"] = urls
    return found


def _traceback(record: PluginRecord) -> str | None:
    if record.exception is None:
        return None
    import traceback

    return "".join(traceback.format_exception(record.exception))


def _receivers(record: PluginRecord) -> list[dict[str, Any]]:
    found = [{"signal": signal, **info.to_json()} for signal, info in record.receivers_by_signal()]
    for entry in found:
        # Receivers that run elsewhere carry "remote"; every other one runs in the process.
        entry.setdefault("remote", None)
    return found


def plugin_info(record: PluginRecord) -> dict[str, Any]:
    """The ``plugins info --json`` object of ``record``."""
    plugin = record.plugin
    return {
        "name": record.name,
        "verbose_name": None if plugin is None else plugin.verbose_name,
        "state": record.state.value,
        "error": record.error,
        "traceback": _traceback(record),
        "phase": record.phase,
        "reason": record.reason,
        "distribution": record.distribution,
        "version": record.version,
        **_metadata(record),
        "entry_point": record.entry_point,
        "module_file": record.module_file,
        "dist_path": record.dist_path,
        "requires": list(record.requires),
        "requires_host": None if plugin is None else plugin.requires_host,
        "receivers": _receivers(record),
        "lazy": record.lazy,
        "activation": record.activation,
        "listens": list(record.listens),
    }


def _lines(info: dict[str, Any], *, with_traceback: bool) -> list[str]:
    urls = info["project_urls"]
    fields: list[tuple[str, object]] = [
        ("name", info["name"]),
        ("state", info["state"]),
        ("error", info["error"]),
        ("distribution", f"{info['distribution'] or '-'} {info['version'] or ''}".strip()),
        ("summary", info["summary"]),
        # Older metadata may hold the whole license text here: its first line tells enough.
        ("license", _first_line(info["license"])),
        *((f"url ({label})", url) for label, url in urls.items()),
        ("entry point", info["entry_point"]),
        ("module file", info["module_file"]),
        ("requires", ", ".join(info["requires"]) or None),
        ("requires host", info["requires_host"]),
        ("receivers", len(info["receivers"])),
    ]
    if info["listens"]:
        # A lazy plugin's declared signals, known without importing it.
        fields.insert(2, ("activation", info["activation"] or "eager"))
        fields.append(("listens to", ", ".join(info["listens"])))
    lines = [f"{label + ':':<15}{escape(value)}" for label, value in fields]
    if info["receivers"]:
        rows = [
            (
                receiver["signal"],
                receiver["receiver"],
                sender_text(receiver["sender"], pending=receiver["sender_pending"]),
                "remote" if receiver["remote"] else "local",
                f"{receiver['file']}:{receiver['line']}" if receiver["file"] else None,
            )
            for receiver in info["receivers"]
        ]
        table = render_table(("SIGNAL", "RECEIVER", "SENDER", "RUNS", "DEFINED AT"), rows)
        lines.extend("  " + line for line in table)
    if with_traceback and info["traceback"]:
        lines.append("")
        lines.extend(escape(line) for line in info["traceback"].rstrip("\n").splitlines())
    return lines


def _first_line(text: str | None) -> str | None:
    if not text:
        return None
    lines = text.strip().splitlines()
    return lines[0] + (" ..." if len(lines) > 1 else "") if lines else None


def _unknown(name: str, registry: Registry, host_name: str) -> str:
    import difflib

    names = sorted(record.name for record in registry)
    message = f"no plugin named {name!r} for host {host_name}"
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f"{message} (did you mean {close[0]!r}?)"
    return f"{message} (plugins: {', '.join(names) or 'none'})"


def plugins_info(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The plugin's name.", show_default=False)
    ],
    host: HostArgument = None,
    host_option: HostOption = None,
    json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object (see docs/schemas/plugins-info.schema.json).",
        ),
    ] = False,
    traceback: Annotated[
        bool,
        typer.Option("--traceback", help="Add the traceback of the plugin's failure."),
    ] = False,
) -> int:
    """Show everything known about one plugin, after loading the host's plugins.

    State, error, distribution, version, summary, license, project URLs, entry point, module
    file, requires, requires_host, and each receiver it connected (signal, receiver, where it is
    defined, sender, whether it runs remotely). An unknown name exits 1 with a suggestion.
    """
    with output_guard():
        return _show_info(
            name,
            one_host(host, host_option),
            json=json,
            with_traceback=traceback or Options.traceback,
        )


def _show_info(name: str, host: str | None, *, json: bool, with_traceback: bool) -> int:
    from ._resolve import resolve_host
    from ._status import loading_status
    from ._streams import stdout_to_stderr

    with stdout_to_stderr(), loading_status():
        loaded = resolve_host(host)
        registry = loaded.load()
    record = registry.get(name)
    if record is None:
        sys.stderr.write(f"{PROG}: error: {escape(_unknown(name, registry, loaded.name))}\n")
        return 1
    info = plugin_info(record)
    if json:
        write_json(info)
    else:
        write_lines(_lines(info, with_traceback=with_traceback))
    return 0
