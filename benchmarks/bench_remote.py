"""Remote receivers benchmark, against a real ``redis-server`` on loopback, in one run:

1. **publish**: the cost in the sending process of one ``send()`` whose only receiver is a remote
   receiver (checks, JSON, one message to Redis) against Celery's own ``task.apply_async`` of the
   same payload on the same broker (goal: at most 1.15x);
2. **throughput**: sends per second from the first publish to the last receiver done, with
   ``hookwire worker`` running 1 and then 2 pool processes;
3. **latency**: p50 / p99 from ``send()`` to the receiver starting on a worker, sends paced so
   that the queue stays short;
4. **embedded default broker** (no server): the same publish cost, throughput (1 pool process)
   and latency through the folder broker, and Celery's ``apply_async`` through kombu's own
   filesystem transport (what the embedded default was before) for comparison.

Run: ``python benchmarks/bench_remote.py [--quick] [--json [PATH]]`` (needs ``redis-server`` and
the ``hookwire[celery]`` extra).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import _benchutil as bu

HOST_MODULE = """
from hookwire import Host, Signal

order_placed = Signal(name="order_placed")
host = Host("benchhost", signals=[order_placed])
"""

PLUGIN_SIGNALS = """
import os
import time

from hookwire.remote import remote_receiver
from benchhost import order_placed


@remote_receiver(order_placed, queue="bench", max_retries=0)
def record(sender, sent_at, **kwargs):
    started = time.time()
    line = f"{sent_at!r} {started!r} {time.time()!r}\\n"
    fd = os.open(os.environ["BENCH_OUT"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
"""

PAYLOAD = {"order_id": 1234, "phone": "+39 06 555 0100", "items": ["margherita", "diavola"]}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    program = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    process = subprocess.Popen(
        [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not start")


def write_site(site: Path) -> None:
    (site / "benchhost.py").write_text(textwrap.dedent(HOST_MODULE), encoding="utf-8")
    package = site / "bench_plugin"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "signals.py").write_text(textwrap.dedent(PLUGIN_SIGNALS), encoding="utf-8")
    dist_info = site / "bench_plugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: bench-plugin\nVersion: 1.0\n", encoding="utf-8"
    )
    (dist_info / "entry_points.txt").write_text(
        "[benchhost.plugins]\nbench = bench_plugin\n", encoding="utf-8"
    )


def measure_publish(rounds: int, per_round: int) -> dict[str, float]:
    """Best mean per operation, in microseconds, of hookwire's send and Celery's apply_async."""
    import benchhost
    from celery import Celery

    from hookwire.remote._broker import app_for

    benchhost.host.load()
    hookwire_app, _ = app_for(benchhost.host)
    plain = Celery("plain", broker=hookwire_app.conf.broker_url, set_as_current=False)
    plain.conf.update(task_serializer="json", accept_content=["json"], task_ignore_result=True)
    return _publish_costs(plain, "celery", rounds, per_round)


def measure_embedded_publish(rounds: int, per_round: int, folder: Path) -> dict[str, float]:
    """Best mean per operation, in microseconds, of hookwire's send on the embedded default
    broker and of Celery's apply_async on kombu's filesystem transport."""
    import benchhost
    from celery import Celery

    benchhost.host.load()
    old = folder / "kombu-filesystem"
    for sub in ("queue", "processed", "control"):
        (old / sub).mkdir(parents=True, exist_ok=True)
    plain = Celery("plain-fs", broker="filesystem://", set_as_current=False)
    plain.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_transport_options={
            "data_folder_in": str(old / "queue"),
            "data_folder_out": str(old / "queue"),
            "processed_folder": str(old / "processed"),
            "control_folder": str(old / "control"),
            "store_processed": False,
        },
    )
    return _publish_costs(plain, "kombu_filesystem", rounds, per_round)


def _publish_costs(plain: Any, label: str, rounds: int, per_round: int) -> dict[str, float]:
    """Best mean per operation, in microseconds, of hookwire's send on the loaded bench host
    (as ``"hookwire"``) and of ``apply_async`` of the same payload on the Celery app ``plain``
    (as ``label``), after a warm-up of each."""
    import benchhost

    @plain.task(name="plain.record", ignore_result=True)
    def plain_record(**kwargs: Any) -> None:
        pass

    signal = benchhost.order_placed

    def hookwire_send() -> None:
        signal.send(sender=None, sent_at=0.0, **PAYLOAD)

    def plain_apply() -> None:
        plain_record.apply_async(kwargs={"sent_at": 0.0, **PAYLOAD}, queue="plain")

    operations = {"hookwire": hookwire_send, label: plain_apply}
    for warm in operations.values():
        for _ in range(50):
            warm()
    best = dict.fromkeys(operations, float("inf"))
    for _ in range(rounds):
        for name, operation in operations.items():
            started = time.perf_counter()
            for _ in range(per_round):
                operation()
            best[name] = min(best[name], (time.perf_counter() - started) / per_round * 1e6)
    return best


def read_lines(path: Path) -> list[tuple[float, float, float]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 3:
            rows.append((float(parts[0]), float(parts[1]), float(parts[2])))
    return rows


def start_worker(env: dict[str, str], processes: int, log: Path) -> subprocess.Popen[bytes]:
    hookwire = Path(sys.executable).with_name("hookwire")
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [str(hookwire), "worker", "benchhost:host", "-c", str(processes), "-Q", "bench"],
            stdout=subprocess.DEVNULL,
            stderr=out,
            env=env,
        )
    deadline = time.monotonic() + 60
    while b"worker ready" not in log.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"worker did not start:\n{log.read_text()}")
        time.sleep(0.05)
    return worker


def wait_for(path: Path, count: int, timeout: float = 300) -> list[tuple[float, float, float]]:
    deadline = time.monotonic() + timeout
    while True:
        rows = read_lines(path)
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)


def measure_worker(
    env: dict[str, str], folder: Path, processes: int, sends: int, paced: int, label: str = ""
) -> dict[str, float]:
    import benchhost

    out = folder / f"out{label}-{processes}.txt"
    env = {**env, "BENCH_OUT": str(out)}
    os.environ["BENCH_OUT"] = str(out)
    worker = start_worker(env, processes, folder / f"worker{label}-{processes}.log")
    try:
        signal = benchhost.order_placed
        first = time.time()
        for _ in range(sends):
            signal.send(sender=None, sent_at=time.time(), **PAYLOAD)
        rows = wait_for(out, sends)
        throughput = len(rows) / (max(done for _, _, done in rows) - first)
        out.unlink()
        for _ in range(paced):
            signal.send(sender=None, sent_at=time.time(), **PAYLOAD)
            time.sleep(0.01)
        paced_rows = wait_for(out, paced)
        latencies = sorted((start - sent) * 1e3 for sent, start, _ in paced_rows)
        p99_index = min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))
        return {
            "sends": float(sends),
            "throughput_per_s": throughput,
            "latency_p50_ms": statistics.median(latencies),
            "latency_p99_ms": latencies[p99_index],
        }
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few operations: a smoke run")
    parser.add_argument("--json", nargs="?", const="-", metavar="PATH")
    args = parser.parse_args(argv)
    rounds, per_round = (3, 100) if args.quick else (7, 2000)
    sends, paced = (40, 20) if args.quick else (2000, 300)

    scratch = Path(os.environ.get("HOOKWIRE_BENCH_DIR") or tempfile.mkdtemp(prefix="bench-remote-"))
    scratch.mkdir(parents=True, exist_ok=True)
    site = Path(tempfile.mkdtemp(prefix="site-", dir=scratch))
    write_site(site)
    # The workers import hookwire as this process does (a checkout on PYTHONPATH included).
    python_path = os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])])
    os.environ["HOOKWIRE_CACHE_DIR"] = str(scratch / "cache")
    os.environ["XDG_DATA_HOME"] = str(scratch / "data")
    os.environ["XDG_STATE_HOME"] = str(scratch / "state")  # the workers' attempt records
    sys.path.insert(0, str(site))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "HOOKWIRE_"))}
    base_env.update(HOOKWIRE_CACHE_DIR=str(scratch / "cache"), PYTHONPATH=python_path)
    embedded_publish = measure_embedded_publish(rounds, per_round, scratch)
    # The publish runs' messages must not be served to the workers measured next.
    shutil.rmtree(scratch / "data" / "hookwire" / "broker", ignore_errors=True)
    from hookwire.remote import _broker

    embedded_worker = measure_worker(base_env, scratch, 1, sends, paced, label="-embedded")
    _broker._apps.clear()  # the next sends go to Redis
    redis, port = start_redis(scratch)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        os.environ["HOOKWIRE_BROKER_URL"] = url
        env = {**base_env, "HOOKWIRE_BROKER_URL": url}
        publish = measure_publish(rounds, per_round)
        import redis as redis_client

        redis_client.Redis(port=port).flushall()  # the publish runs' messages must not be served
        workers = {n: measure_worker(env, scratch, n, sends, paced) for n in (1, 2)}
    finally:
        redis.terminate()
        redis.wait(timeout=30)

    ratio = publish["hookwire"] / publish["celery"]
    report = {
        "publish_us": publish,
        "publish_ratio": ratio,
        "publish_goal": 1.15,
        "workers": {str(n): figures for n, figures in workers.items()},
        "embedded": {"publish_us": embedded_publish, "worker": embedded_worker},
        "quick": args.quick,
    }
    lines = [
        "| measure | hookwire | Celery `apply_async` | ratio (goal <= 1.15) |",
        "|---|---|---|---|",
        f"| publish one message (us/send) | {publish['hookwire']:.1f} | "
        f"{publish['celery']:.1f} | {ratio:.2f}x {'ok' if ratio <= 1.15 else 'MISSED'} |",
        "",
        "| worker processes | throughput (sends/s) | latency p50 (ms) | latency p99 (ms) |",
        "|---|---|---|---|",
    ]
    for n, figures in workers.items():
        lines.append(
            f"| {n} | {figures['throughput_per_s']:.0f} | {figures['latency_p50_ms']:.1f} | "
            f"{figures['latency_p99_ms']:.1f} |"
        )
    lines += [
        "",
        "| embedded default broker | hookwire | kombu filesystem `apply_async` |",
        "|---|---|---|",
        f"| publish one message (us/send) | {embedded_publish['hookwire']:.1f} | "
        f"{embedded_publish['kombu_filesystem']:.1f} |",
        "",
        "| embedded, 1 worker process | throughput (sends/s) | latency p50 (ms) | "
        "latency p99 (ms) |",
        "|---|---|---|---|",
        f"| 1 | {embedded_worker['throughput_per_s']:.0f} | "
        f"{embedded_worker['latency_p50_ms']:.1f} | {embedded_worker['latency_p99_ms']:.1f} |",
    ]
    bu.write_results(args.json, report, "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
