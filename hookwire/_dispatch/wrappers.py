"""The one hook for wrapping sends: what ``muted()``, ``hookwire run --trace`` and the test
recorder attach to.

A :class:`SendWrapper` is attached to one signal or to every signal. While any wrapper is
attached, the signal's four send methods (``send``, ``send_robust``, ``asend``,
``asend_robust``) go through :func:`run_chain`: each wrapper receives the
:class:`Invocation` and a ``proceed`` callable that runs the next wrapper, and finally the
plain send. Wrappers never know about each other; they are ordered by their ``layer`` (lower
runs outside), then by when they were attached. The layers in use:

* :data:`MUTE` (outermost): a muted send calls nobody, so nothing inside sees it;
* :data:`RECORD`: the test recorder sees every send that happens, with its responses;
* :data:`TRACE` (innermost): the tracer may give the invocation a timed plan to walk.

When no wrapper is attached, the send methods are exactly the plain ones: wrapping costs
nothing unless used. Attaching to every signal replaces the methods on the ``Signal`` class,
attaching to one signal sets them on that instance; this module is the only one that does.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Awaitable, Callable
from itertools import count
from types import MethodType
from typing import Any

from .failures import forwards_sends

__all__ = [
    "MUTE",
    "RECORD",
    "SEND_METHODS",
    "TRACE",
    "Invocation",
    "SendWrapper",
    "attach",
    "detach",
]

SEND_METHODS = ("send", "send_robust", "asend", "asend_robust")

MUTE = 10
RECORD = 20
TRACE = 30

Responses = list[tuple[Any, Any]]


class Invocation:
    """One send going through the wrappers.

    :ivar signal: the signal being sent.
    :ivar method: ``"send"``, ``"send_robust"``, ``"asend"`` or ``"asend_robust"``.
    :ivar sender: the sender.
    :ivar named: the keyword arguments.
    :ivar plan: ``None`` to walk the signal's own plan; a wrapper may set another (the
        tracer's timed receivers) for the plain send to walk instead.
    """

    __slots__ = ("method", "named", "plan", "sender", "signal")

    def __init__(self, signal: Any, method: str, sender: object, named: dict[str, Any]) -> None:
        self.signal = signal
        self.method = method
        self.sender = sender
        self.named = named
        self.plan: Any = None

    @property
    def robust(self) -> bool:
        """Whether failures become responses (``send_robust``/``asend_robust``)."""
        return self.method.endswith("_robust")

    @property
    def is_async(self) -> bool:
        """Whether this is ``asend``/``asend_robust``."""
        return self.method.startswith("a")


class SendWrapper:
    """Base of the wrappers: override :meth:`wrap` and :meth:`awrap` (both proceed by
    default). ``layer`` orders wrappers (lower runs outside)."""

    layer = RECORD

    @forwards_sends
    def wrap(self, proceed: Callable[[], Responses], invocation: Invocation) -> Responses:
        """Run a sync send: return ``proceed()`` or what the send should return instead."""
        return proceed()

    @forwards_sends
    async def awrap(
        self, proceed: Callable[[], Awaitable[Responses]], invocation: Invocation
    ) -> Responses:
        """Run an async send: return ``await proceed()`` or what it should return instead."""
        return await proceed()


_lock = threading.Lock()
_order = count()
# (layer, order, wrapper) for every signal, and per signal; swapped whole under _lock and
# read without it by the wrapped send methods.
_everywhere: tuple[tuple[int, int, SendWrapper], ...] = ()
_per_signal: weakref.WeakKeyDictionary[Any, tuple[tuple[int, int, SendWrapper], ...]] = (
    weakref.WeakKeyDictionary()
)
# The plain send methods of the Signal class, saved when a wrapper is first attached.
_plain: dict[str, Any] = {}


def _chain(signal: Any) -> list[SendWrapper]:
    entries = _everywhere + _per_signal.get(signal, ())
    return [wrapper for _, _, wrapper in sorted(entries, key=lambda entry: entry[:2])]


def _innermost(invocation: Invocation) -> Any:
    signal = invocation.signal
    if invocation.plan is not None:
        return signal._send_plan(invocation)
    return _plain[invocation.method](signal, invocation.sender, **invocation.named)


class _Proceed:
    """Runs the wrapper at ``index`` of ``chain``, or the plain send past the end.

    An object rather than a closure calling itself: such a closure is a reference cycle, and
    every wrapped send would leave one (holding its signal) for the garbage collector.
    """

    __slots__ = ("chain", "index", "invocation")

    def __init__(self, chain: list[SendWrapper], index: int, invocation: Invocation) -> None:
        self.chain = chain
        self.index = index
        self.invocation = invocation

    @forwards_sends
    def __call__(self) -> Responses:
        if self.index == len(self.chain):
            result: Responses = _innermost(self.invocation)
            return result
        after = _Proceed(self.chain, self.index + 1, self.invocation)
        return self.chain[self.index].wrap(after, self.invocation)


class _AsyncProceed(_Proceed):
    __slots__ = ()

    @forwards_sends
    async def __call__(self) -> Responses:  # type: ignore[override]
        if self.index == len(self.chain):
            result: Responses = await _innermost(self.invocation)
            return result
        after = _AsyncProceed(self.chain, self.index + 1, self.invocation)
        return await self.chain[self.index].awrap(after, self.invocation)


@forwards_sends
def run_chain(invocation: Invocation) -> Responses:
    """Run a sync send through the wrappers attached for its signal."""
    return _Proceed(_chain(invocation.signal), 0, invocation)()


@forwards_sends
async def arun_chain(invocation: Invocation) -> Responses:
    """Run an async send through the wrappers attached for its signal."""
    return await _AsyncProceed(_chain(invocation.signal), 0, invocation)()


def _wrapped(method: str) -> Callable[..., Any]:
    if method.startswith("a"):

        @forwards_sends
        async def wrapped_asend(signal: Any, sender: object, **named: Any) -> Responses:
            # Declared arguments are checked before any wrapper runs: a muted or traced send
            # breaks the contract exactly as a plain one does.
            if signal._accepted is not None:
                signal._check_arguments(named)
            return await arun_chain(Invocation(signal, method, sender, named))

        wrapped: Callable[..., Any] = wrapped_asend
    else:

        @forwards_sends
        def wrapped_send(signal: Any, sender: object, **named: Any) -> Responses:
            if signal._accepted is not None:
                signal._check_arguments(named)
            return run_chain(Invocation(signal, method, sender, named))

        wrapped = wrapped_send
    plain = _plain[method]
    wrapped.__name__ = plain.__name__
    wrapped.__qualname__ = plain.__qualname__
    wrapped.__doc__ = plain.__doc__
    return wrapped


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
                for method in SEND_METHODS:
                    setattr(signal_class, method, _wrapped(method))
            _everywhere = (*_everywhere, entry)
            return
        entries = _per_signal.get(signal, ())
        if not entries:
            for method in SEND_METHODS:
                signal.__dict__[method] = MethodType(_wrapped(method), signal)
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
