"""Tracing every send, for ``hookwire run --trace``.

:func:`install_tracer` attaches a wrapper to every signal (through
:mod:`~hookwire._dispatch.wrappers`, innermost) that gives each send a plan of timed stand-ins
for its receivers; :func:`remove_tracer` detaches it. Without a tracer the send methods are
exactly the untraced ones: tracing costs nothing unless installed.

While installed, after every send the callback receives a :class:`SendTrace`: the signal, the
sender, the method name, one :class:`ReceiverCall` per receiver called (in call order; async
receivers in the order they finished) and the total time. The callback runs on the sending
thread after the send; an exception it raises propagates to the sender.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat
from time import perf_counter_ns
from typing import Any

from .failures import forwards_sends, stands_in
from .introspection import ReceiverInfo, describe_registration
from .receivers import IS_ASYNC
from .signal import Signal
from .table import Plan
from .wrappers import TRACE, Invocation, SendWrapper, attach, detach

__all__ = ["ReceiverCall", "SendTrace", "current_tracer", "install_tracer", "remove_tracer"]


@dataclass(frozen=True, slots=True)
class ReceiverCall:
    """One receiver called during a traced send.

    :ivar info: the receiver, as introspection describes it.
    :ivar duration_ns: wall time of the call (for async receivers: until their coroutine ended).
    :ivar error: the exception it raised, or ``None``.
    """

    info: ReceiverInfo
    duration_ns: int
    error: BaseException | None


@dataclass(frozen=True, slots=True)
class SendTrace:
    """One traced send: ``method`` is ``"send"``, ``"send_robust"``, ``"asend"`` or
    ``"asend_robust"``; ``total_ns`` covers the whole send."""

    signal: Signal
    sender: Any
    method: str
    calls: tuple[ReceiverCall, ...]
    total_ns: int


_callback: Callable[[SendTrace], None] | None = None
_lock = threading.Lock()


class _TimedSync:
    """Stands in for a sync receiver: calls it and records how long it took."""

    stands_in_for_receiver = True

    def __init__(self, receiver: Any, info: ReceiverInfo, calls: list[ReceiverCall]) -> None:
        self.receiver = receiver
        self.info = info
        self.calls = calls
        # Named like the receiver, so error notes and log lines name the receiver.
        self.__qualname__ = info.qualname
        self.__module__ = info.module or ""

    @stands_in
    def __call__(self, **named: Any) -> Any:
        start = perf_counter_ns()
        try:
            result = self.receiver(**named)
        except BaseException as error:
            self.calls.append(ReceiverCall(self.info, perf_counter_ns() - start, error))
            raise
        self.calls.append(ReceiverCall(self.info, perf_counter_ns() - start, None))
        return result


class _TimedAsync(_TimedSync):
    @stands_in
    async def __call__(self, **named: Any) -> Any:
        start = perf_counter_ns()
        try:
            result = await self.receiver(**named)
        except BaseException as error:
            self.calls.append(ReceiverCall(self.info, perf_counter_ns() - start, error))
            raise
        self.calls.append(ReceiverCall(self.info, perf_counter_ns() - start, None))
        return result


def _timed_plan(signal: Signal, sender: object, calls: list[ReceiverCall]) -> Plan:
    sync: list[Any] = []
    async_: list[Any] = []
    for reg in signal._table.registrations_for(sender):
        info = describe_registration(reg)
        if info is None:
            continue
        if reg[IS_ASYNC]:
            async_.append((repeat(_TimedAsync(info.receiver, info, calls)).__next__, None))
        else:
            sync.append((repeat(_TimedSync(info.receiver, info, calls)).__next__, None))
    return Plan(tuple(sync), tuple(async_))


def _unwrap(responses: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    return [(r.receiver if isinstance(r, _TimedSync) else r, response) for r, response in responses]


def _emit(
    signal: Signal, sender: object, method: str, calls: list[ReceiverCall], start: int
) -> None:
    callback = _callback
    if callback is not None:
        callback(SendTrace(signal, sender, method, tuple(calls), perf_counter_ns() - start))


class _Tracer(SendWrapper):
    """Innermost: the plan it sets is walked by the plain send, and it unwraps the stand-ins
    from the responses before any other wrapper sees them."""

    layer = TRACE

    @forwards_sends
    def wrap(self, proceed: Any, invocation: Invocation) -> list[tuple[Any, Any]]:
        calls: list[ReceiverCall] = []
        start = perf_counter_ns()
        try:
            invocation.plan = _timed_plan(invocation.signal, invocation.sender, calls)
            return _unwrap(proceed())
        finally:
            _emit(invocation.signal, invocation.sender, invocation.method, calls, start)

    @forwards_sends
    async def awrap(self, proceed: Any, invocation: Invocation) -> list[tuple[Any, Any]]:
        calls: list[ReceiverCall] = []
        start = perf_counter_ns()
        try:
            invocation.plan = _timed_plan(invocation.signal, invocation.sender, calls)
            return _unwrap(await proceed())
        finally:
            _emit(invocation.signal, invocation.sender, invocation.method, calls, start)


_tracer = _Tracer()


def current_tracer() -> Callable[[SendTrace], None] | None:
    """The callback installed by :func:`install_tracer`, or ``None``."""
    return _callback


def install_tracer(callback: Callable[[SendTrace], None]) -> None:
    """Call ``callback`` with a :class:`SendTrace` after every send of every signal.

    Installing again replaces the callback. Affects every thread.
    """
    global _callback
    with _lock:
        if _callback is None:
            attach(_tracer, Signal)
        _callback = callback


def remove_tracer() -> None:
    """Stop tracing and restore the untraced send methods. Does nothing if none is installed."""
    global _callback
    with _lock:
        if _callback is not None:
            detach(_tracer, Signal)
        _callback = None
