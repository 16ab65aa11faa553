"""``asend``/``asend_robust`` and ``send`` reaching async receivers: Django 6.1's semantics, and
where hookwire deliberately differs: ``send()`` inside a running loop raises before calling
anyone, cancellation is never swallowed, several failures follow one documented policy."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import re
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hookwire import Signal
from hookwire._dispatch.attribution import plugin_scope
from hookwire._dispatch.recursion import NESTED_TOTAL_FACTOR
from hookwire.exceptions import RecursiveSendError, SyncSendInEventLoopError

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


def sync_receiver(sender: object, **kwargs: Any) -> str:
    return "sync"


async def async_receiver(sender: object, **kwargs: Any) -> str:
    return "async"


def test_asend_calls_sync_receivers_first_then_async_ones() -> None:
    signal = Signal()
    signal.connect(async_receiver)
    signal.connect(sync_receiver)
    assert asyncio.run(signal.asend(None)) == [(sync_receiver, "sync"), (async_receiver, "async")]
    assert asyncio.run(signal.asend_robust(None)) == [
        (sync_receiver, "sync"),
        (async_receiver, "async"),
    ]


def test_sync_send_reaches_async_receivers_after_the_sync_ones() -> None:
    signal = Signal()
    signal.connect(async_receiver)
    signal.connect(sync_receiver)
    assert signal.send(None) == [(sync_receiver, "sync"), (async_receiver, "async")]
    assert signal.send_robust(None) == [(sync_receiver, "sync"), (async_receiver, "async")]


def test_asend_runs_sync_receivers_off_the_event_loop_thread_through_asgiref() -> None:
    signal = Signal()
    threads = []

    def blocking(**kwargs: Any) -> None:
        threads.append(threading.get_ident())
        with pytest.raises(RuntimeError):
            asyncio.get_running_loop()  # not called inside the event loop

    signal.connect(blocking)

    async def main() -> int:
        await signal.asend(None)
        await signal.asend_robust(None)
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert len(threads) == 2
    assert loop_thread not in threads


def test_sync_send_lets_async_receivers_call_back_into_the_sending_thread() -> None:
    from asgiref.sync import sync_to_async

    signal = Signal()
    threads = []

    def record_thread() -> None:
        threads.append(threading.get_ident())

    async def calls_back(**kwargs: Any) -> None:
        # asgiref's async_to_sync keeps the sending thread serving thread-sensitive calls.
        await sync_to_async(record_thread)()

    signal.connect(calls_back)
    signal.send(None)
    signal.send_robust(None)
    assert threads == [threading.get_ident()] * 2


def test_asend_with_no_receivers_returns_an_empty_list() -> None:
    assert asyncio.run(Signal().asend(None)) == []


def test_async_receivers_run_concurrently() -> None:
    signal = Signal()
    first_ran, second_ran = asyncio.Event(), asyncio.Event()

    async def first(**kwargs: Any) -> str:
        first_ran.set()
        await second_ran.wait()  # would deadlock if receivers ran one after the other
        return "first"

    async def second(**kwargs: Any) -> str:
        second_ran.set()
        await first_ran.wait()
        return "second"

    signal.connect(first)
    signal.connect(second)

    async def main() -> list[tuple[Any, Any]]:
        return await asyncio.wait_for(signal.asend(None), timeout=5)

    assert asyncio.run(main()) == [(first, "first"), (second, "second")]


def test_send_in_a_running_loop_raises_before_calling_any_receiver() -> None:
    signal = Signal(name="order_placed")
    calls: list[str] = []

    def sync_one(**kwargs: Any) -> None:
        calls.append("sync")

    async def async_one(**kwargs: Any) -> None:
        calls.append("async")

    signal.connect(sync_one)
    signal.connect(async_one)

    async def main() -> None:
        signal.send(None)

    with pytest.raises(SyncSendInEventLoopError) as info:
        asyncio.run(main())
    assert calls == []
    message = str(info.value)
    assert "async_one" in message
    assert "await" in message
    assert "asend()" in message
    assert info.value.receivers == (f"{__name__}.{async_one.__qualname__}",)


def test_send_robust_in_a_running_loop_serves_sync_receivers_and_reports_async_ones(
    caplog: pytest.LogCaptureFixture,
) -> None:
    signal = Signal()
    calls: list[str] = []

    def sync_one(**kwargs: Any) -> str:
        calls.append("sync")
        return "served"

    async def async_one(**kwargs: Any) -> None:
        calls.append("async")

    signal.connect(sync_one)
    signal.connect(async_one)

    async def main() -> list[tuple[Any, Any]]:
        return signal.send_robust(None)

    with caplog.at_level(logging.ERROR, logger="hookwire.dispatch"):
        responses = asyncio.run(main())
    assert calls == ["sync"]
    assert responses[0] == (sync_one, "served")
    assert responses[1][0] is async_one
    assert isinstance(responses[1][1], SyncSendInEventLoopError)
    assert responses[1][1].__traceback__ is not None
    assert len(caplog.records) == 1


def test_send_in_a_running_loop_with_only_sync_receivers_is_fine() -> None:
    signal = Signal()
    signal.connect(sync_receiver)

    async def main() -> list[tuple[Any, Any]]:
        return signal.send(None)

    assert asyncio.run(main()) == [(sync_receiver, "sync")]


def test_one_failing_async_receiver_is_raised_as_itself_with_a_note() -> None:
    signal = Signal(name="failing")

    async def broken(**kwargs: Any) -> None:
        raise LookupError("broken")

    signal.connect(broken)
    signal.connect(async_receiver)
    with pytest.raises(LookupError) as info:
        asyncio.run(signal.asend(None))
    assert "broken" in " ".join(info.value.__notes__)
    with pytest.raises(LookupError):
        signal.send(None)


def test_several_failing_async_receivers_raise_one_group_and_leave_no_task_behind() -> None:
    signal = Signal()
    cancelled = []

    async def first(**kwargs: Any) -> None:
        await asyncio.sleep(0)
        raise LookupError("first")

    async def second(**kwargs: Any) -> None:
        await asyncio.sleep(0)
        raise KeyError("second")

    async def slow(**kwargs: Any) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append("slow")
            raise

    for receiver in (slow, first, second):
        signal.connect(receiver)

    async def main() -> set[asyncio.Task[Any]]:
        with pytest.raises(ExceptionGroup) as info:
            await signal.asend(None)
        assert sorted(type(e).__name__ for e in info.value.exceptions) == [
            "KeyError",
            "LookupError",
        ]
        return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]

    assert asyncio.run(main()) == set()
    assert cancelled == ["slow"]


@pytest.mark.parametrize("method", ["send", "asend"])
def test_receivers_failing_at_once_are_all_started_and_raised_together(method: str) -> None:
    signal = Signal()
    started = []

    async def first(**kwargs: Any) -> None:
        started.append("first")
        raise LookupError("first")

    async def second(**kwargs: Any) -> None:
        started.append("second")
        raise KeyError("second")

    signal.connect(first)
    signal.connect(second)

    def run() -> Any:
        return signal.send(None) if method == "send" else asyncio.run(signal.asend(None))

    with pytest.raises(ExceptionGroup) as info:
        run()
    assert [type(e) for e in info.value.exceptions] == [LookupError, KeyError]
    assert started == ["first", "second"]


def test_a_receiver_failing_at_once_does_not_stop_the_others_from_starting() -> None:
    signal = Signal()
    ran = []

    async def broken(**kwargs: Any) -> None:
        raise LookupError("broken")

    async def quick(**kwargs: Any) -> None:
        ran.append("quick")

    signal.connect(broken)
    signal.connect(quick)
    with pytest.raises(LookupError):
        asyncio.run(signal.asend(None))
    assert ran == ["quick"]


def test_asend_robust_returns_every_failure_and_logs_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    signal = Signal()

    async def first(**kwargs: Any) -> None:
        raise LookupError("first")

    def second(**kwargs: Any) -> None:
        raise KeyError("second")

    signal.connect(first)
    signal.connect(second)
    with caplog.at_level(logging.ERROR, logger="hookwire.dispatch"):
        responses = asyncio.run(signal.asend_robust(None))
    assert [r for r, _ in responses] == [second, first]
    assert [type(e) for _, e in responses] == [KeyError, LookupError]
    assert all(e.__traceback__ is not None for _, e in responses)
    assert len(caplog.records) == 2


@pytest.mark.parametrize("method", ["asend", "asend_robust"])
@pytest.mark.parametrize("count", [1, 2])
def test_cancelling_asend_propagates_cancelled_error_at_once(method: str, count: int) -> None:
    signal = Signal()
    started = []

    async def waiting(**kwargs: Any) -> None:
        started.append(True)
        await asyncio.sleep(60)

    async def also_waiting(**kwargs: Any) -> None:
        await asyncio.sleep(60)

    signal.connect(waiting)
    if count == 2:
        signal.connect(also_waiting)

    async def main() -> None:
        task = asyncio.create_task(getattr(signal, method)(None))
        while not started:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)
        assert asyncio.all_tasks() == {asyncio.current_task()}

    asyncio.run(main())


@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit, GeneratorExit])
@pytest.mark.parametrize("with_async_peer", [False, True])
def test_base_exceptions_propagate_from_every_send_method(
    method: str, kind: str, error: type[BaseException], with_async_peer: bool
) -> None:
    signal = Signal()

    async def peer(**kwargs: Any) -> None:
        await asyncio.sleep(0)

    if with_async_peer:  # the failing receiver then runs in a task group
        signal.connect(peer)

    def sync_interrupting(**kwargs: Any) -> None:
        raise error

    async def async_interrupting(**kwargs: Any) -> None:
        raise error

    signal.connect(sync_interrupting if kind == "sync" else async_interrupting)
    send = getattr(signal, method)

    def run() -> Any:
        return asyncio.run(send(None)) if method.startswith("a") else send(None)

    with pytest.raises(error):
        run()
    if method.startswith("a"):
        # asyncio.run() leaves its main task holding the exception, never retrieved, in a
        # reference cycle: its finalizer logs that here rather than in whichever later test
        # the collector happens to run in.
        gc.collect()


# -- context variables ----------------------------------------------------------------
#
# In all four combinations a receiver sees the context variables the sender set, and the
# sender sees the changes receivers made once the send returned.


@pytest.mark.parametrize("receiver_kind", ["sync", "async"])
def test_context_variables_flow_both_ways_from_a_sync_send(receiver_kind: str) -> None:
    signal = Signal()
    seen = []

    def sync_one(**kwargs: Any) -> None:
        seen.append(request_id.get())
        request_id.set("set by receiver")

    async def async_one(**kwargs: Any) -> None:
        seen.append(request_id.get())
        request_id.set("set by receiver")

    signal.connect(sync_one if receiver_kind == "sync" else async_one)

    def sender_code() -> str:
        request_id.set("set by sender")
        signal.send(None)
        return request_id.get()

    assert contextvars.copy_context().run(sender_code) == "set by receiver"
    assert seen == ["set by sender"]


@pytest.mark.parametrize("receiver_kind", ["sync", "async", "two-async", "two-async-last-sets"])
def test_context_variables_flow_both_ways_from_asend(receiver_kind: str) -> None:
    signal = Signal()
    seen = []

    def sync_one(**kwargs: Any) -> None:
        seen.append(request_id.get())
        request_id.set("set by receiver")

    async def async_one(**kwargs: Any) -> None:
        seen.append(request_id.get())
        request_id.set("set by receiver")

    async def async_other(**kwargs: Any) -> None:
        seen.append(request_id.get())

    if receiver_kind == "two-async-last-sets":
        signal.connect(async_other)
    signal.connect(sync_one if receiver_kind == "sync" else async_one)
    if receiver_kind == "two-async":
        signal.connect(async_other)

    async def sender_code() -> str:
        request_id.set("set by sender")
        await signal.asend(None)
        return request_id.get()

    assert asyncio.run(sender_code()) == "set by receiver"
    assert seen[0] == "set by sender"


@pytest.mark.parametrize("method", ["send", "asend"])
def test_async_receivers_share_one_context_copy(method: str) -> None:
    signal = Signal()
    seen = []

    async def first(**kwargs: Any) -> None:
        request_id.set("set by first")
        await asyncio.sleep(0)
        seen.append(("first", request_id.get()))

    async def second(**kwargs: Any) -> None:
        seen.append(("second", request_id.get()))
        request_id.set("set by second")

    signal.connect(first)
    signal.connect(second)

    async def async_sender() -> str:
        await signal.asend(None)
        return request_id.get()

    def sync_sender() -> str:
        signal.send(None)
        return request_id.get()

    context = contextvars.Context()
    if method == "send":
        after = context.run(sync_sender)
    else:
        after = context.run(asyncio.run, async_sender())
    assert seen == [("second", "set by first"), ("first", "set by second")]
    assert after == "set by second"
    assert request_id.get() == "unset"


# -- threads and loops ----------------------------------------------------------------


def test_asend_from_many_event_loops_in_sequence_leaks_no_thread_or_loop() -> None:
    signal = Signal()
    signal.connect(sync_receiver)
    signal.connect(async_receiver)
    signal.send(None)
    asyncio.run(signal.asend(None))  # warm up asgiref's executors
    before = threading.active_count()
    for _ in range(30):
        assert len(asyncio.run(signal.asend(None))) == 2
        assert len(signal.send(None)) == 2
        loop = asyncio.new_event_loop()
        try:
            assert len(loop.run_until_complete(signal.asend_robust(None))) == 2
        finally:
            loop.close()
    # asgiref's per-call loop threads exit once their executor is collected, which may take a
    # garbage collection when a cycle holds it: collect and wait, bounded. Anything hookwire
    # itself kept would survive the collection.
    deadline = time.monotonic() + 10
    while threading.active_count() > before + 1 and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.01)
    assert threading.active_count() <= before + 1


def test_sync_send_with_async_receivers_from_worker_threads() -> None:
    signal = Signal()
    signal.connect(async_receiver)
    results: list[Any] = []

    def worker() -> None:
        results.append(signal.send(None))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive()
    assert results == [[(async_receiver, "async")]] * 4


def test_bound_async_methods_are_async_receivers() -> None:
    class Listener:
        async def on_event(self, **kwargs: Any) -> str:
            return "method"

    listener = Listener()
    signal = Signal()
    signal.connect(listener.on_event)
    assert asyncio.run(signal.asend(None)) == [(listener.on_event, "method")]


@pytest.mark.usefixtures("collector_paused")
@pytest.mark.parametrize("method", ["asend", "asend_robust"])
def test_an_async_receiver_awaiting_its_own_signal_raises_a_recursive_send_error(
    method: str,
) -> None:
    ping = Signal(name="ping")

    async def again(sender: object, **kwargs: Any) -> None:
        await getattr(ping, method)(sender)

    ping.connect(again)
    with pytest.raises(RecursiveSendError, match=r"ping -> .*again -> .*ping"):
        asyncio.run(getattr(ping, method)(None))


class RanAway(Exception):
    """Raised by a test receiver nested far deeper than any recursion limit allows."""


@pytest.mark.parametrize("method", ["asend", "asend_robust"])
@pytest.mark.parametrize("hop", ["task group", "create_task", "gather"])
def test_a_receiver_sending_its_own_signal_from_a_fresh_task_raises_a_recursive_send_error(
    method: str, hop: str
) -> None:
    """Every nested send starts on a fresh stack, so the recursion limit is never reached
    there; the nesting is still counted and refused at that limit, with the chain named, and
    no task outlives the send."""
    ping = Signal(name="ping")
    levels = 0

    async def again(sender: object, **kwargs: Any) -> None:
        nonlocal levels
        levels += 1
        if levels > 3 * sys.getrecursionlimit():
            raise RanAway  # not detected: stop rather than run until memory runs out
        send = getattr(ping, method)(sender)
        if hop == "create_task":
            await asyncio.create_task(send)
        elif hop == "gather":
            await asyncio.gather(send)
        else:
            await send

    async def peer(**kwargs: Any) -> None:
        await asyncio.sleep(0)

    ping.connect(again)
    if hop == "task group":  # a second receiver: each one runs in a task of its own
        ping.connect(peer)

    async def main() -> None:
        try:
            with pytest.raises(RecursiveSendError) as info:
                await getattr(ping, method)(None)
            # The receiver runs as a task of the task group; a task of its own starts the
            # send elsewhere.
            sender_name = "again" if hop == "task group" else r"\(a task\)"
            assert re.search(rf"ping -> [\w.<>]*{sender_name} -> [\w.]*ping", str(info.value))
            assert "recursion limit" in str(info.value)
        finally:
            assert asyncio.all_tasks() == {asyncio.current_task()}

    asyncio.run(main())
    assert levels == sys.getrecursionlimit()


@pytest.fixture
def low_recursion_limit() -> Iterator[None]:
    """A lower recursion limit, so the bound on nested sends running at once (a multiple of
    it) is reached in a fraction of a second."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(300)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


@pytest.mark.usefixtures("collector_paused", "low_recursion_limit")
@pytest.mark.parametrize("method", ["asend", "asend_robust"])
def test_receivers_fanning_out_are_bounded_by_the_total_of_nested_sends_running(
    method: str,
) -> None:
    """Two async receivers that each await their signal's send again double the sends at
    every level: the depth stays far below the recursion limit while the tasks would grow
    until memory runs out. The total of sends nested in one send running at once is bounded
    (ten times the recursion limit): the send past it raises ``RecursiveSendError`` naming
    the chain, soon, and no task outlives the outer send."""
    ping = Signal(name="ping")
    bound = NESTED_TOTAL_FACTOR * sys.getrecursionlimit()
    started = 0

    async def left(sender: object, **kwargs: Any) -> None:
        nonlocal started
        started += 1
        if started > 4 * bound:
            raise RanAway  # not detected: stop rather than run until memory runs out
        await getattr(ping, method)(sender)

    async def right(sender: object, **kwargs: Any) -> None:
        await left(sender)

    ping.connect(left)
    ping.connect(right)

    async def main() -> None:
        try:
            with pytest.raises(RecursiveSendError) as info:
                await asyncio.wait_for(getattr(ping, method)(None), timeout=30)
            message = str(info.value)
            assert re.search(r"ping -> [\w.<>]*(left|right) -> [\w.]*ping", message)
            assert f"{bound} sends nested in one send running at once" in message
        finally:
            assert asyncio.all_tasks() == {asyncio.current_task()}

    asyncio.run(main())
    # Every receiver started is one nested send begun: never many more than the bound
    # (the last level starts all its receivers in one loop step before any is refused).
    assert bound <= started <= 2 * bound + 2


def test_sends_nested_one_after_another_never_reach_the_bound_on_their_total() -> None:
    """Only sends running at once count: a receiver may make far more nested sends than the
    bound one after another, each finished before the next begins."""
    ping = Signal(name="ping")
    pong = Signal(name="pong")
    turns = 3 * NESTED_TOTAL_FACTOR * sys.getrecursionlimit()

    async def answer(**kwargs: Any) -> None:
        return None

    async def caller(**kwargs: Any) -> int:
        for _ in range(turns):
            await pong.asend(None)
        return turns

    pong.connect(answer)
    ping.connect(caller)
    assert asyncio.run(ping.asend(None)) == [(caller, turns)]


@pytest.mark.usefixtures("low_recursion_limit")
def test_nested_sends_in_concurrent_tasks_and_threads_count_themselves_in_and_out() -> None:
    """Receivers of one send, each in a task of its own, make nested sends at the same time,
    some through asgiref's threads: far more in all than the bound on nested sends running at
    once, never many at once. None is refused, every nested send sees the send it is nested
    in, and once the outer send returned, nothing is recorded as running."""
    from hookwire._dispatch.recursion import sends_running

    ping = Signal(name="ping")
    pong = Signal(name="pong")
    bound = NESTED_TOTAL_FACTOR * sys.getrecursionlimit()
    per_receiver = bound // 2
    seen: list[list[str]] = []

    async def answer(**kwargs: Any) -> None:
        seen.append([send.signal.name for send in sends_running()])
        await asyncio.sleep(0)

    def in_a_thread(**kwargs: Any) -> None:
        return None

    def caller(robust: bool, threads: bool) -> Any:
        async def call(**kwargs: Any) -> int:
            send = (
                pong_in_a_thread.asend if threads else pong.asend_robust if robust else pong.asend
            )
            for _ in range(per_receiver):
                await send(None)
            return per_receiver

        return call

    # One of them through asgiref's thread each time (a sync receiver first: only one, as
    # receivers sharing a context may not wait on asgiref's thread at the same time).
    pong_in_a_thread = Signal(name="pong")
    pong_in_a_thread.connect(in_a_thread)
    pong_in_a_thread.connect(answer)
    pong.connect(answer)
    callers = [caller(robust=index == 1, threads=index == 0) for index in range(4)]
    for call in callers:
        ping.connect(call)

    async def main() -> list[tuple[Any, Any]]:
        responses = await ping.asend(None)
        assert sends_running() == ()
        return responses

    responses = asyncio.run(main())
    assert [response for _, response in responses] == [per_receiver] * 4
    assert len(seen) == 4 * per_receiver > bound
    assert all(chain[0] == "ping" and chain[-1] == "pong" for chain in seen)


def test_receivers_of_one_send_never_see_each_others_sends_as_their_own_nesting() -> None:
    """The receivers of one ``asend`` run in tasks sharing one context. While one of them is
    inside a nested send, another one (in its own task) is nested in the outer send alone,
    and so are the sends it makes."""
    from hookwire._dispatch.recursion import sends_running

    ping = Signal(name="ping")
    pong = Signal(name="pong")
    pang = Signal(name="pang")
    inside = asyncio.Event()
    seen: dict[str, list[str]] = {}

    def names() -> list[str]:
        return [send.signal.name for send in sends_running()]

    async def held(**kwargs: Any) -> None:
        seen["held"] = names()
        inside.set()
        await asyncio.sleep(0.05)  # the other receiver runs meanwhile

    async def noted(**kwargs: Any) -> None:
        seen["noted"] = names()

    async def first(**kwargs: Any) -> None:
        await pong.asend(None)

    async def second(**kwargs: Any) -> None:
        await asyncio.wait_for(inside.wait(), timeout=10)
        seen["second"] = names()
        await pang.asend(None)

    pong.connect(held)
    pang.connect(noted)
    ping.connect(first)
    ping.connect(second)

    async def main() -> None:
        await ping.asend(None)
        assert sends_running() == ()

    asyncio.run(main())
    assert seen == {
        "held": ["ping", "pong"],
        "second": ["ping"],
        "noted": ["ping", "pang"],
    }


def test_a_receiver_may_send_its_signal_again_from_a_task_it_leaves_running() -> None:
    """A task a receiver starts and does not wait for (a heartbeat) sends after the send that
    started it returned: not nested, however many generations follow each other."""
    tick = Signal(name="tick")
    generations = 3 * sys.getrecursionlimit()
    count = 0
    background: set[asyncio.Task[Any]] = set()
    done = asyncio.Event()

    async def beat(**kwargs: Any) -> None:
        nonlocal count
        count += 1
        if count == generations:
            done.set()
            return
        task = asyncio.create_task(tick.asend(None))  # runs after this send returned
        background.add(task)
        task.add_done_callback(background.discard)

    tick.connect(beat)

    async def main() -> None:
        await tick.asend(None)
        await asyncio.wait_for(done.wait(), timeout=20)

    asyncio.run(main())
    assert count == generations


def test_receivers_sharing_a_task_groups_context_may_send_any_number_of_times_in_turn() -> None:
    """Receivers of one send share one context; their own sends begin and end interleaved
    there. However many they make one after another, none counts as nested in another."""
    ping = Signal(name="ping")
    pong = Signal(name="pong")
    turns = 2 * sys.getrecursionlimit()

    async def answer(**kwargs: Any) -> None:
        await asyncio.sleep(0)

    async def first(**kwargs: Any) -> int:
        for _ in range(turns):
            await pong.asend(None)
        return turns

    async def second(**kwargs: Any) -> int:
        for _ in range(turns):
            await pong.asend_robust(None)
            await asyncio.sleep(0)
        return turns

    pong.connect(answer)
    ping.connect(first)
    ping.connect(second)
    assert asyncio.run(ping.asend(None)) == [(first, turns), (second, turns)]


@pytest.mark.usefixtures("collector_paused")
@pytest.mark.parametrize("method", ["send", "send_robust"])
def test_a_chain_of_sends_through_threads_and_the_loop_raises_a_recursive_send_error(
    method: str,
) -> None:
    """An async receiver sending its signal through ``sync_to_async``: each ``send`` hands the
    async receiver back to the event loop in a new task, the thread's stack grows instead of
    the loop's, and the runaway is still told from the nested sends."""
    from asgiref.sync import sync_to_async

    ping = Signal(name="ping")

    async def again(sender: object, **kwargs: Any) -> None:
        await sync_to_async(getattr(ping, method))(sender)

    ping.connect(again)
    with pytest.raises(RecursiveSendError, match=r"ping -> .* -> .*ping"):
        asyncio.run(ping.asend(None))


@pytest.mark.parametrize("method", ["send_robust", "asend_robust"])
def test_robust_failure_log_is_djangos_line_with_hookwires_attributes(
    method: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Django's message and arguments, and beside them what only hookwire knows: the signal,
    the receiver with its module, and the plugin that connected it."""
    signal = Signal(name="order_paid")

    def refuse(**kwargs: Any) -> None:
        raise LookupError("no such order")

    with plugin_scope("billing-plugin"):
        signal.connect(refuse)

    with caplog.at_level(logging.ERROR, logger="hookwire.dispatch"):
        if method == "send_robust":
            responses = signal.send_robust(None)
        else:
            responses = asyncio.run(signal.asend_robust(None))

    error = responses[0][1]
    [record] = [r for r in caplog.records if r.name == "hookwire.dispatch"]
    assert record.levelno == logging.ERROR
    assert record.msg == "Error calling %s in Signal.send_robust() (%s)"
    assert record.args == (refuse.__qualname__, error)
    assert record.exc_info is not None
    assert record.exc_info[1] is error
    assert record.signal == f"{__name__}.order_paid"  # type: ignore[attr-defined]
    assert record.receiver == f"{__name__}.{refuse.__qualname__}"  # type: ignore[attr-defined]
    assert record.receiver_module == __name__  # type: ignore[attr-defined]
    assert record.plugin == "billing-plugin"  # type: ignore[attr-defined]
