"""The worker's Redis transport: kombu's, except that an entry it cannot read stops nothing.

kombu's Redis transport takes an entry off a queue's list and only then decodes it; an entry
that is not a kombu message at all (not JSON, no properties, a body that is not base64)
raises out of the worker's event loop, which stops the worker or makes it reconnect. Anyone
who can write to Redis can push such an entry, so the worker uses this transport instead: an
entry it cannot read, already removed from Redis by the time it is read, is logged on one
line and dropped.
"""

from __future__ import annotations

from queue import Empty
from typing import Any

from kombu.transport import redis as kombu_redis

from .._text import describe_error, escape

__all__ = ["GuardedRedisTransport"]


class UnreadableEntry(Exception):
    """An entry of a queue that kombu cannot make a message of."""


class GuardedMessage(kombu_redis.Channel.Message):  # type: ignore[misc, valid-type]
    def __init__(self, payload: Any, channel: Any = None, **kwargs: Any) -> None:
        try:
            super().__init__(payload, channel=channel, **kwargs)
        except Exception as exc:
            # kombu files some of these under connection errors (a KeyError): say what it is.
            raise UnreadableEntry(describe_error(exc)) from exc


class GuardedChannel(kombu_redis.Channel):
    Message = GuardedMessage

    def _brpop_read(self, **options: Any) -> Any:
        try:
            return super()._brpop_read(**options)  # type: ignore[no-untyped-call]
        except UnreadableEntry as exc:
            reason = str(exc)
        except (Empty, *self.connection_errors, *self.connection.channel_errors):
            raise
        except Exception as exc:
            reason = describe_error(exc)
        from ._gate import Rejected
        from ._worker import log_rejected

        log_rejected(Rejected(f"an entry of the queue is not a message: {escape(reason)}"))
        return True


class GuardedRedisTransport(kombu_redis.Transport):
    """kombu's Redis transport with :class:`GuardedChannel` channels."""

    Channel = GuardedChannel
