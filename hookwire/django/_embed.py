"""The host of a Django project: found in the settings, started once per process, stopped at
exit. Imported by the app's ``ready()``, after Django is set up."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._host import Host, HostRunning
    from .._loading.registry import Registry

__all__ = ["SETTING", "configured_host", "running_host", "start", "stop"]

#: The setting naming the project's host: ``"module:attribute"`` or a :class:`~hookwire.Host`.
SETTING = "HOOKWIRE_HOST"

_lock = threading.Lock()
_running: tuple[Host, HostRunning] | None = None


def configured_host() -> Host:
    """The :class:`~hookwire.Host` that ``settings.HOOKWIRE_HOST`` names.

    :raises django.core.exceptions.ImproperlyConfigured: the setting is missing, or names
        nothing that is a ``Host``.
    """
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from .._host import Host
    from ..exceptions import HostNotFoundError

    value = getattr(settings, SETTING, None)
    if value is None:
        raise ImproperlyConfigured(
            f"hookwire.django is in INSTALLED_APPS but settings.{SETTING} is not set: set it to "
            "'module:attribute' of the project's hookwire.Host (e.g. 'shop.plugins:host')"
        )
    if isinstance(value, Host):
        return value
    if not isinstance(value, str):
        raise ImproperlyConfigured(
            f"settings.{SETTING} must be 'module:attribute' or a hookwire.Host, "
            f"got {type(value).__qualname__}"
        )
    from ..cli._resolve import HostReference, import_host

    try:
        return import_host(HostReference(value, f"settings.{SETTING}"))
    except HostNotFoundError as exc:
        raise ImproperlyConfigured(str(exc)) from exc


def start() -> Registry | None:
    """Load the configured host's plugins and send ``host_started``, once per process.

    Returns the registry, or ``None`` in the autoreloader's watcher process of ``runserver``
    (the process that only restarts the server: the server process loads them). Calling it
    again returns the same registry without loading or sending anything.
    """
    global _running
    with _lock:
        if _running is not None:
            return _running[0].registry
        if _is_reloader_watcher():
            return None
        host = configured_host()
        from ._signals import track

        # Before loading: what plugins connect to Django's own signals is then theirs.
        track()
        running = host.running()
        registry = running.__enter__()
        _running = (host, running)
    atexit.register(stop)
    return registry


def stop() -> None:
    """Send ``host_stopping`` (at exit; again does nothing)."""
    global _running
    with _lock:
        started, _running = _running, None
    if started is not None:
        started[1].__exit__(None, None, None)


def running_host() -> Host:
    """The host the app started, else (the watcher process) the configured one."""
    with _lock:
        if _running is not None:
            return _running[0]
    return configured_host()


def _is_reloader_watcher() -> bool:
    """Whether this is ``runserver``'s watcher: the process that restarts the server on
    changes (the server runs in a child with ``RUN_MAIN=true``)."""
    if os.environ.get("RUN_MAIN") == "true":
        return False
    argv = sys.argv
    return len(argv) > 1 and argv[1] == "runserver" and "--noreload" not in argv
