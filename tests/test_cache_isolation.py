"""A test run leaves the user's home alone: every test, and every process a test starts,
caches discovery in a temporary folder of the run, and sees a temporary home folder that is
checked for hookwire's files when the run ends (``tests/conftest.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from venvtools import RUN_CACHE_VARIABLE, RUN_HOME_VARIABLE, clean_env, written_under_home


def test_this_run_caches_discovery_in_a_temporary_folder() -> None:
    root = os.environ[RUN_CACHE_VARIABLE]
    assert os.environ["HOOKWIRE_CACHE_DIR"] == os.path.join(root, "hookwire")
    assert not Path(root).resolve().is_relative_to(Path(os.environ[RUN_HOME_VARIABLE]))


def test_processes_started_by_tests_inherit_the_run_s_cache_folder() -> None:
    assert clean_env()["HOOKWIRE_CACHE_DIR"] == os.environ["HOOKWIRE_CACHE_DIR"]
    assert clean_env({"HOOKWIRE_CACHE_DIR": "/elsewhere"})["HOOKWIRE_CACHE_DIR"] == "/elsewhere"


def test_the_run_s_home_is_a_temporary_folder_that_processes_started_by_tests_see() -> None:
    home = os.environ[RUN_HOME_VARIABLE]
    assert os.environ["HOME"] == home
    assert Path.home() == Path(home)
    assert not [name for name in os.environ if name.startswith("XDG_")]
    seen = subprocess.run(
        [sys.executable, "-c", "import pathlib; print(pathlib.Path.home())"],
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert seen.stdout.strip() == home


def test_without_the_cache_variable_discovery_would_cache_in_the_run_s_home(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hookwire._loading import discovery_cache

    monkeypatch.delenv("HOOKWIRE_CACHE_DIR")
    assert Path(discovery_cache.cache_dir()).is_relative_to(os.environ[RUN_HOME_VARIABLE])


def test_the_end_of_run_check_names_every_file_or_folder_of_hookwire_under_home(
    tmp_path: Path,
) -> None:
    (tmp_path / ".cache" / "pip" / "wheels").mkdir(parents=True)
    (tmp_path / ".config").mkdir()
    assert written_under_home(tmp_path) == []
    (tmp_path / ".cache" / "hookwire").mkdir()
    (tmp_path / ".local" / "share" / "hookwire" / "broker").mkdir(parents=True)
    (tmp_path / ".config" / "Hookwire.toml").write_text("", encoding="utf-8")
    assert written_under_home(tmp_path) == [
        ".cache/hookwire",
        ".config/Hookwire.toml",
        ".local/share/hookwire",
    ]
