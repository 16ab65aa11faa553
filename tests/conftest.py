"""Shared fixtures: a wheel of hookwire built once, and fresh venvs that have it installed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from venvtools import ROOT, Venv, build_wheel, create_venv


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for wheels built during this test run."""
    return tmp_path_factory.mktemp("wheelhouse")


@pytest.fixture(scope="session")
def hookwire_wheel(wheelhouse: Path) -> Path:
    """A wheel of hookwire built from this checkout, once per test run."""
    return build_wheel(ROOT, wheelhouse / "hookwire")


@pytest.fixture
def make_venv(tmp_path: Path, hookwire_wheel: Path) -> Callable[..., Venv]:
    """Factory: a fresh venv with hookwire's wheel installed (its dependencies come from here)."""
    counter = 0

    def factory() -> Venv:
        nonlocal counter
        counter += 1
        return create_venv(tmp_path / f"venv{counter}", wheels=[hookwire_wheel])

    return factory
