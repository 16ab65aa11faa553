"""A span per ``load()`` of a host's plugins, with a child span per plugin and its state."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from .._loading.loader import Loader
from .._loading.registry import PluginState
from . import _names as names

__all__ = ["trace_loads", "untrace_loads"]

_plain_load: Callable[[Loader], Any] | None = None
# Loaders whose load() completed under tracing: calling it again (Host.run() after
# Host.load(), as the CLI does) only returns the registry, and is not traced again.
_loaded: weakref.WeakSet[Loader] = weakref.WeakSet()


def _plugin_spans(tracer: Tracer, loader: Loader, parent: trace.Span) -> int:
    """One span per plugin of ``loader``'s registry, children of ``parent``; how many."""
    parent_context = trace.set_span_in_context(parent)
    count = 0
    for record in loader.registry:
        count += 1
        attributes: dict[str, Any] = {
            names.PLUGIN: record.name,
            names.PLUGIN_STATE: record.state.value,
        }
        if record.distribution is not None:
            attributes[names.DISTRIBUTION] = record.distribution
        if record.version is not None:
            attributes[names.DISTRIBUTION_VERSION] = record.version
        if record.entry_point:
            attributes[names.ENTRY_POINT] = record.entry_point
        span = tracer.start_span(
            names.PLUGIN_SPAN.format(plugin=record.name),
            context=parent_context,
            kind=SpanKind.INTERNAL,
            attributes=attributes,
        )
        if record.state is PluginState.FAILED:
            span.set_status(Status(StatusCode.ERROR, record.error or "failed"))
        span.end()
    return count


def trace_loads(tracer: Tracer) -> None:
    """Make every :meth:`Loader.load` (what ``Host.load()`` runs) record its spans."""
    global _plain_load
    if _plain_load is not None:
        return
    plain = _plain_load = Loader.load

    def load(self: Loader) -> Any:
        if self in _loaded:
            return plain(self)
        attributes: dict[str, Any] = {names.GROUP: self.group}
        host_name = getattr(self.host, "name", None)
        if isinstance(host_name, str):
            attributes[names.HOST] = host_name
        with tracer.start_as_current_span(
            names.LOAD_SPAN.format(group=self.group),
            kind=SpanKind.INTERNAL,
            attributes=attributes,
        ) as span:
            try:
                registry = plain(self)
                _loaded.add(self)
                return registry
            finally:
                if span.is_recording():
                    span.set_attribute(names.PLUGINS, _plugin_spans(tracer, self, span))

    load.__doc__ = plain.__doc__
    Loader.load = load  # type: ignore[method-assign]


def untrace_loads() -> None:
    """Undo :func:`trace_loads`: ``Loader.load`` is the plain method again."""
    global _plain_load
    if _plain_load is not None:
        Loader.load = _plain_load  # type: ignore[method-assign,assignment]
        _plain_load = None
