"""The ``hookwire`` command line (typer): ``run``, ``plugins list``, ``plugins check``,
``signals``, ``--version`` and shell completion.

Only this package imports typer; ``import hookwire`` never imports it. ``hookwire --version``
answers without importing typer, the loader or ``importlib.metadata``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from typer import Typer

    from .._host import Host

    app: Typer

__all__ = ["app", "main", "run_cli", "run_embedded"]


def __getattr__(name: str) -> Any:
    # ``hookwire.cli:app`` (the typer application, e.g. for documentation tools) is built on
    # first access so that ``main`` can answer --version without importing typer.
    if name == "app":
        from ._app import app

        return app
    raise AttributeError(f"module 'hookwire.cli' has no attribute {name!r}")


def run_cli(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``) and return its exit status.

    Errors are reported as one line on stderr and turned into the status: 2 for usage errors
    and hosts that cannot be found, 1 for failures, 130 after Ctrl-C, 143 after SIGTERM, 141
    when the reader of stdout went away.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    _tolerate_unencodable_output()
    if args == ["--version"]:
        # The common "which version is installed?" answered without the CLI stack.
        from .. import __version__

        sys.stdout.write(f"hookwire {__version__}\n")
        return 0
    from ._app import invoke

    return invoke(args)


def run_embedded(host: Host, argv: Sequence[str]) -> int:
    """Run the command line ``argv`` against ``host``, which an application has loaded itself
    (``python manage.py hookwire ...``, ``flask hookwire ...``); return the exit status.

    Commands given no ``HOST`` argument drive ``host``; everything else is as
    :func:`run_cli`.
    """
    _tolerate_unencodable_output()
    from ._app import invoke
    from ._resolve import embedded_host

    with embedded_host(host):
        return invoke(list(argv))


def _tolerate_unencodable_output() -> None:
    # A plugin name in Greek on an ASCII terminal must print as an escape, not crash the command.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # pragma: no cover - a detached or odd stream
                pass


def _silence_stdout() -> None:
    """Point stdout at the null device, so no later flush hits a pipe its reader closed."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
        pass


class _Terminated(BaseException):
    """SIGTERM before the host runs (while hookwire or the plugins are being imported).

    Not an ``Exception`` nor a ``SystemExit``: plugin loading treats those raised by plugin
    code as that plugin's failure, while this must stop the whole command. ``Host.run`` puts
    its own handler in place while ``main`` runs.
    """


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated


def _handle_sigterm() -> None:
    import signal

    try:
        signal.signal(signal.SIGTERM, _raise_terminated)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not the main thread
        pass


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point: :func:`run_cli`, then exit with its status.

    A reader that closes the pipe early (``hookwire signals | head``) ends the command quietly
    with status 141 (as a shell reports SIGPIPE), never with a broken-pipe traceback. Ctrl-C
    and SIGTERM at any moment, even while hookwire itself is being imported, end it with one
    line on stderr and status 130 / 143.
    """
    _handle_sigterm()
    try:
        status = run_cli(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        status = 141
    except KeyboardInterrupt:
        sys.stderr.write("hookwire: interrupted\n")
        status = 130
    except _Terminated:
        sys.stderr.write("hookwire: terminated\n")
        status = 143
    sys.exit(status)
