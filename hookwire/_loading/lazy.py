"""Lazy plugins: imported at the first send of a host signal they declare, not at load.

A plugin declares, in its distribution's entry points, which of the host's signals it
listens to (group ``"<group>.listens"``, see
:func:`~hookwire._loading.records.declarations_group`)::

    [project.entry-points."pizzeria.plugins.listens"]
    "loyalty.pizza_done" = "pizzeria.signals:pizza_done"

Discovery reads those entries in the same pass (and cache) as the plugins. When every
declared signal is one of the host's, loading leaves the plugin ``DECLARED`` and files an
activation for each of those signals (:mod:`hookwire._dispatch.activation`); the first send
of any of them activates it — import, its ``requires`` (activated first when lazy too), its
signals module, ``ready()`` — through the loader's own phases, so a failure is rolled back
and reported exactly as at load.

**Once per process.** Activations run under one process-wide re-entrant lock, which the
loaders also hold for their phases (one lock: no order between two locks to get wrong). A
concurrent first send waits on it, then finds the plugin active and reaches its receivers.
An activation that sends a signal another lazy plugin declares activates that one in the
same thread; one that reaches a plugin already activating further up its own stack (its own
signal, or a cycle of two) skips it instead of waiting for itself.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._dispatch.activation import file_activations, withdraw_activation
from .names import normalize_name
from .records import parse_reference
from .registry import PluginRecord, PluginState

if TYPE_CHECKING:
    from .._dispatch.signal import Signal
    from .loader import Loader
    from .records import EntryPointRecord

__all__ = [
    "ACTIVATION_LOCK",
    "DECLARATION_LOGGER",
    "LazyPlugins",
    "attach_declarations",
    "declared_signal_name",
]

#: Held by every activation and every loader phase, in every host of the process.
ACTIVATION_LOCK = threading.RLock()

#: The logger of declarations that do not hold (and of declarations that cannot be used).
DECLARATION_LOGGER = "hookwire.loading"

# Records whose activation is running (only read and written under ACTIVATION_LOCK, so only
# the thread holding it sees entries: those are on its own stack).
_activating: set[PluginRecord] = set()


def declared_signal_name(value: str) -> str | None:
    """The qualified name (``"pizzeria.signals.pizza_done"``) a declaration's value
    (``"pizzeria.signals:pizza_done"``) names, or ``None`` when it names no module attribute."""
    parsed = parse_reference(value)
    if parsed is None or parsed[1] is None or "[" in value:
        return None
    return f"{parsed[0]}.{parsed[1]}"


def attach_declarations(
    records: Mapping[str, PluginRecord], declarations: Iterable[EntryPointRecord]
) -> list[str]:
    """Give each record the signal names its distribution declares for it (in
    :attr:`PluginRecord.listens`); return one line for each declaration that belongs to no
    plugin or names no signal (such a plugin gets nothing declared: it stays eager)."""
    by_origin: dict[tuple[str | None, str], PluginRecord] = {
        (record.dist_path, record.key): record for record in records.values()
    }
    listens: dict[PluginRecord, list[str]] = {}
    broken: set[PluginRecord] = set()
    problems: list[str] = []
    # Hundreds of plugins declare the same few signals: each value is parsed once.
    signal_names: dict[str, str | None] = {}
    for entry in declarations:
        # The usual case inline (a plugin name without dots, and a label without them
        # either), once for every declaration installed: see _owner() for the others.
        head, dot_found, tail = entry.name.partition(".")
        owner = by_origin.get((entry.dist_path, normalize_name(head))) if dot_found else None
        if owner is None or owner.distribution != entry.distribution or "." in tail:
            owner = _owner(entry, by_origin)
        if owner is None:
            problems.append(
                f"distribution {entry.distribution} {entry.version}: declaration "
                f"{entry.text!r} in [{entry.group}] names no plugin it offers (the name must "
                f"start with the plugin's name and a dot); ignored"
            )
            continue
        value = entry.value
        if value in signal_names:
            name = signal_names[value]
        else:
            name = signal_names[value] = declared_signal_name(value)
        if name is None:
            problems.append(
                f"plugin {owner.name} ({entry.distribution} {entry.version}): declaration "
                f"{entry.text!r} in [{entry.group}] does not name a signal as "
                f"'module:attribute'; the plugin loads eagerly"
            )
            broken.add(owner)
            continue
        declared = listens.setdefault(owner, [])
        if name not in declared:
            declared.append(name)
    for record, names in listens.items():
        if record not in broken:
            record.listens = tuple(names)
    return problems


def _owner(
    entry: EntryPointRecord, by_origin: Mapping[tuple[str | None, str], PluginRecord]
) -> PluginRecord | None:
    # "<plugin>.<label>": the longest prefix before a dot that is a plugin of the same
    # installation (plugin names may hold dots themselves). The usual case first: a plugin
    # name without dots, and a label without them either.
    name = entry.name
    head, dot_found, tail = name.partition(".")
    if dot_found and "." not in tail:
        record = by_origin.get((entry.dist_path, normalize_name(head)))
        if record is not None and record.distribution == entry.distribution:
            return record
    dot = name.rfind(".")
    while dot > 0:
        record = by_origin.get((entry.dist_path, normalize_name(name[:dot])))
        if record is not None and record.distribution == entry.distribution:
            return record
        dot = name.rfind(".", 0, dot)
    return None


class LazyPlugins:
    """The lazy plugins of one loader: which wait for which signal, and their activation.

    ``signals`` are the host's public signals by qualified name; a plugin declaring any
    other signal stays eager (nothing would ever activate it for that signal).
    """

    def __init__(self, loader: Loader, signals: Mapping[str, Signal]) -> None:
        self._loader = loader
        self._signals = dict(signals)
        self._waiting: dict[PluginRecord, list[Signal]] = {}

    def defer(self, records: Iterable[PluginRecord]) -> None:
        """Leave each of ``records`` that declares only host signals ``DECLARED``, with an
        activation filed for each of its declared signals; the others are left as they are
        (a plugin declaring a signal outside the host's gets a ``lazy_note`` saying so)."""
        signals = self._signals
        by_table: dict[Any, dict[object, Callable[[], None]]] = {}
        # Hundreds of plugins declare the same few signal sets: each set is resolved once,
        # to its signals and the waiting activations of their tables.
        resolved: dict[tuple[str, ...], tuple[list[Signal], list[dict[object, Any]]] | None] = {}
        for record in records:
            listens = record.listens
            if not listens:
                continue
            if listens in resolved:
                found = resolved[listens]
            else:
                found = resolved[listens] = self._resolve(listens, by_table)
            if found is None:
                outside = [name for name in listens if name not in signals]
                record.lazy_note = (
                    f"declares {', '.join(outside)}, which the host does not offer: loaded eagerly"
                )
                continue
            targets, hooks_of_tables = found
            record.lazy = True
            record.state = PluginState.DECLARED
            self._waiting[record] = targets
            activate = functools.partial(self.activate, record)
            for hooks in hooks_of_tables:
                hooks[record] = activate
        for table, hooks in by_table.items():
            file_activations(table, hooks)

    def _resolve(
        self, listens: tuple[str, ...], by_table: dict[Any, dict[object, Callable[[], None]]]
    ) -> tuple[list[Signal], list[dict[object, Any]]] | None:
        """The host signals named by ``listens`` and the activations to file for each of
        their tables (``None`` when one is not a host signal)."""
        targets = [self._signals[name] for name in listens if name in self._signals]
        if len(targets) != len(listens):
            return None
        return targets, [by_table.setdefault(signal._table, {}) for signal in targets]

    def undefer(self, record: PluginRecord) -> None:
        """Make a ``DECLARED`` record an ordinary one to import now (an eager plugin requires
        it); it stays marked lazy."""
        self._withdraw(record)
        record.state = PluginState.DISCOVERED

    @property
    def signals(self) -> list[Signal]:
        """The host's public signals."""
        return list(self._signals.values())

    def activate(self, record: PluginRecord) -> None:
        """Activate ``record`` if it is still ``DECLARED`` and not activating in this thread.

        :raises LoadError: ``strict`` is on and the activation failed (after its rollback).
        """
        with ACTIVATION_LOCK:
            if record.state is not PluginState.DECLARED or record in _activating:
                return
            _activating.add(record)
            try:
                self._loader._activate_one(record, self.activate_required)
            finally:
                _activating.discard(record)
                # Interrupted (KeyboardInterrupt), it is DECLARED again and stays filed.
                if _state(record) is not PluginState.DECLARED:
                    self._withdraw(record)
            if _state(record) is PluginState.READY:
                check_declarations(record, self._signals.values())
        if _state(record) is PluginState.FAILED and self._loader.config.strict:
            from ..exceptions import LoadError

            assert record.exception is not None
            raise LoadError([record.exception])

    def activate_required(self, record: PluginRecord) -> None:
        """Activate the lazy plugins ``record`` requires (before its own ready phase)."""
        records = self._loader._records
        for required in record.requires:
            dependency = records.get(normalize_name(required))
            if dependency is not None and dependency.state is PluginState.DECLARED:
                self.activate(dependency)

    def withdraw_all(self) -> None:
        """Forget every waiting activation (the host unloads)."""
        # By table: one replacement of each table's waiting activations, however many
        # plugins declared its signal.
        by_table: dict[Any, list[PluginRecord]] = {}
        for record, signals in self._waiting.items():
            for signal in signals:
                by_table.setdefault(signal._table, []).append(record)
        self._waiting.clear()
        for table, records in by_table.items():
            withdraw_activation(table, *records)

    def _withdraw(self, record: PluginRecord) -> None:
        for signal in self._waiting.pop(record, ()):
            withdraw_activation(signal._table, record)


def _state(record: PluginRecord) -> PluginState:
    # Read afresh: the activation just changed it (a type checker would keep the narrowing).
    return record.state


def check_declarations(record: PluginRecord, host_signals: Iterable[Signal]) -> list[str]:
    """Compare what ``record`` connected with what it declared: one warning (logged on
    ``hookwire.loading`` and kept in :attr:`PluginRecord.drift`) for each undeclared host
    signal it connected and each declared signal it never connected."""
    declared = set(record.listens)
    # The registrations themselves, never described: describing imports dataclasses and
    # inspect, which cost a lazy start more than its activations (bench_startup.py).
    connected = set()
    for signal in host_signals:
        registrations, pending = signal._table.registrations_of(record.name)
        if registrations or pending:
            connected.add(signal.qualified_name)
    drift = [
        f"plugin {record.name} ({record.distribution}): connected a receiver to "
        f"{name}, which it does not declare in its listens entry points"
        for name in sorted(connected - declared)
    ]
    drift += [
        f"plugin {record.name} ({record.distribution}): declares {name} but connected "
        f"no receiver to it"
        for name in sorted(declared - connected)
    ]
    record.drift = tuple(drift)
    if drift:
        import logging

        logger = logging.getLogger(DECLARATION_LOGGER)
        for line in drift:
            logger.warning("%s", line, extra={"plugin": record.name})
    return drift
