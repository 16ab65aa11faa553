"""Recording every signal sent, with its sender and arguments, and asserting on it.

Recording attaches one send wrapper to every signal (the dispatcher's hook for wrapping sends,
shared with ``Signal.muted()`` and ``hookwire run --trace``) while at least one
:class:`SignalRecorder` is active, so it sees every signal — including ones created after
recording started and ones nobody listens to — and the exact arguments each send was given.
A muted signal sends nothing, so nothing is recorded for it. When no recorder is active the
wrapper is detached and the send methods are the plain ones, so recording costs nothing
outside the tests that ask for it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from .._dispatch.wrappers import RECORD, Invocation, SendWrapper, attach, detach
from ._formatting import safe_repr, signal_label

if TYPE_CHECKING:
    from .._dispatch.signal import Signal

__all__ = ["ANY_SENDER", "SentSignal", "SignalRecorder", "record_signals"]

SEND_METHODS: Final = ("send", "send_robust", "asend", "asend_robust")

# How many sends a failure message lists before it summarises the rest.
_MAX_LISTED: Final = 40


class _Unset:
    """The type of :data:`ANY_SENDER`: "no sender given", distinct from ``sender=None``."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ANY_SENDER"


#: The default ``sender`` of the recorder's queries and assertions: any sender matches.
#: Distinct from ``sender=None``, which matches only sends whose sender was ``None``.
ANY_SENDER: Final = _Unset()


def _equal(expected: object, actual: object) -> bool:
    # Expected goes on the left so ``unittest.mock.ANY`` and other matchers work; a comparison
    # that raises (or returns something without a truth value) counts as "different".
    if expected is actual:
        return True
    try:
        return bool(expected == actual)
    except Exception:
        return False


@dataclass(eq=False, repr=False)
class SentSignal:
    """One call of ``send``/``send_robust``/``asend``/``asend_robust``, recorded as it began.

    ``kwargs`` is a shallow copy of the named arguments (the values themselves are the objects
    that were sent). ``responses`` is ``None`` until the send returned; ``exception`` is what the
    send raised, if it raised. Async sends are recorded when the coroutine starts running.
    """

    signal: Signal
    sender: object
    kwargs: dict[str, object]
    method: str
    responses: list[tuple[Any, Any]] | None = None
    exception: BaseException | None = None

    def matches(self, signal: Signal, /, sender: object = ANY_SENDER, **kwargs: object) -> bool:
        """Whether this send was of ``signal`` and agrees with every given field.

        Only the named arguments passed here are compared (others the send carried are
        ignored); omit ``sender`` to accept any sender.
        """
        return signal is self.signal and not self.differences(sender, kwargs)

    def differences(self, sender: object, kwargs: dict[str, object]) -> list[str]:
        """The names of the given fields this send disagrees with (``"sender"`` included)."""
        differing = []
        if not isinstance(sender, _Unset) and not _equal(sender, self.sender):
            differing.append("sender")
        for name, expected in kwargs.items():
            if name not in self.kwargs or not _equal(expected, self.kwargs[name]):
                differing.append(name)
        return differing

    def describe(self) -> str:
        """``<signal>.<method>(sender=..., name=value, ...)`` with safe, shortened reprs."""
        arguments = [f"sender={safe_repr(self.sender)}"]
        arguments += [f"{name}={safe_repr(value)}" for name, value in self.kwargs.items()]
        outcome = ""
        if self.exception is not None:
            outcome = f" -> raised {type(self.exception).__name__}"
        return f"{signal_label(self.signal)}.{self.method}({', '.join(arguments)}){outcome}"

    def __str__(self) -> str:
        return self.describe()

    def __repr__(self) -> str:
        return f"<SentSignal {self.describe()}>"


# --- the wrapper, shared by every active recorder -------------------------------------------

_lock = threading.Lock()
# The running recorders; swapped whole under _lock, read without it by every recorded send.
_active: tuple[SignalRecorder, ...] = ()


def _begin(signal: Signal, sender: object, named: dict[str, Any], method: str) -> SentSignal | None:
    recorders = _active  # read once, without the lock: writers swap the whole tuple
    if not recorders:
        return None
    record = SentSignal(signal, sender, dict(named), method)
    for recorder in recorders:
        recorder._offer(record)
    return record


class _Recording(SendWrapper):
    """Records each send as it begins, then its responses or its exception."""

    layer = RECORD

    def send_started(self, invocation: Invocation) -> SentSignal | None:
        return _begin(invocation.signal, invocation.sender, invocation.named, invocation.method)

    def send_ended(
        self,
        invocation: Invocation,
        token: Any,
        responses: list[tuple[Any, Any]] | None,
        error: BaseException | None,
    ) -> None:
        record: SentSignal | None = token
        if record is None:
            return
        if error is not None:
            record.exception = error
        else:
            record.responses = list(responses or ())


_recording = _Recording()


def _install() -> None:
    # Called with _lock held when the first recorder starts.
    from .._dispatch.signal import Signal

    attach(_recording, Signal)


def _uninstall() -> None:
    # Called with _lock held when the last recorder stops.
    from .._dispatch.signal import Signal

    detach(_recording, Signal)


class SignalRecorder:
    """Records the sends of every signal (or of ``signals`` only) while it is recording.

    Use it as a context manager (``with SignalRecorder() as recorder:``), through
    :func:`record_signals`, or through the ``signal_recorder`` fixture. Recording is
    thread-safe; sends from any thread and any event loop are recorded in the order they began.
    A muted signal (``Signal.muted()``, ``mute_signals``) sends nothing, so nothing is recorded
    for it.

    :param signals: record only these signals; ``None`` (the default) records every signal.
    """

    def __init__(self, signals: Iterable[Signal] | None = None) -> None:
        self._only: tuple[Signal, ...] | None = None if signals is None else tuple(signals)
        self._only_ids = None if self._only is None else {id(signal) for signal in self._only}
        self._calls: list[SentSignal] = []
        self._calls_lock = threading.Lock()
        self._running = False

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> SignalRecorder:
        """Begin recording; returns ``self``. Starting a running recorder does nothing."""
        global _active
        with _lock:
            if self._running:
                return self
            if not _active:
                _install()
            _active = (*_active, self)
            self._running = True
        return self

    def stop(self) -> None:
        """Stop recording (the calls recorded so far stay). Stopping twice does nothing."""
        global _active
        with _lock:
            if not self._running:
                return
            _active = tuple(recorder for recorder in _active if recorder is not self)
            self._running = False
            if not _active:
                _uninstall()

    @property
    def recording(self) -> bool:
        """Whether the recorder is between :meth:`start` and :meth:`stop`."""
        return self._running

    def __enter__(self) -> SignalRecorder:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _offer(self, record: SentSignal) -> None:
        if self._only_ids is not None and id(record.signal) not in self._only_ids:
            return
        with self._calls_lock:
            self._calls.append(record)

    # -- reading ------------------------------------------------------------------------------

    @property
    def calls(self) -> list[SentSignal]:
        """Every recorded send, oldest first (a copy: safe to keep while recording goes on)."""
        with self._calls_lock:
            return list(self._calls)

    def __iter__(self) -> Iterator[SentSignal]:
        return iter(self.calls)

    def __len__(self) -> int:
        with self._calls_lock:
            return len(self._calls)

    def clear(self) -> None:
        """Forget every call recorded so far; recording goes on."""
        with self._calls_lock:
            self._calls.clear()

    def calls_of(
        self, signal: Signal, /, sender: object = ANY_SENDER, **kwargs: object
    ) -> list[SentSignal]:
        """The recorded sends of ``signal`` that match ``sender`` and the named arguments.

        :raises ValueError: ``signal`` is not one this recorder records.
        """
        self._check_recorded(signal)
        return [call for call in self.calls if call.matches(signal, sender, **kwargs)]

    def sent(self, signal: Signal, /, sender: object = ANY_SENDER, **kwargs: object) -> bool:
        """Whether ``signal`` was sent with ``sender`` and the named arguments."""
        return bool(self.calls_of(signal, sender, **kwargs))

    # -- assertions ---------------------------------------------------------------------------

    def assert_sent(
        self, signal: Signal, /, sender: object = ANY_SENDER, **kwargs: object
    ) -> SentSignal:
        """Assert ``signal`` was sent at least once with ``sender`` and the named arguments.

        Only the arguments named here are compared (expected value on the left of ``==``, so
        ``unittest.mock.ANY`` works); omit ``sender`` to accept any sender.

        :returns: the first matching send.
        :raises AssertionError: no send matched; the message lists what was sent.
        :raises ValueError: ``signal`` is not one this recorder records.
        """
        __tracebackhide__ = True
        matching = self.calls_of(signal, sender, **kwargs)
        if not matching:
            raise AssertionError(self._failure("was not sent", signal, sender, kwargs))
        return matching[0]

    def assert_sent_once(
        self, signal: Signal, /, sender: object = ANY_SENDER, **kwargs: object
    ) -> SentSignal:
        """Assert exactly one send of ``signal`` matched ``sender`` and the named arguments.

        :returns: that send.
        :raises AssertionError: none or several matched; the message lists what was sent.
        :raises ValueError: ``signal`` is not one this recorder records.
        """
        __tracebackhide__ = True
        matching = self.calls_of(signal, sender, **kwargs)
        if len(matching) != 1:
            problem = "was not sent" if not matching else f"was sent {len(matching)} times"
            raise AssertionError(self._failure(f"{problem}, expected once", signal, sender, kwargs))
        return matching[0]

    def assert_not_sent(
        self, signal: Signal, /, sender: object = ANY_SENDER, **kwargs: object
    ) -> None:
        """Assert no send of ``signal`` matched ``sender`` and the named arguments.

        With no sender and no arguments given: ``signal`` was not sent at all.

        :raises AssertionError: some send matched; the message lists what was sent.
        :raises ValueError: ``signal`` is not one this recorder records (the assertion could
            never fail).
        """
        __tracebackhide__ = True
        matching = self.calls_of(signal, sender, **kwargs)
        if matching:
            count = "once" if len(matching) == 1 else f"{len(matching)} times"
            raise AssertionError(
                self._failure(f"was sent {count}, expected never", signal, sender, kwargs)
            )

    # -- messages -----------------------------------------------------------------------------

    def _check_recorded(self, signal: Signal) -> None:
        if self._only_ids is not None and id(signal) not in self._only_ids:
            recorded = ", ".join(signal_label(s) for s in self._only or ())
            raise ValueError(
                f"{signal_label(signal)} is not recorded by this recorder "
                f"(it records only: {recorded}); pass it to record_signals() as well"
            )

    def _failure(
        self, problem: str, signal: Signal, sender: object, kwargs: dict[str, object]
    ) -> str:
        wanted = []
        if not isinstance(sender, _Unset):
            wanted.append(f"sender={safe_repr(sender)}")
        wanted += [f"{name}={safe_repr(value)}" for name, value in kwargs.items()]
        condition = f" with {', '.join(wanted)}" if wanted else ""
        lines = [f"{signal_label(signal)} {problem}{condition}."]
        calls = self.calls
        if not calls:
            scope = "of the recorded signals " if self._only is not None else ""
            lines.append(f"No signal {scope}was sent.")
            return "\n".join(lines)
        lines.append(f"Signals sent ({len(calls)}):")
        for number, call in enumerate(calls[:_MAX_LISTED], start=1):
            note = ""
            if call.signal is signal and wanted:
                differing = [
                    name if name == "sender" or name in call.kwargs else f"{name} (not sent)"
                    for name in call.differences(sender, kwargs)
                ]
                note = (
                    f"    <- differs in: {', '.join(differing)}" if differing else "    <- matches"
                )
            lines.append(f"  {number}. {call.describe()}{note}")
        if len(calls) > _MAX_LISTED:
            lines.append(f"  ... and {len(calls) - _MAX_LISTED} more")
        return "\n".join(lines)

    def __repr__(self) -> str:
        scope = "every signal" if self._only is None else f"{len(self._only)} signal(s)"
        state = "recording" if self._running else "stopped"
        return f"<SignalRecorder {scope}, {len(self)} call(s), {state}>"


def record_signals(*signals: Signal) -> SignalRecorder:
    """A started :class:`SignalRecorder` for ``signals`` (every signal when none are given).

    Use it in a ``with`` block, which stops it at the end::

        with record_signals(pizza_done) as recorder:
            bake(pizza)
        recorder.assert_sent(pizza_done, sender=Pizza)

    Outside a ``with`` block, call :meth:`SignalRecorder.stop` yourself.
    """
    return SignalRecorder(signals or None).start()
