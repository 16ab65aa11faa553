"""How every command is given its host: ``--host HOST`` on each of them, and, on the commands
that took it so from the start (``run``, ``plugins list/check/info``, ``signals``, ``worker``),
the positional ``HOST`` too. Both at once must name the same host.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

__all__ = ["HostArgument", "HostOption", "one_host"]

_WHICH_HOST = (
    "as 'module:attribute' (a hookwire.Host or a zero-argument function returning one). "
    "Default: $HOOKWIRE_HOST, then [tool.hookwire] host in the nearest pyproject.toml, then "
    "the built-in host."
)

HostArgument = Annotated[
    Optional[str],  # noqa: UP045 - typer reads the annotation at runtime
    typer.Argument(
        metavar="HOST",
        help=f"The host (the same as --host), {_WHICH_HOST}",
        show_default=False,
    ),
]
HostOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--host", metavar="HOST", help=f"The host, {_WHICH_HOST}", show_default=False),
]


def one_host(argument: str | None, option: str | None) -> str | None:
    """The host reference given as ``HOST`` or ``--host`` (``None``: neither, the default).

    :raises typer.BadParameter: both name a host and not the same one.
    """
    if argument is not None and option is not None and argument != option:
        raise typer.BadParameter(
            f"the host is given twice, as {argument!r} and --host {option!r}: give it once",
            param_hint="--host",
        )
    return option if option is not None else argument
