"""Shared fixtures: a wheel of hookwire built once, and fresh venvs that have it installed."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from docstools import DocsBuild, build_docs
from venvtools import ROOT, PluginSite, Venv, build_wheel, create_venv, isolate_discovery_cache


def pytest_configure(config: pytest.Config) -> None:
    """Every test, and every process a test starts, uses a discovery cache of this run."""
    isolate_discovery_cache()


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for wheels built during this test run."""
    return tmp_path_factory.mktemp("wheelhouse")


@pytest.fixture(scope="session")
def hookwire_wheel(wheelhouse: Path) -> Path:
    """A wheel of hookwire built from this checkout, once per test run."""
    return build_wheel(ROOT, wheelhouse / "hookwire")


@pytest.fixture(scope="session")
def docs_build(tmp_path_factory: pytest.TempPathFactory) -> DocsBuild:
    """The documentation, built once per test run with warnings as errors and every
    cross-reference resolved."""
    return build_docs(tmp_path_factory.mktemp("docs"))


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
