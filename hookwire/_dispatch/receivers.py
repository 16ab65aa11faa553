"""Receivers: validation, lookup keys, how they are held, and safe descriptions.

A registration is one row of a signal's table: the receiver (held weakly or strongly),
the sender it filters on, and what introspection needs. :func:`lookup_key` is the one place
the key a registration is filed under is computed. Everything here is cheap at connect
time: plain functions and methods are checked through their code flags, and :mod:`inspect` is
imported only for unusual callables (partials, callable objects, builtins).
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Hashable
from functools import partial
from itertools import repeat
from operator import itemgetter
from types import FunctionType, MethodType
from typing import Any

from ..exceptions import ReceiverSignatureError, ReceiverTypeError, WeakReceiverWarning

__all__ = [
    "LAZY_TAG",
    "NONE_KEY",
    "ONLY_HELD_BY_CALL",
    "UID_TAG",
    "PendingConnection",
    "ReceiverRow",
    "Registration",
    "describe_callable",
    "dispatch_uid_of",
    "func_of",
    "getter_of",
    "is_alive",
    "is_async_callable",
    "is_async_of",
    "is_bound_method",
    "is_weak",
    "key_of",
    "live_receiver",
    "lookup_key",
    "might_die_at_once",
    "names_of",
    "new_registration",
    "not_weakrefable",
    "pending_key",
    "receiver_key",
    "receiver_part",
    "receiver_row",
    "registered_sender",
    "registration_plugin",
    "scope_of",
    "scope_plugin",
    "sender_key_of",
    "sender_ref_of",
    "source_location",
    "validate_receiver",
    "warn_dies_at_once",
]

_CO_VARKEYWORDS = 0x08
_CO_COROUTINE = 0x80

#: The sender key of registrations that listen to every sender (``sender=None``).
NONE_KEY = id(None)


def receiver_key(receiver: object) -> Hashable:
    """The identity of a receiver: ``id(function)``, or ``(id(instance), id(function))``.

    Bound methods are created anew at every attribute access, so their identity is the pair of
    the instance and the function, as in Django.
    """
    kind = type(receiver)
    if kind is FunctionType:
        return id(receiver)
    if kind is MethodType:
        return (id(receiver.__self__), id(receiver.__func__))  # type: ignore[attr-defined]
    if hasattr(receiver, "__func__") and hasattr(receiver, "__self__"):
        return (id(receiver.__self__), id(receiver.__func__))
    return id(receiver)


#: Tags that keep kinds of lookup keys apart: a ``dispatch_uid`` key never equals a
#: receiver's ``id()``, and a pending lazy-sender key never equals a connected one.
UID_TAG = "dispatch_uid"
LAZY_TAG = "lazy"


def receiver_part(receiver: object, dispatch_uid: Hashable | None) -> Hashable:
    """The receiver half of a lookup key: the tagged ``dispatch_uid``, else the identity."""
    if dispatch_uid is not None:
        return (UID_TAG, dispatch_uid)
    if receiver.__class__ is FunctionType:
        return id(receiver)  # the common case, without receiver_key's checks
    return receiver_key(receiver)


def lookup_key(receiver: object, sender: object, dispatch_uid: Hashable | None) -> Hashable:
    """The key a registration is filed under: one per (receiver or uid, sender) pair.

    Connecting again under the same key does nothing; disconnecting removes that key. This is
    the only place the key is computed.
    """
    if dispatch_uid is None and receiver.__class__ is FunctionType:
        # receiver_part()'s common case without its call: every connect and disconnect pays
        # for one (the "connect+disconnect 1000" benchmark row).
        return (id(receiver), id(sender))
    return (receiver_part(receiver, dispatch_uid), id(sender))


def pending_key(receiver: object, reference: str, dispatch_uid: Hashable | None) -> Hashable:
    """The key of a connect to a lazy sender ``reference`` that is not resolved yet."""
    return (receiver_part(receiver, dispatch_uid), LAZY_TAG, reference)


def _code_of(receiver: object) -> Any:
    """The code object behind a function or bound method, or ``None``."""
    func = receiver.__func__ if type(receiver) is MethodType else receiver
    if type(func) is FunctionType and "__wrapped__" not in func.__dict__:
        return func.__code__
    return None


def _accepts_kwargs(receiver: Callable[..., Any]) -> bool:
    code = _code_of(receiver)
    if code is not None:
        return bool(code.co_flags & _CO_VARKEYWORDS)
    import inspect  # only for partials, callable objects and builtins

    try:
        signature = inspect.signature(receiver)
    except (TypeError, ValueError):
        # Builtins without a signature: nothing to check, as Django would crash here.
        return True
    return any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())


def is_async_callable(receiver: object) -> bool:
    """Whether calling ``receiver`` returns a coroutine (``async def``, also behind partials)."""
    func: Any = receiver
    while isinstance(func, partial):
        func = func.func
    if type(func) is MethodType:
        func = func.__func__
    if type(func) is FunctionType:
        if func.__code__.co_flags & _CO_COROUTINE:
            return True
        # markcoroutinefunction() of inspect (3.12+) and asgiref.
        if getattr(func, "_is_coroutine_marker", None) is not None:
            return True
        marker = getattr(func, "_is_coroutine", None)
        if marker is not None:
            asyncio = sys.modules.get("asyncio")
            return asyncio is not None and marker is getattr(asyncio.coroutines, "_is_coroutine", 0)
        return False
    if not callable(func):
        return False
    import inspect

    dunder_call = type(func).__call__
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(dunder_call)


def source_location(receiver: object) -> tuple[str | None, int | None]:
    """``(file, first line)`` where ``receiver`` is defined, or ``(None, None)``. Never raises."""
    try:
        func: Any = receiver
        for _ in range(20):
            if isinstance(func, partial):
                func = func.func
            elif hasattr(func, "__func__"):
                func = func.__func__
            elif "__wrapped__" in getattr(func, "__dict__", {}):
                func = func.__wrapped__
            else:
                break
        code = getattr(func, "__code__", None)
        if code is None and not isinstance(func, type):
            code = getattr(type(func).__call__, "__code__", None)
        if code is None:
            return None, None
        return str(code.co_filename), int(code.co_firstlineno)
    except Exception:
        return None, None


def _names_of(receiver: object) -> tuple[str | None, str]:
    """``(module, qualname)`` of a receiver; instances are named after their class."""
    target: Any = receiver
    if target.__class__ is FunctionType:  # the common case, checked first
        defined_in = target.__module__
        return (defined_in if isinstance(defined_in, str) else None), target.__qualname__
    if isinstance(target, partial):
        inner_module, inner_name = _names_of(target.func)
        return inner_module, f"partial({inner_name})"
    if hasattr(target, "__func__") and hasattr(target, "__self__"):
        target = target.__func__
    qualname = getattr(target, "__qualname__", None)
    if not isinstance(qualname, str):
        target = type(target)
        qualname = target.__qualname__
    module = getattr(target, "__module__", None)
    return (module if isinstance(module, str) else None), qualname


def describe_callable(receiver: object) -> str:
    """A readable ``module.qualname`` for any callable. Never raises, whatever the object."""
    try:
        module, qualname = _names_of(receiver)
        return f"{module}.{qualname}" if module else qualname
    except Exception:
        try:
            kind = type(receiver)
            return f"{kind.__module__}.{kind.__qualname__}"
        except Exception:
            return "<unprintable receiver>"


def names_of(receiver: object) -> tuple[str | None, str]:
    """``(module, qualname)`` of any callable. Never raises."""
    try:
        return _names_of(receiver)
    except Exception:
        return None, "<unprintable receiver>"


def _where(receiver: object) -> str:
    file, line = source_location(receiver)
    if file is None:
        return ""
    return f" (defined at {file}:{line})"


def validate_receiver(receiver: object) -> None:
    """Check that ``receiver`` can be connected.

    :raises ReceiverTypeError: it is not callable.
    :raises ReceiverSignatureError: it does not accept ``**kwargs``.
    """
    if not callable(receiver):
        raise ReceiverTypeError(
            f"Signal receivers must be callable. Got {describe_callable(receiver)}"
            f"{_where(receiver)}, which is not.",
            receiver=receiver,
        )
    if not _accepts_kwargs(receiver):
        raise ReceiverSignatureError(
            "Signal receivers must accept keyword arguments (**kwargs). "
            f"{describe_callable(receiver)}{_where(receiver)} does not; "
            "add **kwargs to its parameters.",
            receiver=receiver,
        )


class _RefcountProbe:
    """Has the call shape of ``signal.connect(lambda **kwargs: ...)``, to measure it."""

    def connect(
        self, receiver: Any, sender: object = None, weak: bool = True, dispatch_uid: Any = None
    ) -> int:
        return sys.getrefcount(receiver)


#: The reference count a receiver has inside ``Signal.connect`` when only the call holds it.
ONLY_HELD_BY_CALL = _RefcountProbe().connect(lambda **kwargs: None)


def warn_dies_at_once(signal_name: str, receiver: object) -> None:
    """Warn that a weakly connected ``receiver`` will be collected as soon as connect returns.

    :warns WeakReceiverWarning: always.
    """
    import warnings

    warnings.warn(
        f"Signal receiver {describe_callable(receiver)} is referenced only by this "
        f"connect() call and will be garbage collected at once, so {signal_name}"
        " will never call it; keep a reference to it or connect it with weak=False.",
        WeakReceiverWarning,
        stacklevel=3,
    )


def is_bound_method(receiver: object) -> bool:
    """Whether ``receiver`` is a bound method (or quacks like one: ``__self__``/``__func__``)."""
    return type(receiver) is MethodType or (
        hasattr(receiver, "__self__") and hasattr(receiver, "__func__")
    )


def might_die_at_once(receiver: object) -> bool:
    """Whether ``receiver`` is the kind of object usually created inline in a call."""
    if isinstance(receiver, partial):
        return True
    if type(receiver) is FunctionType:
        return (
            receiver.__name__ == "<lambda>"
            or receiver.__closure__ is not None
            or ("<locals>" in receiver.__qualname__)
        )
    return False


# -- registrations ----------------------------------------------------------------------
#
# A registration is one row of a signal's table: a receiver, how it is held, and the sender it
# filters on. new_registration() is the only place one is built, and nothing changes it
# afterwards, so plans and introspection may keep one without a lock. Every other module reads
# it through the accessors below, never by position: the layout is private to this module.
#
# It is a plain tuple, not a class: building it is part of every connect, and a tuple is what
# the interpreter builds cheapest (a tuple subclass or a class with __slots__ made
# new_registration() several times slower, the "connect+disconnect 1000" benchmark row 10%
# slower). The accessors are operator.itemgetter objects: C calls, as cheap as indexing.
_KEY = 0  # the lookup key (see lookup_key())
_SENDER_KEY = 1  # id(sender); NONE_KEY for any sender
_GETTER = 2  # returns the receiver (weakly held bound methods: the instance), None once dead
_FUNC = 3  # for weakly held bound methods, the function to bind the instance to; else None
_IS_ASYNC = 4  # whether calling the receiver returns a coroutine
_WEAK = 5  # whether the receiver is held weakly
_UID = 6  # the dispatch_uid, or None
_SCOPE = 7  # the plugin scope it was connected in (see attribution.plugin_scope), or None
_SENDER_REF = 8  # a weak reference to the sender, or None
_SENDER_STRONG = 9  # the sender when it cannot be weakly referenced, or None

#: One registration: build it with :func:`new_registration`, read it with the accessors.
Registration = tuple[Any, ...]

#: The lookup key it is filed under.
key_of: Callable[[Registration], Hashable] = itemgetter(_KEY)
#: ``id()`` of the sender it filters on; :data:`NONE_KEY` for any sender.
sender_key_of: Callable[[Registration], int] = itemgetter(_SENDER_KEY)
#: Returns the receiver (for a weakly held bound method, its instance), ``None`` once dead.
getter_of: Callable[[Registration], Callable[[], Any]] = itemgetter(_GETTER)
#: The function to bind the getter's instance to (weakly held bound methods), else ``None``.
func_of: Callable[[Registration], Any] = itemgetter(_FUNC)
#: Whether calling the receiver returns a coroutine.
is_async_of: Callable[[Registration], bool] = itemgetter(_IS_ASYNC)
#: Whether the receiver is held weakly.
is_weak: Callable[[Registration], bool] = itemgetter(_WEAK)
#: The ``dispatch_uid`` it was connected with, or ``None``.
dispatch_uid_of: Callable[[Registration], Hashable | None] = itemgetter(_UID)
#: The plugin scope it was connected in, or ``None`` outside any.
scope_of: Callable[[Registration], Any] = itemgetter(_SCOPE)
#: A weak reference to the sender it filters on, or ``None``.
sender_ref_of: Callable[[Registration], Any] = itemgetter(_SENDER_REF)


def new_registration(
    key: Hashable,
    receiver: Callable[..., Any],
    sender: object,
    weak: bool,
    dispatch_uid: Hashable | None,
    scope: Any,
    on_dead: Callable[[Any], None],
) -> Registration:
    """The registration of ``receiver`` for ``sender`` (an object, not a lazy reference),
    filed under ``key``; ``on_dead`` is called when a weakly held receiver or sender dies.

    Weakly held bound methods are held through a weak reference to their instance plus the
    function (cheaper at every send than :class:`weakref.WeakMethod`, which builds a new bound
    method through Python code). The sender is held weakly when possible, so that receivers
    tied to a dead sender are dropped and never fire for a new object that happens to reuse
    its ``id()``; senders that cannot be weakly referenced (``42``, ``"x"``, tuples) are held
    strongly, so their ``id()`` stays theirs for as long as the registration exists.

    :raises ReceiverTypeError: ``weak`` and ``receiver`` cannot be weakly referenced.
    """
    func = None
    getter: Any
    # Strongly held: a C-level callable returning the object, as fast to call as a weakref.
    if receiver.__class__ is FunctionType and not receiver.__dict__:
        # A plain function, the common case: decided by this one test.
        is_async = bool(receiver.__code__.co_flags & _CO_COROUTINE)
        getter = weakref.ref(receiver, on_dead) if weak else repeat(receiver).__next__
    else:
        is_async = is_async_callable(receiver)
        if not weak:
            getter = repeat(receiver).__next__
        elif receiver.__class__ is FunctionType:
            getter = weakref.ref(receiver, on_dead)
        else:
            try:
                if is_bound_method(receiver):
                    getter = weakref.ref(receiver.__self__, on_dead)  # type: ignore[attr-defined]
                    func = receiver.__func__  # type: ignore[attr-defined]
                else:
                    getter = weakref.ref(receiver, on_dead)
            except TypeError:
                raise not_weakrefable(receiver) from None
    sender_ref = None
    sender_strong = None
    if sender is not None:
        try:
            sender_ref = weakref.ref(sender, on_dead)
        except TypeError:
            sender_strong = sender
    return (
        key,
        id(sender),
        getter,
        func,
        is_async,
        weak,
        dispatch_uid,
        scope,
        sender_ref,
        sender_strong,
    )


def registration_plugin(reg: Registration) -> str | None:
    """The name of the plugin that connected the receiver of ``reg``, or ``None``."""
    scope = reg[_SCOPE]
    return None if scope is None else scope_plugin(scope)


def live_receiver(reg: Registration) -> Any:
    """The receiver of ``reg``, or ``None`` once it was garbage collected."""
    target = reg[_GETTER]()
    if target is None or reg[_FUNC] is None:
        return target
    return MethodType(reg[_FUNC], target)


def registered_sender(reg: Registration) -> Any:
    """The sender ``reg`` filters on (``None`` for any sender, or once it died)."""
    sender_ref = reg[_SENDER_REF]
    if sender_ref is not None:
        return sender_ref()
    return reg[_SENDER_STRONG]


def is_alive(reg: Registration) -> bool:
    """Whether the receiver and (if any) the sender of ``reg`` are both still alive."""
    if reg[_GETTER]() is None:
        return False
    sender_ref = reg[_SENDER_REF]
    return sender_ref is None or sender_ref() is not None


def receiver_row(reg: Registration) -> ReceiverRow:
    """The Django-shaped row of a registration (see :class:`ReceiverRow`)."""
    if not reg[_WEAK]:
        receiver: Any = reg[_GETTER]()
    elif reg[_FUNC] is None:
        receiver = reg[_GETTER]  # already a weak reference to the receiver
    else:
        receiver = weakref.WeakMethod(live_receiver(reg))
    row = ReceiverRow((reg[_KEY], receiver, reg[_SENDER_REF], reg[_IS_ASYNC]))
    row.registration = reg
    return row


class PendingConnection:
    """A connect to a lazy ``"module:QualName"`` sender whose module is not imported yet."""

    __slots__ = ("dispatch_uid", "held", "reference", "scope", "weak")

    def __init__(
        self, held: Any, reference: str, weak: bool, dispatch_uid: Hashable | None, scope: Any
    ) -> None:
        self.held = held
        self.reference = reference
        self.weak = weak
        self.dispatch_uid = dispatch_uid
        self.scope = scope  # the plugin scope it was connected in, or None

    def receiver(self) -> Any:
        """The receiver, or ``None`` once it was garbage collected."""
        return self.held() if self.weak else self.held


def scope_plugin(scope: object) -> str | None:
    """The plugin name of the scope a registration was connected in (its ``plugin``)."""
    name = getattr(scope, "plugin", scope)
    return name if isinstance(name, str) else None


class ReceiverRow(tuple[Any, ...]):
    """One row of ``Signal.receivers``, shaped as in Django 6.1:
    ``(lookup_key, receiver, sender_ref, is_async)``.

    ``receiver`` is a weak reference to call for the receiver when it is held weakly
    (:class:`weakref.WeakMethod` for bound methods), else the receiver itself; ``sender_ref``
    is a weak reference to the sender, or ``None`` for any sender or one that cannot be weakly
    referenced. The row also carries the full registration, so that assigning a list of rows
    back to ``Signal.receivers`` restores exactly those registrations.
    """

    registration: Registration


def not_weakrefable(receiver: object) -> ReceiverTypeError:
    """The error for a receiver connected weakly that cannot be weakly referenced."""
    return ReceiverTypeError(
        f"Signal receiver {describe_callable(receiver)}{_where(receiver)} cannot be weakly "
        "referenced; connect it with weak=False.",
        receiver=receiver,
    )
