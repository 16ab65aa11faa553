"""``Signal`` and ``receiver``: the dispatcher, with ``django.dispatch`` semantics.

How it stays fast and thread-safe:

* The registrations live in one dict, keyed on the lookup key, in connect order. Writers
  (connect, disconnect, cleanup) change it under ``self.lock`` in O(1) and then replace the
  per-sender cache with an empty dict.
* ``send`` reads the cache without locking: for each sender it holds an immutable tuple of
  ready-to-call entries. Only a miss (first send after a change) takes the lock, to build that
  tuple from the registrations. Receivers are never called with the lock held.
* Weak references' callbacks only flag the signal and drop the cache (one attribute store):
  they run during garbage collection, possibly while this very thread holds the lock, so
  they must not try to take it. Dead rows are removed by the next writer or cache build.

A ``send`` that starts after ``disconnect()`` returned never calls the disconnected receiver; a
send already running works on the snapshot it took when it started (Django behaves the same).
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable, Hashable
from types import FunctionType, MethodType
from typing import Any, TypeVar

from . import _failures, _lazy_senders
from ._attribution import _current_scope
from ._plans import Plan, plan_for
from ._receivers import (
    LAZY_TAG,
    ONLY_HELD_BY_CALL,
    UID_TAG,
    Registration,
    is_alive,
    make_registration,
    might_die_at_once,
    receiver_key,
    receiver_part,
    validate_receiver,
    warn_dies_at_once,
)
from ._recursion import recursive_send_error
from ._signal_extras import SignalExtras, creator_module

__all__ = ["Signal", "all_signals", "receiver"]

_F = TypeVar("_F", bound=Callable[..., Any])

_all_signals: weakref.WeakSet[Signal] = weakref.WeakSet()

_UID = UID_TAG
_LAZY = LAZY_TAG

_id = id
_getrefcount = sys.getrefcount
_CO_VARKEYWORDS = 0x08


def all_signals() -> list[Signal]:
    """Every live :class:`Signal` instance, in no particular order."""
    return list(_all_signals)


def _dead_flagger(signal_ref: weakref.ref[Signal]) -> Callable[[Any], None]:
    def flag_dead(_reference: Any) -> None:
        # Runs during garbage collection, maybe while this thread holds signal.lock: only
        # mark, and drop the cache so a new object reusing a dead sender's id() never hits
        # a plan built for the old one.
        signal = signal_ref()
        if signal is not None:
            signal._dead = True
            signal._cache = {}

    return flag_dead


class Signal(SignalExtras):
    """A signal that receivers connect to and senders send, as ``django.dispatch.Signal``.

    :param use_caching: accepted for compatibility with Django. hookwire always caches the
        receivers of each sender (and, unlike Django, works with senders that cannot be
        weakly referenced or hashed either way).
    :param name: the signal's name for introspection (a :class:`~hookwire.Host` may set it).
    :param doc: a one-line description for introspection.

    ``module`` is the module that created the signal; ``qualified_name`` is
    ``"<module>.<name>"``.

    **dispatch_uid rule:** any ``dispatch_uid`` other than ``None`` identifies the receiver,
    including ``0`` and ``""`` (Django silently ignores falsy uids); ``None`` means "identify
    the receiver by the object itself".
    """

    use_caching: bool
    name: str | None
    doc: str | None
    module: str | None

    def __init__(
        self, use_caching: bool = False, *, name: str | None = None, doc: str | None = None
    ) -> None:
        self.use_caching = use_caching
        self.name = name
        self.doc = doc
        self.module = creator_module(self)
        self.lock = threading.RLock()
        self._registry: dict[Hashable, Registration] = {}
        self._cache: dict[int, Any] = {}
        self._dead = False
        self._pending: dict[Hashable, tuple[Any, str, bool, Hashable | None, str | None]] = {}
        self._lazy_aliases: dict[Hashable, Hashable] = {}
        self._on_dead = _dead_flagger(weakref.ref(self))
        _all_signals.add(self)

    # -- registration -----------------------------------------------------------------

    def connect(
        self,
        receiver: Callable[..., Any],
        sender: object = None,
        weak: bool = True,
        dispatch_uid: Hashable | None = None,
    ) -> None:
        """Connect ``receiver`` to this signal, for ``sender`` only or (``None``) any sender.

        Receivers are called in connect order. Connecting the same receiver (or the same
        ``dispatch_uid``) for the same sender again does nothing. With ``weak=True`` the
        receiver is held by a weak reference (bound methods through their instance) and
        dropped once it is garbage collected. ``sender`` may be a lazy reference
        ``"package.module:QualName"``, connected once that module is imported.

        :raises ReceiverTypeError: ``receiver`` is not callable, or ``weak=True`` and it
            cannot be weakly referenced.
        :raises ReceiverSignatureError: ``receiver`` does not accept ``**kwargs``.
        :warns WeakReceiverWarning: a lambda, closure or partial connected weakly is
            referenced by nothing else and would be collected at once.
        """
        if receiver.__class__ is FunctionType and not receiver.__dict__:
            # The common case, checked inline: a plain function, not wrapped or marked.
            if not receiver.__code__.co_flags & _CO_VARKEYWORDS:
                validate_receiver(receiver)  # raises the readable error
        else:
            validate_receiver(receiver)
        if weak and _getrefcount(receiver) <= ONLY_HELD_BY_CALL and might_die_at_once(receiver):
            warn_dies_at_once(self.qualified_name, receiver)
        scope = _current_scope.get()
        if sender.__class__ is str and _lazy_senders.is_lazy_reference(sender):
            target = _lazy_senders.lookup(sender)
            if _lazy_senders.is_missing(target):
                key = _lazy_senders.add_pending(
                    self,
                    receiver,
                    receiver_part(receiver, dispatch_uid),
                    sender,
                    weak,
                    dispatch_uid,
                    None if scope is None else scope.plugin,
                )
                if key is not None and scope is not None:
                    scope.record(self, key)
                return
            sender = target
        # The body of _connect(), inlined: connect speed is part of the contract.
        if dispatch_uid is not None:
            lookup_key: Hashable = ((_UID, dispatch_uid), _id(sender))
        elif receiver.__class__ is FunctionType:
            lookup_key = (_id(receiver), _id(sender))
        else:
            lookup_key = (receiver_key(receiver), _id(sender))
        with self.lock:
            if self._dead:
                self._purge_dead()
            registry = self._registry
            existing = registry.get(lookup_key)
            if existing is not None:
                if is_alive(existing):
                    return
                del registry[lookup_key]  # a dead row: the new one goes to the end
            registry[lookup_key] = make_registration(
                receiver,
                sender,
                lookup_key,
                weak,
                dispatch_uid,
                None if scope is None else scope.plugin,
                self._on_dead,
            )
            if self._cache:
                self._cache = {}
        if scope is not None:
            scope.record(self, lookup_key)

    def _connect(
        self,
        receiver: Callable[..., Any],
        sender: object,
        weak: bool,
        dispatch_uid: Hashable | None,
        plugin: str | None,
    ) -> Hashable | None:
        """Add a registration; return its lookup key if it is new, ``None`` if present."""
        if dispatch_uid is not None:
            lookup_key: Hashable = ((_UID, dispatch_uid), _id(sender))
        elif receiver.__class__ is FunctionType:
            lookup_key = (_id(receiver), _id(sender))
        else:
            lookup_key = (receiver_key(receiver), _id(sender))
        with self.lock:
            if self._dead:
                self._purge_dead()
            registry = self._registry
            existing = registry.get(lookup_key)
            if existing is not None:
                if is_alive(existing):
                    return None
                del registry[lookup_key]  # a dead row: the new one goes to the end
            registry[lookup_key] = make_registration(
                receiver, sender, lookup_key, weak, dispatch_uid, plugin, self._on_dead
            )
            if self._cache:
                self._cache = {}
        return lookup_key

    def disconnect(
        self,
        receiver: Callable[..., Any] | None = None,
        sender: object = None,
        dispatch_uid: Hashable | None = None,
    ) -> bool | None:
        """Disconnect ``receiver`` (or the ``dispatch_uid`` registration) from ``sender``.

        :returns: ``True`` when a registration was removed, ``False`` when none matched,
            ``None`` when ``sender`` is a lazy ``"module:QualName"`` reference. Never raises
            for unknown receivers or senders.
        """
        if dispatch_uid is not None:
            part: Hashable = (_UID, dispatch_uid)
        elif receiver.__class__ is FunctionType:
            part = _id(receiver)
        else:
            part = receiver_key(receiver)
        if sender.__class__ is str and _lazy_senders.is_lazy_reference(sender):
            self._disconnect_lookup_key((part, _LAZY, sender))
            return None
        lookup_key = (part, _id(sender))
        # The common case of _disconnect_lookup_key(), inlined for speed.
        with self.lock:
            if self._dead:
                self._purge_dead()
            if self._pending or self._lazy_aliases:
                return self._disconnect_lazy_key(lookup_key)
            if self._registry.pop(lookup_key, None) is None:
                return False
            if self._cache:
                self._cache = {}
        return True

    def _disconnect_lookup_key(self, lookup_key: Hashable) -> bool:
        """Remove exactly the registration ``lookup_key`` (whatever its sender); report it.

        Used by :meth:`PluginScope.undo <hookwire._attribution.PluginScope.undo>`. Lazy keys
        remove the pending connection, or the connection it was resolved to.
        """
        with self.lock:
            if self._dead:
                self._purge_dead()
            if self._pending or self._lazy_aliases:
                return self._disconnect_lazy_key(lookup_key)
            if self._registry.pop(lookup_key, None) is None:
                return False
            if self._cache:
                self._cache = {}
        return True

    def _disconnect_lazy_key(self, lookup_key: Hashable) -> bool:
        # Caller holds self.lock.
        removed = self._pending.pop(lookup_key, None) is not None
        real_key = self._lazy_aliases.pop(lookup_key, lookup_key)
        if self._registry.pop(real_key, None) is not None:
            removed = True
        if removed:
            self._cache = {}
        if not self._pending:
            _lazy_senders.forget(self)
            self._cache = {}
        return removed

    def has_listeners(self, sender: object = None) -> bool:
        """Whether any live receiver would be called by ``send(sender)``."""
        try:
            plan = self._cache[_id(sender)]
        except KeyError:
            plan = self._plan_for(sender)
        if plan.__class__ is tuple:
            return any(getter() is not None for getter in plan)
        return any(getter() is not None for getter, _ in plan.sync + plan.async_)

    def _purge_dead(self) -> None:
        # Caller holds self.lock.
        self._dead = False
        registry = self._registry
        dead = [key for key, reg in tuple(registry.items()) if not is_alive(reg)]
        for key in dead:
            registry.pop(key, None)
        self._cache = {}

    # -- lazy senders -----------------------------------------------------------------

    def _resolve_pending(self) -> None:
        """Connect pending lazy senders whose module is imported (see :mod:`_lazy_senders`)."""
        _lazy_senders.resolve_signal(self)

    # -- building plans ---------------------------------------------------------------

    def _plan_for(self, sender: object) -> Any:
        """The cached entries for ``sender``, building them on a miss (see :mod:`_plans`)."""
        return plan_for(self, sender)

    # -- sending ----------------------------------------------------------------------

    def send(self, sender: object, **named: Any) -> list[tuple[Any, Any]]:
        """Call every receiver of ``sender`` with ``signal=self, sender=sender, **named``.

        Sync receivers are called in connect order, then async ones concurrently (through
        asgiref's ``async_to_sync``). The first exception stops the send and propagates,
        with a note naming the receiver and its plugin.

        :returns: ``[(receiver, response), ...]``.
        :raises SyncSendInEventLoopError: called from a running event loop while async
            receivers are connected; raised before any receiver is called.
        :raises RecursiveSendError: receivers kept sending signals from inside each other
            until the interpreter's recursion limit; the message names the chain.
        """
        try:
            plan = self._cache[_id(sender)]
        except KeyError:
            plan = self._plan_for(sender)
        if not plan:
            return []
        if "signal" in named:
            raise _duplicate_signal_argument()
        if plan.__class__ is not tuple:
            return self._send_general(plan, sender, named)
        # One dict for every receiver: each call still gets its own **kwargs copy, and
        # building the keywords once is what makes send faster than a hand-written loop.
        arguments = {"signal": self, "sender": sender, **named}
        responses = []
        try:
            for getter in plan:
                receiver = getter()
                if receiver is not None:
                    responses.append((receiver, receiver(**arguments)))
        except RecursionError as exc:
            raise recursive_send_error(exc) from None
        except Exception as exc:
            self._note_failure(exc, receiver)
            raise
        return responses

    def _send_general(
        self, plan: Plan, sender: object, named: dict[str, Any]
    ) -> list[tuple[Any, Any]]:
        if plan.async_:
            from ._async_send import send_with_async_receivers

            return send_with_async_receivers(self, plan, sender, named, robust=False)
        arguments = {"signal": self, "sender": sender, **named}
        responses = []
        try:
            for getter, func in plan.sync:
                receiver = getter()
                if receiver is None:
                    continue
                if func is not None:
                    receiver = MethodType(func, receiver)
                responses.append((receiver, receiver(**arguments)))
        except RecursionError as exc:
            raise recursive_send_error(exc) from None
        except Exception as exc:
            self._note_failure(exc, receiver)
            raise
        return responses

    def send_robust(self, sender: object, **named: Any) -> list[tuple[Any, Any]]:
        """Like :meth:`send`, but an ``Exception`` from a receiver becomes its response.

        Every receiver is called; each failure is logged at ERROR on ``hookwire.dispatch``
        and returned with its ``__traceback__``. ``BaseException`` (``KeyboardInterrupt``,
        ``SystemExit``, ...) still propagates, and so does :class:`RecursiveSendError`.
        Called from a running event loop, each async receiver gets a
        :class:`SyncSendInEventLoopError` as its response while sync receivers are served.
        """
        try:
            plan = self._cache[_id(sender)]
        except KeyError:
            plan = self._plan_for(sender)
        if plan.__class__ is not tuple or "signal" in named:
            # The general path passes keywords per call: signal= given twice then fails in
            # each receiver, as in Django.
            return self._send_robust_plan(plan, sender, named)
        arguments = {"signal": self, "sender": sender, **named}
        responses = []
        for getter in plan:
            receiver = getter()
            if receiver is None:
                continue
            try:
                responses.append((receiver, receiver(**arguments)))
            except Exception as err:
                responses.append((receiver, _failures.robust_response(self, receiver, err, sender)))
        return responses

    def _send_robust_plan(
        self, plan: Any, sender: object, named: dict[str, Any]
    ) -> list[tuple[Any, Any]]:
        if plan.__class__ is tuple:
            entries: Any = plan
            bound = False
        else:
            if plan.async_:
                from ._async_send import send_with_async_receivers

                return send_with_async_receivers(self, plan, sender, named, robust=True)
            entries = plan.sync
            bound = True
        responses = []
        for entry in entries:
            if bound:
                getter, func = entry
                receiver = getter()
                if receiver is None:
                    continue
                if func is not None:
                    receiver = MethodType(func, receiver)
            else:
                receiver = entry()
                if receiver is None:
                    continue
            try:
                response = receiver(signal=self, sender=sender, **named)
            except Exception as err:
                response = _failures.robust_response(self, receiver, err, sender)
            responses.append((receiver, response))
        return responses

    async def asend(self, sender: object, **named: Any) -> list[tuple[Any, Any]]:
        """Send from async code: sync receivers run through ``sync_to_async``, then async ones
        run concurrently in one task group (details in :mod:`hookwire._async_send`).

        **Failures:** an exception from a sync receiver stops the send. When async receivers
        fail, the task group cancels the others; a single failure is raised as itself,
        several as an :class:`ExceptionGroup` holding them all. No task outlives the call.
        Cancelling ``asend`` raises :class:`asyncio.CancelledError` at once.

        **Context variables:** changes receivers make are visible to the caller afterwards.
        """
        from ._async_send import asend

        return await asend(self, sender, named, robust=False)

    async def asend_robust(self, sender: object, **named: Any) -> list[tuple[Any, Any]]:
        """Like :meth:`asend`, but each ``Exception`` becomes its receiver's response (logged
        at ERROR on ``hookwire.dispatch``); cancellation and ``BaseException`` propagate."""
        from ._async_send import asend

        return await asend(self, sender, named, robust=True)

    # -- failures ----------------------------------------------------------------------

    def _note_failure(self, exc: BaseException, receiver: object) -> None:
        _failures.note_failure(self, exc, receiver)

    def _log_robust_failure(
        self, receiver: object, err: BaseException, sender: object = None
    ) -> None:
        _failures.log_robust_failure(self, receiver, err, sender)


def _duplicate_signal_argument() -> TypeError:
    # What calling a receiver with signal= twice raises; said before any receiver runs.
    return TypeError("send() got multiple values for keyword argument 'signal'")


def receiver(
    signal: Signal | list[Signal] | tuple[Signal, ...], **kwargs: Any
) -> Callable[[_F], _F]:
    """Decorator connecting the function to ``signal`` (or each signal of a list).

    ``kwargs`` are those of :meth:`Signal.connect` (``sender``, ``weak``, ``dispatch_uid``).
    The decorated function is returned unchanged, with its type.
    """

    def decorator(func: _F) -> _F:
        if isinstance(signal, list | tuple):
            for each in signal:
                each.connect(func, **kwargs)
        else:
            signal.connect(func, **kwargs)
        return func

    return decorator
