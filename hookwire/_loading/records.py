"""The records discovery returns and its on-disk cache stores: one entry point with the
distribution that declares it, the result of one discovery run, and the ``entry_points.txt``
reader both use (discovery to read metadata, the cache to check what it reads back). Shared
by :mod:`.discovery` and :mod:`.discovery_cache`, so neither imports the other for them."""

# No "from __future__ import annotations" here: NamedTuple turns string annotations into
# ForwardRefs, compiling each one, which cost more than a warm discovery (1.5 ms).
from typing import Any, NamedTuple

from ..exceptions import PluginError

__all__ = [
    "DiscoveryResult",
    "EntryPointRecord",
    "declarations_group",
    "parse_entry_point_sections",
    "parse_entry_points",
    "parse_reference",
]


def declarations_group(group: str) -> str:
    """The entry-point group in which a lazy plugin of ``group`` declares the host signals it
    listens to: ``"<group>.listens"`` (``pizzeria.plugins.listens``).

    Each entry is ``"<plugin>.<label>" = "<module>:<signal>"``: the name starts with the
    plugin's entry-point name and a dot (the label only keeps names unique), the value is a
    standard object reference to one of the host's signals. Both are valid entry-point names
    and values, so pip, uv and ``importlib.metadata`` accept them unchanged.
    """
    return f"{group}.listens"


def parse_reference(value: str) -> tuple[str, str | None] | None:
    """``(module, attribute path or None)`` of an entry point value such as
    ``"pkg.mod:Outer.Inner [extra]"``, or ``None`` when it is not a valid reference.

    The grammar ``module[.sub][:attr[.attr]] [extras]``, where names are word characters and
    dots. (Read by hand: compiling the equivalent regular expression costs 2 ms at start-up.)
    """
    text = value.strip()
    extras_at = text.find("[")
    if extras_at >= 0:
        if not text.endswith("]") or "]" in text[extras_at + 1 : -1]:
            return None
        text = text[:extras_at].rstrip()
    module, colon, attr = text.partition(":")
    module = module.rstrip()
    attr = attr.strip()
    # Each part is what the regular expression [\w.]+ accepts: word characters are
    # alphanumerics and "_". (str.isalnum() on the text, "_" and "." replaced by a letter:
    # one C call where a test per character cost a generator step each; written out, not a
    # function, as this runs for every plugin at every load.)
    if not module.replace("_", "a").replace(".", "a").isalnum():
        return None
    if not colon:
        return module, None
    if not attr.replace("_", "a").replace(".", "a").isalnum():
        return None
    return module, attr


def parse_entry_points(
    text: str, group: str
) -> tuple[list[tuple[str, str]], list[tuple[int, str, str]]]:
    """``(name, value)`` pairs of ``group``'s section, and every malformed line.

    The format ``importlib.metadata`` reads (an INI subset). Malformed lines are returned as
    ``(line number, section, line)`` for every section, so a broken file is reported for its
    distribution instead of breaking discovery for everyone.
    """
    entries, _, malformed = parse_entry_point_sections(text, group, None)
    return entries, malformed


def parse_entry_point_sections(
    text: str, group: str, second: str | None
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[int, str, str]]]:
    """Like :func:`parse_entry_points`, reading the pairs of two sections in the same pass:
    ``(pairs of group, pairs of second, malformed lines)`` (``second`` may be ``None``)."""
    entries: list[tuple[str, str]] = []
    others: list[tuple[str, str]] = []
    malformed: list[tuple[int, str, str]] = []
    section: str | None = None
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]").strip()
            continue
        if section is None:
            continue  # before any section: importlib.metadata ignores these lines too
        name, equals, value = line.partition("=")
        if not equals or not name.strip() or not value.strip():
            malformed.append((number, section, line))
        elif section == group:
            entries.append((name.strip(), value.strip()))
        elif section == second:
            others.append((name.strip(), value.strip()))
    return entries, others, malformed


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
    #: Other metadata folders whose contents build tools rewrite in place (``*.egg-info``):
    #: the cache watches them too, so an entry point added there is seen on the next run.
    watched: tuple[str, ...] = ()
    #: Entry points hidden by an earlier one of the same name (a name offered twice).
    shadowed: tuple[EntryPointRecord, ...] = ()
    #: The lazy plugins' declarations: entries of :func:`declarations_group` in the
    #: distributions that offer plugins in the group (``group`` is the declarations group).
    declarations: tuple[EntryPointRecord, ...] = ()
    #: Metadata folders (lazy plugins' distributions) whose entries a cache look-up checked
    #: only against the mtimes of their files, not against their ``entry_points.txt``: an
    #: entry from one of them is checked with ``discovery_cache.declared_in`` before import.
    unverified: tuple[str, ...] = ()
