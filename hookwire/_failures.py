"""Reporting a receiver's failure: the note ``send`` adds, the log line ``send_robust`` writes.

Both name the receiver and the plugin that connected it, and never raise, whatever the
receiver or the exception (partials, callable objects, broken ``__repr__``/``__str__``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _attribution
from ._receivers import (
    NONE_KEY,
    PLUGIN,
    Registration,
    describe_callable,
    live_receiver,
    receiver_key,
)
from ._recursion import recursive_send_error

if TYPE_CHECKING:
    from ._signals import Signal

__all__ = ["log_robust_failure", "note_failure", "plugin_of", "robust_response", "safe_str"]

LOGGER_NAME = "hookwire.dispatch"


def _registration_of(
    signal: Signal, receiver: object, sender: object = None
) -> Registration | None:
    registry = signal._registry
    part = receiver_key(receiver)
    for key in ((part, id(sender)), (part, NONE_KEY)):
        reg = registry.get(key)
        if reg is not None:
            return reg
    for reg in tuple(registry.values()):
        try:
            live = live_receiver(reg)
            if live is receiver or (live is not None and live == receiver):
                return reg
        except Exception:
            continue
    return None


def plugin_of(signal: Signal, receiver: object, sender: object = None) -> str | None:
    """The plugin that connected ``receiver`` to ``signal``, or owns its module."""
    try:
        if getattr(type(receiver), "_hookwire_traced", False):
            receiver = receiver.receiver  # type: ignore[attr-defined]  # a tracer's stand-in
        reg = _registration_of(signal, receiver, sender)
        if reg is not None and reg[PLUGIN] is not None:
            return str(reg[PLUGIN])
        module = getattr(receiver, "__module__", None)
        return _attribution.plugin_for_module(module if isinstance(module, str) else None)
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


def note_failure(signal: Signal, exc: BaseException, receiver: object) -> None:
    """Add a note to ``exc`` naming the receiver that raised it and its plugin."""
    try:
        plugin = plugin_of(signal, receiver)
        owner = f" of plugin {plugin!r}" if plugin else ""
        exc.add_note(
            f"raised by receiver {describe_callable(receiver)}{owner} "
            f"while sending {signal.qualified_name}"
        )
    except Exception:
        pass


class _FailureSubject:
    """Describes the failing receiver only when a handler formats the log record."""

    __slots__ = ("receiver", "sender", "signal")

    def __init__(self, signal: Signal, receiver: object, sender: object) -> None:
        self.signal = signal
        self.receiver = receiver
        self.sender = sender

    def __str__(self) -> str:
        try:
            plugin = plugin_of(self.signal, self.receiver, self.sender)
            owner = f" of plugin {plugin!r}" if plugin else ""
            return f"{describe_callable(self.receiver)}{owner} in {self.signal.qualified_name}"
        except Exception:
            return "<receiver>"


class _SafeStr:
    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __str__(self) -> str:
        return safe_str(self.value)


_logger: Any = None


def log_robust_failure(
    signal: Signal, receiver: object, err: BaseException, sender: object = None
) -> None:
    """Log a failure caught by ``send_robust``/``asend_robust`` at ERROR, with traceback.

    The message names the receiver, its plugin and the signal; it is worked out only when a
    handler formats the record, so a quiet logger costs little.
    """
    global _logger
    if _logger is None:
        import logging

        _logger = logging.getLogger(LOGGER_NAME)
    _logger.error(
        "Error calling %s.send_robust() (%s)",
        _FailureSubject(signal, receiver, sender),
        _SafeStr(err),
        exc_info=err,
    )


def robust_response(
    signal: Signal, receiver: object, err: Exception, sender: object = None
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
    signal._log_robust_failure(receiver, err, sender)
    return err
