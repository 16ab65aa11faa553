"""Graphviz diagrams of loading and of the lifecycle signals, drawn from the code at every build.

Usage in a MyST page::

    ```{hookwire-diagram} loading
    :caption: How a plugin reaches each state
    ```

``loading`` draws the three loading phases and every :class:`hookwire.PluginState`, with what
leads a plugin to each state; ``lifecycle`` draws :mod:`hookwire.signals` in the order a
:class:`hookwire.Host` sends them (``hookwire.signals._HOST_SEQUENCE``, which the test suite
checks against a running host), then the signals sent at no fixed moment. The DOT text is
built here and handed to :mod:`sphinx.ext.graphviz`, which renders it with ``dot``: a renamed
state or a new signal changes the picture at the next build, and a state the drawing does not
know appears unconnected, under a heading that says so, rather than silently missing.
"""

from __future__ import annotations

import enum
import html
import importlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.ext.graphviz import graphviz
from sphinx.util.docutils import SphinxDirective

FONT = "DejaVu Sans,Helvetica,Arial,sans-serif"
# States coloured by how loading left them: green ready, red failed, grey disabled. The
# background is white, so the picture reads the same under the light and the dark theme.
INK = "#1f2328"
MUTED = "#57606a"
FILL = {
    "DISCOVERED": "#eef1f4",
    "DECLARED": "#eef1f4",
    "IMPORTED": "#eef1f4",
    "READY": "#dafbe1",
    "FAILED": "#ffebe9",
    "DISABLED": "#f6f8fa",
}
OUTLINE = {"READY": "#1a7f37", "FAILED": "#cf222e", "DISABLED": "#8c959f"}


@dataclass(frozen=True)
class Transition:
    """One way loading moves a plugin: from a state (``None``: the entry point just read) to
    another, in a phase, for a reason short enough to read on a phone."""

    source: str | None
    target: str
    phase: str
    reason: str


# What the loader (hookwire/_loading/loader.py) does, by PluginState member name. The test
# suite loads real plugins along each of these and checks where each one ends.
TRANSITIONS: tuple[Transition, ...] = (
    Transition(None, "DISCOVERED", "discover", "selected"),
    Transition(None, "DISABLED", "discover", "allow / deny\nlist"),
    Transition("DISCOVERED", "IMPORTED", "import", "Plugin made"),
    Transition("DISCOVERED", "FAILED", "import", "import error,\nwrong object,\nhost version"),
    Transition("IMPORTED", "READY", "ready", "ready()\nreturned"),
    Transition("IMPORTED", "FAILED", "ready", "ready() raised,\nrequires unmet"),
    Transition("DISCOVERED", "DECLARED", "import", "lazy: declares\nits signals"),
    Transition("DECLARED", "READY", "first send", "activated"),
    Transition("DECLARED", "FAILED", "first send", "activation\nfailed"),
)
FAILED_NOTE = "what it connected is\ndisconnected; plugins\nrequiring it fail too"


def _text(value: str) -> str:
    """A DOT HTML-like label fragment: escaped, line breaks kept."""
    return "<br/>".join(html.escape(line, quote=False) for line in value.split("\n"))


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _header(name: str) -> list[str]:
    return [
        f"digraph {name} {{",
        f'  graph [fontname="{FONT}", fontsize=13, nodesep=0.3, ranksep=0.45, '
        'bgcolor="white", pad=0.15];',
        f'  node [fontname="{FONT}", fontsize=15, color="{INK}", fontcolor="{INK}", penwidth=1.2];',
        f'  edge [fontname="{FONT}", fontsize=13, color="{MUTED}", fontcolor="{MUTED}", '
        "arrowsize=0.7];",
    ]


def loading_dot(states: type[enum.Enum], transitions: Sequence[Transition] = TRANSITIONS) -> str:
    """DOT source of the loading phases: a node per member of ``states`` (labelled with its
    value), an edge per transition; members no transition names stand apart, so a new state
    shows up in the picture before anyone draws its arrows."""
    members = {member.name: member for member in states}
    for transition in transitions:
        for name in (transition.source, transition.target):
            if name is not None and name not in members:
                raise KeyError(f"{states.__name__} has no member {name}: update TRANSITIONS")
    lines = _header("loading")
    lines.append('  entry [shape=plaintext, fontsize=13, label="entry point\\nin the group"];')
    # Member names are identifiers; prefixed, none can be a DOT keyword (NODE, EDGE, GRAPH).
    for name, member in members.items():
        fill = FILL.get(name, "#ffffff")
        outline = OUTLINE.get(name, INK)
        lines.append(
            f'  state_{name} [shape=box, style="rounded,filled", fillcolor="{fill}", '
            f'color="{outline}", label={_quoted(str(member.value))}];'
        )
    for transition in transitions:
        source = f"state_{transition.source}" if transition.source else "entry"
        style = ""
        if transition.target == "FAILED":
            style = f', color="{OUTLINE["FAILED"]}", fontcolor="{OUTLINE["FAILED"]}"'
        elif transition.target == "DISABLED":
            style = ", style=dashed"
        lines.append(
            f"  {source} -> state_{transition.target} "
            f"[label=<<i>{_text(transition.phase)}</i><br/>{_text(transition.reason)}>{style}];"
        )
    if "FAILED" in members:
        lines.append(
            f'  failed_note [shape=note, fontsize=12, color="{MUTED}", '
            f'fontcolor="{MUTED}", label={_quoted(FAILED_NOTE)}];'
        )
        lines.append(
            f'  state_FAILED -> failed_note [style=dotted, arrowhead=none, color="{MUTED}"];'
        )
    drawn = {t.source for t in transitions} | {t.target for t in transitions}
    undrawn = [name for name in members if name not in drawn]
    if undrawn:
        lines.append("  subgraph cluster_undrawn {")
        lines.append(f'    label="not drawn yet"; style=dashed; color="{MUTED}";')
        lines.extend(f"    state_{name};" for name in undrawn)
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _signal_label(name: str, doc: str) -> str:
    return (
        f'<<b>{_text(name)}</b><br/><font point-size="12" color="{MUTED}">'
        f"{_text(_wrap(doc, 26))}</font>>"
    )


def _wrap(text: str, width: int) -> str:
    """Break ``text`` into lines of at most ``width`` characters, at spaces."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def _named(signal: Any, fallback: str | None = None) -> tuple[str, str]:
    """A signal's name (``fallback``, its attribute, when it has none) and description."""
    name = signal.name or fallback
    if not name:
        raise ValueError(f"{signal!r} has no name to draw")
    return name, signal.doc or ""


def lifecycle_dot(module: ModuleType) -> str:
    """DOT source of ``module``'s signals in the order a host sends them (its
    ``_HOST_SEQUENCE``: steps of ``(Host method, signals)``), then every other signal of the
    module, sent at no fixed moment."""
    from hookwire import Signal

    sequence: Sequence[tuple[str, Sequence[Any]]] = module._HOST_SEQUENCE
    lines = _header("lifecycle")
    node_style = f'shape=box, style="rounded,filled", fillcolor="{FILL["DISCOVERED"]}"'
    previous: list[str] = []
    method = None
    for index, (sender_method, signals) in enumerate(sequence):
        if sender_method != method:
            if method is not None:
                lines.append("  }")
            method = sender_method
            lines.append(f"  subgraph cluster_{_identifier(method)} {{")
            lines.append(
                f'    label=<<b>Host.{_text(method)}()</b>>; labeljust=l; style="rounded,dashed";'
                f' color="{MUTED}"; fontcolor="{INK}";'
            )
        described = [_named(signal) for signal in signals]
        ids = [_identifier(name) for name, _ in described]
        if len(ids) > 1:
            # One of these per plugin: a small "each plugin" node fans out to them.
            fan = f"each_{index}"
            lines.append(f"    {fan} [shape=plaintext, fontsize=13, label=<<i>each plugin</i>>];")
            lines.extend(f"    {source} -> {fan};" for source in previous)
            previous = [fan]
        for node_id, (name, doc) in zip(ids, described, strict=True):
            lines.append(f"    {node_id} [{node_style}, label={_signal_label(name, doc)}];")
            lines.extend(f"    {source} -> {node_id};" for source in previous)
        if len(ids) > 1:
            lines.append(f"    {{rank=same; {'; '.join(ids)};}}")
        previous = ids
    if method is not None:
        lines.append("  }")
    ordered = {id(signal) for _, signals in sequence for signal in signals}
    exported: Iterable[str] = getattr(module, "__all__", None) or sorted(vars(module))
    others = [
        _named(value, attribute)
        for attribute, value in ((name, getattr(module, name)) for name in exported)
        if isinstance(value, Signal) and id(value) not in ordered
    ]
    if others:
        lines.append("  subgraph cluster_anytime {")
        lines.append(
            f'    label=<<b>at no fixed moment</b>>; labeljust=l; style="rounded,dashed"; '
            f'color="{MUTED}";'
        )
        for name, doc in others:
            lines.append(
                f'    {_identifier(name)} [{node_style}, fillcolor="#ffffff", '
                f"label={_signal_label(name, doc)}];"
            )
        # Stacked under each other, below the ordered ones, so the picture stays narrow.
        chain = [*previous[:1], *(_identifier(name) for name, _ in others)]
        lines.append(f"    {' -> '.join(chain)} [style=invis];")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _identifier(text: str) -> str:
    return "".join(char if char.isalnum() else "_" for char in text)


def _loading_source() -> str:
    from hookwire import PluginState

    return loading_dot(PluginState)


def _lifecycle_source() -> str:
    return lifecycle_dot(importlib.import_module("hookwire.signals"))


DIAGRAMS = {"loading": _loading_source, "lifecycle": _lifecycle_source}
ALT = {
    "loading": (
        "Diagram: in the discover phase an entry point is selected (discovered) or left out by "
        "the allow or deny list (disabled); the import phase leads to imported or failed; the "
        "ready phase leads to ready or failed, and a failed plugin is disconnected."
    ),
    "lifecycle": "Diagram: hookwire's lifecycle signals in the order a host sends them.",
}


class DiagramDirective(SphinxDirective):
    """``hookwire-diagram``: one of :data:`DIAGRAMS`, as a Graphviz figure."""

    required_arguments = 1
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {"caption": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        which = self.arguments[0]
        if which not in DIAGRAMS:
            raise self.error(
                f"hookwire-diagram: unknown diagram {which!r}; known: {', '.join(DIAGRAMS)}"
            )
        try:
            code = DIAGRAMS[which]()
        except Exception as error:  # a failure must fail the build, readably
            raise self.error(
                f"hookwire-diagram {which}: {type(error).__name__}: {error}"
            ) from error
        node = graphviz()
        node["code"] = code
        node["options"] = {"docname": self.env.docname}
        # sphinx.ext.graphviz writes the alt text into the page as it is: escape it here.
        node["alt"] = html.escape(ALT[which])
        node["classes"] = ["hookwire-diagram"]
        self.set_source_info(node)
        caption = self.options.get("caption")
        if not caption:
            return [node]
        figure = nodes.figure("", node, classes=["hookwire-diagram-figure"])
        figure["ids"].append(nodes.make_id(f"{which}-diagram"))
        inline, messages = self.parse_inline(caption)
        figure += nodes.caption(caption, "", *inline)
        return [figure, *messages]


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx.ext.graphviz")
    app.add_directive("hookwire-diagram", DiagramDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
