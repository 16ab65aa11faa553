"""The broker side of remote receivers, as an unlucky operator meets it: the embedded default
broker with real ``hookwire worker`` processes killed, fed huge messages, a full disk and a
read-only folder (on a small tmpfs), and the publish bound against a paused real Redis and a
listener that never answers, for plain and concurrent async sends."""

from __future__ import annotations

import asyncio
import ctypes
import errno
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redistools import RedisServer
from test_remote_e2e import HOST, Run, _project
from venvtools import PluginSite, Venv, clean_env, create_venv

pytest.importorskip("celery", reason="the hookwire[celery] extra is not installed")

from hookwire import Signal, receiver
from hookwire.exceptions import RemoteDispatchError
from hookwire.remote import Dispatched, remote_receiver

WORK = """
import os
import time

from hookwire.remote import current_delivery, remote_receiver
from rshop import order_placed, record


# One retry: the run a killed worker never finished counts as an attempt, and the next worker
# runs it again as the second (with no retries left it would end as a final failure).
@remote_receiver(order_placed, sender="rshop:Store", queue="work", max_retries=1)
def work(sender, n, blob="", hold=False, **kwargs):
    delivery = current_delivery()
    marker = os.path.join(os.environ["RSHOP_MARKS"], delivery.delivery_id)
    held_before = os.path.exists(marker)
    record(event="start", n=n, id=delivery.delivery_id, pid=os.getpid(), size=len(blob),
           attempt=delivery.attempt,
           whole=blob == "x" * len(blob))
    if hold and not held_before:
        open(marker, "w").close()
        while True:  # until the test kills this worker
            time.sleep(0.05)
    record(event="done", n=n, id=delivery.delivery_id)
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, hookwire_wheel: Path) -> Venv:
    root = tmp_path_factory.mktemp("broker")
    venv = create_venv(root / "venv", wheels=[hookwire_wheel])
    venv.install(
        _project(root, "rshop", "rshop", {"__init__.py": HOST}),
        _project(
            root, "rshop-work", "rshop_work", {"__init__.py": "", "signals.py": WORK},
            plugin="work",
        ),
    )  # fmt: skip
    return venv


@pytest.fixture
def run(venv: Venv, tmp_path: Path) -> Iterator[Run]:
    """A run on the embedded default broker (no broker configured)."""
    run = Run(venv, tmp_path, None)
    (tmp_path / "marks").mkdir()
    run.env["RSHOP_MARKS"] = str(tmp_path / "marks")
    yield run
    run.close()


def _broker_folder(data: Path) -> Path:
    return data / "hookwire" / "broker" / "rshop"


def _events(records: list[dict[str, object]], event: str) -> list[dict[str, object]]:
    return [r for r in records if r["event"] == event]


def test_a_worker_killed_while_running_a_message_leaves_it_to_the_next_worker(run: Run) -> None:
    first = run.worker("--pool", "solo")
    run.send(
        """
        for n in range(3):
            rshop.order_placed.send(sender=rshop.Store, n=n, hold=n == 0)
        """
    )
    held = run.wait_for(lambda rs: any(r["event"] == "start" and r["n"] == 0 for r in rs))
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    run.worker("--pool", "solo")
    records = run.wait_for(lambda rs: len(_events(rs, "done")) == 3)
    assert sorted(r["n"] for r in _events(records, "done")) == [0, 1, 2]
    (killed,) = [r for r in held if r["event"] == "start"]
    again = [r for r in _events(records, "start") if r["n"] == 0]
    assert len(again) == 2
    assert {r["id"] for r in again} == {killed["id"]}
    assert again[1]["pid"] != killed["pid"]
    assert [r["attempt"] for r in again] == [1, 2]
    # Nothing is left behind: no message taken by the dead worker, no queued message.
    folder = _broker_folder(Path(run.env["XDG_DATA_HOME"]))
    assert not list((folder / "queues").rglob("*.msg"))


@pytest.mark.slow
def test_twenty_messages_of_twenty_megabytes_sent_while_a_worker_polls_all_run_whole(
    run: Run,
) -> None:
    # What is checked here is that no message is read half-written, not the publish bound:
    # encoding and writing 20 MB while a worker reads the previous ones can take more than the
    # 2 s the other tests allow on a busy machine.
    run.env["HOOKWIRE_BROKER_TIMEOUT"] = "60"
    run.worker("--pool", "solo")
    run.send(
        """
        blob = "x" * (20 * 1024 * 1024)
        for n in range(20):
            rshop.order_placed.send(sender=rshop.Store, n=n, blob=blob)
        """
    )
    records = run.wait_for(lambda rs: len(_events(rs, "done")) == 20, timeout=240)
    starts = _events(records, "start")
    assert sorted(r["n"] for r in starts) == list(range(20))
    assert {(r["size"], r["whole"]) for r in starts} == {(20 * 1024 * 1024, True)}


IN_CREATE, IN_MOVED_TO = 0x100, 0x80


def _watch(folder: Path) -> int:
    """An inotify descriptor reporting files created in or moved into ``folder``."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0 or libc.inotify_add_watch(fd, os.fsencode(folder), IN_CREATE | IN_MOVED_TO) < 0:
        pytest.skip(f"inotify is not available: {os.strerror(ctypes.get_errno())}")
    return int(fd)


def _names_seen(fd: int) -> list[str]:
    names = []
    try:
        data = os.read(fd, 65536)
    except BlockingIOError:
        return names
    offset = 0
    while offset < len(data):
        length = int.from_bytes(data[offset + 12 : offset + 16], sys.byteorder)
        raw = data[offset + 16 : offset + 16 + length]
        names.append(raw.rstrip(b"\0").decode(errors="replace"))
        offset += 16 + length
    return names


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="watches the temp folder with inotify")
def test_messages_stay_private_in_the_broker_folder_and_never_pass_through_the_temp_folder(
    run: Run, tmp_path: Path
) -> None:
    temp = tmp_path / "shared-tmp"
    temp.mkdir()
    run.env["TMPDIR"] = str(temp)
    run.send("rshop.order_placed.send(sender=rshop.Store, n='secret')")
    folder = _broker_folder(Path(run.env["XDG_DATA_HOME"]))
    queued = list(folder.rglob("*.msg"))
    assert len(queued) == 1
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    watch = _watch(temp)
    try:
        worker = run.worker("--pool", "solo")
        run.wait_for(lambda rs: len(_events(rs, "done")) == 1)
        assert run.stop(worker) == 143
        seen = _names_seen(watch)
    finally:
        os.close(watch)
    assert not [name for name in seen if name.endswith(".msg")], seen


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, unmounted at the end; skipped only where nothing can be mounted."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs Linux and root")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def _start_worker(run: Run, log: Path) -> subprocess.Popen[str]:
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [str(run.venv.bin / "hookwire"), "worker", "rshop:host", "--pool", "solo"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
            env=clean_env(run.env),
            cwd=run.home,
        )
    run.workers.append((process, log))
    return process


def _ready_or_exited(process: subprocess.Popen[str], log: Path, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while "worker ready" not in log.read_text(encoding="utf-8"):
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
        time.sleep(0.05)
    return True


SEND_REPORTING = """
from hookwire.exceptions import RemoteDispatchError
def attempt(**named):
    try:
        response = rshop.order_placed.send(sender=rshop.Store, **named)[1][1]
    except RemoteDispatchError as exc:
        return ["RemoteDispatchError", str(exc)]
    return [type(response).__name__, None]
"""


def _fill(path: Path) -> None:
    """Write ``path`` until the file system has no space left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
    finally:
        os.close(fd)


@pytest.mark.slow
def test_a_full_disk_fails_the_send_leaves_no_files_and_stops_no_later_worker(
    run: Run, small_tmpfs: Path
) -> None:
    run.env["XDG_DATA_HOME"] = str(small_tmpfs)
    result = run.send(
        SEND_REPORTING
        + 'print(json.dumps([attempt(n="small"), attempt(n="big", blob="x" * 3_000_000)]))'
    )
    small, big = json.loads(result.stdout)
    assert small == ["Dispatched", None]
    assert big[0] == "RemoteDispatchError", big
    folder = _broker_folder(small_tmpfs)
    assert str(folder) in big[1]
    assert "No space left on device" in big[1]
    # No empty or truncated message files: only the small one is queued.
    assert os.listdir(folder / "incoming") == []
    (queued,) = (folder / "queues" / "work").iterdir()
    assert queued.stat().st_size > 0
    # A worker started while the disk is full either starts or says why in one line; once
    # space is free, the next worker starts and runs what is queued.
    filler = small_tmpfs / "filler"
    _fill(filler)
    full = _start_worker(run, run.home / "full.log")
    if _ready_or_exited(full, run.home / "full.log"):
        run.stop(full)
    filler.unlink()
    later = _start_worker(run, run.home / "later.log")
    assert _ready_or_exited(later, run.home / "later.log"), (run.home / "later.log").read_text()
    records = run.wait_for(lambda rs: len(_events(rs, "done")) == 1)
    assert [r["n"] for r in _events(records, "done")] == ["small"]
    assert run.stop(later) == 143


def test_a_read_only_broker_folder_is_one_line_for_the_sender_and_for_the_worker(
    run: Run, small_tmpfs: Path
) -> None:
    run.env["XDG_DATA_HOME"] = str(small_tmpfs)
    run.send("rshop.order_placed.send(sender=rshop.Store, n=1)")  # the folder exists
    remount = subprocess.run(
        ["mount", "-o", "remount,ro", str(small_tmpfs)], capture_output=True, text=True
    )
    assert remount.returncode == 0, remount.stderr
    result = run.send(SEND_REPORTING + "print(json.dumps(attempt(n=2)))")
    kind, message = json.loads(result.stdout)
    folder = _broker_folder(small_tmpfs)
    assert kind == "RemoteDispatchError"
    assert f"the broker folder {folder} cannot be written: a read-only file system" in message
    assert "AttributeError" not in message
    worker = subprocess.run(
        [str(run.venv.bin / "hookwire"), "worker", "rshop:host"],
        capture_output=True,
        text=True,
        env=clean_env(run.env),
        cwd=run.home,
        timeout=60,
    )
    assert worker.returncode == 1
    assert worker.stderr.splitlines() == [
        f"hookwire: error: worker for host rshop: no broker: the broker folder {folder} "
        "cannot be written: a read-only file system"
    ]


# -- in the sending process ----------------------------------------------------------------


@pytest.fixture
def fresh_apps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No Celery application cached from another test, and no host another test loaded (a
    receiver loaded by no host publishes through the newest host alive): this test's
    environment only."""
    from hookwire.remote import _broker

    monkeypatch.setattr(_broker, "_apps", {})
    monkeypatch.setattr(_broker, "_hosts", [])
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("HOOKWIRE_BROKER_URL", raising=False)
    monkeypatch.chdir(tmp_path)


def _remote_signal(queue: str = "bound") -> Signal:
    signal = Signal(name="bounded")

    @receiver(signal, weak=False)
    def local(sender: object, **kwargs: object) -> str:
        return "local"

    @remote_receiver(signal, queue=queue)
    def remote(sender: object, **kwargs: object) -> None:
        raise AssertionError("runs on a worker only")

    return signal


@pytest.mark.usefixtures("hookwire_isolation", "fresh_apps")
def test_files_in_a_queue_that_are_not_messages_are_dropped_and_logged_and_the_next_is_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from hookwire.remote._broker import app_for

    signal = _remote_signal()
    signal.send(sender=None, n=1)
    app, _ = app_for(None)
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        queue = channel.folder / "queues" / "bound"
        (queue / f"{0:020d}-{'0' * 32}.0.msg").write_bytes(b"")
        (queue / f"{1:020d}-{'1' * 32}.0.msg").write_bytes(b'{"body": 3}')
        (queue / f"{2:020d}-{'2' * 32}.0.msg").write_bytes(b"\xff\xfe not json")
        message = channel.basic_get("bound")
        assert message is not None
        assert json.loads(message.body)[1]["kwargs"] == {"n": 1}
        message.ack()
        assert channel.basic_get("bound") is None
    dropped = [r.getMessage() for r in caplog.records if "dropped an unreadable" in r.getMessage()]
    assert len(dropped) == 3
    assert not list(queue.iterdir())
    assert not list((channel.folder / "taken").rglob("*.msg"))


@pytest.fixture
def stopping_worker() -> Iterator[None]:
    """This process's worker said to be shutting down, and said to be starting again after."""
    from hookwire.remote._embedded import worker_stopping

    try:
        yield
    finally:
        worker_stopping(False)


@pytest.mark.usefixtures("hookwire_isolation", "fresh_apps", "stopping_worker")
def test_once_the_worker_is_shutting_down_a_wait_for_messages_takes_none_and_ends() -> None:
    """The embedded broker stops a worker's wait at its next poll when the worker begins to
    shut down, instead of after the two seconds Celery's loop waits (twice) before acting."""
    from hookwire.remote._broker import app_for
    from hookwire.remote._embedded import worker_stopping

    signal = _remote_signal()
    app, _ = app_for(None)
    delivered: list[object] = []
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        channel.basic_consume("bound", False, lambda message: delivered.append(message), "tag")
        wait_ended = threading.Event()

        def wait() -> None:
            with pytest.raises(TimeoutError):
                connection.drain_events(timeout=120)
            wait_ended.set()

        waiting = threading.Thread(target=wait, daemon=True)
        waiting.start()
        time.sleep(0.3)  # a few polls into the wait, with nothing to take
        worker_stopping(True)
        assert wait_ended.wait(timeout=30), "the wait went on after the worker began to stop"
        waiting.join(timeout=30)
        # Shutting down, nothing queued is taken any more: it stays for the next worker.
        signal.send(sender=None, n=1)
        with pytest.raises(TimeoutError):
            connection.drain_events(timeout=120)
        assert delivered == []
        assert len(list((channel.folder / "queues" / "bound").iterdir())) == 1
        # A worker starting again in this process takes it.
        worker_stopping(False)
        connection.drain_events(timeout=30)
        assert len(delivered) == 1


@pytest.fixture
def paused_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.command("CLIENT", "UNPAUSE")
        server.stop()


@pytest.fixture
def silent_broker() -> Iterator[str]:
    """A listener on loopback that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


@pytest.mark.usefixtures("hookwire_isolation", "fresh_apps")
def test_with_redis_writes_paused_a_send_fails_within_the_one_deadline(
    paused_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKWIRE_BROKER_URL", paused_redis.url)
    monkeypatch.setenv("HOOKWIRE_BROKER_TIMEOUT", "1")
    signal = _remote_signal()
    assert isinstance(signal.send(sender=None, n=1)[1][1], Dispatched)
    assert paused_redis.command("CLIENT", "PAUSE", "30000", "WRITE").startswith(b"+OK")
    started = time.monotonic()
    # Either end of the one bound may speak first: the waiting send ("within 1s") or the
    # publishing thread, whose Redis read timed out at the same deadline ("after 1.0s").
    bound = r"the broker did not take the message (within 1s|\(after 1\.0s\))"
    with pytest.raises(RemoteDispatchError, match=bound):
        signal.send(sender=None, n=2)
    assert time.monotonic() - started < 1.5


@pytest.mark.usefixtures("hookwire_isolation", "fresh_apps")
def test_with_a_silent_broker_sends_and_concurrent_async_sends_each_keep_their_bound(
    silent_broker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKWIRE_BROKER_URL", silent_broker)
    monkeypatch.setenv("HOOKWIRE_BROKER_TIMEOUT", "1")
    signal = _remote_signal()
    started = time.monotonic()
    responses = signal.send_robust(sender=None, n=0)
    assert time.monotonic() - started < 1.5
    assert responses[0][1] == "local"
    assert isinstance(responses[1][1], RemoteDispatchError)

    async def timed(robust: bool) -> tuple[float, object]:
        began = time.monotonic()
        try:
            send = signal.asend_robust if robust else signal.asend
            outcome: object = (await send(sender=None, n=1))[1][1]
        except RemoteDispatchError as exc:
            outcome = exc
        return time.monotonic() - began, outcome

    async def together() -> list[tuple[float, object]]:
        return await asyncio.gather(*(timed(robust=n % 2 == 0) for n in range(6)))

    started = time.monotonic()
    outcomes = asyncio.run(together())
    assert time.monotonic() - started < 1.8
    assert all(isinstance(outcome, RemoteDispatchError) for _, outcome in outcomes)
    assert max(elapsed for elapsed, _ in outcomes) < 1.8


def test_partial_messages_left_by_killed_senders_are_swept_once_stale(tmp_path: Path) -> None:
    from hookwire.remote._embedded import STALE_PART_AGE, remove_stale_parts

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    old, fresh, other = incoming / "a.part", incoming / "b.part", incoming / "c.msg"
    for path in (old, fresh, other):
        path.write_bytes(b"{")
    now = time.time()
    aged = now - STALE_PART_AGE - 60
    os.utime(old, (aged, aged))
    os.utime(other, (aged, aged))
    assert remove_stale_parts(tmp_path, now) == 1
    assert sorted(p.name for p in incoming.iterdir()) == ["b.part", "c.msg"]
    assert remove_stale_parts(tmp_path / "missing", now) == 0


def test_worker_traceback_shows_each_failed_plugins_traceback_before_its_line(
    plugin_site: PluginSite, tmp_path: Path
) -> None:
    """``hookwire worker --traceback`` (and ``hookwire --traceback worker``) print what a
    failing plugin raised, then the line naming it, as ``run`` does."""
    plugin_site.add("kshop", modules={"kshop.py": KSHOP})
    plugin_site.add(
        "kshop-kaput",
        entry_points={"kshop.plugins": {"kaput": "kshop_kaput"}},
        modules={"kshop_kaput.py": 'raise ValueError("kaput")\n'},
    )
    # A data folder that is a file: the worker stops at its broker, after loading.
    (tmp_path / "not-a-folder").touch()
    env = clean_env(
        {
            "PYTHONPATH": str(plugin_site.path),
            "HOME": str(tmp_path),
            "XDG_DATA_HOME": str(tmp_path / "not-a-folder"),
        }
    )
    for args in (["worker", "kshop:host", "--traceback"], ["--traceback", "worker", "kshop:host"]):
        result = subprocess.run(
            [sys.executable, "-m", "hookwire", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )
        assert result.returncode == 1, result.stderr
        lines = result.stderr.splitlines()
        warning = lines.index(
            "hookwire: warning: plugin kaput (kshop-kaput 1.0), import phase: "
            f"ValueError: kaput (at {plugin_site.path / 'kshop_kaput.py'}:1)"
        )
        assert lines[0] == "Traceback (most recent call last):"
        assert '    raise ValueError("kaput")' in lines[:warning]
        assert lines[warning - 1] == "ValueError: kaput"
        assert lines[-1].startswith("hookwire: error: worker for host kshop: no broker: ")


KSHOP = """
from hookwire import Host

host = Host("kshop", entry_point_group="kshop.plugins")
"""
