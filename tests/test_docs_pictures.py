"""The documentation's pictures: drawn at build time from the code and the benchmark results,
present on their pages, and true to what the code does.

``docs/_ext/diagrams.py`` draws the loading phases and the lifecycle signals as Graphviz DOT
(rendered to SVG by ``dot``); ``docs/_ext/benchmark_chart.py`` draws the dispatch benchmark
from ``benchmarks/results/dispatch.json``; ``docs/_ext/trace_picture.py`` draws the spans of a
pizzeria run it makes at build time. The first tests read the built HTML (the shared
``docs_build``), the others check the drawings against a real loader and a running host.
"""

from __future__ import annotations

import ast
import enum
import html
import importlib
import itertools
import json
import re
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docstools import DocsBuild
from onepython import DOCS_AS_WRITTEN, interpreter_independent
from venvtools import ROOT, PluginSite

from hookwire import Host, PluginState, Signal
from hookwire import signals as lifecycle
from hookwire._loading.config import LoadConfig
from hookwire._loading.loader import Loader

EXT = ROOT / "docs" / "_ext"
EXAMPLES = ROOT / "plugins_example"
BENCHMARKS = ROOT / "benchmarks"
RESULTS = BENCHMARKS / "results" / "dispatch.json"
GROUP = "pictures.plugins"


@pytest.fixture(scope="module")
def ext() -> Iterator[dict[str, types.ModuleType]]:
    """The docs extensions that draw, imported from ``docs/_ext``."""
    sys.path.insert(0, str(EXT))
    try:
        yield {
            "diagrams": importlib.import_module("diagrams"),
            "chart": importlib.import_module("benchmark_chart"),
            "trace": importlib.import_module("trace_picture"),
        }
    finally:
        sys.path.remove(str(EXT))


def render(dot_source: str) -> str:
    """SVG text of a DOT source, rendered by the same ``dot`` the build uses."""
    result = subprocess.run(
        ["dot", "-Tsvg"], input=dot_source, capture_output=True, text=True, check=True
    )
    return result.stdout


def svg_texts(svg: str) -> list[tuple[float, str]]:
    """Every ``<text>`` of an SVG as (y, text), unescaped, in document order."""
    return [
        (float(y), html.unescape(text))
        for y, text in re.findall(r'<text[^>]*\by="([-\d.]+)"[^>]*>([^<]*)</text>', svg)
    ]


def figure_svg(build: DocsBuild, page: str, figure_id: str) -> str:
    """The SVG file shown by the figure ``figure_id`` of a built page (``<object data>`` for
    Graphviz, ``<img src>`` for the chart): it must exist under the build."""
    text = build.page(page)
    match = re.search(rf'<figure[^>]*id="{figure_id}"[^>]*>(.*?)</figure>', text, re.S)
    assert match is not None, f"no figure {figure_id} on {page}"
    reference = re.search(r'(?:data|src)="([^"]+\.svg)"', match.group(1))
    assert reference is not None, f"figure {figure_id} on {page} shows no SVG: {match.group(1)}"
    path = (build.html / page).parent / reference.group(1)
    assert path.resolve().is_relative_to(build.html.resolve()), path
    assert path.is_file(), f"{reference.group(1)} on {page} is not in the build"
    return path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# On the built pages


@interpreter_independent(DOCS_AS_WRITTEN)
def test_the_loading_phases_page_shows_every_plugin_state_and_phase(docs_build: DocsBuild) -> None:
    svg = figure_svg(docs_build, "concepts/loading-phases", "loading-diagram")
    words = {text for _, text in svg_texts(svg)}
    assert {state.value for state in PluginState} <= words
    assert {"discover", "import", "ready"} <= words


@interpreter_independent(DOCS_AS_WRITTEN)
def test_the_lifecycle_page_shows_every_lifecycle_signal_in_the_order_it_is_sent(
    docs_build: DocsBuild,
) -> None:
    svg = figure_svg(docs_build, "howto/lifecycle", "lifecycle-diagram")
    heights = {text: y for y, text in svg_texts(svg)}
    assert set(lifecycle.__all__) <= set(heights)
    # Drawn top to bottom in the order a host sends them.
    steps = [[signal.name for signal in signals] for _, signals in lifecycle._HOST_SEQUENCE]
    for earlier, later in itertools.pairwise(steps):
        assert max(heights[name] for name in earlier) < min(heights[name] for name in later)


@interpreter_independent(DOCS_AS_WRITTEN)
def test_the_benchmarks_page_charts_every_case_against_every_compared_library(
    docs_build: DocsBuild,
) -> None:
    svg = figure_svg(docs_build, "reference/benchmarks", "dispatch-chart")
    words = {text for _, text in svg_texts(svg)}
    assert {"hookwire", "Django", "blinker", "psygnal", "direct loop"} <= words
    document = json.loads(RESULTS.read_text(encoding="utf-8"))
    assert {row["title"].strip() for row in document["rows"]} <= words
    page = docs_build.page("reference/benchmarks")
    assert document["machine"]["date"] in page  # the caption says when it was measured


# --------------------------------------------------------------------------------------------
# The loading diagram follows PluginState


def test_a_new_plugin_state_appears_in_the_loading_diagram(
    ext: dict[str, types.ModuleType],
) -> None:
    members = {state.name: state.value for state in PluginState}
    # Named like a DOT keyword on purpose: member names must not reach the DOT text bare.
    extended = enum.Enum("ExtendedState", {**members, "NODE": "quarantined"})
    svg = render(ext["diagrams"].loading_dot(extended))
    words = {text for _, text in svg_texts(svg)}
    assert "quarantined" in words
    assert "not drawn yet" in words


def test_a_state_whose_value_changes_is_drawn_with_its_new_value(
    ext: dict[str, types.ModuleType],
) -> None:
    members = {state.name: state.value for state in PluginState}
    renamed = enum.Enum("RenamedState", {**members, "READY": "loaded"})
    words = {text for _, text in svg_texts(render(ext["diagrams"].loading_dot(renamed)))}
    assert "loaded" in words
    assert "ready" in words  # still the phase's name
    assert "not drawn yet" not in words


def test_a_state_the_drawing_needs_but_the_code_lost_fails_with_its_name(
    ext: dict[str, types.ModuleType],
) -> None:
    members = {state.name: state.value for state in PluginState if state.name != "DISABLED"}
    shrunk = enum.Enum("ShrunkState", members)
    with pytest.raises(KeyError, match="ShrunkState has no member DISABLED"):
        ext["diagrams"].loading_dot(shrunk)


def _snapshot(loader: Loader) -> dict[str, tuple[PluginState, str | None]]:
    return {record.name: (record.state, record.phase) for record in loader.registry}


def test_every_arrow_of_the_loading_diagram_is_a_move_a_real_load_makes(
    plugin_site: PluginSite, ext: dict[str, types.ModuleType]
) -> None:
    """Plugins that take every way through loading, driven one phase at a time: the moves
    seen are exactly the diagram's arrows, each in the phase it is labelled with."""
    modules = {
        "fine_pkg/__init__.py": "",
        "denied_pkg/__init__.py": "",
        "unimportable_pkg/__init__.py": "raise ImportError('no such backend')\n",
        "too_new_pkg/__init__.py": (
            "import hookwire\nclass P(hookwire.Plugin):\n    requires_host = '>=99'\n"
        ),
        "lonely_pkg/__init__.py": (
            "import hookwire\nclass P(hookwire.Plugin):\n    requires = ('absent',)\n"
        ),
        "grumpy_pkg/__init__.py": (
            "import hookwire\nclass P(hookwire.Plugin):\n"
            "    def ready(self):\n        raise RuntimeError('no')\n"
        ),
        "every_way_signals.py": "import hookwire\nkick = hookwire.Signal(name='kick')\n",
        "lazy_pkg/__init__.py": "",
        "lazy_pkg/signals.py": (
            "import hookwire, every_way_signals\n"
            "@hookwire.receiver(every_way_signals.kick)\n"
            "def on_kick(sender, **kwargs):\n    pass\n"
        ),
        "lazy_grumpy_pkg/__init__.py": "raise ImportError('no such backend')\n",
    }
    entry_points = {
        "fine": "fine_pkg",
        "denied": "denied_pkg",
        "unimportable": "unimportable_pkg",
        "too-new": "too_new_pkg:P",
        "lonely": "lonely_pkg:P",
        "grumpy": "grumpy_pkg:P",
        "lazy": "lazy_pkg",
        "lazy-grumpy": "lazy_grumpy_pkg",
    }
    declarations = {
        "lazy.kick": "every_way_signals:kick",
        "lazy-grumpy.kick": "every_way_signals:kick",
    }
    plugin_site.add(
        "every-way",
        entry_points={GROUP: entry_points, f"{GROUP}.listens": declarations},
        modules=modules,
    )
    import every_way_signals

    loader = Loader(
        GROUP,
        distributions=plugin_site.distributions(),
        config=LoadConfig(deny=("denied",)),
        host_version="1.0",
        signals={"every_way_signals.kick": every_way_signals.kick},
    )
    moves: set[tuple[str | None, str, str]] = set()
    before: dict[str, tuple[PluginState, str | None]] = {}
    for phase, run in (
        ("discover", loader.discover),
        ("import", loader.import_plugins),
        ("ready", loader.ready),
        ("first send", lambda: every_way_signals.kick.send(None)),
    ):
        run()
        after = _snapshot(loader)
        for name, (state, _) in after.items():
            previous = before.get(name)
            if previous is None or previous[0] is not state:
                moves.add((previous[0].name if previous else None, state.name, phase))
        before = after
    assert {state for state, _ in before.values()} == {
        PluginState.READY,
        PluginState.FAILED,
        PluginState.DISABLED,
    }
    drawn = {(t.source, t.target, t.phase) for t in ext["diagrams"].TRANSITIONS}
    assert moves == drawn


# --------------------------------------------------------------------------------------------
# The lifecycle diagram follows hookwire.signals and the host


def test_a_new_lifecycle_signal_appears_in_the_lifecycle_diagram(
    ext: dict[str, types.ModuleType],
) -> None:
    module = types.ModuleType("lifecycle_with_more")
    for name in lifecycle.__all__:
        setattr(module, name, getattr(lifecycle, name))
    module.plugin_reloaded = Signal(name="plugin_reloaded", doc="A plugin was loaded again.")  # type: ignore[attr-defined]
    module.__all__ = [*lifecycle.__all__, "plugin_reloaded"]  # type: ignore[attr-defined]
    module._HOST_SEQUENCE = lifecycle._HOST_SEQUENCE  # type: ignore[attr-defined]
    words = {text for _, text in svg_texts(render(ext["diagrams"].lifecycle_dot(module)))}
    assert "plugin_reloaded" in words
    assert "A plugin was loaded again." in words
    assert "at no fixed moment" in words


def test_the_signal_order_drawn_is_the_order_a_running_host_sends(
    plugin_site: PluginSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A host with a plugin failing at import, one failing in ready() and one that works:
    every lifecycle signal it sends falls in the drawn steps, in their order, with the
    per-plugin step sent once for each plugin."""
    monkeypatch.chdir(tmp_path)  # no pyproject.toml configuration from the checkout
    plugin_site.add(
        "order-demo",
        entry_points={
            GROUP: {"works": "works_pkg", "bad-import": "bad_import_pkg", "bad": "bad_pkg:P"}
        },
        modules={
            "works_pkg/__init__.py": "",
            "bad_import_pkg/__init__.py": "raise ImportError('gone')\n",
            "bad_pkg/__init__.py": (
                "import hookwire\nclass P(hookwire.Plugin):\n"
                "    def ready(self):\n        raise RuntimeError('no')\n"
            ),
        },
    )
    sent: list[str] = []

    def record(signal: Signal) -> Any:
        def receiver(sender: object, **named: object) -> None:
            assert signal.name is not None
            sent.append(signal.name)

        return receiver

    receivers = []
    for name in lifecycle.__all__:
        signal = getattr(lifecycle, name)
        receivers.append(record(signal))
        signal.connect(receivers[-1], weak=False)
    host = Host("pictures", entry_point_group=GROUP, main=lambda: 0)
    host.load()
    sent_by = {"load": list(sent)}
    sent.clear()
    assert host.run() == 0
    sent_by["run"] = list(sent)

    step_of = {
        signal.name: index
        for index, (_, signals) in enumerate(lifecycle._HOST_SEQUENCE)
        for signal in signals
    }
    in_order = [*sent_by["load"], *sent_by["run"]]
    assert all(name in step_of for name in in_order), sent_by
    steps = [step_of[name] for name in in_order]
    assert steps == sorted(steps), sent_by
    assert sorted(set(steps)) == list(range(len(lifecycle._HOST_SEQUENCE))), sent_by
    # Each step is drawn under the Host method that sends it.
    for method, names in sent_by.items():
        assert {lifecycle._HOST_SEQUENCE[step_of[name]][0] for name in names} == {method}
    per_plugin = [name for name in in_order if len(lifecycle._HOST_SEQUENCE[step_of[name]][1]) > 1]
    assert sorted(per_plugin) == ["plugin_failed", "plugin_failed", "plugin_loaded"]


# --------------------------------------------------------------------------------------------
# The benchmark chart


def _dispatch_table(markdown: str) -> str:
    """The dispatch table and the import lines of a ``benchmarks/_markdown.py`` output."""
    start = markdown.index("| case (ns/op)")
    end = markdown.index("`import hookwire` adds")
    return markdown[start:end]


def test_the_charted_results_are_the_ones_the_benchmark_readme_shows() -> None:
    """``benchmarks/README.md``'s dispatch table is what ``benchmarks/_markdown.py`` renders
    from the results the chart is drawn from, so the page's chart and table agree. After a
    new run, write ``bench_dispatch.py --json benchmarks/results/dispatch.json`` and paste
    ``_markdown.py benchmarks/results/dispatch.json`` into the README."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        markdown = importlib.import_module("_markdown")
    finally:
        sys.path.remove(str(BENCHMARKS))
    document = json.loads(RESULTS.read_text(encoding="utf-8"))
    rendered = _dispatch_table(markdown.dispatch(document))
    readme = (BENCHMARKS / "README.md").read_text(encoding="utf-8")
    assert rendered in readme


def _document(rows: list[tuple[str, dict[str, float | None]]]) -> dict[str, Any]:
    return {
        "benchmark": "dispatch",
        "repeat": 3,
        "clock": "cpu",
        "machine": {"date": "2026-01-02 03:04 UTC", "python": "3.11.7", "cpus": 2},
        "rows": [{"title": title, "ns_per_op": times} for title, times in rows],
    }


def test_the_chart_draws_each_library_relative_to_hookwire_and_says_what_is_missing(
    ext: dict[str, types.ModuleType],
) -> None:
    chart = ext["chart"]
    cases = chart.read_cases(
        _document(
            [
                (
                    "send, 3 receivers",
                    {
                        "hookwire": 100.0,
                        "django": 400.0,
                        "blinker": 25.0,
                        "psygnal": None,
                        "direct": 100.0,
                    },
                )
            ]
        )
    )
    svg = chart.render_svg(cases, title="a chart")
    words = [text for _, text in svg_texts(svg)]
    assert "send, 3 receivers" in words
    assert "hookwire 100 ns" in words
    assert {"4.00x", "0.25x", "1.00x", "n/a"} <= set(words)
    # Django's bar (4x) points right of hookwire's line, blinker's (1/4x) left of it.
    reference = re.search(r'<line class="reference" x1="([\d.]+)"', svg)
    assert reference is not None
    line = float(reference.group(1))
    bars = re.findall(r'<rect x="([\d.]+)"[^>]*width="([\d.]+)"[^>]*fill="(#[0-9a-f]+)">', svg)
    by_colour = {colour: (float(x), float(width)) for x, width, colour in bars}
    django_x, django_width = by_colour["#009e73"]
    blinker_x, blinker_width = by_colour["#e69f00"]
    assert django_x == pytest.approx(line)
    assert django_width > 0
    assert blinker_x + blinker_width == pytest.approx(line, abs=0.2)
    assert blinker_x < line
    assert django_width == pytest.approx(blinker_width, abs=0.2)  # 4x and 1/4x: same length


def test_a_file_that_is_not_the_dispatch_benchmark_is_refused(
    ext: dict[str, types.ModuleType],
) -> None:
    with pytest.raises(ValueError, match=r"not the JSON of benchmarks/bench_dispatch\.py"):
        ext["chart"].read_cases({"benchmark": "cli", "rows": []})


@pytest.mark.parametrize(
    ("value", "shown"),
    [(155.0, "155 ns"), (2930.0, "2.93 µs"), (25755.0, "25.8 µs"), (1407588.0, "1.41 ms")],
)
def test_times_are_shown_in_the_unit_a_reader_takes_in_at_once(
    ext: dict[str, types.ModuleType], value: float, shown: str
) -> None:
    assert ext["chart"].format_ns(value) == shown


# --------------------------------------------------------------------------------------------
# The spans of a pizzeria run


def trace_rows(svg: str) -> list[tuple[int, str]]:
    """The rows of the trace picture, top to bottom: (depth under the trace's root, name)."""
    return [
        (round((float(x) - 12) / 14), html.unescape(name))
        for x, name in re.findall(r'<text x="([\d.]+)"[^>]*class="span-name"[^>]*>([^<]*)<', svg)
    ]


def defined_in(folder: str) -> set[str]:
    """``module.qualname`` of every function and method the example folder's package defines,
    read from its source."""
    found: set[str] = set()
    for path in (EXAMPLES / folder).glob("*/*.py"):
        module = ".".join(path.relative_to(EXAMPLES / folder).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.add(f"{module}.{node.name}")
            elif isinstance(node, ast.ClassDef):
                found.update(
                    f"{module}.{node.name}.{item.name}"
                    for item in node.body
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                )
    return found


def exported_names(path: Path) -> list[str]:
    """The ``__all__`` of a module, read from its source."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            return list(ast.literal_eval(node.value))
    raise AssertionError(f"{path} has no __all__")


@interpreter_independent(DOCS_AS_WRITTEN)
def test_the_opentelemetry_page_draws_the_spans_of_a_real_pizzeria_run(
    docs_build: DocsBuild, ext: dict[str, types.ModuleType]
) -> None:
    svg = figure_svg(docs_build, "howto/opentelemetry", "pizzeria-trace")
    drawn = trace_rows(svg)
    names = [name for _, name in drawn]
    # The load of the how-to's two plugins, a span per plugin under it.
    assert drawn[0] == (0, "load pizzeria.plugins")
    assert {(1, "plugin sms"), (1, "plugin loyalty")} <= set(drawn)
    # Sends of the pizzeria's own signals and of the lifecycle signals a host sends.
    pizzeria = {
        f"pizzeria.signals.{name}"
        for name in exported_names(EXAMPLES / "pizzeria" / "pizzeria" / "signals.py")
    }
    sent = {name.removeprefix("send ") for name in names if name.startswith("send ")}
    assert pizzeria <= sent
    assert sent - pizzeria <= {f"hookwire.signals.{name}" for name in lifecycle.__all__}
    # Every other span is a receiver the plugins define, under the send that called it.
    plugins = defined_in("pizzeria-sms") | defined_in("pizzeria-loyalty")
    receivers = [
        (depth, name) for depth, name in drawn if not name.startswith(("send ", "load ", "plugin "))
    ]
    assert {"pizzeria_sms.SmsGateway.on_pizza_done", "pizzeria_loyalty.signals.stamp_card"} <= {
        name for _, name in receivers
    }
    assert all(name in plugins and depth == 1 for depth, name in receivers), receivers
    # Made by a run at build time, not kept in a file: a run now has the same spans, in
    # traces of its own.
    spans = ext["trace"].read_spans(ext["trace"].record_run())
    traces = ext["trace"].rows(spans)
    assert [(depth, span.name) for trace in traces for span, depth in trace] == drawn
    built = set(re.findall(r'data-trace-id="([0-9a-f]{32})"', svg))
    assert len(built) == len(traces)
    assert built.isdisjoint(span.trace for span in spans)
    assert "recorded when this page was built" in docs_build.page("howto/opentelemetry")


def test_the_trace_picture_nests_children_and_marks_failures(
    ext: dict[str, types.ModuleType],
) -> None:
    """Children under their parent in the order they started, a span whose parent was not
    exported as a trace of its own, a failed span outlined."""
    trace = ext["trace"]

    def span(
        name: str,
        span_id: str,
        parent: str | None,
        start: int,
        end: int,
        *,
        error: bool = False,
        attributes: dict[str, Any] | None = None,
    ) -> Any:
        return trace.Span(name, "a" * 32, span_id, parent, start, end, error, attributes or {})

    spans = [
        span("plugin late", "3", "1", 30, 40, error=True),
        span("load demo.plugins", "1", None, 0, 100, attributes={"hookwire.plugins": 2}),
        span("plugin early", "2", "1", 10, 20),
        span("send demo.orphan", "4", "9", 50, 60),
    ]
    assert [[(depth, item.name) for item, depth in rows] for rows in trace.rows(spans)] == [
        [(0, "load demo.plugins"), (1, "plugin early"), (1, "plugin late")],
        [(0, "send demo.orphan")],
    ]
    svg = trace.render_svg(spans, title="demo")
    assert [name for _, name in trace_rows(svg)] == [
        "load demo.plugins",
        "plugin early",
        "plugin late",
        "send demo.orphan",
    ]
    [outlined] = re.findall(r'<rect[^>]*stroke="#cf222e"[^>]*><title>([^<]*)<', svg)
    assert outlined.startswith("plugin late: 10 ns")
    assert "2 plugins" in {text for _, text in svg_texts(svg)}
