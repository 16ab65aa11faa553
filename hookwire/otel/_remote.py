"""Remote receivers as messaging spans: PRODUCER when a message is published, CONSUMER when a
worker runs it, in one trace (the context travels in the message's headers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from . import _names as names

__all__ = ["RemoteSpans"]


def _messaging(
    operation: str, kind: str, signal: str, receiver: str, queue: str, delivery_id: str
) -> dict[str, Any]:
    return {
        names.MESSAGING_SYSTEM: names.MESSAGING_SYSTEM_CELERY,
        names.MESSAGING_DESTINATION: queue,
        names.MESSAGING_OPERATION_NAME: operation,
        names.MESSAGING_OPERATION_TYPE: kind,
        names.MESSAGING_MESSAGE_ID: delivery_id,
        names.SIGNAL: signal,
        names.RECEIVER: receiver,
    }


class RemoteSpans:
    """What :mod:`hookwire._remote_hooks` calls while hookwire is instrumented."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer

    def publishing(
        self, signal: str, receiver: str, queue: str, delivery_id: str
    ) -> tuple[dict[str, str], Callable[[BaseException | None], None]]:
        span = self._tracer.start_span(
            names.PUBLISH_SPAN.format(queue=queue),
            kind=SpanKind.PRODUCER,
            attributes=_messaging("publish", "send", signal, receiver, queue, delivery_id),
        )
        headers: dict[str, str] = {}
        # The producer span is the consumer's parent; it is not made current here, the
        # receiver's span stays the current one on the sending thread.
        propagate.inject(headers, context=trace.set_span_in_context(span))

        def finished(error: BaseException | None) -> None:
            if error is not None:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            span.end()

        return headers, finished

    def consuming(
        self,
        headers: Mapping[str, Any],
        signal: str,
        receiver: str,
        queue: str,
        delivery_id: str,
        attempt: int,
    ) -> AbstractContextManager[Any]:
        # Only the trace context's own headers are read, and only if they are strings: the
        # message came from outside the process.
        carrier = {
            key: value
            for key in ("traceparent", "tracestate")
            if isinstance(value := headers.get(key), str)
        }
        attributes = _messaging("process", "process", signal, receiver, queue, delivery_id)
        attributes[names.DELIVERY_ATTEMPT] = attempt
        return self._consume(carrier, queue, attributes)

    @contextmanager
    def _consume(
        self, carrier: dict[str, str], queue: str, attributes: dict[str, Any]
    ) -> Iterator[None]:
        with self._tracer.start_as_current_span(
            names.PROCESS_SPAN.format(queue=queue),
            context=propagate.extract(carrier),
            kind=SpanKind.CONSUMER,
            attributes=attributes,
        ):
            yield
