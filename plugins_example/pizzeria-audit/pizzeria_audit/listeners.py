"""Receivers of hookwire's lifecycle signals; hookwire imports this module in the ready phase."""

from __future__ import annotations

from typing import Any

from hookwire import receiver
from hookwire.signals import (
    host_started,
    host_stopping,
    plugin_failed,
    plugin_loaded,
    plugins_ready,
    setting_changed,
)

from . import record

__all__ = [
    "on_host_started",
    "on_host_stopping",
    "on_plugin_failed",
    "on_plugin_loaded",
    "on_plugins_ready",
    "on_setting_changed",
]


def _host_label(host: Any) -> str:
    name = getattr(host, "name", None) or type(host).__name__
    version = getattr(host, "version", None)
    return f"{name} {version}" if version else str(name)


@receiver(plugin_loaded)
def on_plugin_loaded(sender: Any, plugin: Any, **kwargs: Any) -> None:
    """A plugin passed its ready phase (those loaded before this one are not heard)."""
    record(f"plugin loaded: {plugin.name} ({plugin.distribution} {plugin.version})")


@receiver(plugin_failed)
def on_plugin_failed(sender: Any, plugin: Any, error: BaseException, **kwargs: Any) -> None:
    """A plugin failed; ``error`` is one line naming it and the cause."""
    record(f"plugin failed: {plugin.name}: {error}")


@receiver(plugins_ready)
def on_plugins_ready(sender: Any, registry: Any, **kwargs: Any) -> None:
    """Every plugin was tried: list those that are ready."""
    ready = [record_.name for record_ in registry if str(record_.state.value) == "ready"]
    record(f"plugins ready: {', '.join(ready) or 'none'}")


@receiver(host_started)
def on_host_started(sender: Any, **kwargs: Any) -> None:
    """The host is about to call its main."""
    record(f"host started: {_host_label(sender)}")


@receiver(host_stopping)
def on_host_stopping(sender: Any, exc: BaseException | None = None, **kwargs: Any) -> None:
    """The host is stopping, normally or because of ``exc``."""
    reason = "normally" if exc is None else f"because of {type(exc).__name__}"
    record(f"host stopping {reason}: {_host_label(sender)}")


@receiver(setting_changed)
def on_setting_changed(sender: Any, setting: str, value: Any, **kwargs: Any) -> None:
    """A host setting changed."""
    record(f"setting changed: {setting} = {value!r}")
