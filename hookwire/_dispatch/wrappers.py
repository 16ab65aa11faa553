"""How observers reach the sends: the machinery behind :mod:`~hookwire._dispatch.observers`.

While any observer is attached to a signal (through the public
:func:`~hookwire._dispatch.observers.add_observer`, or ``muted()``), that signal's four send
methods are the observed ones of :mod:`~hookwire._dispatch.observed`, which call
:func:`start_send` before any receiver, hand the receivers' loop a :class:`ReceiverTiming`
when some observer watches receivers, and call :func:`end_send` as the send ends.

Observers never know about each other; they are ordered by their ``order`` (lower starts first
and ends last), then by when they were attached. ``muted()`` is the outermost (order
:data:`MUTE`): its observer answers :data:`STOP`, so a muted send calls nobody and no observer
after it sees it. The test recorder uses :data:`RECORD`, the tracer of ``run --trace``
:data:`TRACE`.

When no observer is attached, the send methods are exactly the plain ones: observing costs
nothing unless used. Which methods a signal sends through is the signal's business: this
module asks :meth:`Signal._use_send_methods` (one signal) or
:meth:`Signal._use_class_send_methods` (every signal) and touches nothing else of it.
"""

from __future__ import annotations

import threading
import weakref
from itertools import count
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .observers import ObservedSend, SendObserver

__all__ = [
    "MUTE",
    "RECORD",
    "STOP",
    "TRACE",
    "ReceiverTiming",
    "SingleReceiverTiming",
    "attach",
    "detach",
    "end_send",
    "start_send",
]

MUTE = 0
RECORD = 20
TRACE = 80

#: What ``muted()``'s observer returns from ``send_started`` to end the send at once with
#: ``[]``; not part of the public observer API, whose observers only watch.
STOP: Any = object()

Responses = list[tuple[Any, Any]]
Told = list[tuple["SendObserver", Any]]


class ReceiverTiming:
    """What a send hands its receiver loop when some observer watches receivers."""

    __slots__ = ("send", "watchers")

    def __init__(self, send: ObservedSend, watchers: Told) -> None:
        self.send = send
        self.watchers = watchers

    def starting(self, receiver: Any, concurrent: bool = False) -> tuple[Any, int]:
        """Tell the watchers that ``receiver`` is about to be called; what the loop hands
        :meth:`called` afterwards."""
        send = self.send
        tokens = [
            observer.receiver_started(send, token, receiver, concurrent)
            for observer, token in self.watchers
        ]
        return tokens, perf_counter_ns()

    def called(self, receiver: Any, started: tuple[Any, int], error: BaseException | None) -> None:
        """Tell the watchers, innermost first, that ``receiver`` (``started`` by
        :meth:`starting`) returned or raised ``error``."""
        tokens, started_ns = started
        duration = perf_counter_ns() - started_ns
        send = self.send
        for (observer, token), receiver_token in zip(
            reversed(self.watchers), reversed(tokens), strict=True
        ):
            observer.receiver_ended(send, token, receiver, receiver_token, duration, error)


class SingleReceiverTiming(ReceiverTiming):
    """The timing of a send that one observer watches, the common case (an OpenTelemetry
    instrumentor, or the tracer of ``run --trace``): no lists (a third of an unsampled send's
    cost per receiver, benchmarks/bench_otel.py)."""

    __slots__ = ("observer", "token")

    def __init__(self, send: ObservedSend, observer: SendObserver, token: Any) -> None:
        # Only what a send needs: building the watchers' list too, or binding the
        # observer's two methods here, costs a one-receiver send more than it saves.
        self.send = send
        self.observer = observer
        self.token = token

    def starting(self, receiver: Any, concurrent: bool = False) -> tuple[Any, int]:
        """See :meth:`ReceiverTiming.starting`."""
        token = self.observer.receiver_started(self.send, self.token, receiver, concurrent)
        return token, perf_counter_ns()

    def called(self, receiver: Any, started: tuple[Any, int], error: BaseException | None) -> None:
        """See :meth:`ReceiverTiming.called`."""
        duration = perf_counter_ns() - started[1]
        self.observer.receiver_ended(self.send, self.token, receiver, started[0], duration, error)


def start_send(send: ObservedSend) -> tuple[Told, ReceiverTiming | None, bool]:
    """Tell the observers of ``send.signal`` that it starts, outermost first, once its
    declared arguments hold (:class:`~hookwire.exceptions.SignalArgumentsError` if not).

    :returns: the observers told and their tokens, the timing to hand the receivers' loop
        (``None`` when no observer watches receivers), and whether ``muted()`` stopped it.
    """
    signal = send.signal
    # Declared arguments are checked before any observer is told: a muted or observed send
    # breaks the contract exactly as a plain one does.
    signal._check_arguments(send.named)
    # Each tuple is kept sorted by attach(); only a send with both kinds sorts them together.
    entries = _per_signal.get(_id(signal), ())
    if _everywhere:
        entries = tuple(sorted(_everywhere + entries, key=_rank)) if entries else _everywhere
    if len(entries) == 1:
        # One observer, the common case: no list built but the one returned.
        observer = entries[0][2]
        token = observer.send_started(send)
        if token is STOP:
            return [], None, True
        timing = (
            SingleReceiverTiming(send, observer, token) if observer.observes_receivers else None
        )
        return [(observer, token)], timing, False
    begun: Told = []
    for _, _, observer in entries:
        token = observer.send_started(send)
        if token is STOP:
            return begun, None, True
        begun.append((observer, token))
    watchers = [pair for pair in begun if pair[0].observes_receivers]
    if not watchers:
        return begun, None, False
    if len(watchers) == 1:
        return begun, SingleReceiverTiming(send, *watchers[0]), False
    return begun, ReceiverTiming(send, watchers), False


def end_send(
    send: ObservedSend, begun: Told, responses: Responses | None, error: BaseException | None
) -> BaseException | None:
    """Tell the observers of :func:`start_send` how the send ended, innermost first.

    :returns: the error the send raises now: ``error``, or the last one an observer raised
        (``None`` when the send returns ``responses``).
    """
    for observer, token in reversed(begun):
        try:
            observer.send_ended(send, token, responses, error)
        except BaseException as exc:
            error, responses = exc, None
    return error


_lock = threading.Lock()
_order = count()
# (order, sequence, observer) for every signal, and per signal; swapped whole under _lock
# and read without it by the observed send methods.
_everywhere: tuple[tuple[int, int, SendObserver], ...] = ()
# Keyed on id(signal), not a WeakKeyDictionary: its look-up makes a weak reference at every
# send, a fifth of an observed send's own cost. A signal's entry goes when the signal does
# (_forgets holds the weak references that drop it), before its id can be reused.
_per_signal: dict[int, tuple[tuple[int, int, SendObserver], ...]] = {}
_forgets: dict[int, weakref.ref[Any]] = {}
_id = id


def _forget(key: int) -> Any:
    def forget(_: object) -> None:
        # No lock: a collection may run this inside attach() or detach(), which hold it.
        _per_signal.pop(key, None)
        _forgets.pop(key, None)

    return forget


def _rank(entry: tuple[int, int, SendObserver]) -> tuple[int, int]:
    return entry[0], entry[1]


def _observed() -> dict[str, Any]:
    # Imported here: the observed sends import the dispatcher, which imports this module.
    from . import observed

    return {method: getattr(observed, method) for method in observed.__all__}


def attach(observer: SendObserver, signal_class: Any, signal: Any = None) -> None:
    """Attach ``observer`` to ``signal``, or to every signal of ``signal_class`` (``None``).

    ``signal_class`` is :class:`hookwire.Signal` (passed in so that this module imports
    nothing of the dispatcher).
    """
    global _everywhere
    entry = (observer.order, next(_order), observer)
    with _lock:
        if signal is None:
            if not _everywhere:
                signal_class._use_class_send_methods(_observed())
            _everywhere = tuple(sorted((*_everywhere, entry), key=_rank))
            return
        key = _id(signal)
        entries = _per_signal.get(key, ())
        if not entries:
            signal._use_send_methods(_observed())
            _forgets[key] = weakref.ref(signal, _forget(key))
        _per_signal[key] = tuple(sorted((*entries, entry), key=_rank))


def detach(observer: SendObserver, signal_class: Any, signal: Any = None) -> None:
    """Undo :func:`attach` of ``observer`` (nothing happens if it is not attached)."""
    global _everywhere
    with _lock:
        if signal is None:
            if not _everywhere:
                return
            _everywhere = tuple(entry for entry in _everywhere if entry[2] is not observer)
            if not _everywhere:
                signal_class._use_class_send_methods(None)
            return
        key = _id(signal)
        entries = tuple(entry for entry in _per_signal.get(key, ()) if entry[2] is not observer)
        if entries:
            _per_signal[key] = entries
            return
        _forgets.pop(key, None)
        if _per_signal.pop(key, None) is not None:
            signal._use_send_methods(None)
