"""Where a signal's state is kept and changed: its registrations, its lock, its per-sender plans.

Every change to what a signal would call goes through a :class:`ReceiverTable` method, under
its lock; no other module reads or writes the table's private attributes. What ``send`` reads
without locking is :attr:`ReceiverTable.plans`: one immutable plan per ``id(sender)``.

The invariant: **a plan is only ever stored for the registrations it was built from.** A plan
is built and stored under the lock, and stored only if the table's version did not move while
it was built. Writers (connect, disconnect, lazy resolution, restoring a snapshot) change the
registrations, take a new version and empty the plans, all under the lock; so a writer can
never slip between "build" and "store". The one writer that cannot take the lock is a weak
reference's callback (it runs during garbage collection, maybe in this very thread while it
holds the lock): it only marks the table dead, takes a new version and empties the plans, so a
build it interrupts is not stored, and dead rows are removed by the next locked operation.

A ``send`` that starts after ``disconnect()`` returned therefore never calls the disconnected
receiver; a send already running works on the plan it took when it started (as in Django).

**Plans are built from an index by sender.** Once per version the registrations are grouped by
sender (:class:`_SenderIndex`), so a plan costs that sender's receivers plus the any-sender
ones, never a scan of every registration. A sender with receivers of its own keeps its plan
for as long as nothing changes (they are bounded by the registrations); senders without any
share one plan, and at most :data:`_PLAN_LIMIT` of their entries are kept, so millions of
short-lived senders cannot grow the plans.

**A plan never serves a sender it was not built for.** A plan holding receivers connected for
one sender alone (:class:`SenderPlan`, :class:`SenderMixedPlan`) keeps a weak reference to that
sender. Its callback empties the plans when the sender dies, but the callback cannot run when
the sender dies at the recursion limit: the plan then stays under an ``id()`` a new object may
reuse. Two live objects never share an ``id()``, so a plan found under ``id(sender)`` whose
sender is dead was built for another object, and it serves only the any-sender receivers it
holds: exactly the new object's (anything connected for it, or any change of the any-sender
receivers, would have emptied the plans).
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable, Hashable, Iterable
from itertools import count
from types import MethodType
from typing import Any, cast

from . import lazy
from .activation import run_waiting, waiting
from .attribution import plugin_for_module
from .receivers import (
    NONE_KEY,
    PendingConnection,
    ReceiverRow,
    Registration,
    func_of,
    getter_of,
    is_alive,
    is_async_of,
    key_of,
    live_receiver,
    lookup_key,
    names_of,
    new_registration,
    not_weakrefable,
    pending_key,
    receiver_key,
    receiver_row,
    registration_plugin,
    scope_of,
    scope_plugin,
    sender_key_of,
    sender_ref_of,
)

__all__ = [
    "Plan",
    "ReceiverTable",
    "SenderMixedPlan",
    "SenderPlan",
    "receivers_of_entries",
    "receivers_of_plan",
]

# Per-sender plans kept at most; past this the plans are simply started afresh, so a program
# sending from millions of short-lived instances cannot grow them without bound.
_PLAN_LIMIT = 512

_ANYONE = object()

# Versions come from one process-wide counter: next() on it is atomic, so a weak reference's
# callback (which takes no lock) can take a new version safely while a writer holds the lock.
_versions = count()


class Plan:
    """The receivers of one sender when bound methods or async receivers are among them.

    ``sync`` and ``async_`` are tuples of ``(getter, func)``; ``getter()`` returns the live
    receiver (or instance to bind ``func`` to), ``None`` once it died. For the common case
    (only plain sync receivers) a plan is a bare tuple of getters instead, so ``send`` is one
    loop.
    """

    __slots__ = ("async_", "sync")

    def __init__(self, sync: tuple[Any, ...], async_: tuple[Any, ...]) -> None:
        self.sync = sync
        self.async_ = async_


class SenderPlan(tuple):  # type: ignore[type-arg]
    """A plan of plain sync receivers (a tuple of getters, walked as the common plan is) that
    holds receivers connected for its sender alone.

    :ivar sender_ref: a weak reference to the sender it was built for.
    :ivar fallback: the plan of the any-sender receivers alone, what it serves once
        ``sender_ref`` is dead (see the module docstring).
    """

    sender_ref: Any
    fallback: Any
    _pairs: tuple[Any, ...]

    @property
    def sync(self) -> tuple[Any, ...]:
        """``(getter, func)`` entries, as :attr:`Plan.sync`."""
        if self.sender_ref() is None:
            return _entries_of(self.fallback)[0]
        return self._pairs

    @property
    def async_(self) -> tuple[Any, ...]:
        """Always empty while its sender lives, as :attr:`Plan.async_`."""
        if self.sender_ref() is None:
            return _entries_of(self.fallback)[1]
        return ()


class SenderMixedPlan:
    """A :class:`Plan` (bound methods or async receivers) that holds receivers connected for
    its sender alone; ``sync`` and ``async_`` are the fallback's once the sender is dead."""

    __slots__ = ("_async", "_sync", "fallback", "sender_ref")

    def __init__(
        self, sync: tuple[Any, ...], async_: tuple[Any, ...], sender_ref: Any, fallback: Any
    ) -> None:
        self._sync = sync
        self._async = async_
        self.sender_ref = sender_ref
        self.fallback = fallback

    @property
    def sync(self) -> tuple[Any, ...]:
        """``(getter, func)`` entries of the sync receivers."""
        if self.sender_ref() is None:
            return _entries_of(self.fallback)[0]
        return self._sync

    @property
    def async_(self) -> tuple[Any, ...]:
        """``(getter, func)`` entries of the async receivers."""
        if self.sender_ref() is None:
            return _entries_of(self.fallback)[1]
        return self._async


def _entries_of(plan: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    # The (sync, async) entries of an any-sender plan: a tuple of getters or a Plan.
    if plan.__class__ is tuple:
        return tuple((getter, None) for getter in plan), ()
    return plan.sync, plan.async_


def _plan_of(registrations: list[Registration], sender_ref: Any, fallback: Any) -> Any:
    """The plan calling ``registrations`` (in call order once split sync / async); with
    ``sender_ref``, one that serves ``fallback`` once that sender is dead."""
    sync: list[Any] = []
    async_: list[Any] = []
    simple = True
    for reg in registrations:
        entry = (getter_of(reg), func_of(reg))
        if is_async_of(reg):
            async_.append(entry)
            simple = False
        else:
            sync.append(entry)
            if entry[1] is not None:
                simple = False
    if simple:
        getters = tuple(getter for getter, _ in sync)
        if sender_ref is None:
            return getters
        plan = SenderPlan(getters)
        plan.sender_ref = sender_ref
        plan.fallback = fallback
        plan._pairs = tuple(sync)
        return plan
    if sender_ref is None:
        return Plan(tuple(sync), tuple(async_))
    return SenderMixedPlan(tuple(sync), tuple(async_), sender_ref, fallback)


class _SenderIndex:
    """One table version's registrations grouped by sender, with the any-sender plan.

    ``by_sender`` maps ``id(sender)`` to ``(position, registration)`` pairs in connect order;
    ``anyone`` holds the any-sender ones, ``anyone_plan`` their plan, shared by every sender
    without receivers of its own.
    """

    __slots__ = ("anyone", "anyone_plan", "by_sender")

    def __init__(self, registrations: Iterable[Registration]) -> None:
        by_sender: dict[int, list[tuple[int, Registration]]] = {}
        anyone: list[tuple[int, Registration]] = []
        for position, reg in enumerate(registrations):
            key = sender_key_of(reg)
            if key == NONE_KEY:
                anyone.append((position, reg))
            else:
                found = by_sender.get(key)
                if found is None:
                    by_sender[key] = [(position, reg)]
                else:
                    found.append((position, reg))
        self.by_sender = by_sender
        self.anyone = anyone
        self.anyone_plan = _plan_of([reg for _, reg in anyone], None, None)

    def plan(self, key: int) -> tuple[Any, bool]:
        """The plan of the sender whose ``id()`` is ``key``, and whether it has receivers of its
        own (whose plans are kept however many senders there are)."""
        own = self.by_sender.get(key)
        if own is None:
            return self.anyone_plan, False
        sender_ref = None
        alive: list[tuple[int, Registration]] = []
        for position, reg in own:
            ref = sender_ref_of(reg)
            if ref is not None:
                if ref() is None:
                    continue  # a dead sender's, whose id() the one asking now reuses
                sender_ref = ref
            alive.append((position, reg))
        if not alive:
            return self.anyone_plan, False
        merged = sorted(alive + self.anyone, key=_first) if self.anyone else alive
        return _plan_of([reg for _, reg in merged], sender_ref, self.anyone_plan), True


def _on_dead_callback(table_ref: weakref.ref[ReceiverTable]) -> Callable[[Any], None]:
    def on_dead(_reference: Any) -> None:
        # Runs during garbage collection, maybe while this thread holds table.lock: only
        # mark, take a new version (so a plan being built now is not stored) and drop the
        # plans (so a new object reusing a dead sender's id() never hits one built for it).
        table = table_ref()
        if table is not None:
            table._dead = True
            table._version = next(_versions)
            table.plans.clear()

    return on_dead


def _no_owner() -> None:
    return None


_unscoped_tables: weakref.WeakSet[ReceiverTable] = weakref.WeakSet()


def note_unscoped(table: ReceiverTable) -> None:
    """Mark ``table`` as holding (or having held) a registration made outside any plugin
    scope; the connect path calls it only while the mark is not set yet."""
    table.unscoped = True
    _unscoped_tables.add(table)


def unscoped_tables() -> list[ReceiverTable]:
    """Every live table that ever held a registration connected outside any plugin scope
    (the host's own receivers, and those a plugin's modules connected outside loading)."""
    return list(_unscoped_tables)


class ReceiverTable:
    """Registrations (in connect order), pending lazy connections, the lock and the plans.

    :ivar lock: held by every change; ``Signal.lock`` is this lock.
    :ivar plans: ``id(sender) -> plan``, read without the lock by the send methods and written
        only by the table (emptied in place, never replaced, so a reader may keep it).
    """

    __slots__ = (
        "__weakref__",
        "_aliases",
        "_anonymous",
        "_by_plugin",
        "_by_sender",
        "_dead",
        "_on_dead",
        "_pending",
        "_registrations",
        "_version",
        "lock",
        "owner",
        "plans",
        "unscoped",
    )

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.plans: dict[int, Any] = {}
        self._registrations: dict[Hashable, Registration] = {}
        # Lazy-sender connections waiting for their module, and what resolved ones became.
        self._pending: dict[Hashable, PendingConnection] = {}
        self._aliases: dict[Hashable, Hashable] = {}
        self._version = next(_versions)
        self._dead = False
        self._on_dead = _on_dead_callback(weakref.ref(self))
        # (version, index) of the registrations by plugin; see registrations_of().
        self._by_plugin: tuple[int, _PluginIndex] | None = None
        # (version, index) of the registrations by sender, which plans are built from.
        self._by_sender: tuple[int, _SenderIndex] | None = None
        # Keys of the plans of senders without receivers of their own (at most _PLAN_LIMIT).
        self._anonymous: list[int] = []
        #: The signal whose table this is (a weak reference, set by the signal), so what a
        #: plugin scope recorded leads back to the signals it connected to.
        self.owner: Callable[[], Any] = _no_owner
        #: Whether a registration was ever connected here outside any plugin scope (set once,
        #: with the table added to :func:`unscoped_tables`): only such tables can hold
        #: receivers a plugin owns by its modules, so inspection asks only them and the
        #: tables the plugin's own scopes recorded.
        self.unscoped = False

    # -- writing (always under the lock) ----------------------------------------------------

    def _changed(self) -> None:
        # Caller holds self.lock: the registrations changed, so the plans built from them go.
        # (Mostly none were built since the last change when many connect in turn.)
        self._version = next(_versions)
        if self.plans:
            self.plans.clear()
            self._anonymous.clear()

    def invalidate_plans(self) -> None:
        """Drop every stored plan, so the next send of each sender builds its plan again
        (lazy activation files and withdraws its waiting activations through this)."""
        with self.lock:
            self._changed()

    def _purge_dead(self) -> None:
        # Caller holds self.lock.
        self._dead = False
        registrations = self._registrations
        dead = [key for key, reg in tuple(registrations.items()) if not is_alive(reg)]
        for key in dead:
            registrations.pop(key, None)
        self._changed()

    def connect(
        self,
        receiver: Callable[..., Any],
        sender: object,
        weak: bool,
        dispatch_uid: Hashable | None,
        scope: Any,
    ) -> Hashable | None:
        """Register ``receiver`` for ``sender`` (an object, not a lazy reference).

        How the receiver and the sender are held: see
        :func:`~hookwire._dispatch.receivers.new_registration`.

        :returns: the lookup key if the registration is new, ``None`` if it was present.
        :raises ReceiverTypeError: ``weak`` and ``receiver`` cannot be weakly referenced.
        """
        key = lookup_key(receiver, sender, dispatch_uid)
        # acquire() and release() rather than "with": half the cost (~150 ns less in
        # CPython 3.11), about 10% of the "connect+disconnect 1000" benchmark row, where
        # remove() does the same.
        lock = self.lock
        lock.acquire()
        try:
            if self._dead:
                self._purge_dead()
            registrations = self._registrations
            existing = registrations.get(key)
            if existing is not None:
                if is_alive(existing):
                    return None
                del registrations[key]  # a dead row: the new one goes to the end
            registrations[key] = new_registration(
                key, receiver, sender, weak, dispatch_uid, scope, self._on_dead
            )
            self._changed()
        finally:
            lock.release()
        return key

    def connect_pending(
        self,
        receiver: Callable[..., Any],
        reference: str,
        weak: bool,
        dispatch_uid: Hashable | None,
        scope: Any,
    ) -> Hashable | None:
        """Keep a connect to the lazy sender ``reference`` pending until its module exists.

        :returns: its lookup key if new, ``None`` if it was present.
        :raises ReceiverTypeError: ``weak`` and ``receiver`` cannot be weakly referenced.
        """
        key = pending_key(receiver, reference, dispatch_uid)
        held: Any = receiver
        if weak:
            try:
                if isinstance(receiver, MethodType):
                    held = weakref.WeakMethod(receiver)
                else:
                    held = weakref.ref(receiver)
            except TypeError:
                raise not_weakrefable(receiver) from None
        with self.lock:
            if key in self._pending or key in self._aliases:
                return None
            self._pending[key] = PendingConnection(held, reference, weak, dispatch_uid, scope)
            self._changed()
        lazy.mark_pending(self)
        return key

    def remove(self, key: Hashable, scope: object = _ANYONE) -> bool:
        """Remove exactly the registration filed under ``key`` (pending, resolved or plain);
        with ``scope``, only if it was connected in that plugin scope.

        :returns: whether something was removed.
        """
        lock = self.lock
        lock.acquire()  # not "with": see connect()
        try:
            if self._dead:
                self._purge_dead()
            if scope is not _ANYONE and not self._connected_in(key, scope):
                return False
            if self._pending or self._aliases:
                return self._remove_lazy(key)
            if self._registrations.pop(key, None) is None:
                return False
            self._changed()
        finally:
            lock.release()
        return True

    def _connected_in(self, key: Hashable, scope: object) -> bool:
        # Caller holds self.lock.
        pending = self._pending.get(key)
        if pending is not None:
            return pending.scope is scope
        reg = self._registrations.get(self._aliases.get(key, key))
        return reg is not None and scope_of(reg) is scope

    def remove_unowned(self, claimed_by: Callable[[Registration], bool]) -> int:
        """Remove the registrations connected outside any scope for which ``claimed_by``
        says yes; return how many."""
        with self.lock:
            doomed = [
                key
                for key, reg in tuple(self._registrations.items())
                if scope_of(reg) is None and claimed_by(reg)
            ]
            for key in doomed:
                del self._registrations[key]
            if doomed:
                self._changed()
            return len(doomed)

    def _remove_lazy(self, key: Hashable) -> bool:
        # Caller holds self.lock. A lazy key removes the pending connection, or the
        # connection it was resolved to.
        removed = self._pending.pop(key, None) is not None
        key = self._aliases.pop(key, key)
        if not self._pending:
            lazy.unmark_pending(self)
        if self._registrations.pop(key, None) is not None:
            removed = True
        if removed:
            self._changed()
        return removed

    def resolve_pending(self) -> None:
        """Connect the pending lazy senders whose module is imported now."""
        with self.lock:
            pending = list(self._pending.items())
        for key, connection in pending:
            if lazy.module_of(connection.reference) not in sys.modules:
                continue
            # Outside the lock: looking the name up may run a module's __getattr__.
            target = lazy.lookup(connection.reference)
            if lazy.is_missing(target):
                continue
            receiver = connection.receiver()
            with self.lock:
                if self._pending.pop(key, None) is None:
                    continue  # resolved or removed by another thread meanwhile
                if receiver is not None:
                    # The lock is reentrant: connect() takes it again.
                    real_key = self.connect(
                        receiver, target, connection.weak, connection.dispatch_uid, connection.scope
                    )
                    if real_key is not None:
                        self._aliases[key] = real_key
                self._changed()
        with self.lock:
            if not self._pending:
                lazy.unmark_pending(self)

    def clear_dead(self) -> None:
        """Remove the registrations whose receiver or sender was garbage collected."""
        with self.lock:
            self._purge_dead()

    def replace_rows(self, rows: list[ReceiverRow]) -> None:
        """Keep exactly the registrations of ``rows`` (read earlier from :meth:`rows`)."""
        with self.lock:
            self._registrations = {key_of(row.registration): row.registration for row in rows}
            self._changed()

    def snapshot(self) -> object:
        """An opaque copy of every registration, pending or not, for :meth:`restore`."""
        with self.lock:
            return (dict(self._registrations), dict(self._pending), dict(self._aliases))

    def restore(self, state: object) -> None:
        """Put back exactly the registrations of a :meth:`snapshot`."""
        registrations, pending, aliases = cast(
            "tuple[dict[Hashable, Registration], dict[Hashable, PendingConnection], "
            "dict[Hashable, Hashable]]",
            state,
        )
        with self.lock:
            self._registrations = dict(registrations)
            self._pending = dict(pending)
            self._aliases = dict(aliases)
            self._changed()
            if self._pending:
                lazy.mark_pending(self)
            else:
                lazy.unmark_pending(self)

    # -- plans --------------------------------------------------------------------------

    def plan_for(self, sender: object) -> Any:
        """The plan for ``sender``, built from the index by sender (``send`` calls this on a
        miss).

        Built and stored under the lock, and stored only if nothing changed meanwhile (see
        the module docstring). While lazy connections are pending the plan is not stored:
        importing a module may resolve one for this very sender, so each send asks again.
        The same holds while a lazy plugin's activation waits for this signal
        (:mod:`~hookwire._dispatch.activation`): it runs first, and nothing is stored until
        none is waiting.
        """
        if self._pending:
            self.resolve_pending()
        if self in waiting:
            run_waiting(self)
        key = id(sender)
        with self.lock:
            if self._dead:
                self._purge_dead()
            version = self._version
            index = self._index(version)
            plan, owned = index.plan(key)
            if self._version == version and not self._pending and self not in waiting:
                plans = self.plans
                if not owned:
                    anonymous = self._anonymous
                    if len(anonymous) >= _PLAN_LIMIT:
                        # Only entries of the shared plan go: senders with receivers of their
                        # own keep theirs, so sending from more senders than the limit costs
                        # them nothing. (A key may be older than the callback of a dead
                        # sender, which cannot take the lock to clear this list.)
                        shared = index.anyone_plan
                        for stale in anonymous:
                            if plans.get(stale) is shared:
                                plans.pop(stale, None)
                        anonymous.clear()
                    anonymous.append(key)
                plans[key] = plan
        return plan

    def _index(self, version: int) -> _SenderIndex:
        # Caller holds self.lock; ``version`` is the one read under it.
        cached = self._by_sender
        if cached is None or cached[0] != version:
            cached = (version, _SenderIndex(self._registrations.values()))
            self._by_sender = cached
        return cached[1]

    # -- reading ------------------------------------------------------------------------

    def has_key(self, key: Hashable) -> bool:
        """Whether a registration, pending or connected, is filed under ``key``."""
        with self.lock:
            return key in self._registrations or key in self._pending or key in self._aliases

    def registrations(self) -> list[Registration]:
        """The live registrations, in connect order."""
        with self.lock:
            if self._dead:
                self._purge_dead()
            return [reg for reg in self._registrations.values() if is_alive(reg)]

    def registrations_of(self, plugin: str) -> tuple[list[Registration], list[PendingConnection]]:
        """The live registrations and pending connections attributed to ``plugin``, in
        connect order: those made in its scope, and those made outside any scope whose
        receiver's module the plugin owns.

        Costs that plugin's registrations, not every one: the registrations are grouped by
        plugin once per table version (any change takes a new version), so asking for each of
        many plugins in turn stays linear in what is connected. Only the registrations made
        outside any scope are looked at on every call, through their module (never described).
        """
        if self._pending:
            # Pending connections are few and short-lived: filtered on each call.
            pending = [c for c in self.pending() if _pending_plugin(c) == plugin]
        else:
            pending = []
        with self.lock:
            if self._dead:
                self._purge_dead()
            version = self._version
            cached = self._by_plugin
            if cached is None or cached[0] != version:
                cached = (version, _PluginIndex(self._registrations.values()))
                self._by_plugin = cached
        return cached[1].of(plugin), pending

    def pending(self) -> list[PendingConnection]:
        """The lazy-sender connections still waiting for their module, in connect order."""
        with self.lock:
            return list(self._pending.values())

    def registrations_for(self, sender: object) -> list[Registration]:
        """The live registrations ``send(sender)`` calls, in call order (sync, then async)."""
        if self._pending:
            self.resolve_pending()
        key = id(sender)
        with self.lock:
            if self._dead:
                self._purge_dead()
            index = self._index(self._version)
            own = index.by_sender.get(key, [])
            pairs = sorted(own + index.anyone, key=_first) if own else index.anyone
            regs = [reg for _, reg in pairs if is_alive(reg)]
        return [reg for reg in regs if not is_async_of(reg)] + [
            reg for reg in regs if is_async_of(reg)
        ]

    def rows(self) -> list[ReceiverRow]:
        """The live registrations as Django's ``Signal.receivers`` rows."""
        return [receiver_row(reg) for reg in self.registrations()]

    def find(self, receiver: object, sender: object = None) -> Registration | None:
        """The registration through which ``receiver`` was called for ``sender``, if any.

        Reads without the lock (dict reads are atomic); used on failure paths only.
        """
        registrations = self._registrations
        part = receiver_key(receiver)
        for key in ((part, id(sender)), (part, NONE_KEY)):
            reg = registrations.get(key)
            if reg is not None:
                return reg
        for reg in tuple(registrations.values()):
            try:
                candidate = live_receiver(reg)
                if candidate is receiver or (candidate is not None and candidate == receiver):
                    return reg
            except Exception:
                continue
        return None


def _module_of(reg: Registration) -> str | None:
    return names_of(live_receiver(reg))[0]


def _pending_plugin(connection: PendingConnection) -> str | None:
    name = None if connection.scope is None else scope_plugin(connection.scope)
    if name is None:
        receiver = connection.receiver()
        name = None if receiver is None else plugin_for_module(names_of(receiver)[0])
    return name


class _PluginIndex:
    """One table version's live registrations grouped by the plugin that connected them.

    Registrations connected outside any plugin scope are kept apart with their receiver's
    module: which plugin owns a module can change after they connected (the loader registers
    the modules of plugins the host imported itself), so they are matched when asked.
    """

    __slots__ = ("owned", "unowned")

    def __init__(self, registrations: Iterable[Registration]) -> None:
        self.owned: dict[str, list[tuple[int, Registration]]] = {}
        self.unowned: list[tuple[int, str | None, Registration]] = []
        for position, reg in enumerate(registrations):
            if not is_alive(reg):
                continue
            name = registration_plugin(reg)
            if name is None:
                self.unowned.append((position, _module_of(reg), reg))
            else:
                self.owned.setdefault(name, []).append((position, reg))

    def of(self, plugin: str) -> list[Registration]:
        found = self.owned.get(plugin, [])
        claimed = [
            (position, reg)
            for position, module, reg in self.unowned
            if module is not None and plugin_for_module(module) == plugin
        ]
        if claimed:
            found = sorted([*found, *claimed], key=_first)
        return [reg for _, reg in found]


def _first(item: tuple[int, Registration]) -> int:
    return item[0]


def receivers_of_entries(entries: Any) -> list[Any]:
    """The receivers of a plan's ``(getter, func)`` entries (or bare getters) still alive."""
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


def receivers_of_plan(plan: Any) -> tuple[list[Any], list[Any]]:
    """The receivers a plan calls, those still alive: ``(sync receivers, async receivers)``."""
    if plan.__class__ is tuple or (plan.__class__ is SenderPlan and plan.sender_ref() is not None):
        return receivers_of_entries(plan), []
    return receivers_of_entries(plan.sync), receivers_of_entries(plan.async_)
