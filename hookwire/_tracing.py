"""Tracing every send, for ``hookwire run --trace``.

:func:`install_tracer` replaces ``send``, ``send_robust``, ``asend`` and ``asend_robust`` on
the :class:`~hookwire.Signal` class with timing versions; :func:`remove_tracer` puts the
originals back. Without a tracer the send methods are exactly the untraced ones: tracing costs
nothing unless installed.

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

from ._introspection import ReceiverInfo, describe_registration
from ._plans import Plan
from ._receivers import IS_ASYNC, NONE_KEY, SENDER_KEY, Registration, is_alive
from ._signals import Signal

__all__ = ["ReceiverCall", "SendTrace", "install_tracer", "remove_tracer"]


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


_METHODS = ("send", "send_robust", "asend", "asend_robust")
_originals: dict[str, Any] = {}
_callback: Callable[[SendTrace], None] | None = None
_lock = threading.Lock()


class _TimedSync:
    """Stands in for a sync receiver: calls it and records how long it took."""

    _hookwire_traced = True

    def __init__(self, receiver: Any, info: ReceiverInfo, calls: list[ReceiverCall]) -> None:
        self.receiver = receiver
        self.info = info
        self.calls = calls
        # Named like the receiver, so error notes and log lines name the receiver.
        self.__qualname__ = info.qualname
        self.__module__ = info.module or ""

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
    async def __call__(self, **named: Any) -> Any:
        start = perf_counter_ns()
        try:
            result = await self.receiver(**named)
        except BaseException as error:
            self.calls.append(ReceiverCall(self.info, perf_counter_ns() - start, error))
            raise
        self.calls.append(ReceiverCall(self.info, perf_counter_ns() - start, None))
        return result


def _registrations_for(signal: Signal, sender: object) -> list[Registration]:
    signal._plan_for(sender)  # resolves lazy senders and purges dead rows, like a send
    key = id(sender)
    with signal.lock:
        regs = [
            reg
            for reg in signal._registry.values()
            if reg[SENDER_KEY] in (key, NONE_KEY) and is_alive(reg)
        ]
    return [reg for reg in regs if not reg[IS_ASYNC]] + [reg for reg in regs if reg[IS_ASYNC]]


def _timed_plan(signal: Signal, sender: object, calls: list[ReceiverCall]) -> Plan:
    sync: list[Any] = []
    async_: list[Any] = []
    for reg in _registrations_for(signal, sender):
        info = describe_registration(reg)
        if info is None:
            continue
        if reg[IS_ASYNC]:
            async_.append((repeat(_TimedAsync(info.receiver, info, calls)).__next__, None))
        else:
            sync.append((repeat(_TimedSync(info.receiver, info, calls)).__next__, None))
    return Plan(tuple(sync), tuple(async_))


def _unwrap(responses: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    return [(getattr(r, "receiver", r), response) for r, response in responses]


def _emit(
    signal: Signal, sender: object, method: str, calls: list[ReceiverCall], start: int
) -> None:
    callback = _callback
    if callback is not None:
        callback(SendTrace(signal, sender, method, tuple(calls), perf_counter_ns() - start))


def _traced_sync(method: str) -> Callable[..., list[tuple[Any, Any]]]:
    robust = method == "send_robust"

    def traced_send(self: Signal, sender: object, **named: Any) -> list[tuple[Any, Any]]:
        calls: list[ReceiverCall] = []
        start = perf_counter_ns()
        try:
            plan = _timed_plan(self, sender, calls)
            if robust:
                return _unwrap(self._send_robust_plan(plan, sender, named))
            return _unwrap(self._send_general(plan, sender, named))
        finally:
            _emit(self, sender, method, calls, start)

    traced_send.__name__ = traced_send.__qualname__ = method
    traced_send.__doc__ = getattr(Signal, method).__doc__
    return traced_send


def _traced_async(method: str) -> Callable[..., Any]:
    robust = method == "asend_robust"

    async def traced_send(self: Signal, sender: object, **named: Any) -> list[tuple[Any, Any]]:
        from ._async_send import asend

        calls: list[ReceiverCall] = []
        start = perf_counter_ns()
        try:
            plan = _timed_plan(self, sender, calls)
            return _unwrap(await asend(self, sender, named, robust=robust, plan=plan))
        finally:
            _emit(self, sender, method, calls, start)

    traced_send.__name__ = traced_send.__qualname__ = method
    traced_send.__doc__ = getattr(Signal, method).__doc__
    return traced_send


def install_tracer(callback: Callable[[SendTrace], None]) -> None:
    """Call ``callback`` with a :class:`SendTrace` after every send of every signal.

    Installing again replaces the callback. Affects every thread.
    """
    global _callback
    with _lock:
        _callback = callback
        if _originals:
            return
        for method in _METHODS:
            _originals[method] = Signal.__dict__[method]
        Signal.send = _traced_sync("send")  # type: ignore[method-assign]
        Signal.send_robust = _traced_sync("send_robust")  # type: ignore[method-assign]
        Signal.asend = _traced_async("asend")  # type: ignore[method-assign]
        Signal.asend_robust = _traced_async("asend_robust")  # type: ignore[method-assign]


def remove_tracer() -> None:
    """Stop tracing and restore the untraced send methods. Does nothing if none is installed."""
    global _callback
    with _lock:
        _callback = None
        for method, original in _originals.items():
            setattr(Signal, method, original)
        _originals.clear()
