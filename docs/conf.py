"""Sphinx configuration for hookwire's documentation (Furo theme, MyST markdown pages)."""

from __future__ import annotations

import enum
import sys
from pathlib import Path

from docutils.nodes import Element
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

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
    "sphinx_copybutton",
    "hookwire_cli_docs",
    "generated_pages",
    "captions",
    "schema_fields",
    "diagrams",
    "benchmark_chart",
    "trace_picture",
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
# Types of the parameters the docstring documents, and return types other than None: no
# "Return type: None" under every constructor.
autodoc_typehints_description_target = "documented_params"
autodoc_default_options: dict[str, bool] = {}
# Every cross-reference must resolve (the test suite builds with -n -W). The build has no
# network, so the standard library's inventory is not available: its names stay plain text.
nitpicky = True
_STDLIB = r"(collections\.abc|types|typing|asyncio|functools|contextlib|logging|pathlib)"
nitpick_ignore_regex = [
    (r"py:(class|func|exc|data|meth|obj)", _STDLIB + r"\..+"),
    (r"py:mod", _STDLIB),
    (r"py:class", r"(ModuleType|ExitStack|Path|Callable|Iterator|Iterable|Mapping)"),
    # TypedSignal's ParamSpec: a type variable of the signatures, nothing to link to.
    (r"py:class", r"P"),
    # hookwire.asgi's type aliases of ASGI callables: spelled out in the docstrings.
    (r"py:class", r"(ASGIApp|Lifespan)"),
    # Django's and Flask's own names: no inventory without network.
    (r"py:(class|exc|func)", r"(django|flask)\..+"),
]

html_theme = "furo"
html_title = f"hookwire {release}"
html_static_path = ["_static"]
html_css_files = ["hookwire.css"]

# The copy button copies commands, not prompts or output: "$ " in console blocks, ">>> " and
# "... " in interpreter sessions; lines without a prompt are left out of such blocks.
copybutton_prompt_text = r"\$ |>>> |\.\.\. "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True


def _no_enumeration_signature(
    app: Sphinx,
    what: str,
    name: str,
    obj: object,
    options: object,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None] | None:
    """Show an enumeration without the signature of its metaclass's call, which says nothing
    to a reader and differs between Python versions."""
    if what == "class" and isinstance(obj, type) and issubclass(obj, enum.Enum):
        return "", None
    return None


def _drop_private_parameters(
    app: Sphinx,
    what: str,
    name: str,
    obj: object,
    options: object,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None] | None:
    """Leave keyword parameters whose names start with ``_`` (internal plumbing) out of the
    signatures the reference shows."""
    if not signature or "_" not in signature:
        return None
    kept = [part for part in _split_parameters(signature[1:-1]) if not part.strip().startswith("_")]
    return "(" + ", ".join(part.strip() for part in kept) + ")", return_annotation


def _split_parameters(text: str) -> list[str]:
    # Split at top-level commas only: defaults and annotations may hold brackets and strings.
    parts, depth, quote, current = [], 0, "", []
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if "".join(current).strip():
        parts.append("".join(current))
    return parts


# Types that public signatures mention but that are not imported from a public module: each
# links to the public entry that describes the object a caller gets.
_INTERNAL_TYPES = {
    "HostSettings": ("attr", "hookwire.Host.settings"),
    "ReceiverRow": ("attr", "hookwire.Signal.receivers"),
    "Loader": ("meth", "hookwire.testing.FakePlugins.loader"),
    "DiscoveryResult": ("meth", "hookwire.testing.FakePlugins.discover"),
}
# Type variables of generic signatures (bound to callables): plain text, nothing to link.
_TYPE_VARIABLES = {"F", "ReceiverT"}


def _link_internal_types(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: Element
) -> Element | None:
    if node.get("refdomain") != "py":
        return None
    short = str(node["reftarget"]).rpartition(".")[2]
    if short in _TYPE_VARIABLES:
        return contnode
    if short not in _INTERNAL_TYPES:
        return None
    role, target = _INTERNAL_TYPES[short]
    return env.domains.python_domain.resolve_xref(
        env, node["refdoc"], app.builder, role, target, node, contnode
    )


#: What the reference does to each signature autodoc finds, in order; the first that returns
#: something decides, as Sphinx does with the handlers of one event.
SIGNATURE_HANDLERS = (_no_enumeration_signature, _drop_private_parameters)


def setup(app: Sphinx) -> dict[str, object]:
    # ":warns WarningClass: when" in docstrings becomes a "Warns" field like "Raises".
    from sphinx.domains.python import PyObject
    from sphinx.util.docfields import GroupedField

    if not any(field.name == "warns" for field in PyObject.doc_field_types):
        PyObject.doc_field_types.append(
            GroupedField("warns", label="Warns", rolename="exc", names=("warns", "warn"))
        )
    for handler in SIGNATURE_HANDLERS:
        app.connect("autodoc-process-signature", handler)
    app.connect("missing-reference", _link_internal_types)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
