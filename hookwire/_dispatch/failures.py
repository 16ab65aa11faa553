"""A receiver's failure: the note ``send`` adds and the log line ``send_robust`` writes.

Everything here runs on failure paths only and never raises, whatever the receiver or the
exception (partials, callable objects, broken ``__repr__``/``__str__``).

**The log line** is Django's, word for word: ``"Error calling %s in Signal.send_robust()
(%s)"`` with the receiver's ``__qualname__`` and the exception as its arguments, at ERROR on
the logger ``hookwire.dispatch`` (and, once hookwire is Django's dispatcher, on
``django.dispatch``: see :func:`also_log_on`), with the traceback. What hookwire knows beyond
that is on the record as attributes: ``signal`` (its qualified name), ``receiver``
(``module.qualname``), ``receiver_module`` and ``plugin`` (the plugin that connected the
receiver, or ``None``).

A ``RecursionError`` that receivers sending signals from inside each other caused is never
recorded as a receiver's failure: :mod:`hookwire._dispatch.recursion` tells it.
"""

from __future__ import annotations

from typing import Any

from . import attribution
from .receivers import describe_callable, names_of, registration_plugin, scope_of
from .recursion import recursive_send_error
from .table import ReceiverTable, receivers_of_plan

__all__ = [
    "LOGGER_NAME",
    "also_log_on",
    "duplicate_signal_argument",
    "log_robust_failure",
    "note_failure",
    "plugin_of",
    "receiver_failed",
    "robust_response",
    "safe_str",
    "signal_given_twice",
]

LOGGER_NAME = "hookwire.dispatch"

#: Django's message for a receiver failing under ``send_robust``/``asend_robust``.
ROBUST_FAILURE_MESSAGE = "Error calling %s in Signal.send_robust() (%s)"


def plugin_of(table: ReceiverTable, receiver: object, sender: object = None) -> str | None:
    """The plugin that connected ``receiver``, or owns its module; ``None`` if neither."""
    try:
        reg = table.find(receiver, sender)
        if reg is not None and scope_of(reg) is not None:
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
        of_plugin = f" of plugin {plugin!r}" if plugin else ""
        exc.add_note(
            f"raised by receiver {describe_callable(receiver)}{of_plugin} "
            f"while sending {signal_name}"
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


def receiver_failed(
    signal_name: str,
    table: ReceiverTable,
    receiver: object,
    err: Exception,
    sender: object = None,
    *,
    robust: bool,
) -> Any:
    """The failure policy of every send method, written here only: what ``err``, raised by
    ``receiver``, becomes.

    ``robust`` (``send_robust``, ``asend_robust``): the receiver's response, ``err`` itself,
    logged (see :func:`robust_response`); runaway recursion through signals raises
    :class:`~hookwire.exceptions.RecursiveSendError` instead.

    Not ``robust`` (``send``, ``asend``): the send stops and ``err`` propagates. Returns what
    the send raises instead of it (``from None``): the error a ``RecursionError`` amounts to
    (see :func:`~hookwire._dispatch.recursion.recursive_send_error`); or ``None``, and the
    send re-raises ``err`` (a bare ``raise``, so its traceback stays the receiver's), which now
    carries a note naming the receiver and its plugin.
    """
    if robust:
        return robust_response(signal_name, table, receiver, err, sender)
    if isinstance(err, RecursionError):
        return recursive_send_error(err)
    note_failure(signal_name, table, err, receiver)
    return None


def duplicate_signal_argument() -> TypeError:
    # What calling a receiver with signal= twice raises; said before any receiver runs.
    return TypeError("send() got multiple values for keyword argument 'signal'")


def signal_given_twice(
    signal: Any, table: ReceiverTable, plan: Any, sender: object
) -> list[tuple[Any, Any]]:
    """``send_robust(..., signal=...)``: calling any receiver with ``signal=`` twice fails
    before it runs, so each one's response is that ``TypeError``, logged, as in Django."""
    sync, async_ = receivers_of_plan(plan)
    responses: list[tuple[Any, Any]] = []
    for receiver in sync + async_:
        try:
            raise duplicate_signal_argument()
        except TypeError as err:
            response = receiver_failed(
                signal.qualified_name, table, receiver, err, sender, robust=True
            )
        responses.append((receiver, response))
    return responses
