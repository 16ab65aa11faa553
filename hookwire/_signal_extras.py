"""What ``Signal`` offers beyond sending: naming, Django's attributes, temporary
connections, muting, introspection and test isolation. A mixin of :class:`~hookwire.Signal`,
kept apart so the dispatcher module stays about dispatch.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

from . import _lazy_senders
from ._receivers import (
    KEY,
    LAZY_TAG,
    ReceiverRow,
    Registration,
    is_alive,
    receiver_part,
    receiver_row,
)

if TYPE_CHECKING:
    from ._introspection import ReceiverInfo

__all__ = ["SignalExtras", "creator_module"]

_F = TypeVar("_F", bound=Callable[..., Any])


class SignalExtras:
    """Mixed into :class:`~hookwire.Signal`; see its methods for what each promises."""

    name: str | None
    module: str | None

    lock: threading.RLock
    _registry: dict[Hashable, Registration]
    _cache: dict[int, Any]
    _dead: bool
    _pending: dict[Hashable, tuple[Any, str, bool, Hashable | None, str | None]]
    _lazy_aliases: dict[Hashable, Hashable]

    if TYPE_CHECKING:

        def _purge_dead(self) -> None: ...

        def _disconnect_lookup_key(self, lookup_key: Hashable) -> bool: ...

        def _plan_for(self, sender: object) -> Any: ...

        def connect(
            self,
            receiver: Callable[..., Any],
            sender: object = None,
            weak: bool = True,
            dispatch_uid: Hashable | None = None,
        ) -> None: ...

    # -- naming -----------------------------------------------------------------------

    @property
    def qualified_name(self) -> str:
        """``"<module>.<name>"``; an unnamed signal is looked up in its module's globals."""
        name = self.name
        if name is None:
            name = self.__dict__.get("_found_name")
        if name is None:
            module = sys.modules.get(self.module or "")
            for attribute, value in list(getattr(module, "__dict__", {}).items()):
                if value is self:
                    name = self.__dict__["_found_name"] = attribute
                    break
            else:
                name = f"<signal at {id(self):#x}>"
        return f"{self.module}.{name}" if self.module else name

    def __repr__(self) -> str:
        return f"<Signal {self.qualified_name}>"

    # -- Django's attributes ----------------------------------------------------------

    @property
    def receivers(self) -> list[ReceiverRow]:
        """The live registrations in connect order, as Django 6.1's rows
        ``(lookup_key, receiver, sender_ref, is_async)`` (see :class:`ReceiverRow`); ``[]``
        when nothing is connected.

        Unlike Django's, the list never shows rows of receivers or senders already collected.
        Assigning a list obtained from this property (or ``[]``) restores exactly those
        registrations, as code written for Django sometimes does.
        """
        with self.lock:
            if self._dead:
                self._purge_dead()
            return [receiver_row(reg) for reg in self._registry.values() if is_alive(reg)]

    @receivers.setter
    def receivers(self, rows: list[ReceiverRow]) -> None:
        if not all(isinstance(row, ReceiverRow) for row in rows):
            raise TypeError("Signal.receivers accepts only a list read from Signal.receivers")
        with self.lock:
            self._registry = {row.registration[KEY]: row.registration for row in rows}
            self._cache = {}

    @property
    def sender_receivers_cache(self) -> dict[int, Any]:
        """The per-sender cache (clearing it is harmless; kept for Django compatibility)."""
        return self._cache

    def _live_receivers(self, sender: object) -> tuple[list[Any], list[Any]]:
        """``(sync receivers, async receivers)`` that ``send(sender)`` would call.

        Django's private method of the same name and result, kept because third-party code
        calls it.
        """
        from ._plans import split_plan

        return split_plan(self._plan_for(sender))

    # -- beyond Django ----------------------------------------------------------------

    def _lookup_key(
        self, receiver: Callable[..., Any], sender: object, dispatch_uid: Hashable | None
    ) -> Hashable:
        """The key ``connect(receiver, sender, dispatch_uid=...)`` files its registration
        under now: a pending key for a lazy reference whose module is not imported yet."""
        part = receiver_part(receiver, dispatch_uid)
        if sender.__class__ is str and _lazy_senders.is_lazy_reference(sender):
            target = _lazy_senders.lookup(sender)
            if _lazy_senders.is_missing(target):
                return (part, LAZY_TAG, sender)
            sender = target
        return (part, id(sender))

    def _has_lookup_key(self, lookup_key: Hashable) -> bool:
        """Whether a registration, pending or connected, is filed under ``lookup_key``."""
        with self.lock:
            return (
                lookup_key in self._registry
                or lookup_key in self._pending
                or lookup_key in self._lazy_aliases
            )

    @contextmanager
    def connected_to(
        self,
        receiver: _F,
        sender: object = None,
        *,
        weak: bool = False,
        dispatch_uid: Hashable | None = None,
    ) -> Iterator[_F]:
        """Connect ``receiver`` for the duration of the block (strongly by default).

        It is disconnected on exit, also when the block raises; if it was already connected
        before, it stays connected.
        """
        key = self._lookup_key(receiver, sender, dispatch_uid)
        connected_before = self._has_lookup_key(key)
        self.connect(receiver, sender=sender, weak=weak, dispatch_uid=dispatch_uid)
        try:
            yield receiver
        finally:
            if not connected_before:
                self._disconnect_lookup_key(key)

    @contextmanager
    def muted(self) -> Iterator[None]:
        """Within the block, sending this signal calls no receiver and returns ``[]``.

        Muting applies to every thread; blocks may nest. Costs nothing outside the block.
        """
        with self.lock:
            depth = self.__dict__.get("_mute_depth", 0)
            self.__dict__["_mute_depth"] = depth + 1
            if depth == 0:
                self.__dict__.update(
                    send=_muted_send,
                    send_robust=_muted_send,
                    asend=_muted_asend,
                    asend_robust=_muted_asend,
                )
        try:
            yield
        finally:
            with self.lock:
                self.__dict__["_mute_depth"] -= 1
                if self.__dict__["_mute_depth"] == 0:
                    for attribute in ("send", "send_robust", "asend", "asend_robust"):
                        self.__dict__.pop(attribute, None)

    def describe_receivers(self) -> list[ReceiverInfo]:
        """Every receiver as a :class:`~hookwire.ReceiverInfo`, in the order send calls them.

        Sync receivers come before async ones, as ``send`` calls them; lazy-sender
        connections still pending come last with their ``"module:QualName"`` as sender.
        """
        from ._introspection import describe_registrations

        with self.lock:
            if self._dead:
                self._purge_dead()
            registrations = list(self._registry.values())
            pending = list(self._pending.values())
        return describe_registrations(registrations, pending)

    # -- test isolation ---------------------------------------------------------------

    def _snapshot_state(self) -> object:
        """An opaque copy of every registration, for :meth:`_restore_state`."""
        with self.lock:
            return (dict(self._registry), dict(self._pending), dict(self._lazy_aliases))

    def _restore_state(self, state: object) -> None:
        """Put back exactly the registrations of a :meth:`_snapshot_state`; clear caches."""
        registry, pending, aliases = cast("tuple[dict[Any, Any], ...]", state)
        with self.lock:
            self._registry = dict(registry)
            self._pending = dict(pending)
            self._lazy_aliases = dict(aliases)
            self._cache = {}
        if self._pending:
            _lazy_senders.mark_pending(self)  # type: ignore[arg-type]
        else:
            _lazy_senders.forget(self)  # type: ignore[arg-type]


def _muted_send(sender: object, **named: Any) -> list[tuple[Any, Any]]:
    return []


async def _muted_asend(sender: object, **named: Any) -> list[tuple[Any, Any]]:
    return []


def creator_module(signal: object) -> str | None:
    """The module whose code created ``signal`` (skipping subclasses' ``__init__``)."""
    try:
        frame: Any = sys._getframe(2)
        while frame is not None and frame.f_code.co_name == "__init__":
            if frame.f_locals.get("self") is not signal:
                break
            frame = frame.f_back
        if frame is None:
            return None
        name = frame.f_globals.get("__name__")
        return name if isinstance(name, str) else None
    except Exception:
        return None
