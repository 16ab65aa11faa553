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

    app: Typer

__all__ = ["app", "main", "run_cli"]


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
    and hosts that cannot be found, 1 for failures, 130 after Ctrl-C, 143 after SIGTERM.
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


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point: :func:`run_cli`, then exit with its status.

    A reader that closes the pipe early (``hookwire signals | head``) ends the command quietly
    with status 1, never with a broken-pipe traceback.
    """
    try:
        status = run_cli(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        status = 1
    sys.exit(status)
