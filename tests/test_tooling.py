"""The code base stays lint-clean, formatted and mypy --strict clean (checked with the suite)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from onepython import TARGET_PINNED, interpreter_independent

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    # The test environment installs the lint extra; a missing tool is a broken environment.
    path = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: install hookwire's 'lint' extra")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


@interpreter_independent(TARGET_PINNED)
def test_ruff_finds_nothing_to_report() -> None:
    result = _run(_tool("ruff"), "check", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@interpreter_independent(TARGET_PINNED)
def test_every_file_is_formatted_as_ruff_format_writes_it() -> None:
    result = _run(_tool("ruff"), "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@interpreter_independent(TARGET_PINNED)
def test_the_package_is_mypy_strict_clean() -> None:
    result = _run(sys.executable, "-m", "mypy", "--strict", "hookwire")
    assert result.returncode == 0, result.stdout + result.stderr
