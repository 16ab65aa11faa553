"""Lets this package's tests run from a checkout, uninstalled.

The example packages' folders go on ``sys.path``, and ``declare_example_plugins`` declares the
``pizzeria.plugins`` entry points of chosen example packages to hookwire's real loader (through
the ``fake_plugins`` fixture of ``hookwire.testing``) exactly as their ``pyproject.toml`` files
declare them: same names, values, distributions and versions.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from hookwire.testing import FakePlugins

EXAMPLES = Path(__file__).resolve().parent.parent
for folder in ("pizzeria", "pizzeria-sms", "pizzeria-loyalty", "pizzeria-audit"):
    if str(EXAMPLES / folder) not in sys.path:
        sys.path.insert(0, str(EXAMPLES / folder))


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
