"""Lazy senders: ``sender="package.module:QualName"`` before that module is imported.

A connect with such a string is kept *pending* on its signal until the module appears in
:data:`sys.modules`; it is then connected to the object the string names, exactly as if that
object had been passed. Nothing here imports the module: plugins connect to hosts' classes
without forcing an import order.

Pending connections are checked when a signal with pending connections builds its list of
receivers for a sender (signals without pending connections pay nothing), and by
:func:`resolve_pending`, which the plugin loader calls after each phase and at the end of
loading.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Hashable
from types import MethodType
from typing import TYPE_CHECKING, Any

from ._receivers import LAZY_TAG, describe_callable
from .exceptions import ReceiverTypeError

if TYPE_CHECKING:
    from ._signals import Signal

__all__ = [
    "PendingAwareCache",
    "add_pending",
    "is_lazy_reference",
    "lookup",
    "resolve_pending",
    "resolve_signal",
]

_signals_with_pending: weakref.WeakSet[Signal] = weakref.WeakSet()
_registry_lock = threading.Lock()

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


def mark_pending(signal: Signal) -> None:
    """Remember that ``signal`` holds pending lazy connections."""
    with _registry_lock:
        _signals_with_pending.add(signal)


def forget(signal: Signal) -> None:
    """``signal`` has no pending lazy connections any more."""
    with _registry_lock:
        _signals_with_pending.discard(signal)


def resolve_pending() -> None:
    """Connect every pending lazy sender whose module has been imported, on every signal.

    Called by the plugin loader after each phase and when loading ends; safe to call at any
    time and from any thread. References whose module is still not imported stay pending.
    """
    with _registry_lock:
        signals = list(_signals_with_pending)
    for signal in signals:
        signal._resolve_pending()


def add_pending(
    signal: Signal,
    receiver: Any,
    receiver_part: Hashable,
    reference: str,
    weak: bool,
    dispatch_uid: Hashable | None,
    plugin: str | None,
) -> Hashable | None:
    """Keep a connect to ``reference`` pending on ``signal``; its lookup key if new."""
    key = (receiver_part, LAZY_TAG, reference)
    held: Any = receiver
    if weak:
        try:
            if isinstance(receiver, MethodType):
                held = weakref.WeakMethod(receiver)
            else:
                held = weakref.ref(receiver)
        except TypeError:
            raise ReceiverTypeError(
                f"Signal receiver {describe_callable(receiver)} cannot be weakly referenced; "
                "connect it with weak=False.",
                receiver=receiver,
            ) from None
    with signal.lock:
        if key in signal._pending or key in signal._lazy_aliases:
            return None
        signal._pending[key] = (held, reference, weak, dispatch_uid, plugin)
        signal._cache = {}
    mark_pending(signal)
    return key


def resolve_signal(signal: Signal) -> None:
    """Connect ``signal``'s pending references whose module is imported."""
    with signal.lock:
        pending = list(signal._pending.items())
    for key, (held, reference, weak, dispatch_uid, plugin) in pending:
        if module_of(reference) not in sys.modules:
            continue
        target = lookup(reference)
        if target is _MISSING:
            continue
        live = held() if weak else held
        with signal.lock:
            if signal._pending.pop(key, None) is None:
                continue
            if live is not None:
                real_key = signal._connect(live, target, weak, dispatch_uid, plugin)
                if real_key is not None:
                    signal._lazy_aliases[key] = real_key
            signal._cache = {}
    if not signal._pending:
        forget(signal)
        signal._cache = {}  # back to a plain cache: nothing left to watch for


class PendingAwareCache(dict[int, Any]):
    """The per-sender cache of a signal while it has pending lazy senders.

    Every read first compares ``len(sys.modules)`` with what it saw last; when a module was
    imported since, pending references are resolved and, if that connected anything, the read
    misses so the plan is rebuilt. Signals without pending lazy senders use a plain dict and
    pay nothing.
    """

    __slots__ = ("modules_seen", "signal_ref")

    def __init__(self, signal: Signal) -> None:
        super().__init__()
        self.signal_ref = weakref.ref(signal)
        self.modules_seen = len(sys.modules)

    def __getitem__(self, key: int) -> Any:
        if len(sys.modules) != self.modules_seen:
            self.modules_seen = len(sys.modules)
            signal = self.signal_ref()
            if signal is not None:
                signal._resolve_pending()
                if signal._cache is not self:
                    raise KeyError(key)
        return dict.__getitem__(self, key)
