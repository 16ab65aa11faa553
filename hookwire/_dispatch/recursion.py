"""Telling runaway recursion through signals from a receiver's own ``RecursionError``.

Recursion is told by an explicit marker, not by names: the functions that call receivers
are registered with :func:`calls_receivers` (their code objects are kept), stand-ins that sit
between a send and an async receiver (its timer while a wrapper times receivers) with
:func:`stands_in`, and the steps between a sender and the dispatcher (the public ``asend``
methods, the observed async sends) with :func:`forwards_sends`. On a ``RecursionError`` the
stack is walked once; if the same (signal, receiver) pair appears many times, receivers keep
sending signals from inside each other, and the error names the chain.

A chain of sends can also leave the stack: a receiver that runs in a task of its own (the
task group of ``asend``, or a task the receiver creates) or behind asgiref in another thread
starts on a fresh stack, so nesting never reaches the recursion limit there. The async paths
therefore also record the sends running in a context variable (:class:`NestedSend`), which
tasks and asgiref carry along; :func:`nested_send_error` names the chain when they nest as
deep as the recursion limit, or when too many run nested in one send at once.

This module must stay import-light: the dispatcher imports it.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable
from itertools import pairwise
from types import CodeType
from typing import Any, TypeVar

from ..exceptions import RecursiveSendError

__all__ = [
    "NESTED_TOTAL_FACTOR",
    "SIGNAL_PARAMETERS",
    "NestedSend",
    "calls_receivers",
    "forget_tasks",
    "forwards_sends",
    "is_nesting_variable",
    "nested_send_error",
    "recursive_send_error",
    "sends_running",
    "share_with_tasks",
    "stands_in",
]

_F = TypeVar("_F", bound=Callable[..., Any])

# A (signal, receiver) pair seen this many times on one stack is a runaway chain.
_REPEATS = 8

# Code objects of the functions that call receivers (their first parameter is the signal,
# which the stack walk reads from their frames), and of the stand-ins that call a receiver on
# a send's behalf.
_SEND_CODES: set[CodeType] = set()
_STAND_IN_CODES: set[CodeType] = set()
# Every code object above, and those of the steps between a sender and the dispatcher.
_DISPATCH_CODES: set[CodeType] = set()


#: What the first parameter of a function marked with :func:`calls_receivers` may be named:
#: the signal (``self`` in ``Signal``'s own methods).
SIGNAL_PARAMETERS = ("signal", "self")


def calls_receivers(function: _F) -> _F:
    """Mark ``function`` as one that calls receivers; its first parameter is the signal.

    :raises TypeError: the first parameter is not named ``signal`` (or ``self``): on a
        runaway chain the stack walk reads the signal from that parameter, and would name a
        wrong one, or none, silently.
    """
    code = function.__code__
    if not code.co_argcount or code.co_varnames[0] not in SIGNAL_PARAMETERS:
        found = f"{code.co_varnames[0]!r} first" if code.co_argcount else "no parameter"
        raise TypeError(
            f"@calls_receivers needs the signal as the first parameter of "
            f"{function.__qualname__}, named {' or '.join(SIGNAL_PARAMETERS)}; it takes {found}"
        )
    _SEND_CODES.add(function.__code__)
    _DISPATCH_CODES.add(function.__code__)
    return function


def stands_in(function: _F) -> _F:
    """Mark ``function`` as calling a receiver on a send's behalf (a timer, a wrapper)."""
    _STAND_IN_CODES.add(function.__code__)
    _DISPATCH_CODES.add(function.__code__)
    return function


def forwards_sends(function: _F) -> _F:
    """Mark ``function`` as a step between a sender and the dispatcher (``Signal.asend``, a
    send wrapper): the sender is the first frame outside such steps."""
    _DISPATCH_CODES.add(function.__code__)
    return function


# -- runaway recursion on one stack -----------------------------------------------------


def _frame_name(frame: Any) -> str:
    return f"{frame.f_globals.get('__name__', '?')}.{frame.f_code.co_qualname}"


def _chain_on_stack() -> list[tuple[str, str]]:
    """``(signal, receiver)`` name pairs of the sends on the current stack, outermost first.

    Walking outwards, the receiver of a send is the nearest frame inside it that is neither a
    send nor a stand-in.
    """
    pairs: list[tuple[str, str]] = []
    frame: Any = sys._getframe(1)
    inner: Any = None
    while frame is not None:
        code = frame.f_code
        if code in _SEND_CODES:
            signal = frame.f_locals.get(code.co_varnames[0])  # see calls_receivers()
            if inner is not None and signal is not None:
                pairs.append((str(getattr(signal, "qualified_name", "?")), _frame_name(inner)))
            inner = None
        elif code not in _STAND_IN_CODES:
            inner = frame
        frame = frame.f_back
    pairs.reverse()
    return pairs


def _runaway_error(
    pairs: list[tuple[str, str]], repeats: int, until: str
) -> RecursiveSendError | None:
    """The :class:`RecursiveSendError` naming the cycle in ``pairs`` (outermost first), or
    ``None`` when no pair appears ``repeats`` times."""
    counts: dict[tuple[str, str], int] = {}
    for pair in pairs:
        counts[pair] = counts.get(pair, 0) + 1
    if not counts or max(counts.values()) < repeats:
        return None
    # The cycle: from the first pair that repeats up to its next occurrence.
    first = next(pair for pair in pairs if counts[pair] >= repeats)
    start = pairs.index(first)
    end = pairs.index(first, start + 1)
    cycle = pairs[start:end]
    chain = [name for pair in cycle for name in pair] + [cycle[0][0]]
    message = (
        f"signal {cycle[0][0]} was sent recursively from its own receivers: "
        f"{' -> '.join(chain)} -> ... (at least {counts[first]} times, {until}); "
        "guard the receiver against re-entry or send from elsewhere"
    )
    return RecursiveSendError(message, chain=chain)


def recursive_send_error(error: RecursionError, *, robust: bool = False) -> Any:
    """The :class:`RecursiveSendError` that ``error`` amounts to, if any.

    Returns ``error`` itself when it already is one, or when the stack is too exhausted to
    look (an outer send will look again). When the stack shows no runaway chain of sends,
    returns ``error`` (``None`` with ``robust=True``, so ``send_robust`` records it as the
    receiver's own failure).
    """
    if isinstance(error, RecursiveSendError):
        return error
    try:
        until = "until Python's recursion limit"
        found = _runaway_error(_chain_on_stack(), _REPEATS, until)
        if found is None:
            # The limit may have been reached on another stack (a thread behind asgiref)
            # while sends nested across tasks: the context's record of them tells.
            nested = _recorded()[1]
            if len(nested) > _REPEATS:
                found = _runaway_error(_nested_pairs(nested), _REPEATS, until)
        if found is None:
            return None if robust else error
        return found
    except RecursionError:
        return error


# -- sends nested across tasks and threads ----------------------------------------------

#: Sends nested in one send that may run at once, as a multiple of Python's recursion limit.
NESTED_TOTAL_FACTOR = 10

# CO_COROUTINE | CO_ITERABLE_COROUTINE | CO_ASYNC_GENERATOR
_ASYNC_CODE_FLAGS = 0x80 | 0x100 | 0x200


class _Send:
    """One running send that can leave the stack, as the context records it.

    What it is never changes (``signal``; ``sender``, the code and module of the function that
    sent it, ``None`` when a task started it; ``outermost``, the send it is nested in that was
    running when it began, ``None`` for an outermost one). Two facts change, each only through
    a method and each written by one party: whether it still runs (by the send itself, once, as
    it returns: a task a receiver leaves running keeps the record and must know), and, on an
    outermost send, how many sends nested in it run now (every nested send counts itself in
    and out under the lock: they may run in other tasks and threads).
    """

    __slots__ = ("_nested", "_running", "outermost", "sender", "signal")

    _lock = threading.Lock()

    def __init__(
        self, signal: Any, sender: tuple[CodeType, str] | None, outermost: _Send | None
    ) -> None:
        self.signal = signal
        self.sender = sender
        self.outermost = outermost
        self._running = True
        self._nested = 0

    @property
    def running(self) -> bool:
        """Whether the send has not returned yet."""
        return self._running

    def begin_nested(self, limit: int) -> int:
        """Count one more send nested in this one and return how many ran before it, unless
        ``limit`` of them run already (then count nothing and return ``limit``)."""
        with self._lock:
            running = self._nested
            if running < limit:
                self._nested = running + 1
            return running

    def finish(self) -> None:
        """The send returned: it runs no more, and no longer counts in its outermost send."""
        self._running = False
        outermost = self.outermost
        if outermost is not None:
            with self._lock:
                outermost._nested -= 1


# The sends running in the context, outermost first: an immutable tuple of records, replaced
# (never changed in place) by each send that begins or ends. Tasks and asgiref's threads carry
# it along, so a send nested in another finds it even on a fresh stack.
_RUNNING: contextvars.ContextVar[tuple[_Send, ...]] = contextvars.ContextVar(
    "hookwire_nested_sends", default=()
)


# The sends running in each task of a task group whose tasks share one context (the receivers
# of one asend): a receiver's sends are recorded for its own task here, so that the other
# receivers of the same send, which read and write the very same context, never take them for
# sends they are nested in. Written by the group (share_with_tasks, before its tasks start;
# forget_tasks, once they are done) and by each task's own sends, only for that task.
_IN_TASK: dict[Any, tuple[_Send, ...]] = {}


def _current_task() -> Any:
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return None
    try:
        return asyncio.current_task()
    except RuntimeError:  # no event loop runs in this thread
        return None


def _recorded() -> tuple[Any, tuple[_Send, ...]]:
    """The task whose own record applies here (``None``: the context's) and that record."""
    if _IN_TASK:
        task = _current_task()
        if task is not None:
            sends = _IN_TASK.get(task)
            if sends is not None:
                return task, sends
    return None, _RUNNING.get()


def share_with_tasks(tasks: list[Any]) -> None:
    """Record, for each of ``tasks`` (created to share this task's context, not started yet),
    the sends running here: what each is nested in, whatever the others send later."""
    _IN_TASK.update(dict.fromkeys(tasks, sends_running()))


def forget_tasks(tasks: list[Any]) -> None:
    """Drop the records of ``tasks`` once they are done (see :func:`share_with_tasks`)."""
    for task in tasks:
        _IN_TASK.pop(task, None)


def is_nesting_variable(variable: contextvars.ContextVar[Any]) -> bool:
    """Whether ``variable`` is the record of nested sends (never handed between contexts as
    a receiver's change)."""
    return variable is _RUNNING


def sends_running() -> tuple[_Send, ...]:
    """The sends that can leave the stack running in this context, outermost first."""
    return tuple(send for send in _recorded()[1] if send.running)


def _sending_frame(frame: Any, awaited: bool) -> tuple[CodeType, str] | None:
    """The code and module of the function that sent from ``frame`` outwards: the first
    frame that is none of the dispatcher's own steps. ``None`` when an awaited send was
    started by a task rather than awaited by a coroutine (the sender waits in another task)."""
    while frame is not None and frame.f_code in _DISPATCH_CODES:
        frame = frame.f_back
    if frame is None or (awaited and not frame.f_code.co_flags & _ASYNC_CODE_FLAGS):
        return None
    return frame.f_code, str(frame.f_globals.get("__name__", "?"))


def _nested_pairs(sends: tuple[_Send, ...]) -> list[tuple[str, str]]:
    """``(signal, receiver)`` name pairs of nested sends: each send's sender is a receiver of
    the send around it."""
    pairs = []
    for outer, inner in pairwise(sends):
        sender = inner.sender
        name = "(a task)" if sender is None else f"{sender[1]}.{sender[0].co_qualname}"
        pairs.append((str(getattr(outer.signal, "qualified_name", "?")), name))
    return pairs


def nested_send_error(sends: tuple[_Send, ...], until: str | None = None) -> RecursiveSendError:
    """The error for sends nested as deep as Python's recursion limit, each maybe on a
    stack of its own, or (``until`` says so) for too many nested sends running at once.
    ``sends`` are the running ones, outermost first, ending with the send that is refused."""
    pairs = _nested_pairs(sends)
    if until is None:
        until = f"{len(pairs)} sends deep across tasks or threads, Python's recursion limit"
    error = _runaway_error(pairs, 2, until)
    if error is None:  # no pair repeats: name the innermost sends
        chain = [name for pair in pairs[-_REPEATS:] for name in pair]
        error = RecursiveSendError(
            f"signals were sent from inside each other's receivers {until}: "
            f"... -> {' -> '.join(chain)}",
            chain=chain,
        )
    return error


class NestedSend:
    """The record of one send that can leave the stack (``asend``/``asend_robust``, and
    ``send`` handing async receivers to ``async_to_sync``), kept in the context while the
    block runs::

        with NestedSend(signal, awaited=True):
            ...  # the receivers run here, in this task, other tasks or threads

    Who sent it is the first frame outside the dispatcher's own steps (the functions marked
    with :func:`calls_receivers` or :func:`forwards_sends`), however many of them lie between.

    :raises RecursiveSendError: on entering, when sends are already nested as deep as Python's
        recursion limit, or :data:`NESTED_TOTAL_FACTOR` times that many are nested in the
        outermost running send and still running.
    """

    __slots__ = ("_awaited", "_outer", "_send", "_signal", "_task")

    def __init__(self, signal: Any, *, awaited: bool) -> None:
        self._signal = signal
        self._awaited = awaited

    def __enter__(self) -> None:
        task, outer = _recorded()
        self._task = task
        self._outer = outer
        running = tuple(send for send in outer if send.running) if outer else ()
        if not running:
            send = self._send = _Send(self._signal, None, None)
            self._record((send,))
            return
        outermost = running[0]
        sender = _sending_frame(sys._getframe(), self._awaited)
        send = _Send(self._signal, sender, outermost)
        limit = sys.getrecursionlimit()
        if len(running) >= limit:
            raise nested_send_error((*running, send))
        total = NESTED_TOTAL_FACTOR * limit
        before = outermost.begin_nested(total)
        if before >= total:
            until = (
                f"{before} sends nested in one send running at once, "
                f"{NESTED_TOTAL_FACTOR} times Python's recursion limit"
            )
            raise nested_send_error((*running, send), until)
        self._send = send
        self._record((*running, send))

    def _record(self, sends: tuple[_Send, ...]) -> None:
        # In the context, for the tasks and threads started from here; for this task alone
        # too when it shares its context with other receivers.
        if self._task is not None:
            _IN_TASK[self._task] = sends
        _RUNNING.set(sends)

    def __exit__(self, *exc_info: object) -> None:
        send = self._send
        send.finish()
        if self._task is not None and self._task in _IN_TASK:
            _IN_TASK[self._task] = self._outer
        current = _RUNNING.get()
        if current and current[-1] is send:
            _RUNNING.set(self._outer)
        else:
            # Receivers running in one task group share one context: another one's send
            # began or ended there meanwhile. Take out only this send's record.
            _RUNNING.set(tuple(other for other in current if other is not send))


forwards_sends(NestedSend.__enter__)
