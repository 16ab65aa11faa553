"""How many times a delivery started on this machine: a record that outlives a killed process.

A message's ``retries`` header is written by whoever wrote the message, and a run whose pool
process is killed never gets to say it happened, so neither can count attempts. hookwire keeps
its own count instead: before a receiver runs, the process running it appends one byte to the
file named after the delivery id, in a folder only the worker's user can use, and the file's
size is the number of runs started. The byte is written before the receiver can do anything,
so a process killed mid-run has still counted its run (written, not synced: the count
outlives any process, not a power cut, which is all it is for); the next delivery of that message (a
retry or a redelivery) sees it. ``O_APPEND`` writes of one byte do not overwrite each other, so
workers of the same host on one machine share the count safely. The file is removed when the
delivery ends (the receiver returned, or failed for good); files of deliveries that never came
back are removed after :data:`KEEP_FOR` seconds.
"""

from __future__ import annotations

import os
import re
import stat
import time
from pathlib import Path

__all__ = ["KEEP_FOR", "AttemptRecord", "state_folder"]

#: How long a record of a delivery that never came back is kept, in seconds (a week).
KEEP_FOR = 7 * 24 * 3600

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def state_folder(host_name: str) -> Path:
    """Where a worker of ``host_name`` keeps its records: ``$XDG_STATE_HOME/hookwire/worker/
    <host>/deliveries`` (``~/.local/state`` when unset; ``%LOCALAPPDATA%`` on Windows)."""
    base = os.environ.get("XDG_STATE_HOME") or (
        os.environ.get("LOCALAPPDATA") if os.name == "nt" else None
    )
    root = Path(base) if base else Path.home() / ".local" / "state"
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", host_name) or "host"
    return root / "hookwire" / "worker" / safe / "deliveries"


class AttemptRecord:
    """The runs started per delivery id, one file each in ``folder`` (created 0700).

    Delivery ids are checked by the worker before they get here (letters, digits, ``_`` and
    ``-`` only), so a file name never leaves the folder.

    :raises OSError: the folder cannot be created, or it is not a folder of this user that
        only this user can write to.
    """

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        status = os.lstat(folder)
        if not stat.S_ISDIR(status.st_mode):
            raise OSError(f"{folder} is not a folder")
        if hasattr(os, "getuid") and status.st_uid != os.getuid():
            raise OSError(f"{folder} belongs to user id {status.st_uid}, not to this user")
        if status.st_mode & 0o077:
            os.chmod(folder, 0o700)
        self.folder = folder

    def start(self, delivery_id: str) -> int:
        """Count one more run of ``delivery_id``; return how many have started, this one too."""
        path = self.folder / delivery_id
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _O_NOFOLLOW | _O_CLOEXEC, 0o600)
        try:
            os.write(fd, b".")
            return max(1, os.fstat(fd).st_size)
        finally:
            os.close(fd)

    def forget(self, delivery_id: str) -> None:
        """The delivery ended: remove its record (a record that cannot be removed is left to
        :meth:`sweep`)."""
        try:
            os.unlink(self.folder / delivery_id)
        except OSError:
            pass

    def sweep(self, now: float | None = None) -> int:
        """Remove records older than :data:`KEEP_FOR`; return how many were removed."""
        limit = (time.time() if now is None else now) - KEEP_FOR
        removed = 0
        with os.scandir(self.folder) as entries:
            for entry in entries:
                try:
                    if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < limit:
                        os.unlink(entry.path)
                        removed += 1
                except OSError:
                    continue
        return removed
