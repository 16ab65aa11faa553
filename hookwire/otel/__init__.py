"""OpenTelemetry traces and metrics of sends, receivers and plugin loading (``hookwire[otel]``).

:class:`HookwireInstrumentor` is an OpenTelemetry ``BaseInstrumentor``, registered in the
``opentelemetry_instrumentor`` entry-point group, so ``opentelemetry-instrument python app.py``
instruments hookwire with no code change; or call :func:`instrument` /
``HookwireInstrumentor().instrument(tracer_provider=..., meter_provider=..., signals=...)``.

Importing this package needs OpenTelemetry (``pip install 'hookwire[otel]'``); ``import
hookwire`` never imports it.
"""

from __future__ import annotations

try:
    import opentelemetry.instrumentation.instrumentor
    import opentelemetry.metrics
    import opentelemetry.trace  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a venv without the extra
    raise ImportError(
        f"hookwire.otel needs OpenTelemetry, which is not installed ({exc}); "
        "install it with: pip install 'hookwire[otel]'"
    ) from exc

from ._instrumentor import HookwireInstrumentor, instrument, uninstrument
from ._names import (
    DURATION_METRIC,
    FAILURES_METRIC,
    LOAD_SPAN,
    PLUGIN_SPAN,
    SEND_SPAN,
)

__all__ = [
    "DURATION_METRIC",
    "FAILURES_METRIC",
    "LOAD_SPAN",
    "PLUGIN_SPAN",
    "SEND_SPAN",
    "HookwireInstrumentor",
    "instrument",
    "uninstrument",
]
