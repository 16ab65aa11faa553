"""The README's ``hookwire`` command section shows what the commands really print.

The example distributions are installed into a venv of their own and every ``$ ...`` command
of the section is run there through a shell, stderr merged into stdout as a terminal shows
them. Each line the README shows must appear, in order, in the real output; ``...`` stands for
lines left out, ``.../`` for a shortened path, and timings may differ.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from clitools import isolate, private_dependencies
from venvtools import ROOT, Venv, create_venv

pytestmark = pytest.mark.e2e

EXAMPLE = ("pizzeria", "pizzeria-audit", "pizzeria-loyalty", "pizzeria-sms")
SECTION = "## The `hookwire` command"


def readme_session() -> list[tuple[str, list[str]]]:
    """The section's console block as ``(command, lines shown after it)`` pairs."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    block = section[section.index("```console\n") + len("```console\n") :]
    block = block[: block.index("```")]
    session: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            command = line[2:].partition("   #")[0].strip()
            session.append((command, []))
        else:
            session[-1][1].append(line)
    return session


def line_pattern(shown: str) -> re.Pattern[str]:
    """``shown`` as a pattern: ``.../`` matches any path prefix, ``0.066 ms`` any timing."""
    parts = re.split(r"(\.\.\./|\d+\.\d{3} ms)", shown)
    regex = ""
    for index, part in enumerate(parts):
        if index % 2 == 0:
            regex += re.escape(part)
        elif part == ".../":
            regex += r"\S*/"
        else:
            regex += r"\d+\.\d{3} ms"
    return re.compile(regex)


def missing_lines(shown: list[str], real: list[str]) -> list[str]:
    """The shown lines not found in ``real`` in order (``...`` skips any number of lines)."""
    position = 0
    for line in shown:
        if line == "...":
            continue
        pattern = line_pattern(line)
        while position < len(real) and not pattern.fullmatch(real[position]):
            position += 1
        if position == len(real):
            return shown[shown.index(line) :]
        position += 1
    return []


@pytest.fixture(scope="module")
def pizzeria(tmp_path_factory: pytest.TempPathFactory, hookwire_wheel: Path) -> Venv:
    root = tmp_path_factory.mktemp("readme")
    venv = create_venv(root / "venv", wheels=[hookwire_wheel])
    # Built with the build backend of the environment running the tests, then cut off from it.
    venv.install(*(ROOT / "plugins_example" / name for name in EXAMPLE))
    return isolate(venv, private_dependencies(tmp_path_factory))


def test_the_readme_shows_several_commands() -> None:
    commands = [command.split()[1] for command, _ in readme_session()]
    assert {"run", "plugins", "signals", "--version"} <= set(commands)


@pytest.mark.parametrize(
    ("command", "shown"), readme_session(), ids=[command for command, _ in readme_session()]
)
def test_each_command_of_the_readme_prints_what_the_readme_shows(
    pizzeria: Venv, tmp_path: Path, command: str, shown: list[str]
) -> None:
    env = {
        "PATH": f"{pizzeria.bin}{os.pathsep}{os.environ['PATH']}",
        "HOOKWIRE_CACHE_DIR": str(tmp_path / "cache"),
        "COLUMNS": "200",
    }
    # As on a terminal, both streams, in the order they were written.
    result = pizzeria.run("sh", "-c", f"{{ {command}; }} 2>&1", env=env, cwd=tmp_path)
    real = result.stdout.splitlines()
    assert missing_lines(shown, real) == [], result.stdout + result.stderr
