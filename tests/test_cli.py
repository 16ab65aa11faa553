"""The ``hookwire`` command as a whole: finding the host, errors and exit codes, help, version,
completion, ``python -m hookwire``, pipes closed early, and what it imports.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from clitools import HOSTILE_PLUGIN, World
from venvtools import Venv

import hookwire

SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schemas"

pytestmark = pytest.mark.e2e


def plugin_names(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [plugin["name"] for plugin in json.loads(result.stdout)]


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command (asserting there is exactly one)."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


# -- version, help, completion -----------------------------------------------------------------


def test_version_prints_the_package_version(world: World) -> None:
    result = world.hookwire("--version")
    assert result.returncode == 0
    assert result.stdout == f"hookwire {hookwire.__version__}\n"


def test_version_imports_neither_typer_nor_the_loader_nor_importlib_metadata(world: World) -> None:
    result = world.venv.python_code(
        """
        import sys
        from hookwire.cli import main
        sys.argv = ["hookwire", "--version"]
        try:
            main()
        except SystemExit as exit:
            heavy = ["typer", "rich", "hookwire._loading.loader", "importlib.metadata",
                     "importlib_metadata", "asyncio"]
            print(exit.code, [name for name in heavy if name in sys.modules], file=sys.stderr)
        """
    )
    assert result.stderr.strip() == "0 []"


def test_importing_hookwire_does_not_import_the_cli_stack(world: World) -> None:
    result = world.venv.python_code(
        """
        import sys, hookwire
        print([name for name in ("typer", "rich", "click", "hookwire.cli") if name in sys.modules])
        """
    )
    assert result.stdout.strip() == "[]"


def test_the_cli_venv_sees_hookwires_dependencies_but_not_the_test_environment(
    world: World,
) -> None:
    # Discovery reads every distribution on the search path: the tests' venv must not see the
    # environment running them, where packages may be installed while the tests run.
    result = world.venv.python_code(
        """
        import importlib.util
        print([name for name in ("typer", "asgiref", "pytest") if importlib.util.find_spec(name)])
        """
    )
    assert result.stdout.strip() == "['typer', 'asgiref']", result.stderr


def test_no_command_shows_the_help_and_exits_2(world: World) -> None:
    result = world.hookwire()
    assert result.returncode == 2
    assert "Usage: hookwire [OPTIONS] COMMAND [ARGS]..." in result.stderr
    for command in ("run", "plugins", "signals"):
        assert f"  {command} " in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--help"],
            [
                "--version",
                "--traceback",
                "--install-completion",
                "--show-completion",
                "HOOKWIRE_HOST",
            ],
        ),
        (
            ["run", "--help"],
            ["[HOST]", "--plugin", "--disable", "--no-autoload", "--strict", "--trace", "130"],
        ),
        (
            ["plugins", "--help"],
            ["list", "check"],
        ),
        (
            ["plugins", "list", "--help"],
            [
                "[HOST]",
                "--all",
                "--json",
                "--verbose",
                "--plugin",
                "--disable",
                "--no-autoload",
                "--strict",
            ],
        ),
        (
            ["plugins", "check", "--help"],
            ["[HOST]", "exit 1", "--plugin", "--disable", "--no-autoload", "--strict"],
        ),
        (
            ["signals", "--help"],
            ["[HOST]", "--json", "--plugin", "--disable", "--no-autoload", "--strict"],
        ),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) and "--help" in value else "",
)
def test_help_documents_every_argument_and_option(
    world: World, args: list[str], expected: list[str]
) -> None:
    result = world.hookwire(*args)
    assert result.returncode == 0, result.stderr
    for text in expected:
        assert text in result.stdout, text
    # Every option line carries a description.
    for line in result.stdout.splitlines():
        if line.startswith("  -") and "  " not in line.strip():
            pytest.fail(f"option without help: {line!r}")


EVERY_COMMAND = [
    [],
    ["run"],
    ["signals"],
    ["worker"],
    ["plugins"],
    ["plugins", "list"],
    ["plugins", "check"],
    ["plugins", "info"],
    ["plugins", "install"],
    ["plugins", "uninstall"],
    ["plugins", "new"],
]


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=lambda c: " ".join(c) or "hookwire")
def test_help_names_arguments_and_values_without_python_types_or_braces(
    world: World, command: list[str]
) -> None:
    """Arguments and option values are named by their metavar (NAME, [HOST], N), as in
    click's own help: never a Python type (<str>, <list[str]>) nor {NAME}."""
    result = world.hookwire(*command, "--help", env={"COLUMNS": "100"})
    assert result.returncode == 0, result.stderr
    assert not re.findall(r"<[\w\[\]| ]+>|\{[A-Z_]+\}", result.stdout), result.stdout


@pytest.mark.parametrize("columns", ["80", "60"])
def test_every_commands_summary_is_shown_whole_in_the_command_list(
    world: World, columns: str
) -> None:
    result = world.hookwire("--help", env={"COLUMNS": columns})
    commands = result.stdout.partition("Commands:")[2]
    assert "plugins" in commands
    assert "..." not in commands, commands


def _schema_keys(schema: object) -> set[str]:
    """Every property name a JSON Schema declares, at any depth."""
    if isinstance(schema, dict):
        found = set(schema.get("properties", {}))
        for value in schema.values():
            found |= _schema_keys(value)
        return found
    if isinstance(schema, list):
        return set().union(*(_schema_keys(value) for value in schema))
    return set()


def test_signals_json_help_names_every_key_of_its_schema(world: World) -> None:
    schema = json.loads((SCHEMAS / "signals.schema.json").read_text(encoding="utf-8"))
    keys = _schema_keys(schema)
    assert {"remote", "engine", "queue", "replacement"} <= keys
    result = world.hookwire("signals", "--help", env={"COLUMNS": "200"})
    described = result.stdout.partition("--json")[2].partition("--markdown")[0]
    assert {key for key in keys if not re.search(rf"\b{key}\b", described)} == set()


@pytest.mark.parametrize(
    ("command", "check"),
    [
        (["run"], "main ran"),
        (["plugins", "list", "--json"], '"needy"'),
        (["plugins", "check"], "needy"),
        (["plugins", "info", "needy", "--json"], '"needy"'),
        (["signals", "--json"], "shop_good"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_every_command_takes_the_host_as_host_option_as_well_as_by_position(
    world: World, command: list[str], check: str
) -> None:
    """``--host HOST`` works on every command (as on install, uninstall and new); the
    positional HOST these commands always took still works and means the same."""
    by_option = world.hookwire(*command, "--host", "clihost.app:calm")
    by_position = world.hookwire(*command, "clihost.app:calm")
    assert by_option.returncode == by_position.returncode == 0, by_option.stderr
    assert check in by_option.stdout
    assert by_option.stdout == by_position.stdout


@pytest.mark.parametrize(
    "command",
    [["run"], ["plugins", "list"], ["plugins", "info", "needy"], ["signals"]],
    ids=" ".join,
)
def test_a_host_given_twice_must_be_the_same(world: World, command: list[str]) -> None:
    same = world.hookwire(*command, "clihost.app:calm", "--host", "clihost.app:calm")
    assert same.returncode == 0, same.stderr
    twice = world.hookwire(*command, "clihost.app:calm", "--host", "clihost.app:host")
    assert twice.returncode == 2
    line = one_error_line(twice)
    assert line.startswith("hookwire: error: invalid value for --host: the host is given twice")


def test_short_help_option_works_everywhere(world: World) -> None:
    assert world.hookwire("-h").returncode == 0
    assert "--trace" in world.hookwire("run", "-h").stdout


def test_shell_completion_script_and_completions_come_from_typer(world: World) -> None:
    # typer detects the shell from the process's ancestors, as when a user types the command
    # at a bash prompt; "; true" keeps bash from exec-ing hookwire in its own place.
    hookwire = world.command()[0]
    script = world.venv.run(
        "bash", "-c", f"'{hookwire}' --show-completion; true", env=world.env(None), cwd=world.home
    )
    assert script.returncode == 0, script.stderr
    assert "_HOOKWIRE_COMPLETE" in script.stdout

    completed = world.hookwire(
        env={
            "_HOOKWIRE_COMPLETE": "complete_bash",
            "COMP_WORDS": "hookwire plu",
            "COMP_CWORD": "1",
        }
    )
    assert completed.returncode == 0, completed.stderr
    assert "plugins" in completed.stdout.split()


# -- usage errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected", "command"),
    [
        (["plugins", "list", "--jsn"], "no such option: --jsn", "hookwire plugins list"),
        (["plugins", "lst"], "no such command 'lst'", "hookwire plugins"),
        (["frobnicate"], "no such command 'frobnicate'", "hookwire"),
        (["run", "a:b", "c:d"], "got unexpected extra argument(s) (c:d)", "hookwire run"),
    ],
)
def test_a_usage_error_is_one_line_pointing_to_help_and_exits_2(
    world: World, args: list[str], expected: str, command: str
) -> None:
    """Every error line has the one prefix ``hookwire: error:``; the help it points to is
    that of the command at fault."""
    result = world.hookwire(*args)
    assert result.returncode == 2
    line = one_error_line(result)
    assert line.startswith(f"hookwire: error: {expected}")
    assert line.endswith(f"(see '{command} --help')")


def test_a_close_option_is_suggested(world: World) -> None:
    line = one_error_line(world.hookwire("plugins", "list", "--jsn"))
    assert "--json" in line


# -- finding the host --------------------------------------------------------------------------


def test_without_a_host_argument_hookwire_host_names_the_host(world: World) -> None:
    result = world.hookwire("plugins", "list", "--json", env={"HOOKWIRE_HOST": "clihost.app:calm"})
    assert plugin_names(result) == ["good", "needy"]


def test_the_argument_wins_over_the_environment(world: World) -> None:
    result = world.hookwire(
        "plugins", "list", "clihost.app:evil", "--json", env={"HOOKWIRE_HOST": "clihost.app:calm"}
    )
    assert plugin_names(result) == [HOSTILE_PLUGIN]  # the evil host's only plugin


def test_tool_hookwire_host_in_the_nearest_pyproject_names_the_host(
    world: World, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    (project / "src" / "deep").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.hookwire]\nhost = "clihost.app:calm"\n', encoding="utf-8"
    )
    result = world.hookwire("plugins", "list", "--json", cwd=project / "src" / "deep")
    assert plugin_names(result) == ["good", "needy"]

    # The other [tool.hookwire] settings of the same file apply to it.
    with (project / "pyproject.toml").open("a", encoding="utf-8") as file:
        file.write('disable = ["needy"]\n')
    result = world.hookwire("plugins", "list", "--json", cwd=project)
    assert plugin_names(result) == ["good"]

    # The environment wins over pyproject.toml.
    result = world.hookwire(
        "plugins",
        "list",
        "--json",
        cwd=project,
        env={"HOOKWIRE_HOST": "clihost.app:lonely"},
    )
    assert plugin_names(result) == []


def test_with_no_configuration_the_default_host_lists_and_runs_hookwire_plugins(
    make_venv: Callable[[], Venv], tmp_path: Path
) -> None:
    venv = make_venv()
    venv.add_dist_info(
        "default-extra",
        "3.1",
        entry_points={"hookwire.plugins": {"extra": "default_extra"}},
        modules={"default_extra.py": "VALUE = 1\n"},
    )
    env = {"HOOKWIRE_CACHE_DIR": str(tmp_path / "cache")}
    listed = venv.run("hookwire", "plugins", "list", "--json", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    extra = next(plugin for plugin in json.loads(listed.stdout) if plugin["name"] == "extra")
    assert (extra["distribution"], extra["version"], extra["state"]) == (
        "default-extra",
        "3.1",
        "ready",
    )

    ran = venv.run("hookwire", "run", env=env, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "extra: ready (default-extra 3.1)" in ran.stdout.splitlines()
    assert ran.stdout.splitlines()[-1].endswith("plugins ready")


def test_a_factory_returning_a_host_is_called(world: World) -> None:
    assert plugin_names(world.hookwire("plugins", "list", "clihost.app:make_host", "--json")) == [
        "good",
        "needy",
    ]


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("clihost.ap:host", "no module named 'clihost.ap' (did you mean 'clihost.app:host'?)"),
        ("clihots.app:host", "no module named 'clihots' (did you mean 'clihost.app:host'?)"),
        ("clihost.app:hots", "has no attribute 'hots' (did you mean 'clihost.app:host'?)"),
        ("clihost.app:clam", "has no attribute 'clam' (did you mean 'clihost.app:calm'?)"),
        ("clihost.app", "is not 'module:attribute'"),
        ("clihost.app:not_a_host", "is an int, not a hookwire.Host"),
        ("clihost.app:Host", "is the class Host, not a hookwire.Host"),
        ("clihost.app:needs_arguments", "is a factory that needs arguments"),
        ("zzqqxx_nothing_like_it:host", "no module named 'zzqqxx_nothing_like_it'"),
    ],
)
def test_a_host_that_cannot_be_found_is_one_line_with_a_suggestion_and_exit_2(
    world: World, reference: str, expected: str
) -> None:
    result = world.hookwire("plugins", "list", reference)
    assert result.returncode == 2, result.stderr
    line = one_error_line(result)
    assert line.startswith(f"hookwire: error: host '{reference}'")
    assert expected in line


def test_an_unknown_host_from_the_environment_says_where_it_came_from(world: World) -> None:
    result = world.hookwire("signals", env={"HOOKWIRE_HOST": "clihost.app:hots"})
    assert result.returncode == 2
    assert "(from HOOKWIRE_HOST)" in one_error_line(result)


def test_a_module_in_the_current_directory_is_not_imported_but_the_error_says_why(
    world: World, tmp_path: Path
) -> None:
    marker = tmp_path / "imported"
    (tmp_path / "localhost_app.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nfrom hookwire import Host\nhost = Host('x')\n",
        encoding="utf-8",
    )
    result = world.hookwire("run", "localhost_app:host", cwd=tmp_path)
    assert result.returncode == 2
    assert "current directory" in one_error_line(result)
    assert not marker.exists()

    # Asked for explicitly, it is used.
    result = world.hookwire("run", "localhost_app:host", cwd=tmp_path, env={"PYTHONPATH": "."})
    assert result.returncode == 0, result.stderr
    assert marker.exists()


def test_a_host_module_that_raises_is_one_line_and_exit_1(world: World) -> None:
    result = world.hookwire("run", "clihost.broken:host")
    assert result.returncode == 1
    line = one_error_line(result)
    assert "importing 'clihost.broken' failed with RuntimeError: database not configured" in line
    assert "--traceback" in line


def test_a_missing_dependency_of_the_host_module_is_an_import_failure_not_not_found(
    world: World,
) -> None:
    result = world.hookwire("run", "clihost.depbroken:host")
    assert result.returncode == 1
    assert "No module named 'clihost_missing_dependency'" in one_error_line(result)


def test_traceback_shows_the_full_traceback_of_a_host_import_failure(world: World) -> None:
    result = world.hookwire("--traceback", "run", "clihost.broken:host")
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert 'raise RuntimeError("database not configured")' in result.stderr
    assert result.stderr.splitlines()[-1].startswith("hookwire: error: host 'clihost.broken:host'")


def test_an_invalid_pyproject_is_a_one_line_configuration_error_exit_2(
    world: World, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.hookwire]\nhost = [1, 2\n", encoding="utf-8")
    result = world.hookwire("plugins", "list", cwd=tmp_path)
    assert result.returncode == 2
    assert "pyproject.toml" in one_error_line(result)


# -- python -m hookwire ------------------------------------------------------------------------


def test_python_m_hookwire_is_the_same_command(world: World) -> None:
    result = world.venv.run(
        str(world.venv.python),
        "-m",
        "hookwire",
        "plugins",
        "list",
        "clihost.app:calm",
        "--json",
        env=world.env(),
        cwd=world.home,
    )
    assert plugin_names(result) == ["good", "needy"]
    version = world.venv.run(str(world.venv.python), "-m", "hookwire", "--version", cwd=world.home)
    assert version.stdout == f"hookwire {hookwire.__version__}\n"


def test_python_m_hookwire_discovers_nothing_planted_in_the_current_directory(
    world: World, tmp_path: Path
) -> None:
    marker = tmp_path / "planted-ran"
    (tmp_path / "planted_plugin.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8"
    )
    dist_info = tmp_path / "planted_plugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: planted-plugin\nVersion: 1.0\n", encoding="utf-8"
    )
    (dist_info / "entry_points.txt").write_text(
        "[calm.plugins]\nplanted = planted_plugin\n", encoding="utf-8"
    )
    result = world.venv.run(
        str(world.venv.python),
        "-m",
        "hookwire",
        "plugins",
        "list",
        "clihost.app:calm",
        "--all",
        "--json",
        env=world.env(),
        cwd=tmp_path,
    )
    assert plugin_names(result) == ["good", "needy"]
    assert not marker.exists()


# -- pipes closed early ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["signals", "clihost.app:host"],
        ["plugins", "list", "clihost.app:host", "--json"],
        ["plugins", "check", "clihost.app:host"],
        ["run", "clihost.app:calm"],
        ["--version"],
        ["--help"],
    ],
    ids=" ".join,
)
def test_output_into_a_pipe_closed_before_writing_gives_no_traceback(
    world: World, args: list[str]
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: every write gets EPIPE
    try:
        process = subprocess.run(
            world.command(*args),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=world.home,
            env=world.popen_env(),
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert process.returncode == 141  # as a shell reports SIGPIPE
    assert "Traceback" not in process.stderr
    assert "Broken pipe" not in process.stderr
    assert "BrokenPipeError" not in process.stderr


@pytest.mark.parametrize(
    "command",
    [
        "hookwire signals clihost.app:host | head -n 1",
        "hookwire signals clihost.app:host --json | head -c 10",
        "hookwire plugins list clihost.app:host | head -n 1",
        "hookwire --help | head -n 1",
        "hookwire run clihost.app:calm | head -n 0",
    ],
)
def test_piping_into_head_never_prints_a_broken_pipe_traceback(world: World, command: str) -> None:
    env = world.env({"PATH": f"{world.venv.bin}{os.pathsep}{os.environ['PATH']}"})
    result = world.venv.run("sh", "-c", command + " 2>&1", env=env, cwd=world.home)
    assert result.returncode == 0
    assert "Traceback" not in result.stdout
    assert "Broken pipe" not in result.stdout
    assert "BrokenPipeError" not in result.stdout
