"""The on-disk cache of discovery results, so start-up need not read every distribution.

One file per (interpreter, entry-point group) in the user's cache folder:
``$HOOKWIRE_CACHE_DIR``, else ``%LOCALAPPDATA%\\hookwire\\Cache`` on Windows, else
``$XDG_CACHE_HOME/hookwire``, else ``~/.cache/hookwire``. ``HOOKWIRE_NO_CACHE=1`` turns it off.
The user-facing description is ``docs/concepts/discovery-cache.md``.

**What the key holds.** Everything that decides the answer: the interpreter
(``sys.executable``, implementation and version) and hookwire's version, the group, the search
path, and the modification time in integer nanoseconds of each search-path entry (installing,
upgrading or uninstalling adds or removes a folder there), of the ``METADATA`` of each
metadata folder the answer came from, with the bytes of its ``entry_points.txt``, compared with
the file at look-up (a ``*.dist-info`` folder holds nothing else discovery reads; one read
through ``PKG-INFO`` is watched with the folder itself),
and of every ``*.egg-info`` folder on the search path with its ``entry_points.txt`` (build
tools rewrite those in place: ``setup.py egg_info``, legacy editable installs). A ``.pth``
file or a ``sys.path`` entry added at run time changes the search path itself. A hit costs one
``stat`` per key entry plus reading one small file and the ``entry_points.txt`` of each plugin
(the loader's: of each eager plugin; a lazy plugin's is checked by its modification time and
read when it is activated).

**Never a stale answer.** A result is only written when every mtime in its key is older, by a
margin that covers the coarsest file-system clock (2 s), than a timestamp the cache's file
system took *before* the scan started (the temporary file's creation time): a change made in
the same clock tick as the scan would otherwise leave an unchanged mtime next to a stale answer.

**Nobody else can feed it.** The folder is created with mode 0700. The folder and the file
are opened without following a symbolic link at the file's name, and each is checked on the
open descriptor: a folder or file not owned by the current user, or writable by group or
others, or a file that is not a regular file, is ignored (reported once per process on the
``hookwire.discovery.cache`` logger at INFO, which ``--verbose`` / ``--trace`` show) and never
an error. Files are written to a temporary file created with ``O_CREAT | O_EXCL |
O_NOFOLLOW`` and mode 0600, then moved into place. Every entry read back is checked against
what discovery may return: its metadata folder must be one the key watches, directly in a
search-path entry, one distribution per folder, and its ``name = value`` line must be in that
folder's ``entry_points.txt`` under the group (a lazy plugin's declaration under the
declarations group, ``<group>.listens``). A cache that fails any check is a miss. The loader's
look-up leaves that last check of lazy plugins' entries to their activation
(:func:`declared_in`, before the import).

Why :mod:`marshal` and no :mod:`json` or :mod:`pathlib`: a warm start should cost a few
``stat`` calls, and those two modules alone cost more to import than the whole look-up.
marshal is built into the interpreter, and its format is tied to the interpreter, as each
cache file is. The file starts with a magic string and the payload's length, so a truncated or
foreign file is a miss before anything is decoded, and every field is type-checked after.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys
import threading
from stat import S_ISREG
from typing import Any

from ..exceptions import DiscoveryError, DuplicatePluginError, PluginError
from .records import (
    DiscoveryResult,
    EntryPointRecord,
    declarations_group,
    parse_entry_point_sections,
)

__all__ = [
    "PendingWrite",
    "begin",
    "cache_dir",
    "cache_file",
    "declared_in",
    "enabled",
    "forget",
    "lookup",
]

FORMAT = 6
ENV_CACHE_DIR = "HOOKWIRE_CACHE_DIR"
ENV_NO_CACHE = "HOOKWIRE_NO_CACHE"
MAGIC = b"hookwire-discovery-cache\n"
LOGGER = "hookwire.discovery.cache"
#: How much older than the scan every watched mtime must be for a result to be written: FAT
#: keeps mtimes to 2 s, and the cache may live on another file system than the metadata.
SETTLE_NS = 2_000_000_000
_LENGTH_BYTES = 8

# Where the platform lets us, files are opened relative to a descriptor of the checked folder,
# so the folder cannot be swapped between the check and the use.
_DIR_FD = os.open in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
# Non-blocking: a FIFO planted where a metadata file should be must not hang discovery.
_READ_FLAGS = os.O_RDONLY | _O_CLOEXEC | getattr(os, "O_NONBLOCK", 0)

_reported: set[tuple[str, str]] = set()
_reported_lock = threading.Lock()


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


def _file_name(group: str) -> str:
    digest = _digest(repr((_interpreter(), group)))
    slug = "".join(char if char.isalnum() or char in "-_." else "_" for char in group)[:40]
    return f"discovery-{slug}-{digest}.bin"


def cache_file(group: str) -> str:
    """The cache file of ``group`` for the running interpreter."""
    return os.path.join(cache_dir(), _file_name(group))


# -- trust: who may have written what we read --------------------------------------------------


def _report(path: str, reason: str) -> None:
    """Say once per process why a cache file or folder is not used (INFO: never an error)."""
    with _reported_lock:
        if (path, reason) in _reported:
            return
        _reported.add((path, reason))
    import logging

    logging.getLogger(LOGGER).info(
        "discovery cache %s ignored: %s; the installed distributions are read instead",
        path,
        reason,
    )


def _distrust(status: os.stat_result, *, regular: bool) -> str | None:
    """Why an opened cache file or folder must not be used, or ``None`` when it may."""
    if regular and not stat.S_ISREG(status.st_mode):
        return "it is not a regular file"
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None:
        return None  # Windows: the folder sits in the user's own profile, guarded by its ACL
    me = geteuid()
    if status.st_uid != me:
        return f"it is owned by user id {status.st_uid}, not by the current user ({me})"
    writable = [
        who
        for who, bit in (("group", stat.S_IWGRP), ("others", stat.S_IWOTH))
        if status.st_mode & bit
    ]
    if writable:
        mode = stat.S_IMODE(status.st_mode)
        return f"it is writable by {' and '.join(writable)} (mode {mode:04o})"
    return None


class _Folder:
    """The cache folder, checked once and then used through a descriptor where possible."""

    def __init__(self, path: str, fd: int | None) -> None:
        self.path = path
        self.fd = fd

    def name(self, file_name: str) -> str:
        return file_name if self.fd is not None else os.path.join(self.path, file_name)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _open_folder(path: str, *, create: bool) -> _Folder | None:
    """The trusted cache folder at ``path``, or ``None`` (absent, or reported as untrusted)."""
    try:
        if create:
            # 0700 for the folder we create (its parents get the usual mode, as XDG folders).
            os.makedirs(path, mode=0o700, exist_ok=True)
        if _DIR_FD:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _O_CLOEXEC)
            try:
                status = os.fstat(fd)
            except BaseException:
                os.close(fd)
                raise
        else:
            fd = None
            status = os.stat(path)
            if not stat.S_ISDIR(status.st_mode):
                return None
    except OSError:
        return None  # absent, not a folder, or not ours to create: do without
    folder = _Folder(path, fd)
    reason = _distrust(status, regular=False)
    if reason is not None:
        folder.close()
        _report(path, reason)
        return None
    return folder


def _read_trusted(folder: _Folder, file_name: str) -> bytes | None:
    """The bytes of the cache file, or ``None`` when absent or not to be trusted."""
    path = os.path.join(folder.path, file_name)
    try:
        fd = os.open(
            folder.name(file_name),
            os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY,
            dir_fd=folder.fd,
        )
    except FileNotFoundError:
        return None
    except OSError as error:
        if os.path.islink(path):
            _report(path, "it is a symbolic link")
        elif not isinstance(error, IsADirectoryError):
            _report(path, f"it cannot be opened ({type(error).__name__})")
        else:
            _report(path, "it is not a regular file")
        return None
    try:
        status = os.fstat(fd)
        reason = _distrust(status, regular=True)
        if reason is not None:
            _report(path, reason)
            return None
        chunks = []
        while True:
            chunk = os.read(fd, max(status.st_size, 65536))
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


# -- the key -----------------------------------------------------------------------------------


def _mtime_ns(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except (OSError, ValueError):
        return None


def _bytes_and_mtime(path: str) -> tuple[bytes | None, int | None]:
    """The bytes of the file ``path`` and its modification time taken after reading them
    (``(None, None)`` when it is absent or no regular file): a change made while reading gives
    a time too recent for :meth:`PendingWrite.commit` to write a cache."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except (OSError, ValueError):
        return None, None
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        status = os.fstat(fd)
    except OSError:
        return None, None
    finally:
        os.close(fd)
    if not S_ISREG(status.st_mode):
        return None, None
    return b"".join(chunks), status.st_mtime_ns


def _path_key(search_path: list[str]) -> list[tuple[str, int | None]]:
    return [(entry, _mtime_ns(entry)) for entry in search_path]


def _metadata_files(result: DiscoveryResult) -> tuple[list[str], list[tuple[str, bool]]]:
    """``(files to stat, (metadata folder, whether its METADATA is watched with it))`` for the
    key: the ``entry_points.txt`` of each such folder is read, its ``METADATA`` stat'ed.

    A ``*.dist-info`` folder's contents are its files: what discovery reads from it changes
    only when its ``entry_points.txt`` or ``METADATA`` changes, and each of those is watched
    by its own mtime (a file rewritten in place or moved there has a new one; one taken away
    is a miss). So a wheel's folder costs no stat of its own. A folder read through
    ``PKG-INFO`` is watched as well: a ``METADATA`` appearing there changes only the folder.
    """
    files: list[str] = []
    read: list[tuple[str, bool]] = []
    for folder in sorted(set(result.sources)):
        if os.path.exists(os.path.join(folder, "METADATA")):
            read.append((folder, True))
        else:
            # PKG-INFO is read only without METADATA: watched then alone, with the folder.
            read.append((folder, False))
            files.append(folder)
            files.append(os.path.join(folder, "PKG-INFO"))
    for folder in sorted(set(result.watched) - set(result.sources)):
        files.append(folder)
        files.append(os.path.join(folder, "entry_points.txt"))
    return files, read


def _decode(data: bytes) -> dict[str, Any] | None:
    """The payload of a cache file's bytes, or ``None`` when damaged."""
    head = len(MAGIC) + _LENGTH_BYTES
    if not data.startswith(MAGIC) or len(data) < head:
        return None
    if int.from_bytes(data[len(MAGIC) : head], "little") != len(data) - head:
        return None  # truncated, or something appended
    payload = marshal.loads(data[head:])
    return payload if isinstance(payload, dict) else None


def lookup(
    group: str, search_path: list[str], *, defer_lazy: bool = False
) -> DiscoveryResult | None:
    """The cached result for ``group`` on ``search_path`` if still valid, else ``None``.

    ``defer_lazy`` (the loader's look-up) leaves unread the ``entry_points.txt`` of the
    distributions that declare lazy plugins: their entries are checked only against the
    key's mtimes here, and listed in :attr:`DiscoveryResult.unverified`; whoever imports one
    of them checks it first with :func:`declared_in`. Such a plugin is imported at the
    first send of a signal it declares, if ever: reading its metadata at every start would
    make start-up grow with every lazy plugin installed.
    """
    folder = _open_folder(cache_dir(), create=False)
    if folder is None:
        return None
    try:
        raw = _read_trusted(folder, _file_name(group))
        if raw is None:
            return None
        data = _decode(raw)
        if (
            data is None
            or data.get("format") != FORMAT
            or data.get("interpreter") != _interpreter()
            or data.get("group") != group
            or data.get("path") != _path_key(search_path)
        ):
            return None
        result = _checked(group, search_path, data, defer_lazy)
    except Exception:
        # Unreadable, corrupt, or written by another version: a miss, never an error.
        return None
    finally:
        folder.close()
    return result


def _checked(
    group: str, search_path: list[str], data: dict[str, Any], defer_lazy: bool
) -> DiscoveryResult | None:
    """The cached result if every watched file is unchanged and every entry is plausible
    (see :func:`_plausible`), else ``None``. Raises on a payload of the wrong shape."""
    stat = os.stat
    for file_name, mtime in data["files"]:
        if file_name.__class__ is not str:
            return None
        try:
            current = stat(file_name).st_mtime_ns
        except (OSError, ValueError):
            return None
        if current != mtime:
            return None
    # Where lazy plugins are declared: checked against their files only when imported.
    deferred = {item[5] for item in data["declarations"]} if defer_lazy else set()
    # The entry points of every other source are read to check the records against them;
    # the file's modification time comes from the descriptor it is read through. (Written
    # out: a function call per plugin at every start.)
    contents: dict[str, bytes | None] = {}
    open_, read, close = os.open, os.read, os.close
    sep = os.sep
    for source, mtime, metadata_mtime, expected in data["read"]:
        if source.__class__ is not str or expected.__class__ is not bytes:
            return None
        if metadata_mtime is not None:
            try:
                if stat(source + sep + "METADATA").st_mtime_ns != metadata_mtime:
                    return None
            except (OSError, ValueError):
                return None
        path = source + sep + "entry_points.txt"
        if source in deferred:
            try:
                if stat(path).st_mtime_ns != mtime:
                    return None
            except (OSError, ValueError):
                return None
            contents[source] = None
            continue
        # Compared with what the scan read, byte for byte: the same bytes give the same
        # entries whatever the file's times say, and no fstat is needed (one system call a
        # plugin fewer). A byte more is asked for, so a longer file never compares equal.
        try:
            fd = open_(path, _READ_FLAGS)
        except (OSError, ValueError):
            return None
        try:
            content = read(fd, len(expected) + 1)
        except OSError:
            return None
        finally:
            close(fd)
        if content != expected:
            return None
        contents[source] = content
    sources = tuple(data["sources"])
    for source in sources:  # what _text() checks, without a call for each of hundreds
        if not isinstance(source, str):
            raise TypeError(f"expected str, got {type(source).__name__}")
    watched = set(contents)
    watched.update(name for name, _ in data["files"])
    records = _plausible(group, search_path, data, sources, watched, contents)
    if records is None:
        return None
    entry_points, shadowed, declarations = records
    return DiscoveryResult(
        entry_points,
        tuple(_problem_from_tuple(item) for item in data["problems"]),
        from_cache=True,
        sources=sources,
        watched=tuple(_text(folder_name) for folder_name in data["watched"]),
        shadowed=shadowed,
        declarations=declarations,
        unverified=tuple(source for source in sources if contents.get(source, b"") is None),
    )


def _plausible(
    group: str,
    search_path: list[str],
    data: dict[str, Any],
    sources: tuple[str, ...],
    watched: set[str],
    contents: dict[str, bytes | None],
) -> tuple[tuple[EntryPointRecord, ...], ...] | None:
    """The payload's ``entry_points``, ``shadowed`` and ``declarations`` as records if every
    one is something discovery itself could have returned right now, else ``None``.

    Each record's metadata folder must be watched by the key and lie directly in a search-path
    entry; one folder is one distribution; and the record's ``name = value`` must be under
    ``[group]`` (or, for a lazy plugin's declaration, under the declarations group) in that
    folder's ``entry_points.txt`` (``contents``, read by path of the folder; ``None`` for a
    folder whose check is left to :func:`declared_in`). A cache file that names any other
    module is refused, whoever wrote it.
    """
    entries = {os.path.normpath(entry) for entry in search_path}
    parents: dict[str, bool] = {}  # a few search-path entries hold every source
    for source in sources:
        if source not in watched:
            return None
        parent = source.rpartition(os.sep)[0]  # as written by discovery: entry, sep, folder
        inside = parents.get(parent)
        if inside is None:
            inside = parents[parent] = os.path.normpath(parent) in entries
        if not inside:
            return None
    listens = declarations_group(group)
    both = {group, listens}
    Pairs = dict[str, set[tuple[str, str]] | None]
    unread: Pairs = {group: None, listens: None}
    # Per folder: its distribution and version, and the (name, value) pairs its file declares
    # under each of the two groups, parsed once however many records it has.
    declared: dict[str, tuple[str, str, Pairs]] = {}
    # What each read folder's entries say its file holds, section by section, for the check
    # of _verbatim() (a folder with a name offered twice is parsed instead).
    expected: dict[object, dict[object, list[tuple[Any, Any]]]] = {}
    if any(raw is not None for raw in contents.values()):
        shadowed = {item[5] for item in data["shadowed"]}
        for field in ("entry_points", "declarations"):
            for item in data[field]:
                where = item[5]
                if contents.get(where) is not None and where not in shadowed:
                    by_group = expected.setdefault(where, {})
                    by_group.setdefault(item[2], []).append((item[0], item[1]))
    new = tuple.__new__
    checked: list[tuple[EntryPointRecord, ...]] = []
    for field in ("entry_points", "shadowed", "declarations"):
        records: list[EntryPointRecord] = []
        keep = records.append
        for item in data[field]:
            name, value, record_group, distribution, version, where = item
            known: tuple[str, str, Pairs] | None = declared.get(where)
            if known is None:
                if where not in contents:
                    return None  # not a folder the key watches
                if distribution.__class__ is not str or version.__class__ is not str:
                    return None
                raw = contents[where]
                if raw is None:
                    known = declared[where] = (distribution, version, unread)
                else:
                    text = raw.decode("utf-8")
                    sections = expected.get(where)
                    if (
                        sections is not None
                        and both.issuperset(sections)
                        and _verbatim(text, sections)
                    ):
                        # Checked strings, as read back from the cache.
                        pairs: Pairs = {
                            group: set(sections.get(group, ())),
                            listens: set(sections.get(listens, ())),
                        }
                    else:
                        plugins, declarations, _ = parse_entry_point_sections(text, group, listens)
                        pairs = {group: set(plugins), listens: set(declarations)}
                    known = declared[where] = (distribution, version, pairs)
            if distribution != known[0] or version != known[1]:
                return None
            if record_group not in known[2]:
                return None
            in_file = known[2][record_group]
            if in_file is None:
                # Not read: the fields are only known to be strings, for declared_in().
                if name.__class__ is not str or value.__class__ is not str:
                    return None
            elif (name, value) not in in_file:
                return None  # in the set, both are the very strings the file declares
            keep(new(EntryPointRecord, item))  # the six fields unpacked above
        checked.append(tuple(records))
    return tuple(checked)


def _verbatim(text: str, sections: dict[object, list[tuple[Any, Any]]]) -> bool:
    """Whether ``text`` holds, for each section, its header line and then exactly these
    ``name = value`` lines, one after the other, as installers write them: then parsing
    ``text`` gives every one of those pairs under that section, and the parse is spared.

    Only lines the parser reads as an entry and nothing else qualify (``False`` otherwise,
    and the file is parsed): strings, a section name the header gives back unchanged,
    names without ``=``, neither one padded nor empty, printable (no line break of any
    kind), and no name a comment or a header could start with.
    """
    haystack = "\n" + text + "\n"
    for section, pairs in sections.items():
        if (
            section.__class__ is not str
            or not section.isprintable()
            or section.strip("[]").strip() != section
        ):
            return False
        lines = [f"\n[{section}]"]
        for name, value in pairs:
            if name.__class__ is not str or value.__class__ is not str:
                return False
            line = f"{name} = {value}"
            if (
                # An empty name too: "" is in any string.
                name[:1] in "#;["
                or not value
                or "=" in name
                or name.strip() != name
                or value.strip() != value
                or not line.isprintable()
            ):
                return False
            lines.append(line)
        lines.append("")
        if "\n".join(lines) not in haystack:
            return False
    return True


def declared_in(group: str, record: EntryPointRecord) -> str | None:
    """Why ``record`` (an entry of :attr:`DiscoveryResult.unverified` metadata) must not be
    imported, or ``None`` when its ``name = value`` is under ``[group]`` in its folder's
    ``entry_points.txt`` now. When it is not, the cache file of ``group`` is removed: it was
    altered or is out of date, and the next start reads the installed distributions."""
    where = record.dist_path
    path = os.path.join(where or "", "entry_points.txt")
    try:
        fd = os.open(path, _READ_FLAGS)
        try:
            chunks = []
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
        finally:
            os.close(fd)
        plugins, _, _ = parse_entry_point_sections(b"".join(chunks).decode("utf-8"), group, None)
    except (OSError, ValueError) as error:
        why = f"cannot read {path} ({type(error).__name__})"
    else:
        if (record.name, record.value) in plugins:
            return None
        why = f"{path} does not declare it under [{group}]"
    forget(group)
    return (
        f"its entry point {record.text!r} comes from the discovery cache, but {why}; the "
        f"cache file is removed and the next start reads the installed distributions"
    )


def forget(group: str) -> None:
    """Remove the cache file of ``group`` (nothing when there is none)."""
    try:
        os.unlink(cache_file(group))
    except OSError:
        pass


class PendingWrite:
    """A cache file being prepared while discovery scans (see :func:`begin`).

    It holds the open temporary file; :meth:`commit` or :meth:`discard` must follow.
    """

    def __init__(
        self,
        group: str,
        folder: _Folder,
        target: str,
        temporary: str,
        fd: int,
        key: list[tuple[str, int | None]],
    ) -> None:
        self.group = group
        self.folder = folder
        self.target = target
        self.temporary = temporary
        self.key = key
        self._fd: int | None = fd
        self._started_ns = os.fstat(fd).st_mtime_ns

    def commit(self, result: DiscoveryResult) -> bool:
        """Write ``result`` into place; ``False`` (and nothing written) when it is unsafe."""
        try:
            files, read = _metadata_files(result)
            file_key = [(name, _mtime_ns(name)) for name in files]
            # (folder, entry_points.txt's mtime, METADATA's or None when PKG-INFO is read,
            # entry_points.txt's bytes): a folder's paths are built at look-up, not stored.
            read_key: list[tuple[str, int | None, int | None, bytes | None]] = []
            newest = [mtime for _, mtime in self.key if mtime is not None]
            newest += [mtime for _, mtime in file_key if mtime is not None]
            for folder, metadata in read:
                content, mtime = _bytes_and_mtime(os.path.join(folder, "entry_points.txt"))
                metadata_mtime = _mtime_ns(os.path.join(folder, "METADATA")) if metadata else None
                read_key.append((folder, mtime, metadata_mtime, content))
                newest += [time for time in (mtime, metadata_mtime) if time is not None]
            if any(mtime >= self._started_ns - SETTLE_NS for mtime in newest):
                # Changed too recently: an unchanged mtime could not prove freshness later.
                self.discard()
                return False
            # Equal strings written as one object: marshal stores the others as references,
            # and a warm start decodes hundreds of identical declaration values once.
            same: dict[str | None, str | None] = {}

            def rows(records: tuple[EntryPointRecord, ...]) -> list[tuple[str | None, ...]]:
                return [_record_to_tuple(record, same) for record in records]

            payload = marshal.dumps(
                {
                    "format": FORMAT,
                    "interpreter": _interpreter(),
                    "group": self.group,
                    "path": self.key,
                    "files": file_key,
                    "read": read_key,
                    "entry_points": rows(result.entry_points),
                    "problems": [_problem_to_tuple(problem) for problem in result.problems],
                    "sources": list(result.sources),
                    "watched": list(result.watched),
                    "shadowed": rows(result.shadowed),
                    "declarations": rows(result.declarations),
                }
            )
            data = MAGIC + len(payload).to_bytes(_LENGTH_BYTES, "little") + payload
            fd = self._fd
            assert fd is not None
            while data:
                data = data[os.write(fd, data) :]
            self._fd = None
            os.close(fd)
            os.replace(
                self.folder.name(self.temporary),
                self.folder.name(self.target),
                src_dir_fd=self.folder.fd,
                dst_dir_fd=self.folder.fd,
            )
        except Exception:
            self.discard()
            return False
        self.folder.close()
        return True

    def discard(self) -> None:
        """Remove the temporary file; nothing is written."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        try:
            os.unlink(self.folder.name(self.temporary), dir_fd=self.folder.fd)
        except OSError:
            pass
        self.folder.close()


def _create_temporary(folder: _Folder, target: str) -> tuple[str, int] | None:
    """A new temporary file next to ``target``: never an existing file, never through a link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC | _O_BINARY
    for suffix in ("", f".{os.urandom(8).hex()}"):
        temporary = f"{target}.{os.getpid()}.{threading.get_ident()}{suffix}.tmp"
        try:
            return temporary, os.open(folder.name(temporary), flags, 0o600, dir_fd=folder.fd)
        except FileExistsError:
            continue  # left over, or planted: never written through; try another name
        except OSError:
            return None
    return None


def begin(group: str, search_path: list[str]) -> PendingWrite | None:
    """Snapshot the key and create the temporary file *before* scanning, or ``None``.

    The temporary file's creation time is the file system's "now" before the scan; it is what
    :meth:`PendingWrite.commit` compares the key's mtimes with.
    """
    key = _path_key(search_path)
    folder = _open_folder(cache_dir(), create=True)
    if folder is None:
        return None  # unwritable, or not to be trusted: just do without
    created = _create_temporary(folder, _file_name(group))
    if created is None:
        folder.close()
        return None
    temporary, fd = created
    try:
        return PendingWrite(group, folder, _file_name(group), temporary, fd, key)
    except BaseException:
        os.close(fd)
        folder.close()
        raise


# -- the payload: plain tuples of str / None, checked on the way back in ----------------------


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {type(value).__name__}")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _record_to_tuple(
    record: EntryPointRecord, same: dict[str | None, str | None]
) -> tuple[str | None, ...]:
    # Each field as the first equal string seen (``same``), for marshal's references.
    return tuple(same.setdefault(field, field) for field in record)


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
