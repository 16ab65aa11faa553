"""``hookwire.otel``: sends, receivers and plugin loads as OpenTelemetry spans and metrics,
checked with the real SDK's in-memory span exporter and metric reader."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import context, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    ParentBasedTraceIdRatio,
    SamplingResult,
    StaticSampler,
    TraceIdRatioBased,
)
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    StatusCode,
    TraceFlags,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from hookwire import Plugin, Signal
from hookwire._dispatch.attribution import plugin_scope
from hookwire._loading.loader import Loader
from hookwire.otel import HookwireInstrumentor, instrument, uninstrument
from hookwire.testing import FakePlugins

SEND_METHODS = ("send", "send_robust", "asend", "asend_robust")
PLAIN = {name: Signal.__dict__[name] for name in SEND_METHODS}
PLAIN_LOAD = Loader.__dict__["load"]
DURATION = "hookwire.receiver.duration"
FAILURES = "hookwire.receiver.failures"


class CountingIds(RandomIdGenerator):
    """The SDK's own id generator, counting the span ids it hands out: one for every span the
    SDK makes, recorded or not."""

    def __init__(self) -> None:
        self.spans = 0

    def generate_span_id(self) -> int:
        self.spans += 1
        return super().generate_span_id()


class Telemetry:
    """A tracer provider and a meter provider of the SDK, exporting to memory (``ids``
    counts the spans the SDK was asked for)."""

    def __init__(self, sampler: Any = None) -> None:
        self.exporter = InMemorySpanExporter()
        self.ids = CountingIds()
        self.tracer_provider = (
            TracerProvider(id_generator=self.ids)
            if sampler is None
            else TracerProvider(sampler=sampler, id_generator=self.ids)
        )
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def span(self, name: str) -> ReadableSpan:
        [found] = [span for span in self.spans() if span.name == name]
        return found

    def points(self, metric_name: str) -> list[Any]:
        data = self.reader.get_metrics_data()
        points: list[Any] = []
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == metric_name:
                        points.extend(metric.data.data_points)
        return points


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    """hookwire instrumented for every signal, exporting to memory; uninstrumented after."""
    found = Telemetry()
    instrument(tracer_provider=found.tracer_provider, meter_provider=found.meter_provider)
    try:
        yield found
    finally:
        uninstrument()
    assert_plain()


def assert_plain(*signals: Signal) -> None:
    assert {name: Signal.__dict__[name] for name in SEND_METHODS} == PLAIN
    assert Loader.__dict__["load"] is PLAIN_LOAD
    for signal in signals:
        assert not set(SEND_METHODS) & set(vars(signal))


def run(signal: Signal, method: str, sender: object = None, **named: Any) -> Any:
    sent = getattr(signal, method)(sender, **named)
    if asyncio.iscoroutine(sent):
        return asyncio.run(sent)
    return sent


class Pizza:
    """A sender class."""


def bake(**kwargs: Any) -> str:
    return "baked"


def burn(**kwargs: Any) -> None:
    raise ValueError("burnt")


order_placed = Signal(name="order_placed", doc="An order was placed.")


@pytest.mark.parametrize("method", SEND_METHODS)
def test_a_send_is_a_span_with_a_child_per_receiver(telemetry: Telemetry, method: str) -> None:
    signal = order_placed
    with plugin_scope("pizzeria-oven", "ready"):
        signal.connect(bake)
    try:
        assert run(signal, method, Pizza, size=2) == [(bake, "baked")]
    finally:
        signal.disconnect(bake)
    send = telemetry.span(f"send {__name__}.order_placed")
    receiver = telemetry.span(f"{__name__}.bake")
    assert send.kind is SpanKind.INTERNAL
    assert dict(send.attributes or {}) == {
        "hookwire.signal": f"{__name__}.order_placed",
        "hookwire.sender": f"{__name__}.Pizza",
        "hookwire.method": method,
        "hookwire.receivers": 1,
    }
    assert dict(receiver.attributes or {}) == {
        "hookwire.receiver": f"{__name__}.bake",
        "hookwire.plugin": "pizzeria-oven",
    }
    assert receiver.parent is not None
    assert receiver.parent.span_id == send.context.span_id
    assert receiver.context.trace_id == send.context.trace_id
    assert send.status.status_code is StatusCode.UNSET
    assert receiver.status.status_code is StatusCode.UNSET


@pytest.mark.parametrize("method", ["send", "asend"])
def test_a_failing_receiver_records_its_exception_and_the_send_fails_too(
    telemetry: Telemetry, method: str
) -> None:
    signal = Signal(name="failing")
    signal.connect(burn)
    with pytest.raises(ValueError, match="burnt"):
        run(signal, method)
    receiver = telemetry.span(f"{__name__}.burn")
    send = telemetry.span(f"send {__name__}.failing")
    for span in (receiver, send):
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "ValueError: burnt"
        [event] = [event for event in span.events if event.name == "exception"]
        assert (event.attributes or {})["exception.type"] == "ValueError"


@pytest.mark.parametrize("method", ["send_robust", "asend_robust"])
def test_under_the_robust_sends_the_failing_receiver_is_an_error_and_the_send_is_not(
    telemetry: Telemetry, method: str
) -> None:
    signal = Signal(name="failing")
    signal.connect(burn)
    signal.connect(bake)
    [(_, error), (_, response)] = run(signal, method)
    assert isinstance(error, ValueError)
    assert response == "baked"
    assert telemetry.span(f"{__name__}.burn").status.status_code is StatusCode.ERROR
    assert telemetry.span(f"{__name__}.bake").status.status_code is StatusCode.UNSET
    send = telemetry.span(f"send {__name__}.failing")
    assert send.status.status_code is StatusCode.UNSET
    assert (send.attributes or {})["hookwire.receivers"] == 2
    [failure] = telemetry.points("hookwire.receiver.failures")
    assert failure.value == 1
    assert dict(failure.attributes) == {
        "hookwire.signal": f"{__name__}.failing",
        "hookwire.receiver": f"{__name__}.burn",
        "error.type": "ValueError",
    }


def test_a_send_from_inside_a_receiver_is_a_child_of_that_receiver(
    telemetry: Telemetry,
) -> None:
    outer, inner = Signal(name="outer"), Signal(name="inner")

    def forwards(**kwargs: Any) -> None:
        inner.send(None)

    outer.connect(forwards)
    inner.connect(bake)
    outer.send(None)
    receiver = telemetry.span(f"{__name__}.{forwards.__qualname__}")
    nested = telemetry.span(f"send {__name__}.inner")
    assert nested.parent is not None
    assert nested.parent.span_id == receiver.context.span_id
    assert telemetry.span(f"{__name__}.bake").parent.span_id == nested.context.span_id  # type: ignore[union-attr]
    assert len({span.context.trace_id for span in telemetry.spans()}) == 1


def test_async_receivers_running_together_are_children_of_the_send(
    telemetry: Telemetry,
) -> None:
    signal = Signal(name="together")

    async def first(**kwargs: Any) -> int:
        await asyncio.sleep(0)
        return 1

    async def second(**kwargs: Any) -> int:
        await asyncio.sleep(0)
        return 2

    signal.connect(first)
    signal.connect(second)

    async def main() -> Any:
        from opentelemetry import trace

        before = trace.get_current_span()
        responses = await signal.asend(None)
        # Neither receiver's span leaked into the sender's context.
        assert trace.get_current_span() is before
        return responses

    assert [response for _, response in asyncio.run(main())] == [1, 2]
    send = telemetry.span(f"send {__name__}.together")
    for name in (first.__qualname__, second.__qualname__):
        child = telemetry.span(f"{__name__}.{name}")
        assert child.parent is not None
        assert child.parent.span_id == send.context.span_id


def test_receiver_durations_are_recorded_by_signal_receiver_and_plugin(
    telemetry: Telemetry,
) -> None:
    signal = Signal(name="timed")
    with plugin_scope("pizzeria-oven", "ready"):
        signal.connect(bake)
    for _ in range(3):
        signal.send(None)
    [point] = telemetry.points("hookwire.receiver.duration")
    assert point.count == 3
    assert point.sum >= 0
    assert dict(point.attributes) == {
        "hookwire.signal": f"{__name__}.timed",
        "hookwire.receiver": f"{__name__}.bake",
        "hookwire.plugin": "pizzeria-oven",
    }
    assert telemetry.points("hookwire.receiver.failures") == []


def test_only_the_selected_signals_are_traced() -> None:
    busy, chosen = Signal(name="busy"), Signal(name="chosen")
    busy.connect(bake)
    chosen.connect(bake)
    found = Telemetry()
    instrument(
        tracer_provider=found.tracer_provider,
        meter_provider=found.meter_provider,
        signals=[chosen],
    )
    try:
        # The busy signal keeps the plain send methods: it costs nothing.
        assert not set(SEND_METHODS) & set(vars(busy))
        assert Signal.__dict__["send"] is PLAIN["send"]
        busy.send(None)
        chosen.send(None)
    finally:
        uninstrument()
    assert [span.name for span in found.spans()] == [
        f"{__name__}.bake",
        f"send {__name__}.chosen",
    ]
    assert_plain(busy, chosen)


def test_uninstrument_restores_plain_sends_and_nothing_more_is_recorded() -> None:
    found = Telemetry()
    signal = Signal(name="once")
    signal.connect(bake)
    instrument(tracer_provider=found.tracer_provider, meter_provider=found.meter_provider)
    assert Signal.__dict__["send"] is not PLAIN["send"]
    assert Loader.__dict__["load"] is not PLAIN_LOAD
    signal.send(None)
    uninstrument()
    assert_plain(signal)
    signal.send(None)
    assert len([span for span in found.spans() if span.name.startswith("send ")]) == 1


def test_the_instrumentor_is_a_singleton_that_instruments_once(
    telemetry: Telemetry, caplog: pytest.LogCaptureFixture
) -> None:
    assert HookwireInstrumentor() is HookwireInstrumentor()
    assert HookwireInstrumentor().is_instrumented_by_opentelemetry
    HookwireInstrumentor().instrument()
    assert "already instrumented" in caplog.text
    signal = Signal(name="twice")
    signal.connect(bake)
    signal.send(None)
    assert len([span for span in telemetry.spans() if span.name.endswith(".twice")]) == 1


def test_with_the_sampler_off_no_span_is_recorded_and_metrics_still_are() -> None:
    found = Telemetry(sampler=ALWAYS_OFF)
    signal = Signal(name="unsampled")
    signal.connect(bake)
    instrument(tracer_provider=found.tracer_provider, meter_provider=found.meter_provider)
    try:
        assert signal.send(None) == [(bake, "baked")]
    finally:
        uninstrument()
    assert found.spans() == []
    [point] = found.points("hookwire.receiver.duration")
    assert point.count == 1


# What the SDK's samplers drop for certain: a send under them makes no span at all.
DROPPING_SAMPLERS = {
    "always_off": ALWAYS_OFF,
    "parentbased_always_off": ParentBased(ALWAYS_OFF),
    "traceidratio_0": TraceIdRatioBased(0.0),
    "parentbased_traceidratio_0": ParentBasedTraceIdRatio(0.0),
}

TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
PARENT_SPAN_ID = 0xB7AD6B7169203331


def parent_span(*, remote: bool, sampled: bool) -> NonRecordingSpan:
    """A parent span of another service (remote) or of this process, sampled or not."""
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
    return NonRecordingSpan(
        SpanContext(TRACE_ID, PARENT_SPAN_ID, is_remote=remote, trace_flags=flags)
    )


def seen_by_receivers(signal: Signal, method: str) -> tuple[list[Any], list[Any]]:
    """Send ``signal`` (a working and a failing receiver) with ``method``; what the receivers
    got and which span was current for each, and the responses."""
    seen: list[Any] = []

    def works(**kwargs: Any) -> str:
        seen.append((sorted(kwargs), trace.get_current_span()))
        return "baked"

    def fails(**kwargs: Any) -> None:
        seen.append((sorted(kwargs), trace.get_current_span()))
        raise ValueError("burnt")

    signal.connect(works, weak=False)
    signal.connect(fails, weak=False)
    responses = run(signal, method, Pizza, size=2)
    return seen, [(receiver.__name__, response) for receiver, response in responses]


@pytest.mark.parametrize("method", ["send_robust", "asend_robust"])
@pytest.mark.parametrize("sampler", list(DROPPING_SAMPLERS), ids=list(DROPPING_SAMPLERS))
def test_a_send_the_sampler_drops_makes_no_span_and_still_records_the_metrics(
    sampler: str, method: str
) -> None:
    found = Telemetry(sampler=DROPPING_SAMPLERS[sampler])
    signal = Signal(name="dropped")
    instrument(tracer_provider=found.tracer_provider, meter_provider=found.meter_provider)
    try:
        seen, responses = seen_by_receivers(signal, method)
    finally:
        uninstrument()
    # The receivers got what they get uninstrumented, in the sender's own context.
    plain_seen, plain_responses = seen_by_receivers(Signal(name="dropped"), method)
    assert seen == plain_seen
    assert [name for name, _ in responses] == [name for name, _ in plain_responses]
    assert responses[0] == ("works", "baked")
    assert all(current is trace.INVALID_SPAN for _, current in seen)
    # The SDK was not even asked for a span it would not record.
    assert found.ids.spans == 0
    assert found.spans() == []
    durations = {point.attributes["hookwire.receiver"]: point for point in found.points(DURATION)}
    assert sorted(durations) == [
        f"{__name__}.{seen_by_receivers.__qualname__}.<locals>.{name}"
        for name in ("fails", "works")
    ]
    assert all(point.count == 1 for point in durations.values())
    [failure] = found.points(FAILURES)
    assert failure.value == 1
    assert failure.attributes["error.type"] == "ValueError"


@pytest.mark.parametrize("remote", [True, False], ids=["remote", "local"])
def test_under_an_unsampled_parent_the_default_sampler_makes_no_span(remote: bool) -> None:
    """The SDK's default sampler, ParentBased(ALWAYS_ON), drops the children of an unsampled
    parent: the send makes no span, and its receivers still see that parent as current."""
    found = Telemetry()
    signal = Signal(name="under_unsampled")
    parent = parent_span(remote=remote, sampled=False)
    instrument(tracer_provider=found.tracer_provider, meter_provider=found.meter_provider)
    try:
        with trace.use_span(parent):
            seen, responses = seen_by_receivers(signal, "send_robust")
    finally:
        uninstrument()
    assert responses[0] == ("works", "baked")
    assert [current for _, current in seen] == [parent, parent]
    assert found.ids.spans == 0
    assert found.spans() == []
    assert sum(point.count for point in found.points(DURATION)) == 2


def test_parent_based_sampling_still_traces_a_send_under_a_sampled_remote_parent() -> None:
    """ParentBased(ALWAYS_OFF) drops roots but follows a sampled parent: a send whose context
    came in sampled (a ``traceparent`` header) is traced, its spans in the parent's trace."""
    found = Telemetry(sampler=ParentBased(ALWAYS_OFF))
    signal = Signal(name="continued")
    signal.connect(bake)
    header = {"traceparent": f"00-{TRACE_ID:032x}-{PARENT_SPAN_ID:016x}-01"}
    instrument(tracer_provider=found.tracer_provider, meter_provider=found.meter_provider)
    try:
        signal.send(None)  # a root: dropped
        token = context.attach(TraceContextTextMapPropagator().extract(header))
        try:
            assert signal.send(None) == [(bake, "baked")]
        finally:
            context.detach(token)
    finally:
        uninstrument()
    send = found.span(f"send {__name__}.continued")
    receiver = found.span(f"{__name__}.bake")
    assert send.parent is not None
    assert send.parent.is_remote
    assert send.parent.span_id == PARENT_SPAN_ID
    assert receiver.parent is not None
    assert receiver.parent.span_id == send.context.span_id
    assert {send.context.trace_id, receiver.context.trace_id} == {TRACE_ID}
    assert len(found.spans()) == 2
    [point] = found.points(DURATION)
    assert point.count == 2


class SamplesEverything(StaticSampler):
    """Built as a dropping static sampler, but samples every span: what a sampler says it is
    does not count, only what its ``should_sample`` does."""

    def __init__(self) -> None:
        super().__init__(Decision.DROP)

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        return SamplingResult(Decision.RECORD_AND_SAMPLE)

    def get_description(self) -> str:
        return "SamplesEverything"


@pytest.mark.parametrize("parent", [None, "unsampled-local", "unsampled-remote"])
def test_a_sampler_that_samples_everything_still_gets_every_span(parent: str | None) -> None:
    found = Telemetry(sampler=SamplesEverything())
    signal = Signal(name="everything")
    signal.connect(bake)
    instrument(tracer_provider=found.tracer_provider, meter_provider=found.meter_provider)
    try:
        if parent is None:
            signal.send(None)
        else:
            with trace.use_span(parent_span(remote=parent.endswith("remote"), sampled=False)):
                signal.send(None)
    finally:
        uninstrument()
    assert sorted(span.name for span in found.spans()) == [
        f"send {__name__}.everything",
        f"{__name__}.bake",
    ]


def test_children_of_a_dropped_send_that_the_sampler_keeps_are_still_its_children() -> None:
    """ParentBased(ALWAYS_OFF, local_parent_not_sampled=ALWAYS_ON) drops a root send but
    samples what starts under it: the send still makes its (unrecorded) span, so a send from
    inside its receiver is traced as that span's child, not as a new trace."""
    found = Telemetry(sampler=ParentBased(ALWAYS_OFF, local_parent_not_sampled=ALWAYS_ON))
    outer, inner = Signal(name="outer_dropped"), Signal(name="inner_kept")

    def forwards(**kwargs: Any) -> None:
        inner.send(None)

    outer.connect(forwards)
    inner.connect(bake)
    instrument(tracer_provider=found.tracer_provider, meter_provider=found.meter_provider)
    try:
        outer.send(None)
    finally:
        uninstrument()
    nested = found.span(f"send {__name__}.inner_kept")
    assert nested.parent is not None  # the outer send's span, made but not recorded
    assert not nested.parent.trace_flags.sampled
    assert f"send {__name__}.outer_dropped" not in [span.name for span in found.spans()]


def test_instrumented_before_the_global_provider_is_set_the_shortcut_follows_it() -> None:
    """``instrument()`` with OpenTelemetry's global providers before the SDK sets them (its
    tracer is then the API's proxy): once the global provider is set, its sampler decides as
    if it had been given, dropped sends making no span and sampled parents still traced."""
    code = """
import hookwire
from hookwire.otel import instrument
from opentelemetry import context, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ParentBased, ALWAYS_OFF
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

class CountingIds(RandomIdGenerator):
    spans = 0
    def generate_span_id(self):
        CountingIds.spans += 1
        return super().generate_span_id()

signal = hookwire.Signal(name="early")
signal.connect(lambda **kwargs: "baked", weak=False)
instrument()
signal.send(None)  # no provider yet: nothing is recorded
exporter = InMemorySpanExporter()
provider = TracerProvider(sampler=ParentBased(ALWAYS_OFF), id_generator=CountingIds())
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
signal.send(None)
print("ids of dropped sends:", CountingIds.spans)
header = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
context.attach(TraceContextTextMapPropagator().extract(header))
signal.send(None)
print("spans of a sampled send:", sorted(span.name for span in exporter.get_finished_spans()))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ids of dropped sends: 0",
        "spans of a sampled send: ['__main__.<lambda>', 'send __main__.early']",
    ]


class OvenPlugin(Plugin):
    name = "oven"

    def ready(self) -> None:
        return None


class BrokenPlugin(Plugin):
    name = "broken"

    def ready(self) -> None:
        raise RuntimeError("no gas")


def test_a_load_is_a_span_with_a_child_per_plugin_and_its_state(
    telemetry: Telemetry,
) -> None:
    with FakePlugins() as plugins:
        plugins.add("oven", OvenPlugin, distribution="pizzeria-oven", version="2.1")
        plugins.add("broken", BrokenPlugin, distribution="pizzeria-broken")
        plugins.add("off", OvenPlugin, distribution="pizzeria-off")
        registry = plugins.load(group="pizzeria.plugins", disable=["off"])
    assert {record.name: record.state.value for record in registry} == {
        "oven": "ready",
        "broken": "failed",
        "off": "disabled",
    }
    load = telemetry.span("load pizzeria.plugins")
    assert (load.attributes or {})["hookwire.entry_point_group"] == "pizzeria.plugins"
    assert (load.attributes or {})["hookwire.plugins"] == 3
    oven = telemetry.span("plugin oven")
    assert dict(oven.attributes or {}) == {
        "hookwire.plugin": "oven",
        "hookwire.plugin.state": "ready",
        "hookwire.distribution": "pizzeria-oven",
        "hookwire.distribution.version": "2.1",
        "hookwire.entry_point": oven.attributes["hookwire.entry_point"],  # type: ignore[index]
    }
    broken = telemetry.span("plugin broken")
    assert broken.status.status_code is StatusCode.ERROR
    assert "no gas" in (broken.status.description or "")
    assert (telemetry.span("plugin off").attributes or {})["hookwire.plugin.state"] == "disabled"
    for child in (oven, broken):
        assert child.parent is not None
        assert child.parent.span_id == load.context.span_id
    # The lifecycle signals sent while loading are traced under the load.
    failed = telemetry.span("send hookwire.signals.plugin_failed")
    assert failed.parent is not None
    assert failed.parent.span_id == load.context.span_id


def test_hookwire_otel_without_opentelemetry_names_the_extra() -> None:
    """Without the extra installed, the import fails once, saying what to install."""
    code = (
        "import sys\n"
        "sys.modules['opentelemetry'] = None\n"
        "import hookwire\n"
        "try:\n"
        "    import hookwire.otel\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    [line] = result.stdout.splitlines()
    assert line.startswith("hookwire.otel needs OpenTelemetry")
    assert line.endswith("install it with: pip install 'hookwire[otel]'")


@pytest.mark.e2e
def test_opentelemetry_instrument_picks_the_instrumentor_from_its_entry_point(
    tmp_path: Path, hookwire_wheel: Path
) -> None:
    """``opentelemetry-instrument python script.py`` in a venv where the hookwire wheel is
    installed: the script changes nothing, and its sends come out of the console exporter."""
    from venvtools import create_venv

    venv = create_venv(tmp_path / "venv", wheels=[hookwire_wheel])
    script = tmp_path / "script.py"
    script.write_text(
        "import hookwire\n"
        "print('hookwire from', hookwire.__file__)\n"
        "placed = hookwire.Signal(name='placed')\n"
        "def bake(**kwargs):\n"
        "    return 'baked'\n"
        "placed.connect(bake)\n"
        "assert placed.send(None) == [(bake, 'baked')]\n",
        encoding="utf-8",
    )
    launcher = Path(sys.executable).parent / "opentelemetry-instrument"
    env = {
        # `python` in the command line is the venv's.
        "PATH": f"{venv.bin}:{Path(sys.executable).parent}",
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_SERVICE_NAME": "pizzeria",
    }
    result = venv.run(str(launcher), "python", str(script), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"hookwire from {venv.site_packages}" in result.stdout
    assert '"name": "send __main__.placed"' in result.stdout
    assert '"name": "__main__.bake"' in result.stdout
    assert '"hookwire.method": "send"' in result.stdout


def test_a_load_that_only_returns_the_registry_again_is_not_traced_again(
    telemetry: Telemetry,
) -> None:
    with FakePlugins() as plugins:
        plugins.add("oven", OvenPlugin, distribution="pizzeria-oven")
        loader = plugins.loader()
        first = loader.load()
        assert loader.load() is first
    assert [span.name for span in telemetry.spans() if span.name.startswith("load ")] == [
        f"load {loader.group}"
    ]
    assert len([span for span in telemetry.spans() if span.name == "plugin oven"]) == 1
