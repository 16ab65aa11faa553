"""The benchmark scripts run end to end in ``--quick`` mode and report every row they promise.

Only the shape of the report is checked (rows, ratios, verdict columns), never a timing: the
figures of a quick run mean nothing, and timings on a shared machine are not a test.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from venvtools import built_once

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"

DISPATCH_ROWS = {
    "send_0": "send, 0 receivers",
    "send_1": "send, 1 receiver",
    "send_1_declared": "send, 1 receiver, declared",
    "send_10": "send, 10 receivers",
    "send_10_declared": "send, 10 receivers, declared",
    "send_100": "send, 100 receivers",
    "send_10_bound_methods": "send, 10 bound methods",
    "send_10_of_100_by_sender": "send, 10 for sender + 90 others",
    "send_10_of_100_by_sender_cached": "same, use_caching=True",
    "send_10_of_8000_by_800_senders": "send, 10 of 8,000 by 800 senders",
    "connect_disconnect_1000": "connect+disconnect 1000",
    "asend_10_async": "asend, 10 async receivers",
    "asend_10_sync": "asend, 10 sync receivers",
    "send_10_async_from_sync": "send, 10 async receivers",
    "send_robust_10_one_raises": "send_robust, 10 (1 raises)",
}
# Peers that have no equivalent of a case; everything else must have been measured.
DISPATCH_NOT_APPLICABLE = {
    "direct": {"connect_disconnect_1000"},
    "blinker": {"send_robust_10_one_raises"},
    "psygnal": {
        "send_10_of_100_by_sender",
        "send_10_of_100_by_sender_cached",
        "send_10_of_8000_by_800_senders",
        "asend_10_async",
        "asend_10_sync",
        "send_10_async_from_sync",
        "send_robust_10_one_raises",
    },
}
DISCOVERY_TOOLS = (
    "hookwire_cold",
    "hookwire_cached",
    "hookwire_cached_preloaded",
    "hookwire_import",
    "hookwire_host",
    "importlib_metadata",
    "pluggy",
    "stevedore",
    "stevedore_cold",
)
CLI_COMMANDS = (
    "bare",
    "import_typer",
    "typer_app",
    "import_hookwire",
    "version",
    "list_json",
    "list_json_cold",
)


def run_quick(script: str, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    """Run ``benchmarks/<script> --quick --json FILE``; return the printed table and the JSON."""
    out = tmp_path / f"{script}.json"
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env={"HOOKWIRE_BENCH_DIR": str(tmp_path / "scratch"), **_inherited_env()},
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout, json.loads(out.read_text(encoding="utf-8"))


def _inherited_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("HOOKWIRE_", "PYTHON"))}


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def require(*packages: str) -> None:
    """Fail when a peer the benchmarks compare against is missing.

    The test environments install the ``bench`` extra, so a missing peer is a broken install,
    never a reason to skip."""
    missing = [name for name in packages if importlib.util.find_spec(name) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: install hookwire's 'bench' extra")


@pytest.fixture(scope="session")
def dispatch_report(run_folder: Path) -> tuple[str, dict[str, Any]]:
    """One quick dispatch run for the whole test run, made by the first worker that needs it
    and read by the others."""
    require("django", "blinker", "psygnal", "asgiref")
    folder = run_folder / "dispatch-benchmark"

    def run() -> Path:
        table, _ = run_quick("bench_dispatch.py", folder)
        (folder / "table.txt").write_text(table, encoding="utf-8")
        return folder / "bench_dispatch.py.json"

    report = built_once(folder / ".built", run)
    table = (folder / "table.txt").read_text(encoding="utf-8")
    return table, json.loads(report.read_text(encoding="utf-8"))


def test_dispatch_benchmark_prints_a_row_for_every_case(
    dispatch_report: tuple[str, dict[str, Any]],
) -> None:
    table, report = dispatch_report
    assert [row["key"] for row in report["rows"]] == list(DISPATCH_ROWS)
    for title in DISPATCH_ROWS.values():
        assert title in table


def test_dispatch_benchmark_measures_every_peer_that_has_an_equivalent(
    dispatch_report: tuple[str, dict[str, Any]],
) -> None:
    _, report = dispatch_report
    for row in report["rows"]:
        for peer in ("django", "blinker", "psygnal", "direct"):
            measured = row["ns_per_op"][peer]
            if row["key"] in DISPATCH_NOT_APPLICABLE.get(peer, set()):
                assert measured is None, (row["key"], peer)
                assert row["not_measured"][peer], (row["key"], peer)
            else:
                assert is_number(measured), (row["key"], peer, row["not_measured"])
                assert measured > 0, (row["key"], peer)


def test_dispatch_benchmark_gives_hookwire_ratios_and_a_verdict_on_every_row(
    dispatch_report: tuple[str, dict[str, Any]],
) -> None:
    table, report = dispatch_report
    for row in report["rows"]:
        assert is_number(row["ns_per_op"]["hookwire"]), (row["key"], row["not_measured"])
        for key, value in row["ratios"].items():
            peer = key.split("/")[0] if key != "hookwire/direct" else "direct"
            if row["key"] in DISPATCH_NOT_APPLICABLE.get(peer, set()):
                assert value is None, (row["key"], key)
            else:
                assert is_number(value), (row["key"], key)
        assert row["targets"], row["key"]
        assert {target["result"] for target in row["targets"]} <= {"PASS", "FAIL"}
        assert row["result"] in {"PASS", "FAIL"}
    assert report["result"] in {"PASS", "FAIL"}
    for header in ("hw/direct", "django/hw", "blinker/hw", "psygnal/hw", "target", "result"):
        assert header in table
    assert f"overall: {report['result']}" in table


def test_dispatch_benchmark_reports_import_cost_and_what_import_hookwire_pulls_in(
    dispatch_report: tuple[str, dict[str, Any]],
) -> None:
    table, report = dispatch_report
    imports = report["import"]
    for module in ("hookwire", "blinker"):
        figures = imports["modules"][module]
        assert is_number(figures["importtime_ms"])
        assert is_number(figures["process_minus_bare_ms"])
        assert f"import {module}" in table
    pulled = imports["hookwire_pulls_in"]
    assert isinstance(pulled["forbidden"], list)
    assert isinstance(pulled["avoided"], list)
    assert imports["result"] == ("FAIL" if pulled["forbidden"] else "PASS")
    assert "import hookwire pulls in" in table


@pytest.mark.slow
def test_dispatch_benchmark_json_flag_alone_prints_only_json_and_honours_the_clock(
    tmp_path: Path,
) -> None:
    require("django", "blinker", "psygnal", "asgiref")
    completed = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "bench_dispatch.py"),
            "--quick",
            "--json",
            "--clock",
            "wall",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["benchmark"] == "dispatch"
    assert report["quick"] is True
    assert report["clock"] == "wall"


def test_discovery_benchmark_reports_every_tool_and_every_target(tmp_path: Path) -> None:
    require("pluggy", "stevedore", "packaging")
    table, report = run_quick("bench_discovery.py", tmp_path)
    assert list(report["tools"]) == list(DISCOVERY_TOOLS)
    for label in report["tools"].values():
        assert label in table
    (size,) = report["sizes"]
    assert size["plugins_in_group"] >= 1
    for tool in DISCOVERY_TOOLS:
        assert tool not in size["errors"], size["errors"]
        assert is_number(size["in_process_ms"][tool]), tool
        overhead = size["whole_process_overhead_ms"][tool]
        if tool == "hookwire_cached_preloaded":  # the same process as hookwire_cached
            assert overhead is None
        else:
            assert is_number(overhead), tool
        assert size["found"][tool] == size["plugins_in_group"], tool
    assert len(report["targets"]) == 4
    for target in report["targets"]:
        assert target["target"] in table
        assert is_number(target["value"])
        assert target["result"] in {"PASS", "FAIL"}
    assert f"overall: {report['result']}" in table


def test_cli_benchmark_reports_every_command(tmp_path: Path) -> None:
    require("typer")
    table, report = run_quick("bench_cli.py", tmp_path)
    assert [row["key"] for row in report["rows"]] == list(CLI_COMMANDS)
    for row in report["rows"]:
        assert row["label"] in table
        assert row["key"] not in report["errors"], report["errors"]
        assert is_number(row["ms"]), row
        assert is_number(row["minus_bare_ms"]), row
        assert is_number(row["vs_import_typer"]), row


@pytest.mark.slow
def test_remote_benchmark_reports_publish_cost_throughput_and_latency(tmp_path: Path) -> None:
    pytest.importorskip("celery", reason="the remote benchmark needs the hookwire[celery] extra")
    from redistools import require_redis_server

    require_redis_server()
    table, report = run_quick("bench_remote.py", tmp_path)
    assert "publish one message" in table
    assert is_number(report["publish_us"]["hookwire"])
    assert is_number(report["publish_us"]["celery"])
    assert is_number(report["publish_ratio"])
    assert set(report["workers"]) == {"1", "2"}
    for figures in report["workers"].values():
        assert is_number(figures["throughput_per_s"])
        assert figures["latency_p50_ms"] <= figures["latency_p99_ms"]


def test_startup_benchmark_reports_every_tool_for_every_size(tmp_path: Path) -> None:
    require("pluggy")
    table, report = run_quick("bench_startup.py", tmp_path)
    assert list(report["tools"]) == ["hookwire", "lazy", "pluggy", "imports"]
    for label in report["tools"].values():
        assert label in table
    (size,) = report["sizes"]
    assert size["errors"] == {}  # every child reached every plugin's receiver
    for tool in report["tools"]:
        assert is_number(size["above_bare_ms"][tool]), tool
    assert is_number(size["hookwire_own_per_plugin_ms"])
    assert is_number(size["hookwire_vs_pluggy"])
    assert size["lazy_vs_10"] is None  # the quick run has no row of 10 to compare with
    for key, command in report["cli_commands"].items():
        assert command in table
        assert is_number(size["cli_above_bare_ms"][key]), key
    assert is_number(size["list_vs_signals"])


def test_otel_benchmark_reports_every_mode_for_one_and_ten_receivers(tmp_path: Path) -> None:
    table, report = run_quick("bench_otel.py", tmp_path)
    assert [row["key"] for row in report["rows"]] == ["send_1", "send_10"]
    for row in report["rows"]:
        assert row["title"] in table
        assert set(row["ns_per_op"]) == {
            "uninstrumented",
            "sampler_off",
            "sampler_off_metrics",
            "sampled",
            "sdk_floor",
        }
        assert all(is_number(value) for value in row["ns_per_op"].values()), row
        assert is_number(row["ratios"]["sampler_off/uninstrumented"])
        assert row["result"] in {"PASS", "FAIL"}


def test_asgi_benchmark_reports_every_variant_against_the_goal(tmp_path: Path) -> None:
    table, report = run_quick("bench_asgi.py", tmp_path)
    assert set(report["seconds"]) == {"middleware", "no middleware", "to_thread"}
    for variant, seconds in report["seconds"].items():
        assert is_number(seconds), variant
        assert variant in table
    assert is_number(report["middleware_vs_to_thread"])
    assert report["goal"] == 1.5
