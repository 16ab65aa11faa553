"""``hookwire run --trace``: every send, on stderr, with each receiver, its plugin and its time.

One block per send::

    trace: hookwire.signals.host_started send from <Host 'pizzeria'>: 2 receivers, 0.052 ms
    trace:   pizzeria_sms.signals.on_start plugin=sms 0.031 ms
    trace:   pizzeria_loyalty.hooks.on_start plugin=loyalty 0.009 ms raised ValueError: boom

Sends from several threads are written whole, one block at a time. Tracing never changes what
a send does: a send the printer cannot describe becomes a ``trace:`` line saying so, and a
stream that cannot be written to is left alone.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, TextIO

from .._text import describe_error, escape

if TYPE_CHECKING:
    from .._dispatch.tracing import SendTrace

__all__ = ["TracePrinter", "format_trace"]

_MAX_REPR = 80


def _milliseconds(nanoseconds: int) -> str:
    return f"{nanoseconds / 1_000_000:.3f} ms"


def _safe_repr(value: object) -> str:
    """The sender as ``hookwire signals`` names it (classes as ``module.QualName``), shortened
    and escaped; never raises, whatever the object does."""
    from .._dispatch.introspection import safe_repr

    text = safe_repr(value)
    if len(text) > _MAX_REPR:
        text = text[: _MAX_REPR - 3] + "..."
    return escape(text)


def format_trace(trace: SendTrace) -> list[str]:
    """The lines describing one send (see the module docstring)."""
    signal = trace.signal
    name = getattr(signal, "qualified_name", None) or _safe_repr(signal)
    calls = trace.calls
    noun = "receiver" if len(calls) == 1 else "receivers"
    lines = [
        f"trace: {escape(name)} {escape(trace.method)} from {_safe_repr(trace.sender)}: "
        f"{len(calls)} {noun}, {_milliseconds(trace.total_ns)}"
    ]
    for call in calls:
        info = call.info
        line = f"trace:   {escape(info.name)} plugin={escape(info.plugin or '-')} "
        line += _milliseconds(call.duration_ns)
        if call.error is not None:
            line += f" raised {escape(describe_error(call.error))}"
        lines.append(line)
    return lines


class TracePrinter:
    """A tracer callback that writes :func:`format_trace` blocks to ``stream``."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def __call__(self, trace: SendTrace) -> None:
        try:
            text = "".join(line + "\n" for line in format_trace(trace))
        except Exception as error:
            # Whatever a receiver, sender or exception does to its own description, the send
            # it belongs to must go on exactly as without --trace.
            text = f"trace: (this send cannot be described: {escape(describe_error(error))})\n"
        with self._lock:
            try:
                self._stream.write(text)
                self._stream.flush()
            except (OSError, ValueError):
                # A closed stderr must not turn every send of the host into an error.
                pass
