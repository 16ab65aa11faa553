"""The public observer API: being told of every send and every receiver it calls.

An observer is a :class:`SendObserver` (subclass it and override what you need) added with
:func:`add_observer` to one signal or to every signal. While it is added, each send of the
signals it observes tells it, on the sending thread:

1. :meth:`SendObserver.send_started`, before any receiver runs; what it returns (its *token*)
   is handed back to the other methods for that send;
2. :meth:`SendObserver.receiver_started` and :meth:`SendObserver.receiver_ended` around each
   receiver the send calls (only if the observer overrides one of them);
3. :meth:`SendObserver.send_ended`, with the responses the send returns or the exception it
   raises.

Observers are told, never asked to call: the send still calls every receiver itself, from its
own frame, exactly as without observers, so a receiver's ``warnings.warn(stacklevel=...)`` or a
look at its caller's frame lands in the same place either way.

**Nothing added costs nothing.** While no observer (nor ``muted()``, nor the test recorder,
nor ``hookwire run --trace``, which are built on this same hook) is attached to a signal, its
send methods are exactly the plain ones: no check, no flag, no call. Adding an observer to one
signal changes the send methods of that signal only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from . import wrappers
from .receivers import describe_callable

if TYPE_CHECKING:
    from .signal import Signal

__all__ = ["ObservedSend", "SendObserver", "add_observer", "observing", "remove_observer"]

Responses = list[tuple[Any, Any]]


class ObservedSend:
    """One send being observed, as every method of a :class:`SendObserver` receives it.

    :ivar signal: the :class:`~hookwire.Signal` being sent.
    :ivar method: ``"send"``, ``"send_robust"``, ``"asend"`` or ``"asend_robust"``.
    :ivar sender: the sender.
    :ivar named: the keyword arguments of the send (the dict the send was given: copy it to
        keep it).
    """

    __slots__ = ("method", "named", "sender", "signal")

    def __init__(self, signal: Signal, method: str, sender: object, named: dict[str, Any]) -> None:
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

    @staticmethod
    def receiver_name(receiver: Callable[..., Any]) -> str:
        """``"module.qualname"`` of a receiver (callable objects named after their class);
        never raises."""
        return describe_callable(receiver)

    def plugin_of(self, receiver: Callable[..., Any]) -> str | None:
        """The plugin that connected ``receiver`` to this signal (or owns its module);
        ``None`` for receivers of no plugin. Never raises."""
        return self.signal._plugin_of(receiver, self.sender)

    def __repr__(self) -> str:
        return f"<ObservedSend {self.signal.qualified_name}.{self.method}>"


class SendObserver:
    """Base class of observers; every method does nothing by default.

    Exceptions an observer raises are not swallowed: they propagate to the sender (one raised
    by :meth:`send_ended` replaces the send's own result, and is what the observers told after
    it see as the send's error).

    :cvar order: observers of a send start in ascending ``order`` (then in the order they
        were added) and end in the reverse order. The test recorder uses 20, ``hookwire run
        --trace`` 80; the default is 50.
    :cvar observes_receivers: whether the send tells this observer of each receiver; true
        on its own when a subclass overrides :meth:`receiver_started` or
        :meth:`receiver_ended`. Observers that leave it false cost the send nothing per
        receiver.
    """

    order: ClassVar[int] = 50
    observes_receivers: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "observes_receivers" not in cls.__dict__:
            cls.observes_receivers = (
                cls.receiver_started is not SendObserver.receiver_started
                or cls.receiver_ended is not SendObserver.receiver_ended
            )

    def send_started(self, send: ObservedSend) -> Any:
        """Called as the send begins, once its declared arguments hold, before any receiver
        (for ``asend``: when its coroutine starts running). Returns the token handed to the
        other methods for this send."""
        return None

    def receiver_started(
        self, send: ObservedSend, token: Any, receiver: Callable[..., Any], concurrent: bool
    ) -> Any:
        """Called just before ``receiver`` is called, on the thread (or in the task) that
        calls it. Returns a token handed to :meth:`receiver_ended` for this call.

        ``concurrent`` is true for async receivers that run concurrently in tasks sharing one
        context (``asend`` with several async receivers): an observer should then not set
        context variables here, since the other receivers' tasks would see them.
        """
        return None

    def receiver_ended(
        self,
        send: ObservedSend,
        token: Any,
        receiver: Callable[..., Any],
        receiver_token: Any,
        duration_ns: int,
        error: BaseException | None,
    ) -> None:
        """Called once ``receiver`` returned (``error`` is ``None``) or raised, with how long
        the call took (for async receivers: until their coroutine ended) and the token of
        :meth:`receiver_started`. Also under ``send_robust``, where the error then becomes
        the receiver's response."""

    def send_ended(
        self,
        send: ObservedSend,
        token: Any,
        responses: Responses | None,
        error: BaseException | None,
    ) -> None:
        """Called as the send ends, with what it returns (``responses``) or what it raises
        (``error``; ``responses`` is then ``None``)."""


def add_observer(observer: SendObserver, signal: Signal | None = None) -> None:
    """Tell ``observer`` of every send of ``signal``, or (``None``) of every signal, including
    signals created afterwards.

    Adding the same observer twice to the same target tells it twice; add it once. Affects
    every thread.
    """
    from .signal import Signal

    wrappers.attach(observer, Signal, signal)


def remove_observer(observer: SendObserver, signal: Signal | None = None) -> None:
    """Undo :func:`add_observer` with the same arguments; nothing happens if it was not added.

    Once the last observer of a signal is removed, its send methods are the plain ones again.
    """
    from .signal import Signal

    wrappers.detach(observer, Signal, signal)


@contextmanager
def observing(observer: SendObserver, signal: Signal | None = None) -> Iterator[SendObserver]:
    """:func:`add_observer` for the duration of a ``with`` block (removed also when it
    raises)."""
    add_observer(observer, signal)
    try:
        yield observer
    finally:
        remove_observer(observer, signal)
