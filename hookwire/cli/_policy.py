"""How a ``hookwire`` process behaves, whatever the command: global options, exit statuses,
errors as one line on stderr, the log handler, a closed stdout and Ctrl-C.

:func:`run_command` runs a click command in non-standalone mode so that every error — usage,
host resolution, loading, the host's own ``main`` — is turned here into one line on stderr and
an exit status (2 usage, 1 failure, 130/143 interrupted, 141 when stdout was closed by its
reader), with a traceback only under ``--traceback``. A plugin that failed to load is shown by
:func:`show_failed_plugin`, the one place that knows how.
"""

from __future__ import annotations

import sys
import traceback as traceback_module
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import import_module
from typing import Any

import typer

from .._loading.loader import LOADING_LOGGER
from .._text import describe_error, escape, escape_lines
from ..exceptions import ConfigError, HookwireError, HostError, HostNotFoundError, LoadError
from . import _silence_stdout
from ._output import PROG

__all__ = [
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_OUTPUT_CLOSED",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "Options",
    "install_log_handler",
    "output_guard",
    "run_command",
    "show_discovery_cache_notes",
    "show_failed_plugin",
]


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
#: 128 + SIGTERM, what a shell reports for a program stopped by that signal.
EXIT_TERMINATED = 143
#: 128 + SIGPIPE, what a shell reports for a program whose reader closed the pipe.
EXIT_OUTPUT_CLOSED = 141


class Options:
    """Global options, set by the root callback and the commands (one command per process)."""

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
def output_guard() -> Iterator[None]:
    """Around a command's body: a closed stdout and Ctrl-C reach :func:`run_command` as what
    they are, whatever typer would make of them on the way."""
    try:
        yield
    except BrokenPipeError as exc:
        raise _OutputClosed from exc
    except KeyboardInterrupt as exc:
        raise _Interrupted from exc


# -- failed plugins --------------------------------------------------------------------------


def show_failed_plugin(line: str | None, traceback: str | None, *, level: str = "warning") -> None:
    """A plugin that failed to load, on stderr: its traceback under ``--traceback``, then
    ``line`` (when given) as one escaped ``hookwire: LEVEL: ...`` line.

    Every command reports failed plugins through this: ``run`` and ``worker`` as the loader
    logs each failure, ``plugins list``/``check`` (whose output holds the line) with the
    traceback only, ``plugins install``/``uninstall`` from the fresh interpreter's view.
    """
    if Options.traceback and traceback:
        sys.stderr.write(escape_lines(traceback))
    if line is not None:
        sys.stderr.write(f"{PROG}: {level}: {escape(line)}\n")


def _formatted(exc: BaseException) -> str:
    return "".join(traceback_module.format_exception(exc))


def _print_exception(exc: BaseException) -> None:
    """``exc``'s traceback on stderr, escaped: its message and source lines come from plugin
    code and may hold terminal control characters."""
    sys.stderr.write(escape_lines(_formatted(exc)))


# -- the log handler -------------------------------------------------------------------------


def log_line(record: Any) -> str:
    """The line a log record gets on stderr (not escaped): a receiver failing under
    ``send_robust`` told by :func:`_receiver_failure_line`, any other record by the first
    line of its message."""
    line = _receiver_failure_line(record)
    if line is not None:
        return line
    text = str(record.getMessage()).strip()
    return text.splitlines()[0] if text else str(record.levelname)


def _receiver_failure_line(record: Any) -> str | None:
    """``receiver pkg.mod.func of plugin 'sms' failed in pkg.signals.done: ValueError: boom``
    for a receiver failing under ``send_robust``, else ``None``.

    Such a record carries Django's message and what hookwire knows (``receiver``, ``plugin``,
    ``signal``), which makes a line that names the culprit.
    """
    receiver = getattr(record, "receiver", None)
    signal = getattr(record, "signal", None)
    exc = record.exc_info[1] if record.exc_info else None
    if not (isinstance(receiver, str) and isinstance(signal, str) and exc is not None):
        return None
    plugin = getattr(record, "plugin", None)
    of_plugin = f" of plugin {plugin!r}" if isinstance(plugin, str) else ""
    return f"receiver {receiver}{of_plugin} failed in {signal}: {_safe_describe(exc)}"


def _safe_describe(error: BaseException) -> str:
    try:
        return describe_error(error)
    except Exception:
        return type(error).__name__


def install_log_handler() -> None:
    """Show hookwire's own log records — a plugin that failed to load, a receiver failing under
    ``send_robust``, a discovery problem — as one escaped line each on stderr, with the
    traceback only under ``--traceback``.

    Nothing is added when the application configures logging itself: its handlers show them.
    """
    import logging

    class OneLineHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if logging.getLogger().handlers:
                return  # configured by the application (perhaps after we were installed)
            try:
                if record.name == LOADING_LOGGER:
                    if Options.load_failures:
                        _show_logged_failure(record)
                    # Otherwise the command lists the failed plugins itself.
                    return
                exc = record.exc_info[1] if record.exc_info else None
                if isinstance(exc, BrokenPipeError):
                    # A receiver printing after the reader of stdout went away (| head): the
                    # output is over, which is not an error; later prints go nowhere.
                    _silence_stdout()
                    return
                if exc is not None and Options.traceback:
                    _print_exception(exc)
                sys.stderr.write(
                    f"{PROG}: {record.levelname.lower()}: {escape(log_line(record))}\n"
                )
            except Exception:
                self.handleError(record)

    logger = logging.getLogger("hookwire")
    if not any(getattr(handler, "_hookwire_cli", False) for handler in logger.handlers):
        handler = OneLineHandler(logging.WARNING)
        handler._hookwire_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def _show_logged_failure(record: Any) -> None:
    """The loader's record of a failed plugin: what the plugin raised (the ``error``'s
    ``__cause__``), then the line naming the plugin."""
    cause = getattr(getattr(record, "error", None), "__cause__", None)
    traceback = None if cause is None else _formatted(cause)
    show_failed_plugin(log_line(record), traceback, level=record.levelname.lower())


def show_discovery_cache_notes() -> None:
    """Under ``--verbose`` / ``--trace``, also show why a discovery cache was ignored (a file
    or folder another user owns or others can write): the cache logs that at INFO."""
    import logging

    logging.getLogger("hookwire.discovery.cache").setLevel(logging.INFO)
    for handler in logging.getLogger("hookwire").handlers:
        if getattr(handler, "_hookwire_cli", False):
            handler.setLevel(logging.INFO)


# -- errors and exit statuses ----------------------------------------------------------------


def _report(message: str, exc: BaseException | None = None) -> None:
    if exc is not None and Options.traceback:
        if isinstance(exc, LoadError):
            # The loader's own frames tell nothing: show what each plugin raised.
            for failure in exc.failures:
                if failure.__cause__ is not None:
                    _print_exception(failure.__cause__)
        else:
            _print_exception(exc)
    sys.stderr.write(f"{PROG}: error: {escape(message)}\n")


def _lower_first(message: str) -> str:
    """``"No such command"`` → ``"no such command"``: every error line starts lower-case.
    Words in capitals (``HOST``) and exception names (``ValueError: ...``) are left alone."""
    first, _, _ = message.partition(" ")
    if first[:1].isupper() and first[1:].islower() and not first.endswith(":"):
        return message[:1].lower() + message[1:]
    return message


def _hint() -> str:
    return "" if Options.traceback else " (run 'hookwire --traceback ...' to see the traceback)"


def run_command(command: Any, args: Sequence[str]) -> int:
    """Run the click ``command`` on the command line ``args`` and return the exit status (see
    the module docstring)."""
    Options.traceback = False
    Options.load_failures = False
    install_log_handler()
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
