"""Shared fixtures: wheels of hookwire and the example packages built once, and fresh venvs
that have them installed; the run's own home folder, checked at the end."""

from __future__ import annotations

import dataclasses
import functools
import gc
import importlib
import json
import os
import pkgutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from clitools import World, shared_world
from docstools import DocsBuild, build_docs
from onepython import MARKED, READ_THE_DOCS_BUILD
from redistools import RedisServer
from venvtools import (
    ROOT,
    PluginSite,
    Venv,
    build_wheel,
    built_once,
    create_venv,
    isolate_discovery_cache,
    isolate_home,
    written_under_home,
)

#: The example packages under ``plugins_example/``, each a folder with its ``pyproject.toml``.
EXAMPLE_PACKAGES = sorted(
    path.name
    for path in (ROOT / "plugins_example").iterdir()
    if (path / "pyproject.toml").is_file()
)


#: hookwire's modules that in-process tests use, imported before any test runs (see below).
CORE_PACKAGES = ("hookwire._dispatch", "hookwire._loading", "hookwire.testing")


def _import_hookwire_core() -> None:
    """Import hookwire's dispatcher, loader and pytest plugin once, up front.

    ``pytester.runpytest()`` runs pytest in this process and afterwards drops every module
    first imported during that run. A hookwire module first imported there would come back
    as a second copy on the next import (a second ``Plugin`` class, say), and whichever test
    ran next would see plugins fail as "not a hookwire.Plugin subclass": the result of a test
    would depend on which tests ran before it in the same process.
    """
    importlib.import_module("hookwire._host")
    for name in CORE_PACKAGES:
        package = importlib.import_module(name)
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            importlib.import_module(module.name)


def pytest_configure(config: pytest.Config) -> None:
    """Every test, and every process a test starts, uses a discovery cache of this run and a
    home folder of this run (checked when the run ends)."""
    isolate_discovery_cache()
    isolate_home()
    _import_hookwire_core()
    _restore_ctrl_c()


def _restore_ctrl_c() -> None:
    """Let Ctrl-C reach the processes the tests start, as it does from a terminal.

    A shell without job control starts a background command with SIGINT ignored, and a child
    inherits an ignored signal across exec: every hookwire process the tests start would then
    ignore the SIGINT a test sends it. Python's own handler is not inherited (a handler resets to
    the default on exec), so installing it here gives every child the terminal's behaviour.
    """
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


#: Set by ``nox -s tests`` in the sessions after the first: the interpreter-independent checks
#: already ran there (its name is the value), so these sessions leave them out.
CHECKED_ELSEWHERE_VARIABLE = "TESTS_INTERPRETER_INDEPENDENT_CHECKED_ON"


def pytest_report_header(config: pytest.Config) -> str | None:
    checked_on = os.environ.get(CHECKED_ELSEWHERE_VARIABLE)
    if checked_on:
        return f"interpreter-independent checks: left out, they ran in {checked_on}"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Record the tests that read the documentation build and the interpreter-independent
    checks, leave those out where another Python of this run made them, and put the slow
    tests first."""
    config.stash[READ_THE_DOCS_BUILD] = [
        item.nodeid for item in items if "docs_build" in getattr(item, "fixturenames", ())
    ]
    config.stash[MARKED] = [
        (item.nodeid, marker.args[0])
        for item in items
        if (marker := item.get_closest_marker("interpreter_independent")) is not None
    ]
    if os.environ.get(CHECKED_ELSEWHERE_VARIABLE):
        kept, left_out = [], []
        for item in items:
            marked = item.get_closest_marker("interpreter_independent")
            (left_out if marked else kept).append(item)
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = kept
    # The slow tests first, each part in its own order: pytest-xdist hands tests out in this
    # order, and a long test handed out last keeps the run going after the other workers
    # have finished.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move what importing and collecting made into the collector's permanent generation.

    Fixtures collect garbage between tests (dead plugin modules must not linger in signals);
    without this, each full collection walks the ~90,000 objects of pytest, hookwire, Django
    and Celery that live for the whole run.
    """
    gc.collect()
    gc.freeze()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any test, or any process a test started, wrote hookwire's files into
    the user's home: a test run must leave the real user's caches and data alone."""
    written = written_under_home(isolate_home())
    if written:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "the run wrote under HOME (it must use its own folders): " + ", ".join(written)
        if reporter is not None:
            reporter.write_line(f"ERROR: {message}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test run shared by its xdist workers, for what is made once a run."""
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's base folder sits in the run's own.
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def wheelhouse(run_folder: Path) -> Path:
    """A folder for wheels built during this test run, shared by its xdist workers: the wheels
    are built there once, by whichever worker needs them first."""
    folder = run_folder / "wheelhouse"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def hookwire_wheel(wheelhouse: Path) -> Path:
    """A wheel of hookwire built from this checkout, once per test run."""
    out = wheelhouse / "hookwire"
    return built_once(out / ".built", functools.partial(build_wheel, ROOT, out))


@pytest.fixture(scope="session")
def example_wheels(wheelhouse: Path) -> dict[str, Path]:
    """A wheel of each example package (by folder name), built once per test run for every
    test and documentation page that installs one."""
    wheels = {}
    for name in EXAMPLE_PACKAGES:
        out = wheelhouse / "examples" / name  # one folder each: builds never see each other's
        source = ROOT / "plugins_example" / name
        wheels[name] = built_once(out / ".built", functools.partial(build_wheel, source, out))
    return wheels


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server on 127.0.0.1 for one test module, stopped after its last test."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def docs_build(wheelhouse: Path) -> DocsBuild:
    """The documentation, built once per test run (by whichever xdist worker needs it first)
    with warnings as errors and every cross-reference resolved."""
    out = wheelhouse.parent / "docs-build"

    def build() -> Path:
        built = build_docs(out)
        record = out / "build.json"
        record.write_text(json.dumps(dataclasses.asdict(built), default=str), encoding="utf-8")
        return record

    record = json.loads(built_once(out / ".built", build).read_text(encoding="utf-8"))
    return DocsBuild(Path(record.pop("html")), **record)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, hookwire_wheel: Path) -> World:
    """The CLI tests' shared world (:func:`clitools.shared_world`): one venv with the CLI
    host and plugins, built once per run. A module that needs another installation defines
    its own ``world``."""
    return shared_world(tmp_path_factory, hookwire_wheel)


@pytest.fixture
def make_venv(tmp_path: Path, hookwire_wheel: Path) -> Callable[..., Venv]:
    """Factory: a fresh venv with hookwire's wheel installed (its dependencies come from here)."""
    counter = 0

    def factory() -> Venv:
        nonlocal counter
        counter += 1
        return create_venv(tmp_path / f"venv{counter}", wheels=[hookwire_wheel])

    return factory


@pytest.fixture
def plugin_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[PluginSite]:
    """A :class:`PluginSite` on ``sys.path``, no ``HOOKWIRE_*`` variables, a private cache,
    and hookwire's global state (signals, attribution) restored afterwards."""
    # Signals of earlier tests' plugin modules must be gone before the isolation snapshot,
    # which holds the signals it saw strongly.
    gc.collect()
    request.getfixturevalue("hookwire_isolation")
    for variable in [name for name in os.environ if name.startswith("HOOKWIRE_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("HOOKWIRE_CACHE_DIR", str(tmp_path / "cache"))
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    yield PluginSite(site)
    prefix = str(site)
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(prefix):
            del sys.modules[name]


@pytest.fixture
def collector_paused() -> Iterator[None]:
    """No garbage collection while the test runs, after collecting what earlier tests left.

    For tests that let receivers recurse until Python's recursion limit: a collection there
    runs finalizers of unrelated objects (an asyncio task whose exception nobody retrieved, a
    weak reference's callback, a ``gc.callbacks`` hook) with no stack left, and they fail with
    a ``RecursionError`` that Python can only report as unraisable, which pytest turns into a
    failure of whichever test happened to be that deep.
    """
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
