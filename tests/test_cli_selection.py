"""Which plugins a command selects, through the real ``hookwire`` console script.

Strict counts only the problems of plugins that would be loaded; a name offered by two
distributions is listed with the one that lost; a misspelt allow- or deny-list name is warned
about with a "did you mean", and is an error under ``--strict`` and in ``plugins check``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from clitools import World, isolated_venv

KILN_APP = """
    from hookwire import Host


    def main():
        print("main ran")


    host = Host("kiln", main=main)
"""


NEEDY = """
    from hookwire import Plugin

    print("needy imported")


    class Needy(Plugin):
        requires = ("good", "sms")
        signals_module = None
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, hookwire_wheel: Path) -> World:
    """A venv with the host ``kiln`` and plugins good, sms, needy (requires good and sms) and
    twin, offered by two distributions (kiln-twin-a first on the search path)."""
    root = tmp_path_factory.mktemp("selection")
    venv = isolated_venv(tmp_path_factory, hookwire_wheel, root / "venv")
    venv.add_dist_info(
        "kiln-host", "1.0", modules={"kiln/__init__.py": "", "kiln/app.py": KILN_APP}
    )
    for name in ("good", "sms"):
        venv.add_dist_info(
            f"kiln-{name}",
            "1.0",
            entry_points={"kiln.plugins": {name: f"kiln_{name}"}},
            modules={f"kiln_{name}.py": f"print('{name} imported')\n"},
        )
    venv.add_dist_info(
        "kiln-needy",
        "1.0",
        entry_points={"kiln.plugins": {"needy": "kiln_needy:Needy"}},
        modules={"kiln_needy.py": NEEDY},
    )
    venv.add_dist_info(
        "kiln-twin-a",
        "1.0",
        entry_points={"kiln.plugins": {"twin": "twin_a"}},
        modules={"twin_a.py": "print('twin a imported')\n"},
    )
    venv.add_dist_info(
        "kiln-twin-b",
        "2.0",
        entry_points={"kiln.plugins": {"twin": "twin_b"}},
        modules={"twin_b.py": "print('twin b imported')\n"},
    )
    home = root / "home"
    home.mkdir()
    (root / "cache").mkdir()
    return World(venv, home)


HOST = "kiln.app:host"


def _warnings(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("hookwire: warning:")]


# -- strict counts only what would load -----------------------------------------------------


@pytest.mark.parametrize("selection", [["--plugin", "good"], ["--no-autoload"]])
def test_strict_ignores_a_duplicate_name_that_is_not_selected(
    world: World, selection: list[str]
) -> None:
    result = world.hookwire("run", HOST, *selection, "--strict")
    assert result.returncode == 0, result.stderr
    assert "main ran" in result.stdout
    assert "twin a imported" not in result.stdout
    assert "hookwire: error" not in result.stderr


def test_strict_fails_for_a_selected_duplicate_naming_both_distributions(world: World) -> None:
    result = world.hookwire("run", HOST, "--plugin", "twin", "--strict")
    assert result.returncode == 1
    assert "main ran" not in result.stdout
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1
    assert "kiln-twin-a" in errors[0]
    assert "kiln-twin-b" in errors[0]


def test_plugins_check_ignores_a_duplicate_that_is_not_selected(world: World) -> None:
    result = world.hookwire("plugins", "check", HOST, "--plugin", "good")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "offered twice" in result.stdout  # still shown


def test_plugins_check_fails_for_a_selected_duplicate(world: World) -> None:
    result = world.hookwire("plugins", "check", HOST)
    assert result.returncode == 1


# -- the same name from two distributions ---------------------------------------------------


def test_plugins_list_json_names_the_shadowed_distribution(world: World) -> None:
    result = world.hookwire("plugins", "list", HOST, "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    twin = rows["twin"]
    assert twin["distribution"] == "kiln-twin-a"
    assert len(twin["shadowed"]) == 1
    (shadowed,) = twin["shadowed"]
    assert shadowed["distribution"] == "kiln-twin-b"
    assert shadowed["version"] == "2.0"
    assert shadowed["path"].endswith("kiln_twin_b-2.0.dist-info")
    assert rows["good"]["shadowed"] == []


def test_plugins_list_json_shadowed_survives_the_discovery_cache(world: World) -> None:
    first = world.hookwire("plugins", "list", HOST, "--json")
    second = world.hookwire("plugins", "list", HOST, "--json")  # answered by the cache
    assert json.loads(first.stdout) == json.loads(second.stdout)
    (twin,) = [row for row in json.loads(second.stdout) if row["name"] == "twin"]
    assert [entry["distribution"] for entry in twin["shadowed"]] == ["kiln-twin-b"]


@pytest.mark.parametrize("strict", [False, True])
def test_run_reports_a_duplicate_name_once(world: World, strict: bool) -> None:
    args = ["run", HOST, "--plugin", "twin"] + (["--strict"] if strict else [])
    result = world.hookwire(*args)
    assert result.stderr.count("offered twice") == 1, result.stderr


# -- misspelt allow- and deny-list names ----------------------------------------------------


def test_a_misspelt_plugin_option_is_warned_with_did_you_mean(world: World) -> None:
    result = world.hookwire("run", HOST, "--plugin", "smss")
    assert result.returncode == 0
    (warning,) = [line for line in _warnings(result) if "smss" in line]
    assert "allow-list" in warning
    assert "did you mean 'sms'?" in warning


def test_a_misspelt_allow_list_in_the_environment_is_warned(world: World) -> None:
    result = world.hookwire("run", HOST, env={"HOOKWIRE_PLUGINS": "smss"})
    (warning,) = [line for line in _warnings(result) if "smss" in line]
    assert "HOOKWIRE_PLUGINS" in warning
    assert "did you mean 'sms'?" in warning


def test_a_misspelt_allow_list_in_pyproject_is_warned(world: World, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.hookwire]\nplugins = ["goood"]\n', encoding="utf-8"
    )
    result = world.hookwire("run", HOST, cwd=tmp_path)
    (warning,) = [line for line in _warnings(result) if "goood" in line]
    assert "[tool.hookwire] plugins" in warning
    assert "did you mean 'good'?" in warning


def test_a_misspelt_disable_option_is_warned_and_disables_nothing(world: World) -> None:
    result = world.hookwire("run", HOST, "--disable", "smss")
    assert result.returncode == 0
    assert "sms imported" in result.stdout
    (warning,) = [line for line in _warnings(result) if "smss" in line]
    assert "deny-list" in warning
    assert "did you mean 'sms'?" in warning


def test_an_unknown_name_without_a_close_match_lists_what_is_offered(world: World) -> None:
    result = world.hookwire("run", HOST, "--plugin", "zzz")
    (warning,) = [line for line in _warnings(result) if "zzz" in line]
    assert "good, needy, sms, twin" in warning


@pytest.mark.parametrize("option", ["--plugin", "--disable"])
def test_a_misspelt_name_is_an_error_under_strict(world: World, option: str) -> None:
    result = world.hookwire("run", HOST, option, "smss", "--strict")
    assert result.returncode == 1
    assert "main ran" not in result.stdout
    (line,) = [line for line in result.stderr.splitlines() if "smss" in line]
    assert line.startswith("hookwire: error:")
    assert "did you mean 'sms'?" in line


@pytest.mark.parametrize("option", ["--plugin", "--disable"])
def test_a_misspelt_name_fails_plugins_check(world: World, option: str) -> None:
    result = world.hookwire("plugins", "check", HOST, option, "smss", "--disable", "twin")
    assert result.returncode == 1
    assert any("smss" in line and "did you mean" in line for line in result.stdout.splitlines())


# -- what plugins list shows ------------------------------------------------------------------


def test_a_disabled_plugin_still_shows_its_requires_without_being_imported(world: World) -> None:
    result = world.hookwire("plugins", "list", HOST, "--all", "--json", "--disable", "needy")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["needy"]["state"] == "disabled"
    assert rows["needy"]["requires"] == ["good", "sms"]
    assert "needy imported" not in result.stdout + result.stderr
    table = world.hookwire("plugins", "list", HOST, "--all", "--disable", "needy")
    (line,) = [line for line in table.stdout.splitlines() if line.startswith("needy ")]
    assert "good, sms" in line


def test_plugins_list_verbose_stays_readable_at_100_columns(world: World) -> None:
    result = world.hookwire("plugins", "list", HOST, "--verbose", env={"COLUMNS": "100"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    site = str(world.venv.site_packages)
    for line in lines:
        # Every line fits, or holds a single value that is a path (which cannot be shortened).
        _label, _, value = line.strip().partition(":")
        value = value.strip() or line.strip()
        assert len(line) <= 100 or (value.startswith(site) and " " not in value), line
    blocks = "\n".join(lines).split("\n\n")
    (twin,) = [block for block in blocks if block.startswith("twin: ready")]
    assert f"shadows:     kiln-twin-b 2.0\n               {site}/kiln_twin_b-2.0.dist-info" in twin
    assert f"module file: {site}/twin_a.py" in twin
    assert f"metadata:    {site}/kiln_twin_a-1.0.dist-info" in twin
