"""Checks whose result cannot depend on the Python that runs them.

``nox -s tests`` runs the suite once per Python; a check marked here runs in the first of
those sessions only, since running it again on another interpreter could not change what it
finds. Each mark names its ground, and ``tests/test_onepython.py`` checks, on every Python,
that the ground holds: a check whose result could depend on the interpreter is not marked.
"""

from __future__ import annotations

import pytest

#: ruff and mypy check the code for the Python named in ``pyproject.toml``, not for the
#: interpreter that runs them.
TARGET_PINNED = "ruff and mypy check for the Python version pinned in pyproject.toml"
#: The release files hold no compiled code and no build step reads the interpreter.
PURE_PYTHON = "pure-Python distributions: the same sdist and py3-none-any wheel from any Python"
#: The documentation is rendered from the sources as written: every module postpones the
#: evaluation of its annotations, so signatures show their text, not an interpreter's repr.
DOCS_AS_WRITTEN = "Sphinx renders the sources as written (annotations are never evaluated)"

GROUNDS = (TARGET_PINNED, PURE_PYTHON, DOCS_AS_WRITTEN)

#: Where ``tests/conftest.py`` keeps the collected marked checks: ``(node id, ground)`` pairs.
MARKED = pytest.StashKey[list[tuple[str, str]]]()
#: Where ``tests/conftest.py`` keeps the node ids of the collected checks that read the
#: documentation build (each must be marked: the build is made as written, on any Python).
READ_THE_DOCS_BUILD = pytest.StashKey[list[str]]()


def interpreter_independent(why: str) -> pytest.MarkDecorator:
    """Mark a check as one whose result no interpreter can change, for the reason ``why``
    (one of :data:`GROUNDS`)."""
    if why not in GROUNDS:
        raise ValueError(f"not a ground this suite checks: {why!r}")
    return pytest.mark.interpreter_independent(why)
