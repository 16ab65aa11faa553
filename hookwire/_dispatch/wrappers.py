"""The one hook for observing sends: what ``muted()``, ``hookwire run --trace`` and the test
recorder attach to.

A :class:`SendWrapper` is attached to one signal or to every signal. While any wrapper is
attached, the signal's four send methods (``send``, ``send_robust``, ``asend``,
``asend_robust``) are the observed ones of :mod:`~hookwire._dispatch.observed`, which tell
each wrapper when the send starts (:meth:`SendWrapper.send_started`, which may stop it there),
after each receiver returned or raised (:meth:`SendWrapper.receiver_called`, for wrappers that
time receivers) and when the send ended (:meth:`SendWrapper.send_ended`).

Wrappers are told, never asked to call: the observed send calls every sync receiver from its
own frame, exactly as the plain send does (and as Django does), so a receiver's
``warnings.warn(stacklevel=...)`` or a look at its caller's frame lands in the same place
whether a wrapper is attached or not. A wrapper that ran the send itself (``proceed()``) would
put its frames in between.

Wrappers never know about each other; they are ordered by their ``layer`` (lower starts first
and ends last), then by when they were attached. The layers in use:

* :data:`MUTE` (outermost): a muted send calls nobody, so no wrapper after it sees it;
* :data:`RECORD`: the test recorder sees every send that happens, with its responses;
* :data:`TRACE` (innermost): the tracer times each receiver.

When no wrapper is attached, the send methods are exactly the plain ones: wrapping costs
nothing unless used. Attaching to every signal replaces the methods on the ``Signal`` class,
attaching to one signal sets them on that instance; this module is the only one that does.
"""

from __future__ import annotations

import threading
import weakref
from itertools import count
from time import perf_counter_ns
from types import MethodType
from typing import Any

__all__ = [
    "MUTE",
    "RECORD",
    "SEND_METHODS",
    "STOP",
    "TRACE",
    "Invocation",
    "ReceiverTiming",
    "SendWrapper",
    "attach",
    "detach",
    "end_send",
    "start_send",
]

SEND_METHODS = ("send", "send_robust", "asend", "asend_robust")

MUTE = 10
RECORD = 20
TRACE = 30

#: What :meth:`SendWrapper.send_started` returns to end the send at once with ``[]``.
STOP: Any = object()

Responses = list[tuple[Any, Any]]


class Invocation:
    """One send being observed.

    :ivar signal: the signal being sent.
    :ivar method: ``"send"``, ``"send_robust"``, ``"asend"`` or ``"asend_robust"``.
    :ivar sender: the sender.
    :ivar named: the keyword arguments.
    """

    __slots__ = ("method", "named", "sender", "signal")

    def __init__(self, signal: Any, method: str, sender: object, named: dict[str, Any]) -> None:
        self.signal = signal
        self.method = method
        self.sender = sender
        self.named = named

    @property
    def robust(self) -> bool:
        """Whether failures become responses (``send_robust``/``asend_robust``)."""
        return self.method.endswith("_robust")

    @property
    def is_async(self) -> bool:
        """Whether this is ``asend``/``asend_robust``."""
        return self.method.startswith("a")


class SendWrapper:
    """Base of the wrappers; each method does nothing by default. ``layer`` orders wrappers
    (lower starts first); ``times_receivers`` asks for :meth:`receiver_called`."""

    layer = RECORD
    times_receivers = False

    def send_started(self, invocation: Invocation) -> Any:
        """Called as the send begins, before any receiver (for ``asend``: when its coroutine
        starts running). Returns a token handed back to the other two methods, or
        :data:`STOP` to end the send there with ``[]``: wrappers after this one are then
        never told of it."""
        return None

    def receiver_called(
        self,
        invocation: Invocation,
        token: Any,
        receiver: Any,
        duration_ns: int,
        error: BaseException | None,
    ) -> None:
        """Called once a receiver returned (``error`` is ``None``) or raised, on the thread
        that called it, with how long the call took (for async receivers: until their
        coroutine ended). Only for wrappers whose ``times_receivers`` is true."""

    def send_ended(
        self,
        invocation: Invocation,
        token: Any,
        responses: Responses | None,
        error: BaseException | None,
    ) -> None:
        """Called as the send ends, innermost wrapper first, with what it returns
        (``responses``) or what it raises (``error``, ``responses`` then ``None``). An
        exception raised here propagates to the sender and is what the wrappers told after
        this one see as the send's error."""


class ReceiverTiming:
    """What a send hands its receiver loop when some wrapper times receivers."""

    __slots__ = ("invocation", "timers")

    def __init__(self, invocation: Invocation, timers: list[tuple[SendWrapper, Any]]) -> None:
        self.invocation = invocation
        self.timers = timers

    def called(self, receiver: Any, started_ns: int, error: BaseException | None) -> None:
        """Tell the timing wrappers that ``receiver``, called at ``started_ns``, ended."""
        duration = perf_counter_ns() - started_ns
        for wrapper, token in self.timers:
            wrapper.receiver_called(self.invocation, token, receiver, duration, error)


def start_send(
    invocation: Invocation,
) -> tuple[list[tuple[SendWrapper, Any]], ReceiverTiming | None, bool]:
    """Tell the wrappers of ``invocation.signal`` that it starts, outermost first, once
    its declared arguments hold (:class:`~hookwire.exceptions.SignalArgumentsError` if not).

    :returns: the wrappers told and their tokens, the timing to hand the receivers' loop
        (``None`` when no wrapper times receivers), and whether a wrapper stopped the send.
    """
    signal = invocation.signal
    # Declared arguments are checked before any wrapper is told: a muted or traced send
    # breaks the contract exactly as a plain one does.
    signal._check_arguments(invocation.named)
    entries = _everywhere + _per_signal.get(signal, ())
    begun: list[tuple[SendWrapper, Any]] = []
    for _, _, wrapper in sorted(entries, key=lambda entry: entry[:2]):
        token = wrapper.send_started(invocation)
        if token is STOP:
            return begun, None, True
        begun.append((wrapper, token))
    timers = [pair for pair in begun if pair[0].times_receivers]
    return begun, ReceiverTiming(invocation, timers) if timers else None, False


def end_send(
    invocation: Invocation,
    begun: list[tuple[SendWrapper, Any]],
    responses: Responses | None,
    error: BaseException | None,
) -> BaseException | None:
    """Tell the wrappers of :func:`start_send` how the send ended, innermost first.

    :returns: the error the send raises now: ``error``, or the last one a wrapper raised
        (``None`` when the send returns ``responses``).
    """
    for wrapper, token in reversed(begun):
        try:
            wrapper.send_ended(invocation, token, responses, error)
        except BaseException as exc:
            error, responses = exc, None
    return error


_lock = threading.Lock()
_order = count()
# (layer, order, wrapper) for every signal, and per signal; swapped whole under _lock and
# read without it by the observed send methods.
_everywhere: tuple[tuple[int, int, SendWrapper], ...] = ()
_per_signal: weakref.WeakKeyDictionary[Any, tuple[tuple[int, int, SendWrapper], ...]] = (
    weakref.WeakKeyDictionary()
)
# The plain send methods of the Signal class, saved when a wrapper is first attached.
_plain: dict[str, Any] = {}


def _observed() -> dict[str, Any]:
    # Imported here: the observed sends import the dispatcher, which imports this module.
    from . import observed

    return {method: getattr(observed, method) for method in SEND_METHODS}


def _save_plain(signal_class: type) -> None:
    # Caller holds _lock. Nothing is attached yet whenever _plain is empty, so the class
    # holds the plain methods.
    if not _plain:
        for method in SEND_METHODS:
            _plain[method] = signal_class.__dict__[method]


def attach(wrapper: SendWrapper, signal_class: type, signal: Any = None) -> None:
    """Attach ``wrapper`` to ``signal``, or to every signal of ``signal_class`` (``None``).

    ``signal_class`` is :class:`hookwire.Signal` (passed in so that this module imports
    nothing of the dispatcher).
    """
    global _everywhere
    entry = (wrapper.layer, next(_order), wrapper)
    with _lock:
        _save_plain(signal_class)
        if signal is None:
            if not _everywhere:
                for method, function in _observed().items():
                    setattr(signal_class, method, function)
            _everywhere = (*_everywhere, entry)
            return
        entries = _per_signal.get(signal, ())
        if not entries:
            for method, function in _observed().items():
                signal.__dict__[method] = MethodType(function, signal)
        _per_signal[signal] = (*entries, entry)


def detach(wrapper: SendWrapper, signal_class: type, signal: Any = None) -> None:
    """Undo :func:`attach` of ``wrapper`` (nothing happens if it is not attached)."""
    global _everywhere
    with _lock:
        if signal is None:
            _everywhere = tuple(entry for entry in _everywhere if entry[2] is not wrapper)
            if not _everywhere and _plain:
                for method in SEND_METHODS:
                    setattr(signal_class, method, _plain[method])
            return
        entries = tuple(entry for entry in _per_signal.get(signal, ()) if entry[2] is not wrapper)
        if entries:
            _per_signal[signal] = entries
            return
        _per_signal.pop(signal, None)
        for method in SEND_METHODS:
            signal.__dict__.pop(method, None)
