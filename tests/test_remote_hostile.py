"""A ``hookwire worker`` trusts nothing in a message: forged and malformed messages written
straight into a real Redis, as anyone who can write to the broker could, against one real
worker process. Each is rejected, logged once on one line, acknowledged; the worker runs on and
the legitimate messages behind them still run. Attempts are counted by hookwire."""

from __future__ import annotations

import base64
import copy
import json
import random
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redistools import RedisServer, require_redis_server
from test_remote_e2e import HOST, Run, _project
from venvtools import Venv, create_venv

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

redis_py = pytest.importorskip("redis", reason="redis-py comes with the celery extra")

GUARD = """
import json
import os

from hookwire import receiver
from hookwire.remote import current_delivery, remote_receiver
from hookwire.signals import remote_failed
from rshop import order_placed, record

from . import trap  # noqa: F401 - a module whose __getattr__ runs code: must never be called


class Meta(type):
    @property
    def trap(cls):
        record(event="trap", name="a metaclass property")
        return os.system


class Holder(metaclass=Meta):
    pass


@remote_receiver(order_placed, sender="rshop:Store", queue="guard", max_retries=2, retry_backoff=0)
def filtered(sender, n, signal, **kwargs):
    delivery = current_delivery()
    record(event="run", receiver="filtered", n=n, attempt=delivery.attempt,
           id=delivery.delivery_id, sender=repr(sender), echo=json.dumps(kwargs, default=repr))
    if n == "fail":
        raise RuntimeError("fails every time")


@remote_receiver(order_placed, sender="rshop:Store", queue="guard", max_retries=1)
def fragile(sender, n, **kwargs):
    delivery = current_delivery()
    record(event="run", receiver="fragile", n=n, attempt=delivery.attempt, id=delivery.delivery_id)
    if n == "die":
        os.kill(os.getpid(), 9)  # SIGKILL: its pool process dies every time


@remote_receiver(order_placed, queue="guard", max_retries=0)
def anything(sender, n, **kwargs):
    record(event="run", receiver="anything", n=n, sender=repr(sender))


@receiver(remote_failed)
def on_failed(sender, receiver, plugin, delivery, error, **kwargs):
    record(event="failed", receiver=receiver, plugin=plugin, attempt=delivery.attempt,
           id=delivery.delivery_id, error=type(error).__name__)
"""

TRAP = """
from rshop import record


def __getattr__(name):
    record(event="trap", name=name)
    import concurrent.futures.process  # noqa: F401 - what a lazily importing module does
    raise AttributeError(name)
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, hookwire_wheel: Path) -> Venv:
    require_redis_server()
    root = tmp_path_factory.mktemp("hostile")
    venv = create_venv(root / "venv", wheels=[hookwire_wheel])
    venv.install(
        _project(root, "rshop", "rshop", {"__init__.py": HOST}),
        _project(
            root, "rshop-guard", "rshop_guard",
            {"__init__.py": "", "signals.py": GUARD, "trap.py": TRAP},
            plugin="guard",
        ),
    )  # fmt: skip
    return venv


class Broker:
    """Redis as an attacker sees it: raw lists of kombu envelopes, written with redis-py."""

    def __init__(self, server: RedisServer) -> None:
        self.client = redis_py.Redis(host="127.0.0.1", port=server.port, db=0)

    def take_all(self, queue: str) -> list[dict[str, Any]]:
        raw = self.client.lrange(queue, 0, -1)
        self.client.delete(queue)
        return [json.loads(item) for item in raw]

    def push(self, envelope: dict[str, Any], queue: str = "guard") -> None:
        self.client.lpush(queue, json.dumps(envelope))

    def idle(self, queue: str = "guard") -> bool:
        return self.client.llen(queue) == 0 and self.client.hlen("unacked") == 0


class Forger:
    """Copies of one real message, altered: new ids each time, then whatever the test says."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template

    def body(self, envelope: dict[str, Any]) -> Any:
        return json.loads(base64.b64decode(envelope["body"]))

    def forge(
        self,
        alter: Callable[[dict[str, Any], Any], Any] | None = None,
        *,
        raw_body: bytes | None = None,
    ) -> tuple[dict[str, Any], str]:
        """A copy with a fresh delivery id; ``alter(envelope, body)`` returns the new body."""
        envelope = copy.deepcopy(self.template)
        body = self.body(envelope)
        delivery_id = uuid.uuid4().hex
        envelope["headers"]["id"] = delivery_id
        envelope["properties"]["correlation_id"] = delivery_id
        envelope["properties"]["delivery_tag"] = str(uuid.uuid4())
        body[1]["delivery_id"] = delivery_id
        if alter is not None:
            body = alter(envelope, body)
        data = raw_body if raw_body is not None else json.dumps(body).encode()
        envelope["body"] = base64.b64encode(data).decode()
        return envelope, delivery_id


class Guard:
    """The module's one worker, its Redis, the forger, and what the worker logged so far."""

    def __init__(self, run: Run, broker: Broker, forger: Forger, worker: subprocess.Popen[str]):
        self.run = run
        self.broker = broker
        self.forger = forger
        self.worker = worker

    def log(self) -> str:
        return self.run.log(self.worker)

    def rejections(self) -> list[str]:
        return [line for line in self.log().splitlines() if "rejected message" in line]

    def send(self, n: str, **arguments: object) -> None:
        extra = "".join(f", {key}={value!r}" for key, value in arguments.items())
        self.run.send(f"rshop.order_placed.send(sender=rshop.Store, n={n!r}{extra})")

    def records(self, n: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.run.records() if n is None or r.get("n") == n]

    def legitimate(self, n: str) -> dict[str, Any]:
        """A copy of the real message with only its ids and ``n`` changed: well-formed."""

        def alter(envelope: dict[str, Any], body: Any) -> Any:
            body[1]["kwargs"]["n"] = n
            return body

        return self.forger.forge(alter)[0]

    def expect_rejected(self, count: int, before: int, marker: str, *, send: bool = False) -> None:
        """``count`` more rejections than ``before``, and a well-formed message queued behind
        them (pushed right away, or published by a real sender with ``send``) still runs."""
        if send:
            self.send(marker)
            expected = {("filtered", marker), ("anything", marker)}
        else:
            self.broker.push(self.legitimate(marker))
            expected = {("filtered", marker)}
        deadline = time.monotonic() + 60
        while not expected <= {(r.get("receiver"), r.get("n")) for r in self.run.records()}:
            assert self.worker.poll() is None, self.log()[-3000:]
            assert time.monotonic() < deadline, self.log()[-3000:]
            time.sleep(0.05)
        while len(self.rejections()) < before + count:  # logged before the marker ran, but
            assert time.monotonic() < deadline  # the log may still be in a buffer
            time.sleep(0.05)
        assert self.worker.poll() is None
        assert len(self.rejections()) == before + count, self.rejections()[before:]
        deadline = time.monotonic() + 10
        while not self.broker.idle():  # every message acknowledged, none left to redeliver
            assert time.monotonic() < deadline
            time.sleep(0.05)


@pytest.fixture(scope="module")
def guard(
    venv: Venv, redis: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Guard]:
    run = Run(venv, tmp_path_factory.mktemp("guard"), redis.url)
    try:
        broker = Broker(redis)
        # A real message, published by a real sender while no worker listens: the template.
        run.send('rshop.order_placed.send(sender=rshop.Store, n="template")')
        envelopes = broker.take_all("guard")
        (template,) = [
            e for e in envelopes if Forger(e).body(e)[1]["receiver"].endswith(".filtered")
        ]
        worker = run.worker("--concurrency", "1")
        yield Guard(run, broker, Forger(template), worker)
    finally:
        run.close()


def _replace_body(value: object) -> Callable[[dict[str, Any], Any], Any]:
    return lambda envelope, body: value


def _with(**changes: object) -> Callable[[dict[str, Any], Any], Any]:
    """Change keys of the delivery body (the task's keyword arguments)."""

    def alter(envelope: dict[str, Any], body: Any) -> Any:
        body[1].update(changes)
        return body

    return alter


def _headers(**changes: object) -> Callable[[dict[str, Any], Any], Any]:
    def alter(envelope: dict[str, Any], body: Any) -> Any:
        envelope["headers"].update(changes)
        return body

    return alter


def _embed(**changes: object) -> Callable[[dict[str, Any], Any], Any]:
    def alter(envelope: dict[str, Any], body: Any) -> Any:
        body[2].update(changes)
        return body

    return alter


def test_malformed_bodies_are_rejected_acknowledged_and_the_worker_runs_on(guard: Guard) -> None:
    before = len(guard.rejections())
    shapes: list[Callable[[dict[str, Any], Any], Any]] = [
        _replace_body({"args": [], "kwargs": {}}),
        _replace_body(None),
        _replace_body("a string"),
        _replace_body(42),
        _replace_body([[]]),
        _replace_body([[], {}]),
        _replace_body([[], {}, {}, {}]),
        lambda envelope, body: [body[0], body[1], {"chain": "not a chain"}],
        lambda envelope, body: [body[0], body[1], {"chain": [{"task": None}]}],
        lambda envelope, body: [body[0], body[1], "not a dict"],
        lambda envelope, body: [[1, 2], body[1], body[2]],
        lambda envelope, body: [[], "not a dict", body[2]],
        _with(kwargs=["not", "a", "dict"]),
        _with(kwargs={"sender": "twice"}),
        _with(format="1"),
    ]
    for alter in shapes:
        guard.broker.push(guard.forger.forge(alter)[0])
    guard.broker.push(guard.forger.forge(raw_body=b"\xff{not json")[0])
    guard.broker.push(guard.forger.forge(raw_body=b"[" * 100_000)[0])
    guard.expect_rejected(len(shapes) + 2, before, "after-shapes")
    assert [r for r in guard.records() if r.get("event") == "run" and r["n"] == "template"] == []


def test_forged_trace_context_headers_are_rejected_and_a_well_formed_one_runs(
    guard: Guard,
) -> None:
    """A tracer of remote deliveries adds ``traceparent``/``tracestate``; forged ones (huge,
    escape sequences, not text) are refused before any propagator reads them."""
    before = len(guard.rejections())
    forgeries = [
        _headers(traceparent="00-" + "a" * 500),
        _headers(traceparent="00-\x1b[31mred\x1b[0m"),
        _headers(traceparent={"not": "text"}),
        _headers(tracestate="k=" + "v" * 100_000),
    ]
    for alter in forgeries:
        guard.broker.push(guard.forger.forge(alter)[0])

    def traced(envelope: dict[str, Any], body: Any) -> Any:
        envelope["headers"]["traceparent"] = (
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        )
        body[1]["kwargs"]["n"] = "traced"
        return body

    guard.broker.push(guard.forger.forge(traced)[0])
    guard.expect_rejected(len(forgeries), before, "after-trace-context")
    assert [r["receiver"] for r in guard.records("traced")] == ["filtered"]


def test_forged_names_are_logged_escaped_on_one_line(guard: Guard) -> None:
    before = len(guard.rejections())
    evil = "evil\nINFO fake line\x1b[31m red \x1b]8;;https://example.invalid\x07link\x1b]8;;\x07"
    guard.broker.push(guard.forger.forge(_with(receiver=evil))[0])
    guard.broker.push(guard.forger.forge(_with(signal=evil))[0])
    guard.broker.push(guard.forger.forge(_headers(task=evil))[0])
    guard.expect_rejected(3, before, "after-names")
    log = guard.log()
    assert "\x1b" not in log
    assert "\x07" not in log
    assert not [line for line in log.splitlines() if line.startswith("INFO fake line")]
    lines = guard.rejections()[before:]
    assert all("evil\\nINFO fake line\\x1b[31m" in line for line in lines), lines


def test_raw_entries_that_are_not_kombu_messages_do_not_stop_the_worker(guard: Guard) -> None:
    before = len(guard.rejections())
    template = guard.forger.forge()[0]
    no_properties = {key: value for key, value in template.items() if key != "properties"}
    bad_base64 = dict(template, body="%%% not base64 %%%")
    entries = [
        b"not json at all",
        b"[]",
        b"null",
        b'{"body": 1}',
        json.dumps(no_properties).encode(),
        json.dumps(dict(template, headers="not a dict")).encode(),
        json.dumps(bad_base64).encode(),
        json.dumps(dict(template, **{"content-type": None})).encode(),
    ]
    for entry in entries:
        guard.broker.client.lpush("guard", entry)
    deadline = time.monotonic() + 30
    while guard.broker.client.llen("guard"):
        assert guard.worker.poll() is None, guard.log()[-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    guard.broker.push(guard.legitimate("after-raw"))
    guard.run.wait_for(lambda rs: any(r.get("n") == "after-raw" for r in rs))
    assert guard.worker.poll() is None
    assert len(guard.rejections()) == before + len(entries)
    assert "Connection to broker lost" not in guard.log()


def test_only_hookwire_deliver_runs_no_builtin_task_callback_or_chain(guard: Guard) -> None:
    before = len(guard.rejections())
    callback = {
        "task": "hookwire.deliver",
        "args": [],
        "kwargs": {},
        "options": {},
        "subtask_type": None,
        "immutable": False,
    }
    forged = [
        guard.forger.forge(_headers(task="celery.accumulate"))[0],
        guard.forger.forge(_headers(task="celery.chunks"))[0],
        guard.forger.forge(_headers(task="celery.backend_cleanup"))[0],
        guard.forger.forge(_headers(task="rshop_guard.signals.anything"))[0],
        guard.forger.forge(_embed(callbacks=[callback]))[0],
        guard.forger.forge(_embed(errbacks=[callback]))[0],
        guard.forger.forge(_embed(chain=[callback]))[0],
        guard.forger.forge(_headers(callbacks=[callback]))[0],
        guard.forger.forge(_headers(timelimit=[0.001, 0.001]))[0],
        guard.forger.forge(_headers(expires="2000-01-01T00:00:00+00:00"))[0],
    ]
    for envelope in forged:
        guard.broker.push(envelope)
    guard.expect_rejected(len(forged), before, "after-tasks")
    runs = [r for r in guard.records() if r.get("event") == "run" and r["n"] == "template"]
    assert runs == []
    assert "celery.accumulate" in "\n".join(guard.rejections()[before:])


def test_remote_control_commands_are_not_obeyed(guard: Guard) -> None:
    from celery import Celery

    # Nobody listens on the remote control channel: a "shutdown" broadcast reaches no worker.
    assert guard.broker.client.pubsub_channels("*pidbox*") == []
    attacker = Celery("attacker", broker=guard.run.env["HOOKWIRE_BROKER_URL"])
    attacker.control.broadcast("shutdown")
    attacker.control.broadcast("pool_shrink", arguments={"n": 1})
    guard.broker.push(guard.legitimate("after-shutdown"))
    guard.run.wait_for(lambda rs: any(r.get("n") == "after-shutdown" for r in rs))
    assert guard.worker.poll() is None


def test_the_sender_filter_is_applied_on_the_worker(guard: Guard) -> None:
    before = len(guard.rejections())
    senders = [
        {"ref": "os:system"},
        {"ref": "posix:system"},
        {"ref": "builtins:eval"},
        {"ref": "subprocess:Popen"},
        {"ref": "rshop:local_first"},
        {"value": "a string"},
        {"value": None},
    ]
    for sender in senders:
        guard.broker.push(guard.forger.forge(_with(sender=sender))[0])
    guard.expect_rejected(len(senders), before, "after-senders")
    assert [r for r in guard.records("template") if r["receiver"] == "filtered"] == []


def test_a_sender_name_never_runs_code_or_imports_a_module(guard: Guard) -> None:
    before = len(guard.rejections())
    senders = [
        {"ref": "rshop_guard.trap:anything"},
        {"ref": "rshop_guard.trap:concurrent"},
        {"ref": "rshop_guard.signals:Holder.trap"},
        {"ref": "rshop_guard.signals:Meta.trap"},
        {"ref": "antigravity:"},
        {"ref": "rshop_guard.signals:os"},
    ]

    def for_anything(sender: object) -> Callable[[dict[str, Any], Any], Any]:
        def alter(envelope: dict[str, Any], body: Any) -> Any:
            body[1]["receiver"] = body[1]["receiver"].replace(".filtered", ".anything")
            body[1]["sender"] = sender
            return body

        return alter

    for sender in senders:
        guard.broker.push(guard.forger.forge(for_anything(sender))[0])
    guard.expect_rejected(len(senders), before, "after-traps")
    assert [r for r in guard.records() if r.get("event") == "trap"] == []
    assert [r for r in guard.records("template") if r.get("event") == "run"] == []


def test_arguments_arrive_as_the_json_that_was_sent(guard: Guard) -> None:
    tagged = {
        "money": {"__type__": "decimal", "__value__": "1.50"},
        "when": [{"__type__": "datetime", "__value__": "2026-01-01T00:00:00"}],
        "plain": {"__type__": "uuid", "__value__": "not-a-uuid-at-all"},
    }
    guard.send("tagged", **tagged)
    guard.run.wait_for(
        lambda rs: any(r.get("n") == "tagged" and r["receiver"] == "filtered" for r in rs)
    )
    (run,) = [r for r in guard.records("tagged") if r["receiver"] == "filtered"]
    assert json.loads(run["echo"]) == tagged


def test_attempts_are_counted_by_hookwire_not_taken_from_the_retries_header(guard: Guard) -> None:
    before = len(guard.rejections())
    negative, negative_id = guard.forger.forge(lambda envelope, body: _retries(envelope, body, -40))
    guard.broker.push(negative)
    guard.expect_rejected(1, before, "after-negative")
    assert [r for r in guard.run.records() if r.get("id") == negative_id] == []
    # A count that looks plausible is not believed either: attempts start at 1.
    claimed, claimed_id = guard.forger.forge(lambda envelope, body: _retries(envelope, body, 5))
    guard.broker.push(claimed)
    records = guard.run.wait_for(
        lambda rs: any(r.get("event") == "failed" and r["id"] == claimed_id for r in rs)
    )
    runs = [r["attempt"] for r in records if r.get("event") == "run" and r.get("id") == claimed_id]
    assert runs == [1, 2, 3]  # max_retries=2
    (failed,) = [r for r in records if r.get("event") == "failed" and r["id"] == claimed_id]
    assert (failed["attempt"], failed["error"]) == (3, "RuntimeError")


def _retries(envelope: dict[str, Any], body: Any, retries: int) -> Any:
    envelope["headers"]["retries"] = retries
    body[1]["kwargs"]["n"] = "fail"
    return body


def test_a_receiver_that_kills_its_process_every_time_ends_as_a_final_failure(
    guard: Guard,
) -> None:
    guard.send("die")

    def failed_for_good(records: list[dict[str, Any]]) -> bool:
        ids = {r["id"] for r in records if r.get("n") == "die" and r["receiver"] == "fragile"}
        return any(r.get("event") == "failed" and r["id"] in ids for r in records)

    records = guard.run.wait_for(failed_for_good, timeout=90)
    runs = [r for r in records if r.get("event") == "run" and r["receiver"] == "fragile"]
    died = [r for r in runs if r["n"] == "die"]
    assert [r["attempt"] for r in died] == [1, 2]  # max_retries=1; the redelivery counted
    assert len({r["id"] for r in died}) == 1
    (failed,) = [r for r in records if r.get("event") == "failed" and r["id"] == died[0]["id"]]
    assert (failed["error"], failed["attempt"], failed["plugin"]) == ("WorkerLostError", 2, "guard")
    line = next(x for x in guard.log().splitlines() if died[0]["id"] in x and "for good" in x)
    assert "WorkerLostError" in line
    # Nothing more runs: the next send is served, and "die" did not come back.
    guard.broker.push(guard.legitimate("after-die"))
    later = guard.run.wait_for(lambda rs: any(r.get("n") == "after-die" for r in rs))
    assert len([r for r in later if r.get("n") == "die" and r["receiver"] == "fragile"]) == 2


def _random_forgery(rng: random.Random, forger: Forger) -> dict[str, Any]:
    """One message that is certainly not a well-formed delivery, chosen at random."""
    junk: list[object] = [
        None, True, -1, 0, 2**70, 1.5, "", "x" * rng.randint(1, 300), "\x1b[2J\n", [], {},
        [None], {"ref": "os:system"}, {"value": [1]}, {"__type__": "decimal", "__value__": "1"},
    ]  # fmt: skip
    body_keys = ["format", "signal", "receiver", "sender", "kwargs", "sent_at", "delivery_id"]
    header_keys = [
        "task", "id", "retries", "eta", "expires", "timelimit", "shadow", "lang", "group",
        "chord", "callbacks", "link", "stamps", "argsrepr", "_private", "compression",
    ]  # fmt: skip
    kind = rng.randrange(7)
    # Values that no header may hold (None and empty values are what Celery itself sends).
    bad = [v for v in junk if v not in (None, [], {}, "")]

    def alter(envelope: dict[str, Any], body: Any) -> Any:
        value = rng.choice(junk)
        if kind == 0:  # the whole body is something else
            return rng.choice([value, [value], [[], value], [[], body[1], value, value]])
        if kind == 1:  # a key of the delivery is wrong, missing or extra
            key = rng.choice([*body_keys, "extra"])
            if rng.random() < 0.3 and key in body[1]:
                del body[1][key]
            elif key in ("sent_at", "kwargs"):  # a number is a fine sent_at, a dict fine kwargs
                body[1][key] = rng.choice(["", "x", [1], None])
            else:
                body[1][key] = value
            return body
        if kind == 2:  # a header Celery acts on
            key = rng.choice(header_keys)
            envelope["headers"][key] = rng.choice(bad)
            if key == "argsrepr":
                envelope["headers"][key] = rng.choice(["\x1b[2J\n", "x" * 2000, 7])
            elif key == "retries":
                envelope["headers"][key] = rng.choice([-5, "1", 1.5, None])
            elif key == "id":
                envelope["headers"][key] = rng.choice([*bad, "../../etc/passwd", "a" * 65])
            return body
        if kind == 3:  # embedded callbacks, errbacks, chains, chords
            body[2][rng.choice(["callbacks", "errbacks", "chain", "chord", "link"])] = [
                {"task": rng.choice(["hookwire.deliver", "celery.accumulate"]), "args": []}
            ]
            return body
        if kind == 4:  # another receiver, signal or sender
            key = rng.choice(["signal", "receiver", "sender"])
            body[1][key] = rng.choice(
                [
                    f"rshop_guard.signals.{rng.choice(['trap', 'Holder', 'record', 'os'])}",
                    "\x1b]0;title\x07",
                    {"ref": rng.choice(["os:system", "rshop_guard.trap:x", "builtins:exec"])},
                ]
            )
            return body
        if kind == 5:  # positional arguments
            return [[rng.choice(bad)], body[1], body[2]]
        envelope["content-type"] = rng.choice(
            ["application/json", "application/x-python-serialize", "text/plain"]
        )
        return body

    return forger.forge(alter)[0]


def test_a_randomised_flood_of_forgeries_runs_nothing_and_the_worker_serves_what_follows(
    guard: Guard,
) -> None:
    rng = random.Random(20261207)
    before = len(guard.rejections())
    count = 240
    for _ in range(count):
        guard.broker.push(_random_forgery(rng, guard.forger))
    started = time.monotonic()
    guard.expect_rejected(count, before, "after-flood", send=True)
    elapsed = time.monotonic() - started
    assert [r for r in guard.records("template") if r.get("event") == "run"] == []
    assert [r for r in guard.records() if r.get("event") == "trap"] == []
    assert elapsed < 60
    lines = guard.rejections()[before:]
    assert all(line.count("rejected message") == 1 for line in lines)


def test_a_worker_whose_state_folder_cannot_be_made_stops_at_start_with_one_line(
    venv: Venv, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    run = Run(venv, tmp_path, "redis://127.0.0.1:9/0")
    run.env["XDG_STATE_HOME"] = str(blocker)
    result = venv.run(
        str(venv.bin / "hookwire"), "worker", "rshop:host", env=run.env, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("hookwire: error: the worker's state folder cannot be used: ")
    assert str(blocker) in line
    assert "Traceback" not in result.stderr
