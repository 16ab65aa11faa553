"""Lets the example packages' tests run from a checkout, uninstalled, inside any larger test run.

During each test the example packages' folders are on ``sys.path`` and the pizzeria host is
imported (before any fixture of ``hookwire.testing`` takes its snapshot, so its signals and
host are put back after every test). Between these tests the example's modules are kept aside,
out of ``sys.modules``: other tests of the same run never see them (a module named
``pizzeria`` is a common sight in tests). Test modules therefore import the example inside
their tests, not at the top.

``declare_example_plugins`` declares the ``pizzeria.plugins`` entry points of chosen example
packages to hookwire's real loader (through the ``fake_plugins`` fixture of
``hookwire.testing``) exactly as their ``pyproject.toml`` files declare them: same names,
values, distributions and versions.
"""

from __future__ import annotations

import atexit
import importlib
import os
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from hookwire.testing import FakePlugins

EXAMPLES = Path(__file__).resolve().parent
FOLDERS = ("pizzeria", "pizzeria-sms", "pizzeria-loyalty", "pizzeria-audit", "pizzeria-texts")
TOP_LEVEL_MODULES = {folder.replace("-", "_") for folder in FOLDERS}

# Shared with tests/venvtools.py: the temporary folder of this run's discovery caches.
RUN_CACHE_VARIABLE = "TESTS_RUN_CACHE"


def pytest_configure(config: pytest.Config) -> None:
    """The example's tests never write into the user's discovery cache, even run alone."""
    root = os.environ.get(RUN_CACHE_VARIABLE)
    if root is None:
        root = tempfile.mkdtemp(prefix="hookwire-tests-cache-")
        atexit.register(shutil.rmtree, root, True)
        os.environ[RUN_CACHE_VARIABLE] = root
    os.environ["HOOKWIRE_CACHE_DIR"] = os.path.join(root, "hookwire")


# The pizzeria host's modules while no test of the example runs.
_HOST_MODULES: dict[str, ModuleType] = {}


def _is_example(module: object) -> bool:
    file = getattr(module, "__file__", None)
    return file is not None and Path(file).resolve().is_relative_to(EXAMPLES)


@pytest.fixture(autouse=True)
def example_importable_during_the_test(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The example importable from this checkout and the host imported, for this test only."""
    for folder in FOLDERS:
        monkeypatch.syspath_prepend(str(EXAMPLES / folder))
    for name, module in list(sys.modules.items()):
        # Someone else's module of the same name, left by another test: set it aside.
        if name.partition(".")[0] in TOP_LEVEL_MODULES and not _is_example(module):
            monkeypatch.delitem(sys.modules, name)
    sys.modules.update(_HOST_MODULES)
    importlib.import_module("pizzeria.app")
    yield
    for name in list(sys.modules):
        top_level = name.partition(".")[0]
        if top_level == "pizzeria":
            _HOST_MODULES[name] = sys.modules.pop(name)
        elif top_level in TOP_LEVEL_MODULES:
            # A plugin module: its @receiver decorators must run again when next imported.
            del sys.modules[name]


@pytest.fixture
def declare_example_plugins(fake_plugins: FakePlugins) -> Callable[..., None]:
    """``declare("pizzeria-sms", ...)``: declare those example packages' plugins."""

    def declare(*folders: str) -> None:
        for folder in folders:
            text = (EXAMPLES / folder / "pyproject.toml").read_text(encoding="utf-8")
            project = tomllib.loads(text)["project"]
            for name, value in project["entry-points"]["pizzeria.plugins"].items():
                fake_plugins.add(
                    name,
                    value=value,
                    distribution=project["name"],
                    version=project["version"],
                    group="pizzeria.plugins",
                )

    return declare
