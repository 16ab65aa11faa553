"""The hook remote receivers give tracing: told as a message is published and as a worker runs
one (what ``hookwire.otel`` attaches to make PRODUCER and CONSUMER spans).

It lives outside :mod:`hookwire.remote` so that attaching imports no Celery. While nothing is
attached (``tracing`` is ``None``), publishing and delivering read one module attribute more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

__all__ = ["RemoteTracing", "set_tracing", "tracing"]


class RemoteTracing(Protocol):
    """What a tracer of remote deliveries provides."""

    def publishing(
        self, signal: str, receiver: str, queue: str, delivery_id: str
    ) -> tuple[dict[str, str], Callable[[BaseException | None], None]]:
        """Called on the sending thread before a message is handed to a publishing thread.

        Returns the headers to add to the message (the trace context) and what to call,
        from whichever thread, once the broker took it (``None``) or did not (the error).
        """
        ...

    def consuming(
        self,
        headers: Mapping[str, Any],
        signal: str,
        receiver: str,
        queue: str,
        delivery_id: str,
        attempt: int,
    ) -> AbstractContextManager[Any]:
        """A block the worker runs the receiver in; ``headers`` are the message's (trace
        context included, untrusted). An exception raised in the block propagates."""
        ...


#: The attached tracer, or ``None``.
tracing: RemoteTracing | None = None


def set_tracing(tracer: RemoteTracing | None) -> None:
    """Attach ``tracer`` (``None`` detaches)."""
    global tracing
    tracing = tracer
