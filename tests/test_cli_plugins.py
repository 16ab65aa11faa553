"""``hookwire plugins list`` and ``hookwire plugins check`` against really installed plugins."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from clitools import (
    HOSTILE_DISTRIBUTION,
    HOSTILE_ERROR,
    HOSTILE_PLUGIN,
    HOSTILE_VERSION,
    World,
    install_world,
    isolated_venv,
)
from docstools import required_keys

pytestmark = pytest.mark.e2e

PLUGIN_KEYS = required_keys("plugins-list.schema.json", "plugin")


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The table's rows by their first column (the header row included)."""
    rows = {}
    for line in stdout.splitlines():
        if line and not line.startswith("!"):
            cells = line.split()
            rows[cells[0]] = cells
    return rows


# -- plugins list ------------------------------------------------------------------------------


def test_list_shows_each_plugin_with_state_distribution_version_receivers_and_entry_point(
    world: World,
) -> None:
    result = world.hookwire("plugins", "list", "clihost.app:host")
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    assert rows["NAME"][:5] == ["NAME", "STATE", "DISTRIBUTION", "VERSION", "RECEIVERS"]
    assert rows["good"] == [
        "good",
        "ready",
        "shop-good",
        "1.2.0",
        "2",
        "-",
        "good",
        "=",
        "shop_good:GoodPlugin",
    ]
    assert rows["needy"][:6] == ["needy", "ready", "shop-needy", "0.1", "1", "good"]
    assert rows["ready_fails"][:5] == ["ready_fails", "failed", "shop-ready-fails", "0.0.3", "0"]
    assert {"broken_import", "broken_syntax", "orphan"} <= set(rows)


def test_verbose_adds_the_module_file_and_metadata_folder_of_each_plugin(world: World) -> None:
    result = world.hookwire("plugins", "list", "clihost.app:calm", "--verbose")
    assert result.returncode == 0, result.stderr
    blocks = {block.splitlines()[0]: block for block in result.stdout.split("\n\n")}
    good = blocks["good: ready (shop-good 1.2.0)"]
    site = str(world.venv.site_packages)
    assert f"  module file: {site}/shop_good/__init__.py" in good.splitlines()
    assert f"  metadata:    {site}/shop_good-1.2.0.dist-info" in good.splitlines()
    assert "  entry point: good = shop_good:GoodPlugin" in good.splitlines()
    assert world.hookwire("plugins", "list", "clihost.app:calm", "-v").stdout == result.stdout


def test_list_explains_each_failure_on_one_line_naming_plugin_distribution_phase_and_cause(
    world: World,
) -> None:
    result = world.hookwire("plugins", "list", "clihost.app:host")
    errors = [line for line in result.stdout.splitlines() if line.startswith("! ")]
    assert len(errors) == 4
    joined = "\n".join(errors)
    assert "broken_import (shop-broken-import 0.0.1), import phase" in joined
    assert "shop_missing_oven" in joined
    assert "broken_syntax (shop-broken-syntax 0.0.2), import phase: SyntaxError" in joined
    assert "shop_broken_syntax.py:1" in joined
    assert "ready_fails (shop-ready-fails 0.0.3), ready phase" in joined
    assert "ready exploded" in joined
    assert "orphan requires absent" in joined


def test_list_json_is_an_array_of_the_documented_shape(world: World) -> None:
    result = world.hookwire("plugins", "list", "clihost.app:host", "--json")
    assert result.returncode == 0, result.stderr
    plugins = json.loads(result.stdout)
    assert isinstance(plugins, list)
    for plugin in plugins:
        assert set(plugin) >= set(PLUGIN_KEYS)
        assert plugin["state"] in {"ready", "failed", "disabled"}
        assert isinstance(plugin["receivers"], int)
        assert isinstance(plugin["requires"], list)
    by_name = {plugin["name"]: plugin for plugin in plugins}
    good = by_name["good"]
    # The documented keys come first, in the documented order; later keys are additions.
    assert list(good)[: len(PLUGIN_KEYS)] == PLUGIN_KEYS
    assert {key: good[key] for key in PLUGIN_KEYS} == {
        "name": "good",
        "distribution": "shop-good",
        "version": "1.2.0",
        "entry_point": "good = shop_good:GoodPlugin",
        "state": "ready",
        "error": None,
        "receivers": 2,
        "requires": [],
    }
    assert by_name["needy"]["requires"] == ["good"]
    failed = by_name["broken_syntax"]
    assert failed["state"] == "failed"
    assert failed["receivers"] == 0
    assert "SyntaxError" in failed["error"]
    assert "\n" not in failed["error"]


def test_what_plugins_print_while_loading_goes_to_stderr_so_json_stays_parseable(
    world: World,
) -> None:
    result = world.hookwire("plugins", "list", "clihost.app:fragile", "--json")
    assert result.returncode == 0, result.stderr
    assert [plugin["name"] for plugin in json.loads(result.stdout)] == ["grumpy"]
    assert "grumpy: imported" in result.stderr


def test_a_plugin_whose_ready_failed_keeps_no_receivers(world: World) -> None:
    plugins = json.loads(world.hookwire("plugins", "list", "clihost.app:host", "--json").stdout)
    assert {p["name"]: p["receivers"] for p in plugins}["ready_fails"] == 0


def test_disabled_plugins_are_left_out_unless_all_is_given(world: World) -> None:
    without = json.loads(
        world.hookwire("plugins", "list", "clihost.app:calm", "--disable", "needy", "--json").stdout
    )
    assert [plugin["name"] for plugin in without] == ["good"]
    with_all = json.loads(
        world.hookwire(
            "plugins", "list", "clihost.app:calm", "--disable", "needy", "--all", "--json"
        ).stdout
    )
    states = {plugin["name"]: plugin["state"] for plugin in with_all}
    assert states == {"good": "ready", "needy": "disabled"}

    table = world.hookwire("plugins", "list", "clihost.app:calm", "-d", "needy", "-a")
    assert table_rows(table.stdout)["needy"][1] == "disabled"
    assert "needy" not in table_rows(
        world.hookwire("plugins", "list", "clihost.app:calm", "-d", "needy").stdout
    )


def test_failed_plugins_are_listed_even_without_all(world: World) -> None:
    plugins = json.loads(world.hookwire("plugins", "list", "clihost.app:host", "--json").stdout)
    assert {p["name"] for p in plugins if p["state"] == "failed"} == {
        "broken_import",
        "broken_syntax",
        "ready_fails",
        "orphan",
    }


def test_plugin_option_allows_only_the_named_plugins(world: World) -> None:
    plugins = json.loads(
        world.hookwire(
            "plugins", "list", "clihost.app:host", "--plugin", "good", "--all", "--json"
        ).stdout
    )
    states = {plugin["name"]: plugin["state"] for plugin in plugins}
    assert states["good"] == "ready"
    assert {state for name, state in states.items() if name != "good"} == {"disabled"}


def test_no_autoload_loads_nothing_but_the_plugins_named(world: World) -> None:
    nothing = json.loads(
        world.hookwire(
            "plugins", "list", "clihost.app:calm", "--no-autoload", "--all", "--json"
        ).stdout
    )
    assert {plugin["state"] for plugin in nothing} == {"disabled"}
    named = json.loads(
        world.hookwire(
            "plugins", "list", "clihost.app:calm", "--no-autoload", "-p", "good", "--json"
        ).stdout
    )
    assert [plugin["name"] for plugin in named] == ["good"]


def test_strict_turns_a_plugin_failure_into_one_error_line_and_exit_1(world: World) -> None:
    result = world.hookwire("plugins", "list", "clihost.app:host", "--strict")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("hookwire: error: ")
    assert "broken_import" in lines[0]
    assert "Traceback" not in result.stderr


def test_environment_variables_select_plugins_like_the_options(world: World) -> None:
    plugins = json.loads(
        world.hookwire(
            "plugins",
            "list",
            "clihost.app:calm",
            "--json",
            env={"HOOKWIRE_DISABLE_PLUGINS": "needy"},
        ).stdout
    )
    assert [plugin["name"] for plugin in plugins] == ["good"]


def test_nothing_to_list_is_said_on_stderr_with_no_data_on_stdout(world: World) -> None:
    result = world.hookwire("plugins", "list", "clihost.app:crash", "--no-autoload")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "all 2 are disabled (--all lists them)" in result.stderr
    result = world.hookwire("plugins", "list", "clihost.app:lonely")
    assert result.returncode == 0
    assert result.stdout == ""
    assert "entry-point group 'lonely.plugins': none are installed" in result.stderr


# -- hostile metadata ------------------------------------------------------------------------


def test_ansi_escapes_and_markup_in_metadata_are_shown_escaped_never_interpreted(
    world: World,
) -> None:
    result = world.hookwire("plugins", "list", "clihost.app:evil")
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "\x1b" not in output
    assert "\x07" not in output
    assert r"red\x1b[2Jname" in result.stdout
    assert "evil\\x1b[31m[bold]dist\u2615" in result.stdout
    assert r"6.6\x1b[0m" in result.stdout
    assert r"\x1b[31m[red]kaboom[/red]\x07" in result.stdout


def test_text_the_terminal_cannot_encode_is_escaped_not_a_crash(world: World) -> None:
    result = world.hookwire(
        "plugins", "list", "clihost.app:evil", env={"PYTHONIOENCODING": "ascii"}
    )
    assert result.returncode == 0, result.stderr
    assert r"[bold]dist\u2615" in result.stdout


def test_hostile_metadata_survives_json_exactly(world: World) -> None:
    result = world.hookwire("plugins", "list", "clihost.app:evil", "--json")
    assert "\x1b" not in result.stdout  # JSON escapes control characters
    (plugin,) = json.loads(result.stdout)
    assert plugin["name"] == HOSTILE_PLUGIN
    assert plugin["distribution"] == HOSTILE_DISTRIBUTION
    assert plugin["version"] == HOSTILE_VERSION
    assert HOSTILE_ERROR in plugin["error"]


def test_hostile_metadata_is_escaped_in_check_and_run_warnings(world: World) -> None:
    check = world.hookwire("plugins", "check", "clihost.app:evil")
    assert check.returncode == 1
    run = world.hookwire("run", "clihost.app:evil")
    assert run.returncode == 0
    for output in (check.stdout, check.stderr, run.stderr):
        assert "\x1b" not in output
    assert r"[red]kaboom[/red]\x07" in run.stderr


# -- plugins check ---------------------------------------------------------------------------


def shown(result: subprocess.CompletedProcess[str]) -> str:
    """Everything the command printed, for an assertion's message."""
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"


def check_rows(stdout: str) -> list[list[str]]:
    """The ``STATUS PLUGIN`` cells of each row of the ``plugins check`` table."""
    return [line.split()[:2] for line in stdout.splitlines()[1:] if line[:1].isalpha()]


def test_check_exits_0_and_reports_ok_when_every_plugin_loads(world: World) -> None:
    result = world.hookwire("plugins", "check", "clihost.app:calm")
    assert result.returncode == 0, shown(result)
    assert result.stdout.splitlines()[0].split() == ["STATUS", "PLUGIN", "DISTRIBUTION"]
    assert check_rows(result.stdout)[:2] == [["ok", "good"], ["ok", "needy"]], shown(result)
    assert result.stdout.splitlines()[-1] == "2 plugins: 2 ready", shown(result)
    assert result.stderr == ""


def test_check_exits_1_and_lists_every_failure_when_a_plugin_fails(world: World) -> None:
    result = world.hookwire("plugins", "check", "clihost.app:host")
    assert result.returncode == 1, shown(result)
    failed = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert sorted(failed) == ["broken_import", "broken_syntax", "orphan", "ready_fails"]
    assert result.stdout.splitlines()[-1] == "6 plugins: 2 ready, 4 failed", shown(result)
    assert "Traceback" not in result.stdout + result.stderr


def test_check_passes_when_the_failing_plugins_are_disabled(world: World) -> None:
    result = world.hookwire(
        "plugins",
        "check",
        "clihost.app:host",
        "--disable",
        "broken_import",
        "-d",
        "broken_syntax",
        "-d",
        "ready_fails",
        "-d",
        "orphan",
    )
    assert result.returncode == 0, shown(result)
    assert result.stdout.splitlines()[-1] == "6 plugins: 2 ready, 4 disabled", shown(result)


def test_check_takes_the_same_plugin_selection_options(world: World) -> None:
    result = world.hookwire("plugins", "check", "clihost.app:host", "--no-autoload", "-p", "good")
    assert result.returncode == 0, shown(result)
    assert result.stdout.splitlines()[-1] == "6 plugins: 1 ready, 5 disabled", shown(result)
    result = world.hookwire("plugins", "check", "clihost.app:host", "--plugin", "broken_syntax")
    assert result.returncode == 1, shown(result)
    assert result.stdout.splitlines()[-1] == "6 plugins: 1 failed, 5 disabled", shown(result)


def test_check_under_strict_fails_with_one_line(world: World) -> None:
    result = world.hookwire("plugins", "check", "clihost.app:host", "--strict")
    assert result.returncode == 1, shown(result)
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("hookwire: error: 4 plugin failures: "), shown(result)


# -- discovery problems ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def troubled(tmp_path_factory: pytest.TempPathFactory, hookwire_wheel: Path) -> World:
    """A venv of its own: the world plus a name offered twice and a malformed entry_points.txt."""
    root = tmp_path_factory.mktemp("troubled")
    venv = isolated_venv(tmp_path_factory, hookwire_wheel, root / "venv")
    install_world(venv)
    venv.add_dist_info(
        "dup-good", "9.9", entry_points={"calm.plugins": {"good": "shop_good:GoodPlugin"}}
    )
    venv.add_dist_info(
        "unrelated-broken", "1.0", entry_points_text="[console_scripts]\nno equals sign here\n"
    )
    (root / "home").mkdir()
    return World(venv, root / "home")


def test_discovery_problems_are_one_warning_line_each_and_listing_goes_on(
    troubled: World,
) -> None:
    result = troubled.hookwire("plugins", "list", "clihost.app:calm", "--json")
    assert result.returncode == 0, result.stderr
    assert [plugin["name"] for plugin in json.loads(result.stdout)] == ["good", "needy"]
    warnings = result.stderr.splitlines()
    assert len(warnings) == 2, result.stderr
    assert all(line.startswith("hookwire: warning: ") for line in warnings)
    duplicate = next(line for line in warnings if "offered twice" in line)
    assert "dup-good 9.9" in duplicate
    assert "shop-good 1.2.0" in duplicate
    malformed = next(line for line in warnings if "malformed" in line)
    assert "unrelated-broken" in malformed


def test_check_fails_on_a_discovery_problem_of_the_hosts_plugins_and_reports_them_all(
    troubled: World,
) -> None:
    result = troubled.hookwire("plugins", "check", "clihost.app:calm")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    problems = [line for line in lines if line.startswith("! ")]
    assert len(problems) == 2
    assert any("offered twice" in line for line in problems)
    assert any("unrelated-broken" in line for line in problems)
    assert lines[-1] == "2 plugins: 2 ready; 2 discovery problems"


def test_check_shows_but_does_not_fail_on_a_problem_of_a_distribution_offering_no_plugin(
    troubled: World,
) -> None:
    # Only the malformed [console_scripts] line concerns this host's environment at all; the
    # name offered twice is in another group.
    result = troubled.hookwire("plugins", "check", "clihost.app:blocker")
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    (problem,) = [line for line in lines if line.startswith("! ")]
    assert "unrelated-broken" in problem
    assert "malformed" in problem
    assert lines[-1] == "1 plugin: 1 ready; 1 discovery problem"


@pytest.mark.e2e
def test_an_ignored_discovery_cache_is_said_once_with_verbose_and_trace_never_an_error(
    world: World, tmp_path: Path
) -> None:
    shared = tmp_path / "shared-cache"
    shared.mkdir()
    shared.chmod(0o777)  # a folder others can write: its caches must not be trusted
    env = {"HOOKWIRE_CACHE_DIR": str(shared)}
    note = f"hookwire: info: discovery cache {shared} ignored: it is writable by group and others"

    quiet = world.hookwire("plugins", "list", "clihost.app:calm", env=env)
    assert quiet.returncode == 0, quiet.stderr
    assert "discovery cache" not in quiet.stderr

    verbose = world.hookwire("plugins", "list", "--verbose", "clihost.app:calm", env=env)
    assert verbose.returncode == 0, verbose.stderr
    assert verbose.stderr.count(note) == 1, verbose.stderr
    assert "good" in verbose.stdout

    traced = world.hookwire("run", "--trace", "clihost.app:calm", env=env)
    assert traced.returncode == 0, traced.stderr
    assert traced.stderr.count(note) == 1, traced.stderr
    assert os.listdir(shared) == []  # nothing written into it either
