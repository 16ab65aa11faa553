"""``hookwire run``: main's exit status, failing plugins as warnings, Ctrl-C, SIGTERM, --trace."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
from clitools import World

pytestmark = pytest.mark.e2e


def test_run_calls_main_which_sends_to_the_plugins_receivers_and_exits_0(world: World) -> None:
    result = world.hookwire("run", "clihost.app:calm")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["good: order 42", "main ran"]
    assert result.stderr == ""


def test_run_exits_with_the_status_main_returns(world: World) -> None:
    result = world.hookwire("run", "clihost.app:calm", env={"CLIHOST_EXIT": "3"})
    assert result.returncode == 3
    assert "main ran" in result.stdout


def test_each_failed_plugin_is_one_warning_line_on_stderr_and_the_host_runs_anyway(
    world: World,
) -> None:
    result = world.hookwire("run", "clihost.app:host")
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["good: order 42", "main ran"]
    warnings = result.stderr.splitlines()
    assert len(warnings) == 4
    assert all(line.startswith("hookwire: warning: plugin ") for line in warnings)
    assert any("broken_syntax (shop-broken-syntax 0.0.2)" in line for line in warnings)


def test_an_application_that_configures_logging_gets_each_failure_once_through_it(
    world: World,
) -> None:
    result = world.hookwire("run", "clihost.logged:host")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 4, lines
    assert all(line.startswith("LOG WARNING hookwire.loading plugin ") for line in lines)


def test_listing_shows_failed_plugins_in_the_table_without_warnings_on_stderr(
    world: World,
) -> None:
    result = world.hookwire("plugins", "list", "clihost.app:host")
    assert result.returncode == 0
    assert result.stderr == ""
    assert "broken_syntax" in result.stdout


def test_run_under_strict_stops_before_main_with_one_error_line(world: World) -> None:
    result = world.hookwire("run", "clihost.app:host", "--strict")
    assert result.returncode == 1
    assert "main ran" not in result.stdout
    (line,) = result.stderr.splitlines()
    assert line.startswith("hookwire: error: 4 plugin failures: ")


def test_disable_and_plugin_options_apply_to_run(world: World) -> None:
    result = world.hookwire(
        "run", "clihost.app:host", "-p", "good", "--disable", "needy", "--no-autoload"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # the broken plugins were never imported
    assert result.stdout.splitlines() == ["good: order 42", "main ran"]


def test_no_autoload_runs_the_host_without_importing_any_plugin(world: World) -> None:
    result = world.hookwire("run", "clihost.app:host", "--no-autoload")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # not even the broken plugins were imported
    assert result.stdout.splitlines() == ["main ran"]  # good's receiver is not connected


def test_an_exception_in_main_is_one_line_and_exit_1_with_the_traceback_only_on_request(
    world: World,
) -> None:
    result = world.hookwire("run", "clihost.app:crash")
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("hookwire: error: ValueError: oven on fire")
    assert "--traceback" in line

    verbose = world.hookwire("--traceback", "run", "clihost.app:crash")
    assert verbose.returncode == 1
    assert "Traceback (most recent call last)" in verbose.stderr
    assert 'raise ValueError("oven on fire")' in verbose.stderr
    assert verbose.stderr.splitlines()[-1] == "hookwire: error: ValueError: oven on fire"


def test_the_default_host_main_prints_a_summary_of_its_plugins(world: World) -> None:
    # No plugin of the hookwire.plugins group is installed in this venv.
    result = world.hookwire("run")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hookwire: no plugins in group 'hookwire.plugins'\n"


# -- signals that stop the host --------------------------------------------------------------


def _start_blocking(world: World, host: str, stopfile: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        world.command("run", host),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=world.home,
        env=world.popen_env({"CLIHOST_STOPFILE": str(stopfile)}),
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "blocking\n"  # main is running
    return process


@pytest.mark.parametrize(
    "host", ["clihost.app:blocker", "clihost.app:ablocker"], ids=["sync", "async"]
)
@pytest.mark.parametrize(
    ("signum", "status", "exception"),
    [(signal.SIGINT, 130, "KeyboardInterrupt"), (signal.SIGTERM, 143, "Terminated")],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_stop_signal_sends_host_stopping_and_exits_128_plus_its_number(
    world: World, tmp_path: Path, host: str, signum: int, status: int, exception: str
) -> None:
    stopfile = tmp_path / "events.txt"
    process = _start_blocking(world, host, stopfile)
    try:
        os.kill(process.pid, signum)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == status, stderr
    assert "Traceback" not in stderr
    events = stopfile.read_text(encoding="utf-8").splitlines()
    assert events[0] == "started"
    assert events[1:] == [f"stopping exc={exception}"]


# -- tracing -----------------------------------------------------------------------------------


def test_trace_logs_every_send_with_sender_receivers_plugins_and_times_on_stderr(
    world: World,
) -> None:
    result = world.hookwire("run", "clihost.app:calm", "--trace")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["good: order 42", "main ran"]
    lines = result.stderr.splitlines()
    assert all(line.startswith("trace: ") for line in lines)
    time = r"\d+\.\d{3} ms"

    order = lines.index(
        next(line for line in lines if line.startswith("trace: clihost.signals.order_placed"))
    )
    assert re.fullmatch(
        rf"trace: clihost\.signals\.order_placed send from counter: 2 receivers, {time}",
        lines[order],
    )
    assert re.fullmatch(
        rf"trace:   shop_good\.signals\.announce_order plugin=good {time}", lines[order + 1]
    )
    assert re.fullmatch(rf"trace:   shop_needy\.count_order plugin=needy {time}", lines[order + 2])

    sent = [line.split()[1] for line in lines if not line.startswith("trace:  ")]
    assert sent.count("hookwire.signals.plugin_loaded") == 2
    assert sent[-4:] == [
        "hookwire.signals.plugins_ready",
        "hookwire.signals.host_started",
        "clihost.signals.order_placed",
        "hookwire.signals.host_stopping",
    ]
    started = lines.index(next(line for line in lines if "host_started" in line))
    assert "from <Host 'calm' 2.0" in lines[started]
    assert re.fullmatch(
        rf"trace:   shop_good\.signals\.greet plugin=good {time}", lines[started + 1]
    )


def test_trace_marks_a_receiver_that_raised_and_the_failure_is_one_log_line(
    world: World,
) -> None:
    result = world.hookwire("run", "clihost.app:fragile", "--trace")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert re.fullmatch(
        r"trace:   grumpy_plugin\.refuse_to_stop plugin=grumpy \d+\.\d{3} ms "
        r"raised RuntimeError: cannot stop now",
        lines[-1],
    )
    assert "Traceback" not in result.stderr


def test_a_failing_stopping_receiver_is_logged_on_one_line_without_traceback(
    world: World,
) -> None:
    result = world.hookwire("run", "clihost.app:fragile")
    assert result.returncode == 0
    # Under run, stdout belongs to the application and its plugins.
    assert result.stdout.splitlines() == ["grumpy: imported", "main ran"]
    # hookwire's own summary, from the attributes on Django's log record: the receiver, its
    # plugin, the signal and the error, once.
    (line,) = result.stderr.splitlines()
    assert line == (
        "hookwire: error: receiver grumpy_plugin.refuse_to_stop of plugin 'grumpy' failed in "
        "hookwire.signals.host_stopping: RuntimeError: cannot stop now"
    )

    verbose = world.hookwire("--traceback", "run", "clihost.app:fragile")
    assert "Traceback (most recent call last)" in verbose.stderr
    assert 'raise RuntimeError("cannot stop now")' in verbose.stderr
