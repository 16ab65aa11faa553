"""The on-disk cache of discovery results, so start-up need not read every distribution.

One file per (interpreter, entry-point group) in the user's cache directory:
``$HOOKWIRE_CACHE_DIR``, else ``%LOCALAPPDATA%\\hookwire\\Cache`` on Windows, else
``$XDG_CACHE_HOME/hookwire``, else ``~/.cache/hookwire``. ``HOOKWIRE_NO_CACHE=1`` turns it off.

The key is everything that decides the answer: the interpreter (``sys.executable``,
implementation and version) and hookwire's version, the group, the search path, the
modification time in integer nanoseconds of each search-path entry (installing or uninstalling
a distribution adds or removes a folder there, which changes the entry's mtime), and the mtimes
of the metadata the answer came from (an ``entry_points.txt`` rewritten in place). A hit costs
one ``stat`` per entry and per contributing distribution, plus reading one small file.
Not watched: the ``entry_points.txt`` of a distribution that offered nothing to the group,
edited in place by hand (pip never does that: an install, upgrade or uninstall adds or removes
the whole metadata folder, which changes its search-path entry's mtime).

Correctness comes first. A result is only written when every mtime in its key is strictly
older than a timestamp the file system took *before* the scan started (the cache file's own
creation time): a change made in the same clock tick as the scan would otherwise leave an
unchanged mtime next to a stale answer. Files are written to a temporary name and moved into
place with :func:`os.replace`; unreadable, corrupt, foreign or unwritable caches are ignored
and never raise.

Why :mod:`marshal` and no :mod:`json` or :mod:`pathlib`: a warm start should cost a few
``stat`` calls, and those two modules alone cost more to import than the whole look-up.
marshal is built into the interpreter, and its format is tied to the interpreter, as each
cache file is. The file starts with a magic string and the payload's length, so a truncated or
foreign file is a miss before anything is decoded, and every field is type-checked after.
"""

from __future__ import annotations

import marshal
import os
import sys
import threading
from typing import Any

from ..exceptions import DiscoveryError, DuplicatePluginError, PluginError
from .records import DiscoveryResult, EntryPointRecord

__all__ = ["PendingWrite", "begin", "cache_dir", "cache_file", "enabled", "lookup"]

FORMAT = 3
ENV_CACHE_DIR = "HOOKWIRE_CACHE_DIR"
ENV_NO_CACHE = "HOOKWIRE_NO_CACHE"
MAGIC = b"hookwire-discovery-cache\n"
_LENGTH_BYTES = 8


def enabled() -> bool:
    """False when ``HOOKWIRE_NO_CACHE`` is set to a true value (``1``, ``true``, ``yes``)."""
    return os.environ.get(ENV_NO_CACHE, "").strip().lower() not in {"1", "true", "yes", "on"}


def cache_dir() -> str:
    """The folder that holds discovery caches (it may not exist yet)."""
    override = os.environ.get(ENV_CACHE_DIR)
    if override:
        return override
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        if local:
            return os.path.join(local, "hookwire", "Cache")
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "hookwire")
    return os.path.join(os.path.expanduser("~"), ".cache", "hookwire")


def _interpreter() -> tuple[Any, ...]:
    from .. import __version__

    return (
        __version__,  # a newer hookwire may read metadata differently
        sys.executable,
        sys.implementation.name,
        tuple(sys.version_info[:3]),
        sys.implementation.cache_tag,
        marshal.version,
    )


def _digest(text: str) -> str:
    # FNV-1a, 64 bits: a stable file-name digest without importing hashlib or zlib. Collisions
    # only cost a miss: the full interpreter identity and group are checked inside the file.
    value = 0xCBF29CE484222325
    for byte in text.encode("utf-8", "surrogatepass"):
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def cache_file(group: str) -> str:
    """The cache file of ``group`` for the running interpreter."""
    digest = _digest(repr((_interpreter(), group)))
    slug = "".join(char if char.isalnum() or char in "-_." else "_" for char in group)[:40]
    return os.path.join(cache_dir(), f"discovery-{slug}-{digest}.bin")


def _mtime_ns(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except (OSError, ValueError):
        return None


def _path_key(search_path: list[str]) -> list[tuple[str, int | None]]:
    return [(entry, _mtime_ns(entry)) for entry in search_path]


def _metadata_files(result: DiscoveryResult) -> list[str]:
    files: list[str] = []
    for folder in sorted(set(result.sources)):
        files.append(folder)
        files.append(os.path.join(folder, "entry_points.txt"))
    return files


def _read(path: str) -> dict[str, Any] | None:
    """The payload of the cache file at ``path``, or ``None`` when absent or damaged."""
    with open(path, "rb") as stream:
        data = stream.read()
    head = len(MAGIC) + _LENGTH_BYTES
    if not data.startswith(MAGIC) or len(data) < head:
        return None
    if int.from_bytes(data[len(MAGIC) : head], "little") != len(data) - head:
        return None  # truncated, or something appended
    payload = marshal.loads(data[head:])
    return payload if isinstance(payload, dict) else None


def lookup(group: str, search_path: list[str]) -> DiscoveryResult | None:
    """The cached result for ``group`` on ``search_path`` if still valid, else ``None``."""
    try:
        data = _read(cache_file(group))
        if (
            data is None
            or data.get("format") != FORMAT
            or data.get("interpreter") != _interpreter()
            or data.get("group") != group
            or data.get("path") != _path_key(search_path)
        ):
            return None
        for file_name, mtime in data["files"]:
            if _mtime_ns(file_name) != mtime:
                return None
        records = tuple(_record_from_tuple(item) for item in data["entry_points"])
        problems = tuple(_problem_from_tuple(item) for item in data["problems"])
        sources = tuple(_text(source) for source in data["sources"])
        shadowed = tuple(_record_from_tuple(item) for item in data["shadowed"])
    except Exception:
        # Missing, unreadable, corrupt, or written by another version: a miss, never an error.
        return None
    return DiscoveryResult(records, problems, from_cache=True, sources=sources, shadowed=shadowed)


class PendingWrite:
    """A cache file being prepared while discovery scans (see :func:`begin`)."""

    def __init__(
        self, group: str, target: str, temporary: str, key: list[tuple[str, int | None]]
    ) -> None:
        self.group = group
        self.target = target
        self.temporary = temporary
        self.key = key

    def commit(self, result: DiscoveryResult) -> bool:
        """Write ``result`` into place; ``False`` (and nothing written) when it is unsafe."""
        try:
            started_ns = os.stat(self.temporary).st_mtime_ns
            files = _metadata_files(result)
            file_key = [(name, _mtime_ns(name)) for name in files]
            newest = [mtime for _, mtime in self.key if mtime is not None]
            newest += [mtime for _, mtime in file_key if mtime is not None]
            if any(mtime >= started_ns for mtime in newest):
                # Changed in the same clock tick as the scan: an mtime cannot prove freshness.
                self._discard()
                return False
            payload = marshal.dumps(
                {
                    "format": FORMAT,
                    "interpreter": _interpreter(),
                    "group": self.group,
                    "path": self.key,
                    "files": file_key,
                    "entry_points": [_record_to_tuple(record) for record in result.entry_points],
                    "problems": [_problem_to_tuple(problem) for problem in result.problems],
                    "sources": list(result.sources),
                    "shadowed": [_record_to_tuple(record) for record in result.shadowed],
                }
            )
            with open(self.temporary, "wb") as stream:
                stream.write(MAGIC + len(payload).to_bytes(_LENGTH_BYTES, "little") + payload)
            os.replace(self.temporary, self.target)
        except Exception:
            self._discard()
            return False
        return True

    def _discard(self) -> None:
        try:
            os.unlink(self.temporary)
        except OSError:
            pass


def begin(group: str, search_path: list[str]) -> PendingWrite | None:
    """Snapshot the key and create the temporary file *before* scanning, or ``None``.

    The temporary file's creation time is the file system's "now" before the scan; it is what
    :meth:`PendingWrite.commit` compares the key's mtimes with.
    """
    key = _path_key(search_path)
    target = cache_file(group)
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        temporary = f"{target}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(temporary, "wb"):
            pass
    except OSError:
        return None  # an unwritable cache folder: just do without
    return PendingWrite(group, target, temporary, key)


# -- the payload: plain tuples of str / None, checked on the way back in ----------------------


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {type(value).__name__}")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _record_to_tuple(record: EntryPointRecord) -> tuple[str | None, ...]:
    return (
        record.name,
        record.value,
        record.group,
        record.distribution,
        record.version,
        record.dist_path,
    )


def _record_from_tuple(item: Any) -> EntryPointRecord:
    name, value, group, distribution, version, dist_path = item
    return EntryPointRecord(
        _text(name),
        _text(value),
        _text(group),
        _text(distribution),
        _text(version),
        _optional_text(dist_path),
    )


def _problem_to_tuple(problem: PluginError) -> tuple[Any, ...]:
    return (
        "duplicate" if isinstance(problem, DuplicatePluginError) else "discovery",
        problem.message,
        problem.plugin,
        problem.distribution,
        tuple(getattr(problem, "distributions", ())),
    )


def _problem_from_tuple(item: Any) -> PluginError:
    kind, message, plugin, distribution, distributions = item
    if kind == "duplicate":
        return DuplicatePluginError(
            _text(message),
            plugin=_text(plugin),
            distributions=tuple(_text(name) for name in distributions),
        )
    if kind != "discovery":
        raise ValueError(f"unknown problem kind {kind!r}")
    return DiscoveryError(
        _text(message),
        plugin=_optional_text(plugin),
        distribution=_optional_text(distribution),
        phase="discover",
    )
