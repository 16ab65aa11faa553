"""The records discovery returns and its on-disk cache stores: one entry point with the
distribution that declares it, and the result of one discovery run. Shared by
:mod:`.discovery` and :mod:`.discovery_cache`, so neither imports the other for them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from ..exceptions import PluginError

__all__ = ["DiscoveryResult", "EntryPointRecord", "parse_reference"]

# module[.sub][:attr[.attr]] [extras]: the grammar of an entry point's object reference.
_REFERENCE = re.compile(
    r"^(?P<module>[\w.]+)\s*(?::\s*(?P<attr>[\w.]+)\s*)?(?:\[(?P<extras>[^\]]*)\]\s*)?$"
)


def parse_reference(value: str) -> tuple[str, str | None] | None:
    """``(module, attribute path or None)`` of an entry point value such as
    ``"pkg.mod:Outer.Inner [extra]"``, or ``None`` when it is not a valid reference."""
    match = _REFERENCE.match(value.strip())
    return None if match is None else (match.group("module"), match.group("attr"))


class EntryPointRecord(NamedTuple):
    """One entry point of the group, with the distribution that declares it.

    Strings are kept exactly as installed; a hostile name or version is escaped only by the
    code that displays it. (Named tuples, not dataclasses: importing :mod:`dataclasses` costs
    more than a warm discovery.)
    """

    name: str
    value: str
    group: str
    distribution: str
    version: str
    dist_path: str | None = None

    @property
    def text(self) -> str:
        """The entry point as written: ``"name = value"``."""
        return f"{self.name} = {self.value}"

    @property
    def module(self) -> str | None:
        """The module part of ``value``, or ``None`` when ``value`` is not a valid reference."""
        parsed = parse_reference(self.value)
        return None if parsed is None else parsed[0]

    @property
    def attr(self) -> str | None:
        """The attribute part of ``value`` (``None`` for a bare module or an invalid value)."""
        parsed = parse_reference(self.value)
        return None if parsed is None else parsed[1]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of the fields."""
        return {
            "name": self.name,
            "value": self.value,
            "group": self.group,
            "distribution": self.distribution,
            "version": self.version,
            "dist_path": self.dist_path,
        }


class DiscoveryResult(NamedTuple):
    """What discovery found: entry points in search-path order, and the problems met.

    Of a name offered twice only the first on the search path is in ``entry_points``; the
    others are in ``shadowed`` and described in ``problems``.
    """

    entry_points: tuple[EntryPointRecord, ...] = ()
    problems: tuple[PluginError, ...] = ()
    from_cache: bool = False
    #: The metadata folders the entry points and problems came from (the cache watches them).
    sources: tuple[str, ...] = ()
    #: Entry points hidden by an earlier one of the same name (a name offered twice).
    shadowed: tuple[EntryPointRecord, ...] = ()
