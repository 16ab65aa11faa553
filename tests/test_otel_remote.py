"""Remote receivers in OpenTelemetry: the send's process publishes a PRODUCER span, the real
``hookwire worker`` runs the message in a CONSUMER span of the same trace, its parent the
producer, with the trace context carried in the Celery message's headers (real Redis)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from redistools import RedisServer, require_redis_server
from test_remote_e2e import Run, _project
from venvtools import Venv, create_venv

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The host sets up OpenTelemetry in code, as an application does: spans of every process that
# imports it (the sender and the worker) are appended as JSON lines to $RSHOP_SPANS.
HOST = """
import json
import os

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

import hookwire.otel
from hookwire import Host, Signal


class JsonLines(SpanExporter):
    def export(self, spans):
        with open(os.environ["RSHOP_SPANS"], "a", encoding="utf-8") as out:
            for span in spans:
                out.write(json.dumps({
                    "name": span.name,
                    "kind": span.kind.name,
                    "trace_id": f"{span.context.trace_id:032x}",
                    "span_id": f"{span.context.span_id:016x}",
                    "parent_id": f"{span.parent.span_id:016x}" if span.parent else None,
                    "status": span.status.status_code.name,
                    "attributes": dict(span.attributes),
                    "pid": os.getpid(),
                }) + "\\n")
        return SpanExportResult.SUCCESS


provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(JsonLines()))
hookwire.otel.instrument(tracer_provider=provider)

order_placed = Signal(name="order_placed")


class Store:
    pass


def record(**fields):
    with open(os.environ["RSHOP_OUT"], "a", encoding="utf-8") as out:
        out.write(json.dumps(fields) + "\\n")


host = Host("rshop", version="1.0", signals=[order_placed])
"""

TEXTS = """
from hookwire.remote import remote_receiver
from rshop import order_placed, record


@remote_receiver(order_placed, queue="texts", max_retries=0)
def text(sender, n, **kwargs):
    record(event="text", n=n)
    if n == "fail":
        raise RuntimeError("the phone is off")
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, hookwire_wheel: Path) -> Venv:
    require_redis_server()
    root = tmp_path_factory.mktemp("otel-remote")
    venv = create_venv(root / "venv", wheels=[hookwire_wheel])
    venv.install(
        _project(root, "rshop", "rshop", {"__init__.py": HOST}),
        _project(
            root, "rshop-texts", "rshop_texts", {"__init__.py": "", "signals.py": TEXTS},
            plugin="texts",
        ),
    )  # fmt: skip
    return venv


@pytest.fixture
def traced(venv: Venv, redis: RedisServer, tmp_path: Path) -> Iterator[Run]:
    redis.command("FLUSHALL")
    run = Run(venv, tmp_path, redis.url)
    run.env["RSHOP_SPANS"] = str(tmp_path / "spans.jsonl")
    (tmp_path / "spans.jsonl").touch()
    yield run
    run.close()


def spans(run: Run) -> list[dict[str, object]]:
    text = Path(run.env["RSHOP_SPANS"]).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def wait_for_span(run: Run, name: str) -> dict[str, object]:
    run.wait_for(lambda records: True, timeout=1)
    found: list[dict[str, object]] = []

    def there(_: object) -> bool:
        found[:] = [span for span in spans(run) if span["name"] == name]
        return bool(found)

    run.wait_for(there)
    return found[0]


def test_the_worker_runs_the_message_in_a_consumer_span_child_of_the_producer(
    traced: Run,
) -> None:
    worker = traced.worker("--pool", "solo")
    traced.send("rshop.order_placed.send(rshop.Store, n='hello')")
    consumer = wait_for_span(traced, "process texts")
    sent = {span["name"]: span for span in spans(traced) if span["pid"] != worker.pid}
    producer = sent["publish texts"]
    receiver = sent["rshop_texts.signals.text"]
    send = sent["send rshop.order_placed"]
    # One trace, from the send to the worker: send -> receiver -> PRODUCER -> CONSUMER.
    assert producer["kind"] == "PRODUCER"
    assert consumer["kind"] == "CONSUMER"
    assert consumer["pid"] == worker.pid
    assert {span["trace_id"] for span in (send, receiver, producer, consumer)} == {send["trace_id"]}
    assert receiver["parent_id"] == send["span_id"]
    assert producer["parent_id"] == receiver["span_id"]
    assert consumer["parent_id"] == producer["span_id"]
    delivery_id = producer["attributes"]["messaging.message.id"]  # type: ignore[index]
    assert producer["attributes"] == {
        "messaging.system": "celery",
        "messaging.destination.name": "texts",
        "messaging.operation.name": "publish",
        "messaging.operation.type": "send",
        "messaging.message.id": delivery_id,
        "hookwire.signal": "rshop.order_placed",
        "hookwire.receiver": "rshop_texts.signals.text",
    }
    assert consumer["attributes"] == {
        "messaging.system": "celery",
        "messaging.destination.name": "texts",
        "messaging.operation.name": "process",
        "messaging.operation.type": "process",
        "messaging.message.id": delivery_id,
        "hookwire.signal": "rshop.order_placed",
        "hookwire.receiver": "rshop_texts.signals.text",
        "hookwire.delivery.attempt": 1,
    }
    assert consumer["status"] == "UNSET"


def test_a_receiver_failing_on_the_worker_makes_its_consumer_span_an_error(
    traced: Run,
) -> None:
    traced.worker("--pool", "solo")
    traced.send("rshop.order_placed.send(rshop.Store, n='fail')")
    consumer = wait_for_span(traced, "process texts")
    assert consumer["status"] == "ERROR"
    producer = next(span for span in spans(traced) if span["name"] == "publish texts")
    assert consumer["parent_id"] == producer["span_id"]
