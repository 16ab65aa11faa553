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
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode

from hookwire import Plugin, Signal
from hookwire._dispatch.attribution import plugin_scope
from hookwire._loading.loader import Loader
from hookwire.otel import HookwireInstrumentor, instrument, uninstrument
from hookwire.testing import FakePlugins

SEND_METHODS = ("send", "send_robust", "asend", "asend_robust")
PLAIN = {name: Signal.__dict__[name] for name in SEND_METHODS}
PLAIN_LOAD = Loader.__dict__["load"]


class Telemetry:
    """A tracer provider and a meter provider of the SDK, exporting to memory."""

    def __init__(self, sampler: Any = None) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = (
            TracerProvider() if sampler is None else TracerProvider(sampler=sampler)
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
