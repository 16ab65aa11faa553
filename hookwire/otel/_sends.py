"""The observer that turns sends into spans and receiver calls into spans and metrics."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from contextvars import Token
from types import MethodType
from typing import Any

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.metrics import Counter, Histogram
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from .._dispatch.observers import ObservedSend, SendObserver
from .._dispatch.receivers import describe_callable
from . import _names as names

__all__ = ["SendTracing", "sender_name"]

# Between the test recorder (20) and run --trace (80): the order only decides which of them
# sees the other's failures first, and none of them depends on it.
_ORDER = 60


def sender_name(sender: object) -> str:
    """What ``hookwire.sender`` says: ``None``, a string as it is, a class or function as
    ``module.qualname``, any other object as its class's ``module.qualname``."""
    if sender is None:
        return "None"
    if isinstance(sender, str):
        return sender[:200]
    return describe_callable(sender)


class _SendState:
    """What one observed send keeps: its span, the context token, the receivers counted."""

    __slots__ = ("called", "recording", "span", "token")

    def __init__(self, span: trace.Span, token: Token[Context]) -> None:
        self.span = span
        self.token = token
        self.recording = span.is_recording()
        self.called = 0


class SendTracing(SendObserver):
    """A span per send (current while its receivers run), a child span per receiver of a
    recorded send, and the receiver metrics of every send."""

    order = _ORDER
    observes_receivers = True

    def __init__(self, tracer: Tracer, duration: Histogram, failures: Counter) -> None:
        self._tracer = tracer
        self._duration = duration
        self._failures = failures
        # (id(signal), id(function)) -> (signal ref, function ref, span attributes, metric
        # attributes). Naming a receiver and finding its plugin cost more than the rest of an
        # unsampled send's receiver (benchmarks/bench_otel.py, "sampler off"); the references
        # tell a reused id from the objects the entry was made for.
        self._labels: dict[tuple[int, int], tuple[Any, Any, dict[str, Any], dict[str, Any]]] = {}

    def _labels_of(
        self, send: ObservedSend, receiver: Callable[..., Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The span attributes and the metric attributes of ``receiver`` in ``send``."""
        signal = send.signal
        target: Any = receiver
        if target.__class__ is MethodType:
            target = target.__func__
        key = (id(signal), id(target))
        entry = self._labels.get(key)
        if entry is not None and entry[0]() is signal and entry[1]() is target:
            return entry[2], entry[3]
        span_attributes: dict[str, Any] = {names.RECEIVER: describe_callable(receiver)}
        plugin = send.plugin_of(receiver)
        if plugin is not None:
            span_attributes[names.PLUGIN] = plugin
        metric_attributes = {names.SIGNAL: signal.qualified_name, **span_attributes}
        labels = self._labels

        def forget(_: object) -> None:
            labels.pop(key, None)

        try:
            labels[key] = (
                weakref.ref(signal, forget),
                weakref.ref(target, forget),
                span_attributes,
                metric_attributes,
            )
        except TypeError:
            pass  # a receiver that cannot be weakly referenced is named at every call
        return span_attributes, metric_attributes

    def send_started(self, send: ObservedSend) -> _SendState:
        signal_name = send.signal.qualified_name
        span = self._tracer.start_span(
            names.SEND_SPAN.format(signal=signal_name), kind=SpanKind.INTERNAL
        )
        if span.is_recording():
            span.set_attributes(
                {
                    names.SIGNAL: signal_name,
                    names.SENDER: sender_name(send.sender),
                    names.METHOD: send.method,
                }
            )
        # Attached even when not recording: a nested send, or a remote receiver publishing,
        # then inherits the decision not to sample.
        return _SendState(span, context.attach(trace.set_span_in_context(span)))

    def receiver_started(
        self, send: ObservedSend, token: Any, receiver: Callable[..., Any], concurrent: bool
    ) -> Any:
        state: _SendState = token
        if not state.recording:
            return None
        attributes, _ = self._labels_of(send, receiver)
        parent = trace.set_span_in_context(state.span)
        span = self._tracer.start_span(
            attributes[names.RECEIVER],
            context=parent,
            kind=SpanKind.INTERNAL,
            attributes=attributes,
        )
        # Async receivers running together share one context: making one's span current
        # there would show it to the others (and leak it to the sender afterwards).
        attached = None if concurrent else context.attach(trace.set_span_in_context(span))
        return (span, attached)

    def receiver_ended(
        self,
        send: ObservedSend,
        token: Any,
        receiver: Callable[..., Any],
        receiver_token: Any,
        duration_ns: int,
        error: BaseException | None,
    ) -> None:
        state: _SendState = token
        state.called += 1
        if receiver_token is not None:
            span, attached = receiver_token
            if attached is not None:
                context.detach(attached)
            if error is not None:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            span.end()
        _, attributes = self._labels_of(send, receiver)
        self._duration.record(duration_ns / 1e9, attributes)
        if error is not None:
            self._failures.add(1, {**attributes, names.ERROR_TYPE: type(error).__qualname__})

    def send_ended(
        self,
        send: ObservedSend,
        token: Any,
        responses: list[tuple[Any, Any]] | None,
        error: BaseException | None,
    ) -> None:
        state: _SendState = token
        context.detach(state.token)
        span = state.span
        if state.recording:
            span.set_attribute(names.RECEIVERS, state.called)
            if error is not None:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        span.end()
