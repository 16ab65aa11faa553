"""The end-to-end tooling itself: venvs see what is installed into them, and only that."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from venvtools import Venv

pytestmark = pytest.mark.e2e


def test_a_fresh_venv_imports_the_installed_hookwire_wheel(make_venv: Callable[..., Venv]) -> None:
    venv = make_venv()
    result = venv.python_code("import hookwire, sys; print(hookwire.__file__)")
    assert result.returncode == 0, result.stderr
    assert str(venv.path) in result.stdout


def test_hand_made_dist_info_is_visible_to_importlib_metadata(
    make_venv: Callable[..., Venv],
) -> None:
    venv = make_venv()
    venv.add_dist_info(
        "demo-plugin",
        "2.0",
        entry_points={"demo.plugins": {"demo": "demo_plugin"}},
        modules={"demo_plugin.py": "VALUE = 1\n"},
    )
    result = venv.python_code(
        """
        from importlib.metadata import entry_points
        print([(ep.name, ep.value, ep.dist.version) for ep in entry_points(group="demo.plugins")])
        """
    )
    assert result.returncode == 0, result.stderr
    assert "('demo', 'demo_plugin', '2.0')" in result.stdout
