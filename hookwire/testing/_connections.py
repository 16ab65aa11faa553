"""Temporary changes to signals that undo themselves: muting and connecting receivers.

Each function applies its change at once and returns a handle that undoes it — at the end of a
``with`` block, on :meth:`Change.undo`, or (through the fixtures of the same names) when the
test ends.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from .._dispatch.signal import Signal

__all__ = ["Change", "connect_receiver", "mute_signals"]

ReceiverT = TypeVar("ReceiverT", bound=Callable[..., Any])

# Every change not undone yet. The changes are Signal.muted()/connected_to() blocks held open,
# and a generator's block is closed when the generator is collected: without this reference a
# dropped handle would undo its change at some unpredictable moment instead of never.
_open: set[Change[Any]] = set()


class Change(Generic[ReceiverT]):
    """A change already applied, undone by :meth:`undo` or by leaving a ``with`` block.

    ``receiver`` is the connected receiver for :func:`connect_receiver` (``None`` for
    :func:`mute_signals`); ``signals`` the signals affected. The change lasts until undone,
    also when the handle is dropped.
    """

    def __init__(
        self, stack: ExitStack, signals: tuple[Signal, ...], receiver: ReceiverT | None = None
    ) -> None:
        self._stack = stack
        self.signals = signals
        self.receiver = receiver
        _open.add(self)

    def undo(self) -> None:
        """Undo the change. Undoing twice does nothing."""
        _open.discard(self)
        self._stack.close()

    def __enter__(self) -> Change[ReceiverT]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.undo()


def mute_signals(*signals: Signal) -> Change[Any]:
    """Mute ``signals`` (every signal that exists now, when none are given) until undone.

    This is ``Signal.muted()`` of each signal held open until the handle is undone. A muted
    signal sends nothing: its ``send``, ``send_robust``, ``asend`` and ``asend_robust`` call no
    receiver and return ``[]``, so a :class:`~hookwire.testing.SignalRecorder` records nothing
    for them either: to assert that code sends a signal, record it unmuted.
    """
    if not signals:
        from .._dispatch.signal import all_signals

        signals = tuple(all_signals())
    stack = ExitStack()
    try:
        for signal in signals:
            stack.enter_context(signal.muted())
    except BaseException:
        stack.close()
        raise
    return Change(stack, signals)


def connect_receiver(
    signal: Signal,
    receiver: ReceiverT,
    *,
    sender: object = None,
    weak: bool = False,
    dispatch_uid: object = None,
) -> Change[ReceiverT]:
    """Connect ``receiver`` to ``signal`` until undone; the handle's ``receiver`` is it.

    This is ``Signal.connected_to()`` held open until the handle is undone: arguments are those
    of ``Signal.connect``, ``weak`` defaults to ``False`` (the connection lasts exactly as long
    as the handle says, so a lambda or a closure works too), and a receiver that was already
    connected before stays connected afterwards.

    :raises TypeError: ``receiver`` is not callable (as ``Signal.connect`` raises).
    :raises ValueError: ``receiver`` does not accept ``**kwargs``.
    """
    stack = ExitStack()
    stack.enter_context(signal.connected_to(receiver, sender, weak=weak, dispatch_uid=dispatch_uid))
    return Change(stack, (signal,), receiver)
