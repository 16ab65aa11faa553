"""A receiver's failure: the note ``send`` adds, the log line ``send_robust`` writes, and
telling runaway recursion through signals from a receiver's own ``RecursionError``.

Everything here runs on failure paths only and never raises, whatever the receiver or the
exception (partials, callable objects, broken ``__repr__``/``__str__``).

**The log line** is Django's, word for word: ``"Error calling %s in Signal.send_robust()
(%s)"`` with the receiver's ``__qualname__`` and the exception as its arguments, at ERROR on
the logger ``hookwire.dispatch`` (and, once hookwire is Django's dispatcher, on
``django.dispatch``: see :func:`also_log_on`), with the traceback. What hookwire knows beyond
that is on the record as attributes: ``signal`` (its qualified name), ``receiver``
(``module.qualname``), ``receiver_module`` and ``plugin`` (the plugin that connected the
receiver, or ``None``).

**Recursion** is told by an explicit marker, not by names: the functions that call receivers
are registered with :func:`calls_receivers` (their code objects are kept), stand-ins that sit
between a send and an async receiver (its timer while a wrapper times receivers) with
:func:`stands_in`, and the steps between a sender and the dispatcher (the public ``asend``
methods, the observed async sends) with :func:`forwards_sends`. On a ``RecursionError`` the
stack is walked once; if the same (signal, receiver) pair appears many times, receivers keep
sending signals from inside each other, and the error names the chain.

A chain of sends can also leave the stack: a receiver that runs in a task of its own (the
task group of ``asend``, or a task the receiver creates) or behind asgiref in another thread
starts on a fresh stack, so nesting never reaches the recursion limit there. The async paths
therefore also count nested sends in a context variable, which tasks and asgiref carry along;
:func:`nested_send_error` names the chain when that count reaches the recursion limit.
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Callable
from itertools import pairwise
from types import CodeType
from typing import Any, TypeVar

from ..exceptions import RecursiveSendError
from . import attribution
from .receivers import OWNER, describe_callable, names_of, registration_plugin
from .table import ReceiverTable, split_plan

__all__ = [
    "LOGGER_NAME",
    "NESTED_SENDS",
    "also_log_on",
    "calls_receivers",
    "duplicate_signal_argument",
    "forwards_sends",
    "leave_send",
    "log_robust_failure",
    "nest_send",
    "nested_send_error",
    "note_failure",
    "outermost_send",
    "plugin_of",
    "recursive_send_error",
    "robust_response",
    "safe_str",
    "signal_given_twice",
    "stands_in",
]

LOGGER_NAME = "hookwire.dispatch"

#: Django's message for a receiver failing under ``send_robust``/``asend_robust``.
ROBUST_FAILURE_MESSAGE = "Error calling %s in Signal.send_robust() (%s)"

_F = TypeVar("_F", bound=Callable[..., Any])

# A (signal, receiver) pair seen this many times on one stack is a runaway chain.
_REPEATS = 8

# Code objects of the functions that call receivers (their first argument is the signal),
# and of the stand-ins that call a receiver on a send's behalf.
_SEND_CODES: set[CodeType] = set()
_STAND_IN_CODES: set[CodeType] = set()
# Every code object above, and those of the steps between a sender and the dispatcher.
_DISPATCH_CODES: set[CodeType] = set()


def calls_receivers(function: _F) -> _F:
    """Mark ``function`` (whose first parameter is the signal) as one that calls receivers."""
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


def plugin_of(table: ReceiverTable, receiver: object, sender: object = None) -> str | None:
    """The plugin that connected ``receiver``, or owns its module; ``None`` if neither."""
    try:
        reg = table.find(receiver, sender)
        if reg is not None and reg[OWNER] is not None:
            return registration_plugin(reg)
        module = getattr(receiver, "__module__", None)
        return attribution.plugin_for_module(module if isinstance(module, str) else None)
    except Exception:
        return None


def safe_str(value: object) -> str:
    """``str(value)``, or a placeholder when that raises."""
    try:
        return str(value)
    except Exception:
        try:
            return f"<{type(value).__qualname__}: unprintable>"
        except Exception:
            return "<unprintable>"


def note_failure(
    signal_name: str, table: ReceiverTable, exc: BaseException, receiver: object
) -> None:
    """Add a note to ``exc`` naming the receiver that raised it and its plugin."""
    try:
        plugin = plugin_of(table, receiver)
        owner = f" of plugin {plugin!r}" if plugin else ""
        exc.add_note(
            f"raised by receiver {describe_callable(receiver)}{owner} while sending {signal_name}"
        )
    except Exception:
        pass


class _SafeStr:
    """Formats an exception only when a handler formats the record, and never raises."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __str__(self) -> str:
        return safe_str(self.value)


_logger: Any = None
_logging: Any = None
# A second logger every failure reaches (``django.dispatch`` once hookwire is Django's
# dispatcher), or None; set by also_log_on().
_companion: Any = None


def _qualname(receiver: object) -> str:
    qualname = getattr(receiver, "__qualname__", None)
    if isinstance(qualname, str):
        return qualname
    return names_of(receiver)[1]  # partials and callable objects, where Django would crash


def also_log_on(name: str | None) -> None:
    """Make every failure :func:`log_robust_failure` logs reach the logger ``name`` too
    (``None``: only ``hookwire.dispatch`` again).

    That logger gets a record of its own, named after it, handled the standard way (its
    handlers, then its ancestors' up to the root, as ``propagate`` allows); the record of
    ``hookwire.dispatch`` then goes only to the handlers the first one did not reach, so a
    handler both loggers lead to (the root's, typically) sees each failure once.
    """
    global _companion
    import logging

    _companion = None if name is None else logging.getLogger(name)


def _reached(logger: Any) -> set[Any]:
    """The handlers a record handled by ``logger`` is given to (as ``Logger.callHandlers``
    walks them)."""
    handlers: set[Any] = set()
    while logger is not None:
        handlers.update(logger.handlers)
        if not logger.propagate:
            break
        logger = logger.parent
    return handlers


def _handle_with_companion(record: Any, companion: Any) -> None:
    """Hand ``record`` to the companion logger under its name, then to the handlers of
    ``hookwire.dispatch`` (and its ancestors) that the companion's did not include."""
    own_enabled = _logger.isEnabledFor(40)
    if not companion.isEnabledFor(40):
        if own_enabled:
            _logger.handle(record)
        return
    twin = _logging.makeLogRecord(record.__dict__)
    twin.name = companion.name
    companion.handle(twin)
    if not own_enabled or _logger.disabled:
        return
    # What Logger.handle does, except for the handlers already served.
    filtered = _logger.filter(record)
    if not filtered:
        return
    if isinstance(filtered, _logging.LogRecord):
        record = filtered
    served = _reached(companion)
    logger = _logger
    while logger is not None:
        for handler in logger.handlers:
            if handler not in served and record.levelno >= handler.level:
                handler.handle(record)
        if not logger.propagate:
            break
        logger = logger.parent


def log_robust_failure(
    signal_name: str,
    table: ReceiverTable,
    receiver: object,
    err: BaseException,
    sender: object = None,
) -> None:
    """Log a failure caught by ``send_robust``/``asend_robust``: Django's line, at ERROR,
    with the traceback and hookwire's attributes (see the module docstring); on the
    companion logger too when :func:`also_log_on` named one."""
    global _logger, _logging
    if _logger is None:
        import logging

        _logging = logging
        _logger = logging.getLogger(LOGGER_NAME)
    companion = _companion
    # logging.ERROR is 40, written out so as not to import logging's constants.
    if not _logger.isEnabledFor(40) and (companion is None or not companion.isEnabledFor(40)):
        return
    try:
        module, qualname = names_of(receiver)
        extra = {
            "signal": signal_name,
            "receiver": f"{module}.{qualname}" if module else qualname,
            "receiver_module": module,
            "plugin": plugin_of(table, receiver, sender),
        }
        name = _qualname(receiver)
    except Exception:
        extra = {"signal": signal_name, "receiver": None, "receiver_module": None, "plugin": None}
        name = "<receiver>"
    # A broken __str__ (or an argument with one) must not break the handler: wrap what
    # cannot be trusted to format.
    argument: object = err
    try:
        str(err)
    except Exception:
        argument = _SafeStr(err)
    # The record is made here rather than by _logger.error(): that would walk the stack to
    # find the caller (the dispatcher, always) and copy the extras one by one, together about
    # a fifth of a robust send with one failure ("send_robust, 10 (1 raises)" benchmark row).
    record = _logging.getLogRecordFactory()(
        LOGGER_NAME,
        40,  # logging.ERROR
        __file__,
        0,
        ROBUST_FAILURE_MESSAGE,
        (name, argument),
        (type(err), err, err.__traceback__),
        "send_robust",
    )
    record.__dict__.update(extra)
    if companion is None:
        _logger.handle(record)
    else:
        _handle_with_companion(record, companion)


def robust_response(
    signal_name: str,
    table: ReceiverTable,
    receiver: object,
    err: Exception,
    sender: object = None,
) -> Exception:
    """What a robust send records for ``err`` raised by ``receiver``: logged, then returned
    as the receiver's response.

    :raises RecursiveSendError: ``err`` is the interpreter's recursion limit reached by
        receivers sending signals from inside each other (never swallowed); a receiver's
        own runaway recursion is an ordinary failure.
    """
    if isinstance(err, RecursionError):
        error = recursive_send_error(err, robust=True)
        if error is not None:
            raise error from None
    log_robust_failure(signal_name, table, receiver, err, sender)
    return err


def duplicate_signal_argument() -> TypeError:
    # What calling a receiver with signal= twice raises; said before any receiver runs.
    return TypeError("send() got multiple values for keyword argument 'signal'")


def signal_given_twice(
    signal: Any, table: ReceiverTable, plan: Any, sender: object
) -> list[tuple[Any, Any]]:
    """``send_robust(..., signal=...)``: calling any receiver with ``signal=`` twice fails
    before it runs, so each one's response is that ``TypeError``, logged, as in Django."""
    sync, async_ = split_plan(plan)
    responses: list[tuple[Any, Any]] = []
    for receiver in sync + async_:
        try:
            raise duplicate_signal_argument()
        except TypeError as err:
            response = robust_response(signal.qualified_name, table, receiver, err, sender)
        responses.append((receiver, response))
    return responses


# -- runaway recursion ------------------------------------------------------------------


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
            signal = frame.f_locals.get(code.co_varnames[0]) if code.co_varnames else None
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
            nested = NESTED_SENDS.get()
            if len(nested) > _REPEATS:
                found = _runaway_error(_nested_pairs(nested), _REPEATS, until)
        if found is None:
            return None if robust else error
        return found
    except RecursionError:
        return error


# -- sends nested across tasks and threads ----------------------------------------------

# The sends that can leave the stack, recorded in the context they run in, outermost first.
# Each entry is a list ``[signal, sender, running, nested_in, live]``: ``sender`` is what
# _sending_frame found, ``running`` turns false when the send returns. A task a receiver leaves
# running keeps a copy of the record; sends it makes later are nested only in the sends still
# running then. ``nested_in`` is the outermost running entry when this one began; that entry's
# ``live`` set (made by the first send nested in it) holds the id() of every send nested in it
# still running. Receivers that fan out (two that each send again double the sends at every
# level) are bounded by that total, which grows far faster than their depth.
NESTED_SENDS: contextvars.ContextVar[tuple[list[Any], ...]] = contextvars.ContextVar(
    "hookwire_nested_sends", default=()
)
SIGNAL, SENDER, RUNNING, NESTED_IN, LIVE = 0, 1, 2, 3, 4

#: Sends nested in one send that may run at once, as a multiple of Python's recursion limit.
NESTED_TOTAL_FACTOR = 10


def outermost_send(signal: Any) -> list[Any]:
    """The :data:`NESTED_SENDS` entry of a send nested in no running send."""
    return [signal, None, True, None, None]


# CO_COROUTINE | CO_ITERABLE_COROUTINE | CO_ASYNC_GENERATOR
_ASYNC_CODE_FLAGS = 0x80 | 0x100 | 0x200


def _sending_frame(frame: Any, awaited: bool) -> tuple[CodeType, str] | None:
    """The code and module of the function that sent from ``frame`` outwards: the first
    frame that is none of the dispatcher's own steps. ``None`` when an awaited send was
    started by a task rather than awaited by a coroutine (the sender waits in another task)."""
    while frame is not None and frame.f_code in _DISPATCH_CODES:
        frame = frame.f_back
    if frame is None or (awaited and not frame.f_code.co_flags & _ASYNC_CODE_FLAGS):
        return None
    return frame.f_code, str(frame.f_globals.get("__name__", "?"))


def _nested_pairs(entries: tuple[list[Any], ...]) -> list[tuple[str, str]]:
    """``(signal, receiver)`` name pairs of nested sends: each send's sender is a receiver of
    the send around it."""
    pairs = []
    for outer, inner in pairwise(entries):
        sender = inner[SENDER]
        name = "(a task)" if sender is None else f"{sender[1]}.{sender[0].co_qualname}"
        pairs.append((str(getattr(outer[SIGNAL], "qualified_name", "?")), name))
    return pairs


def nested_send_error(
    entries: tuple[list[Any], ...], until: str | None = None
) -> RecursiveSendError:
    """The error for sends nested as deep as Python's recursion limit, each maybe on a
    stack of its own, or (``until`` says so) for too many nested sends running at once.
    ``entries`` are those of :data:`NESTED_SENDS`, ending with the send that is refused."""
    pairs = _nested_pairs(entries)
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


def nest_send(outer: tuple[list[Any], ...], signal: Any, *, awaited: bool) -> tuple[list[Any], ...]:
    """What :data:`NESTED_SENDS` holds while a send (``awaited``: ``asend``) runs where it
    held ``outer`` (not empty): the sends among them still running, and this one, naming who
    sent it.

    :raises RecursiveSendError: sends are already nested as deep as Python's recursion limit,
        or :data:`NESTED_TOTAL_FACTOR` times that many are nested in the outermost running
        send and still running.
    """
    running = tuple(entry for entry in outer if entry[RUNNING])
    if not running:
        return (outermost_send(signal),)
    owner = running[0]
    # Who sent it: from the caller of this function's caller outwards.
    entry = [signal, _sending_frame(sys._getframe(2), awaited), True, owner, None]
    limit = sys.getrecursionlimit()
    if len(running) >= limit:
        raise nested_send_error((*running, entry))
    live = owner[LIVE]
    if live is None:
        # Two threads may both make one: the lost set only counts fewer sends, never more.
        live = owner[LIVE] = set()
    if len(live) >= NESTED_TOTAL_FACTOR * limit:
        until = (
            f"{len(live)} sends nested in one send running at once, "
            f"{NESTED_TOTAL_FACTOR} times Python's recursion limit"
        )
        raise nested_send_error((*running, entry), until)
    live.add(id(entry))
    return (*running, entry)


def leave_send(outer: tuple[list[Any], ...], inner: tuple[list[Any], ...]) -> None:
    """Take a finished send out of :data:`NESTED_SENDS`: ``inner`` is what it set there,
    ``outer`` what it found."""
    entry = inner[-1]
    entry[RUNNING] = False
    owner = entry[NESTED_IN]
    if owner is not None:
        owner[LIVE].discard(id(entry))
    current = NESTED_SENDS.get()
    if current is inner:
        NESTED_SENDS.set(outer)
    else:
        # Receivers running in one task group share one context: another one's send began or
        # ended meanwhile. Take out only this send's entry.
        NESTED_SENDS.set(tuple(e for e in current if e is not entry))
