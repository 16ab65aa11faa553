"""``HookwireInstrumentor``: OpenTelemetry's entry point into hookwire."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from .. import __version__, _remote_hooks
from .._dispatch.observers import add_observer, remove_observer
from .._dispatch.signal import Signal
from . import _names as names
from ._load import trace_loads, untrace_loads
from ._remote import RemoteSpans
from ._sends import SendTracing

__all__ = ["HookwireInstrumentor", "instrument", "uninstrument"]

_lock = threading.Lock()


class HookwireInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Traces every send (or the sends of ``signals`` only), each receiver, every plugin
    load, the publishing and running of remote receivers' messages, and records the receiver
    metrics.

    ``instrument()`` accepts ``tracer_provider`` and ``meter_provider`` (OpenTelemetry's
    global providers by default) and ``signals``: an iterable of :class:`~hookwire.Signal`
    to trace instead of every signal (busy signals stay out of traces and cost nothing).
    ``uninstrument()`` restores the plain send methods and ``load()``. As every
    OpenTelemetry instrumentor, it is a singleton: instrumenting twice warns and does
    nothing.
    """

    _observer: SendTracing | None = None
    _signals: tuple[Signal, ...] | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        """What must be installed for this instrumentor to apply: hookwire itself."""
        return ("hookwire >= 0.1",)

    def _instrument(self, **kwargs: Any) -> None:
        tracer = trace.get_tracer(
            "hookwire", __version__, tracer_provider=kwargs.get("tracer_provider")
        )
        meter = metrics.get_meter("hookwire", __version__, kwargs.get("meter_provider"))
        duration = meter.create_histogram(
            names.DURATION_METRIC, unit="s", description="Duration of receiver calls."
        )
        failures = meter.create_counter(
            names.FAILURES_METRIC, unit="{failure}", description="Receiver calls that raised."
        )
        selected: Iterable[Signal] | None = kwargs.get("signals")
        observer = SendTracing(tracer, duration, failures)
        with _lock:
            signals = None if selected is None else tuple(selected)
            for signal in signals if signals is not None else (None,):
                add_observer(observer, signal)
            self._observer, self._signals = observer, signals
            trace_loads(tracer)
            _remote_hooks.set_tracing(RemoteSpans(tracer))

    def _uninstrument(self, **kwargs: Any) -> None:
        with _lock:
            observer, signals = self._observer, self._signals
            if observer is not None:
                for signal in signals if signals is not None else (None,):
                    remove_observer(observer, signal)
            self._observer = self._signals = None
            untrace_loads()
            _remote_hooks.set_tracing(None)


def instrument(
    *,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
    signals: Iterable[Signal] | None = None,
) -> HookwireInstrumentor:
    """Instrument hookwire (see :class:`HookwireInstrumentor`) and return the instrumentor."""
    instrumentor = HookwireInstrumentor()
    instrumentor.instrument(
        tracer_provider=tracer_provider, meter_provider=meter_provider, signals=signals
    )
    return instrumentor


def uninstrument() -> None:
    """Undo :func:`instrument`: every send and ``load()`` is plain again."""
    HookwireInstrumentor().uninstrument()
