"""The receiver table: a plan is only ever stored for the registrations it was built from.

A plan for a sender is built on the first send after a change. These tests hold a builder
between "built" and "stored" while another thread changes the registrations, and run senders
on several threads against a connect/disconnect loop: no send that starts after
``disconnect()`` returned may call the receiver, and no send that starts after ``connect()``
returned may miss it.
"""

from __future__ import annotations

import gc
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


# -- plans built from the index by sender ----------------------------------------------------


class Owner:
    """An object some receivers listen to, one each."""


def _receiver(index: int) -> Any:
    def receive(sender: object, **kwargs: Any) -> int:
        return index

    return receive


@pytest.fixture
def counted_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many sends missed their plan and asked the table for one."""
    from hookwire._dispatch.table import ReceiverTable

    misses = [0]
    plan_for = ReceiverTable.plan_for

    def counting(self: ReceiverTable, sender: object) -> Any:
        misses[0] += 1
        return plan_for(self, sender)

    monkeypatch.setattr(ReceiverTable, "plan_for", counting)
    return misses


def test_more_senders_with_receivers_than_the_plan_limit_keep_their_plans(
    counted_builds: list[int],
) -> None:
    """800 senders, each with receivers of its own, sent from in turn: once each has sent,
    no send builds a plan again. Starting the plans afresh past 512 made every send build
    one, by a scan of all 8,000 registrations."""
    signal = Signal(name="many_owners")
    owners = [Owner() for _ in range(800)]
    receivers = [_receiver(index) for index in range(8_000)]
    for position in range(10):
        for index, owner in enumerate(owners):
            signal.connect(receivers[index * 10 + position], sender=owner)
    anyone = _receiver(-1)
    signal.connect(anyone)
    for owner in owners:
        signal.send(owner)
    counted_builds[0] = 0
    for index, owner in enumerate(owners):
        responses = signal.send(owner)
        expected = [*range(index * 10, index * 10 + 10), -1]
        assert [response for _, response in responses] == expected
    assert counted_builds[0] == 0


def test_plans_of_senders_without_receivers_of_their_own_stay_bounded() -> None:
    """A million short-lived senders must not grow the plans: those of senders without
    receivers of their own are at most 512, and churning through them never drops the plans
    of senders that have receivers."""
    signal = Signal(name="churn")
    owners = [Owner() for _ in range(600)]
    for index, owner in enumerate(owners):
        signal.connect(_receiver(index), sender=owner, weak=False)
    anyone = _receiver(-1)
    signal.connect(anyone)
    for owner in owners:
        signal.send(owner)
    for _ in range(5_000):
        assert signal.send(object()) == [(anyone, -1)]
    plans = signal.sender_receivers_cache
    assert all(id(owner) in plans for owner in owners)
    assert len(plans) <= len(owners) + 512


def test_a_plan_keeps_connect_order_across_the_sender_and_any_sender_receivers() -> None:
    signal = Signal(name="merged")
    owner, other = Owner(), Owner()
    receivers = [_receiver(index) for index in range(12)]
    targets = [owner, None, other, owner, None, None, owner, other, None, owner, None, owner]
    for receiver, target in zip(receivers, targets, strict=True):
        signal.connect(receiver, sender=target)
    sent = [response for _, response in signal.send(owner)]
    assert sent == [index for index, target in enumerate(targets) if target in (owner, None)]
    assert signal.disconnect(receivers[3], sender=owner)
    assert signal.disconnect(receivers[4])
    sent = [response for _, response in signal.send(owner)]
    assert sent == [0, 1, 5, 6, 8, 9, 10, 11]
    assert [response for _, response in signal.send(other)] == [1, 2, 5, 7, 8, 10]
    assert [response for _, response in signal.send(object())] == [1, 5, 8, 10]
    snapshot = signal._snapshot_state()
    signal.disconnect(receivers[9], sender=owner)
    assert 9 not in [response for _, response in signal.send(owner)]
    signal._restore_state(snapshot)
    assert 9 in [response for _, response in signal.send(owner)]


def test_a_dead_senders_receivers_leave_the_index() -> None:
    signal = Signal(name="dying_owner")
    anyone = _receiver(-1)
    signal.connect(anyone)
    owner, own = Owner(), _receiver(1)
    signal.connect(own, sender=owner)
    assert len(signal.send(owner)) == 2
    dead = id(owner)
    del owner
    gc.collect()
    assert dead not in signal.sender_receivers_cache
    assert all(row[2] is None for row in signal.receivers)  # only the any-sender one left
