"""Publishing threads: a send hands its publish to one and waits for it until its deadline.

Whatever the broker does (refuses, never answers, pauses its writes), the sending thread stops
waiting at the deadline; the publishing thread is left to finish, bounded by its own socket
timeouts. The hand-off is a queue and a lock released once the outcome is there: about 20 us
cheaper per send than a ``concurrent.futures`` executor (bench_remote.py, "publish" row), where
the whole publish to Redis costs about 300 us.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from queue import SimpleQueue
from typing import Generic, TypeVar

__all__ = ["Handoff", "submit"]

T = TypeVar("T")

#: Publishes that may be under way at once. A broker that hangs holds a thread until its
#: socket timeout; sends beyond this many wait in line, each still within its own deadline.
PUBLISHING_THREADS = 32


class Handoff(Generic[T]):
    """One piece of work handed to a publishing thread, and its outcome once there."""

    __slots__ = ("_done", "_future", "_guard", "error", "finished", "outcome", "work")

    def __init__(self, work: Callable[[], T]) -> None:
        self.work = work
        self.outcome: T | None = None
        self.error: BaseException | None = None
        self.finished = False
        self._done = threading.Lock()
        self._done.acquire()
        self._guard = threading.Lock()
        self._future: Future[T] | None = None

    def run(self) -> None:
        """Do the work (on a publishing thread) and tell whoever waits."""
        try:
            self.outcome = self.work()
        except BaseException as exc:  # handed to the waiting thread, which raises it
            self.error = exc
        with self._guard:
            self.finished = True
            future = self._future
        self._done.release()
        if future is not None:
            self._settle(future)

    def wait(self, timeout: float) -> T:
        """The outcome, waiting at most ``timeout`` seconds (one waiter only).

        :raises TimeoutError: it is not there in time.
        """
        if not self._done.acquire(timeout=max(0.0, timeout)):
            raise TimeoutError
        if self.error is not None:
            raise self.error
        return self.outcome  # type: ignore[return-value]

    def future(self) -> Future[T]:
        """A :class:`concurrent.futures.Future` of the outcome, for an event loop to await."""
        future: Future[T] = Future()
        with self._guard:
            self._future = future
            finished = self.finished
        if finished:
            self._settle(future)
        return future

    def _settle(self, future: Future[T]) -> None:
        if not future.set_running_or_notify_cancel():
            return  # the awaiting side stopped waiting
        if self.error is not None:
            future.set_exception(self.error)
        else:
            future.set_result(self.outcome)  # type: ignore[arg-type]


class _Threads:
    """Daemon threads taking hand-offs from one queue, started as needed up to a limit.

    Daemon threads: a publish that outlived its send must not hold up the interpreter's exit.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._jobs: SimpleQueue[Handoff[object]] = SimpleQueue()
        self._lock = threading.Lock()
        # Threads waiting for work that no submitted hand-off has claimed yet.
        self._idle = 0
        self._count = 0

    def submit(self, handoff: Handoff[object]) -> None:
        with self._lock:
            start = False
            if self._idle:
                self._idle -= 1
            elif self._count < self._limit:
                self._count += 1
                start = True
        self._jobs.put(handoff)
        if start:
            threading.Thread(target=self._serve, name="hookwire-publish", daemon=True).start()

    def _serve(self) -> None:
        while True:
            self._jobs.get().run()
            with self._lock:
                self._idle += 1


_threads = _Threads(PUBLISHING_THREADS)


def submit(work: Callable[[], T]) -> Handoff[T]:
    """Hand ``work`` to a publishing thread."""
    handoff = Handoff(work)
    _threads.submit(handoff)  # type: ignore[arg-type]
    return handoff


def _after_fork_in_child() -> None:
    # A forked child (a prefork pool process sending from a receiver) has none of the parent's
    # threads, but would count the parent's idle ones as able to take its work.
    global _threads
    _threads = _Threads(PUBLISHING_THREADS)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
