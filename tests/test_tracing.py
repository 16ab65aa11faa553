"""Tracing sends for ``hookwire run --trace``: timed calls while installed, nothing otherwise."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hookwire import Signal
from hookwire._dispatch.attribution import plugin_scope
from hookwire._dispatch.tracing import SendTrace, install_tracer, remove_tracer

UNTRACED = {
    name: Signal.__dict__[name] for name in ("send", "send_robust", "asend", "asend_robust")
}


def ok(**kwargs: Any) -> str:
    return "ok"


def failing(**kwargs: Any) -> None:
    raise LookupError("failing")


async def async_ok(**kwargs: Any) -> str:
    return "async ok"


@pytest.fixture
def traces() -> Iterator[list[SendTrace]]:
    collected: list[SendTrace] = []
    install_tracer(collected.append)
    try:
        yield collected
    finally:
        remove_tracer()


def test_without_a_tracer_the_send_methods_are_the_untraced_ones() -> None:
    for name, method in UNTRACED.items():
        assert Signal.__dict__[name] is method


def test_removing_the_tracer_restores_the_untraced_methods() -> None:
    install_tracer(lambda trace: None)
    assert Signal.__dict__["send"] is not UNTRACED["send"]
    remove_tracer()
    remove_tracer()  # removing twice is harmless
    for name, method in UNTRACED.items():
        assert Signal.__dict__[name] is method


def test_a_traced_send_reports_each_receiver_and_returns_the_same_responses(
    traces: list[SendTrace],
) -> None:
    signal = Signal(name="traced")
    with plugin_scope("tracer-plugin"):
        signal.connect(ok)
    sender = object()
    assert signal.send(sender, value=1) == [(ok, "ok")]
    [trace] = traces
    assert trace.signal is signal
    assert trace.sender is sender
    assert trace.method == "send"
    [call] = trace.calls
    assert call.info.receiver is ok
    assert call.info.plugin == "tracer-plugin"
    assert call.error is None
    assert 0 <= call.duration_ns <= trace.total_ns


def test_a_failing_send_is_traced_before_the_error_propagates(traces: list[SendTrace]) -> None:
    signal = Signal()
    with plugin_scope("failing-plugin"):
        signal.connect(failing)
    signal.connect(ok)
    with pytest.raises(LookupError) as info:
        signal.send(None)
    assert "failing" in " ".join(info.value.__notes__)
    assert "'failing-plugin'" in " ".join(info.value.__notes__)
    [trace] = traces
    [call] = trace.calls
    assert call.info.qualname == "failing"
    assert isinstance(call.error, LookupError)


def test_send_robust_traces_every_call_and_its_error(traces: list[SendTrace]) -> None:
    signal = Signal()
    signal.connect(failing)
    signal.connect(ok)
    responses = signal.send_robust(None)
    assert [r for r, _ in responses] == [failing, ok]
    assert isinstance(responses[0][1], LookupError)
    [trace] = traces
    assert trace.method == "send_robust"
    assert [type(c.error) for c in trace.calls] == [LookupError, type(None)]


@pytest.mark.parametrize("method", ["asend", "asend_robust"])
def test_async_sends_are_traced_too(method: str, traces: list[SendTrace]) -> None:
    signal = Signal()
    signal.connect(ok)
    signal.connect(async_ok)
    responses = asyncio.run(getattr(signal, method)(None))
    assert responses == [(ok, "ok"), (async_ok, "async ok")]
    [trace] = traces
    assert trace.method == method
    assert [c.info.is_async for c in trace.calls] == [False, True]


def test_a_sync_send_to_async_receivers_is_traced(traces: list[SendTrace]) -> None:
    signal = Signal()
    signal.connect(async_ok)
    assert signal.send(None) == [(async_ok, "async ok")]
    assert [c.info.qualname for c in traces[0].calls] == ["async_ok"]


@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
def test_a_traced_call_lasts_at_least_as_long_as_the_receiver_ran(
    method: str, traces: list[SendTrace]
) -> None:
    # The receivers time themselves: whatever the machine's speed, the trace must enclose it.
    measured: dict[str, int] = {}

    def slow_sync(**kwargs: Any) -> None:
        start = time.perf_counter_ns()
        time.sleep(0.002)
        measured["slow_sync"] = time.perf_counter_ns() - start

    async def slow_async(**kwargs: Any) -> None:
        start = time.perf_counter_ns()
        await asyncio.sleep(0.002)
        measured["slow_async"] = time.perf_counter_ns() - start

    signal = Signal()
    signal.connect(slow_sync)
    signal.connect(slow_async)
    sent = getattr(signal, method)(None)
    if asyncio.iscoroutine(sent):
        asyncio.run(sent)
    [trace] = traces
    durations = {call.info.qualname.rpartition(".")[2]: call.duration_ns for call in trace.calls}
    assert set(durations) == set(measured) == {"slow_sync", "slow_async"}
    for name, duration in durations.items():
        assert duration >= measured[name] >= 2_000_000, name
    assert trace.total_ns >= sum(durations.values())
