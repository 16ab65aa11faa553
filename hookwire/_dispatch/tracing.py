"""Tracing every send, for ``hookwire run --trace``.

:func:`install_tracer` attaches a wrapper to every signal (through
:mod:`~hookwire._dispatch.wrappers`, innermost) that the send tells how long each receiver
took; :func:`remove_tracer` detaches it. The receivers are called exactly as without tracing
(no stand-in sits between a send and its receivers). Without a tracer the send methods are
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
from time import perf_counter_ns
from typing import Any

from .introspection import ReceiverInfo, describe_registration
from .receivers import receiver_key
from .signal import Signal
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


class _SendState:
    """What the tracer keeps for one send: when it started and what its receivers did."""

    __slots__ = ("calls", "infos", "start")

    def __init__(self, infos: dict[Any, ReceiverInfo]) -> None:
        self.infos = infos
        self.calls: list[ReceiverCall] = []
        self.start = perf_counter_ns()


def _infos(signal: Signal, sender: object) -> dict[Any, ReceiverInfo]:
    """The receivers ``send(sender)`` would call, described, by their identity."""
    infos = {}
    for reg in signal._table.registrations_for(sender):
        info = describe_registration(reg)
        if info is not None:
            infos[receiver_key(info.receiver)] = info
    return infos


class _Tracer(SendWrapper):
    """Innermost: times every receiver, then hands the callback the whole send."""

    layer = TRACE
    times_receivers = True

    def send_started(self, invocation: Invocation) -> _SendState:
        return _SendState(_infos(invocation.signal, invocation.sender))

    def receiver_called(
        self,
        invocation: Invocation,
        token: Any,
        receiver: Any,
        duration_ns: int,
        error: BaseException | None,
    ) -> None:
        state: _SendState = token
        info = state.infos.get(receiver_key(receiver))
        if info is not None:
            state.calls.append(ReceiverCall(info, duration_ns, error))

    def send_ended(
        self,
        invocation: Invocation,
        token: Any,
        responses: list[tuple[Any, Any]] | None,
        error: BaseException | None,
    ) -> None:
        state: _SendState = token
        callback = _callback
        if callback is not None:
            total = perf_counter_ns() - state.start
            trace = SendTrace(
                invocation.signal, invocation.sender, invocation.method, tuple(state.calls), total
            )
            callback(trace)


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
