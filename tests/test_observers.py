"""The public observer API: an observer added to one signal or to every signal is told of each
send, each receiver it calls and how the send ended; removing it leaves the plain send methods."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import warnings
from typing import Any

import pytest

import hookwire
from hookwire import ObservedSend, SendObserver, Signal, add_observer, observing, remove_observer
from hookwire.testing import SignalRecorder

SEND_METHODS = ("send", "send_robust", "asend", "asend_robust")
PLAIN = {name: Signal.__dict__[name] for name in SEND_METHODS}


def assert_plain(*signals: Signal) -> None:
    assert {name: Signal.__dict__[name] for name in SEND_METHODS} == PLAIN
    for signal in signals:
        assert not set(SEND_METHODS) & set(vars(signal))


def run(signal: Signal, method: str, sender: object = None, **named: Any) -> Any:
    sent = getattr(signal, method)(sender, **named)
    if asyncio.iscoroutine(sent):
        return asyncio.run(sent)
    return sent


class Journal(SendObserver):
    """Writes down every notification, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def send_started(self, send: ObservedSend) -> str:
        self.events.append(("started", send.signal, send.method, send.sender, dict(send.named)))
        return f"token-{len(self.events)}"

    def receiver_started(
        self, send: ObservedSend, token: Any, receiver: Any, concurrent: bool
    ) -> str:
        self.events.append(("receiver", token, send.receiver_name(receiver), concurrent))
        return "receiver-token"

    def receiver_ended(
        self,
        send: ObservedSend,
        token: Any,
        receiver: Any,
        receiver_token: Any,
        duration_ns: int,
        error: BaseException | None,
    ) -> None:
        assert duration_ns >= 0
        self.events.append(("receiver ended", token, receiver_token, type(error).__name__))

    def send_ended(
        self,
        send: ObservedSend,
        token: Any,
        responses: list[tuple[Any, Any]] | None,
        error: BaseException | None,
    ) -> None:
        self.events.append(("ended", token, responses, type(error).__name__))


def answer(**kwargs: Any) -> str:
    return "answer"


def broken(**kwargs: Any) -> None:
    raise LookupError("broken receiver")


@pytest.mark.parametrize("method", SEND_METHODS)
def test_an_observer_is_told_of_the_send_each_receiver_and_the_end(method: str) -> None:
    signal = Signal(name="observed")
    signal.connect(answer)
    journal = Journal()
    with observing(journal, signal):
        assert run(signal, method, "the sender", size=2) == [(answer, "answer")]
    name = f"{__name__}.answer"
    assert journal.events == [
        ("started", signal, method, "the sender", {"size": 2}),
        ("receiver", "token-1", name, False),
        ("receiver ended", "token-1", "receiver-token", "NoneType"),
        ("ended", "token-1", [(answer, "answer")], "NoneType"),
    ]
    assert_plain(signal)


@pytest.mark.parametrize("method", ["send_robust", "asend_robust"])
def test_a_failing_receiver_is_reported_under_the_robust_sends_too(method: str) -> None:
    signal = Signal(name="observed")
    signal.connect(broken)
    journal = Journal()
    with observing(journal, signal), warnings.catch_warnings():
        [(_, response)] = run(signal, method)
    assert isinstance(response, LookupError)
    assert ("receiver ended", "token-1", "receiver-token", "LookupError") in journal.events
    assert journal.events[-1][0] == "ended"
    assert journal.events[-1][3] == "NoneType"


@pytest.mark.parametrize("method", ["send", "asend"])
def test_a_send_that_raises_ends_with_its_error(method: str) -> None:
    signal = Signal(name="observed")
    signal.connect(broken)
    journal = Journal()
    with observing(journal, signal), pytest.raises(LookupError):
        run(signal, method)
    assert journal.events[-2][3] == "LookupError"
    assert journal.events[-1] == ("ended", "token-1", None, "LookupError")


def test_async_receivers_running_together_are_reported_as_concurrent() -> None:
    signal = Signal(name="observed")

    async def first(**kwargs: Any) -> int:
        return 1

    async def second(**kwargs: Any) -> int:
        return 2

    signal.connect(first)
    signal.connect(second)
    journal = Journal()
    with observing(journal, signal):
        assert [response for _, response in asyncio.run(signal.asend(None))] == [1, 2]
    concurrent = {event[2]: event[3] for event in journal.events if event[0] == "receiver"}
    assert set(concurrent.values()) == {True}
    assert len(concurrent) == 2


def test_an_observer_of_one_signal_leaves_the_others_plain() -> None:
    observed, other = Signal(name="observed"), Signal(name="other")
    journal = Journal()
    add_observer(journal, observed)
    try:
        assert "send" in vars(observed)
        assert_plain(other)
        other.send(None)
        observed.send(None)
    finally:
        remove_observer(journal, observed)
    assert [event[1] for event in journal.events if event[0] == "started"] == [observed]
    assert_plain(observed, other)


def test_an_observer_of_every_signal_sees_signals_created_afterwards() -> None:
    journal = Journal()
    with observing(journal):
        later = Signal(name="later")
        later.send(None)
    assert [event[1] for event in journal.events] == [later, "token-1"]
    assert_plain(later)


def test_an_observer_without_receiver_methods_is_not_told_of_receivers() -> None:
    class Counting(SendObserver):
        sends = 0

        def send_started(self, send: ObservedSend) -> None:
            Counting.sends += 1

    assert Counting.observes_receivers is False
    assert Journal.observes_receivers is True
    signal = Signal(name="observed")
    signal.connect(answer)
    with observing(Counting(), signal):
        signal.send(None)
    assert Counting.sends == 1


def test_observers_start_in_their_order_and_end_in_reverse() -> None:
    seen: list[str] = []

    def make(label: str, rank: int) -> SendObserver:
        class Ordered(SendObserver):
            order = rank

            def send_started(self, send: ObservedSend) -> None:
                seen.append(f"{label} started")

            def send_ended(self, *args: Any) -> None:
                seen.append(f"{label} ended")

        return Ordered()

    signal = Signal(name="observed")
    late, early = make("late", 90), make("early", 10)
    with observing(late, signal), observing(early):
        signal.send(None)
    assert seen == ["early started", "late started", "late ended", "early ended"]


def test_a_muted_signal_tells_no_observer() -> None:
    signal = Signal(name="observed")
    signal.connect(answer)
    journal = Journal()
    with observing(journal), signal.muted():
        assert signal.send(None) == []
    assert journal.events == []


def test_the_plugin_of_a_receiver_is_known_to_the_observer() -> None:
    from hookwire._dispatch.attribution import plugin_scope

    signal = Signal(name="observed")
    plugins: list[str | None] = []

    class Plugins(SendObserver):
        def receiver_started(self, send: ObservedSend, token: Any, receiver: Any, c: bool) -> None:
            plugins.append(send.plugin_of(receiver))

    def own(**kwargs: Any) -> None:
        return None

    with plugin_scope("pizzeria-sms", "ready"):
        signal.connect(own)
    signal.connect(answer)
    with observing(Plugins(), signal):
        signal.send(None)
    assert plugins == ["pizzeria-sms", None]


def test_the_recorder_and_the_tracer_are_observers_of_the_public_api() -> None:
    from hookwire._dispatch import tracing, wrappers

    signal = Signal(name="observed")
    with SignalRecorder([signal]):
        [(_, _, recording)] = wrappers._everywhere
    tracing.install_tracer(lambda trace: None)
    try:
        [(_, _, tracer)] = wrappers._everywhere
    finally:
        tracing.remove_tracer()
    assert isinstance(recording, SendObserver)
    assert isinstance(tracer, SendObserver)
    assert recording.order < SendObserver.order < tracer.order
    assert_plain(signal)


def test_observers_added_and_removed_from_many_threads_leave_the_plain_methods() -> None:
    signal = Signal(name="observed")
    signal.connect(answer)
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def churn() -> None:
        try:
            barrier.wait()
            for _ in range(200):
                observer = Journal()
                with observing(observer, signal), observing(observer):
                    assert signal.send(None) == [(answer, "answer")]
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=churn) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert_plain(signal)


def test_an_observer_setting_a_context_variable_around_a_sync_receiver_sees_it_inside() -> None:
    current: contextvars.ContextVar[str] = contextvars.ContextVar("current", default="none")
    seen: list[str] = []

    class Setting(SendObserver):
        def receiver_started(self, send: ObservedSend, token: Any, receiver: Any, c: bool) -> Any:
            return current.set(send.receiver_name(receiver))

        def receiver_ended(
            self,
            send: ObservedSend,
            token: Any,
            receiver: Any,
            reset: Any,
            duration_ns: int,
            error: BaseException | None,
        ) -> None:
            current.reset(reset)

    def looks(**kwargs: Any) -> None:
        seen.append(current.get())

    signal = Signal(name="observed")
    signal.connect(looks)
    with observing(Setting(), signal):
        signal.send(None)
        asyncio.run(signal.asend(None))
    assert seen == [f"{__name__}.{looks.__qualname__}"] * 2
    assert current.get() == "none"


def test_the_observer_api_is_exported_from_hookwire() -> None:
    assert hookwire.SendObserver.__module__ == "hookwire._dispatch.observers"
    assert hookwire.add_observer is add_observer
