"""Sphinx configuration for hookwire's documentation (Furo theme, MyST markdown pages)."""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# The local extension that renders the CLI reference from the typer app lives in _ext/.
sys.path.insert(0, str(DOCS / "_ext"))
# Document the checkout being built, not whatever hookwire happens to be installed.
sys.path.insert(0, str(ROOT))

project = "hookwire"
author = "The hookwire developers"
copyright = "2026, The hookwire developers"


def _version() -> str:
    # Read the version without importing the package, so the build never depends on it importing.
    for line in (ROOT / "hookwire" / "__init__.py").read_text(encoding="utf-8").splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    return "unknown"


release = version = _version()

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "hookwire_cli_docs",
    "generated_pages",
    "signal_table",
    "diagrams",
    "benchmark_chart",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]

# Command lines are quoted verbatim: "--strict" must not become an en dash.
smartquotes = False

# The diagrams (docs/_ext/diagrams.py) are rendered by Graphviz's dot, as SVG: text stays text.
graphviz_output_format = "svg"

myst_enable_extensions = ["colon_fence", "deflist", "fieldlist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options: dict[str, bool] = {}

html_theme = "furo"
html_title = f"hookwire {release}"
html_static_path: list[str] = []
