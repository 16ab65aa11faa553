"""The typer application: ``hookwire run``, ``plugins list``, ``plugins check``, ``signals``;
``plugins install/uninstall/info/new`` and ``worker`` are defined in their own modules and
registered here.

Commands return their exit status; :func:`invoke` runs the command line through
:func:`._policy.run_command`, which turns every error into one line on stderr and an exit status.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .._text import escape
from . import _info, _install, _new, _output, _worker
from ._options import (
    DisableOption,
    NoAutoloadOption,
    PluginOption,
    StrictOption,
    TracebackOption,
    load_host,
    signals_of,
)
from ._output import PROG
from ._params import HostArgument, HostOption, one_host
from ._policy import (
    EXIT_FAILURE,
    EXIT_OK,
    Options,
    output_guard,
    run_command,
    show_discovery_cache_notes,
    show_failed_plugin,
)

if TYPE_CHECKING:
    from .._dispatch.foreign import ForeignSignal
    from .._dispatch.signal import Signal
    from .._host import Host
    from .._loading.registry import Registry

__all__ = ["app", "click_command", "invoke"]


app = typer.Typer(
    name=PROG,
    help=(
        "Run a hookwire host and show what its plugins loaded and what listens to its signals.\n\n"
        "HOST is 'module:attribute' naming a hookwire.Host (or a function returning one). "
        "When omitted it comes from $HOOKWIRE_HOST, then 'host' in [tool.hookwire] of the "
        "nearest pyproject.toml, then the built-in host (entry-point group hookwire.plugins)."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
plugins_app = typer.Typer(
    help="List, check, inspect, install, remove and create the host's plugins.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
# A short help of its own: click cuts the group's help to fit the command list ("...").
app.add_typer(
    plugins_app,
    name="plugins",
    short_help="List, check, inspect, install, remove and create plugins.",
)


def _show_version(value: bool) -> None:
    if value:
        from .. import __version__

        sys.stdout.write(f"{PROG} {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Show hookwire's version and exit.",
        ),
    ] = False,
    traceback: Annotated[
        bool,
        typer.Option(
            "--traceback",
            help=(
                "On errors, print the full traceback as well as the one-line message, and the "
                "traceback of each plugin that failed to load."
            ),
        ),
    ] = False,
) -> None:
    Options.traceback = Options.traceback or traceback


# -- commands ------------------------------------------------------------------------------


@app.command(short_help="Load the plugins and run the host's main.")
def run(
    host: HostArgument = None,
    host_option: HostOption = None,
    plugin: PluginOption = None,
    disable: DisableOption = None,
    no_autoload: NoAutoloadOption = False,
    strict: StrictOption = False,
    trace: Annotated[
        bool,
        typer.Option(
            "--trace",
            help=(
                "Log every signal sent during the run to stderr: its sender, each receiver "
                "called, the plugin it belongs to and how long it took; say why a discovery "
                "cache was ignored, if one was."
            ),
        ),
    ] = False,
    traceback: TracebackOption = False,
) -> int:
    """Load the plugins and run the host's main; exit with its status.

    Each plugin that fails to load is reported as one warning line on stderr, after its
    traceback when asked for, and the host runs without it (in strict mode the command stops
    instead, exit 1). Ctrl-C exits 130 and SIGTERM 143, after the host_stopping signal was
    sent. A status from main outside 0-255 exits 1 with a warning. When the reader of stdout
    goes away (| head), the command ends quietly (exit 141, or main's status).
    """
    if trace:
        show_discovery_cache_notes()
    with output_guard(), _tracing(trace):
        loaded_host, _ = load_host(
            one_host(host, host_option), plugin, disable, no_autoload, strict, runs_host=True
        )
        sys.stderr.flush()
        return loaded_host.run()


@contextmanager
def _tracing(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    from .._dispatch.tracing import install_tracer, remove_tracer
    from ._trace import TracePrinter

    install_tracer(TracePrinter(sys.stderr))
    try:
        yield
    finally:
        remove_tracer()


@plugins_app.command("list", short_help="List the host's plugins and their state.")
def plugins_list(
    host: HostArgument = None,
    host_option: HostOption = None,
    all_: Annotated[
        bool,
        typer.Option(
            "--all", "-a", help="Include disabled plugins (failed ones are always shown)."
        ),
    ] = False,
    json: Annotated[
        bool,
        typer.Option(
            "--json",
            help=(
                "Print a JSON array of {name, distribution, version, entry_point, state, error, "
                "receivers, requires} instead of a table."
            ),
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help=(
                "One block per plugin instead of a table, adding where it comes from (its "
                "module file and metadata folder) and the distributions it shadows; "
                "say why a discovery cache was ignored, if one was."
            ),
        ),
    ] = False,
    plugin: PluginOption = None,
    disable: DisableOption = None,
    no_autoload: NoAutoloadOption = False,
    strict: StrictOption = False,
    traceback: TracebackOption = False,
) -> int:
    """List the host's plugins: state, distribution, version, receivers, entry point, error."""
    if verbose:
        show_discovery_cache_notes()
    with output_guard():
        loaded_host, registry = load_host(
            one_host(host, host_option), plugin, disable, no_autoload, strict
        )
        _print_tracebacks(registry)
        if json:
            _output.write_json(_output.plugins_json(registry, include_disabled=all_))
            return EXIT_OK
        lines = _output.plugins_table(registry, include_disabled=all_, verbose=verbose)
        if not lines:
            group = escape(loaded_host.entry_point_group)
            why = (
                f"all {len(registry)} are disabled (--all lists them)"
                if len(registry)
                else "none are installed"
            )
            sys.stderr.write(f"{PROG}: no plugins to list in entry-point group {group!r}: {why}\n")
        _output.write_lines(lines)
        return EXIT_OK


@plugins_app.command("check", short_help="Load every plugin; exit 1 if any failed.")
def plugins_check(
    host: HostArgument = None,
    host_option: HostOption = None,
    plugin: PluginOption = None,
    disable: DisableOption = None,
    no_autoload: NoAutoloadOption = False,
    strict: StrictOption = False,
    traceback: TracebackOption = False,
) -> int:
    """Load every plugin and report each; exit 1 if any failed.

    Lazy plugins are activated too, and a lazy plugin whose declarations do not hold (a
    receiver connected to a host signal it does not declare, a declared signal it connects
    nothing to) counts as a failure. Discovery problems of the plugins that would load
    (unreadable metadata, a plugin name offered twice) count as failures, and so does an
    allow- or deny-list name that no installed distribution offers; problems of
    distributions offering no plugin, and of plugins that are not selected, are only shown.
    """
    with output_guard():
        _, registry = load_host(
            one_host(host, host_option), plugin, disable, no_autoload, strict, lazy=False
        )
        _print_tracebacks(registry)
        lines, failures = _output.plugin_check_lines(registry)
        _output.write_lines(lines)
        return EXIT_FAILURE if failures else EXIT_OK


def _print_tracebacks(registry: Registry) -> None:
    from .._loading.registry import PluginState

    # Their line is in the command's output: only the traceback, under --traceback.
    for record in registry.by_state(PluginState.FAILED):
        show_failed_plugin(None, record.traceback)


@app.command(short_help="Show every signal and its receivers.")
def signals(
    host: HostArgument = None,
    host_option: HostOption = None,
    json: Annotated[
        bool,
        typer.Option(
            "--json",
            help=(
                "Print a JSON array of {signal, doc, args: [{name, type, deprecated, "
                "replacement}], receivers: [{receiver, file, line, plugin, sender, weak, "
                "dispatch_uid, async, remote: null or {engine, queue}, sender_pending}], "
                "declared: [{plugin, state}] for lazy plugins} instead of text "
                "(see docs/schemas/signals.schema.json)."
            ),
        ),
    ] = False,
    markdown: Annotated[
        bool,
        typer.Option(
            "--markdown",
            help=(
                "Print the host's plugin API as a Markdown reference page instead: each of "
                "its signals and hookwire's lifecycle signals with its doc, its declared "
                "arguments and a receiver taking them. Loads no plugin."
            ),
        ),
    ] = False,
    plugin: PluginOption = None,
    disable: DisableOption = None,
    no_autoload: NoAutoloadOption = False,
    strict: StrictOption = False,
    traceback: TracebackOption = False,
) -> int:
    """Show every signal and its receivers: the host's, hookwire's, then any other.

    Each signal comes with its doc and the arguments it declares. Receivers are listed in the
    order they will be called, with the plugin that connected them, their sender filter, weak
    or strong, sync or async, and where they are defined.
    """
    if json and markdown:
        raise typer.BadParameter("give --json or --markdown, not both", param_hint="--markdown")
    with output_guard():
        if markdown:
            from contextlib import redirect_stdout

            from ._api_page import api_page
            from ._resolve import resolve_host

            with redirect_stdout(sys.stderr):
                resolved = resolve_host(one_host(host, host_option))
            _output.write_lines(escape(line) for line in api_page(resolved))
            return EXIT_OK
        loaded_host, registry = load_host(
            one_host(host, host_option), plugin, disable, no_autoload, strict
        )
        shown = _shown_signals(loaded_host)
        declared = _output.declared_listeners(registry)
        if json:
            _output.write_json(_output.signals_json(shown, declared))
        else:
            width = _output.terminal_width()
            _output.write_lines(_output.signals_lines(shown, width, declared))
        return EXIT_OK


def _shown_signals(host: Host) -> list[Signal | ForeignSignal]:
    """What ``signals`` lists: :func:`._options.signals_of`, then the signals of another dispatcher
    that an integration shows (Django's own, under ``hookwire.django``)."""
    from .._dispatch.foreign import foreign_signals

    return [*signals_of(host), *foreign_signals()]


plugins_app.command("info", short_help="Show everything known about one plugin.")(
    _info.plugins_info
)
plugins_app.command("install", short_help="Install plugins and report what the host gained.")(
    _install.plugins_install
)
plugins_app.command("uninstall", short_help="Remove plugins from hookwire's environment.")(
    _install.plugins_uninstall
)
plugins_app.command("new", short_help="Write a new plugin project for the host.")(_new.plugins_new)
app.command(short_help="Run a Celery worker for the host's remote receivers.")(_worker.worker)


# -- running the application ---------------------------------------------------------------


def click_command() -> Any:
    """The click command of :data:`app`, as ``hookwire`` runs it and its reference shows it:
    arguments named by their metavar alone (``NAME``, ``[HOST]``, ``NAME...``), without the
    type typer adds (``<str>``, ``<list[str]>``) or the braces it puts around required ones."""
    command = typer.main.get_command(app)
    _plain_argument_names(command)
    return command


def _plain_argument_names(command: Any) -> None:
    # An argument gives its usage through click's get_usage_pieces, and typer's rich help
    # entry asks display_type_rich for the type it shows; an attribute of the instance takes
    # their place (a typer without display_type_rich is left as it is there).
    for param in command.params:
        if getattr(param, "param_type_name", "") != "argument":
            continue
        if hasattr(param, "display_type_rich"):
            param.display_type_rich = lambda ctx: None
        param.get_usage_pieces = _usage_pieces(param)
    for child in getattr(command, "commands", {}).values():
        _plain_argument_names(child)


def _usage_pieces(param: Any) -> Any:
    name = str(param.metavar or param.name).upper()
    shown = name if param.required else f"[{name}]"
    if param.nargs != 1:
        shown += "..."
    return lambda ctx: [shown]


def invoke(args: Sequence[str]) -> int:
    """Run the command line ``args`` and return the exit status (see
    :func:`._policy.run_command`)."""
    return run_command(click_command(), args)
