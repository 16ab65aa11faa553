"""Which Celery application a host's remote receivers publish through, and how it is built.

The broker is chosen in this order: the host's own application (``Host(..., celery=app)``),
``HOOKWIRE_BROKER_URL``, ``broker`` in ``[tool.hookwire]``, else an embedded default that needs
no server: hookwire's own kombu transport (:mod:`hookwire.remote._embedded`) over a private
folder per host under the user's data folder, so that ``hookwire run`` and ``hookwire worker``
on one machine meet there.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigError

if TYPE_CHECKING:
    from celery import Celery

    from .._host import Host

__all__ = [
    "DEFAULT_QUEUE",
    "DELIVER_TASK",
    "EMBEDDED_URL",
    "BrokerSettings",
    "app_for",
    "broker_settings",
    "check_broker",
    "default_broker_folder",
    "host_for_plugin",
    "remember_host",
]

#: The name of the one Celery task hookwire publishes and its workers run.
DELIVER_TASK = "hookwire.deliver"
#: The queue of a remote receiver connected without ``queue=``.
DEFAULT_QUEUE = "hookwire"
#: The URL of the embedded default broker, a kombu transport registered under that name (with
#: a host name, so that kombu logs no warning about choosing one).
EMBEDDED_URL = "hookwire://localhost"
#: How long publishing may take before it fails with RemoteDispatchError, in seconds.
DEFAULT_TIMEOUT = 3.0


class BrokerSettings:
    """Where messages go (``url``), what options the transport gets, and the publish bound."""

    __slots__ = ("source", "timeout", "transport_options", "url")

    def __init__(
        self, url: str, source: str, timeout: float, transport_options: dict[str, Any]
    ) -> None:
        self.url = url
        self.source = source
        self.timeout = timeout
        self.transport_options = transport_options

    def __repr__(self) -> str:
        return f"<BrokerSettings {self.url!r} from {self.source}, timeout {self.timeout}s>"


def default_broker_folder(host_name: str) -> Path:
    """The embedded broker's folder of ``host_name``: ``$XDG_DATA_HOME/hookwire/broker/<host>``
    (``~/.local/share`` when unset; ``%LOCALAPPDATA%`` on Windows)."""
    base = os.environ.get("XDG_DATA_HOME") or (
        os.environ.get("LOCALAPPDATA") if os.name == "nt" else None
    )
    root = Path(base) if base else Path.home() / ".local" / "share"
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", host_name) or "host"
    return root / "hookwire" / "broker" / safe


def _timeout(raw: object, source: str) -> float:
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(
            f"{source}: broker timeout must be a number of seconds, got {raw!r}", source=source
        ) from None
    if not value > 0:
        raise ConfigError(f"{source}: broker timeout must be positive, got {raw!r}", source=source)
    return value


def broker_settings(host_name: str) -> BrokerSettings:
    """The broker of ``host_name`` from the environment, ``[tool.hookwire]``, or the default.

    :raises ConfigError: a timeout that is not a positive number, or an unreadable pyproject.
    """
    from .._loading.config import read_pyproject_settings

    path, table = read_pyproject_settings()
    table_source = f"{path} [tool.hookwire]"
    timeout = DEFAULT_TIMEOUT
    if "broker_timeout" in table:
        timeout = _timeout(table["broker_timeout"], f"{table_source} broker_timeout")
    env_timeout = os.environ.get("HOOKWIRE_BROKER_TIMEOUT")
    if env_timeout:
        timeout = _timeout(env_timeout, "HOOKWIRE_BROKER_TIMEOUT")
    url = os.environ.get("HOOKWIRE_BROKER_URL")
    if url:
        return BrokerSettings(url, "HOOKWIRE_BROKER_URL", timeout, _socket_options(timeout))
    if "broker" in table:
        url = table["broker"]
        if not isinstance(url, str) or not url:
            raise ConfigError(f"{table_source} broker must be a URL string", source=str(path))
        return BrokerSettings(url, f"{table_source} broker", timeout, _socket_options(timeout))
    folder = default_broker_folder(host_name)
    # The folder is created (0700) and checked by the transport when a channel opens, so that
    # a folder that cannot be written fails the send or the worker with one clear error.
    options = {"folder": str(folder), "polling_interval": 0.1}
    return BrokerSettings(EMBEDDED_URL, f"the embedded default ({folder})", timeout, options)


def check_broker(settings: BrokerSettings) -> None:
    """Fail early, with the folder and the cause, when the embedded broker cannot be used.

    :raises ~hookwire.remote._embedded.BrokerFolderError: its folder cannot be created or
        written. Other brokers are not checked here (Celery reports them itself).
    """
    if settings.url == EMBEDDED_URL:
        from ._embedded import prepare_folder

        prepare_folder(Path(settings.transport_options["folder"]))


def _socket_options(timeout: float) -> dict[str, Any]:
    # Bound every socket operation by the publish timeout, so a broker that accepts the
    # connection but never answers cannot hang a publishing thread for long. A failed
    # connection is not retried by kombu inside the publish but by the publish's own retry
    # policy, which stops at the send's deadline and records each cause.
    return {"socket_connect_timeout": timeout, "socket_timeout": timeout, "max_retries": 0}


def configure(app: Celery, settings: BrokerSettings | None) -> None:
    """Settings hookwire needs on any application it publishes through or runs."""
    if settings is not None:
        app.conf.broker_url = settings.url
        app.conf.broker_transport_options = dict(settings.transport_options)
        app.conf.broker_connection_timeout = settings.timeout
    app.conf.broker_connection_retry_on_startup = True


def _new_app(host_name: str, settings: BrokerSettings) -> Celery:
    from celery import Celery

    if settings.url == EMBEDDED_URL:
        from kombu.transport import TRANSPORT_ALIASES

        from ._embedded import TRANSPORT_NAME

        TRANSPORT_ALIASES[TRANSPORT_NAME] = "hookwire.remote._embedded:Transport"

    app = Celery(f"hookwire-{host_name}", set_as_current=False)
    configure(app, settings)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        task_default_queue=DEFAULT_QUEUE,
        worker_hijack_root_logger=False,
        # A receiver's print() goes to the worker's stdout as written, not through a logger.
        worker_redirect_stdouts=False,
        worker_prefetch_multiplier=1,
        # The embedded transport has no broadcast (fanout) support, and hookwire's workers need
        # no remote control to do their job.
        worker_enable_remote_control=settings.url != EMBEDDED_URL,
    )
    return app


_lock = threading.Lock()
_apps: dict[str, tuple[Any, BrokerSettings | None]] = {}
_hosts: list[weakref.ref[Host]] = []


def app_for(host: Host | None) -> tuple[Celery, float]:
    """The Celery application of ``host`` (built once per host name) and the publish bound."""
    name = "hookwire" if host is None else host.name
    own = None if host is None else getattr(host, "celery", None)
    key = f"{name}:{id(own)}" if own is not None else name
    with _lock:
        found: tuple[Any, BrokerSettings | None] | None = _apps.get(key)
    if found is None:
        if own is not None:
            configure(own, None)
            timeout = float(own.conf.broker_connection_timeout or DEFAULT_TIMEOUT)
            found = (own, BrokerSettings(str(own.conf.broker_url), "celery", timeout, {}))
        else:
            resolved = broker_settings(name)
            found = (_new_app(name, resolved), resolved)
        with _lock:
            found = _apps.setdefault(key, found)
    app, chosen = found
    return app, chosen.timeout if chosen is not None else DEFAULT_TIMEOUT


def remember_host(sender: object, **kwargs: object) -> None:
    """Receiver of ``plugins_ready``: the hosts of this process, newest last."""
    from .._host import Host

    if not isinstance(sender, Host):
        return
    with _lock:
        _hosts[:] = [ref for ref in _hosts if ref() is not None and ref() is not sender]
        _hosts.append(weakref.ref(sender))


def host_for_plugin(plugin: str | None) -> Host | None:
    """The host that loaded ``plugin`` (the newest one if several did), else the newest host."""
    with _lock:
        hosts = [host for host in (ref() for ref in reversed(_hosts)) if host is not None]
    if plugin is not None:
        for host in hosts:
            try:
                record = host.registry.get(plugin)
            except Exception:
                continue
            if record is not None:
                return host
    return hosts[0] if hosts else None
