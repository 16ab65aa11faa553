"""Shared pieces of the benchmark scripts: command line, timing of processes, tables, JSON.

The scripts in this folder are run directly (``python benchmarks/bench_dispatch.py``) or all at
once by ``nox -s bench``; this module is imported from the script's own folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

NA = "n/a"


@dataclass
class Options:
    """What every benchmark script accepts on its command line."""

    quick: bool
    repeat: int
    json_path: str | None
    clock: str = "cpu"

    @property
    def clock_description(self) -> str:
        """How the figures were timed, for the report's header."""
        return CLOCKS[self.clock]


CLOCKS = {
    "cpu": "CPU time (user + system, all threads)",
    "wall": "wall-clock time",
}


def parse_options(description: str, default_repeat: int, argv: Sequence[str] | None) -> Options:
    """Parse ``--quick``, ``--repeat N``, ``--clock cpu|wall`` and ``--json [PATH]``.

    ``--json`` alone prints the JSON document on stdout instead of the table; ``--json PATH``
    prints the table and writes the JSON document to PATH.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes and a single repeat: checks that every row runs, figures mean nothing",
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help=f"repeats, minimum kept (default {default_repeat})"
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="PATH",
        help="emit machine-readable results: on stdout (no PATH) or into PATH",
    )
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu (default): CPU time, which other work on a shared machine does not inflate; "
        "wall: wall-clock time",
    )
    args = parser.parse_args(argv)
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else default_repeat)
    return Options(quick=args.quick, repeat=max(1, repeat), json_path=args.json, clock=args.clock)


def clock_function(clock: str) -> Callable[[], float]:
    """The in-process clock: ``time.process_time`` (all threads) or ``time.perf_counter``."""
    return time.process_time if clock == "cpu" else time.perf_counter


def clock_expression(clock: str) -> str:
    """The same clock as an expression for code run in a child (which imports ``time``)."""
    return "time.process_time()" if clock == "cpu" else "time.perf_counter()"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def package_version(name: str) -> str | None:
    """The installed version of a distribution, or None when it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine_description() -> dict[str, Any]:
    """Where the figures were measured: date, interpreter, CPU count and model."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
        "cpu_model": model,
    }


def run_timed(
    argv: Sequence[str],
    *,
    clock: str,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> tuple[float, str]:
    """Seconds one run of ``argv`` took, and its stdout; fails loudly on a non-zero exit.

    With ``clock="cpu"`` the seconds are the child's user + system CPU time (getrusage of the
    children waited for), so time the child spent waiting for a busy CPU does not count.
    """
    cpu_before = _children_cpu()
    start = time.perf_counter()
    completed = subprocess.run(
        list(argv),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - cpu_before
    if completed.returncode != 0:
        last = completed.stderr.strip().splitlines()[-1:] or [f"exit status {completed.returncode}"]
        raise RuntimeError(f"{' '.join(map(str, argv))[:200]!r} failed: {last[0]}")
    return (cpu if clock == "cpu" else elapsed), completed.stdout


def min_process_times(
    commands: Mapping[str, Sequence[str]],
    repeat: int,
    *,
    clock: str,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    envs: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, float]:
    """Minimum time of each command over ``repeat`` rounds, the commands interleaved.

    Interleaving spreads the noise of a shared machine over every command alike; one warm-up
    round (not counted) fills the OS file cache first. ``envs`` gives some commands (by name)
    their own environment instead of ``env``.
    """
    chosen = envs or {}
    for name, argv in commands.items():
        run_timed(argv, clock=clock, env=chosen.get(name, env), cwd=cwd)
    best = {name: float("inf") for name in commands}
    names = list(commands)
    for round_index in range(repeat):
        # Rotate the order so no command always runs right after the same neighbour.
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            seconds, _ = run_timed(commands[name], clock=clock, env=chosen.get(name, env), cwd=cwd)
            best[name] = min(best[name], seconds)
    return best


def format_ns(value: float | None) -> str:
    """Nanoseconds with thousands separators, or n/a."""
    if value is None:
        return NA
    return f"{value:,.0f}"


def format_ms(value: float | None) -> str:
    """Milliseconds with two decimals, or n/a."""
    if value is None:
        return NA
    return f"{value:.2f}"


def format_ratio(value: float | None) -> str:
    """A ratio as ``1.23x``, or n/a."""
    if value is None:
        return NA
    return f"{value:.2f}x"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either side is missing."""
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


@dataclass
class Table:
    """A plain-text table with right-aligned figures and a left-aligned first column."""

    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, cells: Sequence[str]) -> None:
        """Append one row; it must have one cell per header."""
        if len(cells) != len(self.headers):
            raise ValueError(f"row has {len(cells)} cells, table has {len(self.headers)} columns")
        self.rows.append(list(cells))

    def render(self) -> str:
        """The table as text, columns padded to their widest cell."""
        widths = [
            max(len(row[index]) for row in [self.headers, *self.rows])
            for index in range(len(self.headers))
        ]

        def line(cells: Sequence[str]) -> str:
            padded = [
                cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                for i, cell in enumerate(cells)
            ]
            return "  ".join(padded).rstrip()

        rule = "  ".join("-" * width for width in widths)
        return "\n".join([line(self.headers), rule, *(line(row) for row in self.rows)])


def emit_results(options: Options, document: dict[str, Any], text: str) -> None:
    """Print the table and/or the JSON document as ``--json`` asks."""
    write_results(options.json_path, document, text)


def write_results(json_path: str | None, document: dict[str, Any], text: str) -> None:
    """The table on stdout, and the JSON document into ``json_path`` as well; with
    ``json_path`` ``"-"``, the JSON document alone on stdout."""
    if json_path == "-":
        print(json.dumps(document, indent=2))
        return
    print(text)
    if json_path is not None:
        with open(json_path, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2)
            out.write("\n")


def overall_verdict(verdicts: Sequence[str | None]) -> str:
    """PASS when every judged row passed, FAIL when one failed, n/a when nothing was judged."""
    judged = [v for v in verdicts if v is not None and v != NA]
    if not judged:
        return NA
    return "PASS" if all(v == "PASS" for v in judged) else "FAIL"


def scratch_root() -> str:
    """Where temporary venvs go: ``$HOOKWIRE_BENCH_DIR``, else ``~/.cache/hookwire-bench``.

    Not under /tmp on purpose: stevedore turns its entry-point cache off for any interpreter
    whose path starts with ``/tmp``, which would measure stevedore without its cache.
    """
    root = os.environ.get("HOOKWIRE_BENCH_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "hookwire-bench"
    )
    os.makedirs(root, exist_ok=True)
    return root
