"""The on-disk cache of discovery results, so start-up need not read every distribution.

One JSON file per (interpreter, entry-point group) in the user's cache directory:
``$HOOKWIRE_CACHE_DIR``, else ``%LOCALAPPDATA%\\hookwire\\Cache`` on Windows, else
``$XDG_CACHE_HOME/hookwire``, else ``~/.cache/hookwire``. ``HOOKWIRE_NO_CACHE=1`` turns it off.

The key is everything that decides the answer: the interpreter (``sys.executable``,
implementation and version) and hookwire's version, the group, the search path, the
modification time in integer nanoseconds of each search-path entry (installing or uninstalling
a distribution adds or removes a folder there, which changes the entry's mtime), and the mtimes
of the metadata the answer came from (an ``entry_points.txt`` rewritten in place). A hit costs
one ``stat`` per entry and per contributing distribution, plus reading one small JSON file.
Not watched: the ``entry_points.txt`` of a distribution that offered nothing to the group,
edited in place by hand (pip never does that: an install, upgrade or uninstall adds or removes
the whole metadata folder, which changes its search-path entry's mtime).

Correctness comes first. A result is only written when every mtime in its key is strictly
older than a timestamp the file system took *before* the scan started (the cache file's own
creation time): a change made in the same clock tick as the scan would otherwise leave an
unchanged mtime next to a stale answer. Files are written to a temporary name and moved into
place with :func:`os.replace`; unreadable, corrupt, foreign or unwritable caches are ignored
and never raise.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import zlib
from pathlib import Path
from typing import Any

from ._discovery import DiscoveryResult, EntryPointRecord
from .exceptions import DiscoveryError, DuplicatePluginError, PluginError

__all__ = ["PendingWrite", "begin", "cache_dir", "cache_file", "enabled", "lookup"]

FORMAT = 1
ENV_CACHE_DIR = "HOOKWIRE_CACHE_DIR"
ENV_NO_CACHE = "HOOKWIRE_NO_CACHE"


def enabled() -> bool:
    """False when ``HOOKWIRE_NO_CACHE`` is set to a true value (``1``, ``true``, ``yes``)."""
    return os.environ.get(ENV_NO_CACHE, "").strip().lower() not in {"1", "true", "yes", "on"}


def cache_dir() -> Path:
    """The folder that holds discovery caches (it may not exist yet)."""
    override = os.environ.get(ENV_CACHE_DIR)
    if override:
        return Path(override)
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        if local:
            return Path(local) / "hookwire" / "Cache"
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "hookwire"
    return Path.home() / ".cache" / "hookwire"


def _interpreter() -> dict[str, Any]:
    from . import __version__

    return {
        "hookwire": __version__,  # a newer hookwire may read metadata differently
        "executable": sys.executable,
        "implementation": sys.implementation.name,
        "version": list(sys.version_info[:3]),
        "cache_tag": sys.implementation.cache_tag,
    }


def cache_file(group: str) -> Path:
    """The cache file of ``group`` for the running interpreter."""
    identity = json.dumps([_interpreter(), group], sort_keys=True)
    digest = f"{zlib.crc32(identity.encode('utf-8')):08x}"
    slug = "".join(char if char.isalnum() or char in "-_." else "_" for char in group)[:40]
    return cache_dir() / f"discovery-{slug}-{digest}.json"


def _mtime_ns(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except (OSError, ValueError):
        return None


def _path_key(search_path: list[str]) -> list[list[Any]]:
    return [[entry, _mtime_ns(entry)] for entry in search_path]


def _metadata_files(result: DiscoveryResult) -> list[str]:
    files: list[str] = []
    for folder in sorted(set(result.sources)):
        files.append(folder)
        files.append(os.path.join(folder, "entry_points.txt"))
    return files


def lookup(group: str, search_path: list[str]) -> DiscoveryResult | None:
    """The cached result for ``group`` on ``search_path`` if still valid, else ``None``."""
    try:
        data = json.loads(cache_file(group).read_text(encoding="utf-8"))
        if (
            data.get("format") != FORMAT
            or data.get("interpreter") != _interpreter()
            or data.get("group") != group
            or data.get("path") != _path_key(search_path)
        ):
            return None
        for file_name, mtime in data["files"]:
            if _mtime_ns(file_name) != mtime:
                return None
        records = tuple(EntryPointRecord(**item) for item in data["entry_points"])
        problems = tuple(_problem_from_json(item) for item in data["problems"])
        sources = tuple(str(source) for source in data["sources"])
    except Exception:
        # Missing, unreadable, corrupt, or written by another version: a miss, never an error.
        return None
    return DiscoveryResult(records, problems, from_cache=True, sources=sources)


class PendingWrite:
    """A cache file being prepared while discovery scans (see :func:`begin`)."""

    def __init__(self, group: str, target: Path, temporary: Path, key: list[Any]) -> None:
        self.group = group
        self.target = target
        self.temporary = temporary
        self.key = key

    def commit(self, result: DiscoveryResult) -> bool:
        """Write ``result`` into place; ``False`` (and nothing written) when it is unsafe."""
        try:
            started_ns = os.stat(self.temporary).st_mtime_ns
            files = _metadata_files(result)
            file_key = [[name, _mtime_ns(name)] for name in files]
            newest = [mtime for _, mtime in self.key if mtime is not None]
            newest += [mtime for _, mtime in file_key if mtime is not None]
            if any(mtime >= started_ns for mtime in newest):
                # Changed in the same clock tick as the scan: an mtime cannot prove freshness.
                self._discard()
                return False
            payload = {
                "format": FORMAT,
                "interpreter": _interpreter(),
                "group": self.group,
                "path": self.key,
                "files": file_key,
                "entry_points": [record.to_json() for record in result.entry_points],
                "problems": [_problem_to_json(problem) for problem in result.problems],
                "sources": list(result.sources),
            }
            with open(self.temporary, "w", encoding="utf-8") as stream:
                json.dump(payload, stream)
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
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(temporary, "w", encoding="utf-8"):
            pass
    except OSError:
        return None  # an unwritable cache folder: just do without
    return PendingWrite(group, target, temporary, key)


def _problem_to_json(problem: PluginError) -> dict[str, Any]:
    return {
        "kind": "duplicate" if isinstance(problem, DuplicatePluginError) else "discovery",
        "message": problem.message,
        "plugin": problem.plugin,
        "distribution": problem.distribution,
        "distributions": list(getattr(problem, "distributions", ())),
    }


def _problem_from_json(item: dict[str, Any]) -> PluginError:
    if item["kind"] == "duplicate":
        return DuplicatePluginError(
            item["message"], plugin=item["plugin"], distributions=item["distributions"]
        )
    return DiscoveryError(
        item["message"],
        plugin=item["plugin"],
        distribution=item["distribution"],
        phase="discover",
    )
