"""The async paths: ``asend``/``asend_robust``, and ``send`` reaching async receivers.

This is the only dispatch module that imports :mod:`asyncio` and asgiref; it is imported the
first time an async path runs, never by ``import hookwire``.

Semantics follow Django 6.1:

* ``asend``: sync receivers run first, together, in one ``sync_to_async`` call (asgiref's
  thread-sensitive executor); then async receivers run concurrently. A sync receiver that
  does its work on a thread of its own (a remote receiver's publish) has a ``start_call``
  method: that is called instead, returns a started call (``future()`` of the response,
  monotonic ``deadline``, ``expired()`` the error once it passed), and the send awaits it on
  the loop after the other sync receivers returned. So concurrent ``asend`` calls do not wait
  on that one thread for each other's publishes.
* ``send`` with async receivers: sync receivers are called directly, then the async ones
  concurrently inside one ``async_to_sync`` call.
* Async receivers run concurrently under one ``asyncio.TaskGroup``, each in a task of its
  own, all sharing one copy of the caller's context (a lone receiver is simply awaited), so
  a receiver sees what one started before it set. Afterwards, context variables the
  receivers changed are set in the caller's context. Sync receivers behind
  ``sync_to_async``/``async_to_sync`` see and propagate context changes through asgiref. So
  in all four combinations of sync/async sender and receiver, a receiver sees the sender's
  context variables and the sender sees what the receivers set.
* Nested sends: each send that can leave the stack (``asend``/``asend_robust``, and ``send``
  handing async receivers to ``async_to_sync``) records itself in a context variable for as
  long as it runs; the tasks it creates and asgiref carry that record along, so a send nested
  as deep as Python's recursion limit is refused with a ``RecursiveSendError`` even when every
  level runs on a fresh stack, and so is the send that would make too many sends nested in
  one send run at once, as receivers that fan out do (see :mod:`hookwire._dispatch.recursion`).
* Failure policy (``asend`` and ``send``), Django 6.1's: the first failing async receiver
  makes the task group cancel the others and wait for them (no task outlives the send).
  Receivers already scheduled still start, so several can fail in the same loop step. One
  failure is raised as itself; several are raised together as an ``ExceptionGroup``.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync, sync_to_async

from ..exceptions import RecursiveSendError, SyncSendInEventLoopError
from .failures import log_robust_failure, note_failure, receiver_failed
from .receivers import describe_callable
from .recursion import (
    NestedSend,
    calls_receivers,
    forget_tasks,
    forwards_sends,
    is_nesting_variable,
    share_with_tasks,
    stands_in,
)
from .table import receivers_of_plan

if TYPE_CHECKING:
    from .signal import Signal
    from .table import ReceiverTable
    from .wrappers import ReceiverTiming

__all__ = ["asend", "refusal_in_running_loop", "refused_responses", "send_to_async_receivers"]


@calls_receivers
def _call_sync(
    signal: Signal,
    table: ReceiverTable,
    receivers: list[Any],
    sender: object,
    named: dict[str, Any],
    robust: bool,
    timing: ReceiverTiming | None = None,
    start: bool = False,
) -> list[tuple[Any, Any]]:
    # Django's asend calls its sync receivers from one function behind sync_to_async; this is
    # that function, and it calls each receiver itself (timing included) so that a receiver's
    # warnings.warn(stacklevel=...) points where it points under Django.
    arguments = {"signal": signal, "sender": sender, **named}
    responses = []
    started: Any = None
    for receiver in receivers:
        if timing is not None:
            started = timing.starting(receiver)
        try:
            response: Any
            if start and (start_call := getattr(receiver, "start_call", None)) is not None:
                response = _Started(start_call(**arguments))
            else:
                response = receiver(**arguments)
        except BaseException as err:
            if timing is not None:
                timing.called(receiver, started, err)
            if not isinstance(err, Exception):
                raise
            response = receiver_failed(
                signal.qualified_name, table, receiver, err, sender, robust=robust
            )
            if not robust:
                if response is not None:
                    raise response from None
                raise
        else:
            if timing is not None:
                timing.called(receiver, started, None)
        responses.append((receiver, response))
    return responses


# Built once: asgiref's wrapper is reusable, and building it per send costs more than the hop.
_call_sync_in_thread: Callable[..., Awaitable[list[tuple[Any, Any]]]] = sync_to_async(_call_sync)


class _Started:
    """A sync receiver's call started by ``start_call``, to be awaited on the loop."""

    __slots__ = ("call",)

    def __init__(self, call: Any) -> None:
        self.call = call


async def _finish(call: Any) -> Any:
    remaining = max(0.0, call.deadline - time.monotonic())
    try:
        return await asyncio.wait_for(asyncio.wrap_future(call.future()), remaining)
    except TimeoutError:
        raise call.expired() from None


async def _finish_started(
    signal: Signal,
    table: ReceiverTable,
    responses: list[tuple[Any, Any]],
    sender: object,
    robust: bool,
) -> None:
    """Replace each started call in ``responses`` by its outcome, all awaited together."""
    started = [i for i, (_, response) in enumerate(responses) if type(response) is _Started]
    if not started:
        return
    outcomes = await asyncio.gather(
        *(_finish(responses[i][1].call) for i in started), return_exceptions=True
    )
    failure: Exception | None = None
    for index, outcome in zip(started, outcomes, strict=True):
        receiver = responses[index][0]
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, Exception):
                raise outcome
            if robust:
                outcome = receiver_failed(
                    signal.qualified_name, table, receiver, outcome, sender, robust=True
                )
            elif failure is None:
                failure = outcome
                instead = receiver_failed(
                    signal.qualified_name, table, receiver, outcome, sender, robust=False
                )
                if instead is not None:
                    failure = instead
        responses[index] = (receiver, outcome)
    if failure is not None:
        raise failure


_UNSET = object()


def _propagate_changes(before: contextvars.Context, after: contextvars.Context) -> None:
    """Set in the current context every variable the receivers changed in ``after``.

    ``before`` is the state ``after`` started from: only what changed since is set, so a
    variable the receivers left alone keeps whatever the caller's context holds.
    """
    for variable, value in after.items():
        if before.get(variable, _UNSET) is not value and not is_nesting_variable(variable):
            variable.set(value)


@calls_receivers
async def _call_one(
    signal: Signal,
    table: ReceiverTable,
    receiver: Any,
    sender: object,
    named: dict[str, Any],
    robust: bool,
    timing: ReceiverTiming | None = None,
    concurrent: bool = False,
) -> Any:
    started: Any = timing.starting(receiver, concurrent) if timing is not None else None
    try:
        response = await receiver(signal=signal, sender=sender, **named)
    except BaseException as err:
        if timing is not None:
            timing.called(receiver, started, err)
        if not isinstance(err, Exception):
            raise
        response = receiver_failed(
            signal.qualified_name, table, receiver, err, sender, robust=robust
        )
        if robust:
            return response
        if response is not None:
            raise response from None
        raise
    if timing is not None:
        timing.called(receiver, started, None)
    return response


@stands_in
async def _timed(receiver: Any, arguments: dict[str, Any], timing: ReceiverTiming) -> Any:
    """An async receiver of a plain send run in a task of the group, watched by the observers
    (failures are named by :func:`_note_failures` afterwards, as for unwatched receivers)."""
    started = timing.starting(receiver, concurrent=True)
    try:
        response = await receiver(**arguments)
    except BaseException as err:
        timing.called(receiver, started, err)
        raise
    timing.called(receiver, started, None)
    return response


async def _send_async_group(
    signal: Signal,
    table: ReceiverTable,
    receivers: list[Any],
    sender: object,
    named: dict[str, Any],
    robust: bool,
    timing: ReceiverTiming | None = None,
) -> list[tuple[Any, Any]]:
    """Run async receivers concurrently; see the module docstring for the failure policy."""
    if len(receivers) == 1:
        # One receiver: a task would only add a context copy and a loop round trip; awaiting
        # it here gives the same results, context effects, errors and cancellation.
        receiver = receivers[0]
        return [(receiver, await _call_one(signal, table, receiver, sender, named, robust, timing))]
    before = contextvars.copy_context()
    # Every receiver runs in a task of its own, all sharing one copy of the caller's
    # context, as in Django 6.1: a receiver sees what one before it set, and failures that
    # happen in the same loop step are all raised, together. (Running one receiver in this
    # task instead would give it the caller's context and let the task group cancel the
    # others before they start when it fails at once.)
    context = before.copy()
    arguments = {"signal": signal, "sender": sender, **named}
    tasks: list[asyncio.Task[Any]] = []
    try:
        async with asyncio.TaskGroup() as group:
            for receiver in receivers:
                # Robust sends wrap each receiver to turn its failure into its response;
                # plain sends run the receiver's coroutine as the task itself (one
                # coroutine per receiver) and name a failing receiver afterwards.
                if robust:
                    coroutine = _call_one(
                        signal, table, receiver, sender, named, True, timing, concurrent=True
                    )
                elif timing is not None:
                    coroutine = _timed(receiver, arguments, timing)
                else:
                    coroutine = receiver(**arguments)
                tasks.append(group.create_task(coroutine, context=context))
            # They share one context: each records its own sends apart (before any starts).
            share_with_tasks(tasks)
    except BaseExceptionGroup as grouped:
        if not robust:
            _note_failures(signal, table, receivers, tasks, grouped)
        if len(grouped.exceptions) == 1 or all(
            isinstance(error, RecursiveSendError) for error in grouped.exceptions
        ):
            # Receivers fanning out reach the bound on nested sends in the same loop step:
            # one runaway, raised as one error.
            raise grouped.exceptions[0] from None
        raise
    finally:
        forget_tasks(tasks)
        _propagate_changes(before, context)
    return [(receiver, task.result()) for receiver, task in zip(receivers, tasks, strict=True)]


def _note_failures(
    signal: Signal,
    table: ReceiverTable,
    receivers: list[Any],
    tasks: list[asyncio.Task[Any]],
    grouped: BaseException,
) -> None:
    """Name each failing receiver on its exception; runaway recursion becomes its error."""
    for receiver, task in zip(receivers, tasks, strict=False):
        if task.cancelled():
            continue
        error = task.exception()
        if isinstance(error, RecursionError):
            continue
        if isinstance(error, Exception):
            note_failure(signal.qualified_name, table, error, receiver)


# Built once, like _call_sync_in_thread: asgiref's AsyncToSync keeps no per-call state.
_send_async_group_blocking: Callable[..., list[tuple[Any, Any]]] = async_to_sync(_send_async_group)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    return asyncio._get_running_loop()


def refusal_in_running_loop(
    signal: Signal, async_receivers: list[Any], *, robust: bool
) -> SyncSendInEventLoopError | None:
    """The error ``send``/``send_robust`` gives async receivers when called from a running
    event loop (``send`` raises it before calling anyone); ``None`` outside a loop."""
    if _running_loop() is None:
        return None
    names = [describe_callable(r) for r in async_receivers]
    name = signal.qualified_name
    message = (
        f"{name}.{'send_robust' if robust else 'send'}() was called from a "
        f"running event loop, but async receivers are connected ({', '.join(names)}); "
        f"use 'await {name}.{'asend_robust' if robust else 'asend'}()'"
    )
    return SyncSendInEventLoopError(message, receivers=names)


def refused_responses(
    signal: Signal,
    table: ReceiverTable,
    async_receivers: list[Any],
    refusal: SyncSendInEventLoopError,
    sender: object,
) -> list[tuple[Any, Any]]:
    """``send_robust`` in a running loop: each async receiver's response is a
    :class:`SyncSendInEventLoopError` of its own (with its traceback), logged as a failure."""
    responses: list[tuple[Any, Any]] = []
    for receiver in async_receivers:
        try:
            raise SyncSendInEventLoopError(str(refusal), receivers=refusal.receivers)
        except SyncSendInEventLoopError as err:
            log_robust_failure(signal.qualified_name, table, receiver, err, sender)
            responses.append((receiver, err))
    return responses


@forwards_sends
def send_to_async_receivers(
    signal: Signal,
    table: ReceiverTable,
    async_receivers: list[Any],
    sender: object,
    named: dict[str, Any],
    *,
    robust: bool,
    timing: ReceiverTiming | None = None,
) -> list[tuple[Any, Any]]:
    """``send``/``send_robust`` reaching async receivers, after the sync ones: one
    ``async_to_sync`` call running them concurrently."""
    with NestedSend(signal, awaited=False):
        return _send_async_group_blocking(
            signal, table, async_receivers, sender, named, robust, timing
        )


@forwards_sends
async def asend(
    signal: Signal,
    table: ReceiverTable,
    sender: object,
    named: dict[str, Any],
    *,
    robust: bool,
    timing: ReceiverTiming | None = None,
) -> list[tuple[Any, Any]]:
    """``asend``/``asend_robust``: see the module docstring. ``timing`` is given by the
    observed sends when an observer watches receivers."""
    try:
        plan = table.plans[id(sender)]
    except KeyError:
        plan = table.plan_for(sender)
    sync_receivers, async_receivers = receivers_of_plan(plan)
    responses: list[tuple[Any, Any]] = []
    if not (sync_receivers or async_receivers):
        return responses
    # Recorded in the context for the tasks and threads the receivers run in (see the module
    # docstring and NestedSend).
    with NestedSend(signal, awaited=True):
        if sync_receivers:
            responses = await _call_sync_in_thread(
                signal, table, sync_receivers, sender, named, robust, timing, True
            )
            await _finish_started(signal, table, responses, sender, robust)
        if async_receivers:
            responses.extend(
                await _send_async_group(
                    signal, table, async_receivers, sender, named, robust, timing
                )
            )
    return responses
