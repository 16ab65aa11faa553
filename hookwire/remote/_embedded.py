"""The embedded broker: a kombu transport over one private folder, at least once on one machine.

Every process of one host on one machine (``hookwire run``, ``hookwire worker``) meets in the
host's broker folder. Its layout (every folder ``0700``, every file ``0600``)::

    incoming/                     messages being written, never read
    queues/<queue>/<name>.msg     messages ready to be taken
    taken/<owner>/<queue>/<name>  messages a live consumer took and has not acknowledged
    owners/<owner>.lock           held (``flock``) by that consumer for as long as it lives

A message is written whole under ``incoming/`` and renamed into its queue, so a reader never
sees half of one. Taking one renames it into the consumer's own ``taken/`` folder (only one
consumer wins a rename), acknowledging deletes it, rejecting it or closing the channel renames
it back. A consumer that died (its lock is free again) holds nothing: the next consumer renames
what it had taken back into the queues. A name ends in ``.<n>.msg`` where ``n`` counts the times
the message was handed back, so a redelivered message says so. Nothing is ever read or written
outside the folder.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import sys
import threading
import time
import uuid
import weakref
from collections import deque
from pathlib import Path
from queue import Empty
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import virtual
from kombu.utils.json import dumps

__all__ = ["TRANSPORT_NAME", "BrokerFolderError", "Transport", "prepare_folder", "worker_stopping"]

logger = logging.getLogger("hookwire.remote")

#: The URL scheme kombu resolves to this transport (registered by ``hookwire.remote._broker``).
TRANSPORT_NAME = "hookwire"

#: Queue names become folder names: only characters that cannot leave the folder.
_QUEUE_NAME = re.compile(r"\A[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}\Z")
#: ``<ns since the epoch, 20 digits>-<uuid4 hex>.<times handed back>.msg``
_MESSAGE_NAME = re.compile(r"\A(\d{20}-[0-9a-f]{32})\.(\d{1,9})\.msg\Z")
_OWNER_NAME = re.compile(r"\A[0-9a-f]{32}\Z")
_FOLDERS = ("incoming", "queues", "taken", "owners")
#: How often a consumer looks for messages held by consumers that died, in seconds.
RESTORE_INTERVAL = 1.0
#: A partial message this old was left by a sender killed while writing it, in seconds: no
#: live sender takes that long to write one, and its rename would fail (a failed send, never a
#: false "dispatched") if it did.
STALE_PART_AGE = 3600.0

if sys.platform == "win32":  # pragma: no cover
    import msvcrt
else:
    import fcntl


class BrokerFolderError(ChannelError):  # type: ignore[misc]
    """The broker folder cannot be used: it names the folder and the cause."""


def _error(folder: Path, doing: str, exc: OSError) -> BrokerFolderError:
    cause = exc.strerror or type(exc).__name__
    return BrokerFolderError(f"the broker folder {folder} {doing}: {cause}")


def prepare_folder(folder: Path) -> Path:
    """Create ``folder`` and its sub-folders (``0700``) and check that they can be written.

    :raises BrokerFolderError: the folder cannot be created or written (a read-only file
        system, a missing permission), naming it and the cause.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkdir's mode is reduced by the umask and ignored for a folder that exists: set it.
        if folder.stat().st_mode & 0o077:
            folder.chmod(0o700)
        for name in _FOLDERS:
            (folder / name).mkdir(exist_ok=True, mode=0o700)
    except OSError as exc:
        raise _error(folder, "cannot be created", exc) from exc
    for path in (folder, *(folder / name for name in _FOLDERS)):
        # A read-only file system refuses W_OK even to root; mkdir(exist_ok=True) does not.
        if not os.access(path, os.W_OK | os.X_OK):
            reason = "a read-only file system" if _read_only(path) else "permission denied"
            raise BrokerFolderError(f"the broker folder {folder} cannot be written: {reason}")
    return folder


def remove_stale_parts(folder: Path, now: float | None = None) -> int:
    """Delete the partial messages under ``folder/incoming`` older than ``STALE_PART_AGE``
    (left by senders killed while writing); return how many."""
    incoming = folder / "incoming"
    limit = (time.time() if now is None else now) - STALE_PART_AGE
    removed = 0
    try:
        names = os.listdir(incoming)
    except OSError:
        return 0
    for name in names:
        if not name.endswith(".part"):
            continue
        path = incoming / name
        try:
            if os.lstat(path).st_mtime < limit:
                path.unlink()
                removed += 1
        except OSError:
            pass  # gone already, or another consumer's sweep took it
    return removed


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # pragma: no cover - no statvfs (Windows)
        return False


class _OwnerLock:
    """An exclusive lock on ``owners/<owner>.lock``, released by the system when the process
    dies, however it dies."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def try_acquire(self) -> bool:
        try:
            if sys.platform == "win32":  # pragma: no cover
                msvcrt.locking(self.fd, msvcrt.LK_NBLCK, 1)
            else:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)


# Locks of consumers of this process. A forked child (a prefork pool process) inherits their
# descriptors, and a lock lives as long as any copy is open: the child closes its copies, so a
# dead consumer's lock is free even while pool processes it forked still run.
_held_locks: weakref.WeakSet[_OwnerLock] = weakref.WeakSet()


def _close_inherited_locks() -> None:
    for lock in list(_held_locks):
        try:
            lock.close()
        except OSError:  # pragma: no cover - already closed
            pass
    _held_locks.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_inherited_locks)


class QoS(virtual.QoS):
    """kombu's bookkeeping of delivered messages; acknowledging also deletes the message."""

    channel: Channel

    def ack(self, delivery_tag: str) -> None:
        self.channel.settle(delivery_tag, requeue=False)
        super().ack(delivery_tag)  # type: ignore[no-untyped-call]


class Channel(virtual.Channel):
    """One channel over the broker folder (see the module docstring for the layout)."""

    QoS = QoS
    supports_fanout = False
    do_restore = True

    def __init__(self, connection: Any, **kwargs: Any) -> None:
        options = connection.client.transport_options
        self.folder = prepare_folder(Path(options["folder"]))
        self._owner: str | None = None
        self._lock: _OwnerLock | None = None
        self._taken: dict[str, tuple[Path, str, str, int]] = {}
        self._taken_lock = threading.Lock()
        self._listed: dict[str, deque[str]] = {}
        self._made: set[str] = set()
        self._made_taken: set[str] = set()
        self._next_restore = 0.0
        self._pid = os.getpid()
        super().__init__(connection, **kwargs)  # type: ignore[no-untyped-call]

    # -- publishing ---------------------------------------------------------------------------

    def _queue_folder(self, queue: str) -> Path:
        if not isinstance(queue, str) or not _QUEUE_NAME.match(queue):
            raise ChannelError(f"invalid queue name for the embedded broker: {queue!r}")
        folder = self.folder / "queues" / queue
        if queue not in self._made:
            try:
                folder.mkdir(exist_ok=True, mode=0o700)
            except OSError as exc:
                raise _error(self.folder, f"cannot hold queue {queue!r}", exc) from exc
            self._made.add(queue)
        return folder

    def _put(self, queue: str, message: Any, **kwargs: Any) -> None:
        data = dumps(message).encode("utf-8")  # type: ignore[no-untyped-call]
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex}.0.msg"
        self._write(self._queue_folder(queue) / name, data)

    def _write(self, destination: Path, data: bytes) -> None:
        """Write ``data`` whole under ``incoming/``, then rename it to ``destination``."""
        partial = self.folder / "incoming" / f"{uuid.uuid4().hex}.part"
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise _error(self.folder, "cannot take a message", exc) from exc
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.rename(partial, destination)
        except OSError as exc:
            # A full disk or a failing device: nothing half-written stays behind, and the send
            # fails instead of reporting a message that no consumer could read.
            try:
                os.unlink(partial)
            except OSError:
                pass
            raise _error(self.folder, "cannot take a message", exc) from exc

    def _lookup(self, exchange: str, routing_key: str, default: Any = None) -> list[str]:
        # Bindings live in each process's memory only, so a process that did not declare a
        # queue would find no route. hookwire's exchanges are direct and named after their
        # queue: when nothing is bound, the routing key is the queue.
        try:
            table = self.get_table(exchange)  # type: ignore[no-untyped-call]
            kind = self.typeof(exchange)  # type: ignore[no-untyped-call]
            found = kind.lookup(table, exchange, routing_key, None)
        except KeyError:
            found = []
        return list(found) or [routing_key or exchange]

    # -- consuming ----------------------------------------------------------------------------

    def _own(self) -> str:
        """This channel's owner name, its lock held, its ``taken/`` folder created after."""
        if self._owner is None:
            owner = uuid.uuid4().hex
            try:
                lock = _OwnerLock(self.folder / "owners" / f"{owner}.lock")
                if not lock.try_acquire():  # pragma: no cover - a fresh random name
                    lock.close()
                    raise BlockingIOError(errno.EWOULDBLOCK, "owner lock taken")
                _held_locks.add(lock)
                # Only after the lock is held: a folder in taken/ always has a live lock or a
                # free one, never a lock about to be taken.
                (self.folder / "taken" / owner).mkdir(mode=0o700)
            except OSError as exc:
                raise _error(self.folder, "cannot take messages", exc) from exc
            self._owner, self._lock = owner, lock
        return self._owner

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        owner = self._own()
        now = time.monotonic()
        if now >= self._next_restore:
            self._next_restore = now + RESTORE_INTERVAL
            self.restore_dead_owners()
        source = self._queue_folder(queue)
        listed = self._listed.get(queue)
        if not listed:
            # Listing once and taking names in order until they run out keeps a long queue
            # linear to drain; a name another consumer took meanwhile is simply skipped.
            try:
                listed = deque(sorted(n for n in os.listdir(source) if n.endswith(".msg")))
            except OSError as exc:
                raise _error(self.folder, f"cannot list queue {queue!r}", exc) from exc
            self._listed[queue] = listed
        taken_folder = self.folder / "taken" / owner / queue
        while listed:
            name = listed.popleft()
            match = _MESSAGE_NAME.match(name)
            if match is None:
                continue
            if queue not in self._made_taken:
                taken_folder.mkdir(exist_ok=True, mode=0o700)
                self._made_taken.add(queue)
            taken = taken_folder / name
            try:
                os.rename(source / name, taken)
            except FileNotFoundError:
                continue  # another consumer took it first
            except OSError as exc:
                raise _error(self.folder, f"cannot take from queue {queue!r}", exc) from exc
            handed_back = int(match.group(2))
            payload = self._read(taken, queue, redelivered=handed_back > 0)
            if payload is None:
                continue
            tag = payload["properties"]["delivery_tag"]
            with self._taken_lock:
                self._taken[tag] = (taken, queue, match.group(1), handed_back)
            return payload
        raise Empty()

    def _read(self, path: Path, queue: str, *, redelivered: bool) -> dict[str, Any] | None:
        """The message at ``path``, or ``None`` (logged, deleted) when it is not one."""
        try:
            with open(path, "rb") as file:
                data = file.read()
            # The standard decoder: kombu's would turn tagged dicts into other types.
            payload = json.loads(data)
            properties = payload["properties"]
            if not (
                isinstance(payload.get("body"), str)
                and isinstance(properties["delivery_tag"], str)
                and isinstance(properties["delivery_info"], dict)
                and isinstance(payload.get("headers", {}), dict)
            ):
                raise TypeError("not a kombu message")
        except Exception as exc:
            # Anyone who can write to the folder can leave a file here: it is dropped, not
            # handed to the worker to choke on.
            logger.error(
                "dropped an unreadable message file %s in queue %s of the broker folder %s: %s",
                path.name,
                queue,
                self.folder,
                type(exc).__name__,
            )
            try:
                path.unlink()
            except OSError:
                pass
            return None
        if redelivered:
            properties["delivery_info"]["redelivered"] = True
        return payload  # type: ignore[no-any-return]

    def settle(self, delivery_tag: str, *, requeue: bool) -> None:
        """Delete a message taken by this channel, or put it back into its queue."""
        if self._pid != os.getpid():
            return  # a forked child's copy of the channel: the messages are its parent's
        with self._taken_lock:
            entry = self._taken.pop(delivery_tag, None)
        if entry is None:
            return
        path, queue, stem, handed_back = entry
        try:
            if requeue:
                os.rename(path, self.folder / "queues" / queue / f"{stem}.{handed_back + 1}.msg")
            else:
                path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            # The message stays in taken/: it is handed back when this consumer is gone.
            logger.warning(
                "cannot %s message %s: %s",
                "requeue" if requeue else "delete",
                path,
                exc.strerror,
            )

    def _restore(self, message: Any) -> None:
        self.settle(message.delivery_tag, requeue=True)

    def restore_dead_owners(self) -> int:
        """Put back into their queues the messages of consumers that died; how many."""
        restored = 0
        remove_stale_parts(self.folder)
        taken_root = self.folder / "taken"
        try:
            owners = os.listdir(taken_root)
        except OSError:
            return 0
        for owner in owners:
            if owner == self._owner or not _OWNER_NAME.match(owner):
                continue
            try:
                lock = _OwnerLock(self.folder / "owners" / f"{owner}.lock")
            except OSError:
                continue
            try:
                if lock.try_acquire():
                    restored += self._restore_owner(taken_root / owner)
                    try:
                        lock.path.unlink()
                    except OSError:
                        pass
            finally:
                lock.close()
        if restored:
            logger.warning(
                "handed back %d message(s) that a worker which died had taken (broker folder %s)",
                restored,
                self.folder,
            )
        return restored

    def _restore_owner(self, folder: Path) -> int:
        restored = 0
        try:
            queues = os.listdir(folder)
        except FileNotFoundError:
            return 0
        for queue in queues:
            if not _QUEUE_NAME.match(queue):
                continue
            for name in os.listdir(folder / queue):
                match = _MESSAGE_NAME.match(name)
                if match is None:
                    continue
                handed_back = int(match.group(2)) + 1
                target = self._queue_folder(queue) / f"{match.group(1)}.{handed_back}.msg"
                try:
                    os.rename(folder / queue / name, target)
                    restored += 1
                except FileNotFoundError:
                    pass
            try:
                os.rmdir(folder / queue)
            except OSError:
                pass
        try:
            os.rmdir(folder)
        except OSError:
            pass
        return restored

    def close(self) -> None:
        if self._pid != os.getpid():
            self.closed = True
            return  # a forked child's copy: the parent still holds its messages
        was_closed = self.closed
        super().close()  # type: ignore[no-untyped-call]  # hands back what this channel took and did not acknowledge
        if was_closed or self._owner is None:
            return
        lock, self._lock = self._lock, None
        owner, self._owner = self._owner, None
        # Whatever could not be handed back above is retried here, or else by the next
        # consumer once this lock is free.
        self._restore_owner(self.folder / "taken" / owner)
        if lock is not None:
            try:
                lock.path.unlink()
            except OSError:
                pass
            _held_locks.discard(lock)
            lock.close()

    # -- the rest of a virtual channel --------------------------------------------------------

    def _new_queue(self, queue: str, **kwargs: Any) -> None:
        self._queue_folder(queue)

    def _has_queue(self, queue: str, **kwargs: Any) -> bool:
        return (self.folder / "queues" / queue).is_dir()

    def _size(self, queue: str) -> int:
        try:
            return sum(1 for n in os.listdir(self._queue_folder(queue)) if _MESSAGE_NAME.match(n))
        except OSError:
            return 0

    def _purge(self, queue: str) -> int:
        removed = 0
        folder = self._queue_folder(queue)
        for name in os.listdir(folder):
            if _MESSAGE_NAME.match(name):
                try:
                    os.unlink(folder / name)
                    removed += 1
                except FileNotFoundError:
                    pass
        self._listed.pop(queue, None)
        return removed

    def _delete(self, queue: str, *args: Any, **kwargs: Any) -> None:
        self._purge(queue)


#: True once the worker of this process has begun to shut down (see :func:`worker_stopping`).
_worker_stopping = False


def worker_stopping(stopping: bool) -> None:
    """Say that the worker of this process has begun to shut down (or, with ``False``, that
    one is starting).

    A consumer waiting for messages then stops waiting at its next poll. Celery's loop for a
    transport like this one waits up to two seconds for messages before it looks at a shutdown
    request, then waits once more before it acts on it: a stopped worker would take up to four
    seconds to start shutting down. Safe to call from a signal handler (one assignment).
    """
    global _worker_stopping
    _worker_stopping = stopping


class Transport(virtual.Transport):
    """kombu transport ``hookwire://`` over the folder in the ``folder`` transport option."""

    Channel = Channel
    driver_type = "filesystem"
    driver_name = "hookwire"
    polling_interval = 0.1
    # A folder that cannot be written stays so for longer than a send may wait: fail at once.
    recoverable_connection_errors: tuple[type[BaseException], ...] = ()
    recoverable_channel_errors: tuple[type[BaseException], ...] = ()
    connection_errors = (BrokerFolderError,)
    channel_errors = (ChannelError,)

    implements = virtual.Transport.implements.extend(
        asynchronous=False, exchange_type=frozenset(["direct"])
    )

    #: While messages keep coming (one delivered within ``BUSY_WINDOW`` seconds), the folder is
    #: polled every ``BUSY_POLLING_INTERVAL`` seconds instead of ``polling_interval``: with one
    #: message in flight per pool process, each message would otherwise wait a whole idle
    #: poll after the previous one was acknowledged (bench_remote.py, "embedded" rows).
    BUSY_POLLING_INTERVAL = 0.002
    BUSY_WINDOW = 1.0

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)  # type: ignore[no-untyped-call]
        self._last_delivery = -self.BUSY_WINDOW

    def drain_events(self, connection: Any, timeout: Any = None) -> None:  # type: ignore[override]
        started = time.monotonic()
        cycle: Any = self.cycle
        while True:
            if _worker_stopping:
                # Nothing more is taken: what is still queued stays for the next worker.
                raise TimeoutError("the worker is shutting down")
            try:
                cycle.get(self._deliver, timeout=timeout)
            except Empty:
                now = time.monotonic()
                if timeout is not None and now - started >= timeout:
                    raise TimeoutError("no message") from None
                busy = now - self._last_delivery < self.BUSY_WINDOW
                interval = self.BUSY_POLLING_INTERVAL if busy else self.polling_interval
                if timeout is not None:
                    interval = min(interval, max(0.0, timeout - (now - started)))
                time.sleep(interval)
            else:
                self._last_delivery = time.monotonic()
                return

    def driver_version(self) -> str:
        return "1"
