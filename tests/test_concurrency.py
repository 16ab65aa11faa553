"""Thread safety and a stateful property test of ``Signal`` against a reference model."""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from hookwire import Signal

# -- a bounded soak test ----------------------------------------------------------------


class _Clock:
    """A strictly increasing sequence shared by every thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value = 0

    def tick(self) -> int:
        with self._lock:
            self._value += 1
            return self._value


def test_eight_threads_connecting_disconnecting_and_sending_keep_every_invariant() -> None:
    signal = Signal()
    clock = _Clock()
    disconnected_at: dict[tuple[int, int], int] = {}
    violations: list[str] = []
    errors: list[BaseException] = []
    calls = [0]
    stop_at = time.monotonic() + 1.5

    def make_receiver(thread: int, index: int) -> Any:
        key = (thread, index)

        def receiver(started: int, **kwargs: Any) -> None:
            calls[0] += 1
            gone = disconnected_at.get(key)
            if gone is not None and gone < started:
                violations.append(f"{key} called by a send started after its disconnect")

        return receiver

    def worker(thread: int) -> None:
        try:
            index = 0
            while time.monotonic() < stop_at:
                receiver = make_receiver(thread, index)
                sender = None if index % 2 else Signal  # any-sender and filtered rows
                signal.connect(receiver, sender=sender, weak=index % 3 != 0)
                signal.send(sender, started=clock.tick())
                signal.send_robust(object(), started=clock.tick())
                if not signal.disconnect(receiver, sender=sender):
                    violations.append(f"{(thread, index)} could not be disconnected")
                disconnected_at[(thread, index)] = clock.tick()
                signal.send(Signal, started=clock.tick())
                index += 1
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert violations == []
    assert calls[0] > 0
    assert signal.receivers == []
    assert signal.send(Signal, started=clock.tick()) == []


def test_senders_never_block_on_a_writer_holding_the_lock_long() -> None:
    signal = Signal()

    def receiver(**kwargs: Any) -> str:
        return "ok"

    signal.connect(receiver)
    signal.send(None)  # the plan for this sender is cached
    results: list[Any] = []
    with signal.lock:
        sender_thread = threading.Thread(target=lambda: results.append(signal.send(None)))
        sender_thread.start()
        sender_thread.join(timeout=10)
        assert not sender_thread.is_alive()
    assert results == [[(receiver, "ok")]]


# -- stateful property test -------------------------------------------------------------


class Listener:
    def __init__(self, number: int) -> None:
        self.number = number

    def on_signal(self, **kwargs: Any) -> int:
        return self.number


SENDERS: list[Any] = [None, Listener, Signal, 42, "x"]


class SignalModel(RuleBasedStateMachine):
    """Random connect / disconnect / drop-reference / send against a list-of-rows model."""

    def __init__(self) -> None:
        super().__init__()
        self.signal = Signal()
        self.listeners: dict[int, Listener] = {}  # the references the test holds
        self.rows: list[tuple[int, int, bool]] = []  # (listener, sender index, weak)
        self.next_number = 0

    @rule()
    def new_listener(self) -> None:
        self.listeners[self.next_number] = Listener(self.next_number)
        self.next_number += 1

    @precondition(lambda self: bool(self.listeners))
    @rule(data=st.data(), sender=st.integers(0, len(SENDERS) - 1), weak=st.booleans())
    def connect(self, data: st.DataObject, sender: int, weak: bool) -> None:
        number = data.draw(st.sampled_from(sorted(self.listeners)))
        self.signal.connect(self.listeners[number].on_signal, sender=SENDERS[sender], weak=weak)
        if not any(row[:2] == (number, sender) for row in self.rows):
            self.rows.append((number, sender, weak))

    @precondition(lambda self: bool(self.listeners))
    @rule(data=st.data(), sender=st.integers(0, len(SENDERS) - 1))
    def disconnect(self, data: st.DataObject, sender: int) -> None:
        number = data.draw(st.sampled_from(sorted(self.listeners)))
        removed = self.signal.disconnect(self.listeners[number].on_signal, sender=SENDERS[sender])
        expected = any(row[:2] == (number, sender) for row in self.rows)
        assert removed is expected
        self.rows = [row for row in self.rows if row[:2] != (number, sender)]

    @precondition(lambda self: bool(self.listeners))
    @rule(data=st.data())
    def drop_reference(self, data: st.DataObject) -> None:
        number = data.draw(st.sampled_from(sorted(self.listeners)))
        del self.listeners[number]
        gc.collect()
        held_strongly = any(row[0] == number and not row[2] for row in self.rows)
        if not held_strongly:
            self.rows = [row for row in self.rows if row[0] != number]

    @rule(sender=st.integers(0, len(SENDERS) - 1))
    def send(self, sender: int) -> None:
        responses = self.signal.send(SENDERS[sender])
        expected = [number for number, s, _ in self.rows if s == 0 or s == sender]
        assert [response for _, response in responses] == expected

    @invariant()
    def receivers_match_the_model(self) -> None:
        assert len(self.signal.receivers) == len(self.rows)
        assert self.signal.has_listeners() is any(row[1] == 0 for row in self.rows)


TestSignalModel = SignalModel.TestCase
TestSignalModel.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
