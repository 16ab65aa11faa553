"""hookwire's own lifecycle signals, for plugins that hook the host's life.

Every one is sent with the :class:`~hookwire.Host` as ``sender`` and declares the arguments it
passes (:attr:`Signal.args <hookwire.Signal.args>`; the types are named, as the
documentation does, without importing the loader): a receiver naming anything else is refused
at connect. During loading, each plugin
is followed by ``plugin_loaded`` or ``plugin_failed``, then ``plugins_ready`` comes once;
:meth:`~hookwire.Host.run` then sends ``host_started`` and, at the end, ``host_stopping``.
``setting_changed`` comes whenever a setting changes and ``remote_failed`` only on workers.
"""

from __future__ import annotations

from ._dispatch.signal import Signal

__all__ = [
    "host_started",
    "host_stopping",
    "plugin_failed",
    "plugin_loaded",
    "plugins_ready",
    "remote_failed",
    "setting_changed",
]

#: Sent once a plugin's ready phase passed, with ``plugin=`` its
#: :class:`~hookwire.PluginRecord`.
#:
#: :meta hide-value:
plugin_loaded = Signal(
    name="plugin_loaded", doc="A plugin passed its ready phase.", args={"plugin": "PluginRecord"}
)

#: Sent when a plugin failed in some phase, with ``plugin=`` its record and ``error=``
#: the :class:`~hookwire.exceptions.PluginError`.
#:
#: :meta hide-value:
plugin_failed = Signal(
    name="plugin_failed",
    doc="A plugin failed in some phase.",
    args={"plugin": "PluginRecord", "error": "PluginError"},
)

#: Sent once every plugin has been tried, with ``registry=`` the
#: :class:`~hookwire.Registry`.
#:
#: :meta hide-value:
plugins_ready = Signal(
    name="plugins_ready", doc="Every plugin has been tried.", args={"registry": "Registry"}
)

#: Sent by :meth:`~hookwire.Host.run` before it calls ``main``.
#:
#: :meta hide-value:
host_started = Signal(name="host_started", doc="The host is about to call main.", args={})

#: Sent by :meth:`~hookwire.Host.run` after ``main``, always: also after an exception,
#: Ctrl-C or SIGTERM; ``exc=`` is the exception that stops the host, or ``None``.
#:
#: :meta hide-value:
host_stopping = Signal(
    name="host_stopping",
    doc="The host is stopping (always sent).",
    args={"exc": "BaseException | None"},
)

#: Sent when a host setting changes, with ``setting=``, ``value=`` and ``enter=`` as in
#: Django (``enter=False`` and ``value=None`` when the setting is removed or restored).
#:
#: :meta hide-value:
setting_changed = Signal(
    name="setting_changed",
    doc="A host setting changed.",
    args={"setting": "str", "value": "Any", "enter": "bool"},
)

#: Sent on a worker when a remote receiver failed for the last time (no retry left),
#: with ``receiver=`` its ``"module.qualname"``, ``plugin=``, ``delivery=`` the
#: :class:`~hookwire.remote.Delivery` and ``error=`` the exception — a
#: ``celery.exceptions.WorkerLostError`` when the process running its last attempt died.
#:
#: :meta hide-value:
remote_failed = Signal(
    name="remote_failed",
    doc="A remote receiver failed for the last time.",
    args={"receiver": "str", "plugin": "str | None", "delivery": "Delivery", "error": "Exception"},
)

# The order in which a Host sends the signals above, kept next to them so that the
# documentation's diagram (docs/_ext/diagrams.py) is drawn from it and a test
# (tests/test_docs_pictures.py) can check it against what a running Host sends. Each step is
# (the Host method that sends it, the signals of that moment): a step of several sends one of
# them per plugin, as each plugin fails (in its import or ready phase) or passes its ready
# phase. setting_changed (whenever a setting changes) and remote_failed (on a worker) have no
# fixed place in this order.
_HOST_SEQUENCE: tuple[tuple[str, tuple[Signal, ...]], ...] = (
    ("load", (plugin_failed, plugin_loaded)),
    ("load", (plugins_ready,)),
    ("run", (host_started,)),
    ("run", (host_stopping,)),
)
