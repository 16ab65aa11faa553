"""Sessions: ``tests`` (the whole suite on every Python present), ``lint``, ``typecheck``,
``docs``, ``bench`` and ``demo``.

``nox -s tests`` is the README's test command and what ``.ci/run`` runs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.error_on_missing_interpreters = False
nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = False
# uv makes and fills a session's venv several times faster than virtualenv and pip; a Python
# that is not installed is skipped (saying so), never downloaded.
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.download_python = "never"

PYTHONS = ["3.11", "3.12", "3.13"]
ROOT = Path(__file__).parent


def _expose_pyenv_interpreters() -> None:
    """Let pyenv shims answer for every installed 3.11/3.12/3.13.

    ``pyenv exec`` exports ``PYENV_VERSION`` as the one version that runs nox, which hides the
    others from the shims; append the newest installed patch release of each supported minor.
    """
    root = os.environ.get("PYENV_ROOT")
    versions = Path(root) / "versions" if root else None
    if versions is None or not versions.is_dir():
        return
    selected = [v for v in os.environ.get("PYENV_VERSION", "").split(":") if v]
    for minor in PYTHONS:
        if any(v == minor or v.startswith(minor + ".") for v in selected):
            continue
        candidates = sorted(
            (p.name for p in versions.iterdir() if p.name.startswith(minor + ".")),
            key=lambda name: tuple(int(part) for part in name.split(".") if part.isdigit()),
        )
        if candidates:
            selected.append(candidates[-1])
    if selected:
        os.environ["PYENV_VERSION"] = ":".join(selected)


_expose_pyenv_interpreters()


#: Set by the first ``tests`` session that runs the interpreter-independent checks: the
#: sessions after it, on other Pythons, leave them out (``tests/conftest.py`` reads it).
_interpreter_independent_checked: list[str] = []


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole suite: unit, property, end-to-end, lint, typing and docs checks.

    Checks whose result cannot depend on the interpreter (marked ``interpreter_independent``:
    the Sphinx build, mypy pinned to one Python version, the release build, ...) run in the
    first of these sessions only.
    """
    # Test processes run with PYTHONDONTWRITEBYTECODE: without compiled bytecode in the
    # session's venv, each of them would compile typer, rich, Celery, ... again.
    session.env["UV_COMPILE_BYTECODE"] = "1"
    # The celery extra: the remote-receiver tests run against a real Redis and real workers.
    session.install("-e", ".[test,lint,docs,bench,celery,otel]")
    # The later sessions check that what those checks depend on is the same on their Python.
    record = Path(session.virtualenv.location).parent / "interpreter-independent"
    if _interpreter_independent_checked:
        (checked_on,) = _interpreter_independent_checked
        session.env["TESTS_INTERPRETER_INDEPENDENT_CHECKED_ON"] = checked_on
    else:
        shutil.rmtree(record, ignore_errors=True)
        record.mkdir(parents=True)
    session.env["TESTS_INTERPRETER_INDEPENDENT_RECORD"] = str(record)
    # One worker more than the cores: about 40% of a worker's time is spent waiting on the
    # processes its test started (Celery workers, installers, the CLI), which the extra worker
    # fills (2 cores: 164 s with 3 workers, 193 s with 2, 175 s with 4). What several tests
    # share (the wheels, the documentation build) is built once per run, by whichever worker
    # needs it first.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    parallel = ["-n", str((cores or 1) + 1), "--dist", "load"]
    session.run("python", "-m", "pytest", *parallel, *session.posargs)
    if not _interpreter_independent_checked:
        _interpreter_independent_checked.append(session.name)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package."""
    session.install("-e", ".[lint,celery,otel]")
    session.run("mypy", "--strict", "hookwire")


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the Sphinx site with warnings as errors."""
    # The docs extra alone: it carries what the API reference imports (Celery, pytest).
    session.install("-e", ".[docs]")
    session.run(
        "sphinx-build", "-W", "-n", "--keep-going", "-b", "html", "docs", "docs/_build/html"
    )


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Run every benchmark and print ns/op and ratios."""
    session.install("-e", ".[bench,celery,otel]")
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """Install the example host and plugins and run it (the README's first command)."""
    # The quick start's packages; pizzeria-texts (remote receivers) is the workers how-to's.
    packages = sorted(
        str(p)
        for p in (ROOT / "plugins_example").iterdir()
        if (p / "pyproject.toml").exists() and p.name != "pizzeria-texts"
    )
    session.install(".", *packages)
    session.run("hookwire", "run", "pizzeria.app:host")
