"""CLI benchmark: time of whole ``hookwire`` commands against bare python and ``import typer``.

A fresh venv holds 20 installed plugins in the default host's group ``hookwire.plugins`` (each a
``*.dist-info`` folder and a tiny package whose ``signals`` module connects one receiver), and
the ``hookwire`` console script written as pip writes it; hookwire, typer and their dependencies
are linked in after site-packages (see ``_sites.py``). Every command runs in that venv, the
commands interleaved round by round, the minimum kept. Times are the child's CPU time
(``--clock cpu``, the default, which other work on a shared machine does not inflate) or
wall-clock time (``--clock wall``).

Run: ``python benchmarks/bench_cli.py [--quick] [--repeat N] [--json [PATH]]``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import _benchutil as bu
import _sites

PLUGIN_GROUP = "hookwire.plugins"
PLUGIN_COUNT = 20

PLUGIN_SIGNALS = '''"""Receivers of a generated plugin."""

from hookwire import receiver
from hookwire.signals import plugins_ready


@receiver(plugins_ready)
def on_plugins_ready(sender, **kwargs):
    return None
'''


@dataclass(frozen=True)
class Command:
    """One measured command line; ``{python}`` and ``{hookwire}`` are filled in per venv."""

    key: str
    label: str
    argv: tuple[str, ...]
    clear_cache: bool = False


# The least a typer CLI costs: a two-command app running one command that prints "[]".
MINIMAL_TYPER_APP = """
import typer
app = typer.Typer()
@app.command()
def listing(json: bool = False) -> None:
    print("[]")
@app.command()
def other() -> None:
    pass
app(["listing", "--json"])
"""

COMMANDS = (
    Command("bare", "python -c pass", ("{python}", "-c", "pass")),
    Command("import_typer", 'python -c "import typer"', ("{python}", "-c", "import typer")),
    Command("typer_app", "minimal typer app, one command", ("{python}", "-c", MINIMAL_TYPER_APP)),
    Command(
        "import_hookwire", 'python -c "import hookwire"', ("{python}", "-c", "import hookwire")
    ),
    Command("version", "hookwire --version", ("{hookwire}", "--version")),
    Command(
        "list_json", "hookwire plugins list --json", ("{hookwire}", "plugins", "list", "--json")
    ),
    Command(
        "list_json_cold",
        "  same, discovery cache cleared",
        ("{hookwire}", "plugins", "list", "--json"),
        clear_cache=True,
    ),
)


def write_console_script(venv: _sites.BenchVenv) -> Path:
    """The ``hookwire`` script as pip generates it from hookwire's console_scripts entry point."""
    (entry_point,) = [
        ep
        for ep in metadata.distribution("hookwire").entry_points
        if ep.group == "console_scripts" and ep.name == "hookwire"
    ]
    module, _, function = entry_point.value.partition(":")
    script = venv.python.parent / "hookwire"
    script.write_text(
        f"#!{venv.python}\n"
        "# -*- coding: utf-8 -*-\n"
        "import re\n"
        "import sys\n"
        f"from {module} import {function}\n"
        'if __name__ == "__main__":\n'
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        f"    sys.exit({function}())\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def install_plugins(venv: _sites.BenchVenv, count: int) -> list[str]:
    names = []
    for index in range(count):
        module = f"benchcli_plugin{index:02d}"
        _sites.write_distribution(
            venv.site_packages,
            f"benchcli-plugin{index:02d}",
            "1.0.0",
            entry_points={PLUGIN_GROUP: {module: module}},
            modules={
                f"{module}/__init__.py": f'"""Generated plugin {module}."""\n',
                f"{module}/signals.py": PLUGIN_SIGNALS,
            },
        )
        names.append(module)
    return names


class Runner:
    def __init__(self, venv: _sites.BenchVenv, script: Path, workdir: Path, clock: str) -> None:
        self.venv = venv
        self.script = script
        self.workdir = workdir
        self.clock = clock

    def argv(self, command: Command) -> list[str]:
        return [part.format(python=self.venv.python, hookwire=self.script) for part in command.argv]

    def run(self, command: Command) -> tuple[float, str]:
        home = self.workdir / "cache" / command.key
        if command.clear_cache and home.exists():
            shutil.rmtree(home)
        home.mkdir(parents=True, exist_ok=True)
        return bu.run_timed(
            self.argv(command), clock=self.clock, env=self.venv.environment(home), cwd=self.workdir
        )


def check_listing(output: str, expected: Sequence[str]) -> str | None:
    """None when ``plugins list --json`` shows every plugin ready, else what is wrong."""
    try:
        listed = json.loads(output)
    except ValueError as error:
        return f"output is not JSON: {error}"
    ready = sorted(item.get("name") for item in listed if item.get("state") == "ready")
    if ready != sorted(expected):
        return f"{len(ready)} of {len(expected)} plugins ready"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    options = bu.parse_options(__doc__.splitlines()[0], default_repeat=15, argv=argv)
    best: dict[str, float] = {}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="cli-", dir=bu.scratch_root()) as tmp:
        workdir = Path(tmp)
        venv = _sites.create_bench_venv(workdir, ["hookwire"])
        script = write_console_script(venv)
        expected = install_plugins(venv, PLUGIN_COUNT)
        runner = Runner(venv, script, workdir, options.clock)
        live = []
        for command in COMMANDS:  # warm-up, not counted: OS file cache, bytecode, warm caches
            try:
                _, output = runner.run(command)
                if command.key.startswith("list_json"):
                    problem = check_listing(output, expected)
                    if problem:
                        raise RuntimeError(problem)
                live.append(command)
            except Exception as error:
                errors[command.key] = str(error)
        best = {command.key: float("inf") for command in live}
        for round_index in range(options.repeat):
            shift = round_index % max(1, len(live))
            for command in live[shift:] + live[:shift]:
                best[command.key] = min(best[command.key], runner.run(command)[0])
        support = venv.support_distributions

    times_ms: dict[str, float | None] = {
        c.key: best[c.key] * 1e3 if c.key in best else None for c in COMMANDS
    }
    bare = times_ms["bare"]
    typer_ms = times_ms["import_typer"]
    rows = []
    for command in COMMANDS:
        ms = times_ms[command.key]
        rows.append(
            {
                "key": command.key,
                "label": command.label,
                "ms": ms,
                "minus_bare_ms": None if ms is None or bare is None else ms - bare,
                "vs_import_typer": bu.ratio(ms, typer_ms),
            }
        )
    document: dict[str, Any] = {
        "benchmark": "cli",
        "unit": "ms",
        "quick": options.quick,
        "repeat": options.repeat,
        "clock": options.clock,
        "clock_description": options.clock_description,
        "machine": bu.machine_description(),
        "versions": {name: bu.package_version(name) for name in ("hookwire", "typer", "click")},
        "plugins": PLUGIN_COUNT,
        "support_distributions": support,
        "rows": rows,
        "errors": errors,
    }
    bu.emit_results(options, document, render(document))
    return 0


def render(document: dict[str, Any]) -> str:
    machine = document["machine"]
    lines = [
        f"hookwire CLI benchmark  {machine['date']}  Python {machine['python']}  "
        f"{machine['cpus']} CPUs ({machine['cpu_model']})",
        f"{document['plugins']} plugins installed in a fresh venv (+ "
        f"{len(document['support_distributions'])} support distributions); minimum of "
        f"{document['repeat']} interleaved runs, {document['clock_description']}"
        + ("  [--quick: figures are meaningless]" if document["quick"] else ""),
        "",
    ]
    table = bu.Table(["command", "ms", "minus bare ms", "vs import typer"])
    for row in document["rows"]:
        table.add(
            [
                row["label"],
                bu.format_ms(row["ms"]),
                bu.format_ms(row["minus_bare_ms"]),
                bu.format_ratio(row["vs_import_typer"]),
            ]
        )
    lines.append(table.render())
    if document["errors"]:
        lines += ["", "not measured (n/a):"]
        lines += [f"  {key}: {error}" for key, error in sorted(document["errors"].items())]
    return "\n".join(lines)


if __name__ == "__main__":
    os.environ.pop("HOOKWIRE_HOST", None)
    sys.exit(main())
