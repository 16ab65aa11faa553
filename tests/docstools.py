"""Building the documentation the way a strict CI would, for the tests that read the result."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from venvtools import ROOT

DOCS = ROOT / "docs"
#: The JSON schemas of the CLI's output: what tests know of the JSON shapes comes from here.
SCHEMAS = DOCS / "schemas"


def _object_schema(schema_name: str, definition: str) -> dict[str, Any]:
    schema = json.loads((SCHEMAS / schema_name).read_text(encoding="utf-8"))
    return schema["$defs"][definition]  # type: ignore[no-any-return]


def required_keys(schema_name: str, definition: str) -> list[str]:
    """The keys the object ``definition`` of ``schema_name`` requires, in documented order."""
    return list(_object_schema(schema_name, definition)["required"])


def documented_keys(schema_name: str, definition: str) -> list[str]:
    """Every key the object ``definition`` of ``schema_name`` describes, in documented order."""
    return list(_object_schema(schema_name, definition)["properties"])


@dataclass(frozen=True)
class DocsBuild:
    """One HTML build of ``docs/``: where it went and what Sphinx printed."""

    html: Path
    returncode: int
    stdout: str
    stderr: str

    def page(self, name: str) -> str:
        """The built HTML of a page, by its source name without suffix (``reference/api``)."""
        return (self.html / f"{name}.html").read_text(encoding="utf-8")

    def pages(self) -> list[str]:
        """The names of the documentation's own pages (not search, index or static files)."""
        return sorted(
            str(path.relative_to(self.html).with_suffix(""))
            for path in self.html.rglob("*.html")
            if not any(part.startswith("_") for part in path.relative_to(self.html).parts)
            and path.stem not in {"genindex", "search", "py-modindex"}
        )


class _ProseText(HTMLParser):
    """Collects the text a reader sees outside the given elements."""

    def __init__(self, skipped: frozenset[str]) -> None:
        super().__init__()
        self._skipped = skipped
        self._depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._skipped:
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._skipped:
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._depth:
            self.parts.append(data)


def prose_text(html: str, *, inline_code: bool = True) -> str:
    """The visible text of an HTML page outside ``<pre>`` blocks (code, consoles, outputs),
    and outside inline ``<code>`` too unless ``inline_code``."""
    skipped = {"pre", "script", "style"} if inline_code else {"pre", "script", "style", "code"}
    parser = _ProseText(frozenset(skipped))
    parser.feed(html)
    # Text split across elements is joined by spaces, then spaces before punctuation that
    # belonged to the previous element ("Raises" + ":") are dropped.
    return re.sub(r"\s+([:;,.)])", r"\1", " ".join(" ".join(parser.parts).split()))


# Runs Sphinx with only what ``pip install 'hookwire[docs]'`` brings importable: every
# top-level module that belongs to installed distributions outside that extra's requirements
# (followed through their own requirements) cannot be imported. The test environment has every
# extra installed; a page needing more than the docs extra then fails the build.
_ONLY_THE_DOCS_EXTRA = """
import importlib.metadata as metadata
import sys

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

needed = {}
pending = [("hookwire", frozenset({"docs"}))]
while pending:
    name, extras = pending.pop()
    key = canonicalize_name(name)
    if key in needed and extras <= needed[key]:
        continue
    needed[key] = needed.get(key, frozenset()) | extras
    try:
        requirements = metadata.distribution(name).requires or []
    except metadata.PackageNotFoundError:
        continue
    for text in requirements:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": e}) for e in (*extras, "")):
            pending.append((requirement.name, frozenset(requirement.extras)))

outside = {
    module
    for module, owners in metadata.packages_distributions().items()
    if not any(canonicalize_name(owner) in needed for owner in owners)
}


class OnlyTheDocsExtra:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in outside:
            raise ModuleNotFoundError(f"{name} is not installed by hookwire[docs]", name=name)
        return None


sys.meta_path.insert(0, OnlyTheDocsExtra())
from sphinx.cmd.build import main

sys.exit(main(sys.argv[1:]))
"""


def build_docs(out: Path) -> DocsBuild:
    """Build ``docs/`` as HTML into ``out/html``, as ``nox -s docs`` does and with only what
    the ``docs`` extra installs importable: warnings are errors (``-W``), every
    cross-reference must resolve (``-n``), and ``--keep-going`` reports every problem at once."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _ONLY_THE_DOCS_EXTRA,
            "-W",
            "-n",
            "--keep-going",
            "-b",
            "html",
            "-d",
            str(out / "doctrees"),
            str(DOCS),
            str(out / "html"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return DocsBuild(out / "html", result.returncode, result.stdout, result.stderr)
