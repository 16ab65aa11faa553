"""Lazy senders: ``sender="package.module:QualName"`` before that module is imported.

A connect with such a string is kept *pending* on its signal's table until the module appears
in :data:`sys.modules`; it is then connected to the object the string names, exactly as if
that object had been passed. Nothing here imports the module: plugins connect to hosts' classes
without forcing an import order.

This module parses references and remembers which tables hold pending connections; the
pending connections themselves live in their :class:`~hookwire._dispatch.table.ReceiverTable`,
which resolves them when it builds a plan and when :func:`resolve_pending` asks (the plugin
loader does after each phase and at the end of loading).
"""

from __future__ import annotations

import sys
import threading
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .table import ReceiverTable

__all__ = [
    "any_pending",
    "is_lazy_reference",
    "is_missing",
    "lookup",
    "mark_pending",
    "module_of",
    "resolve_pending",
    "unmark_pending",
]

_tables_with_pending: weakref.WeakSet[ReceiverTable] = weakref.WeakSet()
_tables_lock = threading.Lock()
#: Whether any table may hold pending connections: a plain flag, read by resolve_pending()
#: and by the loader after every plugin's every loading step, where the WeakSet's own truth
#: test is a Python call (read it as ``lazy.any_pending``; only this module sets it). Cleared
#: only under the lock when the set is empty; a table collected while pending leaves it set,
#: which costs one look at an empty set.
any_pending = False

_MISSING = object()


def is_lazy_reference(sender: Any) -> bool:
    """Whether ``sender`` is a ``"dotted.module:Dotted.QualName"`` string.

    Exactly one colon, identifiers separated by dots on both sides; any other string (``"x"``)
    is an ordinary sender.
    """
    if sender.__class__ is not str:
        return False
    module, colon, qualname = sender.partition(":")
    if not colon or ":" in qualname:
        return False
    return all(part.isidentifier() for part in module.split(".")) and all(
        part.isidentifier() for part in qualname.split(".")
    )


def lookup(reference: str) -> Any:
    """The object ``reference`` names if its module is imported, else a private sentinel."""
    module_name, _, qualname = reference.partition(":")
    module = sys.modules.get(module_name)
    if module is None:
        return _MISSING
    target: Any = module
    for part in qualname.split("."):
        target = getattr(target, part, _MISSING)
        if target is _MISSING:
            return _MISSING
    return target


def is_missing(value: object) -> bool:
    """Whether :func:`lookup` found nothing."""
    return value is _MISSING


def module_of(reference: str) -> str:
    """The module part of a lazy reference."""
    return reference.partition(":")[0]


def mark_pending(table: ReceiverTable) -> None:
    """Remember that ``table`` holds pending lazy connections."""
    global any_pending
    with _tables_lock:
        _tables_with_pending.add(table)
        any_pending = True


def unmark_pending(table: ReceiverTable) -> None:
    """``table`` has no pending lazy connections any more."""
    global any_pending
    with _tables_lock:
        _tables_with_pending.discard(table)
        any_pending = bool(_tables_with_pending)


def resolve_pending() -> None:
    """Connect every pending lazy sender whose module has been imported, on every signal.

    Called by the plugin loader after each phase and when loading ends; safe to call at any
    time and from any thread. References whose module is still not imported stay pending.
    """
    if not any_pending:
        return  # the loader asks after every plugin's every phase: nothing pending, no lock
    with _tables_lock:
        tables = list(_tables_with_pending)
    for table in tables:
        table.resolve_pending()
