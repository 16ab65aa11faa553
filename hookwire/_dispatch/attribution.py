"""Which plugin a receiver belongs to.

The loader opens a :class:`PluginScope` around each plugin's import and ready phases; every
``Signal.connect`` made inside it (on any thread that inherited the context) is recorded on the
scope. That gives the loader two things: attribution for introspection, and the exact list of
registrations to undo when the plugin fails ("a failed plugin leaves nothing behind").

Plugins the host imported *before* loading ran connected their receivers outside any scope. For
those, the loader registers the plugin's top-level module names here, and introspection falls
back to :func:`plugin_for_module` on the receiver's ``__module__``.

This module must stay import-light: it is imported by the dispatcher.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .table import ReceiverTable

__all__ = [
    "PluginScope",
    "current_plugin",
    "current_scope",
    "forget_module_owner",
    "forget_owner",
    "module_owner",
    "plugin_for_module",
    "plugin_scope",
    "register_module_owner",
]


class PluginScope:
    """The registrations one plugin made during one phase run.

    ``connections`` holds ``(weakref to a signal's table, lookup key)`` pairs in connect
    order; the table is held weakly so a scope never keeps a signal alive. Registrations made
    in the scope record the scope itself as their owner, so undoing the scope removes exactly
    those: never a registration another plugin (or the host) made under the same key, nor one
    of another plugin that happens to have the same name. ``owner`` is what the loader says
    the scope belongs to (its plugin record), or ``None``.

    ``foreign`` holds the undo functions of connections made in the scope to another
    dispatcher's signals (Django's, by :mod:`hookwire.django`): each removes exactly one
    registration and returns whether it did.
    """

    __slots__ = ("connections", "foreign", "owner", "phase", "plugin")

    def __init__(self, plugin: str, phase: str | None = None, owner: object = None) -> None:
        self.plugin = plugin
        self.phase = phase
        self.owner = owner
        self.connections: list[tuple[weakref.ref[ReceiverTable], Hashable]] = []
        self.foreign: list[Callable[[], bool]] = []

    def record(self, table: ReceiverTable, lookup_key: Hashable) -> None:
        """Remember that ``table`` gained the registration ``lookup_key`` in this scope."""
        self.connections.append((weakref.ref(table), lookup_key))

    def record_foreign(self, undo: Callable[[], bool]) -> None:
        """Remember a connection to another dispatcher's signal; ``undo()`` removes it."""
        self.foreign.append(undo)

    def undo(self) -> int:
        """Disconnect every registration recorded here; return how many were removed."""
        removed = 0
        for table_ref, lookup_key in reversed(self.connections):
            table = table_ref()
            if table is not None and table.remove(lookup_key, owner=self):
                removed += 1
        self.connections.clear()
        for undo_foreign in reversed(self.foreign):
            if undo_foreign():
                removed += 1
        self.foreign.clear()
        return removed

    def __repr__(self) -> str:
        count = len(self.connections)
        return f"<PluginScope {self.plugin!r} phase={self.phase!r} connections={count}>"


_current_scope: ContextVar[PluginScope | None] = ContextVar("hookwire_plugin_scope", default=None)

#: The scope of the plugin being imported or made ready in this context, if any. (The
#: context variable's own ``get``: every ``connect`` asks, so no Python frame in between.)
current_scope: Callable[[], PluginScope | None] = _current_scope.get


def current_plugin() -> str | None:
    """The name of the plugin being imported or made ready in this context, if any."""
    scope = _current_scope.get()
    return None if scope is None else scope.plugin


@contextmanager
def plugin_scope(
    plugin: str, phase: str | None = None, *, owner: object = None
) -> Iterator[PluginScope]:
    """Attribute every connect made inside the block to ``plugin`` (whose record, for the
    loader, is ``owner``)."""
    scope = PluginScope(plugin, phase, owner)
    token = _current_scope.set(scope)
    try:
        yield scope
    finally:
        _current_scope.reset(token)


# Module name -> owner (a plugin name, or the loader's plugin record), for receivers
# connected outside any scope.
_module_owners: dict[str, Any] = {}
_owners_lock = threading.Lock()


def register_module_owner(module: str, owner: Any) -> None:
    """Attribute receivers defined in ``module`` (and its submodules) to ``owner``: a plugin
    name, or an object whose ``name`` is the plugin's (the loader passes its record)."""
    with _owners_lock:
        _module_owners[module] = owner


def forget_module_owner(module: str) -> None:
    """Undo :func:`register_module_owner` (used by test isolation)."""
    with _owners_lock:
        _module_owners.pop(module, None)


def forget_owner(owner: object) -> list[str]:
    """Forget every module registered to ``owner`` (matched by identity); return their names
    (used by :meth:`hookwire.Host.unload`)."""
    with _owners_lock:
        modules = [module for module, known in _module_owners.items() if known is owner]
        for module in modules:
            del _module_owners[module]
    return modules


def module_owner(module: str | None) -> Any:
    """The owner registered for ``module`` or its nearest registered parent package."""
    if not module:
        return None
    owners = _module_owners
    name = module
    while True:
        owner = owners.get(name)
        if owner is not None:
            return owner
        dot = name.rfind(".")
        if dot < 0:
            return None
        name = name[:dot]


def plugin_for_module(module: str | None) -> str | None:
    """The name of the plugin that owns ``module`` or its nearest registered parent package."""
    owner = module_owner(module)
    if owner is None or isinstance(owner, str):
        return owner
    name = getattr(owner, "name", None)
    return name if isinstance(name, str) else None


def _snapshot_owners() -> dict[str, Any]:
    """A copy of the module-owner table (for test isolation)."""
    with _owners_lock:
        return dict(_module_owners)


def _restore_owners(snapshot: dict[str, str]) -> None:
    with _owners_lock:
        _module_owners.clear()
        _module_owners.update(snapshot)
