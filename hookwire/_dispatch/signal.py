"""``Signal`` and ``receiver``: the dispatcher's public face, with ``django.dispatch`` semantics.

A :class:`Signal` keeps its state in one :class:`~hookwire._dispatch.table.ReceiverTable` (the
registrations, the lock and the per-sender plans; see that module for why the plans are
always right) and sends by walking the plan of the sender:

* a hit reads ``plans[id(sender)]`` without locking and calls each receiver;
* a miss asks the table, which builds the plan under its lock;
* receivers are never called with the lock held.

``send`` and ``send_robust`` are here; the async paths are in
:mod:`~hookwire._dispatch.asynchronous`, failures in :mod:`~hookwire._dispatch.failures`, and
anything that wraps a send (``muted()``, tracing, the test recorder) attaches through
:mod:`~hookwire._dispatch.wrappers`.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from types import FunctionType, MethodType
from typing import TYPE_CHECKING, Any, TypeVar

from . import lazy, wrappers
from .attribution import current_scope, module_owner
from .failures import (
    calls_receivers,
    forwards_sends,
    note_failure,
    recursive_send_error,
    robust_response,
)
from .receivers import (
    ONLY_HELD_BY_CALL,
    ReceiverRow,
    live_receiver,
    lookup_key,
    might_die_at_once,
    pending_key,
    validate_receiver,
    warn_dies_at_once,
)
from .table import ReceiverTable, SenderPlan, is_stale, split_plan

if TYPE_CHECKING:
    from .introspection import ReceiverInfo

__all__ = ["Signal", "all_signals", "disconnect_module_receivers", "receiver"]

F = TypeVar("F", bound=Callable[..., Any])

_all_signals: weakref.WeakSet[Signal] = weakref.WeakSet()

_id = id
_getrefcount = sys.getrefcount
_CO_VARKEYWORDS = 0x08


def all_signals() -> list[Signal]:
    """Every live :class:`Signal` instance, in no particular order."""
    return list(_all_signals)


def disconnect_module_receivers(owner: object) -> int:
    """Disconnect, from every signal, the receivers connected outside any plugin scope whose
    module is registered to ``owner`` (by ``register_module_owner``); return how many.

    The loader calls it when a plugin the host imported itself fails.
    """

    def claimed(reg: Any) -> bool:
        module = getattr(live_receiver(reg), "__module__", None)
        return isinstance(module, str) and module_owner(module) is owner

    return sum(signal._table.remove_unowned(claimed) for signal in all_signals())


def _creator_module(signal: object) -> str | None:
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


class _Mute(wrappers.SendWrapper):
    """What ``Signal.muted()`` attaches: every send returns ``[]`` without calling anyone."""

    layer = wrappers.MUTE

    def wrap(self, proceed: Any, invocation: wrappers.Invocation) -> list[tuple[Any, Any]]:
        return []

    async def awrap(self, proceed: Any, invocation: wrappers.Invocation) -> list[tuple[Any, Any]]:
        return []


class Signal:
    """A signal that receivers connect to and senders send, as ``django.dispatch.Signal``.

    :param use_caching: accepted for compatibility with Django. hookwire always caches the
        receivers of each sender (and, unlike Django, works with senders that cannot be
        weakly referenced or hashed either way).
    :param name: the signal's name for introspection (a :class:`~hookwire.Host` may set it).
    :param doc: a one-line description for introspection.

    ``module`` is the module that created the signal; ``qualified_name`` is
    ``"<module>.<name>"``; ``lock`` is the lock every change takes (as in Django).

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
        self.module = _creator_module(self)
        self._table = table = ReceiverTable()
        self.lock = table.lock
        # The table empties this dict in place and never replaces it, so it can be kept here
        # and read with one attribute lookup at every send.
        self._plans = table.plans
        _all_signals.add(self)

    # -- naming -----------------------------------------------------------------------

    @property
    def qualified_name(self) -> str:
        """``"<module>.<name>"``; an unnamed signal is looked up in its module's globals."""
        name = self.name
        if name is None:
            name = self.__dict__.get("_found_name")
        if name is None:
            module = sys.modules.get(self.module or "")
            namespace = getattr(module, "__dict__", {})
            # Search again only when the module gained or lost names since the last miss:
            # failure paths ask for the name, and a search costs as much as a robust send.
            if self.__dict__.get("_searched") != len(namespace):
                self.__dict__["_searched"] = len(namespace)
                for attribute, value in list(namespace.items()):
                    if value is self:
                        name = self.__dict__["_found_name"] = attribute
                        break
            if name is None:
                name = f"<signal at {id(self):#x}>"
        return f"{self.module}.{name}" if self.module else name

    def __repr__(self) -> str:
        return f"<Signal {self.qualified_name}>"

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
        :warns ~hookwire.exceptions.WeakReceiverWarning: a lambda, closure or partial connected
            weakly is referenced by nothing else and would be collected at once.
        """
        if receiver.__class__ is FunctionType and not receiver.__dict__:
            # The common case, checked inline: a plain function, not wrapped or marked.
            if not receiver.__code__.co_flags & _CO_VARKEYWORDS:
                validate_receiver(receiver)  # raises the readable error
        else:
            validate_receiver(receiver)
        if weak and _getrefcount(receiver) <= ONLY_HELD_BY_CALL and might_die_at_once(receiver):
            warn_dies_at_once(self.qualified_name, receiver)
        scope = current_scope()
        table = self._table
        if sender.__class__ is str and lazy.is_lazy_reference(sender):
            target = lazy.lookup(sender)
            if lazy.is_missing(target):
                key = table.connect_pending(receiver, sender, weak, dispatch_uid, scope)
                if key is not None and scope is not None:
                    scope.record(table, key)
                return
            sender = target
        key = table.connect(receiver, sender, weak, dispatch_uid, scope)
        if key is not None and scope is not None:
            scope.record(table, key)

    def disconnect(
        self,
        receiver: Callable[..., Any] | None = None,
        sender: object = None,
        dispatch_uid: Hashable | None = None,
    ) -> bool | None:
        """Disconnect ``receiver`` (or the ``dispatch_uid`` registration) from ``sender``.

        Once it returns, no send that starts afterwards calls the receiver.

        :returns: ``True`` when a registration was removed, ``False`` when none matched,
            ``None`` when ``sender`` is a lazy ``"module:QualName"`` reference. Never raises
            for unknown receivers or senders.
        """
        if sender.__class__ is str and lazy.is_lazy_reference(sender):
            self._table.remove(pending_key(receiver, sender, dispatch_uid))
            return None
        return self._table.remove(lookup_key(receiver, sender, dispatch_uid))

    def has_listeners(self, sender: object = None) -> bool:
        """Whether any live receiver would be called by ``send(sender)``."""
        sync, async_ = split_plan(self._plan_for(sender))
        return bool(sync or async_)

    def _plan_for(self, sender: object) -> Any:
        try:
            plan = self._plans[_id(sender)]
        except KeyError:
            return self._table.plan_for(sender)
        return self._table.replan(sender) if is_stale(plan, sender) else plan

    # -- Django's attributes ----------------------------------------------------------

    @property
    def receivers(self) -> list[ReceiverRow]:
        """The live registrations in connect order, as Django 6.1's rows
        ``(lookup_key, receiver, sender_ref, is_async)``; ``[]``
        when nothing is connected.

        Unlike Django's, the list never shows rows of receivers or senders already collected.
        Assigning a list obtained from this property (or ``[]``) restores exactly those
        registrations, as code written for Django sometimes does.
        """
        return self._table.rows()

    @receivers.setter
    def receivers(self, rows: list[ReceiverRow]) -> None:
        if not all(isinstance(row, ReceiverRow) for row in rows):
            raise TypeError("Signal.receivers accepts only a list read from Signal.receivers")
        self._table.replace_rows(rows)

    @property
    def sender_receivers_cache(self) -> dict[int, Any]:
        """The per-sender plans (clearing them is harmless; kept for Django compatibility)."""
        return self._plans

    def _clear_dead_receivers(self) -> None:
        """Drop registrations whose receiver or sender died (Django's private method)."""
        self._table.clear_dead()

    def _live_receivers(self, sender: object) -> tuple[list[Any], list[Any]]:
        """``(sync receivers, async receivers)`` that ``send(sender)`` would call.

        Django's private method of the same name and result, kept because third-party code
        calls it.
        """
        return split_plan(self._plan_for(sender))

    # -- sending ----------------------------------------------------------------------

    @calls_receivers
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
            plan = self._plans[_id(sender)]
        except KeyError:
            plan = self._table.plan_for(sender)
        if not plan:
            return []
        if "signal" in named:
            raise _duplicate_signal_argument()
        if plan.__class__ is not tuple and (
            plan.__class__ is not SenderPlan or plan.sender_ref() is not sender
        ):
            # Bound methods, async receivers, or a plan left by a dead sender of this id().
            return self._send_general(plan, sender, named, robust=False)
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
            note_failure(self.qualified_name, self._table, exc, receiver)
            raise
        return responses

    @calls_receivers
    def send_robust(self, sender: object, **named: Any) -> list[tuple[Any, Any]]:
        """Like :meth:`send`, but an ``Exception`` from a receiver becomes its response.

        Every receiver is called; each failure is logged at ERROR on ``hookwire.dispatch``
        with Django's message (``"Error calling %s in Signal.send_robust() (%s)"``, the
        receiver's ``__qualname__`` and the exception; the record also carries ``signal``,
        ``receiver``, ``receiver_module`` and ``plugin``) and returned with its
        ``__traceback__``. ``BaseException`` (``KeyboardInterrupt``, ``SystemExit``, ...)
        still propagates, and so does :class:`~hookwire.exceptions.RecursiveSendError`. Called
        from a running event loop, each async receiver gets a
        :class:`~hookwire.exceptions.SyncSendInEventLoopError` as its
        response while sync receivers are served.
        """
        try:
            plan = self._plans[_id(sender)]
        except KeyError:
            plan = self._table.plan_for(sender)
        if (
            plan.__class__ is not tuple
            and (plan.__class__ is not SenderPlan or plan.sender_ref() is not sender)
        ) or "signal" in named:
            # The general path passes keywords per call: signal= given twice then fails in
            # each receiver, as in Django.
            return self._send_general(plan, sender, named, robust=True)
        arguments = {"signal": self, "sender": sender, **named}
        responses = []
        for getter in plan:
            receiver = getter()
            if receiver is None:
                continue
            try:
                responses.append((receiver, receiver(**arguments)))
            except Exception as err:
                response = robust_response(self.qualified_name, self._table, receiver, err, sender)
                responses.append((receiver, response))
        return responses

    @calls_receivers
    def _send_general(
        self, plan: Any, sender: object, named: dict[str, Any], *, robust: bool
    ) -> list[tuple[Any, Any]]:
        """Walk any plan: bound methods, async receivers, ``signal=`` passed twice."""
        if is_stale(plan, sender):
            plan = self._table.replan(sender)
        if isinstance(plan, tuple):
            entries: Any = tuple((getter, None) for getter in plan)
        else:
            if plan.async_:
                from .asynchronous import send_with_async_receivers

                return send_with_async_receivers(
                    self, self._table, plan, sender, named, robust=robust
                )
            entries = plan.sync
        responses = []
        for getter, func in entries:
            receiver = getter()
            if receiver is None:
                continue
            if func is not None:
                receiver = MethodType(func, receiver)
            try:
                response = receiver(signal=self, sender=sender, **named)
            except RecursionError as exc:
                if robust:
                    response = robust_response(
                        self.qualified_name, self._table, receiver, exc, sender
                    )
                else:
                    raise recursive_send_error(exc) from None
            except Exception as exc:
                if not robust:
                    note_failure(self.qualified_name, self._table, exc, receiver)
                    raise
                response = robust_response(self.qualified_name, self._table, receiver, exc, sender)
            responses.append((receiver, response))
        return responses

    @forwards_sends
    def _send_plan(self, invocation: wrappers.Invocation) -> Any:
        """Send along ``invocation.plan`` instead of the signal's own (the tracer's timed
        receivers); a coroutine for the async methods."""
        plan = invocation.plan
        if invocation.is_async:
            from .asynchronous import asend

            return asend(
                self,
                self._table,
                invocation.sender,
                invocation.named,
                robust=invocation.robust,
                plan=plan,
            )
        return self._send_general(
            plan, invocation.sender, invocation.named, robust=invocation.robust
        )

    @forwards_sends
    async def asend(self, sender: object, **named: Any) -> list[tuple[Any, Any]]:
        """Send from async code: sync receivers run through ``sync_to_async``, then async ones
        run concurrently in one task group.

        **Failures:** an exception from a sync receiver stops the send. When async receivers
        fail, the task group cancels the others; a single failure is raised as itself,
        several as an :class:`ExceptionGroup` holding them all. No task outlives the call.
        Cancelling ``asend`` raises :class:`asyncio.CancelledError` at once.

        **Context variables:** changes receivers make are visible to the caller afterwards.
        """
        from .asynchronous import asend

        return await asend(self, self._table, sender, named, robust=False)

    @forwards_sends
    async def asend_robust(self, sender: object, **named: Any) -> list[tuple[Any, Any]]:
        """Like :meth:`asend`, but each ``Exception`` becomes its receiver's response (logged
        at ERROR on ``hookwire.dispatch`` as :meth:`send_robust` logs it); cancellation and
        ``BaseException`` propagate."""
        from .asynchronous import asend

        return await asend(self, self._table, sender, named, robust=True)

    # -- beyond Django ----------------------------------------------------------------

    @contextmanager
    def connected_to(
        self,
        receiver: F,
        sender: object = None,
        *,
        weak: bool = False,
        dispatch_uid: Hashable | None = None,
    ) -> Iterator[F]:
        """Connect ``receiver`` for the duration of the block (strongly by default).

        It is disconnected on exit, also when the block raises; if it was already connected
        before, it stays connected.
        """
        if sender.__class__ is str and lazy.is_lazy_reference(sender):
            target = lazy.lookup(sender)
            if lazy.is_missing(target):
                key = pending_key(receiver, sender, dispatch_uid)
            else:
                key = lookup_key(receiver, target, dispatch_uid)
        else:
            key = lookup_key(receiver, sender, dispatch_uid)
        connected_before = self._table.has_key(key)
        self.connect(receiver, sender=sender, weak=weak, dispatch_uid=dispatch_uid)
        try:
            yield receiver
        finally:
            if not connected_before:
                self._table.remove(key)

    @contextmanager
    def muted(self) -> Iterator[None]:
        """Within the block, sending this signal calls no receiver and returns ``[]``.

        Muting applies to every thread; blocks may nest. Costs nothing outside the block.
        """
        mute = _Mute()
        wrappers.attach(mute, Signal, self)
        try:
            yield
        finally:
            wrappers.detach(mute, Signal, self)

    def describe_receivers(self) -> list[ReceiverInfo]:
        """Every receiver as a :class:`~hookwire.ReceiverInfo`, in the order send calls them.

        Sync receivers come before async ones, as ``send`` calls them; lazy-sender
        connections still pending come last with their ``"module:QualName"`` as sender.
        """
        from .introspection import describe_registrations

        return describe_registrations(self._table.registrations(), self._table.pending())

    # -- test isolation ---------------------------------------------------------------

    def _snapshot_state(self) -> object:
        """An opaque copy of every registration, for :meth:`_restore_state`."""
        return self._table.snapshot()

    def _restore_state(self, state: object) -> None:
        """Put back exactly the registrations of a :meth:`_snapshot_state`."""
        self._table.restore(state)


def _duplicate_signal_argument() -> TypeError:
    # What calling a receiver with signal= twice raises; said before any receiver runs.
    return TypeError("send() got multiple values for keyword argument 'signal'")


def receiver(signal: Signal | list[Signal] | tuple[Signal, ...], **kwargs: Any) -> Callable[[F], F]:
    """Decorator connecting the function to ``signal`` (or each signal of a list).

    ``kwargs`` are those of :meth:`~hookwire.Signal.connect` (``sender``, ``weak``,
    ``dispatch_uid``). The decorated function is returned unchanged, with its type.
    """

    def decorator(func: F) -> F:
        if isinstance(signal, list | tuple):
            for each in signal:
                each.connect(func, **kwargs)
        else:
            signal.connect(func, **kwargs)
        return func

    return decorator
