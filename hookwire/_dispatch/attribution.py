"""Which plugin a receiver belongs to.

The loader opens a :class:`PluginScope` around each plugin's import and ready phases; every
``Signal.connect`` made inside it (on any thread that inherited the context) is recorded on the
scope. That gives the loader two things: attribution for introspection, and the exact list of
registrations to undo when the plugin fails ("a failed plugin leaves nothing behind").

Plugins the host imported *before* loading ran connected their receivers outside any scope. For
those, the loader claims the plugin's own modules here (:func:`claim_module`): the module its
entry point names, and the module defining its ``Plugin`` class when that is another one; a
claim covers the module's submodules too, never its parent package. Introspection then falls
back to :func:`plugin_for_module` on the receiver's ``__module__``.

This module must stay import-light: it is imported by the dispatcher.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable, Iterable
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .table import ReceiverTable

__all__ = [
    "PluginScope",
    "claim_module",
    "current_plugin",
    "current_scope",
    "forget_claimants",
    "is_within",
    "module_claimant",
    "plugin_for_module",
    "plugin_scope",
]


def is_within(module: str, roots: set[str]) -> bool:
    """Whether the module named ``module`` is one of ``roots`` or a submodule of one: the name
    and each of its parent packages looked up in ``roots``, so a module costs its depth, not
    the roots (asked for every imported module when hundreds of plugins are unloaded)."""
    if module in roots:
        return True
    dot = module.find(".")
    while dot >= 0:
        if module[:dot] in roots:
            return True
        dot = module.find(".", dot + 1)
    return False


class PluginScope:
    """The registrations one plugin made during one phase run, and the block that attributes
    them: entering the scope makes it the current one (in this context), leaving restores the
    previous one. A scope is entered once at a time.

    ``connections`` holds ``(weakref to a signal's table, lookup key)`` pairs in connect
    order; the table is held weakly so a scope never keeps a signal alive. Registrations made
    in the scope record the scope itself, so undoing the scope removes exactly
    those: never a registration another plugin (or the host) made under the same key, nor one
    of another plugin that happens to have the same name.

    ``foreign`` holds the undo functions of connections made in the scope to another
    dispatcher's signals (Django's, by :mod:`hookwire.django`): each removes exactly one
    registration and returns whether it did. Empty (a shared empty tuple) until the first one.
    """

    # The loader makes two scopes a plugin and keeps them: the scope is its own block (no
    # separate context manager object), and ``foreign``, rarely used, is made on first use.
    __slots__ = ("_token", "connections", "foreign", "phase", "plugin")

    def __init__(self, plugin: str, phase: str | None = None) -> None:
        self.plugin = plugin
        self.phase = phase
        self.connections: list[tuple[weakref.ref[ReceiverTable], Hashable]] = []
        self.foreign: list[Callable[[], bool]] | tuple[()] = ()
        self._token: Token[PluginScope | None] | None = None

    def __enter__(self) -> PluginScope:
        self._token = _current_scope.set(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        token = self._token
        assert token is not None, "a PluginScope left without being entered"
        self._token = None  # the previous scope is not kept alive by a finished one
        _current_scope.reset(token)

    def record(self, table: ReceiverTable, lookup_key: Hashable) -> None:
        """Remember that ``table`` gained the registration ``lookup_key`` in this scope."""
        self.connections.append((weakref.ref(table), lookup_key))

    def record_foreign(self, undo: Callable[[], bool]) -> None:
        """Remember a connection to another dispatcher's signal; ``undo()`` removes it."""
        with _foreign_lock:  # the list is made once, whichever thread connects first
            foreign = self.foreign
            if isinstance(foreign, list):
                foreign.append(undo)
            else:
                self.foreign = [undo]

    def undo(self) -> int:
        """Disconnect every registration recorded here; return how many were removed."""
        removed = 0
        for table_ref, lookup_key in reversed(self.connections):
            table = table_ref()
            if table is not None and table.remove(lookup_key, scope=self):
                removed += 1
        self.connections.clear()
        foreign = self.foreign
        for undo_foreign in reversed(foreign):
            if undo_foreign():
                removed += 1
        if isinstance(foreign, list):
            foreign.clear()
        return removed

    def __repr__(self) -> str:
        count = len(self.connections)
        return f"<PluginScope {self.plugin!r} phase={self.phase!r} connections={count}>"


_foreign_lock = threading.Lock()

_current_scope: ContextVar[PluginScope | None] = ContextVar("hookwire_plugin_scope", default=None)

#: The scope of the plugin being imported or made ready in this context, if any. (The
#: context variable's own ``get``: every ``connect`` asks, so no Python frame in between.)
current_scope: Callable[[], PluginScope | None] = _current_scope.get


def current_plugin() -> str | None:
    """The name of the plugin being imported or made ready in this context, if any."""
    scope = _current_scope.get()
    return None if scope is None else scope.plugin


def plugin_scope(plugin: str, phase: str | None = None) -> PluginScope:
    """Attribute every connect made inside the block to ``plugin``: a new
    :class:`PluginScope`, entered by ``with``."""
    return PluginScope(plugin, phase)


# Module name -> claimant (a plugin name, or the loader's plugin record), for receivers
# connected outside any scope.
_claims: dict[str, Any] = {}
_claims_lock = threading.Lock()


def claim_module(module: str, claimant: Any) -> None:
    """Attribute receivers defined in ``module`` (and its submodules) to ``claimant``: a plugin
    name, or an object whose ``name`` is the plugin's (the loader passes its record)."""
    with _claims_lock:
        _claims[module] = claimant


def forget_claimants(claimants: Iterable[object]) -> list[str]:
    """Forget every module one of ``claimants`` claimed (matched by identity); return their
    names (used by :meth:`hookwire.Host.unload`). One pass over the claims for them all: one
    pass per plugin made unloading quadratic in the plugins."""
    # Identities of objects alive for the whole call: no other claimant can share one.
    wanted = {id(claimant) for claimant in claimants}
    with _claims_lock:
        modules = [module for module, known in _claims.items() if id(known) in wanted]
        for module in modules:
            del _claims[module]
    return modules


def module_claimant(module: str | None) -> Any:
    """Who claimed ``module`` or its nearest claimed parent package, or ``None``."""
    if not module:
        return None
    claims = _claims
    name = module
    while True:
        claimant = claims.get(name)
        if claimant is not None:
            return claimant
        dot = name.rfind(".")
        if dot < 0:
            return None
        name = name[:dot]


def plugin_for_module(module: str | None) -> str | None:
    """The name of the plugin that claimed ``module`` or its nearest claimed parent package."""
    claimant = module_claimant(module)
    if claimant is None or isinstance(claimant, str):
        return claimant
    name = getattr(claimant, "name", None)
    return name if isinstance(name, str) else None


def _snapshot_claims() -> dict[str, Any]:
    """A copy of the module claims (for test isolation)."""
    with _claims_lock:
        return dict(_claims)


def _restore_claims(snapshot: dict[str, Any]) -> None:
    with _claims_lock:
        _claims.clear()
        _claims.update(snapshot)
