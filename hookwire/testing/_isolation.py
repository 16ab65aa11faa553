"""Putting hookwire's global state back the way a test found it.

A test that loads plugins or connects receivers changes process-wide state: the receivers of
every signal, the module → plugin attribution table, and ``sys.modules`` (plugin modules and
their signals modules, which must be imported afresh by the next test for their ``@receiver``
decorators to run again). :class:`HookwireState` takes a snapshot of all of it and
:meth:`HookwireState.restore` puts it back.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING

from .._dispatch.attribution import is_within

if TYPE_CHECKING:
    from .._dispatch.signal import Signal
    from .._host import Host

__all__ = ["HookwireState", "isolated"]


def _module_level_hosts() -> list[Host]:
    """Every :class:`~hookwire.Host` held by a module global (where hosts live)."""
    host_module = sys.modules.get("hookwire._host")
    if host_module is None:
        return []  # no Host can exist yet
    host_class: type[Host] = host_module.Host
    found: dict[int, Host] = {}
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        # type(), not isinstance(): a lazy proxy's __class__ property could run code.
        for value in list(namespace.values()):
            if issubclass(type(value), host_class):
                found[id(value)] = value
    return list(found.values())


def _current_tracer() -> object:
    tracing = sys.modules.get("hookwire._dispatch.tracing")
    return None if tracing is None else tracing.current_tracer()


class HookwireState:
    """A snapshot of hookwire's process-wide state, taken when the object is created.

    :meth:`restore` gives every signal that existed at the snapshot its receivers back (so
    receivers connected since are disconnected and ones disconnected since come back), restores
    the module → plugin attribution table, and removes from ``sys.modules`` the modules that
    appeared since the snapshot and belong to a plugin loaded since (by the attribution table),
    or to a name passed to :meth:`forget_module`. Signals created after the snapshot are left
    as they are unless their module is no longer imported by then: those lose their receivers.

    Hosts held in module globals (``pizzeria.app.host``, hookwire's default host) are put
    back to their loaded or not-yet-loaded state, so a test's ``host.load()`` does not leave
    the next test a host that believes its plugins are loaded. A send tracer installed during
    the test is removed, and lazy plugins' activations filed during the test no longer wait
    for their signals.
    """

    def __init__(self) -> None:
        from .._dispatch import attribution as _attribution
        from .._dispatch.signal import all_signals

        # Weak references: the snapshot must not keep alive a signal the test lets go of (a
        # signal that dies has no receivers left to restore).
        self._signals: list[tuple[weakref.ref[Signal], object]] = [
            (weakref.ref(signal), signal._snapshot_state()) for signal in all_signals()
        ]
        self._claims = _attribution._snapshot_claims()
        self._modules = frozenset(sys.modules)
        self._hosts = [(host, host._snapshot_state()) for host in _module_level_hosts()]
        self._tracer = _current_tracer()
        from .._dispatch.activation import snapshot_waiting

        self._waiting = snapshot_waiting()
        self._forget: set[str] = set()
        self._keep: set[str] = set()
        self._restored = False

    def keep_module(self, name: str) -> None:
        """Never unload the package that holds module ``name`` for being a plugin's.

        For plugin classes defined in a test module: the loader then records the test's own
        package as the plugin's, and its other modules must not be unloaded with it.
        """
        self._keep.add(name)

    def forget_module(self, name: str) -> None:
        """Remove module ``name`` and its submodules from ``sys.modules`` at :meth:`restore`.

        Only modules that were not imported when the snapshot was taken are removed.
        """
        self._forget.add(name)

    def restore(self) -> None:
        """Put the snapshot back. Restoring a second time does nothing."""
        if self._restored:
            return
        self._restored = True
        from .._dispatch import attribution as _attribution
        from .._dispatch.signal import Signal, all_signals

        restored = set()
        for signal_ref, state in self._signals:
            signal = signal_ref()
            if signal is not None:
                signal._restore_state(state)
                restored.add(id(signal))
        claims_now = _attribution._snapshot_claims()
        newly_claimed = {
            module
            for module, plugin in claims_now.items()
            if self._claims.get(module) != plugin
            and not any(is_within(kept, {module}) for kept in self._keep)
        }
        _attribution._restore_claims(self._claims)
        for host, host_state in self._hosts:
            host._restore_state(host_state)
        self._restore_tracer()
        from .._dispatch.activation import restore_waiting

        restore_waiting(self._waiting)
        self._unload(self._forget | newly_claimed)
        # A signal created during the test whose module is gone is an orphan: importing the
        # module again makes a new one. Until the collector finds it, it must not keep the
        # receivers (and plugin attributions) the test gave it.
        empty = None
        for signal in all_signals():
            if id(signal) in restored or not signal.module or signal.module in sys.modules:
                continue
            if empty is None:
                empty = Signal()._snapshot_state()
            signal._restore_state(empty)
        self._signals.clear()
        self._hosts.clear()

    def _restore_tracer(self) -> None:
        if _current_tracer() is self._tracer:
            return
        from .._dispatch import tracing

        if self._tracer is None:
            tracing.remove_tracer()
        else:
            tracing.install_tracer(self._tracer)  # type: ignore[arg-type]

    def _unload(self, roots: set[str]) -> None:
        if not roots:
            return
        for module in list(sys.modules):
            if module not in self._modules and is_within(module, roots):
                sys.modules.pop(module, None)

    def __enter__(self) -> HookwireState:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.restore()


@contextmanager
def isolated() -> Iterator[HookwireState]:
    """Snapshot hookwire's state on entry and restore it on exit (also on errors)."""
    state = HookwireState()
    try:
        yield state
    finally:
        state.restore()
