"""Per-sender plans: what ``send`` walks, built once per sender after every change.

A plan is immutable. For the common case (only plain sync receivers) it is a tuple of getters,
each returning its receiver or ``None`` once it died, so ``send`` is one loop; otherwise a
:class:`Plan` separates sync from async entries and carries the functions weakly held bound
methods are bound to. Plans are cached per ``id(sender)``; see :mod:`hookwire._signals` for
why that is safe when a dead sender's id is reused.
"""

from __future__ import annotations

from types import MethodType
from typing import TYPE_CHECKING, Any

from ._lazy_senders import PendingAwareCache
from ._receivers import FUNC, GETTER, IS_ASYNC, NONE_KEY, SENDER_KEY, SENDER_REF

if TYPE_CHECKING:
    from ._signals import Signal

__all__ = ["Plan", "plan_for", "split_plan"]

# Per-sender plans kept at most; past this the cache is simply started afresh, so a program
# sending from millions of short-lived instances cannot grow it without bound.
_CACHE_LIMIT = 512

_id = id


class Plan:
    """The receivers of one sender when bound methods or async receivers are among them.

    ``sync`` and ``async_`` are tuples of ``(getter, func)``; ``getter()`` returns the live
    receiver (or instance to bind ``func`` to), ``None`` once it died.
    """

    __slots__ = ("async_", "sync")

    def __init__(self, sync: tuple[Any, ...], async_: tuple[Any, ...]) -> None:
        self.sync = sync
        self.async_ = async_


def plan_for(signal: Signal, sender: object) -> Any:
    """The plan of ``signal`` for ``sender``: built under the lock, then cached."""
    if signal._pending:
        signal._resolve_pending()
    # Take the cache before reading the registrations: if a writer or a weakref
    # callback replaces it meanwhile, what we build lands in the discarded dict.
    cache = signal._cache
    key = _id(sender)
    with signal.lock:
        if signal._dead:
            signal._purge_dead()
            cache = signal._cache
        sync: list[Any] = []
        async_: list[Any] = []
        simple = True
        for reg in tuple(signal._registry.values()):
            sender_key = reg[SENDER_KEY]
            if sender_key != key and sender_key != NONE_KEY:
                continue
            sender_ref = reg[SENDER_REF]
            if sender_ref is not None and sender_ref() is None:
                continue
            if reg[IS_ASYNC]:
                async_.append((reg[GETTER], reg[FUNC]))
                simple = False
            else:
                sync.append((reg[GETTER], reg[FUNC]))
                if reg[FUNC] is not None:
                    simple = False
        plan: Any = (
            tuple(getter for getter, _ in sync) if simple else Plan(tuple(sync), tuple(async_))
        )
    if signal._pending and cache.__class__ is dict and cache is signal._cache:
        # Pending lazy senders: swap in a cache that notices newly imported modules.
        signal._cache = cache = PendingAwareCache(signal)
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = plan
    return plan


def _live(entries: Any) -> list[Any]:
    """Dereference ``(getter, func)`` entries (or bare getters) into live receivers."""
    receivers = []
    for entry in entries:
        if entry.__class__ is tuple:
            getter, func = entry
            receiver = getter()
            if receiver is not None and func is not None:
                receiver = MethodType(func, receiver)
        else:
            receiver = entry()
        if receiver is not None:
            receivers.append(receiver)
    return receivers


def split_plan(plan: Any) -> tuple[list[Any], list[Any]]:
    """The live ``(sync receivers, async receivers)`` of a plan."""
    if plan.__class__ is tuple:
        return _live(plan), []
    return _live(plan.sync), _live(plan.async_)
