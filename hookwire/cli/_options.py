"""What the commands that load the host share: the loading options (``--plugin``,
``--disable``, ``--no-autoload``, ``--strict``, ``--traceback``), :func:`load_host` (the host
resolved and loaded with them) and :func:`signals_of` (the host's signals, then the others)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ._policy import Options

if TYPE_CHECKING:
    from .._dispatch.signal import Signal
    from .._host import Host
    from .._loading.registry import Registry

__all__ = [
    "DisableOption",
    "NoAutoloadOption",
    "PluginOption",
    "StrictOption",
    "TracebackOption",
    "load_host",
    "signals_of",
]


def _set_traceback(value: bool) -> None:
    if value:
        Options.traceback = True


PluginOption = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--plugin",
        "-p",
        metavar="NAME",
        help=(
            "Load only this plugin; repeat for several. With --no-autoload these are the "
            "only plugins loaded. Overrides $HOOKWIRE_PLUGINS and [tool.hookwire] plugins."
        ),
        show_default=False,
    ),
]
DisableOption = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--disable",
        "-d",
        metavar="NAME",
        help=(
            "Never import this plugin; repeat for several. Adds to $HOOKWIRE_DISABLE_PLUGINS "
            "and [tool.hookwire] disable."
        ),
        show_default=False,
    ),
]
NoAutoloadOption = Annotated[
    bool,
    typer.Option(
        "--no-autoload",
        help="Load no discovered plugin except those named with --plugin.",
    ),
]
StrictOption = Annotated[
    bool,
    typer.Option(
        "--strict",
        help=(
            "Fail (exit 1) when any plugin that would be loaded fails, or a name given to "
            "--plugin/--disable (or their environment and pyproject.toml settings) is offered "
            "by no installed distribution, instead of going on with a warning."
        ),
    ),
]
TracebackOption = Annotated[
    bool,
    typer.Option(
        "--traceback",
        callback=_set_traceback,
        is_eager=True,
        help=(
            "Print the traceback of each plugin that failed to load, and of any error, as "
            "well as the one-line message (the same as 'hookwire --traceback ...')."
        ),
    ),
]


def load_host(
    host_reference: str | None,
    plugin: list[str] | None,
    disable: list[str] | None,
    no_autoload: bool,
    strict: bool,
    *,
    runs_host: bool = False,
    lazy: bool | None = None,
) -> tuple[Host, Registry]:
    """Resolve the host and load its plugins with the command-line settings.

    For the commands whose stdout carries data (tables, JSON), whatever the host module or
    the plugins write to stdout while they are imported and readied — with ``print``, to the
    descriptor itself, or from a subprocess — goes to stderr instead, so that
    ``hookwire plugins list --json | jq`` works even with chatty plugins; they show failed
    plugins in that data. The commands that run the host (``runs_host``: ``run``, ``worker``)
    leave stdout to it, and each failed plugin is shown as the loader logs it (by the CLI's
    log handler, or by the application's own if it configured logging: never twice).
    ``lazy`` is ``Host.load``'s: ``False`` activates every lazy plugin as it loads.
    """
    from contextlib import nullcontext

    from ._resolve import resolve_host
    from ._status import loading_status
    from ._streams import stdout_to_stderr

    if runs_host:
        Options.load_failures = True
    with nullcontext() if runs_host else stdout_to_stderr(), loading_status():
        host = resolve_host(host_reference)
        registry = host.load(
            plugins=plugin if plugin else None,
            disable=disable or (),
            autoload=False if no_autoload else None,
            strict=True if strict else None,
            lazy=lazy,
        )
    return host, registry


def signals_of(host: Host) -> list[Signal]:
    """The host's signals first, then every other live signal, by name."""
    from .._dispatch.signal import all_signals

    shown = list(host.signals.values())
    known = {id(signal) for signal in shown}
    others = [signal for signal in all_signals() if id(signal) not in known]
    others.sort(key=lambda signal: str(signal.qualified_name))
    return shown + others
