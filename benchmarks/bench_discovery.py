"""Discovery benchmark: list one entry-point group among 10, 100 and 1000 installed distributions.

For each size a fresh venv is filled with synthetic distributions (see ``_sites.py``); ten of
them declare a plugin in the measured group. Every tool runs in a fresh child process of that
venv, the tools interleaved round by round, the minimum kept:

* in-process: the time of the first listing call in the process, after the library's module
  was imported (what the call imports lazily counts: a command pays for it);
* whole process: the time of ``python -c "<import the library and list the group>"`` minus
  that of ``python -c pass``, i.e. everything discovery adds to a command's start.

Times are CPU time (``--clock cpu``, the default: user + system time of the child, which other
work on a shared machine does not inflate) or wall-clock time (``--clock wall``).

hookwire keeps its cache under ``$XDG_CACHE_HOME``; each tool gets its own cache folder, emptied
before every run for the "cache cleared" rows. pluggy and stevedore import every plugin module
they find (trivial modules here); hookwire's ``discover`` and importlib.metadata only read
metadata, so "hookwire discover + import" shows hookwire doing the same work as they do, and
"hookwire Host(...).load()" what an application pays: discover, import and ready every plugin.

Run: ``python benchmarks/bench_discovery.py [--quick] [--repeat N] [--json [PATH]]``.
"""

from __future__ import annotations

import ast
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _benchutil as bu
import _sites

GROUP = "benchwire.plugins"
SIZES = (10, 100, 1000)
PLUGINS = 10
QUICK_SIZES = (10,)
CACHED_LOOKUP_LIMIT_MS = 2.0
OVERHEAD_FRACTION = 1 / 3


@dataclass(frozen=True)
class Tool:
    """One way of listing the group: what to import first, then the listing itself."""

    key: str
    label: str
    setup: str
    listing: str
    clear_cache: bool = False
    whole_process: bool = True


TOOLS = (
    Tool(
        "hookwire_cold",
        "hookwire discover(), cache cleared",
        "from hookwire._loading.discovery import discover",
        "names = [e.name for e in discover(GROUP).entry_points]",
        clear_cache=True,
    ),
    Tool(
        "hookwire_cached",
        "hookwire discover(), cached",
        "from hookwire._loading.discovery import discover",
        "names = [e.name for e in discover(GROUP).entry_points]",
    ),
    Tool(
        "hookwire_cached_preloaded",
        "  same, cache module imported beforehand",
        "from hookwire._loading.discovery import discover\n"
        "import hookwire._loading.discovery_cache",
        "names = [e.name for e in discover(GROUP).entry_points]",
        whole_process=False,
    ),
    Tool(
        "hookwire_import",
        "hookwire discover() + import, cached",
        "from hookwire._loading.discovery import discover\nimport importlib",
        "names = [e.name for e in discover(GROUP).entry_points "
        "if importlib.import_module(e.value.partition(':')[0])]",
    ),
    Tool(
        "hookwire_host",
        "hookwire Host(...).load(), cached",
        "from hookwire import Host",
        "names = [record.name for record in Host(GROUP.partition('.')[0]).load()]",
    ),
    Tool(
        "importlib_metadata",
        "importlib.metadata.entry_points(group=)",
        "import importlib.metadata",
        "names = [e.name for e in importlib.metadata.entry_points(group=GROUP)]",
    ),
    Tool(
        "pluggy",
        "pluggy load_setuptools_entrypoints",
        "import pluggy\npm = pluggy.PluginManager(GROUP)",
        "pm.load_setuptools_entrypoints(GROUP)\nnames = [n for n, _ in pm.list_name_plugin()]",
    ),
    Tool(
        "stevedore",
        "stevedore ExtensionManager, own cache",
        "from stevedore import ExtensionManager",
        "names = ExtensionManager(GROUP, invoke_on_load=False).names()",
    ),
    Tool(
        "stevedore_cold",
        "stevedore ExtensionManager, cache cleared",
        "from stevedore import ExtensionManager",
        "names = ExtensionManager(GROUP, invoke_on_load=False).names()",
        clear_cache=True,
    ),
)


def in_process_code(tool: Tool, clock: str) -> str:
    now = bu.clock_expression(clock)
    return (
        f"import time\nGROUP = {GROUP!r}\n{tool.setup}\n"
        f"_t0 = {now}\n"
        f"{tool.listing}\n"
        f"_elapsed = {now} - _t0\n"
        "print(repr((_elapsed, sorted(names))))\n"
    )


def whole_process_code(tool: Tool) -> str:
    return f"GROUP = {GROUP!r}\n{tool.setup}\n{tool.listing}\n"


class Runner:
    """Runs tools in child processes of one bench venv, each with its own cache folder."""

    def __init__(self, venv: _sites.BenchVenv, workdir: Path, clock: str) -> None:
        self.venv = venv
        self.workdir = workdir
        self.clock = clock

    def cache_home(self, key: str, clear: bool) -> Path:
        home = self.workdir / "cache" / key
        if clear and home.exists():
            shutil.rmtree(home)
        home.mkdir(parents=True, exist_ok=True)
        return home

    def run(self, tool: Tool, code: str) -> tuple[float, str]:
        """Seconds and stdout of one run; raises with the child's last words on failure."""
        return bu.run_timed(
            [str(self.venv.python), "-c", code],
            clock=self.clock,
            env=self.venv.environment(self.cache_home(tool.key, tool.clear_cache)),
            cwd=self.workdir,
        )

    def bare(self) -> float:
        seconds, _ = bu.run_timed(
            [str(self.venv.python), "-c", "pass"],
            clock=self.clock,
            env=self.venv.environment(self.cache_home("bare", False)),
            cwd=self.workdir,
        )
        return seconds


def measure_size(size: int, options: bu.Options, workdir: Path) -> dict[str, Any]:
    """Every tool at one size: in-process ms, whole-process overhead ms, plugins found."""
    venv = _sites.create_bench_venv(workdir, ["hookwire", "pluggy", "stevedore"])
    expected = _sites.populate(venv.site_packages, size, GROUP, plugin_every=size // PLUGINS)
    runner = Runner(venv, workdir, options.clock)
    in_process: dict[str, float | None] = {}
    whole: dict[str, float] = {}
    errors: dict[str, str] = {}
    found: dict[str, int] = {}
    live: list[Tool] = []
    # Warm-up (not counted): fills the OS file cache, writes bytecode, fills warm caches, and
    # checks each tool finds exactly the expected plugins.
    for tool in TOOLS:
        try:
            _, out = runner.run(tool, in_process_code(tool, options.clock))
            _, names = ast.literal_eval(out.strip().splitlines()[-1])
            found[tool.key] = len(names)
            if sorted(names) != expected:
                raise RuntimeError(f"found {len(names)} plugins, expected {len(expected)}")
            live.append(tool)
        except Exception as error:
            errors[tool.key] = str(error)
    best_in = {tool.key: float("inf") for tool in live}
    best_whole = {tool.key: float("inf") for tool in live}
    best_bare = float("inf")
    for round_index in range(options.repeat):
        shift = round_index % max(1, len(live))
        for tool in live[shift:] + live[:shift]:
            _, out = runner.run(tool, in_process_code(tool, options.clock))
            seconds, _ = ast.literal_eval(out.strip().splitlines()[-1])
            best_in[tool.key] = min(best_in[tool.key], seconds)
            if tool.whole_process:
                best_bare = min(best_bare, runner.bare())
                wall, _ = runner.run(tool, whole_process_code(tool))
                best_whole[tool.key] = min(best_whole[tool.key], wall)
    for tool in TOOLS:
        in_process[tool.key] = best_in[tool.key] * 1e3 if tool.key in best_in else None
        if tool.key in best_whole and best_whole[tool.key] != float("inf"):
            whole[tool.key] = (best_whole[tool.key] - best_bare) * 1e3
    return {
        "distributions": size,
        "support_distributions": venv.support_distributions,
        "plugins_in_group": len(expected),
        "bare_python_ms": best_bare * 1e3,
        "in_process_ms": in_process,
        "whole_process_overhead_ms": {tool.key: whole.get(tool.key) for tool in TOOLS},
        "found": found,
        "errors": errors,
    }


def judge(largest: dict[str, Any]) -> list[dict[str, Any]]:
    size = largest["distributions"]
    in_process = largest["in_process_ms"]
    cached = in_process["hookwire_cached"]
    overhead = largest["whole_process_overhead_ms"]
    cold_share = bu.ratio(in_process["hookwire_cold"], in_process["importlib_metadata"])
    checks: list[dict[str, Any]] = [
        {
            "target": f"hookwire cached look-up < {CACHED_LOOKUP_LIMIT_MS:g} ms at {size}",
            "value": cached,
            "result": bu.NA if cached is None else _verdict(cached < CACHED_LOOKUP_LIMIT_MS),
        },
        {
            "target": f"hookwire cold look-up <= importlib.metadata's at {size}",
            "value": cold_share,
            "result": bu.NA if cold_share is None else _verdict(cold_share <= 1),
        },
    ]
    for peer in ("pluggy", "stevedore"):
        share = bu.ratio(overhead["hookwire_host"], overhead[peer])
        checks.append(
            {
                "target": f"hookwire Host.load() process overhead <= 1/3 of {peer}'s at {size}",
                "value": share,
                "result": bu.NA if share is None else _verdict(share <= OVERHEAD_FRACTION),
            }
        )
    return checks


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def render(document: dict[str, Any]) -> str:
    machine = document["machine"]
    sizes = document["sizes"]
    first = sizes[0]
    lines = [
        f"hookwire discovery benchmark  {machine['date']}  Python {machine['python']}  "
        f"{machine['cpus']} CPUs ({machine['cpu_model']})",
        f"group {GROUP!r}, one distribution in ten declares a plugin in it; minimum of "
        f"{document['repeat']} interleaved runs, {document['clock_description']}"
        + ("  [--quick: figures are meaningless]" if document["quick"] else ""),
        f"every venv also holds {len(first['support_distributions'])} support distributions: "
        + ", ".join(first["support_distributions"]),
        "",
    ]
    headers = ["milliseconds", *(f"{s['distributions']} dists" for s in sizes)]
    for title, key in (
        ("in-process: the first listing call in a fresh process", "in_process_ms"),
        ("whole process: python -c '<list>' minus python -c pass", "whole_process_overhead_ms"),
    ):
        table = bu.Table(headers)
        for tool in TOOLS:
            table.add([tool.label, *(bu.format_ms(s[key][tool.key]) for s in sizes)])
        lines += [title, table.render(), ""]
    lines.append(
        "plugins found: "
        + ", ".join(f"{s['plugins_in_group']} of {s['distributions']}" for s in sizes)
        + "; bare python -c pass: "
        + ", ".join(f"{s['bare_python_ms']:.1f} ms" for s in sizes)
    )
    errors = sorted({f"  {k}: {v}" for s in sizes for k, v in s["errors"].items()})
    if errors:
        lines += ["not measured (n/a):", *errors]
    lines.append("")
    checks = bu.Table(["target", "measured", "result"])
    for check in document["targets"]:
        value = check["value"]
        if value is None:
            shown = bu.NA
        elif check["target"].startswith("hookwire cached"):
            shown = f"{value:.2f} ms"
        else:
            shown = f"{value:.2f}"
        checks.add([check["target"], shown, check["result"]])
    lines += [checks.render(), "", f"overall: {document['result']}"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    options = bu.parse_options(__doc__.splitlines()[0], default_repeat=7, argv=argv)
    sizes = QUICK_SIZES if options.quick else SIZES
    results = []
    with tempfile.TemporaryDirectory(prefix="discovery-", dir=bu.scratch_root()) as tmp:
        for size in sizes:
            workdir = Path(tmp) / f"size{size}"
            workdir.mkdir()
            results.append(measure_size(size, options, workdir))
    targets = judge(results[-1])
    document = {
        "benchmark": "discovery",
        "unit": "ms",
        "quick": options.quick,
        "repeat": options.repeat,
        "clock": options.clock,
        "clock_description": options.clock_description,
        "machine": bu.machine_description(),
        "versions": {
            name: bu.package_version(name)
            for name in ("hookwire", "pluggy", "stevedore", "importlib-metadata")
        },
        "group": GROUP,
        "tools": {tool.key: tool.label for tool in TOOLS},
        "sizes": results,
        "targets": targets,
        "result": bu.overall_verdict([t["result"] for t in targets]),
    }
    bu.emit_results(options, document, render(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
