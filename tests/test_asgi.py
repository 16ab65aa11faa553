"""hookwire.asgi: a host inside FastAPI and plain ASGI apps, served by a real uvicorn.

One fresh venv for the module: hookwire's wheel and two plugin projects pip-installed into it
(``shop-audit``, which logs the host's life and the orders it sees to a file, and
``shop-broken``, which fails to import); the frameworks come from the test environment.
Servers listen on 127.0.0.1 on a free port, and every test stops the server it started.
The lifespan protocol's edge cases are driven in-process at the end, message by message.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from venvtools import Venv, clean_env, create_venv, hatchling_pyproject, write_project

from hookwire import Host
from hookwire import signals as lifecycle
from hookwire.asgi import HookwireMiddleware, HostState, lifespan

pytestmark = pytest.mark.e2e

SIGNALS = """
from hookwire import Signal

order_placed = Signal(name="order_placed", doc="An order was placed.")
"""

FASTAPI_APP = """
from fastapi import FastAPI, Request

import shopsignals
from hookwire import Host
from hookwire.asgi import HookwireMiddleware, lifespan

host = Host("shop", signals=[shopsignals])
app = FastAPI(lifespan=lifespan(host))
app.add_middleware(HookwireMiddleware)


@app.get("/order/{name}")
async def order(name: str, request: Request):
    responses = await shopsignals.order_placed.asend(sender="web", order=name)
    registry = request.state.hookwire.registry
    return {
        "answers": [answer for _, answer in responses],
        "plugins": {record.name: record.state.value for record in registry},
    }
"""

PLAIN_APP = """
import json

import shopsignals
from hookwire import Host
from hookwire.asgi import HookwireMiddleware

host = Host("shop", signals=[shopsignals])


async def plain(scope, receive, send):
    if scope["type"] != "http":
        raise RuntimeError("this app speaks HTTP only")
    responses = await shopsignals.order_placed.asend(sender="plain", order="plain")
    body = json.dumps([answer for _, answer in responses]).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


app = HookwireMiddleware(plain, host=host)
"""

AUDIT = {
    "pyproject.toml": hatchling_pyproject(
        "shop-audit", "1.0", entry_points={"shop.plugins": {"audit": "shop_audit"}}
    ),
    "shop_audit/__init__.py": "",
    "shop_audit/signals.py": """
        import os
        import threading
        import time

        from hookwire import receiver
        from hookwire.signals import host_started, host_stopping
        from shopsignals import order_placed


        def log(line):
            with open(os.environ["SHOP_LOG"], "a", encoding="utf-8") as stream:
                stream.write(line + "\\n")


        @receiver(host_started)
        def on_started(sender, **kwargs):
            log("started")


        @receiver(host_stopping)
        def on_stopping(sender, exc=None, **kwargs):
            log(f"stopping {exc!r}")


        pair = threading.Barrier(2)


        @receiver(order_placed)
        def on_order(sender, order, **kwargs):
            log(f"order {order}")
            if order == "slow":
                release = os.environ["SHOP_RELEASE"]
                deadline = time.monotonic() + 30
                while not os.path.exists(release) and time.monotonic() < deadline:
                    time.sleep(0.01)
                log("slow done")
            if order.startswith("pair"):
                # Both requests' sync receivers must be running at once to pass.
                try:
                    pair.wait(timeout=5)
                except threading.BrokenBarrierError:
                    return "alone"
                return "together"
            return "ok"
    """,
}

BROKEN = {
    "pyproject.toml": hatchling_pyproject(
        "shop-broken", "0.1", entry_points={"shop.plugins": {"broken": "shop_broken"}}
    ),
    "shop_broken/__init__.py": """
        raise ImportError("no oven in this shop")
    """,
}


class World:
    """The venv and the folder the apps are served from."""

    def __init__(self, venv: Venv, workdir: Path) -> None:
        self.venv = venv
        self.workdir = workdir


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, hookwire_wheel: Path) -> World:
    root = tmp_path_factory.mktemp("asgi")
    venv = create_venv(root / "venv", wheels=[hookwire_wheel])
    venv.install(
        write_project(root / "shop-audit", AUDIT), write_project(root / "shop-broken", BROKEN)
    )
    workdir = root / "work"
    workdir.mkdir()
    (workdir / "shopsignals.py").write_text(SIGNALS, encoding="utf-8")
    (workdir / "shopweb.py").write_text(FASTAPI_APP, encoding="utf-8")
    (workdir / "plainweb.py").write_text(PLAIN_APP, encoding="utf-8")
    return World(venv, workdir)


class Server:
    """A uvicorn process and what it printed so far."""

    def __init__(self, process: subprocess.Popen[str], log: Path, release: Path) -> None:
        self.process = process
        self.log = log
        self.release = release
        self.lines: list[str] = []
        self.interrupted = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = "http://127.0.0.1:" + self.wait_for(
            r"Uvicorn running on http://127\.0\.0\.1:(\d+)"
        )

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 30) -> str:
        """Wait until uvicorn prints a line matching ``pattern``; return its first group."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    found = re.search(pattern, line)
                    if found:
                        return found.group(1) if found.groups() else line
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"uvicorn never printed {pattern!r}:\n" + self.output)
                self._changed.wait(min(left, 0.5))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def events(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []

    def wait_for_event(self, event: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while event not in self.events():
            assert time.monotonic() < deadline, f"never logged {event!r}: {self.events()}"
            time.sleep(0.01)

    def interrupt(self) -> None:
        """Ctrl-C, once: uvicorn shuts down gracefully (a second one would force it)."""
        if not self.interrupted and self.process.poll() is None:
            self.interrupted = True
            self.process.send_signal(signal.SIGINT)

    def stop(self) -> int:
        """Graceful shutdown (SIGINT, as Ctrl-C); the exit status."""
        self.interrupt()
        try:
            return self.process.wait(timeout=30)
        finally:
            self._reader.join(10)


@contextmanager
def serve(world: World, tmp_path: Path, app: str) -> Iterator[Server]:
    """Run ``uvicorn app`` from the work folder on a free port of 127.0.0.1."""
    env = {
        "SHOP_LOG": str(tmp_path / "events.log"),
        "SHOP_RELEASE": str(tmp_path / "release"),
        "PYTHONUNBUFFERED": "1",
        "HOOKWIRE_CACHE_DIR": str(tmp_path / "cache"),
    }
    process = subprocess.Popen(
        [str(world.venv.python), "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", "0"],
        cwd=world.workdir,
        env=clean_env(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = None
    try:
        server = Server(process, tmp_path / "events.log", tmp_path / "release")
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if process.stderr is not None:
            process.stderr.close()
        if server is not None:
            server._reader.join(10)


def test_host_started_comes_before_the_first_request_and_stopping_after_the_last(
    world: World, tmp_path: Path
) -> None:
    with serve(world, tmp_path, "shopweb:app") as server, httpx.Client(timeout=30) as client:
        first = client.get(f"{server.url}/order/margherita")
        assert first.status_code == 200, server.output
        assert first.json() == {
            "answers": ["ok"],
            "plugins": {"audit": "ready", "broken": "failed"},
        }
        result: dict[str, Any] = {}

        def slow_request() -> None:
            result["response"] = client.get(f"{server.url}/order/slow")

        in_flight = threading.Thread(target=slow_request)
        in_flight.start()
        server.wait_for_event("order slow")
        # Ctrl-C while the slow request runs: uvicorn waits for it, then shuts the app down.
        server.interrupt()
        server.wait_for(r"Shutting down|Waiting for")
        server.release.touch()
        in_flight.join(30)
        assert result["response"].status_code == 200
        assert server.stop() == 0
    assert server.events() == [
        "started",
        "order margherita",
        "order slow",
        "slow done",
        "stopping None",
    ]


def test_a_failed_plugin_is_one_warning_in_the_servers_output(world: World, tmp_path: Path) -> None:
    with serve(world, tmp_path, "shopweb:app") as server:
        server.wait_for("Application startup complete")
        server.stop()
    failures = [line for line in server.lines if "plugin broken" in line]
    assert len(failures) == 1, server.output
    assert "shop-broken 0.1" in failures[0]
    assert "no oven in this shop" in failures[0]


def test_concurrent_requests_sync_receivers_run_at_the_same_time(
    world: World, tmp_path: Path
) -> None:
    """Each request's sync receivers run in that request's own thread: two requests whose
    receivers wait for each other both get through (serialised, each would wait alone)."""
    with serve(world, tmp_path, "shopweb:app") as server, httpx.Client(timeout=30) as client:
        answers: list[Any] = []

        def request(name: str) -> None:
            answers.append(client.get(f"{server.url}/order/{name}").json()["answers"])

        pair = [threading.Thread(target=request, args=(f"pair-{n}",)) for n in (1, 2)]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join(30)
    assert answers == [["together"], ["together"]]


def test_the_middleware_runs_the_host_of_an_asgi_app_without_a_lifespan(
    world: World, tmp_path: Path
) -> None:
    with serve(world, tmp_path, "plainweb:app") as server, httpx.Client(timeout=30) as client:
        response = client.get(f"{server.url}/")
        assert response.json() == ["ok"]
        assert server.stop() == 0
    assert server.events() == ["started", "order plain", "stopping None"]
    assert "lifespan' protocol appears unsupported" not in server.output


# -- the lifespan protocol, in-process -----------------------------------------------------------


async def drive_lifespan(app: Any, between: Any = None) -> list[str]:
    """Run ``app``'s lifespan as a server does: startup, ``between()``, shutdown; return the
    message types the app sent."""
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[str] = []
    answered = asyncio.Event()

    async def receive() -> dict[str, Any]:
        return await to_app.get()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])
        if message["type"].startswith("lifespan.startup."):
            answered.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.ensure_future(app(scope, receive, send))
    await to_app.put({"type": "lifespan.startup"})
    await asyncio.wait_for(answered.wait(), 10)
    if sent[-1] == "lifespan.startup.complete":
        if between is not None:
            await between(scope["state"])
        await to_app.put({"type": "lifespan.shutdown"})
    try:
        await asyncio.wait_for(task, 10)
    except Exception:
        pass
    return sent


@pytest.fixture
def isolated_lifecycle(plugin_site: Any) -> list[tuple[str, Any]]:
    """What ``host_started`` and ``host_stopping`` receive, with hookwire's state restored
    after the test (``plugin_site``)."""
    seen: list[tuple[str, Any]] = []

    def started(sender: object, **kwargs: Any) -> None:
        seen.append(("started", sender))

    def stopping(sender: object, exc: BaseException | None = None, **kwargs: Any) -> None:
        seen.append(("stopping", exc))

    lifecycle.host_started.connect(started, weak=False)
    lifecycle.host_stopping.connect(stopping, weak=False)
    return seen


def test_lifespan_wraps_the_apps_own_and_merges_its_state(
    isolated_lifecycle: list[tuple[str, Any]],
) -> None:
    from starlette.applications import Starlette

    host = Host("inproc", entry_point_group="inproc.plugins")
    seen = isolated_lifecycle

    @asynccontextmanager
    async def own(app: Any) -> Any:
        seen.append(("app up", host.loaded))
        yield {"db": "connected"}
        seen.append(("app down", None))

    states: list[Mapping[str, Any]] = []

    async def between(state: Mapping[str, Any]) -> None:
        states.append(dict(state))

    app = Starlette(lifespan=lifespan(host, own))
    sent = asyncio.run(drive_lifespan(app, between))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert seen == [("started", host), ("app up", True), ("app down", None), ("stopping", None)]
    (state,) = states
    assert state["db"] == "connected"
    assert isinstance(state["hookwire"], HostState)
    assert state["hookwire"].host is host


def test_a_strict_lifespan_with_a_failed_plugin_fails_the_startup(
    plugin_site: Any, isolated_lifecycle: list[tuple[str, Any]]
) -> None:
    from starlette.applications import Starlette

    plugin_site.add("gone-dist", entry_points={"strict.plugins": {"gone": "no_such_module_x"}})
    host = Host("strict", entry_point_group="strict.plugins")
    for app in (
        Starlette(lifespan=lifespan(host, strict=True)),
        HookwireMiddleware(Starlette(), host=host, strict=True),
    ):
        assert asyncio.run(drive_lifespan(app)) == ["lifespan.startup.failed"]
    assert isolated_lifecycle == []


def test_the_middleware_starts_the_host_before_the_wrapped_apps_own_startup(
    isolated_lifecycle: list[tuple[str, Any]],
) -> None:
    from starlette.applications import Starlette

    host = Host("wrapped", entry_point_group="wrapped.plugins")
    seen = isolated_lifecycle

    @asynccontextmanager
    async def own(app: Any) -> Any:
        seen.append(("app up", None))
        yield
        seen.append(("app down", None))

    app = HookwireMiddleware(Starlette(lifespan=own), host=host)
    sent = asyncio.run(drive_lifespan(app))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert seen == [("started", host), ("app up", None), ("app down", None), ("stopping", None)]


def test_without_a_host_the_middleware_leaves_the_lifespan_to_the_app(
    isolated_lifecycle: list[tuple[str, Any]],
) -> None:
    from starlette.applications import Starlette

    sent = asyncio.run(drive_lifespan(HookwireMiddleware(Starlette())))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert isolated_lifecycle == []


def test_importing_hookwire_asgi_imports_no_framework_and_no_asgiref() -> None:
    code = (
        "import sys, hookwire.asgi; "
        "print(sorted(m for m in ('starlette', 'fastapi', 'asgiref', 'uvicorn') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"
