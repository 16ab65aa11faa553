"""Building the documentation the way a strict CI would, for the tests that read the result."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from venvtools import ROOT

DOCS = ROOT / "docs"


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


def build_docs(out: Path) -> DocsBuild:
    """Build ``docs/`` as HTML into ``out/html``: warnings are errors (``-W``), every
    cross-reference must resolve (``-n``), and ``--keep-going`` reports every problem at once."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
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
