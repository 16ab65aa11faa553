"""The names hookwire gives its spans, attributes and metrics (the documented reference)."""

from __future__ import annotations

from typing import Final

#: Name of a send's span; ``{signal}`` is the signal's qualified name.
SEND_SPAN: Final = "send {signal}"
#: Name of a ``load()``'s span; ``{group}`` is the host's entry-point group.
LOAD_SPAN: Final = "load {group}"
#: Name of a plugin's span under a load.
PLUGIN_SPAN: Final = "plugin {plugin}"

SIGNAL: Final = "hookwire.signal"
SENDER: Final = "hookwire.sender"
METHOD: Final = "hookwire.method"
RECEIVERS: Final = "hookwire.receivers"
RECEIVER: Final = "hookwire.receiver"
PLUGIN: Final = "hookwire.plugin"
HOST: Final = "hookwire.host"
GROUP: Final = "hookwire.entry_point_group"
PLUGINS: Final = "hookwire.plugins"
PLUGIN_STATE: Final = "hookwire.plugin.state"
DISTRIBUTION: Final = "hookwire.distribution"
DISTRIBUTION_VERSION: Final = "hookwire.distribution.version"
ENTRY_POINT: Final = "hookwire.entry_point"
#: OpenTelemetry's general attribute for the class of an error (on the failures metric).
ERROR_TYPE: Final = "error.type"

#: Histogram of receiver call durations, in seconds.
DURATION_METRIC: Final = "hookwire.receiver.duration"
#: Counter of receiver calls that raised.
FAILURES_METRIC: Final = "hookwire.receiver.failures"
