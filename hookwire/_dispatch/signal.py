"""``Signal`` and ``receiver``: the dispatcher's public face, with ``django.dispatch`` semantics.

A :class:`Signal` keeps its state in one :class:`~hookwire._dispatch.table.ReceiverTable` (the
registrations, the lock and the per-sender plans; see that module for why the plans are
always right) and sends by walking the plan of the sender:

* a hit reads ``plans[id(sender)]`` without locking and calls each receiver;
* a miss asks the table, which builds the plan under its lock;
* receivers are never called with the lock held.

``send`` and ``send_robust`` are here; the async paths are in
:mod:`~hookwire._dispatch.asynchronous`, failures in :mod:`~hookwire._dispatch.failures`, and
anything that observes a send (``muted()``, tracing, the test recorder, the public observers
of :mod:`~hookwire._dispatch.observers`) attaches through :mod:`~hookwire._dispatch.wrappers`,
which reaches a signal only through the few methods of "the interface of observed sends"
below.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import FunctionType, MethodType, ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from . import lazy, observers, wrappers
from .attribution import current_scope, module_claimant, plugin_for_module
from .contracts import Contract, build_contract, check_receiver, check_send
from .failures import (
    duplicate_signal_argument,
    plugin_of,
    receiver_failed,
    signal_given_twice,
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
from .recursion import calls_receivers, forwards_sends
from .table import (
    ReceiverTable,
    SenderPlan,
    note_unscoped,
    receivers_of_entries,
    receivers_of_plan,
    unscoped_tables,
)

if TYPE_CHECKING:
    from .introspection import ReceiverInfo
    from .receivers import Registration

__all__ = ["Signal", "all_signals", "async_paths", "disconnect_module_receivers", "receiver"]

F = TypeVar("F", bound=Callable[..., Any])

_all_signals: weakref.WeakSet[Signal] = weakref.WeakSet()
_NO_NAMES: dict[str, Any] = {}

_id = id
_getrefcount = sys.getrefcount
_CO_VARKEYWORDS = 0x08


_async_paths: ModuleType | None = None


def async_paths() -> ModuleType:
    """:mod:`hookwire._dispatch.asynchronous`, imported by the first send that needs it.

    asyncio and asgiref stay out of ``import hookwire``, so the sends cannot import it at the
    top; and a ``from .asynchronous import ...`` in the send itself resolves the relative
    name at every call, which costs more than the rest of a sync send's own work on the way
    to its async receivers.
    """
    global _async_paths
    paths = _async_paths
    if paths is None:
        from . import asynchronous

        paths = _async_paths = asynchronous
    return paths


def all_signals() -> list[Signal]:
    """Every live :class:`Signal` instance, in no particular order."""
    return list(_all_signals)


def disconnect_module_receivers(claimant: object) -> int:
    """Disconnect, from every signal, the receivers connected outside any plugin scope whose
    module ``claimant`` claimed (by ``claim_module``); return how many.

    The loader calls it when a plugin the host imported itself fails.
    """

    def claimed(reg: Any) -> bool:
        module = getattr(live_receiver(reg), "__module__", None)
        return isinstance(module, str) and module_claimant(module) is claimant

    # Only tables that ever had a registration outside any scope can hold one.
    return sum(table.remove_unowned(claimed) for table in unscoped_tables())


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


class _Mute(observers.SendObserver):
    """What ``Signal.muted()`` attaches: every send returns ``[]`` without calling anyone."""

    order = wrappers.MUTE

    def send_started(self, send: observers.ObservedSend) -> Any:
        return wrappers.STOP


class Signal:
    """A signal that receivers connect to and senders send, as ``django.dispatch.Signal``.

    :param use_caching: accepted for compatibility with Django. hookwire always caches the
        receivers of each sender (and, unlike Django, works with senders that cannot be
        weakly referenced or hashed either way).
    :param name: the signal's name for introspection (a :class:`~hookwire.Host` may set it).
    :param doc: a one-line description for introspection.
    :param args: the arguments every send passes besides ``sender``: a dict of name -> type,
        or a list of names. Without it the signal is exactly Django's; with it, receivers are
        checked at connect and sends at send (see :attr:`args`).
    :param deprecated_args: arguments senders may still pass but receivers should stop
        naming: a dict of name -> what to use instead, or a list of names. Needs ``args``.
    :raises TypeError: ``args`` or ``deprecated_args`` has the wrong shape, or
        ``deprecated_args`` is given without ``args``.
    :raises ValueError: a declared name is not an identifier, is ``signal`` or ``sender``, or
        is both declared and deprecated.

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
        self,
        use_caching: bool = False,
        *,
        name: str | None = None,
        doc: str | None = None,
        args: Mapping[str, Any] | Iterable[str] | None = None,
        deprecated_args: Mapping[str, str] | Iterable[str] | None = None,
    ) -> None:
        self.use_caching = use_caching
        self.name = name
        self.doc = doc
        self.module = _creator_module(self)
        contract: Contract | None = None
        if args is not None:
            contract = build_contract(args, deprecated_args)
        elif deprecated_args is not None:
            raise TypeError("Signal(deprecated_args=...) needs args=... as well")
        self._contract = contract
        # What a send may pass (declared and deprecated names), compared with its keywords at
        # the top of every send method: None on signals without a contract, the name itself
        # when it is the only one (one comparison instead of a loop), else a tuple.
        accepted = None if contract is None else tuple(contract.accepted)
        self._accepted = accepted[0] if accepted is not None and len(accepted) == 1 else accepted
        self._table = table = ReceiverTable()
        table.owner = weakref.ref(self)
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
        state = self.__dict__
        if name is None:
            name = state.get("_found_name")
        if name is None:
            # The module's namespace, kept once found: every failure of a robust send asks
            # for the name (the "send_robust, 10 (1 raises)" benchmark row).
            held = state.get("_namespace")
            if held is not None and held[0] == self.module:
                namespace = held[1]
            else:
                module = sys.modules.get(self.module or "")
                namespace = getattr(module, "__dict__", _NO_NAMES)
                if module is not None:
                    state["_namespace"] = (self.module, namespace)
            # Search again only when the module gained or lost names since the last miss:
            # failure paths ask for the name, and a search costs as much as a robust send.
            if state.get("_searched") != len(namespace):
                state["_searched"] = len(namespace)
                for attribute, value in list(namespace.items()):
                    if value is self:
                        name = state["_found_name"] = attribute
                        break
            if name is None:
                name = state.get("_anonymous_name")
                if name is None:
                    name = state["_anonymous_name"] = f"<signal at {id(self):#x}>"
        return f"{self.module}.{name}" if self.module else name

    def __repr__(self) -> str:
        return f"<Signal {self.qualified_name}>"

    # -- the contract -----------------------------------------------------------------

    @property
    def args(self) -> Mapping[str, Any] | None:
        """The declared arguments, name -> type (``None`` for names declared without one), in
        declaration order; ``None`` when the signal declares none (Django's behaviour).

        On a signal with arguments, every send must pass exactly these (deprecated ones may
        also be passed), else :class:`~hookwire.exceptions.SignalArgumentsError`; and a
        receiver's parameters other than ``signal``, ``sender`` and ``**kwargs`` must be
        declared or have a default, else
        :class:`~hookwire.exceptions.ReceiverSignatureError`.
        """
        contract = self._contract
        return None if contract is None else contract.types

    @property
    def deprecated_args(self) -> Mapping[str, str] | None:
        """Deprecated argument -> what to use instead (``""`` when nothing was said); ``None``
        on a signal without declared arguments. A receiver naming one gets a
        :class:`~hookwire.exceptions.HookwireDeprecationWarning` at connect."""
        contract = self._contract
        return None if contract is None else contract.deprecated

    def _check_arguments(self, named: dict[str, Any]) -> None:
        """Raise :class:`~hookwire.exceptions.SignalArgumentsError` unless ``named`` keeps
        the contract (the send methods call it when the names differ from what is accepted;
        leaving out deprecated arguments is allowed)."""
        if self._contract is not None:
            check_send(self.qualified_name, self._contract, named)

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
        :raises ReceiverSignatureError: ``receiver`` does not accept ``**kwargs``; or the
            signal declares its arguments and ``receiver`` takes a parameter (other than
            ``signal`` and ``sender``) that is neither declared nor given a default.
        :warns ~hookwire.exceptions.WeakReceiverWarning: a lambda, closure or partial connected
            weakly is referenced by nothing else and would be collected at once.
        :warns ~hookwire.exceptions.HookwireDeprecationWarning: ``receiver`` takes an argument
            the signal has deprecated.
        """
        if receiver.__class__ is FunctionType and not receiver.__dict__:
            # The common case, checked inline: a plain function, not wrapped or marked.
            if not receiver.__code__.co_flags & _CO_VARKEYWORDS:
                validate_receiver(receiver)  # raises the readable error
        else:
            validate_receiver(receiver)
        scope = current_scope()
        if self._contract is not None:
            plugin = scope.plugin if scope is not None else None
            if plugin is None:
                plugin = plugin_for_module(getattr(receiver, "__module__", None))
            check_receiver(self, self._contract, receiver, plugin)
        if weak and _getrefcount(receiver) <= ONLY_HELD_BY_CALL and might_die_at_once(receiver):
            warn_dies_at_once(self.qualified_name, receiver)
        table = self._table
        if sender.__class__ is str and lazy.is_lazy_reference(sender):
            target = lazy.lookup(sender)
            if lazy.is_missing(target):
                key = table.connect_pending(receiver, sender, weak, dispatch_uid, scope)
                if key is not None:
                    if scope is not None:
                        scope.record(table, key)
                    elif not table.unscoped:
                        note_unscoped(table)
                return
            sender = target
        key = table.connect(receiver, sender, weak, dispatch_uid, scope)
        if key is not None:
            if scope is not None:
                scope.record(table, key)
            elif not table.unscoped:
                note_unscoped(table)

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
        sync, async_ = receivers_of_plan(self._plan_for(sender))
        return bool(sync or async_)

    def _plan_for(self, sender: object) -> Any:
        try:
            return self._plans[_id(sender)]
        except KeyError:
            return self._table.plan_for(sender)

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
        return receivers_of_plan(self._plan_for(sender))

    # -- sending ----------------------------------------------------------------------

    # The send methods call every sync receiver from their own frame, as Django's do, on
    # every path (plain functions, bound methods, async receivers too): a receiver's
    # warnings.warn(stacklevel=...) or a look at its caller's frame then lands where it lands
    # under Django. That is why the loops are written out here rather than in one helper.

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
        :raises SignalArgumentsError: the signal declares its arguments and ``named`` passes
            an undeclared one or leaves out a declared one; raised before any receiver runs.
        """
        # The contract, written out in each send method (signals without one pay one
        # attribute read): a helper call, or a keys view compared with a frozenset, costs
        # more than the check itself, and the row "send, 1 receiver, declared" of the
        # dispatch benchmark may cost at most 1.10x the undeclared send.
        accepted = self._accepted
        if accepted is not None:
            if accepted.__class__ is str:
                if len(named) != 1 or accepted not in named:
                    self._check_arguments(named)
            elif len(named) == len(accepted):
                for name in accepted:
                    if name not in named:
                        self._check_arguments(named)
            else:
                self._check_arguments(named)
        try:
            plan = self._plans[_id(sender)]
        except KeyError:
            plan = self._table.plan_for(sender)
        if not plan:
            return []
        # (A signal that declares its arguments refused signal= above: it is never declared.)
        if accepted is None and "signal" in named:
            raise duplicate_signal_argument()
        # A SenderPlan whose sender is dead was built for another object: served below, by
        # the path of plans with bound methods or async receivers.
        if plan.__class__ is tuple or (
            plan.__class__ is SenderPlan and plan.sender_ref() is not None
        ):
            if len(plan) == 1:
                # One receiver: its keywords are built in the call, as a hand-written call
                # builds them (a dict built first and copied into the call costs 8% of the
                # "send, 1 receiver" benchmark row).
                receiver = plan[0]()
                if receiver is None:
                    return []
                try:
                    return [(receiver, receiver(signal=self, sender=sender, **named))]
                except Exception as exc:
                    instead = receiver_failed(
                        self.qualified_name, self._table, receiver, exc, robust=False
                    )
                    if instead is not None:
                        raise instead from None
                    raise
            # One dict for every receiver: each call still gets its own **kwargs copy, and
            # building the keywords once is what makes send faster than a hand-written loop.
            arguments = {"signal": self, "sender": sender, **named}
            responses = []
            try:
                for getter in plan:
                    receiver = getter()
                    if receiver is not None:
                        responses.append((receiver, receiver(**arguments)))
            except Exception as exc:
                instead = receiver_failed(
                    self.qualified_name, self._table, receiver, exc, robust=False
                )
                if instead is not None:
                    raise instead from None
                raise
            return responses
        # Bound methods or async receivers.
        async_receivers = receivers_of_entries(plan.async_) if plan.async_ else None
        if async_receivers:
            refusal = async_paths().refusal_in_running_loop(self, async_receivers, robust=False)
            if refusal is not None:
                raise refusal
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
        except Exception as exc:
            instead = receiver_failed(self.qualified_name, self._table, receiver, exc, robust=False)
            if instead is not None:
                raise instead from None
            raise
        if async_receivers:
            responses += async_paths().send_to_async_receivers(
                self, self._table, async_receivers, sender, named, robust=False
            )
        return responses

    @calls_receivers
    def send_robust(self, sender: object, **named: Any) -> list[tuple[Any, Any]]:
        """Like :meth:`send`, but an ``Exception`` from a receiver becomes its response.

        Every receiver is called; each failure is logged at ERROR on ``hookwire.dispatch``
        with Django's message (``"Error calling %s in Signal.send_robust() (%s)"``, the
        receiver's ``__qualname__`` and the exception; the record also carries ``signal``,
        ``receiver``, ``receiver_module`` and ``plugin``) and returned with its
        ``__traceback__``. When hookwire is Django's dispatcher
        (:func:`hookwire.django.dispatcher.install`) the failure reaches the handlers of
        ``django.dispatch`` too. ``BaseException`` (``KeyboardInterrupt``, ``SystemExit``,
        ...) still propagates, and so does :class:`~hookwire.exceptions.RecursiveSendError`.
        Called from a running event loop, each async receiver gets a
        :class:`~hookwire.exceptions.SyncSendInEventLoopError` as its
        response while sync receivers are served. A send that breaks the signal's declared
        arguments raises :class:`~hookwire.exceptions.SignalArgumentsError` before any
        receiver runs, as :meth:`send` does.
        """
        accepted = self._accepted
        if accepted is not None:
            if accepted.__class__ is str:
                if len(named) != 1 or accepted not in named:
                    self._check_arguments(named)
            elif len(named) == len(accepted):
                for name in accepted:
                    if name not in named:
                        self._check_arguments(named)
            else:
                self._check_arguments(named)
        try:
            plan = self._plans[_id(sender)]
        except KeyError:
            plan = self._table.plan_for(sender)
        if accepted is None and "signal" in named:  # see send()
            return signal_given_twice(self, self._table, plan, sender)
        arguments = {"signal": self, "sender": sender, **named}
        responses = []
        if plan.__class__ is tuple or (
            plan.__class__ is SenderPlan and plan.sender_ref() is not None
        ):
            for getter in plan:
                receiver = getter()
                if receiver is None:
                    continue
                try:
                    responses.append((receiver, receiver(**arguments)))
                except Exception as err:
                    response = receiver_failed(
                        self.qualified_name, self._table, receiver, err, sender, robust=True
                    )
                    responses.append((receiver, response))
            return responses
        # Bound methods or async receivers.
        async_receivers = receivers_of_entries(plan.async_) if plan.async_ else None
        refusal = None
        if async_receivers:
            refusal = async_paths().refusal_in_running_loop(self, async_receivers, robust=True)
        for getter, func in plan.sync:
            receiver = getter()
            if receiver is None:
                continue
            if func is not None:
                receiver = MethodType(func, receiver)
            try:
                response = receiver(**arguments)
            except Exception as err:
                response = receiver_failed(
                    self.qualified_name, self._table, receiver, err, sender, robust=True
                )
            responses.append((receiver, response))
        if async_receivers:
            if refusal is not None:
                responses += async_paths().refused_responses(
                    self, self._table, async_receivers, refusal, sender
                )
            else:
                responses += async_paths().send_to_async_receivers(
                    self, self._table, async_receivers, sender, named, robust=True
                )
        return responses

    @forwards_sends
    async def asend(self, sender: object, **named: Any) -> list[tuple[Any, Any]]:
        """Send from async code: sync receivers run through ``sync_to_async``, then async ones
        run concurrently in one task group.

        **Failures:** an exception from a sync receiver stops the send. When async receivers
        fail, the task group cancels the others; a single failure is raised as itself,
        several as an :class:`ExceptionGroup` holding them all. No task outlives the call.
        Cancelling ``asend`` raises :class:`asyncio.CancelledError` at once.

        **Context variables:** changes receivers make are visible to the caller afterwards.

        **Declared arguments** are checked as :meth:`send` checks them, before any receiver
        runs.
        """
        accepted = self._accepted
        if accepted is not None:
            if accepted.__class__ is str:
                if len(named) != 1 or accepted not in named:
                    self._check_arguments(named)
            elif len(named) == len(accepted):
                for name in accepted:
                    if name not in named:
                        self._check_arguments(named)
            else:
                self._check_arguments(named)
        responses: list[tuple[Any, Any]] = await async_paths().asend(
            self, self._table, sender, named, robust=False
        )
        return responses

    @forwards_sends
    async def asend_robust(self, sender: object, **named: Any) -> list[tuple[Any, Any]]:
        """Like :meth:`asend`, but each ``Exception`` becomes its receiver's response (logged
        at ERROR on ``hookwire.dispatch`` as :meth:`send_robust` logs it); cancellation and
        ``BaseException`` propagate. Declared arguments are checked as :meth:`send` checks
        them."""
        accepted = self._accepted
        if accepted is not None:
            if accepted.__class__ is str:
                if len(named) != 1 or accepted not in named:
                    self._check_arguments(named)
            elif len(named) == len(accepted):
                for name in accepted:
                    if name not in named:
                        self._check_arguments(named)
            else:
                self._check_arguments(named)
        responses: list[tuple[Any, Any]] = await async_paths().asend(
            self, self._table, sender, named, robust=True
        )
        return responses

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
        with observers.observing(_Mute(), self):
            yield

    def describe_receivers(self, *, plugin: str | None = None) -> list[ReceiverInfo]:
        """Every receiver as a :class:`~hookwire.ReceiverInfo`, in the order send calls them.

        Sync receivers come before async ones, as ``send`` calls them; lazy-sender
        connections still pending come last with their ``"module:QualName"`` as sender.
        With ``plugin``, only the receivers attributed to that plugin (the ones whose
        ``plugin`` field it is), at the cost of describing those alone.
        """
        from .introspection import describe_registrations

        if plugin is None:
            return describe_registrations(self._table.registrations(), self._table.pending())
        registrations, pending = self._table.registrations_of(plugin)
        return describe_registrations(registrations, pending)

    # -- the interface of observed sends ----------------------------------------------
    # All that wrappers.py, observed.py and tracing.py use of a signal (with the public
    # attributes and _check_arguments): which methods it sends through, the plan of a sender
    # with the table that names its receivers on failure, and who connected a receiver.

    def _use_send_methods(self, methods: Mapping[str, Callable[..., Any]] | None) -> None:
        """Send through ``methods`` (name -> function taking the signal first) on this
        signal only, or (``None``) through its class's methods again."""
        for name in _SEND_METHODS:
            if methods is None:
                self.__dict__.pop(name, None)
            else:
                self.__dict__[name] = MethodType(methods[name], self)

    @classmethod
    def _use_class_send_methods(cls, methods: Mapping[str, Callable[..., Any]] | None) -> None:
        """Send through ``methods`` on every signal of this class, or (``None``) through the
        plain send methods again."""
        for name in _SEND_METHODS:
            setattr(cls, name, _PLAIN_SEND_METHODS[name] if methods is None else methods[name])

    def _plan_and_table(self, sender: object) -> tuple[Any, ReceiverTable]:
        """The plan ``send(sender)`` walks and the table failures are named from."""
        try:
            return self._plans[_id(sender)], self._table
        except KeyError:
            return self._table.plan_for(sender), self._table

    def _registrations_for(self, sender: object) -> list[Registration]:
        """The live registrations ``send(sender)`` calls, in call order."""
        return self._table.registrations_for(sender)

    def _plugin_of(self, receiver: object, sender: object = None) -> str | None:
        """The plugin that connected ``receiver`` for ``sender`` (or owns its module)."""
        return plugin_of(self._table, receiver, sender)

    # -- test isolation ---------------------------------------------------------------

    def _snapshot_state(self) -> object:
        """An opaque copy of every registration, for :meth:`_restore_state`."""
        return self._table.snapshot()

    def _restore_state(self, state: object) -> None:
        """Put back exactly the registrations of a :meth:`_snapshot_state`."""
        self._table.restore(state)


_SEND_METHODS = ("send", "send_robust", "asend", "asend_robust")
# The plain send methods, put back on the class when the last observer of every signal goes.
_PLAIN_SEND_METHODS = {name: Signal.__dict__[name] for name in _SEND_METHODS}


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
