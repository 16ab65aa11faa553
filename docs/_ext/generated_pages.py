"""Markdown fragments the pages include, made at build time from files others own.

``benchmarks/README.md`` is written next to the benchmark scripts and changes with them. The
documentation shows it under its own heading, so at every build it is copied into
``docs/_generated/benchmarks-readme.md`` with adjustments that keep the build free of warnings
whatever the file says: its title is dropped (the page has its own) and any other top-level
heading becomes a second-level one, and links or images pointing at files of the repository
(which are not documentation pages) become plain text. When the file is absent the fragment says
so instead of failing the build.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent
ROOT = DOCS.parent
GENERATED = DOCS / "_generated"

_FENCE = re.compile(r"^\s*(```|~~~)")
_TOP_HEADING = re.compile(r"^#\s")
# [text](target) or ![alt](target) where target is not a web address or an in-page anchor.
_LOCAL_LINK = re.compile(r"!?\[([^\]]*)\]\((?!https?://|mailto:|#)([^)\s]+)\)")


def adapt_markdown(text: str) -> str:
    """Drop the title, make other top-level headings second-level, and turn links and images
    that point at repository files into plain text."""
    lines = []
    in_fence = False
    title_dropped = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            if _TOP_HEADING.match(line):
                if not title_dropped and not any(existing.strip() for existing in lines):
                    title_dropped = True
                    continue
                line = "#" + line
            line = _LOCAL_LINK.sub(r"\1 (`\2`)", line)
        lines.append(line)
    return "\n".join(lines).strip("\n") + "\n"


def _write_atomically(path: Path, text: str) -> None:
    # Builds may run side by side (tests and nox): never let one read a half-written fragment.
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return  # unchanged: keep the mtime so incremental builds stay incremental
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".md")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_benchmarks_fragment() -> Path:
    """Write ``_generated/benchmarks-readme.md`` from ``benchmarks/README.md`` (or a note)."""
    source = ROOT / "benchmarks" / "README.md"
    if source.is_file():
        text = adapt_markdown(source.read_text(encoding="utf-8"))
    else:
        text = "The file `benchmarks/README.md` is not part of this checkout.\n"
    target = GENERATED / "benchmarks-readme.md"
    _write_atomically(target, text)
    return target


def _on_builder_inited(app: Any) -> None:
    write_benchmarks_fragment()


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _on_builder_inited)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
