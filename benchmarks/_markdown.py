"""Turn the JSON of the three benchmarks into the Markdown tables of benchmarks/README.md.

Run: ``python benchmarks/_markdown.py dispatch.json discovery.json cli.json``, where each file was
written by ``python benchmarks/bench_<name>.py --json <file>``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import _benchutil as bu

DISPATCH_COLUMNS = ("hookwire", "django", "blinker", "psygnal", "direct")
RATIOS = (
    ("hookwire/direct", "hw/direct"),
    ("django/hookwire", "django/hw"),
    ("blinker/hookwire", "blinker/hw"),
    ("psygnal/hookwire", "psygnal/hw"),
)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """A Markdown table; ``align`` has one ``l`` or ``r`` per column."""
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _short(label: str) -> str:
    for key, short in RATIOS:
        label = label.replace(key, short)
    return label


def _target(judged: dict[str, Any]) -> str:
    # A ratio no column shows (declared/undeclared) is given next to its target.
    label = _short(judged["target"])
    known = [key for key, _ in RATIOS]
    if judged["target"].split()[0] in known or judged["value"] is None:
        return label
    return f"{label} ({bu.format_ratio(judged['value'])})"


def dispatch(document: dict[str, Any]) -> str:
    # Two tables, so that each fits a page: the times, then the ratios and verdicts.
    times, verdicts = [], []
    for row in document["rows"]:
        title = row["title"].strip()
        times.append([title, *(bu.format_ns(row["ns_per_op"][name]) for name in DISPATCH_COLUMNS)])
        verdicts.append(
            [
                title,
                *(bu.format_ratio(row["ratios"][key]) for key, _ in RATIOS),
                "; ".join(_target(t) for t in row["targets"]),
                row["result"],
            ]
        )
    parts = [
        table(["case (ns/op)", *DISPATCH_COLUMNS], times, "l" + "r" * len(DISPATCH_COLUMNS)),
        table(
            ["case", *(label for _, label in RATIOS), "target", "result"],
            verdicts,
            "l" + "r" * len(RATIOS) + "ll",
        ),
    ]
    imports = document["import"]
    import_rows = [
        [
            f"`import {name}`",
            bu.format_ms(figures["importtime_ms"] if figures else None),
            bu.format_ms(figures["process_minus_bare_ms"] if figures else None),
        ]
        for name, figures in imports["modules"].items()
    ]
    parts.append(table(["import", "-X importtime ms", "process - bare ms"], import_rows, "lrr"))
    pulls = imports["hookwire_pulls_in"]
    if pulls is not None:
        parts.append(
            f"`import hookwire` adds {pulls['module_count']} modules; of the forbidden ones: "
            f"{', '.join(pulls['forbidden']) or 'none'}; of packaging/json/inspect: "
            f"{', '.join(pulls['avoided']) or 'none'} ({imports['result']})."
        )
    return "\n\n".join(parts)


def discovery(document: dict[str, Any]) -> str:
    sizes = document["sizes"]
    headers = ["ms", *(f"{s['distributions']} dists" for s in sizes)]
    parts = []
    for title, key in (
        ("In-process, first listing call", "in_process_ms"),
        ("Whole process, minus `python -c pass`", "whole_process_overhead_ms"),
    ):
        rows = [
            [label.strip(), *(bu.format_ms(s[key][tool]) for s in sizes)]
            for tool, label in document["tools"].items()
        ]
        parts.append(f"{title}:\n\n" + table(headers, rows, "l" + "r" * len(sizes)))
    checks = []
    for check in document["targets"]:
        value = check["value"]
        if value is None:
            shown = bu.NA
        elif check["target"].startswith("hookwire cached"):
            shown = f"{value:.2f} ms"
        else:
            shown = f"{value:.2f}"
        checks.append([check["target"], shown, check["result"]])
    parts.append(table(["target", "measured", "result"], checks, "lrl"))
    return "\n\n".join(parts)


def cli(document: dict[str, Any]) -> str:
    rows = [
        [
            f"`{row['label']}`"
            if row["label"].startswith(("python", "hookwire"))
            else row["label"].strip(),
            bu.format_ms(row["ms"]),
            bu.format_ms(row["minus_bare_ms"]),
            bu.format_ratio(row["vs_import_typer"]),
        ]
        for row in document["rows"]
    ]
    return table(["command", "ms", "minus bare ms", "vs import typer"], rows, "lrrr")


def main(paths: Sequence[str]) -> int:
    renderers = {"dispatch": dispatch, "discovery": discovery, "cli": cli}
    for path in paths:
        with open(path, encoding="utf-8") as stream:
            document = json.load(stream)
        machine = document["machine"]
        print(
            f"### {document['benchmark']} ({machine['date']}, Python {machine['python']}, "
            f"{machine['cpus']} CPUs, {machine['cpu_model']}, minimum of {document['repeat']}, "
            f"{document.get('clock', 'wall')} time)\n"
        )
        print(renderers[document["benchmark"]](document))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
