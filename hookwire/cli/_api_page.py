"""``hookwire signals HOST --markdown``: a host's plugin API as a Markdown reference page.

The page is made from the signals alone (the host's public signals, then hookwire's lifecycle
signals): their docs, their declared arguments and a receiver that takes them. No plugin is
loaded to write it, so a host author can publish it from any checkout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._output import signal_args_json

if TYPE_CHECKING:
    from .._dispatch.signal import Signal
    from .._host import Host

__all__ = ["api_page"]


def _cell(text: object) -> str:
    """Table cell text: one line, pipes escaped, code in backticks kept as written."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _receiver_example(signal: Signal) -> list[str]:
    module, _, name = signal.qualified_name.rpartition(".")
    declared = [arg["name"] for arg in signal_args_json(signal) or () if not arg["deprecated"]]
    parameters = ", ".join(["sender", *declared, "**kwargs"])
    return [
        "```python",
        "from hookwire import receiver",
        f"from {module} import {name}",
        "",
        "",
        f"@receiver({name})",
        f"def on_{name}({parameters}):",
        "    ...",
        "```",
    ]


def _section(signal: Signal) -> list[str]:
    lines = [f"### `{signal.qualified_name}`", ""]
    if signal.doc:
        lines += [" ".join(signal.doc.split()), ""]
    declared = signal_args_json(signal)
    if declared is None:
        lines += [
            "Declares no arguments: receivers take `sender` and `**kwargs` and read what the "
            "host documents.",
            "",
        ]
    elif not declared:
        lines += ["Sent with `sender` only.", ""]
    else:
        lines += [
            "Sent with `sender` and:",
            "",
            "| argument | type | notes |",
            "| --- | --- | --- |",
        ]
        for arg in declared:
            kind = _code(_cell(arg["type"])) if arg["type"] else ""
            notes = ""
            if arg["deprecated"]:
                notes = "deprecated" + (
                    f": {_cell(arg['replacement'])}" if arg["replacement"] else ""
                )
            lines.append(f"| `{arg['name']}` | {kind} | {notes} |")
        lines.append("")
    lines += [*_receiver_example(signal), ""]
    return lines


def api_page(host: Host) -> list[str]:
    """The reference page of ``host``'s signals and hookwire's lifecycle signals."""
    from .. import signals as lifecycle

    version = f" {host.version}" if host.version else ""
    lines = [
        f"# {host.name}{version}: plugin API",
        "",
        f"Plugins are distributions that declare an entry point in the group "
        f"`{host.entry_point_group}`. They connect receivers to the signals below. A signal "
        "with declared arguments refuses, at connect, a receiver taking an argument it does "
        "not declare (unless that parameter has a default), and every send passes exactly "
        "the declared arguments.",
        "",
        "## The host's signals",
        "",
    ]
    own = list(host.signals.values())
    # In the order they are defined, which is the order a host sends them in.
    lifecycle_signals = [
        value for name, value in vars(lifecycle).items() if name in lifecycle.__all__
    ]
    listed = {id(signal) for signal in lifecycle_signals}
    host_signals = [signal for signal in own if id(signal) not in listed]
    if not host_signals:
        lines += ["This host declares no public signals.", ""]
    for signal in host_signals:
        lines += _section(signal)
    lines += [
        "## Lifecycle signals",
        "",
        "Sent by hookwire itself, with the host as `sender`.",
        "",
    ]
    for signal in lifecycle_signals:
        lines += _section(signal)
    while lines and not lines[-1]:
        lines.pop()
    return lines
