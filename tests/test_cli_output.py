"""hookwire.cli._output and ._trace: what reaches a terminal is escaped, aligned and one line."""

from __future__ import annotations

import threading
from io import StringIO
from typing import Any

import pytest

from hookwire import Signal
from hookwire._dispatch.tracing import SendTrace, install_tracer, remove_tracer
from hookwire._text import describe_error, escape
from hookwire.cli._output import render_table
from hookwire.cli._trace import TracePrinter, format_trace


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text [bold]markup[/bold]", "plain text [bold]markup[/bold]"),
        ("\x1b[31mred\x1b[0m", r"\x1b[31mred\x1b[0m"),
        ("bell\x07 and\rreturn\nnewline", r"bell\x07 and\rreturn\nnewline"),
        ("right\u202eto-left", r"right\u202eto-left"),
        ("zero\u200bwidth", r"zero\u200bwidth"),
        ("café ☕ ok", "café ☕ ok"),
        (None, "-"),
        (3, "3"),
    ],
)
def test_escape_shows_control_and_invisible_characters_as_escapes(raw: object, shown: str) -> None:
    assert escape(raw) == shown
    assert escape(raw).isprintable()


@pytest.mark.parametrize(
    ("error", "described"),
    [
        (ValueError("oven on fire"), "ValueError: oven on fire"),
        (RuntimeError("  first line\nsecond line\n"), "RuntimeError: first line"),
        (KeyError(), "KeyError"),
        (OSError("   "), "OSError"),
    ],
)
def test_an_error_is_described_by_its_type_and_the_first_line_of_its_message(
    error: BaseException, described: str
) -> None:
    assert describe_error(error) == described


def test_render_table_aligns_escaped_cells_under_the_headers() -> None:
    lines = render_table(("NAME", "VERSION"), [("a\x1bb", "1.0"), ("long-name", None)])
    assert lines == [
        "NAME       VERSION",
        r"a\x1bb     1.0",
        "long-name  -",
    ]


def _traced(signal: Signal, sender: object, **named: Any) -> SendTrace:
    traces: list[SendTrace] = []
    install_tracer(traces.append)
    try:
        signal.send_robust(sender, **named)
    finally:
        remove_tracer()
    (trace,) = traces
    return trace


def on_event(sender: object, **kwargs: Any) -> None:
    pass


def fails(sender: object, **kwargs: Any) -> None:
    raise ValueError("bad\x1b[2J input\nsecond line")


def test_a_trace_names_the_signal_method_sender_and_each_receiver_with_its_time() -> None:
    signal = Signal(name="order_placed")
    signal.connect(on_event)
    signal.connect(fails)
    lines = format_trace(_traced(signal, "counter"))
    assert lines[0].startswith(
        f"trace: {signal.qualified_name} send_robust from counter: 2 receivers, "
    )
    assert lines[0].endswith(" ms")
    assert lines[1].startswith(f"trace:   {__name__}.on_event plugin=- ")
    assert lines[2].startswith(f"trace:   {__name__}.fails plugin=- ")
    assert lines[2].endswith(r"raised ValueError: bad\x1b[2J input")


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def test_a_sender_whose_repr_raises_or_is_huge_is_described_safely() -> None:
    signal = Signal(name="odd")
    assert "Unprintable" in format_trace(_traced(signal, Unprintable()))[0]
    line = format_trace(_traced(signal, "x" * 500))[0]
    assert "x" * 77 + "..." in line
    assert "x" * 81 not in line


def test_the_printer_writes_whole_blocks_from_many_threads_and_survives_a_closed_stream() -> None:
    signal = Signal(name="busy")
    signal.connect(on_event)
    stream = StringIO()
    install_tracer(TracePrinter(stream))
    try:
        threads = [
            threading.Thread(target=lambda: [signal.send(sender=None) for _ in range(50)])
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        lines = stream.getvalue().splitlines()
        assert len(lines) == 400
        for header, call in zip(lines[::2], lines[1::2], strict=True):
            assert header.startswith("trace: ")
            assert call.startswith("trace:   ")
        stream.close()
        signal.send(sender=None)  # writing to the closed stream is not the sender's problem
    finally:
        remove_tracer()
