"""``hookwire plugins new / install / info / uninstall`` driven through the console script.

One venv holds hookwire and the example pizzeria (the host); the tests install into it and
remove again what they installed. pip comes from the environment running the tests (the venv
sees it after its own site-packages), builds without isolation and never reaches an index, so
nothing here needs the network. The uv tests make a venv without pip with ``uv venv``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from clitools import isolate, private_dependencies
from venvtools import ROOT, Venv, build_wheel, clean_env, create_venv, hatchling_pyproject

pytestmark = pytest.mark.e2e

HOST = "pizzeria.app:host"
OFFLINE = {"PIP_NO_BUILD_ISOLATION": "0", "PIP_NO_INDEX": "1", "UV_OFFLINE": "1"}


class Site:
    """The shared venv, a working folder, and the venv's ``hookwire`` run from that folder."""

    def __init__(self, venv: Venv, home: Path, wheels: dict[str, Path]) -> None:
        self.venv = venv
        self.home = home
        self.wheels = wheels  # the example packages' wheels, by folder name

    def hookwire(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {**OFFLINE, "HOOKWIRE_CACHE_DIR": str(self.home.parent / "cache")}
        return self.venv.run("hookwire", *args, env=env, cwd=self.home, input=input, timeout=300)

    def plugins(self) -> dict[str, Any]:
        result = self.hookwire("plugins", "list", HOST, "--json", "--all")
        assert result.returncode == 0, result.stderr
        return {entry["name"]: entry for entry in json.loads(result.stdout)}

    def uninstall_on_a_terminal(self, name: str, answer: str) -> subprocess.CompletedProcess[str]:
        """``plugins uninstall NAME`` with a terminal as stdin, answering the question."""
        import os
        import pty

        controller, terminal = pty.openpty()
        try:
            os.write(controller, f"{answer}\n".encode())
            env = {**OFFLINE, "HOOKWIRE_CACHE_DIR": str(self.home.parent / "cache")}
            return subprocess.run(
                [str(self.venv.bin / "hookwire"), "plugins", "uninstall", name, "--host", HOST],
                stdin=terminal,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=clean_env(env),
                cwd=self.home,
                timeout=300,
                check=False,
            )
        finally:
            os.close(controller)
            os.close(terminal)

    def installed(self, distribution: str) -> bool:
        code = f"import importlib.metadata as m; m.distribution({distribution!r})"
        return self.venv.python_code(code).returncode == 0

    def project(self, name: str, files: dict[str, str]) -> Path:
        """Write a project folder ``name`` under the working folder."""
        folder = self.home / name
        for relative, text in files.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return folder


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    hookwire_wheel: Path,
    example_wheels: dict[str, Path],
) -> Site:
    root = tmp_path_factory.mktemp("manage")
    wheels = [example_wheels["pizzeria"], example_wheels["pizzeria-loyalty"]]
    venv = create_venv(root / "venv", wheels=[hookwire_wheel, *wheels])
    home = root / "home"
    home.mkdir()
    return Site(venv, home, example_wheels)


def validate_info(document: Any) -> None:
    schema = json.loads((ROOT / "docs/schemas/plugins-info.schema.json").read_text("utf-8"))
    jsonschema.validate(document, schema)


# -- new -> install -> list / info -> generated tests -> uninstall ---------------------------


@pytest.mark.slow
def test_a_new_project_installs_loads_passes_its_own_tests_and_uninstalls(site: Site) -> None:
    created = site.hookwire("plugins", "new", "pizzeria-hello", "--host", HOST)
    assert created.returncode == 0, created.stderr
    project = site.home / "pizzeria-hello"
    assert sorted(
        str(path.relative_to(project)) for path in project.rglob("*") if path.is_file()
    ) == [
        "README.md",
        "pizzeria_hello/__init__.py",
        "pizzeria_hello/signals.py",
        "pyproject.toml",
        "tests/test_plugin.py",
    ]
    assert "plugins install --editable" in created.stdout
    pyproject_text = (project / "pyproject.toml").read_text("utf-8")
    assert '[project.entry-points."pizzeria.plugins"]' in pyproject_text
    assert 'hello = "pizzeria_hello:HelloPlugin"' in pyproject_text
    assert '"pizzeria"' in pyproject_text
    # The host's first signal declares order=: the receiver takes it, the test sends it.
    signals_text = (project / "pizzeria_hello" / "signals.py").read_text("utf-8")
    assert "def on_pizza_ordered(sender, order, **kwargs):" in signals_text
    assert '"order": None' in (project / "tests" / "test_plugin.py").read_text("utf-8")

    installed = site.hookwire("plugins", "install", str(project), "--host", HOST)
    assert installed.returncode == 0, installed.stderr
    (row,) = [line.split() for line in installed.stdout.splitlines() if "hello" in line.split()]
    assert row == ["hello", "added", "ready", "pizzeria-hello", "0.1.0", "1"]

    assert site.plugins()["hello"]["state"] == "ready"
    info = site.hookwire("plugins", "info", "hello", HOST, "--json")
    assert info.returncode == 0, info.stderr
    document = json.loads(info.stdout)
    validate_info(document)
    assert document["distribution"] == "pizzeria-hello"
    assert document["version"] == "0.1.0"
    assert document["entry_point"] == "hello = pizzeria_hello:HelloPlugin"
    assert document["requires_host"] == ">=1.4"
    (receiver,) = document["receivers"]
    assert receiver["signal"].startswith("pizzeria.signals.")
    assert receiver["receiver"].startswith("pizzeria_hello.signals.on_")
    assert receiver["remote"] is None
    assert Path(receiver["file"]).name == "signals.py"

    tested = site.venv.run(
        str(site.venv.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "3 passed" in tested.stdout

    unconfirmed = site.hookwire("plugins", "uninstall", "hello", "--host", HOST)
    assert unconfirmed.returncode == 2
    assert "--yes" in unconfirmed.stderr
    assert site.installed("pizzeria-hello")

    removed = site.hookwire("plugins", "uninstall", "hello", "--host", HOST, "--yes")
    assert removed.returncode == 0, removed.stderr
    assert "hello (pizzeria-hello 0.1.0)" in removed.stdout
    assert "hello" not in site.plugins()
    assert not site.installed("pizzeria-hello")


@pytest.mark.slow
def test_a_new_lazy_project_declares_its_signal_and_passes_its_own_tests(site: Site) -> None:
    created = site.hookwire("plugins", "new", "pizzeria-later", "--host", HOST, "--lazy")
    assert created.returncode == 0, created.stderr
    project = site.home / "pizzeria-later"
    pyproject_text = (project / "pyproject.toml").read_text("utf-8")
    assert '[project.entry-points."pizzeria.plugins.listens"]' in pyproject_text
    assert '"later.pizza_ordered" = "pizzeria.signals:pizza_ordered"' in pyproject_text

    installed = site.hookwire("plugins", "install", str(project), "--host", HOST)
    assert installed.returncode == 0, installed.stderr
    # The install's report activates it (a broken lazy plugin fails there, not later).
    (row,) = [line.split() for line in installed.stdout.splitlines() if "later" in line.split()]
    assert row[:3] == ["later", "added", "ready"]
    entry = site.plugins()["later"]
    assert entry["state"] == "declared"
    assert entry["listens"] == ["pizzeria.signals.pizza_ordered"]

    tested = site.venv.run(
        str(site.venv.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "3 passed" in tested.stdout
    removed = site.hookwire("plugins", "uninstall", "later", "--host", HOST, "--yes")
    assert removed.returncode == 0, removed.stderr


@pytest.mark.slow
def test_an_editable_install_sees_later_edits_of_the_project(site: Site) -> None:
    project = site.home / "pizzeria-live"
    created = site.hookwire(
        "plugins", "new", "pizzeria-live", "--host", HOST, "--dir", str(project)
    )
    assert created.returncode == 0, created.stderr
    installed = site.hookwire("plugins", "install", "--editable", str(project), "--host", HOST)
    assert installed.returncode == 0, installed.stderr
    assert "live" in site.plugins()

    signals_file = project / "pizzeria_live" / "signals.py"
    signals_file.write_text(
        signals_file.read_text("utf-8")
        + "\n\n@receiver(host_started)\ndef greet(sender, **kwargs):\n    pass\n",
        encoding="utf-8",
    )
    signals_file.write_text(
        signals_file.read_text("utf-8").replace(
            "from hookwire import receiver",
            "from hookwire import receiver\nfrom hookwire.signals import host_started",
        ),
        encoding="utf-8",
    )
    info = site.hookwire("plugins", "info", "live", HOST)
    assert info.returncode == 0, info.stderr
    assert "receivers:     2" in info.stdout
    assert "hookwire.signals.host_started" in info.stdout

    removed = site.hookwire("plugins", "uninstall", "pizzeria-live", "--host", HOST, "-y")
    assert removed.returncode == 0, removed.stderr
    assert "live" not in site.plugins()


def test_the_generated_project_is_ruff_clean(site: Site, tmp_path: Path) -> None:
    project = tmp_path / "project"
    created = site.hookwire(
        "plugins", "new", "pizzeria-tidy", "--host", HOST, "--dir", str(project)
    )
    assert created.returncode == 0, created.stderr
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--isolated"],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


# -- refusals and mistakes -------------------------------------------------------------------


def test_new_rejects_an_invalid_name_and_a_folder_that_is_not_empty(site: Site) -> None:
    invalid = site.hookwire("plugins", "new", "my plugin!", "--host", HOST)
    assert invalid.returncode == 2
    assert invalid.stderr.count("\n") == 1
    assert "'my plugin!' is not a valid distribution name" in invalid.stderr

    occupied = site.home / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine\n", encoding="utf-8")
    refused = site.hookwire("plugins", "new", "pizzeria-x", "--host", HOST, "--dir", str(occupied))
    assert refused.returncode == 1
    assert "not empty" in refused.stderr
    assert [path.name for path in occupied.iterdir()] == ["notes.txt"]


def test_new_with_an_unknown_signal_is_one_error_line_with_the_common_prefix(site: Site) -> None:
    result = site.hookwire("plugins", "new", "pizzeria-y", "--host", HOST, "--signal", "nope")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("hookwire: error: "), line
    assert "has no signal 'nope'" in line
    assert not (site.home / "pizzeria-y").exists()


def test_info_on_an_unknown_name_suggests_the_closest_plugin(site: Site) -> None:
    result = site.hookwire("plugins", "info", "loyalti", HOST)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "no plugin named 'loyalti'" in result.stderr
    assert "did you mean 'loyalty'?" in result.stderr


def test_info_shows_metadata_and_receivers_of_an_installed_plugin(site: Site) -> None:
    result = site.hookwire("plugins", "info", "loyalty", HOST)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "state:         ready" in lines
    assert "distribution:  pizzeria-loyalty 0.3.0" in lines
    assert "license:       MIT" in lines
    assert any(line.startswith("summary:       A pizzeria plugin") for line in lines)
    assert any("pizzeria_loyalty.signals.award_points" in line for line in lines)


def test_uninstall_refuses_hookwire_itself_and_the_hosts_distribution(site: Site) -> None:
    for name, why in (("hookwire", "hookwire itself"), ("pizzeria", "distribution of host")):
        result = site.hookwire("plugins", "uninstall", name, "--host", HOST, "--yes")
        assert result.returncode == 1
        assert f"refusing to uninstall {name}" in result.stderr
        assert why in result.stderr
        assert site.installed(name)


def test_install_for_a_host_that_does_not_resolve_installs_nothing(site: Site) -> None:
    result = site.hookwire("plugins", "install", "pizzeria-nothing", "--host", "pizzeria.ap:host")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "did you mean 'pizzeria.app:host'?" in result.stderr
    assert "pip" not in result.stdout + result.stderr


@pytest.mark.slow
def test_installing_what_is_already_there_adds_nothing_and_succeeds(site: Site) -> None:
    """The installer's progress is left out unless --verbose asks for it: the summary is the
    whole output."""
    wheel = site.wheels["pizzeria-loyalty"]
    result = site.hookwire("plugins", "install", str(wheel), "--host", HOST)
    assert result.returncode == 0, result.stderr
    summary = "No plugin of host pizzeria (pizzeria.plugins) was added or upgraded."
    assert result.stdout.splitlines() == [summary]
    assert "Processing" not in result.stdout + result.stderr
    verbose = site.hookwire("plugins", "install", str(wheel), "--host", HOST, "--verbose")
    assert verbose.returncode == 0, verbose.stderr
    assert "Processing" in verbose.stdout
    assert verbose.stdout.splitlines()[-1] == summary


def test_uninstall_of_an_unknown_name_suggests_the_closest_plugin(site: Site) -> None:
    result = site.hookwire("plugins", "uninstall", "loyaltee", "--host", HOST, "--yes")
    assert result.returncode == 1
    assert "did you mean 'loyalty'?" in result.stderr
    assert site.installed("pizzeria-loyalty")


# -- what an installation can go wrong with ---------------------------------------------------


@pytest.mark.slow
def test_a_package_offering_the_host_nothing_exits_1_and_stays_installed(site: Site) -> None:
    project = site.project(
        "elsewhere",
        {
            "pyproject.toml": hatchling_pyproject(
                "elsewhere-tool",
                entry_points={"bakery.plugins": {"bread": "elsewhere_tool"}},
                packages=["elsewhere_tool"],
                extra='[project.scripts]\nelsewhere = "elsewhere_tool:main"\n',
            ),
            "elsewhere_tool/__init__.py": "def main():\n    pass\n",
        },
    )
    result = site.hookwire("plugins", "install", str(project), "--host", HOST)
    assert result.returncode == 1
    (line,) = [line for line in result.stderr.splitlines() if "offers host" in line]
    assert "distribution elsewhere-tool 1.0 offers host pizzeria no plugin" in line
    assert "'pizzeria.plugins'" in line
    assert "bakery.plugins, console_scripts" in line
    assert "hookwire plugins uninstall elsewhere-tool" in line
    assert "No plugin of host pizzeria (pizzeria.plugins) was added" in result.stdout
    assert site.installed("elsewhere-tool")

    declined = site.uninstall_on_a_terminal("elsewhere-tool", answer="n")
    assert declined.returncode == 1
    assert "Proceed? [y/N]" in declined.stdout
    assert "nothing removed" in declined.stdout
    assert site.installed("elsewhere-tool")

    removed = site.uninstall_on_a_terminal("elsewhere-tool", answer="y")
    assert removed.returncode == 0, removed.stdout
    assert "Will remove elsewhere-tool (no plugin of host pizzeria)" in removed.stdout
    assert not site.installed("elsewhere-tool")


@pytest.mark.slow
def test_a_plugin_failing_to_load_is_reported_with_its_error_and_exits_1(site: Site) -> None:
    """The failure is one error line, after the plugin's traceback under --traceback, as
    every command reports a failed plugin."""
    project = site.project(
        "burnt",
        {
            "pyproject.toml": hatchling_pyproject(
                "pizzeria-burnt",
                entry_points={"pizzeria.plugins": {"burnt": "pizzeria_burnt:Burnt"}},
                packages=["pizzeria_burnt"],
            ),
            "pizzeria_burnt/__init__.py": """
                from hookwire import Plugin


                class Burnt(Plugin):
                    signals_module = None

                    def ready(self):
                        raise RuntimeError("oven too hot")
            """,
        },
    )
    result = site.hookwire("--traceback", "plugins", "install", str(project), "--host", HOST)
    assert result.returncode == 1
    (row,) = [line.split() for line in result.stdout.splitlines() if "burnt" in line.split()]
    assert row[:3] == ["burnt", "added", "failed"]
    lines = result.stderr.splitlines()
    (line,) = [line for line in lines if line.startswith("hookwire: error: plugin burnt")]
    assert line.startswith("hookwire: error: plugin burnt fails to load: ")
    assert "oven too hot" in line
    traceback = lines.index("Traceback (most recent call last):")
    assert traceback < lines.index(line)
    assert '    raise RuntimeError("oven too hot")' in lines[traceback : lines.index(line)]

    info = site.hookwire("plugins", "info", "burnt", HOST, "--json")
    assert info.returncode == 0, info.stderr
    document = json.loads(info.stdout)
    validate_info(document)
    assert document["state"] == "failed"
    assert "oven too hot" in document["error"]
    assert 'raise RuntimeError("oven too hot")' in document["traceback"]

    plain = site.hookwire("plugins", "info", "burnt", HOST)
    assert "Traceback" not in plain.stdout
    detailed = site.hookwire("plugins", "info", "burnt", HOST, "--traceback")
    assert "Traceback (most recent call last):" in detailed.stdout

    # A fixed release, installed over it, is reported as upgraded and ready.
    init = project / "pizzeria_burnt" / "__init__.py"
    init.write_text(init.read_text("utf-8").replace("raise RuntimeError", "print"), "utf-8")
    pyproject_file = project / "pyproject.toml"
    pyproject_file.write_text(
        pyproject_file.read_text("utf-8").replace('version = "1.0"', 'version = "1.1"'), "utf-8"
    )
    upgraded = site.hookwire("plugins", "install", "--upgrade", str(project), "--host", HOST)
    assert upgraded.returncode == 0, upgraded.stderr
    (row,) = [line.split() for line in upgraded.stdout.splitlines() if "burnt" in line.split()]
    assert row == ["burnt", "upgraded", "from", "1.0", "ready", "pizzeria-burnt", "1.1", "0"]

    removed = site.hookwire("plugins", "uninstall", "burnt", "--host", HOST, "--yes")
    assert removed.returncode == 0, removed.stderr


# -- an environment without pip ---------------------------------------------------------------


@pytest.fixture(scope="module")
def uv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The uv executable of the test environment (the ``test`` extra installs it), copied into
    a folder of its own so that nothing else from the test environment lands on ``PATH``."""
    from uv import find_uv_bin

    folder = tmp_path_factory.mktemp("uv")
    return Path(shutil.copy2(find_uv_bin(), folder / "uv"))


@pytest.mark.slow
def test_in_a_uv_venv_without_pip_install_and_uninstall_use_uv_pip(
    uv: Path, tmp_path_factory: pytest.TempPathFactory, hookwire_wheel: Path, tmp_path: Path
) -> None:
    path = tmp_path / "uv-venv"
    subprocess.run(
        [str(uv), "venv", "--quiet", "--python", sys.executable, str(path)],
        check=True,
        capture_output=True,
    )
    venv = isolate(Venv(path), private_dependencies(tmp_path_factory))
    uv_pip_install = [str(uv), "pip", "install", "--quiet", "--no-deps"]
    subprocess.run(
        [*uv_pip_install, "--python", str(venv.python), str(hookwire_wheel)],
        check=True,
        capture_output=True,
        env={**OFFLINE, "PATH": "/usr/bin:/bin"},
    )
    assert venv.python_code("import pip").returncode != 0, "the uv venv must have no pip"

    source = tmp_path / "uvplugin"
    (source / "uv_greeter").mkdir(parents=True)
    (source / "pyproject.toml").write_text(
        hatchling_pyproject(
            "uv-greeter",
            entry_points={"hookwire.plugins": {"greeter": "uv_greeter"}},
            packages=["uv_greeter"],
        ),
        encoding="utf-8",
    )
    (source / "uv_greeter" / "__init__.py").write_text("", encoding="utf-8")
    wheel = build_wheel(source, tmp_path / "wheels")

    without_uv = {**OFFLINE, "PATH": "/usr/bin:/bin"}
    neither = venv.run("hookwire", "plugins", "install", str(wheel), env=without_uv)
    assert neither.returncode == 1
    assert neither.stderr.count("\n") == 1
    assert "has neither pip nor uv" in neither.stderr

    with_uv = {**OFFLINE, "PATH": f"{uv.parent}:/usr/bin:/bin"}
    installed = venv.run("hookwire", "plugins", "install", str(wheel), env=with_uv)
    assert installed.returncode == 0, installed.stderr
    assert "greeter" in installed.stdout
    listed = venv.run("hookwire", "plugins", "list", "--json", env=with_uv)
    assert [entry["name"] for entry in json.loads(listed.stdout)] == ["greeter"]

    removed = venv.run("hookwire", "plugins", "uninstall", "greeter", "--yes", env=with_uv)
    assert removed.returncode == 0, removed.stderr
    assert "greeter (uv-greeter 1.0)" in removed.stdout
    listed = venv.run("hookwire", "plugins", "list", "--json", env=with_uv)
    assert json.loads(listed.stdout) == []


# -- what to install is never an installer option ---------------------------------------------


@pytest.mark.parametrize(
    "option",
    ["--target={folder}", "-r", "--index-url=http://127.0.0.1:9/simple", "-e"],
    ids=["target", "requirements-file", "index-url", "editable"],
)
def test_an_argument_that_looks_like_an_option_is_refused_before_the_installer_runs(
    site: Site, tmp_path: Path, option: str
) -> None:
    wheel = site.wheels["pizzeria-loyalty"]
    elsewhere = tmp_path / "elsewhere"
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"{wheel}\n", encoding="utf-8")
    argument = option.format(folder=elsewhere)
    target = str(requirements) if option == "-r" else str(wheel)
    result = site.hookwire(
        "plugins", "install", "--host", HOST, "--upgrade", "--", argument, target
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"hookwire: error: {argument!r} is not a requirement or a path: what to install is never "
        f"passed to the installer as an option; a file or folder of that name is './{argument}'"
    ]
    assert result.stdout == ""
    assert not elsewhere.exists()


# -- stopping an installation -----------------------------------------------------------------

# A build backend that hangs while pip prepares the project's metadata, after saying where it is.
HANGING_BACKEND = """
import os
import time


def _hang(*args, **kwargs):
    with open(os.environ["HANGING_BACKEND_PIDFILE"], "w", encoding="utf-8") as file:
        file.write(str(os.getpid()))
    while True:
        time.sleep(0.05)


get_requires_for_build_wheel = _hang
prepare_metadata_for_build_wheel = _hang
build_wheel = _hang
"""


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie waiting to be reaped does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as file:
            return file.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_for(predicate: Any, seconds: float) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize(
    ("signum", "status", "line"),
    [(15, 143, "hookwire: terminated"), (2, 130, "hookwire: interrupted")],
    ids=["sigterm", "ctrl-c"],
)
def test_a_signal_during_an_install_stops_the_installer_and_its_build_backend(
    site: Site, tmp_path: Path, signum: int, status: int, line: str
) -> None:
    """SIGTERM, or Ctrl-C (the terminal signals hookwire's process group, not the installer's),
    stops the installer's whole process group: no build backend is left running."""
    import os
    import signal

    project = tmp_path / "hanging"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "hanging_backend"\nbackend-path = ["."]\n\n'
        '[project]\nname = "pizzeria-hanging"\nversion = "1.0"\n',
        encoding="utf-8",
    )
    (project / "hanging_backend.py").write_text(HANGING_BACKEND, encoding="utf-8")
    pidfile = tmp_path / "backend.pid"
    env = {
        **OFFLINE,
        "HOOKWIRE_CACHE_DIR": str(site.home.parent / "cache"),
        "HANGING_BACKEND_PIDFILE": str(pidfile),
    }
    process = subprocess.Popen(
        [str(site.venv.bin / "hookwire"), "plugins", "install", str(project), "--host", HOST],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(env),
        cwd=site.home,
    )
    backend = 0
    try:
        assert _wait_for(lambda: pidfile.exists() and pidfile.read_text("utf-8"), 120)
        backend = int(pidfile.read_text("utf-8"))
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == status, stderr
        assert stderr.splitlines()[-1] == line
        assert _wait_for(lambda: not _alive(backend), 10), "the build backend was left running"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if backend and _alive(backend):
            os.kill(backend, signal.SIGKILL)
    assert not site.installed("pizzeria-hanging")


# -- what hookwire and the host need stays ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "chain"),
    [
        ("typer", "hookwire -> typer"),
        ("asgiref", "hookwire -> asgiref"),
        ("packaging", "hookwire -> packaging"),
        ("importlib-metadata", "hookwire -> importlib-metadata"),
        ("zipp", "hookwire -> importlib-metadata -> zipp"),
    ],
)
def test_uninstall_refuses_what_hookwire_needs_naming_the_chain(
    site: Site, name: str, chain: str
) -> None:
    from importlib.metadata import distribution

    installed = distribution(name).metadata["Name"]  # as its metadata spells it
    result = site.hookwire("plugins", "uninstall", name, "--host", HOST, "--yes")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"hookwire: error: refusing to uninstall {installed}: hookwire needs it ({chain}); "
        "remove what needs it first"
    ]
    assert "Will remove" not in result.stdout


def test_uninstall_refuses_celery_while_a_plugin_with_remote_receivers_needs_it(
    site: Site,
) -> None:
    texts = build_wheel(ROOT / "plugins_example" / "pizzeria-texts", site.home.parent / "wheels")
    site.venv.install(texts)
    try:
        result = site.hookwire("plugins", "uninstall", "celery", "--host", HOST, "--yes")
        assert result.returncode == 1, result.stdout + result.stderr
        assert result.stderr.splitlines() == [
            "hookwire: error: refusing to uninstall celery: plugin texts needs it "
            "(pizzeria-texts -> hookwire[celery] -> celery[redis]); remove what needs it first"
        ]
        assert site.installed("pizzeria-texts")
    finally:
        site.venv.uninstall("pizzeria-texts")


# -- a new plugin's name shadows nothing --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("os", "its package 'os' would shadow the module of Python's standard library"),
        ("json", "its package 'json' would shadow the module of Python's standard library"),
        ("hookwire", "it is hookwire's own name"),
        ("pizzeria", "it is the name of host pizzeria (pizzeria)"),
        ("typer", "hookwire needs the distribution of that name (hookwire -> typer)"),
        ("pizzeria-loyalty", "distribution pizzeria-loyalty 0.3.0 is already installed"),
        ("dateutil", "its package 'dateutil' would shadow the installed module of python-dateutil"),
    ],
)
def test_new_refuses_a_name_that_shadows_what_exists(site: Site, name: str, why: str) -> None:
    result = site.hookwire("plugins", "new", name, "--host", HOST)
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"hookwire: error: refusing the name {name!r}: {why}")
    other = f"{name}-plugin" if name.startswith("pizzeria-") else f"pizzeria-{name}"
    assert line.endswith(f"; choose another name (e.g. '{other}')")
    assert not (site.home / name).exists()


def test_new_says_a_keyword_is_a_keyword(site: Site) -> None:
    result = site.hookwire("plugins", "new", "class", "--host", HOST)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "hookwire: error: 'class' does not make a Python package name ('class' is a Python "
        "keyword): add a word to it (e.g. 'shop-class')"
    ]
