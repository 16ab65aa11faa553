"""The checks marked ``interpreter_independent`` (``tests/onepython.py``) run on one Python of a
``nox -s tests`` run; these tests, run on every Python, show that they may.

Each ground has a fingerprint: what the marked checks' result depends on, computed on the
running interpreter. ``nox -s tests`` names a record file; the session that ran the marked
checks writes the fingerprints there, and every later session, on another Python, must
compute the same ones, or it fails, naming what differs.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from onepython import (
    DOCS_AS_WRITTEN,
    GROUNDS,
    MARKED,
    PURE_PYTHON,
    READ_THE_DOCS_BUILD,
    TARGET_PINNED,
)
from venvtools import ROOT

import hookwire

#: Names the folder of fingerprints (a file per ground) shared by the sessions of one
#: ``nox -s tests`` run.
RECORD_VARIABLE = "TESTS_INTERPRETER_INDEPENDENT_RECORD"


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _target_pinned(_: Path) -> dict[str, Any]:
    """The tools' versions and the Python they are told to check for."""
    import mypy.version

    tool = _pyproject()["tool"]
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "--version"], capture_output=True, text=True, check=True
    )
    return {
        "mypy": mypy.version.__version__,
        "mypy python_version": tool["mypy"]["python_version"],
        "ruff": ruff.stdout.strip(),
        "ruff target-version": tool["ruff"]["target-version"],
    }


def _pure_python(wheel: Path) -> dict[str, Any]:
    """The wheel's tag and every file it holds, with its digest."""
    with zipfile.ZipFile(wheel) as archive:
        files = {
            name: hashlib.sha256(archive.read(name)).hexdigest() for name in archive.namelist()
        }
    return {"wheel": wheel.name, "files": files}


def _docs_configuration() -> Any:
    """``docs/conf.py`` as a module, ``sys.path`` left as it was."""
    import importlib.util

    saved = list(sys.path)
    try:
        spec = importlib.util.spec_from_file_location("_docs_conf", ROOT / "docs" / "conf.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved
    return module


def _docs_as_written(_: Path) -> dict[str, Any]:
    """Every public signature as the reference renders it (autodoc's rendering, then the
    documentation's own handlers), with the Sphinx doing it."""
    import sphinx
    from sphinx.util.inspect import signature, stringify_signature

    handlers = _docs_configuration().SIGNATURE_HANDLERS
    rendered: dict[str, str | None] = {}
    for name in sorted(hookwire.__all__):
        value = getattr(hookwire, name)
        targets = [("class" if inspect.isclass(value) else "function", name, value)]
        if inspect.isclass(value):
            targets += [
                ("method", f"{name}.{attribute}", member)
                for attribute, member in vars(value).items()
                if not attribute.startswith("_") and callable(member)
            ]
        for what, label, target in targets:
            try:
                text: str | None = stringify_signature(signature(target))
            except (TypeError, ValueError):
                continue  # no signature to render (a builtin, an enum member, ...)
            for handler in handlers:
                changed = handler(None, what, label, target, None, text, None)
                if changed is not None:
                    text = changed[0]
                    break
            rendered[label] = text
    return {"sphinx": sphinx.__display_version__, "signatures": rendered}


FINGERPRINTS: dict[str, Callable[[Path], dict[str, Any]]] = {
    TARGET_PINNED: _target_pinned,
    PURE_PYTHON: _pure_python,
    DOCS_AS_WRITTEN: _docs_as_written,
}


def test_every_ground_has_a_fingerprint() -> None:
    assert set(FINGERPRINTS) == set(GROUNDS)


def test_every_marked_check_names_a_ground(request: pytest.FixtureRequest) -> None:
    marked = request.config.stash[MARKED]
    if not marked:
        pytest.skip("this run collected no check marked interpreter_independent")
    assert {why for _, why in marked} <= set(GROUNDS), marked


def test_every_check_of_the_documentation_build_runs_on_one_python(
    request: pytest.FixtureRequest,
) -> None:
    """A check reading the build that is not marked would make every Python build it again."""
    marked = {node for node, _ in request.config.stash[MARKED]}
    unmarked = [node for node in request.config.stash[READ_THE_DOCS_BUILD] if node not in marked]
    assert unmarked == []


def test_the_pinned_target_is_the_oldest_python_supported() -> None:
    project = _pyproject()
    oldest = project["project"]["requires-python"].removeprefix(">=")
    assert project["tool"]["mypy"]["python_version"] == oldest
    assert project["tool"]["ruff"]["target-version"] == "py" + oldest.replace(".", "")


def test_the_wheel_is_pure_python_and_the_package_holds_no_compiled_code(
    hookwire_wheel: Path,
) -> None:
    assert hookwire_wheel.name.endswith("-py3-none-any.whl")
    compiled = [
        str(path)
        for path in (ROOT / "hookwire").rglob("*")
        if path.suffix in {".c", ".pyx", ".so", ".pyd"}
    ]
    assert compiled == []
    assert "hooks" not in _pyproject()["tool"]["hatch"]["build"]


@pytest.mark.parametrize("ground", GROUNDS)
def test_this_python_computes_the_fingerprint_the_checking_python_recorded(
    ground: str, hookwire_wheel: Path
) -> None:
    fingerprint = json.loads(json.dumps(FINGERPRINTS[ground](hookwire_wheel)))
    assert fingerprint  # computable on every Python, recorded or not
    folder = os.environ.get(RECORD_VARIABLE)
    if not folder:
        return  # not a nox run: there is no other Python to compare with
    Path(folder).mkdir(parents=True, exist_ok=True)
    record = Path(folder) / f"{hashlib.sha256(ground.encode()).hexdigest()[:16]}.json"
    if not record.exists():
        entry = {"ground": ground, "python": sys.version.split()[0], "fingerprint": fingerprint}
        record.write_text(json.dumps(entry, indent=1, sort_keys=True), encoding="utf-8")
        return
    recorded = json.loads(record.read_text(encoding="utf-8"))
    differs = sorted(
        key
        for key in fingerprint.keys() | recorded["fingerprint"].keys()
        if recorded["fingerprint"].get(key) != fingerprint.get(key)
    )
    assert not differs, (
        f"{ground!r} does not hold: Python {sys.version.split()[0]} differs from Python "
        f"{recorded['python']}, which ran the checks marked with it, in {differs}"
    )
