"""The distributions a release uploads: what the sdist and the wheel carry, and twine's check."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from onepython import PURE_PYTHON, interpreter_independent
from venvtools import ROOT, clean_env

import hookwire

pytestmark = [pytest.mark.slow, interpreter_independent(PURE_PYTHON)]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist and the wheel built from this checkout, as a release would build them."""
    out = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel"]
    subprocess.run(
        [*build, "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
    )
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


def wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_the_wheel_carries_the_license_file_and_py_typed(dist: dict[str, Path]) -> None:
    names = wheel_names(dist["wheel"])
    info = f"hookwire-{hookwire.__version__}.dist-info"
    assert f"{info}/licenses/LICENSE" in names
    assert "hookwire/py.typed" in names
    with zipfile.ZipFile(dist["wheel"]) as archive:
        metadata = archive.read(f"{info}/METADATA").decode("utf-8")
        license_text = archive.read(f"{info}/licenses/LICENSE").decode("utf-8")
    assert "License-Expression: MIT" in metadata
    assert "License-File: LICENSE" in metadata
    assert "The hookwire developers" in license_text


def test_the_wheel_carries_the_plugin_templates_and_no_tests_or_caches(
    dist: dict[str, Path],
) -> None:
    names = wheel_names(dist["wheel"])
    assert "hookwire/cli/templates/plugin/pyproject.toml.tmpl" in names
    assert not [name for name in names if name.startswith(("tests/", "plugins_example/"))]
    # Test modules, not the template of a new plugin project's tests (``test_plugin.py.tmpl``).
    assert not [name for name in names if Path(name).match("test_*.py")]
    caches = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis")
    assert not [name for name in names if any(part in caches for part in Path(name).parts)]
    assert not [name for name in names if name.endswith((".pyc", ".pyo"))]


def test_the_metadata_names_the_project_urls(dist: dict[str, Path]) -> None:
    with zipfile.ZipFile(dist["wheel"]) as archive:
        metadata = archive.read(f"hookwire-{hookwire.__version__}.dist-info/METADATA")
    labels = {
        line.split(":", 1)[1].split(",", 1)[0].strip()
        for line in metadata.decode("utf-8").splitlines()
        if line.startswith("Project-URL:")
    }
    assert labels == {"Documentation", "Source", "Changelog", "Issues"}


def test_the_sdist_carries_the_license_changelog_and_tests_but_no_caches(
    dist: dict[str, Path],
) -> None:
    with tarfile.open(dist["sdist"]) as archive:
        names = archive.getnames()
    top = f"hookwire-{hookwire.__version__}"
    for wanted in ("LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "hookwire/py.typed"):
        assert f"{top}/{wanted}" in names
    assert f"{top}/tests/test_release.py" in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert not [name for name in names if "/docs/_build/" in name or "/.venv/" in name]


def test_the_changelog_has_a_dated_section_for_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = [line for line in changelog.splitlines() if line.startswith("## ")]
    assert headings[0] == "## [Unreleased]"
    version = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"].get("version")
    version = version or hookwire.__version__
    assert any(heading.startswith(f"## [{version}] - 20") for heading in headings), headings


def test_twine_check_strict_passes_for_both(dist: dict[str, Path]) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "check",
            "--strict",
            str(dist["sdist"]),
            str(dist["wheel"]),
        ],
        capture_output=True,
        text=True,
        env=clean_env({"NO_COLOR": "1"}),
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2
