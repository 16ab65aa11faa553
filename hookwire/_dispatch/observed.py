"""The send methods while a wrapper is attached (see :mod:`~hookwire._dispatch.wrappers`).

Each does what the plain method of :class:`~hookwire.Signal` does and tells the wrappers:
when it starts (a wrapper may stop it there, as ``muted()`` does), after each receiver
returned or raised (with how long it took, for the wrappers that time receivers) and when it
ends (with its responses or its error).

Like the plain methods, the sync ones call every sync receiver from their own frame, and the
async ones hand their sync receivers to the same function behind ``sync_to_async``: a
receiver finds the same frames above it, wrapped or not, as under Django. So the loops are
written out here once more instead of going through a helper (or through the plain method).

Imported when the first wrapper is attached, never by ``import hookwire``.
"""

from __future__ import annotations

from time import perf_counter_ns
from types import MethodType
from typing import Any

from .failures import duplicate_signal_argument, note_failure, robust_response, signal_given_twice
from .recursion import calls_receivers, forwards_sends, recursive_send_error
from .signal import Signal
from .table import live_receivers
from .wrappers import Invocation, end_send, start_send

__all__ = ["asend", "asend_robust", "send", "send_robust"]

Responses = list[tuple[Any, Any]]

_id = id


def _entries(plan: Any) -> tuple[tuple[Any, ...], list[Any] | None]:
    """The ``(getter, func)`` entries of a plan's sync receivers, and its live async
    receivers (``None`` when it has none)."""
    if plan.__class__ is tuple:
        return tuple((getter, None) for getter in plan), None
    return plan.sync, (live_receivers(plan.async_) if plan.async_ else None)


@calls_receivers
def send(signal: Signal, sender: object, **named: Any) -> Responses:
    """:meth:`hookwire.Signal.send`, told to the wrappers."""
    invocation = Invocation(signal, "send", sender, named)
    begun, timing, stopped = start_send(invocation)
    responses: Responses = []
    try:
        if not stopped:
            table = signal._table
            try:
                plan = signal._plans[_id(sender)]
            except KeyError:
                plan = table.plan_for(sender)
            if plan:
                if "signal" in named:
                    raise duplicate_signal_argument()
                arguments = {"signal": signal, "sender": sender, **named}
                entries, async_receivers = _entries(plan)
                if async_receivers:
                    from .asynchronous import refusal_in_running_loop

                    refusal = refusal_in_running_loop(signal, async_receivers, robust=False)
                    if refusal is not None:
                        raise refusal
                started = 0
                try:
                    for getter, func in entries:
                        receiver = getter()
                        if receiver is None:
                            continue
                        if func is not None:
                            receiver = MethodType(func, receiver)
                        if timing is not None:
                            started = perf_counter_ns()
                        try:
                            response = receiver(**arguments)
                        except BaseException as err:
                            if timing is not None:
                                timing.called(receiver, started, err)
                            raise
                        if timing is not None:
                            timing.called(receiver, started, None)
                        responses.append((receiver, response))
                except RecursionError as exc:
                    raise recursive_send_error(exc) from None
                except Exception as exc:
                    note_failure(signal.qualified_name, table, exc, receiver)
                    raise
                if async_receivers:
                    from .asynchronous import send_to_async_receivers

                    responses += send_to_async_receivers(
                        signal, table, async_receivers, sender, named, robust=False, timing=timing
                    )
    except BaseException as exc:
        error = end_send(invocation, begun, None, exc)
        if error is exc or error is None:
            raise
        # A wrapper's own failure replaces the send's, which is already its __context__.
        raise error  # noqa: B904
    error = end_send(invocation, begun, responses, None)
    if error is not None:
        raise error
    return responses


@calls_receivers
def send_robust(signal: Signal, sender: object, **named: Any) -> Responses:
    """:meth:`hookwire.Signal.send_robust`, told to the wrappers."""
    invocation = Invocation(signal, "send_robust", sender, named)
    begun, timing, stopped = start_send(invocation)
    responses: Responses = []
    try:
        if not stopped:
            table = signal._table
            try:
                plan = signal._plans[_id(sender)]
            except KeyError:
                plan = table.plan_for(sender)
            if "signal" in named:
                responses = signal_given_twice(signal, table, plan, sender)
            elif plan:
                arguments = {"signal": signal, "sender": sender, **named}
                entries, async_receivers = _entries(plan)
                refusal = None
                if async_receivers:
                    from .asynchronous import refusal_in_running_loop

                    refusal = refusal_in_running_loop(signal, async_receivers, robust=True)
                started = 0
                for getter, func in entries:
                    receiver = getter()
                    if receiver is None:
                        continue
                    if func is not None:
                        receiver = MethodType(func, receiver)
                    if timing is not None:
                        started = perf_counter_ns()
                    try:
                        response = receiver(**arguments)
                    except BaseException as err:
                        if timing is not None:
                            timing.called(receiver, started, err)
                        if not isinstance(err, Exception):
                            raise
                        response = robust_response(
                            signal.qualified_name, table, receiver, err, sender
                        )
                    else:
                        if timing is not None:
                            timing.called(receiver, started, None)
                    responses.append((receiver, response))
                if async_receivers:
                    from .asynchronous import refused_responses, send_to_async_receivers

                    if refusal is not None:
                        responses += refused_responses(
                            signal, table, async_receivers, refusal, sender
                        )
                    else:
                        responses += send_to_async_receivers(
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
        # A wrapper's own failure replaces the send's, which is already its __context__.
        raise error  # noqa: B904
    error = end_send(invocation, begun, responses, None)
    if error is not None:
        raise error
    return responses


@forwards_sends
async def _asend(signal: Signal, method: str, sender: object, named: dict[str, Any]) -> Responses:
    from .asynchronous import asend as run

    invocation = Invocation(signal, method, sender, named)
    begun, timing, stopped = start_send(invocation)
    responses: Responses = []
    try:
        if not stopped:
            robust = method == "asend_robust"
            responses = await run(
                signal, signal._table, sender, named, robust=robust, timing=timing
            )
    except BaseException as exc:
        error = end_send(invocation, begun, None, exc)
        if error is exc or error is None:
            raise
        # A wrapper's own failure replaces the send's, which is already its __context__.
        raise error  # noqa: B904
    error = end_send(invocation, begun, responses, None)
    if error is not None:
        raise error
    return responses


@forwards_sends
async def asend(signal: Signal, sender: object, **named: Any) -> Responses:
    """:meth:`hookwire.Signal.asend`, told to the wrappers."""
    return await _asend(signal, "asend", sender, named)


@forwards_sends
async def asend_robust(signal: Signal, sender: object, **named: Any) -> Responses:
    """:meth:`hookwire.Signal.asend_robust`, told to the wrappers."""
    return await _asend(signal, "asend_robust", sender, named)
