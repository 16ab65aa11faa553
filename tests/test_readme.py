"""The README's examples do what the README says they do."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def test_the_signals_example_prints_what_the_readme_shows(tmp_path: Path) -> None:
    section = _section("Signals")
    code = re.search(r"```python\n(.*?)```", section, re.S)
    shown = re.search(r"```text\n(.*?)```", section, re.S)
    assert code is not None
    assert shown is not None
    script = tmp_path / "example.py"
    script.write_text(code.group(1), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    printed = re.sub(r"0x[0-9a-f]+", "0x...", result.stdout)
    assert printed == shown.group(1)


def test_ci_runs_the_readme_s_test_command() -> None:
    quick_start = _section("Quick start")
    commands = re.findall(r"```console\n(.*?)\n```", quick_start, re.S)
    assert len(commands) == 2  # one that runs the example, one that runs the whole suite
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == commands[1]
