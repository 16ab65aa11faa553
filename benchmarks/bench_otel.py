"""OpenTelemetry benchmark: what tracing costs a send, with the SDK's sampler off and on.

For a send with 1 and with 10 receivers, in one process on the same signal:

* **uninstrumented**: the plain send;
* **sampler off**: :class:`hookwire.otel.HookwireInstrumentor` with an SDK tracer provider
  whose sampler is ``ALWAYS_OFF`` and OpenTelemetry's default (no-op) meter provider: the cost
  a busy production send pays when its trace is not sampled (goal: at most 6x uninstrumented;
  such a send makes no span, so the "sdk floor" below is not part of it);
* **sampler off + metrics**: the same with an SDK meter provider, every receiver's duration
  recorded;
* **sampled**: every span recorded by the SDK and handed to a span processor that drops it
  (what is left is hookwire's and the SDK's own work, not an exporter's);
* **sdk floor**: what the SDK alone spends on one unsampled span made current and ended
  (``start_span``, ``context.attach``/``detach``, ``end``), with no send at all: what a send
  would pay on top of "sampler off" if it asked the SDK for its span.

Run: ``python benchmarks/bench_otel.py [--quick] [--repeat N] [--clock cpu|wall] [--json [PATH]]``
(needs the ``hookwire[otel]`` extra and ``opentelemetry-sdk``, both in the ``bench`` extra).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import _benchutil as bu
from opentelemetry import context, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON

import hookwire
from hookwire.otel import instrument, uninstrument

MODES = ("uninstrumented", "sampler_off", "sampler_off_metrics", "sampled")
SIZES = (1, 10)
#: The sampler-off send may cost at most this many uninstrumented sends.
SAMPLER_OFF_GOAL = 6.0


class Sender:
    """The sender of every send."""


class _Dropping(SpanProcessor):
    """Receives every ended span and keeps none of them."""


def make_signal(receivers: int) -> hookwire.Signal:
    signal = hookwire.Signal(name=f"bench_{receivers}")

    def make(index: int) -> Callable[..., None]:
        def receiver(sender: object, **kwargs: object) -> None:
            return None

        receiver.__qualname__ = f"receiver_{index}"
        return receiver

    keep = [make(index) for index in range(receivers)]
    for function in keep:
        signal.connect(function, weak=False)
    return signal


def instrumented(mode: str) -> Callable[[], None]:
    """Instrument hookwire for ``mode``; return what undoes it."""
    if mode == "uninstrumented":
        return lambda: None
    tracer_provider = TracerProvider(sampler=ALWAYS_ON if mode == "sampled" else ALWAYS_OFF)
    tracer_provider.add_span_processor(_Dropping())
    meter_provider = None
    if mode in ("sampler_off_metrics", "sampled"):
        meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    return uninstrument


def sample(signal: hookwire.Signal, number: int, clock: Callable[[], float]) -> float:
    send = signal.send
    gc.collect()
    gc.disable()
    try:
        started = clock()
        for _ in range(number):
            send(Sender, value=1)
        return clock() - started
    finally:
        gc.enable()


def sdk_floor(number: int, clock: Callable[[], float]) -> float:
    """Seconds the SDK spends on ``number`` unsampled spans made current and ended."""
    tracer = TracerProvider(sampler=ALWAYS_OFF).get_tracer("bench")
    start_span, attach, detach, in_context = (
        tracer.start_span,
        context.attach,
        context.detach,
        trace.set_span_in_context,
    )
    gc.collect()
    gc.disable()
    try:
        started = clock()
        for _ in range(number):
            span = start_span("send bench")
            detach(attach(in_context(span)))
            span.end()
        return clock() - started
    finally:
        gc.enable()


def measure(options: bu.Options) -> dict[str, dict[str, float]]:
    """ns per send for each size and mode: minimum of the repeats, modes interleaved."""
    clock = bu.clock_function(options.clock)
    number = 200 if options.quick else 20_000
    best: dict[str, dict[str, float]] = {str(size): {} for size in SIZES}
    for size in SIZES:
        signal = make_signal(size)
        for _ in range(options.repeat):
            for mode in MODES:
                undo = instrumented(mode)
                try:
                    # Bound again each time: instrumenting replaces the send methods.
                    elapsed = sample(signal, number, clock)
                finally:
                    undo()
                ns = elapsed / number * 1e9
                key = str(size)
                best[key][mode] = min(best[key].get(mode, ns), ns)
            ns = sdk_floor(number, clock) / number * 1e9
            best[str(size)]["sdk_floor"] = min(best[str(size)].get("sdk_floor", ns), ns)
    return best


def main(argv: list[str] | None = None) -> int:
    options = bu.parse_options(__doc__.splitlines()[0], default_repeat=15, argv=argv)
    best = measure(options)
    rows: list[dict[str, Any]] = []
    columns = (*MODES, "sdk_floor")
    table = bu.Table(["case", *columns, "off/plain", "sampled/plain", "target", "result"])
    for size in SIZES:
        ns = best[str(size)]
        off = bu.ratio(ns["sampler_off"], ns["uninstrumented"])
        sampled = bu.ratio(ns["sampled"], ns["uninstrumented"])
        result = "n/a" if off is None else ("PASS" if off <= SAMPLER_OFF_GOAL else "FAIL")
        title = f"send, {size} receiver{'s' if size > 1 else ''}"
        rows.append(
            {
                "key": f"send_{size}",
                "title": title,
                "ns_per_op": ns,
                "ratios": {"sampler_off/uninstrumented": off, "sampled/uninstrumented": sampled},
                "target": f"sampler_off/uninstrumented <= {SAMPLER_OFF_GOAL:g}",
                "result": result,
            }
        )
        table.add(
            [
                title,
                *(bu.format_ns(ns[column]) for column in columns),
                bu.format_ratio(off),
                bu.format_ratio(sampled),
                f"off/plain <= {SAMPLER_OFF_GOAL:g}",
                result,
            ]
        )
    document = {
        "benchmark": "otel",
        "unit": "ns/op",
        "quick": options.quick,
        "repeat": options.repeat,
        "clock": options.clock,
        "machine": bu.machine_description(),
        "versions": {
            name: bu.package_version(name)
            for name in ("hookwire", "opentelemetry-api", "opentelemetry-sdk")
        },
        "rows": rows,
        "result": bu.overall_verdict([row["result"] for row in rows]),
    }
    header = (
        f"hookwire OpenTelemetry benchmark: ns per send in {options.clock_description}, "
        f"minimum of {options.repeat} interleaved repeats"
    )
    bu.emit_results(
        options, document, f"{header}\n\n{table.render()}\n\noverall: {document['result']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
