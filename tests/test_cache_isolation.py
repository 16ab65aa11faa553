"""A test run leaves the user's discovery cache alone: every test, and every process a test
starts, caches discovery in a temporary folder of the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from venvtools import ROOT, RUN_CACHE_VARIABLE, _clean_env


def test_this_run_caches_discovery_in_a_temporary_folder() -> None:
    root = os.environ[RUN_CACHE_VARIABLE]
    assert os.environ["HOOKWIRE_CACHE_DIR"] == os.path.join(root, "hookwire")
    assert not Path(root).resolve().is_relative_to(Path.home().resolve())


def test_processes_started_by_tests_inherit_the_run_s_cache_folder() -> None:
    assert _clean_env()["HOOKWIRE_CACHE_DIR"] == os.environ["HOOKWIRE_CACHE_DIR"]
    assert _clean_env({"HOOKWIRE_CACHE_DIR": "/elsewhere"})["HOOKWIRE_CACHE_DIR"] == "/elsewhere"


@pytest.mark.slow
def test_a_run_of_discovery_loader_and_cli_tests_writes_nothing_under_home(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HOOKWIRE_", "PYTEST_", "COV_", "XDG_"))
        and key != RUN_CACHE_VARIABLE
    }
    env["HOME"] = str(home)
    modules = ["tests/test_loader.py", "tests/test_discovery.py", "tests/test_host.py"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *modules],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    written = sorted(str(path.relative_to(home)) for path in home.rglob("*"))
    assert not [path for path in written if "hookwire" in path], written
