"""The send methods while an observer is attached (see :mod:`~hookwire._dispatch.wrappers`).

Each does what the plain method of :class:`~hookwire.Signal` does and tells the observers:
when it starts (``muted()`` stops it there), around each receiver (before the call, and once
it returned or raised with how long it took, for the observers that watch receivers) and when
it ends (with its responses or its error).

Like the plain methods, the sync ones call every sync receiver from their own frame, and the
async ones hand their sync receivers to the same function behind ``sync_to_async``: a
receiver finds the same frames above it, wrapped or not, as under Django. So the loops are
written out here once more instead of going through a helper (or through the plain method).

Imported when the first observer is attached, never by ``import hookwire``.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import repeat
from types import MethodType
from typing import Any

from .failures import duplicate_signal_argument, receiver_failed, signal_given_twice
from .observers import ObservedSend
from .recursion import calls_receivers, forwards_sends
from .signal import Signal, async_paths
from .table import receivers_of_entries
from .wrappers import end_send, start_send

__all__ = ["asend", "asend_robust", "send", "send_robust"]

Responses = list[tuple[Any, Any]]


_NONES = repeat(None)


def _entries(plan: Any) -> tuple[Iterable[tuple[Any, Any]], list[Any] | None]:
    """The ``(getter, func)`` entries of a plan's sync receivers, and its live async
    receivers (``None`` when it has none)."""
    if plan.__class__ is tuple:
        # Walked once: pairing lazily costs a third of pairing into a tuple.
        return zip(plan, _NONES, strict=False), None
    return plan.sync, (receivers_of_entries(plan.async_) if plan.async_ else None)


@calls_receivers
def send(signal: Signal, sender: object, **named: Any) -> Responses:
    """:meth:`hookwire.Signal.send`, told to the observers."""
    invocation = ObservedSend(signal, "send", sender, named)
    begun, timing, stopped = start_send(invocation)
    responses: Responses = []
    try:
        if not stopped:
            plan, table = signal._plan_and_table(sender)
            if plan:
                if "signal" in named:
                    raise duplicate_signal_argument()
                arguments = {"signal": signal, "sender": sender, **named}
                entries, async_receivers = _entries(plan)
                if async_receivers:
                    refusal = async_paths().refusal_in_running_loop(
                        signal, async_receivers, robust=False
                    )
                    if refusal is not None:
                        raise refusal
                started: Any = None
                try:
                    for getter, func in entries:
                        receiver = getter()
                        if receiver is None:
                            continue
                        if func is not None:
                            receiver = MethodType(func, receiver)
                        if timing is not None:
                            started = timing.starting(receiver)
                        try:
                            response = receiver(**arguments)
                        except BaseException as err:
                            if timing is not None:
                                timing.called(receiver, started, err)
                            raise
                        if timing is not None:
                            timing.called(receiver, started, None)
                        responses.append((receiver, response))
                except Exception as exc:
                    instead = receiver_failed(
                        signal.qualified_name, table, receiver, exc, robust=False
                    )
                    if instead is not None:
                        raise instead from None
                    raise
                if async_receivers:
                    responses += async_paths().send_to_async_receivers(
                        signal, table, async_receivers, sender, named, robust=False, timing=timing
                    )
    except BaseException as exc:
        error = end_send(invocation, begun, None, exc)
        if error is exc or error is None:
            raise
        # An observer's own failure replaces the send's, which is already its __context__.
        raise error  # noqa: B904
    error = end_send(invocation, begun, responses, None)
    if error is not None:
        raise error
    return responses


@calls_receivers
def send_robust(signal: Signal, sender: object, **named: Any) -> Responses:
    """:meth:`hookwire.Signal.send_robust`, told to the observers."""
    invocation = ObservedSend(signal, "send_robust", sender, named)
    begun, timing, stopped = start_send(invocation)
    responses: Responses = []
    try:
        if not stopped:
            plan, table = signal._plan_and_table(sender)
            if "signal" in named:
                responses = signal_given_twice(signal, table, plan, sender)
            elif plan:
                arguments = {"signal": signal, "sender": sender, **named}
                entries, async_receivers = _entries(plan)
                refusal = None
                if async_receivers:
                    refusal = async_paths().refusal_in_running_loop(
                        signal, async_receivers, robust=True
                    )
                started: Any = None
                for getter, func in entries:
                    receiver = getter()
                    if receiver is None:
                        continue
                    if func is not None:
                        receiver = MethodType(func, receiver)
                    if timing is not None:
                        started = timing.starting(receiver)
                    try:
                        response = receiver(**arguments)
                    except BaseException as err:
                        if timing is not None:
                            timing.called(receiver, started, err)
                        if not isinstance(err, Exception):
                            raise
                        response = receiver_failed(
                            signal.qualified_name, table, receiver, err, sender, robust=True
                        )
                    else:
                        if timing is not None:
                            timing.called(receiver, started, None)
                    responses.append((receiver, response))
                if async_receivers:
                    if refusal is not None:
                        responses += async_paths().refused_responses(
                            signal, table, async_receivers, refusal, sender
                        )
                    else:
                        responses += async_paths().send_to_async_receivers(
                            signal,
                            table,
                            async_receivers,
                            sender,
                            named,
                            robust=True,
                            timing=timing,
                        )
    except BaseException as exc:
        error = end_send(invocation, begun, None, exc)
        if error is exc or error is None:
            raise
        # An observer's own failure replaces the send's, which is already its __context__.
        raise error  # noqa: B904
    error = end_send(invocation, begun, responses, None)
    if error is not None:
        raise error
    return responses


@forwards_sends
async def _asend(signal: Signal, method: str, sender: object, named: dict[str, Any]) -> Responses:
    run = async_paths().asend
    invocation = ObservedSend(signal, method, sender, named)
    begun, timing, stopped = start_send(invocation)
    responses: Responses = []
    try:
        if not stopped:
            robust = method == "asend_robust"
            # asend reads the plan again from the table: a dict hit once it is built.
            _, table = signal._plan_and_table(sender)
            responses = await run(signal, table, sender, named, robust=robust, timing=timing)
    except BaseException as exc:
        error = end_send(invocation, begun, None, exc)
        if error is exc or error is None:
            raise
        # An observer's own failure replaces the send's, which is already its __context__.
        raise error  # noqa: B904
    error = end_send(invocation, begun, responses, None)
    if error is not None:
        raise error
    return responses


@forwards_sends
async def asend(signal: Signal, sender: object, **named: Any) -> Responses:
    """:meth:`hookwire.Signal.asend`, told to the observers."""
    return await _asend(signal, "asend", sender, named)


@forwards_sends
async def asend_robust(signal: Signal, sender: object, **named: Any) -> Responses:
    """:meth:`hookwire.Signal.asend_robust`, told to the observers."""
    return await _asend(signal, "asend_robust", sender, named)
