"""The one hook for wrapping sends: ``muted()``, tracing and the test recorder compose in any
order, and leave the send methods exactly as they were once they are gone."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from hookwire import Signal
from hookwire._dispatch.tracing import SendTrace, install_tracer, remove_tracer
from hookwire.exceptions import RecursiveSendError
from hookwire.testing import SignalRecorder

PLAIN = {name: Signal.__dict__[name] for name in ("send", "send_robust", "asend", "asend_robust")}


def answer(**kwargs: Any) -> str:
    return "answer"


@contextmanager
def tracing(traces: list[SendTrace]) -> Iterator[None]:
    install_tracer(traces.append)
    try:
        yield
    finally:
        remove_tracer()


def _assert_untouched(signal: Signal) -> None:
    assert {name: Signal.__dict__[name] for name in PLAIN} == PLAIN
    assert not set(PLAIN) & set(vars(signal))


@pytest.mark.parametrize("order", list(itertools.permutations(["mute", "record", "trace"])))
def test_mute_record_and_trace_compose_whatever_the_order_they_start_in(
    order: tuple[str, ...],
) -> None:
    signal = Signal(name="wrapped")
    signal.connect(answer)
    traces: list[SendTrace] = []
    recorder = SignalRecorder([signal])
    makers: dict[str, Callable[[], AbstractContextManager[Any]]] = {
        "mute": signal.muted,
        "record": lambda: recorder,
        "trace": lambda: tracing(traces),
    }
    blocks = [makers[name]() for name in order]
    for block in blocks:
        block.__enter__()
    try:
        # A muted send calls nobody: nothing is recorded or traced, whatever came first.
        assert signal.send(sender=None) == []
        assert signal.send_robust(sender=None) == []
    finally:
        for block in reversed(blocks):
            block.__exit__(None, None, None)
    assert (recorder.calls, traces) == ([], [])
    assert signal.send(sender=None) == [(answer, "answer")]
    _assert_untouched(signal)


@pytest.mark.parametrize("trace_first", [True, False])
def test_the_recorder_sees_the_real_receivers_of_a_traced_send(trace_first: bool) -> None:
    signal = Signal(name="wrapped")
    signal.connect(answer)
    traces: list[SendTrace] = []
    recorder = SignalRecorder([signal])
    blocks: list[AbstractContextManager[Any]] = [tracing(traces), recorder]
    if not trace_first:
        blocks.reverse()
    for block in blocks:
        block.__enter__()
    try:
        assert signal.send(sender=None, value=1) == [(answer, "answer")]
    finally:
        # Stopped in the order they started: no wrapper may depend on another's lifetime.
        for block in blocks:
            block.__exit__(None, None, None)
    [call] = recorder.calls
    assert call.responses == [(answer, "answer")]
    [trace] = traces
    assert [item.info.qualname for item in trace.calls] == ["answer"]
    _assert_untouched(signal)


@pytest.mark.usefixtures("collector_paused")
def test_runaway_recursion_is_found_with_wrappers_between_the_sends() -> None:
    """Recursion detection marks the functions that call receivers; it does not look for
    names, so the tracer's and the recorder's frames in between change nothing."""
    signal = Signal(name="looping")

    def again(sender: object, **kwargs: Any) -> None:
        signal.send(sender)

    signal.connect(again)
    traces: list[SendTrace] = []
    with tracing(traces), SignalRecorder([signal]), pytest.raises(RecursiveSendError) as info:
        signal.send(None)
    assert any("again" in name for name in info.value.chain)
    _assert_untouched(signal)


@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
def test_a_wrapper_failing_as_the_send_ends_is_what_the_outer_ones_and_the_sender_see(
    method: str,
) -> None:
    """The tracer's callback raising replaces the send's result: the recorder (outside it)
    records that exception, and the sender gets it."""
    signal = Signal(name="wrapped")
    signal.connect(answer)

    def broken_callback(trace: SendTrace) -> None:
        raise LookupError("tracer callback broke")

    def send() -> None:
        sent = getattr(signal, method)(None)
        if asyncio.iscoroutine(sent):
            asyncio.run(sent)

    recorder = SignalRecorder([signal])
    install_tracer(broken_callback)
    try:
        with recorder, pytest.raises(LookupError, match="tracer callback broke"):
            send()
    finally:
        remove_tracer()
    [call] = recorder.calls
    assert isinstance(call.exception, LookupError)
    assert call.responses is None
    _assert_untouched(signal)
