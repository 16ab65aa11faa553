"""The README's ``hookwire`` command section shows what the commands really print.

The example distributions are installed into a venv of their own and every ``$ ...`` command
of the section is run there through a shell, stderr merged into stdout as a terminal shows
them, and must exit with status 0 (a failing command is shown with ``; echo "exit $?"``). The
README's lines must be the real output line for line: ``...`` alone stands for lines left out,
``.../`` for a shortened path, and timings may differ.
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


def _matches_at(chunk: list[str], real: list[str], start: int) -> bool:
    if start < 0 or start + len(chunk) > len(real):
        return False
    return all(line_pattern(line).fullmatch(real[start + i]) for i, line in enumerate(chunk))


def mismatch(shown: list[str], real: list[str]) -> str:
    """Why ``real`` differs from ``shown``, or ``""``.

    Shown lines match real lines one for one; only a ``...`` line stands for real lines left
    out (any number). Output before the first or after the last shown line is only allowed
    where the README starts or ends with ``...``.
    """
    chunks: list[list[str]] = [[]]
    for line in shown:
        if line == "...":
            chunks.append([])
        else:
            chunks[-1].append(line)
    if len(chunks) == 1:
        if len(real) == len(shown) and _matches_at(shown, real, 0):
            return ""
        return f"expected exactly {shown!r}"
    first, *middle, last = chunks
    if not _matches_at(first, real, 0):
        return f"the output does not start with {first!r}"
    position = len(first)
    for chunk in middle:
        # The earliest place a chunk fits leaves the most room for the ones after it.
        start = next(
            (at for at in range(position, len(real)) if _matches_at(chunk, real, at)), None
        )
        if start is None:
            return f"not found in order after line {position + 1}: {chunk!r}"
        position = start + len(chunk)
    if len(real) - len(last) < position or not _matches_at(last, real, len(real) - len(last)):
        return f"the output does not end with {last!r}"
    return ""


@pytest.mark.parametrize(
    ("shown", "real", "fits"),
    [
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["a", "x", "b"], False),
        (["a", "b"], ["a", "b", "x"], False),
        (["a", "b"], ["x", "a", "b"], False),
        (["a", "...", "b"], ["a", "x", "y", "b"], True),
        (["a", "...", "b"], ["a", "b"], True),
        (["a", "...", "b"], ["a", "x", "b", "y"], False),
        (["a", "..."], ["a", "x", "y"], True),
        (["...", "b", "c", "..."], ["x", "b", "y", "c"], False),
        (["...", "b", "c", "..."], ["x", "b", "b", "c", "z"], True),
        (["t 0.066 ms", "p .../f.py:3"], ["t 12.500 ms", "p /opt/site/f.py:3"], True),
        (["t 0.066 ms"], ["t 0.066 ms."], False),
    ],
)
def test_the_matcher_allows_extra_lines_only_where_the_readme_shows_dots(
    shown: list[str], real: list[str], fits: bool
) -> None:
    assert (mismatch(shown, real) == "") is fits


@pytest.fixture(scope="module")
def pizzeria(
    tmp_path_factory: pytest.TempPathFactory,
    hookwire_wheel: Path,
    example_wheels: dict[str, Path],
) -> Venv:
    root = tmp_path_factory.mktemp("readme")
    wheels = [example_wheels[name] for name in EXAMPLE]
    venv = create_venv(root / "venv", wheels=[hookwire_wheel, *wheels])
    # Cut off from the environment running the tests once everything is installed.
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
    # A command that fails shows it in the README with `; echo "exit $?"`.
    assert result.returncode == 0, result.stdout + result.stderr
    assert mismatch(shown, result.stdout.splitlines()) == "", result.stdout + result.stderr
