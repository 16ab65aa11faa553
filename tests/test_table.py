"""The receiver table: a plan is only ever stored for the registrations it was built from.

A plan for a sender is built on the first send after a change. These tests hold a builder
between "built" and "stored" while another thread changes the registrations, and run senders
on several threads against a connect/disconnect loop: no send that starts after
``disconnect()`` returned may call the receiver, and no send that starts after ``connect()``
returned may miss it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from hookwire import Signal


class PauseAfterRelease:
    """Wraps a signal's lock; the armed thread stops right after its first release.

    That is the moment between building a plan under the lock and storing it, if a builder
    stores outside the lock.
    """

    def __init__(self, lock: Any) -> None:
        self._lock = lock
        self.armed: threading.Thread | None = None
        self.paused = threading.Event()
        self.resume = threading.Event()

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        return bool(self._lock.acquire(*args, **kwargs))

    def release(self) -> None:
        self._lock.release()
        if self.armed is threading.current_thread():
            self.armed = None
            self.paused.set()
            assert self.resume.wait(10), "the test never resumed the builder"

    def __enter__(self) -> PauseAfterRelease:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _pause_builders_of(signal: Signal) -> PauseAfterRelease:
    # The lock lives with the signal's state: on the table that owns it.
    owner: Any = getattr(signal, "_table", signal)
    pausing = PauseAfterRelease(owner.lock)
    owner.lock = pausing
    return pausing


class Sender:
    pass


def on_event(**kwargs: Any) -> str:
    return "called"


def other_event(**kwargs: Any) -> str:
    return "other"


def _build_paused_while(signal: Signal, sender: object, change: Any) -> list[Any]:
    """Send on a thread that pauses between building and storing, run ``change`` meanwhile;
    return what that send returned."""
    pausing = _pause_builders_of(signal)
    result: list[Any] = []
    builder = threading.Thread(target=lambda: result.extend(signal.send(sender)))
    pausing.armed = builder
    builder.start()
    try:
        assert pausing.paused.wait(10), "the builder never released the lock"
        change()
    finally:
        pausing.resume.set()
        builder.join(10)
    assert not builder.is_alive()
    return result


def test_a_disconnect_while_a_plan_is_being_stored_is_not_undone_by_it() -> None:
    signal = Signal()
    signal.connect(on_event)
    removed: list[bool | None] = []

    _build_paused_while(signal, Sender, lambda: removed.append(signal.disconnect(on_event)))

    assert removed == [True]
    assert signal.send(Sender) == []
    assert signal.has_listeners(Sender) is False


def test_a_connect_while_a_plan_is_being_stored_is_seen_by_the_next_send() -> None:
    signal = Signal()
    signal.connect(on_event)

    first = _build_paused_while(signal, Sender, lambda: signal.connect(other_event))

    assert first == [(on_event, "called")]  # it started before the connect
    assert signal.send(Sender) == [(on_event, "called"), (other_event, "other")]


@pytest.mark.slow
def test_sends_on_three_threads_never_see_a_stale_plan() -> None:
    """3 threads keep sending to 64 senders while this thread loops connect -> send ->
    disconnect -> send: the first send always calls the receiver, the second never does."""
    signal = Signal()
    senders = [type(f"Sender{index}", (), {}) for index in range(64)]
    stop = threading.Event()
    errors: list[BaseException] = []

    def keep_sending(offset: int) -> None:
        try:
            index = offset
            while not stop.is_set():
                signal.send(senders[index % 64], value=index)
                index += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def receiver(**kwargs: Any) -> str:
        return "r"

    threads = [threading.Thread(target=keep_sending, args=(offset * 21,)) for offset in range(3)]
    for thread in threads:
        thread.start()
    missed = called_after_disconnect = iterations = 0
    deadline = time.monotonic() + 3.0
    try:
        while iterations < 200_000 and time.monotonic() < deadline:
            sender = senders[iterations % 64]
            signal.connect(receiver)
            if signal.send(sender, value=-1) != [(receiver, "r")]:
                missed += 1
            assert signal.disconnect(receiver) is True
            if signal.send(sender, value=-1) != []:
                called_after_disconnect += 1
            iterations += 1
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    assert errors == []
    assert iterations > 1000
    assert (called_after_disconnect, missed) == (0, 0), f"in {iterations} iterations"
