"""Dispatch benchmark: hookwire.Signal against django.dispatch, blinker, psygnal and a plain loop.

Every case runs in this one process; within a case the implementations are interleaved and
rotated on each repeat and the minimum of the repeats is kept (as ``timeit`` does), so noise
from a shared machine lands on every column alike. Garbage collection is off while a sample
runs.

Run: ``python benchmarks/bench_dispatch.py [--quick] [--repeat N] [--json [PATH]]``.
"""

from __future__ import annotations

import ast
import asyncio
import gc
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

import _benchutil as bu
from _dispatch_cases import (
    IMPLEMENTATIONS,
    UNDECLARED,
    Case,
    Context,
    Prepared,
    cases,
    django_signal_class,
    hookwire_signal_class,
    quiet_logger,
)

RATIO_KEYS = ("hookwire/direct", "django/hookwire", "blinker/hookwire", "psygnal/hookwire")
FORBIDDEN_ON_IMPORT = (
    "asyncio",
    "asgiref",
    "importlib.metadata",
    "importlib_metadata",
    "typer",
    "rich",
)
AVOIDED_ON_IMPORT = ("packaging", "json", "inspect")

Bench = Callable[[int], float]


# --------------------------------------------------------------------------- timing


def compile_bench(
    prepared: Prepared, is_async: bool, loop: asyncio.AbstractEventLoop, clock: str
) -> Bench:
    """Turn a statement into ``bench(n) -> seconds`` running it n times in a plain for loop."""
    body = "\n".join("        " + line for line in prepared.statement.splitlines())
    if is_async:
        source = (
            "async def _bench_async(_n, _perf=_perf):\n"
            "    _t0 = _perf()\n"
            "    for _i in range(_n):\n"
            f"{body}\n"
            "    return _perf() - _t0\n"
            "def _bench(_n):\n"
            "    return _loop.run_until_complete(_bench_async(_n))\n"
        )
    else:
        source = (
            "def _bench(_n, _perf=_perf):\n"
            "    _t0 = _perf()\n"
            "    for _i in range(_n):\n"
            f"{body}\n"
            "    return _perf() - _t0\n"
        )
    namespace = dict(prepared.namespace, _perf=bu.clock_function(clock), _loop=loop)
    exec(compile(source, f"<bench {prepared.statement[:40]!r}>", "exec"), namespace)
    bench: Bench = namespace["_bench"]
    return bench


def sample(bench: Bench, number: int) -> float:
    gc.collect()
    gc.disable()
    try:
        return bench(number)
    finally:
        gc.enable()


def calibrate(bench: Bench, target_seconds: float) -> int:
    """How many runs make one sample last about ``target_seconds``."""
    number = 1
    while True:
        elapsed = sample(bench, number)
        if elapsed >= target_seconds / 5 or number >= 10_000_000:
            break
        number *= 10 if elapsed < target_seconds / 100 else 2
    return max(1, round(number * target_seconds / max(elapsed, 1e-9)))


def prepare_benches(
    case: Case,
    ctx: Context,
    available: dict[str, str | None],
    options: bu.Options,
    numbers: dict[str, int],
    reasons: dict[str, str],
) -> dict[str, tuple[Bench, int]]:
    """Fresh signals and receivers for every implementation of ``case``, warmed up.

    ``numbers`` keeps each implementation's calibrated run count across blocks.
    """
    # Short samples, many rounds: on a busy machine each implementation then gets some quiet
    # rounds, and the minimum finds them.
    target_seconds = 0.002 if options.quick else 0.01
    benches: dict[str, tuple[Bench, int]] = {}
    for implementation in (*IMPLEMENTATIONS, *case.extra):
        if available.get(implementation):
            reasons[implementation] = str(available[implementation])
            continue
        if implementation in reasons:
            continue
        try:
            prepared = case.build(ctx, implementation)
            if prepared is None:
                reasons[implementation] = NOT_APPLICABLE_REASONS.get(
                    implementation, "no equivalent"
                )
                continue
            bench = compile_bench(prepared, case.is_async, ctx.loop, options.clock)
            # Warm up before calibrating: the first call pays for first-call caches, adapters,
            # thread pools, and the first async send of the process for importing asyncio's
            # side of hookwire and asgiref (2-3 ms). Calibrated on that call, the "asend, 10
            # async receivers" row ran 4 sends a sample where the others ran ~200; an async
            # sample also pays for one run_until_complete(), so the row's result depended on
            # how slow that one cold call happened to be in the process (44-89 us a send).
            bench(1)
            if implementation not in numbers:
                numbers[implementation] = 1 if options.quick else calibrate(bench, target_seconds)
            bench(numbers[implementation])  # warm-up at the calibrated size
        except Exception as error:
            reasons[implementation] = f"error: {type(error).__name__}: {error}"
            continue
        benches[implementation] = (bench, numbers[implementation])
    return benches


def measure_case(
    case: Case, ctx: Context, available: dict[str, str | None], options: bu.Options
) -> tuple[dict[str, float | None], dict[str, str]]:
    """ns/op of every implementation for one case, and why the missing ones are missing.

    The rounds are split into blocks, each on freshly built signals and receivers: how the
    objects of one set-up happen to lie in memory can make it a little slower or faster
    throughout, and the minimum over several set-ups removes that luck.
    """
    blocks = 1 if options.quick else min(3, options.repeat)
    reasons: dict[str, str] = {}
    numbers: dict[str, int] = {}
    best: dict[str, float] = {}
    round_index = 0
    for block in range(blocks):
        benches = prepare_benches(case, ctx, available, options, numbers, reasons)
        names = list(benches)
        rounds = options.repeat // blocks + (1 if block < options.repeat % blocks else 0)
        for _ in range(rounds):
            shift = round_index % max(1, len(names))
            round_index += 1
            for name in names[shift:] + names[:shift]:
                bench, number = benches[name]
                seconds = sample(bench, number) / number
                best[name] = min(best.get(name, float("inf")), seconds)
    results: dict[str, float | None] = {
        name: (best[name] * 1e9 if name in best else None)
        for name in (*IMPLEMENTATIONS, *case.extra)
    }
    return results, reasons


NOT_APPLICABLE_REASONS = {
    "psygnal": "no sender filter / no robust send / async receivers are fire-and-forget",
    "blinker": "no robust send",
    "direct": "no registry to connect to",
}


# --------------------------------------------------------------------------- import cost


def importtime_cumulative_us(module: str) -> float:
    """Cumulative import time of ``module`` reported by ``-X importtime``, in microseconds."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) == 3 and parts[2].rstrip() == f" {module}":
            return float(parts[1])
    raise RuntimeError(f"-X importtime reported no line for {module}")


def modules_imported_by(module: str) -> list[str]:
    """Every module that ``import module`` adds to sys.modules in a fresh interpreter."""
    code = (
        "import sys; before = set(sys.modules); "
        f"import {module}; print(sorted(set(sys.modules) - before))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    imported: list[str] = ast.literal_eval(completed.stdout.strip().splitlines()[-1])
    return imported


def import_costs(repeat: int, hookwire_ok: bool, clock: str) -> dict[str, Any]:
    modules = ["hookwire", "blinker"] if hookwire_ok else ["blinker"]
    commands = {"bare": [sys.executable, "-c", "pass"]}
    commands.update({name: [sys.executable, "-c", f"import {name}"] for name in modules})
    times = bu.min_process_times(commands, repeat, clock=clock)
    result: dict[str, Any] = {"bare_python_ms": times["bare"] * 1e3, "modules": {}}
    for name in ("hookwire", "blinker"):
        if name not in modules:
            result["modules"][name] = None
            continue
        cumulative = min(importtime_cumulative_us(name) for _ in range(repeat))
        result["modules"][name] = {
            "importtime_ms": cumulative / 1e3,
            "process_minus_bare_ms": (times[name] - times["bare"]) * 1e3,
        }
    if hookwire_ok:
        imported = modules_imported_by("hookwire")

        def pulled(prefixes: Sequence[str]) -> list[str]:
            return sorted(
                m for m in imported if any(m == p or m.startswith(p + ".") for p in prefixes)
            )

        result["hookwire_pulls_in"] = {
            "forbidden": pulled(FORBIDDEN_ON_IMPORT),
            "avoided": pulled(AVOIDED_ON_IMPORT),
            "module_count": len(imported),
        }
        result["result"] = "PASS" if not result["hookwire_pulls_in"]["forbidden"] else "FAIL"
    else:
        result["hookwire_pulls_in"] = None
        result["result"] = bu.NA
    return result


# --------------------------------------------------------------------------- report


def main(argv: Sequence[str] | None = None) -> int:
    options = bu.parse_options(__doc__.splitlines()[0], default_repeat=30, argv=argv)
    hookwire_class, hookwire_reason = hookwire_signal_class()
    quiet_logger("django.dispatch")
    quiet_logger("hookwire.dispatch")
    quiet_logger("bench.direct")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    ctx = Context(hookwire=hookwire_class, django=django_signal_class(), loop=loop)
    available: dict[str, str | None] = dict.fromkeys(IMPLEMENTATIONS)
    available["hookwire"] = hookwire_reason

    connect_count = 1000
    rows: list[dict[str, Any]] = []
    for case in cases(connect_count):
        ns, reasons = measure_case(case, ctx, available, options)
        ratios = {
            "hookwire/direct": bu.ratio(ns["hookwire"], ns["direct"]),
            "django/hookwire": bu.ratio(ns["django"], ns["hookwire"]),
            "blinker/hookwire": bu.ratio(ns["blinker"], ns["hookwire"]),
            "psygnal/hookwire": bu.ratio(ns["psygnal"], ns["hookwire"]),
        }
        if UNDECLARED in case.extra:
            # The row's hookwire signal declares its arguments; the baseline does not.
            ratios["declared/undeclared"] = bu.ratio(ns["hookwire"], ns[UNDECLARED])
        judged: list[dict[str, Any]] = [
            {
                "target": t.label,
                "value": ratios[t.ratio_key],
                "result": t.judge(ratios[t.ratio_key]),
            }
            for t in case.targets
        ]
        rows.append(
            {
                "key": case.key,
                "title": case.title,
                "ns_per_op": ns,
                "ratios": ratios,
                "targets": judged,
                "result": bu.overall_verdict([j["result"] for j in judged]),
                "not_measured": reasons,
            }
        )
    loop.close()

    imports = import_costs(2 if options.quick else 20, hookwire_class is not None, options.clock)
    overall = bu.overall_verdict([row["result"] for row in rows] + [imports["result"]])
    document = {
        "benchmark": "dispatch",
        "unit": "ns/op",
        "quick": options.quick,
        "repeat": options.repeat,
        "clock": options.clock,
        "clock_description": options.clock_description,
        "machine": bu.machine_description(),
        "versions": {
            name: bu.package_version(name)
            for name in ("hookwire", "django", "blinker", "psygnal", "asgiref")
        },
        "rows": rows,
        "import": imports,
        "result": overall,
    }
    bu.emit_results(options, document, render(document))
    return 0


def target_text(judged: dict[str, Any]) -> str:
    """A target as shown, with its measured value when no column shows that ratio."""
    label = str(judged["target"])
    if label.split()[0] in RATIO_KEYS or judged["value"] is None:
        return label
    return f"{label} ({bu.format_ratio(judged['value'])})"


def render(document: dict[str, Any]) -> str:
    machine = document["machine"]
    versions = document["versions"]
    lines = [
        f"hookwire dispatch benchmark  {machine['date']}  Python {machine['python']}  "
        f"{machine['cpus']} CPUs ({machine['cpu_model']})",
        "versions: " + ", ".join(f"{k} {v or 'missing'}" for k, v in versions.items()),
        f"ns per operation in {document['clock_description']}, "
        f"minimum of {document['repeat']} interleaved repeats"
        + ("  [--quick: figures are meaningless]" if document["quick"] else ""),
        "",
    ]
    table = bu.Table(
        [
            "case",
            *IMPLEMENTATIONS,
            "hw/direct",
            "django/hw",
            "blinker/hw",
            "psygnal/hw",
            "target",
            "result",
        ]
    )
    for row in document["rows"]:
        targets = "; ".join(target_text(j) for j in row["targets"])
        table.add(
            [
                row["title"],
                *(bu.format_ns(row["ns_per_op"][name]) for name in IMPLEMENTATIONS),
                *(bu.format_ratio(row["ratios"][key]) for key in RATIO_KEYS),
                targets,
                row["result"],
            ]
        )
    lines.append(table.render())
    notes = sorted(
        {
            f"  {name}: {reason}"
            for row in document["rows"]
            for name, reason in row["not_measured"].items()
        }
    )
    if notes:
        lines += ["", "not measured (n/a):", *notes]

    imports = document["import"]
    lines += ["", f"import cost (bare python -c pass: {imports['bare_python_ms']:.1f} ms)"]
    import_table = bu.Table(["module", "-X importtime ms", "process - bare ms"])
    for name, figures in imports["modules"].items():
        import_table.add(
            [
                f"import {name}",
                bu.format_ms(figures["importtime_ms"] if figures else None),
                bu.format_ms(figures["process_minus_bare_ms"] if figures else None),
            ]
        )
    lines.append(import_table.render())
    pulls = imports["hookwire_pulls_in"]
    if pulls is None:
        lines.append("import hookwire pulls in: n/a (hookwire not importable)")
    else:
        forbidden = ", ".join(pulls["forbidden"]) or "none"
        avoided = ", ".join(pulls["avoided"]) or "none"
        lines.append(
            f"import hookwire pulls in {pulls['module_count']} modules; of "
            f"{', '.join(FORBIDDEN_ON_IMPORT)}: {forbidden}  -> {imports['result']}"
        )
        lines.append(f"  of {', '.join(AVOIDED_ON_IMPORT)} (avoid if possible): {avoided}")
    lines += ["", f"overall: {document['result']}"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
