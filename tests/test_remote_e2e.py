"""Remote receivers end to end: real ``hookwire worker`` processes, a real Redis, a host and
plugins pip-installed into a venv, and sends from a separate process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redistools import RedisServer, require_redis_server
from venvtools import ROOT, Venv, clean_env, create_venv, hatchling_pyproject

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HOST = """
import json
import os

from hookwire import Host, Signal, receiver

order_placed = Signal(name="order_placed")


class Store:
    pass


def record(**fields):
    with open(os.environ["RSHOP_OUT"], "a", encoding="utf-8") as out:
        out.write(json.dumps(fields) + "\\n")


@receiver(order_placed, weak=False)
def local_first(sender, **kwargs):
    return "local first"


host = Host("rshop", version="1.0", signals=[order_placed])
"""

TEXTS = """
import os
import time

from hookwire import receiver
from hookwire.remote import current_delivery, remote_receiver
from hookwire.signals import remote_failed
from rshop import order_placed, record


@remote_receiver(order_placed, sender="rshop:Store", queue="texts", max_retries=1, retry_backoff=0)
def text(sender, n, **kwargs):
    delivery = current_delivery()
    record(event="start", n=n, sender=sender.__name__, id=delivery.delivery_id,
           attempt=delivery.attempt, host=delivery.host, pid=os.getpid())
    if n == "slow" and delivery.attempt == 1:  # long enough to be killed midway, once
        time.sleep(4)
    if n == "fail":
        raise RuntimeError("the phone is off")
    record(event="done", n=n, id=delivery.delivery_id)


@remote_receiver(order_placed)
def log_any(sender, n, **kwargs):
    shown = sender.__name__ if isinstance(sender, type) else sender
    record(event="any", n=n, sender=shown, kind=type(sender).__name__)


@receiver(order_placed, sender="rshop:Store")
def local_after(sender, **kwargs):
    return "local after"


@receiver(remote_failed)
def on_remote_failed(sender, receiver, plugin, delivery, error, **kwargs):
    record(event="failed", receiver=receiver, plugin=plugin, id=delivery.delivery_id,
           error=str(error), attempt=delivery.attempt)
"""

OTHER = """
from hookwire.remote import remote_receiver
from rshop import order_placed, record


@remote_receiver(order_placed, sender="rshop:Store", queue="texts")
def other(sender, n, **kwargs):
    record(event="other", n=n)
"""


def _project(
    root: Path, name: str, module: str, files: dict[str, str], plugin: str | None = None
) -> Path:
    """A project folder for ``name`` with the package ``module``, offering it as ``plugin``."""
    folder = root / name
    (folder / module).mkdir(parents=True)
    for relative, source in files.items():
        (folder / module / relative).write_text(textwrap.dedent(source), encoding="utf-8")
    entry_points = {"rshop.plugins": {plugin: module}} if plugin else None
    (folder / "pyproject.toml").write_text(
        hatchling_pyproject(name, entry_points=entry_points), encoding="utf-8"
    )
    return folder


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, hookwire_wheel: Path) -> Venv:
    require_redis_server()
    root = tmp_path_factory.mktemp("remote")
    venv = create_venv(root / "venv", wheels=[hookwire_wheel])
    venv.install(
        _project(root, "rshop", "rshop", {"__init__.py": HOST}),
        _project(
            root, "rshop-texts", "rshop_texts", {"__init__.py": "", "signals.py": TEXTS},
            plugin="texts",
        ),
        _project(
            root, "rshop-other", "rshop_other", {"__init__.py": "", "signals.py": OTHER},
            plugin="other",
        ),
    )  # fmt: skip
    return venv


class Run:
    """One test's output file, environment, and the workers it started (stopped at the end)."""

    def __init__(self, venv: Venv, folder: Path, broker: str | None) -> None:
        self.venv = venv
        self.out = folder / "out.jsonl"
        self.out.touch()
        self.env = {
            "RSHOP_OUT": str(self.out),
            "HOOKWIRE_CACHE_DIR": str(folder / "cache"),
            "XDG_DATA_HOME": str(folder / "data"),
            "HOME": str(folder),
            "HOOKWIRE_BROKER_TIMEOUT": "2",
        }
        if broker:
            self.env["HOOKWIRE_BROKER_URL"] = broker
        self.home = folder
        self.workers: list[tuple[subprocess.Popen[str], Path]] = []

    def worker(self, *args: str) -> subprocess.Popen[str]:
        log = self.home / f"worker{len(self.workers)}.log"
        with log.open("w") as stderr:  # the worker writes to its own copy of the descriptor
            process = subprocess.Popen(
                [str(self.venv.bin / "hookwire"), "worker", "rshop:host", *args],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                text=True,
                env=clean_env(self.env),
                cwd=self.home,
            )
        self.workers.append((process, log))
        self.wait_for_log(process, "worker ready", timeout=60)
        return process

    def log(self, process: subprocess.Popen[str]) -> str:
        for candidate, path in self.workers:
            if candidate is process:
                return path.read_text(encoding="utf-8")
        raise LookupError(process)

    def wait_for_log(self, process: subprocess.Popen[str], text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log(process):
            assert process.poll() is None, self.log(process)
            assert time.monotonic() < deadline, f"no {text!r} in:\n{self.log(process)}"
            time.sleep(0.1)

    def send(self, code: str) -> subprocess.CompletedProcess[str]:
        prelude = "import asyncio, json, time\nimport rshop\nrshop.host.load()\n"
        result = self.venv.run(
            str(self.venv.python), "-c", prelude + textwrap.dedent(code),
            env=self.env, cwd=self.home, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result

    def records(self) -> list[dict[str, object]]:
        text = self.out.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def wait_for(self, predicate: object, timeout: float = 60) -> list[dict[str, object]]:
        deadline = time.monotonic() + timeout
        while True:
            records = self.records()
            if predicate(records):  # type: ignore[operator]
                return records
            assert time.monotonic() < deadline, records
            time.sleep(0.1)

    def stop(self, process: subprocess.Popen[str], how: int = signal.SIGTERM) -> int:
        process.send_signal(how)
        return process.wait(timeout=60)

    def close(self) -> None:
        for process, _ in self.workers:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def run_redis(venv: Venv, redis: RedisServer, tmp_path: Path) -> Iterator[Run]:
    redis.command("FLUSHALL")
    run = Run(venv, tmp_path, redis.url)
    yield run
    run.close()


def test_every_send_is_delivered_once_with_its_sender_and_others_plugins_are_rejected(
    run_redis: Run,
) -> None:
    worker = run_redis.worker("--concurrency", "2", "--disable", "other")
    sent = run_redis.send(
        """
        ids = []
        for n in range(30):
            responses = rshop.order_placed.send(sender=rshop.Store, n=n)
            ids.append([getattr(r, "delivery_id", r) for _, r in responses])
        rshop.order_placed.send(sender="web", n="str")
        rshop.order_placed.send(sender=7, n="int")
        print(json.dumps(ids))
        """
    )
    rows = json.loads(sent.stdout)
    # Local receivers ran in connect order around the remote ones, each send answered at once.
    assert all(row[0] == "local first" and row[-1] == "local after" for row in rows)
    assert all(len(row) == 5 for row in rows)  # local, text, log_any, other, local
    records = run_redis.wait_for(
        lambda rs: (
            sum(r["event"] == "done" for r in rs) == 30
            and sum(r["event"] == "any" for r in rs) == 32
        )
    )
    done = [r for r in records if r["event"] == "done"]
    assert sorted(r["n"] for r in done) == list(range(30))
    dispatched = {entry for row in rows for entry in row[1:-1]}
    assert len({r["id"] for r in done}) == 30
    assert {r["id"] for r in done} <= dispatched
    starts = [r for r in records if r["event"] == "start"]
    assert {(r["sender"], r["attempt"], r["host"]) for r in starts} == {("Store", 1, "rshop")}
    anys = {r["n"]: (r["sender"], r["kind"]) for r in records if r["event"] == "any"}
    assert anys["str"] == ("web", "str")
    assert anys["int"] == (7, "int")
    assert anys[0] == ("Store", "type")
    # The plugin disabled on this worker connected `other` in the sender: its 30 messages are
    # rejected and logged, never run.
    run_redis.wait_for_log(worker, "rejected message", timeout=30)
    time.sleep(1)
    assert not [r for r in records if r["event"] == "other"]
    log = run_redis.log(worker)
    assert log.count("rejected message") == 30, log
    assert "rshop_other.signals.other" in log
    assert run_redis.stop(worker) == 143


def test_a_pool_process_killed_mid_receiver_gets_the_message_again_and_it_completes(
    run_redis: Run,
) -> None:
    worker = run_redis.worker("--concurrency", "1", "--disable", "other")
    run_redis.send('rshop.order_placed.send(sender=rshop.Store, n="slow")')
    started = run_redis.wait_for(lambda rs: any(r["event"] == "start" for r in rs))
    # Other receivers of the same send (log_any) may have written their records first.
    first = next(r for r in started if r["event"] == "start")
    os.kill(int(first["pid"]), signal.SIGKILL)  # type: ignore[call-overload]
    records = run_redis.wait_for(lambda rs: any(r["event"] == "done" for r in rs), timeout=90)
    starts = [r for r in records if r["event"] == "start"]
    assert len(starts) == 2
    assert {r["id"] for r in starts} == {first["id"]}
    assert starts[1]["pid"] != first["pid"]
    assert [r["id"] for r in records if r["event"] == "done"] == [first["id"]]
    assert run_redis.stop(worker, signal.SIGINT) == 130


def test_a_failing_receiver_is_retried_then_logged_and_announced_with_its_delivery_id(
    run_redis: Run,
) -> None:
    worker = run_redis.worker("--pool", "threads", "--disable", "other", "--queue", "texts")
    run_redis.send('rshop.order_placed.send(sender=rshop.Store, n="fail")')
    records = run_redis.wait_for(lambda rs: any(r["event"] == "failed" for r in rs))
    starts = [r for r in records if r["event"] == "start"]
    assert [r["attempt"] for r in starts] == [1, 2]  # max_retries=1
    (failed,) = [r for r in records if r["event"] == "failed"]
    assert failed["id"] == starts[0]["id"] == starts[1]["id"]
    assert failed["plugin"] == "texts"
    assert failed["receiver"] == "rshop_texts.signals.text"
    assert failed["error"] == "the phone is off"
    run_redis.wait_for_log(worker, "failed for good", timeout=10)
    line = next(x for x in run_redis.log(worker).splitlines() if "failed for good" in x)
    assert "plugin texts" in line
    assert str(failed["id"]) in line
    assert run_redis.stop(worker) == 143


def test_with_redis_stopped_publishing_fails_in_bounded_time_and_local_receivers_run(
    venv: Venv, tmp_path: Path
) -> None:
    server = RedisServer(tmp_path / "redis").start()
    url = server.url
    server.stop()
    run = Run(venv, tmp_path, url)
    run.env["HOOKWIRE_BROKER_TIMEOUT"] = "1"
    bound = 3  # seconds: three remote receivers, each given up on after the 1-second timeout
    result = run.send(
        """
        from hookwire.exceptions import RemoteDispatchError
        started = time.monotonic()
        responses = rshop.order_placed.send_robust(sender=rshop.Store, n=1)
        robust = time.monotonic() - started
        kinds = [type(r).__name__ if isinstance(r, Exception) else r for _, r in responses]
        started = time.monotonic()
        try:
            rshop.order_placed.send(sender=rshop.Store, n=2)
        except RemoteDispatchError as exc:
            raised = [type(exc).__name__, exc.receiver, time.monotonic() - started]

        async def main():
            ticks = 0
            async def tick():
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.02)
                    ticks += 1
            ticker = asyncio.create_task(tick())
            responses = await rshop.order_placed.asend_robust(sender=rshop.Store, n=3)
            ticker.cancel()
            return ticks, [type(r).__name__ for _, r in responses]

        ticks, async_kinds = asyncio.run(main())
        print(json.dumps([robust, kinds, raised, ticks, async_kinds]))
        """
    )
    robust, kinds, raised, ticks, async_kinds = json.loads(result.stdout)
    assert robust < bound
    assert kinds == [
        "local first", "RemoteDispatchError", "RemoteDispatchError", "RemoteDispatchError",
        "local after",
    ]  # fmt: skip
    assert raised[:2] == ["RemoteDispatchError", "rshop_other.signals.other"]
    assert raised[2] < bound
    # The event loop kept running while asend_robust waited for the broker.
    assert ticks >= 10
    assert async_kinds[1:4] == ["RemoteDispatchError"] * 3


def test_with_no_broker_configured_run_and_worker_meet_in_the_embedded_default(
    venv: Venv, tmp_path: Path
) -> None:
    run = Run(venv, tmp_path, None)
    try:
        worker = run.worker("--pool", "solo", "--disable", "other")
        assert "embedded default" in run.log(worker)
        result = run.send(
            """
            rshop.order_placed.send(sender=rshop.Store, n=1)

            async def main():
                return await rshop.order_placed.asend(sender=rshop.Store, n=2)

            responses = asyncio.run(main())
            print(type(responses[1][1]).__name__)
            """
        )
        assert result.stdout.strip() == "Dispatched"
        records = run.wait_for(lambda rs: sum(r["event"] == "done" for r in rs) == 2)
        assert sorted(r["n"] for r in records if r["event"] == "done") == [1, 2]
        assert (tmp_path / "data" / "hookwire" / "broker" / "rshop").is_dir()
        assert run.stop(worker) == 143
    finally:
        run.close()


@pytest.mark.parametrize(
    ("signum", "status", "line"),
    [(signal.SIGINT, 130, "hookwire: interrupted"), (signal.SIGTERM, 143, "hookwire: terminated")],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_worker_stopped_by_a_signal_ends_with_the_line_every_command_prints(
    venv: Venv, tmp_path: Path, signum: int, status: int, line: str
) -> None:
    run = Run(venv, tmp_path, None)
    try:
        worker = run.worker("--pool", "solo", "--disable", "other")
        assert run.stop(worker, signum) == status
        assert run.log(worker).splitlines()[-1] == line
    finally:
        run.close()


def test_signals_json_marks_remote_receivers_with_engine_and_queue(
    venv: Venv, tmp_path: Path
) -> None:
    import jsonschema

    run = Run(venv, tmp_path, None)
    result = venv.run("hookwire", "signals", "rshop:host", "--json", env=run.env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    schema = json.loads((ROOT / "docs/schemas/signals.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    (placed,) = [s for s in data if s["signal"] == "rshop.order_placed"]
    remote = {r["receiver"]: (r["remote"], r["plugin"], r["weak"]) for r in placed["receivers"]}
    assert remote == {
        "rshop.local_first": (None, None, False),
        "rshop_texts.signals.text": ({"engine": "celery", "queue": "texts"}, "texts", False),
        "rshop_texts.signals.log_any": ({"engine": "celery", "queue": "hookwire"}, "texts", False),
        "rshop_texts.signals.local_after": (None, "texts", True),
        "rshop_other.signals.other": ({"engine": "celery", "queue": "texts"}, "other", False),
    }
    table = venv.run("hookwire", "signals", "rshop:host", env=run.env, cwd=tmp_path)
    assert "remote:celery/texts" in table.stdout
