"""What a receiver running on a worker can ask about the message it is serving."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["Delivery", "current_delivery", "delivery_scope"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery of a remote receiver's message.

    :ivar delivery_id: the same for every attempt of one send to one receiver — across
        retries and redelivery after a worker died — so receivers can be idempotent on it.
    :ivar attempt: 1 for the first run, 2 for the next run of the same delivery (a retry
        after an exception, or a redelivery after the process running it died), and so on, up
        to the receiver's ``max_retries + 1``. Counted by the worker in a record of its own
        that survives a killed process, never read from the message; a redelivered message is
        at least attempt 2.
    :ivar host: the name of the host whose worker runs the receiver.
    """

    delivery_id: str
    attempt: int
    host: str


_current: ContextVar[Delivery | None] = ContextVar("hookwire_remote_delivery", default=None)


def current_delivery() -> Delivery | None:
    """The :class:`Delivery` being served, inside a remote receiver on a worker; else ``None``.

    A receiver is only ever called for a message the worker checked first: a well-formed
    delivery for a remote receiver that a plugin ready on that worker connected, whose sender
    that receiver's sender filter accepts; anything else is rejected before it runs.
    """
    return _current.get()


class delivery_scope:
    """Make ``delivery`` the current one for the duration of a ``with`` block."""

    def __init__(self, delivery: Delivery) -> None:
        self._delivery = delivery

    def __enter__(self) -> Delivery:
        self._token = _current.set(self._delivery)
        return self._delivery

    def __exit__(self, *exc_info: object) -> None:
        _current.reset(self._token)
