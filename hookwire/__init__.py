"""hookwire: a plugin framework for Python applications.

A host declares :class:`Signal` objects (``django.dispatch`` semantics), plugins installed with
pip are discovered through entry points and connect receivers in a ``ready()`` phase, and the
``hookwire`` CLI runs the host and shows what listens.

Only the dispatcher is imported eagerly; the loader, the host and the CLI are imported on first
use so ``import hookwire`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._dispatch.observers import (
    ObservedSend,
    SendObserver,
    add_observer,
    observing,
    remove_observer,
)
from ._dispatch.signal import Signal, receiver

if TYPE_CHECKING:
    from . import exceptions
    from ._dispatch.introspection import ReceiverInfo
    from ._dispatch.spec import TypedSignal, signal_spec
    from ._host import Host, HostRunning
    from ._loading.plugin import Plugin
    from ._loading.registry import PluginRecord, PluginState, Registry

__version__ = "0.1.0"

__all__ = [
    "Host",
    "HostRunning",
    "ObservedSend",
    "Plugin",
    "PluginRecord",
    "PluginState",
    "ReceiverInfo",
    "Registry",
    "SendObserver",
    "Signal",
    "TypedSignal",
    "__version__",
    "add_observer",
    "exceptions",
    "observing",
    "receiver",
    "remove_observer",
    "signal_spec",
]

# Public name -> the private module that defines it, imported on first access.
_LAZY = {
    "Host": "._host",
    "HostRunning": "._host",
    "Plugin": "._loading.plugin",
    "PluginRecord": "._loading.registry",
    "PluginState": "._loading.registry",
    "ReceiverInfo": "._dispatch.introspection",
    "Registry": "._loading.registry",
    "TypedSignal": "._dispatch.spec",
    "signal_spec": "._dispatch.spec",
}


def __getattr__(name: str) -> Any:
    if name == "exceptions":
        return import_module(".exceptions", __name__)
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'hookwire' has no attribute {name!r}")
    value = getattr(import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
