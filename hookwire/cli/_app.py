"""The typer application: ``hookwire run``, ``plugins list``, ``plugins check``, ``signals``;
``plugins install/uninstall/info/new`` are defined in their own modules and registered here.

Commands return their exit status; :func:`invoke` runs the click command in non-standalone
mode so that every error — usage, host resolution, loading, the host's own ``main`` — is turned
here into one line on stderr and an exit status (2 usage, 1 failure, 130/143 interrupted, 141
when stdout was closed by its reader), with a traceback only under ``--traceback``.
"""

from __future__ import annotations

import sys
import traceback as traceback_module
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import import_module
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from .._loading.loader import LOADING_LOGGER
from .._text import describe_error, escape, escape_lines
from ..exceptions import ConfigError, HookwireError, HostError, HostNotFoundError, LoadError
from . import _info, _install, _new, _output, _silence_stdout
from ._output import PROG
from ._params import HostArgument, HostOption, one_host

if TYPE_CHECKING:
    from .._dispatch.foreign import ForeignSignal
    from .._dispatch.signal import Signal
    from .._host import Host
    from .._loading.registry import PluginRecord, Registry

__all__ = ["app", "click_command", "invoke"]


def _import_click_exceptions() -> Any:
    # Recent typer carries its own copy of click; older releases depend on click itself.
    try:
        return import_module("typer._click.exceptions")
    except ImportError:  # pragma: no cover - older typer
        return import_module("click.exceptions")


click_exceptions = _import_click_exceptions()
# click < 8.2 prints the help itself and exits 0 instead of raising this.
_NO_ARGS_IS_HELP: Any = getattr(click_exceptions, "NoArgsIsHelpError", ())

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: 128 + SIGPIPE, what a shell reports for a program whose reader closed the pipe.
EXIT_OUTPUT_CLOSED = 141


class _Options:
    """Global options, set by the root callback (one command per process)."""

    traceback = False
    # Whether plugin failures logged by the loader are shown on stderr: by the commands that
    # run the host (their output has no other place for them), not by those that list them.
    load_failures = False


class _OutputClosed(Exception):
    """stdout was closed by its reader (``| head``); not an ``OSError`` so typer leaves it be."""


class _Interrupted(Exception):
    """Ctrl-C while the command loaded or printed (``Host.run`` handles it during ``main``);
    not a ``KeyboardInterrupt`` so typer does not turn it into a silent exit 130."""


@contextmanager
def _output_guard() -> Iterator[None]:
    """Around a command's body: a closed stdout and Ctrl-C reach :func:`invoke` as what they
    are, whatever typer would make of them on the way."""
    try:
        yield
    except BrokenPipeError as exc:
        raise _OutputClosed from exc
    except KeyboardInterrupt as exc:
        raise _Interrupted from exc


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
    _Options.traceback = _Options.traceback or traceback


def _set_traceback(value: bool) -> None:
    if value:
        _Options.traceback = True


# -- shared parameters ---------------------------------------------------------------------

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


def _load(
    host_reference: str | None,
    plugin: list[str] | None,
    disable: list[str] | None,
    no_autoload: bool,
    strict: bool,
    *,
    stdout_is_data: bool = True,
    lazy: bool | None = None,
) -> tuple[Host, Registry]:
    """Resolve the host and load its plugins with the command-line settings.

    When stdout carries the command's data (tables, JSON), whatever the host module or the
    plugins write to stdout while they are imported and readied — with ``print``, to the
    descriptor itself, or from a subprocess — goes to stderr instead, so that
    ``hookwire plugins list --json | jq`` works even with chatty plugins.
    """
    from contextlib import nullcontext

    from ._resolve import resolve_host
    from ._status import loading_status
    from ._streams import stdout_to_stderr

    with stdout_to_stderr() if stdout_is_data else nullcontext(), loading_status():
        host = resolve_host(host_reference)
        registry = host.load(
            plugins=plugin if plugin else None,
            disable=disable or (),
            autoload=False if no_autoload else None,
            strict=True if strict else None,
            lazy=lazy,
        )
    return host, registry


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
        _show_discovery_cache_notes()
    # Each failed plugin is the loader's one warning on hookwire.loading, printed by the log
    # handler (or by the application's own, if it configured logging): never twice.
    _Options.load_failures = True
    with _output_guard(), _tracing(trace):
        loaded_host, _ = _load(
            one_host(host, host_option), plugin, disable, no_autoload, strict, stdout_is_data=False
        )
        sys.stderr.flush()
        return loaded_host.run()


def _print_traceback(record: PluginRecord) -> None:
    """The traceback of a failed plugin, on stderr, under ``--traceback``."""
    if _Options.traceback and record.traceback:
        sys.stderr.write(escape_lines(record.traceback))


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
        _show_discovery_cache_notes()
    with _output_guard():
        loaded_host, registry = _load(
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
    with _output_guard():
        _, registry = _load(
            one_host(host, host_option), plugin, disable, no_autoload, strict, lazy=False
        )
        _print_tracebacks(registry)
        lines, failures = _output.plugin_check_lines(registry)
        _output.write_lines(lines)
        return EXIT_FAILURE if failures else EXIT_OK


def _print_tracebacks(registry: Registry) -> None:
    from .._loading.registry import PluginState

    for record in registry.by_state(PluginState.FAILED):
        _print_traceback(record)


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
    with _output_guard():
        if markdown:
            from contextlib import redirect_stdout

            from ._api_page import api_page
            from ._resolve import resolve_host

            with redirect_stdout(sys.stderr):
                resolved = resolve_host(one_host(host, host_option))
            _output.write_lines(escape(line) for line in api_page(resolved))
            return EXIT_OK
        loaded_host, registry = _load(
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


def _signals_of(host: Host) -> list[Signal]:
    """The host's signals first, then every other live signal, by name."""
    from .._dispatch.signal import all_signals

    shown = list(host.signals.values())
    known = {id(signal) for signal in shown}
    others = [signal for signal in all_signals() if id(signal) not in known]
    others.sort(key=lambda signal: str(signal.qualified_name))
    return shown + others


def _shown_signals(host: Host) -> list[Signal | ForeignSignal]:
    """What ``signals`` lists: :func:`_signals_of`, then the signals of another dispatcher
    that an integration shows (Django's own, under ``hookwire.django``)."""
    from .._dispatch.foreign import foreign_signals

    return [*_signals_of(host), *foreign_signals()]


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


# -- running the application ---------------------------------------------------------------


def _report(message: str, exc: BaseException | None = None) -> None:
    if exc is not None and _Options.traceback:
        if isinstance(exc, LoadError):
            # The loader's own frames tell nothing: show what each plugin raised.
            for failure in exc.failures:
                if failure.__cause__ is not None:
                    _print_exception(failure.__cause__)
        else:
            _print_exception(exc)
    sys.stderr.write(f"{PROG}: error: {escape(message)}\n")


def _print_exception(exc: BaseException) -> None:
    """``exc``'s traceback on stderr, escaped: its message and source lines come from plugin
    code and may hold terminal control characters."""
    text = "".join(traceback_module.format_exception(exc))
    sys.stderr.write(escape_lines(text))


def _lower_first(message: str) -> str:
    """``"No such command"`` → ``"no such command"``: every error line starts lower-case.
    Words in capitals (``HOST``) and exception names (``ValueError: ...``) are left alone."""
    first, _, _ = message.partition(" ")
    if first[:1].isupper() and first[1:].islower() and not first.endswith(":"):
        return message[:1].lower() + message[1:]
    return message


def _hint() -> str:
    return "" if _Options.traceback else " (run 'hookwire --traceback ...' to see the traceback)"


def _one_line(record: Any) -> str:
    """The line a log record gets on stderr (not escaped).

    A receiver failing under ``send_robust`` is logged with Django's message; the record also
    carries what hookwire knows (``receiver``, ``plugin``, ``signal``), which makes a line that
    names the culprit: ``receiver pkg.mod.func of plugin 'sms' failed in pkg.signals.done:
    ValueError: boom``.
    """
    receiver = getattr(record, "receiver", None)
    signal = getattr(record, "signal", None)
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(receiver, str) and isinstance(signal, str) and exc is not None:
        plugin = getattr(record, "plugin", None)
        owner = f" of plugin {plugin!r}" if isinstance(plugin, str) else ""
        return f"receiver {receiver}{owner} failed in {signal}: {_safe_describe(exc)}"
    text = str(record.getMessage()).strip()
    return text.splitlines()[0] if text else str(record.levelname)


def _safe_describe(error: BaseException) -> str:
    try:
        return describe_error(error)
    except Exception:
        return type(error).__name__


def _install_log_handler() -> None:
    """Show hookwire's own log records — a receiver failing under ``send_robust``, a discovery
    problem — as one escaped line each on stderr, with the traceback only under ``--traceback``.

    Nothing is added when the application configures logging itself: its handlers show them.
    """
    import logging

    class OneLineHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if logging.getLogger().handlers:
                return  # configured by the application (perhaps after we were installed)
            if record.name == LOADING_LOGGER and not _Options.load_failures:
                return  # the command lists the failed plugins itself
            try:
                exc = record.exc_info[1] if record.exc_info else None
                if record.name == LOADING_LOGGER and _Options.traceback:
                    # What the plugin raised, before the line that names the plugin.
                    cause = getattr(getattr(record, "error", None), "__cause__", None)
                    if cause is not None:
                        _print_exception(cause)
                if isinstance(exc, BrokenPipeError):
                    # A receiver printing after the reader of stdout went away (| head): the
                    # output is over, which is not an error; later prints go nowhere.
                    _silence_stdout()
                    return
                if exc is not None and _Options.traceback:
                    _print_exception(exc)
                sys.stderr.write(
                    f"{PROG}: {record.levelname.lower()}: {escape(_one_line(record))}\n"
                )
            except Exception:
                self.handleError(record)

    logger = logging.getLogger("hookwire")
    if not any(getattr(handler, "_hookwire_cli", False) for handler in logger.handlers):
        handler = OneLineHandler(logging.WARNING)
        handler._hookwire_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def _show_discovery_cache_notes() -> None:
    """Under ``--verbose`` / ``--trace``, also show why a discovery cache was ignored (a file
    or folder another user owns or others can write): the cache logs that at INFO."""
    import logging

    logging.getLogger("hookwire.discovery.cache").setLevel(logging.INFO)
    for handler in logging.getLogger("hookwire").handlers:
        if getattr(handler, "_hookwire_cli", False):
            handler.setLevel(logging.INFO)


def click_command() -> Any:
    """The click command of :data:`app`, as ``hookwire`` runs it and its reference shows it:
    arguments named by their metavar alone (``NAME``, ``[HOST]``, ``NAME...``), without the
    type typer adds (``<str>``, ``<list[str]>``) or the braces it puts around required ones."""
    command = typer.main.get_command(app)
    _plain_argument_names(command)
    return command


def _plain_argument_names(command: Any) -> None:
    # typer's arguments describe their help entry and usage through these two methods; an
    # attribute of the instance takes their place (a typer without them is left as it is).
    for param in command.params:
        if getattr(param, "param_type_name", "") != "argument":
            continue
        if hasattr(param, "display_type_rich"):
            param.display_type_rich = lambda ctx: None
        if hasattr(param, "_usage_display_name"):
            param._usage_display_name = _usage_name(param)
    for child in getattr(command, "commands", {}).values():
        _plain_argument_names(child)


def _usage_name(param: Any) -> Any:
    name = str(param.metavar or param.name).upper()
    shown = name if param.required else f"[{name}]"
    if param.nargs != 1:
        shown += "..."
    return lambda: shown


def invoke(args: Sequence[str]) -> int:
    """Run the command line ``args`` and return the exit status (see the module docstring)."""
    _Options.traceback = False
    _Options.load_failures = False
    command = click_command()
    _install_log_handler()
    try:
        result = command.main(args=list(args), prog_name=PROG, standalone_mode=False)
        sys.stdout.flush()
    except (_OutputClosed, BrokenPipeError):
        _silence_stdout()
        return EXIT_OUTPUT_CLOSED
    except SystemExit as exc:
        if isinstance(exc.__context__, BrokenPipeError):
            # typer's own answer to a closed stdout while it printed (--help): exit 1.
            _silence_stdout()
            return EXIT_OUTPUT_CLOSED
        raise
    except (_Interrupted, KeyboardInterrupt):
        sys.stderr.write(f"{PROG}: interrupted\n")
        return EXIT_INTERRUPTED
    except _NO_ARGS_IS_HELP as exc:
        # "hookwire" or "hookwire plugins" alone: the help, as a usage error (exit 2).
        sys.stderr.write(exc.format_message().rstrip("\n") + "\n")
        return int(exc.exit_code)
    except click_exceptions.UsageError as exc:
        ctx = exc.ctx
        where = ctx.command_path if ctx is not None else PROG
        help_hint = f" (see '{where} --help')" if ctx is not None else ""
        message = exc.format_message()
        if "--traceback" in message and "--traceback" in args:
            help_hint = f" (--traceback goes before the command: '{PROG} --traceback ...')"
        # One prefix for every error; the help hint names the command at fault.
        sys.stderr.write(f"{PROG}: error: {escape(_lower_first(message))}{help_hint}\n")
        return int(exc.exit_code)
    except click_exceptions.ClickException as exc:
        sys.stderr.write(f"{PROG}: error: {escape(_lower_first(exc.format_message()))}\n")
        return int(exc.exit_code)
    except typer.Abort:
        sys.stderr.write(f"{PROG}: aborted\n")
        return EXIT_FAILURE
    except (HostNotFoundError, ConfigError) as exc:
        _report(str(exc), exc)
        return EXIT_USAGE
    except HostError as exc:
        cause = exc.__cause__
        _report(str(exc) + (_hint() if cause is not None else ""), exc)
        return EXIT_FAILURE
    except HookwireError as exc:
        _report(str(exc), exc)
        return EXIT_FAILURE
    except Exception as exc:
        # An error of the host's own code (main or a receiver of its signals).
        _report(f"{describe_error(exc)}{_hint()}", exc)
        return EXIT_FAILURE
    if isinstance(result, bool) or not isinstance(result, int):
        return EXIT_OK
    return result


# Commands defined in their own modules register themselves on ``app`` when imported.
from . import _worker  # noqa: E402, F401
