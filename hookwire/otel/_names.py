"""The names hookwire gives its spans, attributes and metrics (the documented reference)."""

from __future__ import annotations

from typing import Final

#: Name of a send's span; ``{signal}`` is the signal's qualified name.
SEND_SPAN: Final = "send {signal}"
#: Name of a ``load()``'s span; ``{group}`` is the host's entry-point group.
LOAD_SPAN: Final = "load {group}"
#: Name of a plugin's span under a load.
PLUGIN_SPAN: Final = "plugin {plugin}"

#: A remote receiver's message being published (PRODUCER); ``{queue}`` is its queue.
PUBLISH_SPAN: Final = "publish {queue}"
#: A remote receiver's message run by a worker (CONSUMER).
PROCESS_SPAN: Final = "process {queue}"

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
DELIVERY_ATTEMPT: Final = "hookwire.delivery.attempt"
# OpenTelemetry's messaging semantic conventions.
MESSAGING_SYSTEM: Final = "messaging.system"
MESSAGING_SYSTEM_CELERY: Final = "celery"
MESSAGING_DESTINATION: Final = "messaging.destination.name"
MESSAGING_OPERATION_NAME: Final = "messaging.operation.name"
MESSAGING_OPERATION_TYPE: Final = "messaging.operation.type"
MESSAGING_MESSAGE_ID: Final = "messaging.message.id"
#: OpenTelemetry's general attribute for the class of an error (on the failures metric).
ERROR_TYPE: Final = "error.type"

#: Histogram of receiver call durations, in seconds.
DURATION_METRIC: Final = "hookwire.receiver.duration"
#: Counter of receiver calls that raised.
FAILURES_METRIC: Final = "hookwire.receiver.failures"
