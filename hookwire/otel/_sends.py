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
from opentelemetry.trace import INVALID_SPAN, SpanKind, Status, StatusCode, Tracer

from .. import __version__
from .._dispatch.observers import ObservedSend, SendObserver
from .._dispatch.receivers import describe_callable
from . import _names as names
from ._sampling import NONE, Shortcuts, shortcuts

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
    """What one observed send keeps: its span, the context its receivers' spans start in, the
    context token, the receivers counted."""

    __slots__ = ("called", "parent", "recording", "span", "token")

    def __init__(self, span: trace.Span, token: Token[Context] | None) -> None:
        self.span = span
        self.token = token
        self.recording = span.is_recording()
        self.parent: Context | None = None
        self.called = 0


# The context key OpenTelemetry keeps the current span under, asked of its public API.
[_SPAN_KEY] = trace.set_span_in_context(INVALID_SPAN, Context())

#: The state of every send that makes no span (see :mod:`._sampling`): shared, never changed.
_SKIPPED = _SendState(INVALID_SPAN, None)


class SendTracing(SendObserver):
    """A span per send (current while its receivers run), a child span per receiver of a
    recorded send, and the receiver metrics of every send.

    A send whose spans the tracer's sampler provably drops, with every span that could start
    under them (``ALWAYS_OFF``, or ``ParentBased`` under an unsampled parent), makes no span
    at all: its receivers run in the context the sender had, and only the metrics are
    recorded.
    """

    order = _ORDER
    observes_receivers = True

    def __init__(self, tracer: Tracer, duration: Histogram, failures: Counter) -> None:
        self._tracer = tracer
        self._duration = duration
        self._failures = failures
        # None while the tracer is OpenTelemetry's proxy for a global provider not set yet.
        self._shortcuts: Shortcuts | None = shortcuts(tracer)
        # (id(signal), id(function)) -> (signal ref, function ref, span attributes, metric
        # attributes). Naming a receiver and finding its plugin cost more than the rest of an
        # unsampled send's receiver (benchmarks/bench_otel.py, "sampler off"); the references
        # tell a reused id from the objects the entry was made for.
        self._labels: dict[tuple[int, int], tuple[Any, Any, dict[str, Any], dict[str, Any]]] = {}

    def _resolved_shortcuts(self) -> Shortcuts:
        """The shortcuts of the global tracer provider once it is set (the proxy tracer then
        hands every span to the tracer it gets from it: this one is the same)."""
        provider = trace.get_tracer_provider()
        if isinstance(provider, trace.ProxyTracerProvider):
            return NONE
        self._tracer = provider.get_tracer("hookwire", __version__)
        found = shortcuts(self._tracer)
        self._shortcuts = NONE if found is None else found
        return self._shortcuts

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
        cuts = self._shortcuts
        if cuts is None:
            cuts = self._resolved_shortcuts()
        if cuts.any:
            # trace.get_current_span() without its three calls deep (a tenth of the send).
            current = context.get_current().get(_SPAN_KEY)
            if current is None or current is INVALID_SPAN or not isinstance(current, trace.Span):
                if cuts.root:
                    return _SKIPPED
            else:
                found = current.get_span_context()
                if not found.is_valid:
                    if cuts.root:
                        return _SKIPPED
                elif not found.trace_flags.sampled and (
                    cuts.remote if found.is_remote else cuts.local
                ):
                    return _SKIPPED
        signal_name = send.signal.qualified_name
        span = self._tracer.start_span(
            names.SEND_SPAN.format(signal=signal_name), kind=SpanKind.INTERNAL
        )
        # Attached even when not recording: a nested send, or a remote receiver publishing,
        # then inherits the decision not to sample.
        in_span = trace.set_span_in_context(span)
        state = _SendState(span, context.attach(in_span))
        if state.recording:
            state.parent = in_span
            span.set_attributes(
                {
                    names.SIGNAL: signal_name,
                    names.SENDER: sender_name(send.sender),
                    names.METHOD: send.method,
                }
            )
        return state

    def receiver_started(
        self, send: ObservedSend, token: Any, receiver: Callable[..., Any], concurrent: bool
    ) -> Any:
        state: _SendState = token
        if not state.recording:
            return None
        attributes, metric_attributes = self._labels_of(send, receiver)
        span = self._tracer.start_span(
            attributes[names.RECEIVER],
            context=state.parent,
            kind=SpanKind.INTERNAL,
            attributes=attributes,
        )
        # Async receivers running together share one context: making one's span current
        # there would show it to the others (and leak it to the sender afterwards).
        attached = None if concurrent else context.attach(trace.set_span_in_context(span))
        # The metric attributes go along: receiver_ended need not look them up again.
        return (span, attached, metric_attributes)

    def receiver_ended(
        self,
        send: ObservedSend,
        token: Any,
        receiver: Callable[..., Any],
        receiver_token: Any,
        duration_ns: int,
        error: BaseException | None,
    ) -> None:
        if receiver_token is None:
            _, attributes = self._labels_of(send, receiver)
        else:
            # Only a recorded send's receivers have a span (and only its span counts them).
            token.called += 1
            span, attached, attributes = receiver_token
            if attached is not None:
                context.detach(attached)
            if error is not None:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            span.end()
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
        if state is _SKIPPED:
            return
        context.detach(state.token)  # type: ignore[arg-type]
        span = state.span
        if state.recording:
            span.set_attribute(names.RECEIVERS, state.called)
            if error is not None:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        span.end()
