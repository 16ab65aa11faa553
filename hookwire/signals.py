"""hookwire's own lifecycle signals, for plugins that hook the host's life.

Every signal is sent with the :class:`~hookwire.Host` as ``sender``:

``plugin_loaded``   ``plugin=`` the :class:`~hookwire.PluginRecord`, once its ready phase passed.
``plugin_failed``   ``plugin=`` the record, ``error=`` the
                    :class:`~hookwire.exceptions.PluginError`.
``plugins_ready``   ``registry=`` the :class:`~hookwire.Registry`, after every plugin was tried.
``host_started``    before ``main`` runs.
``host_stopping``   always after ``main``, also on exceptions, Ctrl-C and SIGTERM;
                    ``exc=`` the exception that stops the host, or ``None``.
``setting_changed`` ``setting=``, ``value=``, ``enter=`` as in Django, when a host setting changes.
``remote_failed``   on a worker, when a remote receiver failed for the last time (no retry
                    left): ``receiver=`` its ``"module.qualname"``, ``plugin=``, ``delivery=``
                    the :class:`~hookwire.remote.Delivery`, ``error=`` the exception.
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

plugin_loaded = Signal(name="plugin_loaded", doc="A plugin passed its ready phase.")
plugin_failed = Signal(name="plugin_failed", doc="A plugin failed in some phase.")
plugins_ready = Signal(name="plugins_ready", doc="Every plugin has been tried.")
host_started = Signal(name="host_started", doc="The host is about to call main.")
host_stopping = Signal(name="host_stopping", doc="The host is stopping (always sent).")
setting_changed = Signal(name="setting_changed", doc="A host setting changed.")
remote_failed = Signal(name="remote_failed", doc="A remote receiver failed for the last time.")

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
