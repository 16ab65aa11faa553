"""The tasks a send runs its async receivers in, as a caller and the receivers see them.

A plain ``send()`` reaching async receivers and ``asend()`` both run them concurrently, each in
a task of its own sharing one copy of the caller's context. These tests pin what that means
on real event loops: results in receiver order whatever order the tasks end in, the first
failure cancelling the others and the send returning only once they all ended, every failure
raised (with the receiver named), a cancelled send cancelling its receivers and re-raising,
``KeyboardInterrupt``/``SystemExit`` never swallowed, and no asyncio warning or log line about
an exception nobody retrieved or a coroutine nobody awaited.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hookwire import Signal

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")

SENDS = ["send", "asend"]


def run_send(signal: Signal, method: str) -> list[tuple[Any, Any]]:
    """``method`` of ``signal`` from synchronous code (the async ones in a fresh loop)."""
    if method.startswith("a"):
        responses: list[tuple[Any, Any]] = asyncio.run(getattr(signal, method)(None))
        return responses
    sent: list[tuple[Any, Any]] = getattr(signal, method)(None)
    return sent


@pytest.fixture
def quiet() -> Iterator[list[str]]:
    """Every warning and every asyncio log line of the test, checked empty by the test.

    A task whose exception nobody retrieved is logged when it is collected, a coroutine
    nobody awaited warns when it is collected: a collection at the end makes both happen
    inside the test.
    """
    noticed: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            noticed.append(record.getMessage())

    handler = Keep(logging.DEBUG)
    asyncio_logger = logging.getLogger("asyncio")
    asyncio_logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield noticed
            gc.collect()
        noticed.extend(str(w.message) for w in caught)
    finally:
        asyncio_logger.removeHandler(handler)


def steps(count: int) -> Callable[..., Any]:
    """An async receiver returning ``count`` after yielding to the loop ``count`` times."""

    async def receiver(**kwargs: Any) -> int:
        for _ in range(count):
            await asyncio.sleep(0)
        return count

    receiver.__name__ = receiver.__qualname__ = f"steps_{count}"
    return receiver


# -- results ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
def test_responses_come_in_receiver_order_whatever_order_the_tasks_end_in(
    method: str, quiet: list[str]
) -> None:
    signal = Signal()
    receivers = [steps(count) for count in (5, 0, 3, 1, 4, 2)]
    for receiver in receivers:
        signal.connect(receiver)
    assert run_send(signal, method) == [
        (r, c) for r, c in zip(receivers, (5, 0, 3, 1, 4, 2), strict=True)
    ]
    assert quiet == []


def test_each_receiver_runs_in_a_task_of_its_own_and_the_send_ends_after_all() -> None:
    signal = Signal()
    seen: list[tuple[str, asyncio.Task[Any] | None]] = []

    async def first(**kwargs: Any) -> None:
        seen.append(("first", asyncio.current_task()))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        seen.append(("first done", asyncio.current_task()))

    async def second(**kwargs: Any) -> None:
        seen.append(("second", asyncio.current_task()))

    signal.connect(first)
    signal.connect(second)
    signal.send(None)
    assert [what for what, _ in seen] == ["first", "second", "first done"]
    tasks = [task for _, task in seen]
    assert tasks[0] is tasks[2]
    assert tasks[0] is not tasks[1]
    assert None not in tasks


# -- failures ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", SENDS)
def test_the_first_failure_cancels_the_other_receivers_and_waits_for_them(
    method: str, quiet: list[str]
) -> None:
    signal = Signal(name="cancelling")
    log: list[str] = []

    async def waiting(**kwargs: Any) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            log.append("waiting cancelled")
            await asyncio.sleep(0)  # the send waits for the cleanup to end
            log.append("waiting cleaned up")
            raise

    async def failing(**kwargs: Any) -> None:
        await asyncio.sleep(0)
        log.append("failing raises")
        raise LookupError("failing")

    async def finished_first(**kwargs: Any) -> str:
        log.append("finished first")
        return "done"

    for receiver in (waiting, failing, finished_first):
        signal.connect(receiver)
    with pytest.raises(LookupError) as info:
        run_send(signal, method)
    log.append("send raised")
    assert log == [
        "finished first",
        "failing raises",
        "waiting cancelled",
        "waiting cleaned up",
        "send raised",
    ]
    assert any("failing" in note for note in info.value.__notes__)
    assert quiet == []


@pytest.mark.parametrize("method", SENDS)
def test_a_receiver_failing_while_being_cancelled_is_raised_with_the_first_failure(
    method: str, quiet: list[str]
) -> None:
    signal = Signal(name="both")

    async def failing(**kwargs: Any) -> None:
        await asyncio.sleep(0)
        raise LookupError("first")

    async def failing_on_cancel(**kwargs: Any) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise KeyError("while cancelled") from None

    signal.connect(failing_on_cancel)
    signal.connect(failing)
    with pytest.raises(ExceptionGroup) as info:
        run_send(signal, method)
    group = info.value
    # In the order they happened, each naming its receiver, in a group of asyncio's wording.
    assert [type(e) for e in group.exceptions] == [LookupError, KeyError]
    assert str(group) == "unhandled errors in a TaskGroup (2 sub-exceptions)"
    assert group.__cause__ is None
    assert group.__suppress_context__
    assert any(
        "failing" in n and "failing_on_cancel" not in n for n in group.exceptions[0].__notes__
    )
    assert any("failing_on_cancel" in n for n in group.exceptions[1].__notes__)
    assert quiet == []


@pytest.mark.parametrize("method", SENDS)
def test_every_receiver_failing_in_the_same_step_is_raised(method: str, quiet: list[str]) -> None:
    signal = Signal(name="all")
    receivers = []
    for index in range(4):

        async def failing(_index: int = index, **kwargs: Any) -> None:
            await asyncio.sleep(0)
            raise ValueError(f"r{_index}")

        failing.__qualname__ = f"failing_{index}"
        receivers.append(failing)
        signal.connect(failing)
    with pytest.raises(ExceptionGroup) as info:
        run_send(signal, method)
    assert [str(e) for e in info.value.exceptions] == ["r0", "r1", "r2", "r3"]
    for index, error in enumerate(info.value.exceptions):
        assert any(f"failing_{index}" in note for note in error.__notes__)
    assert quiet == []


@pytest.mark.parametrize("method", ["send_robust", "asend_robust"])
def test_a_robust_send_lets_every_receiver_finish_and_returns_each_failure(
    method: str, quiet: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    signal = Signal()

    async def failing(**kwargs: Any) -> None:
        raise LookupError("failing")

    slow = steps(3)
    signal.connect(failing)
    signal.connect(slow)
    with caplog.at_level(logging.ERROR, logger="hookwire.dispatch"):
        responses = run_send(signal, method)
    assert [receiver for receiver, _ in responses] == [failing, slow]
    assert isinstance(responses[0][1], LookupError)
    assert responses[1][1] == 3
    assert len(caplog.records) == 1
    assert quiet == []


def test_a_receiver_that_cannot_be_called_stops_the_send_before_any_receiver_runs(
    quiet: list[str],
) -> None:
    from asgiref.sync import markcoroutinefunction

    signal = Signal()
    ran: list[str] = []

    async def before(**kwargs: Any) -> None:
        ran.append("before")

    def uncallable(**kwargs: Any) -> Any:
        raise LookupError("no coroutine")

    async def after(**kwargs: Any) -> None:
        ran.append("after")

    for receiver in (before, markcoroutinefunction(uncallable), after):
        signal.connect(receiver)
    with pytest.raises(LookupError, match="no coroutine"):
        signal.send(None)
    assert ran == []
    assert quiet == []


# -- cancellation and interruption ------------------------------------------------------


def send_in_a_thread_then_cancel_it(
    signal: Signal, started: threading.Event, loops: list[asyncio.AbstractEventLoop]
) -> list[BaseException]:
    """Run ``signal.send()`` on a thread of its own and, once ``started`` is set, cancel the
    task asgiref runs the receivers from (every task of that loop but the receivers')."""
    raised: list[BaseException] = []

    def sending() -> None:
        try:
            signal.send(None)
        except BaseException as error:
            raised.append(error)

    thread = threading.Thread(target=sending)
    thread.start()
    try:
        assert started.wait(timeout=10)
        loop = loops[0]

        def cancel_the_sender(receivers: set[asyncio.Task[Any]]) -> None:
            for task in asyncio.all_tasks(loop) - receivers:
                task.cancel()

        receivers: set[asyncio.Task[Any]] = set(receiver_tasks)
        loop.call_soon_threadsafe(cancel_the_sender, receivers)
    finally:
        thread.join(timeout=10)
    assert not thread.is_alive()
    return raised


receiver_tasks: list[asyncio.Task[Any]] = []


@pytest.fixture
def tasks_seen() -> Iterator[list[asyncio.Task[Any]]]:
    receiver_tasks.clear()
    yield receiver_tasks
    receiver_tasks.clear()


def waiting_receivers(
    count: int, started: threading.Event, loops: list[asyncio.AbstractEventLoop], log: list[str]
) -> list[Callable[..., Any]]:
    """``count`` receivers waiting forever, noting their cancellation; ``started`` is set
    once all of them wait."""
    receivers = []
    for index in range(count):

        async def waiting(_index: int = index, **kwargs: Any) -> None:
            task = asyncio.current_task()
            assert task is not None
            receiver_tasks.append(task)
            loops[:] = [asyncio.get_running_loop()]
            if len(receiver_tasks) == count:
                started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                log.append(f"r{_index} cancelled")
                raise

        receivers.append(waiting)
    return receivers


@pytest.mark.usefixtures("tasks_seen")
def test_cancelling_the_task_running_the_receivers_cancels_them_and_is_re_raised(
    quiet: list[str],
) -> None:
    signal = Signal()
    started = threading.Event()
    loops: list[asyncio.AbstractEventLoop] = []
    log: list[str] = []
    receivers = waiting_receivers(3, started, loops, log)  # kept: weak references
    for receiver in receivers:
        signal.connect(receiver)
    raised = send_in_a_thread_then_cancel_it(signal, started, loops)
    assert [type(error) for error in raised] == [asyncio.CancelledError]
    assert sorted(log) == ["r0 cancelled", "r1 cancelled", "r2 cancelled"]
    assert all(task.cancelled() for task in receiver_tasks)
    assert quiet == []


@pytest.mark.usefixtures("tasks_seen")
def test_a_receiver_failing_when_its_send_is_cancelled_is_raised_instead(
    quiet: list[str],
) -> None:
    signal = Signal(name="outer")
    started = threading.Event()
    loops: list[asyncio.AbstractEventLoop] = []
    log: list[str] = []
    receivers = waiting_receivers(2, started, loops, log)
    for receiver in receivers:
        signal.connect(receiver)

    async def failing_on_cancel(**kwargs: Any) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise KeyError("while cancelled") from None

    signal.connect(failing_on_cancel)
    raised = send_in_a_thread_then_cancel_it(signal, started, loops)
    if sys.version_info >= (3, 13):
        # From 3.13 asyncio keeps the cancellation asked of the sender pending: it wins.
        assert [type(error) for error in raised] == [asyncio.CancelledError]
    else:
        assert [type(error) for error in raised] == [KeyError]
        assert any("failing_on_cancel" in note for note in raised[0].__notes__)
    assert sorted(log) == ["r0 cancelled", "r1 cancelled"]
    assert quiet == []


@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_in_one_receiver_cancels_the_others_and_propagates(
    method: str, error: type[BaseException]
) -> None:
    assert _raised_beside_a_waiting_receiver(method, error) == ["waiting cancelled"]
    # asyncio.run() leaves its main task holding the interrupt, never retrieved, in a
    # reference cycle: its finalizer logs that here rather than in a later test.
    gc.collect()


@pytest.mark.parametrize("method", SENDS)
def test_any_other_base_exception_cancels_the_others_and_is_raised_as_itself(
    method: str, quiet: list[str]
) -> None:
    class Stop(BaseException):
        pass

    assert _raised_beside_a_waiting_receiver(method, Stop) == ["waiting cancelled"]
    assert quiet == []


def _raised_beside_a_waiting_receiver(method: str, error: type[BaseException]) -> list[str]:
    """Send to a receiver waiting forever and one raising ``error``; check that ``error``
    propagates and return what the waiting one logged."""
    signal = Signal()
    log: list[str] = []

    async def waiting(**kwargs: Any) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            log.append("waiting cancelled")
            raise

    async def raising(**kwargs: Any) -> None:
        await asyncio.sleep(0)
        raise error

    signal.connect(waiting)
    signal.connect(raising)
    with pytest.raises(error):
        run_send(signal, method)
    return log


@pytest.mark.parametrize("method", SENDS)
def test_a_receiver_cancelling_itself_makes_the_send_raise_cancelled_error(
    method: str, quiet: list[str]
) -> None:
    signal = Signal()
    log: list[str] = []

    async def cancelled(**kwargs: Any) -> None:
        raise asyncio.CancelledError

    async def slow(**kwargs: Any) -> str:
        await asyncio.sleep(0)
        log.append("slow finished")
        return "slow"

    signal.connect(cancelled)
    signal.connect(slow)
    with pytest.raises(asyncio.CancelledError):
        run_send(signal, method)
    assert log == ["slow finished"]  # a cancelled receiver is no failure: the others finish
    assert quiet == []


# -- context ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", SENDS)
def test_receivers_share_one_copy_of_the_senders_context_and_give_back_what_they_set(
    method: str, quiet: list[str]
) -> None:
    signal = Signal()
    seen: list[tuple[str, str]] = []
    contexts: list[contextvars.Context] = []

    async def first(**kwargs: Any) -> None:
        contexts.append(contextvars.copy_context())
        seen.append(("first", marker.get()))
        marker.set("first")
        await asyncio.sleep(0)
        seen.append(("first again", marker.get()))

    async def second(**kwargs: Any) -> None:
        seen.append(("second", marker.get()))
        marker.set("second")

    signal.connect(first)
    signal.connect(second)

    async def async_sender() -> tuple[str, contextvars.Context]:
        marker.set("sender")
        await signal.asend(None)
        return marker.get(), contextvars.copy_context()

    def sync_sender() -> tuple[str, contextvars.Context]:
        marker.set("sender")
        signal.send(None)
        return marker.get(), contextvars.copy_context()

    if method == "send":
        after, sender_context = contextvars.Context().run(sync_sender)
    else:
        after, sender_context = contextvars.Context().run(asyncio.run, async_sender())
    assert seen == [("first", "sender"), ("second", "first"), ("first again", "second")]
    assert after == "second"
    # A copy: what the receivers set reached the sender only once the send returned.
    assert contexts[0] is not sender_context
    assert marker.get() == "unset"
    assert quiet == []
