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
from types import FunctionType, MethodType
from typing import Any

from ..exceptions import ReceiverSignatureError, ReceiverTypeError, WeakReceiverWarning

__all__ = [
    "FUNC",
    "GETTER",
    "IS_ASYNC",
    "KEY",
    "LAZY_TAG",
    "NONE_KEY",
    "ONLY_HELD_BY_CALL",
    "OWNER",
    "SENDER_KEY",
    "SENDER_REF",
    "SENDER_STRONG",
    "UID",
    "UID_TAG",
    "WEAK",
    "PendingConnection",
    "ReceiverRow",
    "Registration",
    "describe_callable",
    "is_alive",
    "is_async_callable",
    "is_bound_method",
    "live_receiver",
    "lookup_key",
    "might_die_at_once",
    "names_of",
    "not_weakrefable",
    "owner_name",
    "pending_key",
    "receiver_key",
    "receiver_row",
    "registered_sender",
    "registration_plugin",
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
    # receiver_part() written out: connect and disconnect pay for every call here (the
    # "connect+disconnect 1000" benchmark row).
    if dispatch_uid is not None:
        return ((UID_TAG, dispatch_uid), id(sender))
    if receiver.__class__ is FunctionType:
        return (id(receiver), id(sender))
    return (receiver_key(receiver), id(sender))


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


# A registration is one row of a signal's table: a receiver, how it is held, and the sender it
# filters on. Built by ReceiverTable.connect when a receiver is connected and never changed
# afterwards, so plans and introspection may keep one without a lock.
#
# A plain tuple read through the field indices below, not a named record: a named tuple or a
# class with __slots__ cannot use the interpreter's free list of tuples, and made the
# "connect+disconnect 1000" benchmark row 10% slower (1.66 ms against 1.49 ms for plain
# tuples on the 2-core machine; blinker 1.61 ms), below the target "blinker/hookwire >= 1".
KEY = 0  # the lookup key (see lookup_key())
SENDER_KEY = 1  # id(sender); NONE_KEY for any sender
GETTER = 2  # returns the receiver (weakly held bound methods: the instance), None once dead
FUNC = 3  # for weakly held bound methods, the function to bind the instance to; else None
IS_ASYNC = 4  # whether calling the receiver returns a coroutine
WEAK = 5  # whether the receiver is held weakly
UID = 6  # the dispatch_uid, or None
OWNER = 7  # who connected it: the plugin scope it was connected in, or None
SENDER_REF = 8  # a weak reference to the sender, or None
SENDER_STRONG = 9  # the sender when it cannot be weakly referenced, or None

#: One registration (see the field indices above).
Registration = tuple[Any, ...]


def registration_plugin(reg: Registration) -> str | None:
    """The name of the plugin that connected the receiver of ``reg``, or ``None``."""
    owner = reg[OWNER]
    return None if owner is None else owner_name(owner)


def live_receiver(reg: Registration) -> Any:
    """The receiver of ``reg``, or ``None`` once it was garbage collected."""
    target = reg[GETTER]()
    if target is None or reg[FUNC] is None:
        return target
    return MethodType(reg[FUNC], target)


def registered_sender(reg: Registration) -> Any:
    """The sender ``reg`` filters on (``None`` for any sender, or once it died)."""
    sender_ref = reg[SENDER_REF]
    if sender_ref is not None:
        return sender_ref()
    return reg[SENDER_STRONG]


def is_alive(reg: Registration) -> bool:
    """Whether the receiver and (if any) the sender of ``reg`` are both still alive."""
    if reg[GETTER]() is None:
        return False
    sender_ref = reg[SENDER_REF]
    return sender_ref is None or sender_ref() is not None


def receiver_row(reg: Registration) -> ReceiverRow:
    """The Django-shaped row of a registration (see :class:`ReceiverRow`)."""
    if not reg[WEAK]:
        receiver: Any = reg[GETTER]()
    elif reg[FUNC] is None:
        receiver = reg[GETTER]  # already a weak reference to the receiver
    else:
        receiver = weakref.WeakMethod(live_receiver(reg))
    row = ReceiverRow((reg[KEY], receiver, reg[SENDER_REF], reg[IS_ASYNC]))
    row.registration = reg
    return row


class PendingConnection:
    """A connect to a lazy ``"module:QualName"`` sender whose module is not imported yet."""

    __slots__ = ("dispatch_uid", "held", "owner", "reference", "weak")

    def __init__(
        self, held: Any, reference: str, weak: bool, dispatch_uid: Hashable | None, owner: Any
    ) -> None:
        self.held = held
        self.reference = reference
        self.weak = weak
        self.dispatch_uid = dispatch_uid
        self.owner = owner

    def receiver(self) -> Any:
        """The receiver, or ``None`` once it was garbage collected."""
        return self.held() if self.weak else self.held


def owner_name(owner: object) -> str | None:
    """The plugin name of an owner recorded on a registration (its ``plugin`` attribute)."""
    name = getattr(owner, "plugin", owner)
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
