"""Real virtual environments and real installed distributions for end-to-end tests.

A :class:`Venv` is a fresh environment without pip, made by ``uv venv``. Its own
site-packages receives what a test installs (with ``uv pip --python``, or with the running
interpreter's pip, run by the venv's interpreter, where pip itself is what a test checks), and a
``.pth`` file makes the running environment's site-packages visible after it, so hookwire's
runtime dependencies need no network. Everything a test asserts on (hookwire itself, plugin
packages, hand-made ``*.dist-info`` folders) lives in the venv.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import importlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: Names the temporary folder that holds this test run's discovery caches (no ``HOOKWIRE_``
#: prefix: tests clear those variables).
RUN_CACHE_VARIABLE = "TESTS_RUN_CACHE"


def isolate_discovery_cache() -> Path:
    """Point the discovery cache of this test run, and of every process it starts, at a
    temporary folder, so a run never writes into the user's ``~/.cache/hookwire``.

    Called once per run (by ``tests/conftest.py``); later calls reuse the same folder.
    """
    root = os.environ.get(RUN_CACHE_VARIABLE)
    if root is None:
        root = tempfile.mkdtemp(prefix="hookwire-tests-cache-")
        atexit.register(shutil.rmtree, root, True)
        os.environ[RUN_CACHE_VARIABLE] = root
    os.environ["HOOKWIRE_CACHE_DIR"] = os.path.join(root, "hookwire")
    return Path(root)


#: Names the folder that stands in for the user's home during this test run.
RUN_HOME_VARIABLE = "TESTS_RUN_HOME"


def isolate_home() -> Path:
    """Point ``HOME`` of this test run, and of every process it starts, at an empty temporary
    folder, and drop the ``XDG_*`` variables, so whatever hookwire writes "in the user's home"
    lands there and :func:`written_under_home` can tell at the end of the run.

    pip's and uv's caches stay where they were (they are not hookwire's, and a cold cache
    would only slow the run). Called once per run; later calls reuse the same folder.
    """
    root = os.environ.get(RUN_HOME_VARIABLE)
    if root is None:
        real_home = Path.home()
        os.environ.setdefault("PIP_CACHE_DIR", str(real_home / ".cache" / "pip"))
        os.environ.setdefault("UV_CACHE_DIR", str(real_home / ".cache" / "uv"))
        for variable in [name for name in os.environ if name.startswith("XDG_")]:
            del os.environ[variable]
        root = tempfile.mkdtemp(prefix="hookwire-tests-home-")
        atexit.register(shutil.rmtree, root, True)
        os.environ[RUN_HOME_VARIABLE] = root
    os.environ["HOME"] = root
    return Path(root)


def written_under_home(home: Path) -> list[str]:
    """What hookwire left in ``home``: every path below it that names hookwire."""
    return sorted(
        str(path.relative_to(home)) for path in home.rglob("*") if "hookwire" in path.name.lower()
    )


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a process a test starts: this one's without ``HOOKWIRE_*``,
    ``PYTHON*``, ``COV_*`` and ``VIRTUAL_ENV*`` (the run's cache folder kept), pip quiet and
    non-interactive, no bytecode written, then ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HOOKWIRE_", "PYTHON", "COV_", "VIRTUAL_ENV"))
    }
    # The other HOOKWIRE_* variables are the test's business; the cache folder stays the
    # test's own (or this run's), never the user's.
    cache = os.environ.get("HOOKWIRE_CACHE_DIR")
    if cache:
        env["HOOKWIRE_CACHE_DIR"] = cache
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    if extra:
        env.update(extra)
    return env


@functools.cache
def uv() -> str:
    """The ``uv`` executable of the environment running the tests (the ``test`` extra)."""
    from uv import find_uv_bin

    return find_uv_bin()


def build_wheel(source: Path, out_dir: Path) -> Path:
    """Build a wheel of the project at ``source`` into ``out_dir`` (no network, no isolation).

    With ``uv build`` and this environment's build backend: the same wheel as ``pip wheel``
    (what pip's behaviour is checked with is installed by pip elsewhere), at a quarter of the
    CPU (0.3 s against 1.2 s a build).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    before = set(out_dir.glob("*.whl"))
    subprocess.run(
        [
            uv(),
            "build",
            "--wheel",
            "--no-build-isolation",
            "--offline",
            "--quiet",
            "--python",
            sys.executable,
            "--out-dir",
            str(out_dir),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
    )
    built = set(out_dir.glob("*.whl")) - before
    if not built:  # rebuilt with the same name: the newest file is ours
        return max(out_dir.glob("*.whl"), key=lambda p: p.stat().st_mtime)
    (wheel,) = built
    return wheel


def built_once(marker: Path, build: Callable[[], Path]) -> Path:
    """The file ``build()`` made (a wheel, the documentation's build record), by this process
    or by another worker of the run: the first to take ``marker``'s lock builds and records
    it, the others wait and read it."""
    marker.parent.mkdir(parents=True, exist_ok=True)
    with open(marker.with_name(marker.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if marker.exists():
            return Path(marker.read_text(encoding="utf-8"))
        built = build()
        marker.write_text(str(built), encoding="utf-8")
        return built


@dataclass
class Venv:
    """A temporary virtual environment driven through subprocesses."""

    path: Path

    @property
    def bin(self) -> Path:
        return self.path / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        return self.bin / ("python.exe" if os.name == "nt" else "python")

    @functools.cached_property
    def site_packages(self) -> Path:
        """The venv's own site-packages (asked of its interpreter once)."""
        out = subprocess.run(
            [str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
            env=clean_env(),
        )
        return Path(out.stdout.strip())

    def pip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the running interpreter's pip against this venv.

        The venv's interpreter runs it (it sees pip through its ``.pth`` file), as
        ``pip --python`` would after starting pip a first time only to start it again.
        """
        return subprocess.run(
            [str(self.python), "-m", "pip", *args],
            check=check,
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=300,
        )

    def uv_pip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``uv pip`` against this venv, offline: everything comes from local files or
        from the environment the venv sees through its ``.pth`` file."""
        return subprocess.run(
            [uv(), "pip", *args, "--python", str(self.python), "--offline"],
            check=check,
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=300,
        )

    def install(self, *targets: Path | str) -> None:
        """Install wheels or project folders (built without isolation), without dependencies,
        with ``uv pip`` and bytecode compiled, as pip would.

        Tests whose subject is pip's own behaviour use :meth:`pip_install`.
        """
        options = ("--quiet", "--no-deps", "--no-build-isolation", "--compile-bytecode")
        self.uv_pip("install", *options, *map(str, targets))

    def uninstall(self, *names: str) -> None:
        """Uninstall distributions with ``uv pip`` (see :meth:`pip_uninstall`)."""
        self.uv_pip("uninstall", "--quiet", *names)

    def pip_install(self, *targets: Path | str) -> None:
        """``pip install --no-deps`` wheels or project folders (built without isolation)."""
        self.pip("install", "--quiet", "--no-deps", "--no-build-isolation", *map(str, targets))

    def pip_uninstall(self, *names: str) -> None:
        """``pip uninstall`` distributions."""
        self.pip("uninstall", "--yes", "--quiet", *names)

    def run(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 120,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``args`` (a program in this venv's bin folder, or any path) and capture output.

        The working directory defaults to the venv itself, so a checkout of hookwire in the
        caller's directory can never shadow the installed wheel.
        """
        program = args[0]
        candidate = self.bin / program
        if candidate.exists():
            program = str(candidate)
        return subprocess.run(
            [program, *args[1:]],
            capture_output=True,
            text=True,
            env=clean_env(env),
            cwd=cwd or self.path,
            timeout=timeout,
            input=input,
            check=False,
        )

    def python_code(self, code: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        """Run ``code`` with this venv's interpreter."""
        return self.run(str(self.python), "-c", textwrap.dedent(code), **kwargs)  # type: ignore[arg-type]

    def add_dist_info(
        self,
        name: str,
        version: str = "1.0",
        *,
        entry_points: Mapping[str, Mapping[str, str]] | None = None,
        entry_points_text: str | None = None,
        modules: Mapping[str, str] | None = None,
        site: Path | None = None,
    ) -> Path:
        """Install a distribution by hand: ``*.dist-info`` plus top-level module files.

        ``entry_points`` maps group -> {name: value}; ``entry_points_text`` writes the file
        verbatim instead (for malformed metadata). ``modules`` maps a module path such as
        ``"pkg/__init__.py"`` to its source.
        """
        return write_dist_info(
            site or self.site_packages,
            name,
            version,
            entry_points=entry_points,
            entry_points_text=entry_points_text,
            modules=modules,
        )


#: How far :func:`backdate` moves modification times into the past: well beyond the two
#: seconds the discovery cache waits for an installation to settle before it writes a result.
BACKDATE_NS = 30_000_000_000


def backdate(*roots: Path) -> None:
    """Make every file and folder under ``roots`` look modified ``BACKDATE_NS`` ago, as if the
    installation that wrote them had settled long before, so a test need not sleep until the
    discovery cache agrees to write.

    Each call moves them to a time no earlier call used, so a later change that is then
    backdated again still differs from what a cache recorded before it.
    """
    when = time.time_ns() - BACKDATE_NS
    for root in roots:
        for folder, _, files in os.walk(root):
            for name in files:
                path = os.path.join(folder, name)
                if not os.path.islink(path):
                    os.utime(path, ns=(when, when))
            os.utime(folder, ns=(when, when))


def write_dist_info(
    site: Path,
    name: str,
    version: str = "1.0",
    *,
    entry_points: Mapping[str, Mapping[str, str]] | None = None,
    entry_points_text: str | None = None,
    modules: Mapping[str, str] | None = None,
) -> Path:
    """Write ``<name>-<version>.dist-info`` and the ``modules`` files into the folder ``site``."""
    normalized = name.replace("-", "_")
    dist_info = site / f"{normalized}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    (dist_info / "INSTALLER").write_text("hookwire-tests\n", encoding="utf-8")
    records = [f"{normalized}-{version}.dist-info/METADATA,,"]
    if entry_points_text is not None:
        (dist_info / "entry_points.txt").write_text(entry_points_text, encoding="utf-8")
    elif entry_points:
        lines = []
        for group, entries in entry_points.items():
            lines.append(f"[{group}]")
            lines.extend(f"{key} = {value}" for key, value in entries.items())
            lines.append("")
        (dist_info / "entry_points.txt").write_text("\n".join(lines), encoding="utf-8")
    for relative, source in (modules or {}).items():
        target = site / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source), encoding="utf-8")
        records.append(f"{relative},,")
    (dist_info / "RECORD").write_text("\n".join(records) + "\n", encoding="utf-8")
    return dist_info


def write_project(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``files`` (relative path -> text, dedented) under ``root``: a project to install,
    or an application's folder; returns ``root``."""
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def hatchling_pyproject(
    name: str,
    version: str = "1.0",
    *,
    entry_points: Mapping[str, Mapping[str, str]] | None = None,
    packages: Sequence[str] = (),
    extra: str = "",
) -> str:
    """A ``pyproject.toml`` that hatchling builds: ``name`` at ``version``, the
    ``entry_points`` (group: {name: value}), the wheel's ``packages`` when given (otherwise
    hatchling finds the package named after the project), then ``extra`` (more TOML)."""
    lines = [
        "[build-system]",
        'requires = ["hatchling>=1.24"]',
        'build-backend = "hatchling.build"',
        "",
        "[project]",
        f'name = "{name}"',
        f'version = "{version}"',
        "",
    ]
    for group, entries in (entry_points or {}).items():
        lines.append(f'[project.entry-points."{group}"]')
        lines.extend(f'{key} = "{value}"' for key, value in entries.items())
        lines.append("")
    if packages:
        quoted = ", ".join(f'"{package}"' for package in packages)
        lines += ["[tool.hatch.build.targets.wheel]", f"packages = [{quoted}]", ""]
    if extra:
        lines.append(extra)
    return "\n".join(lines)


def create_venv(path: Path, *, wheels: Sequence[Path] = ()) -> Venv:
    """Create a venv at ``path`` that sees this environment's packages after its own.

    ``wheels`` (typically hookwire's own wheel) are installed into it with ``--no-deps``.
    """
    subprocess.run(
        [uv(), "venv", "--quiet", "--python", sys.executable, str(path)],
        check=True,
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    venv = Venv(path)
    outer = sysconfig.get_paths()["purelib"]
    (venv.site_packages / "_outer_environment.pth").write_text(outer + "\n", encoding="utf-8")
    if wheels:
        venv.install(*wheels)
    return venv


class PluginSite:
    """A folder put first on ``sys.path`` that receives hand-made distributions and modules.

    For in-process tests of discovery and loading; everything imported from it is removed
    from ``sys.modules`` after the test.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, name: str, version: str = "1.0", **kwargs: Any) -> Path:
        """Write a distribution (see :func:`venvtools.write_dist_info`); returns its dist-info."""
        dist_info = write_dist_info(self.path, name, version, **kwargs)
        importlib.invalidate_caches()
        return dist_info

    def distributions(self) -> list[Any]:
        """``importlib_metadata.PathDistribution`` objects of every distribution written here."""
        import importlib_metadata

        return [
            importlib_metadata.PathDistribution(path)
            for path in sorted(self.path.glob("*.dist-info"))
        ]
