"""The spans of a real pizzeria run, recorded at every build and drawn as an SVG waterfall.

Usage in a MyST page::

    ```{pizzeria-trace}
    ```

The directive runs the example host of ``plugins_example/`` (``pizzeria.app:host``, with the
plugins ``pizzeria-sms`` and ``pizzeria-loyalty``) in a fresh interpreter, instrumented by
:mod:`hookwire.otel` with OpenTelemetry's SDK and its in-memory span exporter, and draws every
span it exported: one block per trace (the load, then each send of the run), each span a row
named as OpenTelemetry names it, indented under its parent, with a bar placed on its trace's
own time scale and its measured duration. The example is not installed: its distributions are
described to the interpreter by metadata folders written from their ``pyproject.toml`` files
into a temporary folder, which hookwire's discovery reads as it reads any installed
distribution. The SVG is written to ``docs/_generated/`` and the page is rebuilt whenever the
example's code changes.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark_chart import format_ns, write_if_changed
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

DOCS = Path(__file__).resolve().parent.parent
ROOT = DOCS.parent
EXAMPLES = ROOT / "plugins_example"
GENERATED = DOCS / "_generated"
HOST = "pizzeria.app:host"
#: The example's distributions the run has: the host's and the plugins of the how-to.
DISTRIBUTIONS = ("pizzeria", "pizzeria-sms", "pizzeria-loyalty")

INK = "#1f2328"
MUTED = "#57606a"
GRID = "#d0d7de"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif"
# Okabe and Ito's palette (readable by colour-blind readers): sends blue, loading purple,
# each plugin's receivers a colour of their own, receivers of no plugin grey.
SEND_COLOUR = "#0072b2"
LOAD_COLOUR = "#cc79a7"
PLUGIN_COLOURS = ("#e69f00", "#009e73", "#d55e00", "#56b4e9", "#f0e442")
OTHER_COLOUR = "#8c8c8c"
ERROR_COLOUR = "#cf222e"

# Layout, in SVG user units (pixels at natural size).
WIDTH = 640
NAME_X = 12
INDENT = 14
BARS_LEFT = 330
BARS_RIGHT = 572
TOP = 58
ROW = 19
BAR = 11
TRACE_GAP = 9
BOTTOM = 14

# Run by the fresh interpreter: argv[1] the folder of metadata, argv[2] where to write the
# spans, argv[3:] the folders whose packages go on sys.path (hookwire's checkout first).
_RECORD = r"""
import contextlib, json, os, sys

site, out, *paths = sys.argv[1:]
sys.path[:0] = [site, *paths]
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

import importlib

import hookwire.otel

exporter = InMemorySpanExporter()
provider = TracerProvider(sampler=ALWAYS_ON)
provider.add_span_processor(SimpleSpanProcessor(exporter))
hookwire.otel.instrument(tracer_provider=provider)
module, _, name = HOST.partition(":")
host = getattr(importlib.import_module(module), name)
# What the example prints is not the picture's business.
with contextlib.redirect_stdout(sys.stderr):
    status = host.run()
hookwire.otel.uninstrument()
spans = [
    {
        "name": span.name,
        "trace": f"{span.context.trace_id:032x}",
        "span": f"{span.context.span_id:016x}",
        "parent": None if span.parent is None else f"{span.parent.span_id:016x}",
        "kind": span.kind.name,
        "start": span.start_time,
        "end": span.end_time,
        "error": span.status.status_code.name == "ERROR",
        "attributes": dict(span.attributes or {}),
    }
    for span in exporter.get_finished_spans()
]
with open(out, "w", encoding="utf-8") as handle:
    json.dump({"host": HOST, "status": status, "spans": spans}, handle)
"""


@dataclass(frozen=True)
class Span:
    """One exported span, as the picture needs it (times in ns)."""

    name: str
    trace: str
    span: str
    parent: str | None
    start: int
    end: int
    error: bool
    attributes: Mapping[str, Any]

    @property
    def duration(self) -> int:
        """How long the span lasted, in ns."""
        return max(self.end - self.start, 0)


def write_metadata(site: Path, folders: Sequence[str] = DISTRIBUTIONS) -> None:
    """A ``.dist-info`` folder in ``site`` for each example folder: its name, version and
    entry points, as its ``pyproject.toml`` declares them and as pip would install them."""
    for folder in folders:
        project = tomllib.loads((EXAMPLES / folder / "pyproject.toml").read_text("utf-8"))[
            "project"
        ]
        name, version = project["name"], project["version"]
        info = site / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
        )
        lines = []
        for group, entries in project.get("entry-points", {}).items():
            lines.append(f"[{group}]")
            lines.extend(f"{key} = {value}" for key, value in entries.items())
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def record_run(folders: Sequence[str] = DISTRIBUTIONS) -> dict[str, Any]:
    """Run the example host once, traced, in a fresh interpreter; what it exported.

    :raises RuntimeError: the run failed (its standard error is in the message).
    """
    # Neither the reader's OpenTelemetry settings (a sampler, OTEL_SDK_DISABLED) nor their
    # hookwire settings (plugins disabled, a cache folder) may change the picture.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "HOOKWIRE_", "PYTHON"))
    }
    env["HOOKWIRE_NO_CACHE"] = "1"
    with tempfile.TemporaryDirectory(prefix="hookwire-trace-") as folder:
        site = Path(folder) / "site"
        write_metadata(site, folders)
        out = Path(folder) / "spans.json"
        paths = [str(ROOT), *(str(EXAMPLES / name) for name in folders)]
        code = f"HOST = {HOST!r}\n{_RECORD}"
        result = subprocess.run(
            [sys.executable, "-I", "-c", code, str(site), str(out), *paths],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        if result.returncode != 0 or not out.exists():
            raise RuntimeError(f"the traced run of {HOST} failed:\n{result.stderr.strip()}")
        document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


def read_spans(document: Mapping[str, Any]) -> list[Span]:
    """The spans of a recorded run."""
    return [
        Span(
            name=str(item["name"]),
            trace=str(item["trace"]),
            span=str(item["span"]),
            parent=item["parent"],
            start=int(item["start"]),
            end=int(item["end"]),
            error=bool(item["error"]),
            attributes=item.get("attributes", {}),
        )
        for item in document["spans"]
    ]


def rows(spans: Sequence[Span]) -> list[list[tuple[Span, int]]]:
    """The spans as traces in the order they started, each a list of ``(span, depth)`` with
    every child under its parent, children in the order they started. A span whose parent
    is not among ``spans`` starts its own tree."""
    by_id = {span.span: span for span in spans}
    children: dict[str | None, list[Span]] = {}
    for span in spans:
        parent = span.parent if span.parent in by_id else None
        children.setdefault(parent, []).append(span)
    for group in children.values():
        group.sort(key=lambda span: span.start)

    def walk(span: Span, depth: int, into: list[tuple[Span, int]]) -> None:
        into.append((span, depth))
        for child in children.get(span.span, ()):
            walk(child, depth + 1, into)

    traces = []
    for root in children.get(None, []):
        tree: list[tuple[Span, int]] = []
        walk(root, 0, tree)
        traces.append(tree)
    return traces


def _plugin_colour(plugin: str, plugins: Sequence[str]) -> str:
    return PLUGIN_COLOURS[plugins.index(plugin) % len(PLUGIN_COLOURS)]


def _colour(span: Span, plugins: Sequence[str]) -> str:
    if span.name.startswith("send "):
        return SEND_COLOUR
    if span.name.startswith(("load ", "plugin ")):
        return LOAD_COLOUR
    plugin = span.attributes.get("hookwire.plugin")
    if plugin in plugins:
        return _plugin_colour(str(plugin), plugins)
    return OTHER_COLOUR


def _text(
    x: float, y: float, content: str, *, size: int = 12, anchor: str = "start", **style: str
) -> str:
    attributes = "".join(f' {key.replace("_", "-")}="{value}"' for key, value in style.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"'
        f"{attributes}>{html.escape(content)}</text>"
    )


def _bar_label(span: Span) -> str:
    """What a trace's first bar says: how the send was made, or how many plugins loaded."""
    method = span.attributes.get("hookwire.method")
    if method is not None:
        receivers = span.attributes.get("hookwire.receivers")
        if receivers is None:
            return str(method)
        return f"{method}, {receivers} receiver{'' if receivers == 1 else 's'}"
    plugins = span.attributes.get("hookwire.plugins")
    return f"{plugins} plugins" if plugins is not None else ""


def _details(span: Span) -> str:
    """What a bar's tooltip says: the name, the duration and hookwire's attributes."""
    shown = ", ".join(
        f"{key}={value}" for key, value in span.attributes.items() if key.startswith("hookwire.")
    )
    return f"{span.name}: {format_ns(span.duration)}" + (f" ({shown})" if shown else "")


def render_svg(spans: Sequence[Span], *, title: str) -> str:
    """The waterfall as a standalone SVG document (text stays text: searchable, selectable)."""
    traces = rows(spans)
    plugins = sorted(
        {str(p) for span in spans if (p := span.attributes.get("hookwire.plugin")) is not None}
    )
    count = sum(len(trace) for trace in traces)
    height = TOP + count * ROW + len(traces) * TRACE_GAP + BOTTOM
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" font-family="{html.escape(FONT)}">',
        f"<title>{html.escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{height}" rx="6" fill="#ffffff"/>',
    ]
    # Legend: what each colour is.
    legend = [("send", SEND_COLOUR), ("load, plugin", LOAD_COLOUR)]
    legend += [(f"receiver of {plugin}", _plugin_colour(plugin, plugins)) for plugin in plugins]
    x = float(NAME_X)
    for label, colour in legend:
        out.append(f'<rect x="{x:.1f}" y="12" width="12" height="12" rx="2" fill="{colour}"/>')
        out.append(_text(x + 16, 22, label, size=12, fill=INK))
        x += 16 + 6.8 * len(label) + 18
    out.append(_text(NAME_X, 44, "span", size=11, fill=MUTED, font_weight="bold"))
    out.append(
        _text(BARS_LEFT, 44, "on its trace's time scale", size=11, fill=MUTED, font_weight="bold")
    )
    out.append(_text(WIDTH - 8, 44, "duration", size=11, anchor="end", fill=MUTED))
    y = float(TOP)
    for trace in traces:
        root = trace[0][0]
        scale = (BARS_RIGHT - BARS_LEFT) / max(root.duration, 1)
        out.append(
            f'<line x1="{NAME_X}" y1="{y + 2:.1f}" x2="{WIDTH - 8}" y2="{y + 2:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        y += TRACE_GAP / 2
        out.append(f'<g class="trace" data-trace-id="{root.trace}">')
        for span, depth in trace:
            middle = y + ROW / 2
            weight = "bold" if depth == 0 else "normal"
            out.append(
                _text(
                    NAME_X + depth * INDENT,
                    middle + 4,
                    span.name,
                    size=12,
                    fill=INK,
                    font_weight=weight,
                    **{"class": "span-name"},
                )
            )
            left = BARS_LEFT + (span.start - root.start) * scale
            width = max(span.duration * scale, 2.0)
            left = min(left, BARS_RIGHT - width)
            colour = _colour(span, plugins)
            outline = f' stroke="{ERROR_COLOUR}" stroke-width="2"' if span.error else ""
            out.append(
                f'<rect x="{left:.1f}" y="{middle - BAR / 2:.1f}" width="{width:.1f}" '
                f'height="{BAR}" rx="2" fill="{colour}"{outline}>'
                f"<title>{html.escape(_details(span))}</title></rect>"
            )
            label = _bar_label(span) if depth == 0 and width > 60 else ""
            if label:
                out.append(_text(left + 5, middle + 3.5, label, size=10, fill="#ffffff"))
            out.append(
                _text(
                    WIDTH - 8,
                    middle + 4,
                    format_ns(span.duration),
                    size=11,
                    anchor="end",
                    fill=MUTED,
                    **{"class": "duration"},
                )
            )
            y += ROW
        out.append("</g>")
        y += TRACE_GAP / 2
    out.append("</svg>")
    return "\n".join(out) + "\n"


class PizzeriaTraceDirective(SphinxDirective):
    """``pizzeria-trace``: the spans of a real run of the example host, as an SVG figure."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        for folder in DISTRIBUTIONS:
            for path in sorted((EXAMPLES / folder).rglob("*")):
                if path.suffix in {".py", ".toml"} and "tests" not in path.parts:
                    self.env.note_dependency(str(path))
        try:
            spans = read_spans(record_run())
        except (OSError, RuntimeError, ValueError, KeyError, subprocess.SubprocessError) as error:
            raise self.error(f"pizzeria-trace: {error}") from error
        if not spans:
            raise self.error(f"pizzeria-trace: the traced run of {HOST} exported no span")
        title = (
            f"The spans of one run of {HOST} with the plugins sms and loyalty: the load with a "
            "span per plugin, then every send with a span per receiver"
        )
        target = GENERATED / "pizzeria-trace.svg"
        write_if_changed(target, render_svg(spans, title=title))
        image = nodes.image(
            uri="/" + target.relative_to(DOCS).as_posix(),
            alt=title + ". Each row is a span, indented under its parent, with its duration.",
            classes=["pizzeria-trace"],
        )
        figure = nodes.figure("", image, classes=["pizzeria-trace-figure"])
        figure["ids"].append("pizzeria-trace")
        caption = (
            f"{len(spans)} spans of {len(rows(spans))} traces, recorded when this page was "
            "built by running "
        )
        figure += nodes.caption(
            "",
            "",
            nodes.Text(caption),
            nodes.literal(text=f"hookwire run {HOST}"),
            nodes.Text(
                " instrumented, with OpenTelemetry's in-memory span exporter. Each bar is placed "
                "on its own trace's time scale; durations are those of that build's machine."
            ),
        )
        return [figure]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("pizzeria-trace", PizzeriaTraceDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
