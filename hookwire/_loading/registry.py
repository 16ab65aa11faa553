"""What was loaded: one :class:`PluginRecord` per discovered plugin, kept in a :class:`Registry`.

The loader is the only writer, through what this module offers it: :func:`publish` replaces a
registry's table wholesale under the loader's lock, so readers (the CLI, ``plugins_ready``
receivers, other threads) never see a half-built table; a record's connections and failure are
written by the record's own methods.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .._dispatch.attribution import PluginScope
from .names import normalize_name

if TYPE_CHECKING:
    from .._dispatch.introspection import ReceiverInfo
    from ..exceptions import PluginError
    from .plugin import Plugin
    from .records import EntryPointRecord

__all__ = ["PluginRecord", "PluginState", "Registry", "normalize_name", "publish"]


class PluginState(enum.StrEnum):
    """Where a plugin stands. Values are lower-case strings, as shown in JSON output."""

    DISCOVERED = "discovered"  #: found through its entry point, not imported yet
    #: a lazy plugin waiting for the first send of a signal it declares; not imported yet
    DECLARED = "declared"
    IMPORTED = "imported"  #: its module / class was imported, ``ready()`` not run yet
    READY = "ready"  #: signals module imported and ``ready()`` returned
    FAILED = "failed"  #: some phase failed; ``error`` says why; nothing of it is connected
    DISABLED = "disabled"  #: excluded by configuration; never imported


class PluginRecord:
    """Everything known about one plugin, for introspection and troubleshooting.

    ``name`` is the entry point name as its distribution spells it; ``entry_point`` is the
    entry point text (``"name = value"``); ``module_file`` is the imported module's file (set by
    the import phase). ``error`` is a one-line cause when ``state`` is ``FAILED`` (``exception``
    holds the :class:`~hookwire.exceptions.PluginError`), ``phase`` the last phase that ran,
    ``reason`` why a ``DISABLED`` plugin is disabled, ``dist_path`` its metadata folder,
    ``shadowed`` the entry points of the same name that other installations offer and that
    lost to this one (first on the search path wins), ``traceback`` the formatted traceback
    of the exception that made it fail. ``listens`` holds the qualified names of the signals
    its distribution declares it listens to, ``lazy`` whether loading deferred it to the first
    send of one of them (``lazy_note`` says why a plugin with declarations was not deferred),
    ``drift`` the warnings about declarations its activation did not keep. Metadata strings
    are kept exactly as installed (possibly hostile: escape before display). Records compare
    by identity.
    """

    # A plain class, not a dataclass: dataclasses imports inspect, about 7 ms of every
    # command's start ("hookwire Host(...).load(), cached" in benchmarks/bench_discovery.py).

    def __init__(
        self,
        name: str,
        distribution: str | None = None,
        version: str | None = None,
        entry_point: str = "",
        module_file: str | None = None,
        state: PluginState = PluginState.DISCOVERED,
        error: str | None = None,
        phase: str | None = None,
        requires: tuple[str, ...] = (),
        plugin: Plugin | None = None,
        exception: PluginError | None = None,
        dist_path: str | None = None,
        reason: str | None = None,
        shadowed: tuple[EntryPointRecord, ...] = (),
        traceback: str | None = None,
    ) -> None:
        self.name = name
        self.distribution = distribution
        self.version = version
        self.entry_point = entry_point
        self.module_file = module_file
        self.state = state
        self.error = error
        self.phase = phase
        self.requires = requires
        self.plugin = plugin
        self.exception = exception
        self.dist_path = dist_path
        self.reason = reason
        self.shadowed = shadowed
        self.traceback = traceback
        # Set by mark_failed(), read through failure_cause / unmet_requirement_end.
        self._failure_cause: str | None = None
        self._unmet_requirement_end: str | None = None
        self.listens: tuple[str, ...] = ()
        self.lazy = False
        self.lazy_note: str | None = None
        self.drift: tuple[str, ...] = ()
        # The connections each loading step made (by step: "import", "signals", "ready"), so a
        # failure or a repeated ready() can undo them.
        self._scopes: dict[str, PluginScope] = {}

    def __repr__(self) -> str:
        shown = (
            "name",
            "distribution",
            "version",
            "entry_point",
            "module_file",
            "state",
            "error",
            "phase",
            "requires",
            "plugin",
            "exception",
            "dist_path",
            "reason",
            "shadowed",
            "listens",
            "lazy",
        )
        fields = ", ".join(f"{field}={getattr(self, field)!r}" for field in shown)
        return f"PluginRecord({fields})"

    @property
    def activation(self) -> str | None:
        """A lazy plugin's state as listings show it: ``"declared"`` (not imported yet),
        ``"active"`` or ``"failed"``; ``None`` for a plugin loaded eagerly."""
        if not self.lazy:
            return None
        if self.state is PluginState.DECLARED:
            return "declared"
        return "failed" if self.state is PluginState.FAILED else "active"

    @property
    def key(self) -> str:
        """The normalised name, used for lookups, ``requires`` and allow/deny lists."""
        return normalize_name(self.name)

    def receivers(self) -> list[ReceiverInfo]:
        """Every live receiver this plugin connected: signals sorted by qualified name, each
        signal's receivers in call order."""
        return [info for _, info in self.receivers_by_signal()]

    def receivers_by_signal(self) -> list[tuple[str, ReceiverInfo]]:
        """:meth:`receivers`, each with the qualified name of its signal. Costs this plugin's
        receivers: only the signals its loading steps connected to (as their scopes
        recorded) and those that ever had a receiver connected outside any plugin scope
        (where receivers of its modules connected outside loading can be) are asked, each
        for this plugin's receivers alone (``plugins list`` asks once per plugin)."""
        from .._dispatch.foreign import foreign_signals
        from .._dispatch.signal import Signal
        from .._dispatch.table import unscoped_tables

        tables = set(unscoped_tables())
        for scope in self._scopes.values():
            for table_ref, _ in scope.connections:
                table = table_ref()
                if table is not None:
                    tables.add(table)
        signals = [signal for table in tables if isinstance(signal := table.owner(), Signal)]
        found: list[tuple[str, ReceiverInfo]] = []
        for signal in sorted(signals, key=lambda signal: str(signal.qualified_name)):
            name = str(signal.qualified_name)
            found.extend((name, info) for info in signal.describe_receivers(plugin=self.name))
        # Then what it connected to another dispatcher's signals (Django's, in a project
        # using hookwire.django without making hookwire its dispatcher).
        for other in foreign_signals():
            name = other.qualified_name
            found.extend((name, info) for info in other.describe_receivers(plugin=self.name))
        return found

    # -- what the loader writes, through these methods only ------------------------------

    def connecting(self, step: str) -> PluginScope:
        """Attribute every connect made inside the block to this plugin, and keep those
        connections as the ones of ``step`` (``"import"``, ``"signals"`` for the signals
        module, ``"ready"``) until :meth:`undo` or :meth:`undo_all` removes them.

        The step's scope itself, kept as the step's at once: enter it at once, with
        ``with``."""
        # One object a step, the scope, which is its own block: the loader opens two a plugin.
        scope = self._scopes[step] = PluginScope(self.name, _STEP_PHASES[step])
        return scope

    def undo(self, step: str) -> None:
        """Disconnect what ``step`` connected (nothing when it has not run)."""
        scope = self._scopes.pop(step, None)
        if scope is not None:
            scope.undo()

    def undo_all(self) -> None:
        """Disconnect what every step connected, newest first."""
        for scope in reversed(list(self._scopes.values())):
            scope.undo()
        self._scopes.clear()

    @property
    def signals_imported(self) -> bool:
        """Whether the signals module was imported and what it connected is still kept (it is
        imported once; ``ready()`` run again does not import it again)."""
        return "signals" in self._scopes

    def mark_failed(
        self,
        phase: str,
        error: PluginError,
        failure_cause: str,
        unmet_requirement_end: str | None = None,
    ) -> None:
        """Record that the plugin failed in ``phase`` with ``error``, whose message is
        ``failure_cause`` behind the ``"plugin x (dist), phase:"`` prefix; for a plugin failing for
        want of its requirements, ``unmet_requirement_end`` is the end of the chain message
        (``", which is not installed"``), which the chains of plugins requiring this one end
        with too."""
        self.phase = phase
        self.error = error.message
        self.exception = error
        self._failure_cause = failure_cause
        self._unmet_requirement_end = unmet_requirement_end
        # The state last: a reader on another thread never sees FAILED without its error.
        self.state = PluginState.FAILED

    @property
    def failure_cause(self) -> str | None:
        """Why the plugin failed, without the ``"plugin x (dist), phase:"`` prefix of
        :attr:`error`; ``None`` unless it failed."""
        return self._failure_cause

    @property
    def unmet_requirement_end(self) -> str | None:
        """For a plugin that failed for want of its requirements, the end of the chain message
        after the names (``", which is not installed"``); otherwise ``None``."""
        return self._unmet_requirement_end

    # -- output ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape of ``hookwire plugins list --json`` (see
        ``docs/reference/json.md``), plus ``module_file``, ``phase``, ``dist_path``, ``reason``
        and ``shadowed`` (``[{distribution, version, path}]``, the same name offered by other
        installations that lost to this one) for traceability, and for lazy plugins ``lazy``,
        ``activation`` (``"declared"``, ``"active"``, ``"failed"``, ``None`` when eager),
        ``listens`` (the declared signals) and ``drift`` (declarations that did not hold)."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "entry_point": self.entry_point,
            "state": self.state.value,
            "error": self.error,
            "receivers": len(self.receivers()),
            "requires": list(self.requires),
            "module_file": self.module_file,
            "phase": self.phase,
            "dist_path": self.dist_path,
            "reason": self.reason,
            "shadowed": [
                {
                    "distribution": entry.distribution,
                    "version": entry.version,
                    "path": entry.dist_path,
                }
                for entry in self.shadowed
            ],
            "lazy": self.lazy,
            "activation": self.activation,
            "listens": list(self.listens),
            "drift": list(self.drift),
        }


# The phase each loading step's connections are attributed to.
_STEP_PHASES = {"import": "import", "signals": "ready", "ready": "ready"}


class Registry:
    """The plugins of one loader, in load order, looked up by any spelling of their name.

    Iteration order is the order plugins were made ready (dependencies first), followed by
    those that never got there, in discovery order. ``problems`` holds discovery problems that
    belong to no single record (malformed metadata, duplicate names).
    """

    def __init__(self) -> None:
        self._records: dict[str, PluginRecord] = {}
        self._problems: tuple[PluginError, ...] = ()
        self._blocking: tuple[PluginError, ...] = ()

    def __iter__(self) -> Iterator[PluginRecord]:
        return iter(tuple(self._records.values()))

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalize_name(name) in self._records

    def __getitem__(self, name: str) -> PluginRecord:
        """The record of ``name`` (any spelling).

        :raises KeyError: no such plugin; the message lists the known names.
        """
        try:
            return self._records[normalize_name(name)]
        except KeyError:
            known = ", ".join(sorted(self._records)) or "none"
            raise KeyError(f"no plugin named {name!r} (known: {known})") from None

    def get(self, name: str) -> PluginRecord | None:
        """The record of ``name`` (any spelling), or ``None``."""
        return self._records.get(normalize_name(name))

    def by_state(self, state: PluginState | str) -> list[PluginRecord]:
        """The records in ``state`` (a :class:`PluginState` or its value), in load order."""
        wanted = PluginState(state)
        return [record for record in self if record.state is wanted]

    @property
    def problems(self) -> tuple[PluginError, ...]:
        """Discovery problems: unreadable or malformed metadata, names offered twice, allow-
        and deny-list names that no installed distribution offers."""
        return self._problems

    @property
    def blocking_problems(self) -> tuple[PluginError, ...]:
        """The :attr:`problems` that fail a strict load and ``hookwire plugins check``: those
        about a plugin that would be loaded (or that a broken entry might hide), and every
        allow- or deny-list name that nothing offers. A name offered twice whose plugin is not
        selected (disabled, not in the allow-list, autoload off) is only reported."""
        return self._blocking

    def to_json(self, *, include_disabled: bool = False) -> list[dict[str, Any]]:
        """One :meth:`PluginRecord.to_json` per plugin; disabled ones only when asked."""
        return [
            record.to_json()
            for record in self
            if include_disabled or record.state is not PluginState.DISABLED
        ]

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for record in self:
            counts[record.state.value] = counts.get(record.state.value, 0) + 1
        summary = ", ".join(f"{count} {state}" for state, count in counts.items()) or "empty"
        return f"<Registry {summary}>"


def publish(
    registry: Registry,
    records: dict[str, PluginRecord],
    problems: tuple[PluginError, ...] | None = None,
    blocking: tuple[PluginError, ...] = (),
) -> None:
    """Make ``records`` (and, unless ``problems`` is ``None``, the discovery problems and
    those of them that are ``blocking``) what ``registry`` holds: the loader's one way of
    writing a registry."""
    # Swap whole tables so concurrent readers see either the old or the new one.
    registry._records = dict(records)
    if problems is not None:
        registry._problems = problems
        registry._blocking = blocking
