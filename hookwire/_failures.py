"""Reporting a receiver's failure: the note ``send`` adds, the log line ``send_robust`` writes.

Both name the receiver and the plugin that connected it, and never raise, whatever the
receiver or the exception (partials, callable objects, broken ``__repr__``/``__str__``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _attribution
from ._receivers import Registration, describe_callable

if TYPE_CHECKING:
    from ._signals import Signal

__all__ = ["log_robust_failure", "note_failure", "plugin_of", "safe_str"]

LOGGER_NAME = "hookwire.dispatch"


def _registration_of(signal: Signal, receiver: object) -> Registration | None:
    for reg in tuple(signal._registry.values()):
        try:
            live = reg.receiver()
            if live is receiver or (live is not None and live == receiver):
                return reg
        except Exception:
            continue
    return None


def plugin_of(signal: Signal, receiver: object) -> str | None:
    """The plugin that connected ``receiver`` to ``signal``, or owns its module."""
    try:
        reg = _registration_of(signal, receiver)
        if reg is not None and reg.plugin is not None:
            return reg.plugin
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


def log_robust_failure(signal: Signal, receiver: object, err: BaseException) -> None:
    """Log a failure caught by ``send_robust``/``asend_robust`` at ERROR, with traceback."""
    import logging

    plugin = plugin_of(signal, receiver)
    owner = f" of plugin {plugin!r}" if plugin else ""
    logging.getLogger(LOGGER_NAME).error(
        "Error calling %s%s in %s.send_robust() (%s)",
        describe_callable(receiver),
        owner,
        signal.qualified_name,
        safe_str(err),
        exc_info=err,
    )
