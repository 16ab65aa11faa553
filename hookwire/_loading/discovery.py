"""Reading the entry points of one group, one distribution at a time.

``importlib.metadata.entry_points()`` parses every distribution's ``entry_points.txt`` in one
go, so a single malformed file anywhere breaks discovery for everyone, and it silently hides
a distribution installed twice. Here each distribution is read on its own: a problem becomes a
:class:`~hookwire.exceptions.DiscoveryError` for that distribution, logged on
``hookwire.discovery`` and returned in :attr:`DiscoveryResult.problems`, and the rest goes on.

Which problems are reported: a malformed line in any ``entry_points.txt`` (the kind that makes
``importlib.metadata`` fail for everyone); an ``entry_points.txt`` that cannot be read or is not
UTF-8; missing name or version metadata of a distribution that offers entry points in the group
(distributions that offer none are not this host's business); the same plugin name offered
twice. Problems that concern a plugin of the group carry its name in ``plugin``; the loader makes
those of the plugins it would load fail a strict load. The others (``plugin`` is ``None``) are
only reported.

The current working directory is never searched implicitly: a file planted there must not
become a plugin. By default the search
path is :data:`sys.path` without the entries Python adds on its own for the place a process
happens to start in: ``''`` (``python -c``, the REPL) and the first entry when it is the
current directory (``python -m``, a script started from there). An entry the user put there on
purpose (``PYTHONPATH``, a ``.pth`` file, ``sys.path.append`` of another spelling, or the
``path=`` argument) is searched.

Plain metadata folders (``*.dist-info``, ``*.egg-info``, an egg's ``EGG-INFO``) in the
directories of the search path are read with plain file calls, as importlib_metadata would
find them. ``importlib_metadata`` (the backport) is imported only for an entry that is not a
directory (a zip file) or when a custom finder on :data:`sys.meta_path` can report
distributions; with the discovery cache warm nothing is read but the cache.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import DiscoveryError, DuplicatePluginError, PluginError
from .names import normalize_name
from .records import (
    DiscoveryResult,
    EntryPointRecord,
    declarations_group,
    parse_entry_point_sections,
    parse_entry_points,
    parse_reference,
)

if TYPE_CHECKING:
    from importlib_metadata import Distribution

__all__ = [
    "DiscoveryResult",
    "EntryPointRecord",
    "default_search_path",
    "discover",
    "parse_entry_points",
    "parse_reference",
    "scan_distributions",
]


def default_search_path(
    sys_path: Sequence[str] | None = None,
    *,
    cwd: str | None = None,
    environ: Mapping[str, str] | None = None,
    safe_path: bool | None = None,
) -> list[str]:
    """The directories discovery searches: :data:`sys.path` minus the implicit working directory.

    ``''`` entries are dropped, and so is the first entry when it is the current directory and
    Python put it there itself (not when ``-P`` / ``PYTHONSAFEPATH`` is in force, where Python
    adds nothing). A directory named in ``PYTHONPATH`` is kept: the user chose it.
    """
    entries = list(sys.path if sys_path is None else sys_path)
    env = os.environ if environ is None else environ
    implicit_first = not (sys.flags.safe_path if safe_path is None else safe_path)
    # Resolved only where a comparison needs it (the first entry, relative ones): a realpath
    # per entry would cost more than a warm discovery.
    chosen: set[str] | None = None

    def user_chose(resolved: str) -> bool:
        nonlocal chosen
        if chosen is None:
            parts = env.get("PYTHONPATH", "").split(os.pathsep)
            chosen = {os.path.realpath(part) for part in parts if part}
        return resolved in chosen

    result: list[str] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, str) or entry == "":
            continue
        relative = not os.path.isabs(entry)
        if relative or (index == 0 and implicit_first):
            resolved = os.path.realpath(entry)
            if index == 0 and implicit_first and not user_chose(resolved):
                here = os.path.realpath(cwd if cwd is not None else os.getcwd())
                if resolved == here:
                    continue
            if relative and not user_chose(resolved):
                # Relative entries move with the working directory: treat them like ''.
                continue
        result.append(entry)
    return result


def discover(
    group: str,
    *,
    path: Sequence[str] | None = None,
    distributions: Iterable[Distribution] | None = None,
    use_cache: bool = True,
    report: bool = True,
    defer_lazy: bool = False,
) -> DiscoveryResult:
    """Every entry point of ``group``, read one distribution at a time.

    ``path`` replaces :func:`default_search_path`; ``distributions`` reads exactly those
    objects instead of searching (the cache is not used then). Otherwise the on-disk cache of
    :mod:`hookwire._loading.discovery_cache` answers when nothing on the search path changed.

    ``defer_lazy`` lets a cached answer leave the entries of lazy plugins' distributions
    unchecked against their files (see :func:`.discovery_cache.lookup`): for a caller that
    checks each entry it imports, as the loader does.

    Never raises for bad metadata: every problem is in the result's ``problems``, and logged
    unless ``report`` is false (the loader reports them itself, once, knowing which plugins
    were selected).
    """
    if distributions is not None:
        result = scan_distributions(group, distributions)
    else:
        search_path = default_search_path() if path is None else list(path)
        result = _discover_on_path(group, search_path, use_cache=use_cache, defer_lazy=defer_lazy)
    if report:
        log_problems(result.problems)
    return result


def _discover_on_path(
    group: str, search_path: list[str], *, use_cache: bool, defer_lazy: bool
) -> DiscoveryResult:
    from . import discovery_cache

    if not use_cache or not discovery_cache.enabled():
        return _scan_path(group, search_path)
    cached = discovery_cache.lookup(group, search_path, defer_lazy=defer_lazy)
    if cached is not None:
        return cached
    pending = discovery_cache.begin(group, search_path)
    if pending is None:
        return _scan_path(group, search_path)
    try:
        result = _scan_path(group, search_path)
    except BaseException:
        pending.discard()
        raise
    pending.commit(result)
    return result


class _MetadataFolder:
    """An installed distribution's ``*.dist-info`` / ``*.egg-info`` folder, read with plain
    file calls: the cold path reads a thousand of them, where importlib_metadata's objects
    (pathlib, the email parser) cost more than the reading itself."""

    __slots__ = ("_path",)

    def __init__(self, path: str) -> None:
        self._path = path

    def read_bytes(self, name: str) -> bytes | None:
        """The file ``name`` in the folder, ``None`` when absent; other errors propagate."""
        try:
            with open(os.path.join(self._path, name), "rb") as stream:
                return stream.read()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def __repr__(self) -> str:
        return f"<metadata folder {self._path}>"


# Finders that report the distributions of path entries, as the plain reader below does.
_PATH_FINDER_MODULES = frozenset(
    {
        "importlib_metadata",
        "importlib.metadata",
        "_frozen_importlib_external",
        "importlib._bootstrap_external",
    }
)


def _custom_distribution_finders() -> bool:
    """Whether something on :data:`sys.meta_path` other than the standard path finders can
    report distributions (importlib_metadata must be asked then, as it asks them)."""
    return any(
        hasattr(finder, "find_distributions")
        and getattr(finder, "__module__", None) not in _PATH_FINDER_MODULES
        for finder in sys.meta_path
    )


def _folders_in(entry: str) -> list[_MetadataFolder] | None:
    """The metadata folders directly in the directory ``entry``, sorted by path, as
    importlib_metadata finds them; ``None`` when ``entry`` is no plain directory."""
    try:
        names = os.listdir(entry)
    except NotADirectoryError:
        return None  # a zip file: importlib_metadata knows how to read it
    except OSError:
        return []  # absent or unreadable: nothing to find there, as importlib_metadata says
    found = [
        os.path.join(entry, name)
        for name in names
        if name.lower().endswith((".dist-info", ".egg-info"))
    ]
    if os.path.basename(entry).lower().endswith(".egg"):
        found += [os.path.join(entry, name) for name in names if name.lower() == "egg-info"]
    return [_MetadataFolder(path) for path in sorted(found)]


def _scan_path(group: str, search_path: list[str]) -> DiscoveryResult:
    plain = not _custom_distribution_finders()

    def found() -> Iterable[Distribution | _MetadataFolder]:
        # Entry by entry, each folder's distributions sorted, so "first on the path" is
        # well defined even where the file system lists folders in arbitrary order.
        for entry in search_path:
            folders = _folders_in(entry) if plain else None
            if folders is not None:
                yield from folders
                continue
            import importlib_metadata

            in_entry: Iterable[Any] = importlib_metadata.distributions(path=[entry])
            yield from sorted(in_entry, key=_dist_sort_key)

    return scan_distributions(group, found())


def _dist_sort_key(dist: object) -> str:
    return str(getattr(dist, "_path", ""))


def scan_distributions(
    group: str, distributions: Iterable[Distribution | _MetadataFolder]
) -> DiscoveryResult:
    """Read ``group``'s entry points from each distribution, keeping every failure local.

    A metadata folder met again under another spelling (a search-path entry listed twice, or
    reached through a symbolic link such as a venv's ``lib64``) is one installation, read
    once; a distribution installed in two folders is reported as a duplicate. (Spellings are
    compared with each folder's parent resolved, once per parent: resolving every metadata
    folder would cost a ``realpath`` per distribution.)
    """
    records: list[EntryPointRecord] = []
    declarations: list[EntryPointRecord] = []
    problems: list[PluginError] = []
    sources: list[str] = []
    watched: list[str] = []
    seen: set[str] = set()
    resolved: dict[str, str] = {}
    for dist in distributions:
        location = _dist_location(dist)
        if location is not None:
            parent, leaf = os.path.split(location)
            real_parent = resolved.get(parent)
            if real_parent is None:
                real_parent = resolved[parent] = os.path.realpath(parent)
            real = os.path.join(real_parent, leaf)
            if real in seen:
                continue
            seen.add(real)
            if leaf.lower().endswith(".egg-info"):
                watched.append(location)
        try:
            found, declared, trouble = _read_distribution(dist, group)
        except Exception as error:  # a custom Distribution may fail in any way
            where = _dist_location(dist) or repr(dist)
            problems.append(
                DiscoveryError(
                    f"distribution at {where}: cannot read its metadata: {_error_line(error)}",
                    phase="discover",
                    cause=error,
                )
            )
            continue
        records.extend(found)
        declarations.extend(declared)
        problems.extend(trouble)
        if (found or trouble) and location is not None:
            sources.append(location)
    kept, shadowed, duplicates = _without_duplicates(records)
    return DiscoveryResult(
        tuple(kept),
        tuple(problems) + tuple(duplicates),
        sources=tuple(sources),
        watched=tuple(watched),
        shadowed=tuple(shadowed),
        declarations=tuple(declarations),
    )


def _read_distribution(
    dist: Distribution | _MetadataFolder, group: str
) -> tuple[list[EntryPointRecord], list[EntryPointRecord], list[PluginError]]:
    """``(plugin entry points, lazy declarations, problems)`` of one distribution."""
    location = _dist_location(dist)
    label = location or repr(dist)
    raw = _read_entry_points_bytes(dist)
    if raw is None:
        return [], [], []
    if isinstance(raw, OSError):
        return (
            [],
            [],
            [
                DiscoveryError(
                    f"distribution at {label}: cannot read entry_points.txt: {_error_line(raw)}",
                    phase="discover",
                    cause=raw,
                )
            ],
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return (
            [],
            [],
            [
                DiscoveryError(
                    f"distribution at {label}: entry_points.txt is not UTF-8 ({error.reason} at "
                    f"byte {error.start}); its entry points are skipped",
                    phase="discover",
                    cause=error,
                )
            ],
        )
    listens = declarations_group(group)
    # Both sections in one pass: a lazy plugin's declarations cost discovery nothing more.
    entries, declared, malformed = parse_entry_point_sections(text, group, listens)
    if not entries and not malformed:
        # The common case: nothing for this group, nothing wrong. (Declarations without a
        # plugin of the group to belong to declare nothing.)
        return [], [], []

    name, version, missing = _name_and_version(dist)
    problems: list[PluginError] = []
    who = f"distribution {name} {version}" if not missing else f"distribution at {label}"
    for line_number, section, line in malformed:
        ours = section == group
        plugin = (line.partition("=")[0].strip() or None) if ours else None
        consequence = "" if ours else "; ignored, other groups are unaffected"
        problems.append(
            DiscoveryError(
                f"{'plugin ' + plugin + ': ' if plugin else ''}{who}: malformed entry point on "
                f"line {line_number} of entry_points.txt in [{section}]: {line!r} "
                f"(expected 'name = module:object'){consequence}",
                plugin=plugin,
                distribution=name,
                phase="discover",
            )
        )
    if missing:
        plugins = ", ".join(entry_name for entry_name, _ in entries)
        for entry_name, _ in entries:
            problems.append(
                DiscoveryError(
                    f"plugin {entry_name}: distribution at {label} {missing}; skipped its "
                    f"[{group}] entry points ({plugins})",
                    plugin=entry_name,
                    distribution=name,
                    phase="discover",
                )
            )
        return [], [], problems
    assert name is not None
    assert version is not None
    records = [
        EntryPointRecord(entry_name, value, group, name, version, location)
        for entry_name, value in entries
    ]
    declarations = [
        EntryPointRecord(entry_name, value, listens, name, version, location)
        for entry_name, value in declared
    ]
    return records, declarations, problems


def _read_entry_points_bytes(dist: Distribution | _MetadataFolder) -> bytes | OSError | None:
    """The raw ``entry_points.txt``: ``None`` when absent, the ``OSError`` when unreadable."""
    if isinstance(dist, _MetadataFolder):
        try:
            return dist.read_bytes("entry_points.txt")
        except OSError as error:
            return error
    base = getattr(dist, "_path", None)
    joinpath = getattr(base, "joinpath", None)
    if joinpath is not None:
        # Read the file directly: Distribution.read_text hides PermissionError as "absent".
        target = joinpath("entry_points.txt")
        try:
            data: bytes = target.read_bytes()
        except (FileNotFoundError, NotADirectoryError, KeyError):
            return None
        except OSError as error:
            return error
        return data
    text = dist.read_text("entry_points.txt")
    return None if text is None else text.encode("utf-8")


def _name_and_version(
    dist: Distribution | _MetadataFolder,
) -> tuple[str | None, str | None, str | None]:
    """``(name, version, what is wrong)``; never raises for absent or unreadable metadata."""
    if isinstance(dist, _MetadataFolder):
        return _folder_name_and_version(dist)
    try:
        metadata = dist.metadata
        name = metadata.get("Name")
        version = metadata.get("Version")
    except FileNotFoundError:  # importlib_metadata's MetadataNotFound
        return None, None, "has no METADATA file"
    except Exception as error:
        return None, None, f"has unreadable METADATA ({_error_line(error)})"
    return _checked_name_and_version(name, version)


def _folder_name_and_version(folder: _MetadataFolder) -> tuple[str | None, str | None, str | None]:
    # METADATA (wheels), else PKG-INFO (eggs, egg-info): the files importlib_metadata reads.
    try:
        raw = folder.read_bytes("METADATA")
        if raw is None:
            raw = folder.read_bytes("PKG-INFO")
        if raw is None:
            return None, None, "has no METADATA file"
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, None, f"has unreadable METADATA ({_error_line(error)})"
    name, version = _header_values(text, ("name", "version"))
    return _checked_name_and_version(name, version)


def _header_values(text: str, wanted: tuple[str, str]) -> tuple[str | None, str | None]:
    """The first value of each of two headers of a core-metadata file (RFC 822 style).

    Only the header block is read (it ends at the first empty line); continuation lines are
    skipped: ``Name`` and ``Version`` are single-line fields.
    """
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        if line[0] in " \t":
            continue
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        if colon and key in wanted and key not in values:
            values[key] = value.strip()
            if len(values) == len(wanted):
                break
    return values.get(wanted[0]), values.get(wanted[1])


def _checked_name_and_version(
    name: object, version: object
) -> tuple[str | None, str | None, str | None]:
    if not name:
        return None, (str(version) if version else None), "has no Name in its METADATA"
    if not version:
        return str(name), None, "has no Version in its METADATA"
    return str(name), str(version), None


def _without_duplicates(
    records: list[EntryPointRecord],
) -> tuple[list[EntryPointRecord], list[EntryPointRecord], list[PluginError]]:
    kept: dict[str, EntryPointRecord] = {}
    shadowed: list[EntryPointRecord] = []
    problems: list[PluginError] = []
    for record in records:
        key = normalize_name(record.name)
        first = kept.get(key)
        if first is None:
            kept[key] = record
            continue
        shadowed.append(record)
        if normalize_name(first.distribution) == normalize_name(record.distribution):
            if first.dist_path == record.dist_path:
                message = (
                    f"plugin {record.name}: distribution {first.distribution} declares it "
                    f"twice in [{record.group}] ({first.value!r} and {record.value!r}); "
                    f"using the first"
                )
            else:
                message = (
                    f"plugin {record.name}: distribution {first.distribution} is installed "
                    f"twice, {first.version} at {first.dist_path} and {record.version} at "
                    f"{record.dist_path}; using the first on the search path"
                )
        else:
            message = (
                f"plugin {record.name} is offered twice: by {first.distribution} "
                f"{first.version} ({first.dist_path}) and by {record.distribution} "
                f"{record.version} ({record.dist_path}); using the first on the search path"
            )
        problems.append(
            DuplicatePluginError(
                message,
                plugin=record.name,
                distributions=(first.distribution, record.distribution),
            )
        )
    return list(kept.values()), shadowed, problems


def _dist_location(dist: Distribution | _MetadataFolder) -> str | None:
    base = getattr(dist, "_path", None)
    return None if base is None else str(base)


def _error_line(error: BaseException) -> str:
    """``Type: message``, the message's whitespace (line breaks too) collapsed to spaces."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def log_problems(problems: Sequence[PluginError]) -> None:
    """Log each problem as one warning on ``hookwire.discovery``."""
    if not problems:
        return
    import logging

    # Logged, not warnings.warn: a broken distribution in the environment must not turn every
    # host's warnings-as-errors test run red.
    logger = logging.getLogger("hookwire.discovery")
    for problem in problems:
        logger.warning("%s", problem)
