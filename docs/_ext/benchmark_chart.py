"""A bar chart of the dispatch benchmark, drawn as SVG at every build from its JSON results.

Usage in a MyST page::

    ```{benchmark-chart} benchmarks/results/dispatch.json
    ```

The argument is a file written by ``python benchmarks/bench_dispatch.py --json PATH``, relative
to the repository's root. For every case the chart draws how long each other implementation
(Django, blinker, psygnal, the direct loop) takes relative to hookwire, on a logarithmic axis
centred on hookwire's time: bars to the right are slower than hookwire, bars to the left
faster. The SVG is written to ``docs/_generated/`` and shown as an image with a caption saying
when and where the figures were measured; the page is rebuilt whenever the JSON changes.

The chart is narrow and tall on purpose: one picture stays readable from a phone (390 px) to
a desktop browser, where it keeps its natural width.
"""

from __future__ import annotations

import html
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

DOCS = Path(__file__).resolve().parent.parent
ROOT = DOCS.parent
GENERATED = DOCS / "_generated"

REFERENCE = "hookwire"
# The implementations compared with hookwire, in the order of the benchmark's table, with a
# colour each (Okabe and Ito's palette, which colour-blind readers can tell apart).
COMPARED: tuple[tuple[str, str, str], ...] = (
    ("django", "Django", "#009e73"),
    ("blinker", "blinker", "#e69f00"),
    ("psygnal", "psygnal", "#56b4e9"),
    ("direct", "direct loop", "#8c8c8c"),
)
REFERENCE_COLOUR = "#0072b2"
INK = "#1f2328"
MUTED = "#57606a"
GRID = "#d0d7de"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif"

# Layout, in SVG user units (pixels at natural size).
WIDTH = 420
LEFT = 84  # the implementation names
RIGHT = 44  # the ratio printed past the longest bar
TOP = 92  # legend and axis labels
ROW = 18
BAR = 11
CASE_HEAD = 26
CASE_GAP = 10
BOTTOM = 34
TEXT_WIDTH_12 = 7.0  # a generous width of one character at font size 12


@dataclass(frozen=True)
class Case:
    """One row of the benchmark: its title, hookwire's time and each other's, in ns/op."""

    title: str
    reference_ns: float | None
    others: Mapping[str, float | None]

    def relative(self, name: str) -> float | None:
        """``name``'s time divided by hookwire's, or ``None`` when either is missing."""
        value = self.others.get(name)
        if value is None or not self.reference_ns:
            return None
        return value / self.reference_ns


def read_cases(document: Mapping[str, Any]) -> list[Case]:
    """The cases of a ``bench_dispatch.py --json`` document, in its order.

    :raises ValueError: the document is not the dispatch benchmark's.
    """
    if document.get("benchmark") != "dispatch" or not isinstance(document.get("rows"), list):
        raise ValueError("not the JSON of benchmarks/bench_dispatch.py (no dispatch rows)")
    cases = []
    for row in document["rows"]:
        times = row["ns_per_op"]
        cases.append(
            Case(
                title=str(row["title"]).strip(),
                reference_ns=times.get(REFERENCE),
                others={name: times.get(name) for name, _, _ in COMPARED},
            )
        )
    return cases


def format_ns(value: float | None) -> str:
    """A time per operation with a unit a reader takes in at once: 155 ns, 2.93 µs, 1.41 ms."""
    if value is None:
        return "n/a"
    for limit, unit, scale in ((1e3, "ns", 1.0), (1e6, "µs", 1e3), (1e9, "ms", 1e6)):
        if value < limit:
            shown = value / scale
            return f"{shown:.0f} {unit}" if unit == "ns" or shown >= 100 else f"{shown:.3g} {unit}"
    return f"{value / 1e9:.3g} s"


def format_ratio(value: float) -> str:
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def axis_bounds(cases: Sequence[Case]) -> tuple[int, int]:
    """Powers of two (as exponents) that enclose every ratio and 1, one step of margin each."""
    ratios = [r for case in cases for name, _, _ in COMPARED if (r := case.relative(name))]
    low = min([1.0, *ratios])
    high = max([1.0, *ratios])
    return math.floor(math.log2(low)) - (low == 1.0), math.ceil(math.log2(high)) + (high == 1.0)


def _tick_label(exponent: int) -> str:
    value = 2.0**exponent
    return f"{value:g}x" if value >= 1 else f"1/{2**-exponent:g}x"


def _text(
    x: float, y: float, content: str, *, size: int = 13, anchor: str = "start", **style: str
) -> str:
    attributes = "".join(f' {key.replace("_", "-")}="{value}"' for key, value in style.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"'
        f"{attributes}>{html.escape(content)}</text>"
    )


def render_svg(cases: Sequence[Case], *, title: str) -> str:
    """The chart as a standalone SVG document (text stays text: searchable, selectable)."""
    low, high = axis_bounds(cases)
    plot_left, plot_right = LEFT, WIDTH - RIGHT
    per_doubling = (plot_right - plot_left) / (high - low)

    def x_of(ratio: float) -> float:
        return plot_left + (math.log2(ratio) - low) * per_doubling

    height = TOP + len(cases) * (CASE_HEAD + ROW * len(COMPARED) + CASE_GAP) + BOTTOM
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" font-family="{html.escape(FONT)}">',
        f"<title>{html.escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{height}" rx="6" fill="#ffffff"/>',
    ]
    # Legend: one swatch per implementation, on two lines.
    legend_y = 20
    out.append(_text(12, legend_y, "time per operation, relative to", size=13, fill=INK))
    out.append(
        f'<line x1="222" y1="{legend_y - 9}" x2="222" y2="{legend_y + 3}" '
        f'stroke="{REFERENCE_COLOUR}" stroke-width="2.5"/>'
    )
    out.append(_text(228, legend_y, REFERENCE, size=13, font_weight="bold", fill=INK))
    swatch_x = 12.0
    for _, label, colour in COMPARED:
        out.append(
            f'<rect x="{swatch_x:.1f}" y="{legend_y + 11}" width="12" height="12" rx="2" '
            f'fill="{colour}"/>'
        )
        out.append(_text(swatch_x + 16, legend_y + 21, label, size=13, fill=INK))
        swatch_x += 16 + 7.6 * len(label) + 16
    # Axis: which side means what, then the tick labels.
    axis_y = TOP - 12
    one = x_of(1.0)
    out.append(_text(one - 6, axis_y - 20, "◀ faster", size=12, anchor="end", fill=MUTED))
    out.append(_text(one + 6, axis_y - 20, "slower ▶", size=12, fill=MUTED))
    plot_bottom = height - BOTTOM + 6
    for exponent in range(low, high + 1):
        x = plot_left + (exponent - low) * per_doubling
        colour, width, kind = (
            (REFERENCE_COLOUR, 2.5, "reference") if exponent == 0 else (GRID, 1.0, "grid")
        )
        out.append(
            f'<line class="{kind}" x1="{x:.1f}" y1="{axis_y + 4}" x2="{x:.1f}" '
            f'y2="{plot_bottom}" stroke="{colour}" stroke-width="{width}"/>'
        )
        label = _tick_label(exponent)
        out.append(_text(x, axis_y, label, size=11, anchor="middle", fill=MUTED))
        out.append(_text(x, plot_bottom + 14, label, size=11, anchor="middle", fill=MUTED))
    # One block per case: its title and hookwire's time, then a bar per implementation.
    y = float(TOP)
    for case in cases:
        y += CASE_HEAD
        # The title sits on white, over the grid lines, which would cross its letters.
        out.append(
            f'<rect x="4" y="{y - CASE_HEAD + 4:.1f}" width="{WIDTH - 8}" '
            f'height="{CASE_HEAD - 5}" fill="#ffffff"/>'
        )
        out.append(_text(12, y - 8, case.title, size=14, font_weight="bold", fill=INK))
        out.append(
            _text(
                WIDTH - 10,
                y - 8,
                f"{REFERENCE} {format_ns(case.reference_ns)}",
                size=12,
                anchor="end",
                fill=REFERENCE_COLOUR,
            )
        )
        for name, label, colour in COMPARED:
            middle = y + ROW / 2
            out.append(_text(LEFT - 8, middle + 4.5, label, size=13, anchor="end", fill=INK))
            ratio = case.relative(name)
            if ratio is None:
                out.append(_text(one + 6, middle + 4, "n/a", size=12, fill=MUTED))
            else:
                end = x_of(ratio)
                left, right = min(one, end), max(one, end)
                out.append(
                    f'<rect x="{left:.1f}" y="{middle - BAR / 2:.1f}" '
                    f'width="{max(right - left, 1.5):.1f}" height="{BAR}" fill="{colour}">'
                    f"<title>{html.escape(f'{label}: {format_ns(case.others[name])}')}</title>"
                    "</rect>"
                )
                shown = format_ratio(ratio)
                # Left of a bar that points left, unless it would run into the names: then
                # right of hookwire's line, where that row has nothing else.
                if end < one and left - 4 - TEXT_WIDTH_12 * len(shown) > LEFT:
                    out.append(_text(left - 4, middle + 4, shown, size=12, anchor="end", fill=INK))
                else:
                    out.append(_text(max(right, one) + 4, middle + 4, shown, size=12, fill=INK))
            y += ROW
        y += CASE_GAP
    out.append("</svg>")
    return "\n".join(out) + "\n"


def describe(document: Mapping[str, Any]) -> str:
    """Where and how the figures were measured, for the caption."""
    machine = document.get("machine", {})
    parts = [
        f"measured {machine.get('date', 'at an unknown date')}",
        f"Python {machine.get('python', '?')}",
        f"{machine.get('cpus', '?')} CPUs ({machine.get('cpu_model', '?')})",
        f"minimum of {document.get('repeat', '?')}",
        f"{document.get('clock', 'wall')} time",
    ]
    return ", ".join(parts)


def write_if_changed(path: Path, text: str) -> None:
    """Write atomically, and not at all when unchanged (builds may run side by side)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; it is published with the pages
    os.replace(tmp, path)


class BenchmarkChartDirective(SphinxDirective):
    """``benchmark-chart``: the dispatch benchmark's JSON results as an SVG figure."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        relative = self.arguments[0]
        source = ROOT / relative
        self.env.note_dependency(str(source))
        try:
            document = json.loads(source.read_text(encoding="utf-8"))
            cases = read_cases(document)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise self.error(f"benchmark-chart: cannot read {relative}: {error}") from error
        title = (
            "Dispatch benchmark: time per operation of Django, blinker, psygnal and a direct "
            "loop relative to hookwire, per case (log scale; right of hookwire's line is slower)"
        )
        target = GENERATED / f"{Path(relative).stem}-chart.svg"
        write_if_changed(target, render_svg(cases, title=title))
        image = nodes.image(
            uri="/" + target.relative_to(DOCS).as_posix(),
            alt=title + ". The same figures are in the table below.",
            classes=["benchmark-chart"],
        )
        figure = nodes.figure("", image, classes=["benchmark-chart-figure"])
        figure["ids"].append(nodes.make_id(f"{Path(relative).stem}-chart"))
        caption = (
            "Each bar is an implementation's time for the case divided by hookwire's "
            f"(whose own time is printed on the right): {describe(document)}; from "
        )
        figure += nodes.caption(
            "", "", nodes.Text(caption), nodes.literal(text=relative), nodes.Text(".")
        )
        return [figure]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("benchmark-chart", BenchmarkChartDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
