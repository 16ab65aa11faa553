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

``importlib_metadata`` (the backport) is imported only when distributions are actually read;
with the discovery cache warm it is not imported at all.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import DiscoveryError, DuplicatePluginError, PluginError
from .names import normalize_name
from .records import DiscoveryResult, EntryPointRecord, parse_reference

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
    here = os.path.realpath(cwd if cwd is not None else os.getcwd())
    env = os.environ if environ is None else environ
    chosen = {
        os.path.realpath(part) for part in env.get("PYTHONPATH", "").split(os.pathsep) if part
    }
    implicit_first = not (sys.flags.safe_path if safe_path is None else safe_path)
    result: list[str] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, str) or entry == "":
            continue
        resolved = os.path.realpath(entry)
        if index == 0 and implicit_first and resolved == here and resolved not in chosen:
            continue
        if not os.path.isabs(entry) and resolved not in chosen:
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
) -> DiscoveryResult:
    """Every entry point of ``group``, read one distribution at a time.

    ``path`` replaces :func:`default_search_path`; ``distributions`` reads exactly those
    objects instead of searching (the cache is not used then). Otherwise the on-disk cache of
    :mod:`hookwire._loading.discovery_cache` answers when nothing on the search path changed.

    Never raises for bad metadata: every problem is in the result's ``problems``, and logged
    unless ``report`` is false (the loader reports them itself, once, knowing which plugins
    were selected).
    """
    if distributions is not None:
        result = scan_distributions(group, distributions)
    else:
        search_path = default_search_path() if path is None else list(path)
        result = _discover_on_path(group, search_path, use_cache=use_cache)
    if report:
        log_problems(result.problems)
    return result


def _discover_on_path(group: str, search_path: list[str], *, use_cache: bool) -> DiscoveryResult:
    from . import discovery_cache

    if not use_cache or not discovery_cache.enabled():
        return _scan_path(group, search_path)
    cached = discovery_cache.lookup(group, search_path)
    if cached is not None:
        return cached
    pending = discovery_cache.begin(group, search_path)
    result = _scan_path(group, search_path)
    if pending is not None:
        pending.commit(result)
    return result


def _scan_path(group: str, search_path: list[str]) -> DiscoveryResult:
    import importlib_metadata

    def found() -> Iterable[Distribution]:
        # Entry by entry, each folder's distributions sorted, so "first on the path" is
        # well defined even where the file system lists folders in arbitrary order.
        for entry in search_path:
            in_entry: Iterable[Any] = importlib_metadata.distributions(path=[entry])
            yield from sorted(in_entry, key=_dist_sort_key)

    return scan_distributions(group, found())


def _dist_sort_key(dist: object) -> str:
    return str(getattr(dist, "_path", ""))


def scan_distributions(group: str, distributions: Iterable[Distribution]) -> DiscoveryResult:
    """Read ``group``'s entry points from each distribution, keeping every failure local.

    A metadata folder met again under another spelling (a search-path entry listed twice, or
    reached through a symbolic link such as a venv's ``lib64``) is one installation, read
    once; a distribution installed in two folders is reported as a duplicate.
    """
    records: list[EntryPointRecord] = []
    problems: list[PluginError] = []
    sources: list[str] = []
    seen: set[str] = set()
    for dist in distributions:
        location = _dist_location(dist)
        if location is not None:
            real = os.path.realpath(location)
            if real in seen:
                continue
            seen.add(real)
        try:
            found, trouble = _read_distribution(dist, group)
        except Exception as error:  # a custom Distribution may fail in any way
            where = _dist_location(dist) or repr(dist)
            problems.append(
                DiscoveryError(
                    f"distribution at {where}: cannot read its metadata: {_one_line(error)}",
                    phase="discover",
                    cause=error,
                )
            )
            continue
        records.extend(found)
        problems.extend(trouble)
        if (found or trouble) and location is not None:
            sources.append(location)
    kept, shadowed, duplicates = _without_duplicates(records)
    return DiscoveryResult(
        tuple(kept),
        tuple(problems) + tuple(duplicates),
        sources=tuple(sources),
        shadowed=tuple(shadowed),
    )


def _read_distribution(
    dist: Distribution, group: str
) -> tuple[list[EntryPointRecord], list[PluginError]]:
    location = _dist_location(dist)
    label = location or repr(dist)
    raw = _read_entry_points_bytes(dist)
    if raw is None:
        return [], []
    if isinstance(raw, OSError):
        return [], [
            DiscoveryError(
                f"distribution at {label}: cannot read entry_points.txt: {_one_line(raw)}",
                phase="discover",
                cause=raw,
            )
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return [], [
            DiscoveryError(
                f"distribution at {label}: entry_points.txt is not UTF-8 ({error.reason} at "
                f"byte {error.start}); its entry points are skipped",
                phase="discover",
                cause=error,
            )
        ]
    entries, malformed = parse_entry_points(text, group)
    if not entries and not malformed:
        return [], []  # the common case: nothing for this group, nothing wrong

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
        return [], problems
    assert name is not None
    assert version is not None
    records = [
        EntryPointRecord(entry_name, value, group, name, version, location)
        for entry_name, value in entries
    ]
    return records, problems


def parse_entry_points(
    text: str, group: str
) -> tuple[list[tuple[str, str]], list[tuple[int, str, str]]]:
    """``(name, value)`` pairs of ``group``'s section, and every malformed line.

    The format ``importlib.metadata`` reads (an INI subset). Malformed lines are returned as
    ``(line number, section, line)`` for every section, so a broken file is reported for its
    distribution instead of breaking discovery for everyone.
    """
    entries: list[tuple[str, str]] = []
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
    return entries, malformed


def _read_entry_points_bytes(dist: Distribution) -> bytes | OSError | None:
    """The raw ``entry_points.txt``: ``None`` when absent, the ``OSError`` when unreadable."""
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


def _name_and_version(dist: Distribution) -> tuple[str | None, str | None, str | None]:
    """``(name, version, what is wrong)``; never raises for absent or unreadable metadata."""
    try:
        metadata = dist.metadata
        name = metadata.get("Name")
        version = metadata.get("Version")
    except FileNotFoundError:  # importlib_metadata's MetadataNotFound
        return None, None, "has no METADATA file"
    except Exception as error:
        return None, None, f"has unreadable METADATA ({_one_line(error)})"
    if not name:
        return None, version, "has no Name in its METADATA"
    if not version:
        return name, None, "has no Version in its METADATA"
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


def _dist_location(dist: Distribution) -> str | None:
    base = getattr(dist, "_path", None)
    return None if base is None else str(base)


def _one_line(error: BaseException) -> str:
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
