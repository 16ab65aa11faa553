"""The example pizzeria and its plugins, installed from wheels into real venvs, driven through
the real ``hookwire`` console script.

The example packages under ``plugins_example/`` are built into wheels once per test run and
installed beside a wheel of hookwire. Every assertion is on what a user sees: the JSON and
tables of the CLI, the lines the demo prints, exit statuses, and stderr.
"""

from __future__ import annotations

import glob
import json
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from docstools import SCHEMAS
from venvtools import ROOT, Venv, create_venv

pytestmark = pytest.mark.e2e

EXAMPLES = ROOT / "plugins_example"
HOST = "pizzeria.app:host"
EXAMPLE_PACKAGES = ("pizzeria", "pizzeria-audit", "pizzeria-loyalty", "pizzeria-sms")

# What `plugins list --json` says about each example plugin when all three are installed.
EXPECTED_PLUGINS: dict[str, dict[str, Any]] = {
    "audit": {
        "name": "audit",
        "distribution": "pizzeria-audit",
        "version": "2.1.0",
        "entry_point": "audit = pizzeria_audit:AuditPlugin",
        "state": "ready",
        "error": None,
        "receivers": 6,
        "requires": [],
    },
    "loyalty": {
        "name": "loyalty",
        "distribution": "pizzeria-loyalty",
        "version": "0.3.0",
        "entry_point": "loyalty = pizzeria_loyalty",
        "state": "ready",
        "error": None,
        "receivers": 3,
        "requires": [],
    },
    "sms": {
        "name": "sms",
        "distribution": "pizzeria-sms",
        "version": "1.0.0",
        "entry_point": "sms = pizzeria_sms:SmsPlugin",
        "state": "ready",
        "error": None,
        "receivers": 1,
        "requires": ["loyalty"],
    },
}

# What `hookwire run pizzeria.app:host` prints with the three plugins installed.
DEMO_OUTPUT = """\
[audit] plugin loaded: audit (pizzeria-audit 2.1.0)
[audit] plugin loaded: loyalty (pizzeria-loyalty 0.3.0)
[audit] plugin loaded: sms (pizzeria-sms 1.0.0)
[audit] plugins ready: audit, loyalty, sms
[audit] host started: pizzeria 1.4.0
[pizzeria] Luigi's opens
[audit] setting changed: oven_temperature = 250
[pizzeria] order #1 (counter): Ada wants a medium mozzarella & basil pizza
[loyalty] Ada earns 10 points (total 10)
[pizzeria] order #2 (counter): Grace wants a large mushrooms & olives pizza
[loyalty] Grace earns 10 points (total 10)
[pizzeria] order #3 (phone): Linus wants a small pepperoni pizza
[pizzeria] pizza #1 is ready at the counter
[loyalty] pizzas done today: 1
[sms] from PIZZERIA to Ada: Ada, your medium pizza (mozzarella, basil) is ready!
[loyalty] Ada's stamp card: 1 of 5
[pizzeria] baking pizza #2 at 250 degrees
[pizzeria] pizza #2 comes out of the oven
[loyalty] pizzas done today: 2
[sms] from PIZZERIA to Grace: Grace, your large pizza (mushrooms, olives) is ready!
[loyalty] Grace's stamp card: 1 of 5
[pizzeria] baking pizza #3 at 250 degrees
[pizzeria] pizza #3 comes out of the oven
[loyalty] pizzas done today: 3
[sms] from PIZZERIA to Linus: Linus, your small pizza (pepperoni) is ready!
[loyalty] Linus's stamp card: 1 of 5
[pizzeria] Luigi's closes: 3 pizzas served
[audit] host stopping normally: pizzeria 1.4.0
"""


# --------------------------------------------------------------------------------------------
# Fixtures and helpers


@pytest.fixture(scope="session")
def example_wheels(example_wheels: dict[str, Path]) -> dict[str, Path]:
    """The wheels of the quick start's example packages (of the run's shared wheelhouse)."""
    return {name: example_wheels[name] for name in EXAMPLE_PACKAGES}


@pytest.fixture(scope="module")
def pizzeria_venv(
    tmp_path_factory: pytest.TempPathFactory, hookwire_wheel: Path, example_wheels: dict[str, Path]
) -> Venv:
    """One venv with hookwire, the pizzeria and its three plugins, shared by read-only tests."""
    path = tmp_path_factory.mktemp("pizzeria") / "venv"
    return create_venv(path, wheels=[hookwire_wheel, *example_wheels.values()])


@pytest.fixture
def fresh_pizzeria_venv(make_venv: Callable[[], Venv], example_wheels: dict[str, Path]) -> Venv:
    """A venv of its own for a test that installs or uninstalls something."""
    venv = make_venv()
    venv.install(*example_wheels.values())
    return venv


def hookwire(
    venv: Venv, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the venv's ``hookwire`` console script from a folder with no pyproject.toml."""
    return venv.run("hookwire", *args, env=env, cwd=venv.path)


def json_output(result: subprocess.CompletedProcess[str]) -> Any:
    """The JSON document the command printed: stdout must hold that and nothing else."""
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def plugins_by_name(venv: Venv, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    listed = json_output(hookwire(venv, "plugins", "list", HOST, "--json", *args, env=env))
    by_name = {entry["name"]: entry for entry in listed}
    assert len(by_name) == len(listed), f"a plugin is listed twice: {listed}"
    return by_name


def validate(instance: Any, schema_name: str) -> None:
    """Check ``instance`` against the documented JSON Schema of that command's output."""
    schema = json.loads((SCHEMAS / schema_name).read_text(encoding="utf-8"))
    jsonschema.validate(instance, schema)


def source_line(path: Path, pattern: str) -> int:
    """The 1-based number of the first line of ``path`` that starts with ``pattern``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip().startswith(pattern):
            return number
    raise AssertionError(f"{pattern!r} not found in {path}")


def prefixed_lines(text: str, *prefixes: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefixes)]


# --------------------------------------------------------------------------------------------
# plugins list / plugins check


def test_plugins_list_json_shows_exactly_the_three_example_plugins_ready(
    pizzeria_venv: Venv,
) -> None:
    listed = json_output(hookwire(pizzeria_venv, "plugins", "list", HOST, "--json"))
    validate(listed, "plugins-list.schema.json")

    by_name = {entry["name"]: entry for entry in listed}
    assert len(by_name) == len(listed) == 3
    for name, expected in EXPECTED_PLUGINS.items():
        assert {key: by_name[name][key] for key in expected} == expected


@pytest.mark.parametrize("command", [("plugins", "list"), ("signals",)])
def test_what_plugins_print_while_loading_goes_to_stderr_beside_json_output(
    pizzeria_venv: Venv, command: tuple[str, ...]
) -> None:
    result = hookwire(pizzeria_venv, *command, HOST, "--json")
    assert isinstance(json_output(result), list)
    assert result.stderr.splitlines() == [
        "[audit] plugin loaded: audit (pizzeria-audit 2.1.0)",
        "[audit] plugin loaded: loyalty (pizzeria-loyalty 0.3.0)",
        "[audit] plugin loaded: sms (pizzeria-sms 1.0.0)",
        "[audit] plugins ready: audit, loyalty, sms",
    ]


def test_plugins_list_json_is_in_load_order_with_requirements_first(pizzeria_venv: Venv) -> None:
    names = [entry["name"] for entry in plugins_by_name(pizzeria_venv).values()]
    assert names.index("loyalty") < names.index("sms")


def test_plugins_list_table_names_each_plugin_with_its_distribution_and_version(
    pizzeria_venv: Venv,
) -> None:
    result = hookwire(pizzeria_venv, "plugins", "list", HOST)
    assert result.returncode == 0, result.stderr
    for expected in EXPECTED_PLUGINS.values():
        row = next(line for line in result.stdout.splitlines() if expected["name"] in line.split())
        assert expected["distribution"] in row
        assert expected["version"] in row


def test_plugins_check_exits_zero_when_every_plugin_loads(pizzeria_venv: Venv) -> None:
    result = hookwire(pizzeria_venv, "plugins", "check", HOST)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_plugins_check_exits_one_naming_sms_when_loyalty_is_disabled(pizzeria_venv: Venv) -> None:
    result = hookwire(pizzeria_venv, "plugins", "check", HOST, "--disable", "loyalty")
    assert result.returncode == 1
    (failure,) = [line for line in result.stdout.splitlines() if "sms requires loyalty" in line]
    assert "pizzeria-sms 1.0.0" in failure


def test_disabling_loyalty_by_environment_fails_sms_because_it_requires_loyalty(
    pizzeria_venv: Venv,
) -> None:
    by_name = plugins_by_name(pizzeria_venv, "--all", env={"HOOKWIRE_DISABLE_PLUGINS": "loyalty"})
    assert by_name["loyalty"]["state"] == "disabled"
    assert by_name["loyalty"]["receivers"] == 0
    assert by_name["sms"]["state"] == "failed"
    assert by_name["sms"]["receivers"] == 0
    assert "loyalty" in by_name["sms"]["error"]
    assert by_name["audit"]["state"] == "ready"

    without_all = plugins_by_name(pizzeria_venv, env={"HOOKWIRE_DISABLE_PLUGINS": "loyalty"})
    assert sorted(without_all) == ["audit", "sms"]


# --------------------------------------------------------------------------------------------
# signals


def test_signals_json_lists_every_receiver_attributed_to_the_plugin_that_connected_it(
    pizzeria_venv: Venv,
) -> None:
    listed = json_output(hookwire(pizzeria_venv, "signals", HOST, "--json"))
    validate(listed, "signals.schema.json")
    signals = {entry["signal"]: entry["receivers"] for entry in listed}

    site = pizzeria_venv.site_packages
    loyalty_file = site / "pizzeria_loyalty" / "signals.py"
    sms_file = site / "pizzeria_sms" / "__init__.py"
    audit_file = site / "pizzeria_audit" / "listeners.py"

    def expected(
        name: str,
        file: Path,
        line: int,
        plugin: str,
        *,
        is_async: bool = False,
        uid: str | None = None,
    ) -> dict[str, Any]:
        return {
            "receiver": name,
            "file": str(file.resolve()),
            "line": line,
            "plugin": plugin,
            "weak": True,
            "dispatch_uid": uid,
            "async": is_async,
        }

    def seen(receivers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                **{
                    key: entry[key]
                    for key in ("receiver", "line", "plugin", "weak", "dispatch_uid", "async")
                },
                "file": str(Path(entry["file"]).resolve()),
            }
            for entry in receivers
        ]

    lifecycle = [
        "plugin_loaded",
        "plugin_failed",
        "plugins_ready",
        "host_started",
        "host_stopping",
        "setting_changed",
        "remote_failed",
    ]
    assert list(signals) == [
        "pizzeria.signals.pizza_ordered",
        "pizzeria.signals.pizza_done",
        *(f"hookwire.signals.{name}" for name in lifecycle),
    ]

    ordered = signals["pizzeria.signals.pizza_ordered"]
    assert seen(ordered) == [
        expected(
            "pizzeria_loyalty.signals.award_points",
            loyalty_file,
            source_line(loyalty_file, "@receiver(pizza_ordered"),
            "loyalty",
        ),
    ]
    assert ordered[0]["sender"] == "pizzeria.store.PizzaStore"

    # Call order: loyalty connected before sms (sms requires it), sync before async.
    done = signals["pizzeria.signals.pizza_done"]
    assert seen(done) == [
        expected(
            "pizzeria_loyalty.signals.count_pizzas",
            loyalty_file,
            source_line(loyalty_file, "@receiver(pizza_done, dispatch_uid"),
            "loyalty",
            uid="pizzeria-loyalty:count-pizzas",
        ),
        expected(
            "pizzeria_sms.SmsGateway.on_pizza_done",
            sms_file,
            source_line(sms_file, "def on_pizza_done"),
            "sms",
        ),
        # Async receivers are called after the sync ones, as Django groups them.
        expected(
            "pizzeria_loyalty.signals.stamp_card",
            loyalty_file,
            source_line(loyalty_file, "@receiver(pizza_done)"),
            "loyalty",
            is_async=True,
        ),
    ]
    assert all(entry["sender"] is None for entry in done)

    # The audit plugin hooks every lifecycle signal but remote_failed (sent only on workers).
    assert signals["hookwire.signals.remote_failed"] == []
    for signal in lifecycle[:-1]:
        assert seen(signals[f"hookwire.signals.{signal}"]) == [
            expected(
                f"pizzeria_audit.listeners.on_{signal}",
                audit_file,
                source_line(audit_file, f"@receiver({signal})"),
                "audit",
            ),
        ]


def test_signals_table_shows_the_pizzeria_signals_and_their_receivers(pizzeria_venv: Venv) -> None:
    result = hookwire(pizzeria_venv, "signals", HOST)
    assert result.returncode == 0, result.stderr
    for text in (
        "pizzeria.signals.pizza_done",
        "pizzeria.signals.pizza_ordered",
        "award_points",
        "stamp_card",
        "count_pizzas",
        "on_pizza_done",
        "on_setting_changed",
    ):
        assert text in result.stdout


# --------------------------------------------------------------------------------------------
# run


def test_run_prints_the_demo_with_every_plugin_in_order(pizzeria_venv: Venv) -> None:
    result = hookwire(pizzeria_venv, "run", HOST)
    assert result.returncode == 0, result.stderr
    assert result.stdout == DEMO_OUTPUT
    assert result.stderr == ""


def test_the_pizzeria_console_script_runs_the_same_demo(pizzeria_venv: Venv) -> None:
    result = pizzeria_venv.run("pizzeria", cwd=pizzeria_venv.path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == DEMO_OUTPUT


def test_run_with_loyalty_disabled_fails_sms_with_one_warning_and_still_serves(
    pizzeria_venv: Venv,
) -> None:
    result = hookwire(pizzeria_venv, "run", HOST, "--disable", "loyalty")
    assert result.returncode == 0, result.stderr

    (warning,) = result.stderr.splitlines()
    assert "sms" in warning
    assert "loyalty" in warning

    assert prefixed_lines(result.stdout, "[loyalty]", "[sms]") == []
    audit = prefixed_lines(result.stdout, "[audit]")
    assert audit[0] == "[audit] plugin loaded: audit (pizzeria-audit 2.1.0)"
    assert audit[1].startswith("[audit] plugin failed: sms: ")
    assert "loyalty" in audit[1]
    assert audit[2:] == [
        "[audit] plugins ready: audit",
        "[audit] host started: pizzeria 1.4.0",
        "[audit] setting changed: oven_temperature = 250",
        "[audit] host stopping normally: pizzeria 1.4.0",
    ]
    assert "[pizzeria] Luigi's closes: 3 pizzas served" in result.stdout


def test_run_with_only_loyalty_allowed_runs_loyalty_alone(pizzeria_venv: Venv) -> None:
    result = hookwire(pizzeria_venv, "run", HOST, "--plugin", "loyalty")
    assert result.returncode == 0, result.stderr
    assert prefixed_lines(result.stdout, "[audit]", "[sms]") == []
    assert "[loyalty] pizzas done today: 3" in result.stdout.splitlines()


def test_run_without_autoload_runs_no_plugin_code_unless_named(pizzeria_venv: Venv) -> None:
    bare = hookwire(pizzeria_venv, "run", HOST, "--no-autoload")
    assert bare.returncode == 0, bare.stderr
    assert bare.stdout == "".join(
        line for line in DEMO_OUTPUT.splitlines(keepends=True) if line.startswith("[pizzeria]")
    )

    named = hookwire(pizzeria_venv, "run", HOST, "--no-autoload", "--plugin", "audit")
    assert named.returncode == 0, named.stderr
    assert prefixed_lines(named.stdout, "[loyalty]", "[sms]") == []
    assert "[audit] plugins ready: audit" in named.stdout.splitlines()


def test_run_finds_the_host_in_hookwire_host_when_no_host_is_given(pizzeria_venv: Venv) -> None:
    result = hookwire(pizzeria_venv, "run", env={"HOOKWIRE_HOST": HOST})
    assert result.returncode == 0, result.stderr
    assert result.stdout == DEMO_OUTPUT


def test_run_reads_host_and_disabled_plugins_from_tool_hookwire_in_pyproject(
    pizzeria_venv: Venv, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.hookwire]\nhost = "{HOST}"\ndisable = ["audit"]\n', encoding="utf-8"
    )
    result = pizzeria_venv.run("hookwire", "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        line for line in DEMO_OUTPUT.splitlines() if not line.startswith("[audit]")
    ]


def test_run_with_trace_reports_every_receiver_call_on_stderr_only(pizzeria_venv: Venv) -> None:
    result = hookwire(pizzeria_venv, "run", HOST, "--trace")
    assert result.returncode == 0, result.stderr
    assert result.stdout == DEMO_OUTPUT

    # One line per send ("trace: <signal> <method> from <sender>: ..."), then one indented
    # line per receiver called ("trace:   <receiver> plugin=<plugin> <duration>").
    sends = [
        line.split()[1:3]
        for line in result.stderr.splitlines()
        if line.startswith("trace: pizzeria.signals.")
    ]
    assert sends == [
        ["pizzeria.signals.pizza_ordered", "send"],
        ["pizzeria.signals.pizza_ordered", "send"],
        ["pizzeria.signals.pizza_ordered", "send"],
        ["pizzeria.signals.pizza_done", "send"],
        ["pizzeria.signals.pizza_done", "asend"],
        ["pizzeria.signals.pizza_done", "asend"],
    ]
    calls = [
        match.groups()
        for match in re.finditer(r"^trace: {3}(\S+) plugin=(\S+) ", result.stderr, re.MULTILINE)
    ]
    pizza_done_calls = [
        ("pizzeria_loyalty.signals.count_pizzas", "loyalty"),
        ("pizzeria_sms.SmsGateway.on_pizza_done", "sms"),
        ("pizzeria_loyalty.signals.stamp_card", "loyalty"),
    ]
    assert calls == [
        *[("pizzeria_audit.listeners.on_plugin_loaded", "audit")] * 3,
        ("pizzeria_audit.listeners.on_plugins_ready", "audit"),
        ("pizzeria_audit.listeners.on_host_started", "audit"),
        ("pizzeria_audit.listeners.on_setting_changed", "audit"),
        *[("pizzeria_loyalty.signals.award_points", "loyalty")] * 2,
        *pizza_done_calls * 3,
        ("pizzeria_audit.listeners.on_host_stopping", "audit"),
    ]


# --------------------------------------------------------------------------------------------
# A broken plugin beside the example ones


@pytest.fixture
def venv_with_a_broken_plugin(fresh_pizzeria_venv: Venv) -> Venv:
    fresh_pizzeria_venv.add_dist_info(
        "pizzeria-broken",
        "0.0.1",
        entry_points={"pizzeria.plugins": {"broken": "pizzeria_broken"}},
        modules={"pizzeria_broken/__init__.py": "import pizzeria_no_such_module\n"},
    )
    return fresh_pizzeria_venv


def test_strict_run_stops_before_main_and_names_the_broken_plugin(
    venv_with_a_broken_plugin: Venv,
) -> None:
    result = hookwire(venv_with_a_broken_plugin, "run", HOST, "--strict")
    assert result.returncode == 1
    (error,) = result.stderr.splitlines()
    assert "plugin broken (pizzeria-broken 0.0.1)" in error
    assert "pizzeria_no_such_module" in error
    assert prefixed_lines(result.stdout, "[pizzeria]") == []
    assert "[audit] host started: pizzeria 1.4.0" not in result.stdout.splitlines()


def test_lenient_run_warns_about_the_broken_plugin_and_serves_with_the_others(
    venv_with_a_broken_plugin: Venv,
) -> None:
    result = hookwire(venv_with_a_broken_plugin, "run", HOST)
    assert result.returncode == 0, result.stderr
    (warning,) = result.stderr.splitlines()
    assert "broken" in warning
    assert "pizzeria_no_such_module" in warning
    assert prefixed_lines(result.stdout, "[sms]") != []
    assert "[pizzeria] Luigi's closes: 3 pizzas served" in result.stdout

    check = hookwire(venv_with_a_broken_plugin, "plugins", "check", HOST)
    assert check.returncode == 1
    assert "broken" in check.stdout + check.stderr


# --------------------------------------------------------------------------------------------
# pip install / uninstall are seen at once


def test_uninstalling_a_plugin_removes_it_and_reinstalling_brings_it_back(
    fresh_pizzeria_venv: Venv, example_wheels: dict[str, Path]
) -> None:
    venv = fresh_pizzeria_venv
    assert sorted(plugins_by_name(venv)) == ["audit", "loyalty", "sms"]

    venv.uninstall("pizzeria-loyalty")
    after_uninstall = plugins_by_name(venv)
    assert sorted(after_uninstall) == ["audit", "sms"]
    assert after_uninstall["sms"]["state"] == "failed"
    assert "loyalty" in after_uninstall["sms"]["error"]

    venv.install(example_wheels["pizzeria-loyalty"])
    after_reinstall = plugins_by_name(venv)
    assert sorted(after_reinstall) == ["audit", "loyalty", "sms"]
    assert {entry["state"] for entry in after_reinstall.values()} == {"ready"}


# --------------------------------------------------------------------------------------------
# The README's quick start


def readme_quick_start() -> tuple[str, str]:
    """The README's first command and the output it shows for it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    command = re.search(r"```console\n(.*?)\n```", section, re.DOTALL)
    output = re.search(r"```text\n(.*?)```", section, re.DOTALL)
    assert command, "the quick start lost its command"
    assert output, "the quick start lost the output it shows"
    return command.group(1).strip(), output.group(1)


def split_install_and_run(command: str) -> tuple[list[str], list[str]]:
    install, run = (shlex.split(part) for part in command.split("&&"))
    assert install[:4] == ["python", "-m", "pip", "install"], install
    return install[4:], run


@pytest.fixture
def empty_venv(tmp_path: Path) -> Venv:
    """A venv without hookwire: the README's command installs it."""
    return create_venv(tmp_path / "readme-venv")


def test_readme_quick_start_installs_and_runs_the_example_as_shown(empty_venv: Venv) -> None:
    command, shown_output = readme_quick_start()
    targets, run = split_install_and_run(command)

    folders: list[str] = []
    for target in targets:
        matches = sorted(glob.glob(target, root_dir=ROOT))
        assert matches, f"{target} matches nothing"
        folders.extend(str((ROOT / match).resolve()) for match in matches)
    assert str(ROOT.resolve()) in folders
    assert {Path(folder).name for folder in folders} >= set(EXAMPLE_PACKAGES)

    installed = empty_venv.pip(
        "install", "--no-deps", "--no-build-isolation", *folders, check=False
    )
    assert installed.returncode == 0, installed.stderr

    result = empty_venv.run(*run, cwd=empty_venv.path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == shown_output
    assert result.stdout == DEMO_OUTPUT
