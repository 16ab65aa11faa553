"""Loading plugins in explicit phases: discover -> import -> ready.

Each phase is a method that can be called and tested on its own; a later phase runs the
earlier ones first when they have not run. Loading is

* **guarded against re-entry**: a ``ready()`` or signals module that calls ``load()`` again
  gets :class:`~hookwire.exceptions.ReentrantLoadError` at once instead of a dead-lock;
* **thread-safe**: one re-entrant lock serialises the phases, so ``load()`` from many threads
  runs each plugin's ``ready()`` exactly once and every caller gets the finished registry;
* **idempotent**: a second ``load()`` does nothing; ``ready(again=True)`` undoes what the
  previous ``ready()`` call connected before calling it again (what the signals module
  connected at import stays), so no receiver is registered twice;
* **isolating**: every phase of every plugin runs inside
  :func:`~hookwire._dispatch.attribution.plugin_scope`; when it fails, everything the plugin
  connected in any phase is disconnected (and, if the host imported it before loading ran,
  what its modules connected then), the record is marked ``FAILED`` with a one-line cause,
  plugins that require it fail in turn, and the others load. ``SystemExit`` raised by plugin
  code is a failure like any other; ``KeyboardInterrupt`` undoes the interrupted plugin's
  phase, puts its record back where it was and propagates, so a later ``load()`` resumes
  cleanly;
* **strict on request**: with ``strict`` every plugin is still tried, then one
  :class:`~hookwire.exceptions.LoadError` lists every failure; a retried ``load()`` raises that
  same error again.

A plugin module is never imported from the working directory Python put on ``sys.path`` by
itself (``''`` under ``python -c``, the directory under ``python -m``) when that would shadow
the installed module: the plugin fails instead, naming both files (a file planted there must
never run as a plugin).

``requires_host`` is checked before import when the plugin declares it as a string literal in
its class body (or, for a bare-module entry point, at module level) and its source can be
found without running code; in every case it is checked again after import, where the value
is authoritative (it may be inherited or computed).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .. import signals as lifecycle

# resolve_pending is called after each plugin's import and ready phase: let "module:QualName"
# senders bind to classes that step imported. (The two hot loops read the module's flag
# first: nearly always nothing is pending, and the call is then all it would cost.)
from .._dispatch import lazy as _lazy_senders
from .._dispatch.attribution import claim_module, current_plugin, is_within
from .._dispatch.lazy import resolve_pending as _resolve_pending
from ..exceptions import (
    DiscoveryError,
    HostVersionError,
    LoadError,
    PluginError,
    PluginImportError,
    PluginReadyError,
    PluginRequirementError,
    ReentrantLoadError,
)
from . import progress

# Imported here, not in the methods that use them: those run once or twice a plugin, and an
# import statement in each call was a measurable part of loading hundreds of plugins.
from .causes import describe_exception
from .config import LoadConfig, resolve_config
from .importing import EntryPointProblem, import_signals_module, load_plugin_object, split_value
from .lazy import ACTIVATION_LOCK, LazyPlugins, attach_declarations, check_declarations
from .plugin import Plugin, check_requires_host
from .progress import working_on
from .registry import PluginRecord, PluginState, Registry, normalize_name, publish
from .requirements import unmet_requirement
from .source_checks import static_requires_host, working_directory_shadow

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from importlib_metadata import Distribution

    from .._dispatch.signal import Signal
    from .records import EntryPointRecord

__all__ = ["Loader"]

# What a plugin that does not override ready() runs in the ready phase.
_NO_OP_READY = Plugin.ready


class Loader:
    """Discovers, imports and readies the plugins of one entry-point ``group``.

    ``host`` is the ``sender`` of the lifecycle signals (the loader itself when ``None``);
    ``host_version`` is checked against each plugin's ``requires_host`` (skipped when
    ``None``); ``config`` defaults to :func:`hookwire._loading.config.resolve_config`
    (environment and ``pyproject.toml``); ``distributions`` replaces searching the file system (see
    :func:`hookwire._loading.discovery.discover`); ``path`` replaces the default search path;
    ``use_cache=False`` bypasses the discovery cache. ``signals`` are the host's public
    signals by qualified name: a plugin that declares which of them it listens to is left
    ``DECLARED`` and activated at the first send of one of them (see :mod:`.lazy`), unless
    the configuration's ``lazy`` is off; without ``signals`` every plugin loads eagerly.

    Re-entry is detected on the loading thread itself. A ``ready()`` that hands ``load()`` to
    another thread and waits for it waits for ever, as with any lock: the other thread blocks
    until loading has finished, then gets the finished registry.
    """

    def __init__(
        self,
        group: str,
        *,
        host: object = None,
        host_version: str | None = None,
        config: LoadConfig | None = None,
        distributions: Iterable[Distribution] | None = None,
        path: Sequence[str] | None = None,
        use_cache: bool = True,
        signals: Mapping[str, Signal] | None = None,
    ) -> None:
        self.group = group
        self.host = host
        self.host_version = host_version
        self.config = config if config is not None else resolve_config()
        self.registry = Registry()
        self._distributions = list(distributions) if distributions is not None else None
        self._path = list(path) if path is not None else None
        self._use_cache = use_cache
        self._records: dict[str, PluginRecord] = {}
        # Entries a cached discovery did not check against their metadata (lazy plugins'):
        # each is checked before its import, by record key.
        self._unchecked: dict[str, EntryPointRecord] = {}
        self._problems: tuple[PluginError, ...] = ()
        self._blocking: tuple[PluginError, ...] = ()
        # The process-wide activation lock: a lazy plugin's activation (at any send, in any
        # thread) and every phase of every loader take the same lock, so no two locks can be
        # taken in opposite orders by a load and an activation.
        self._lock: threading.RLock = ACTIVATION_LOCK
        self._lazy = LazyPlugins(self, signals) if signals else None
        self._running: str | None = None
        self._discovered = False
        self._imported = False
        self._readied = False
        self._failure: LoadError | None = None
        self._implicit: tuple[tuple[str, ...], list[str]] | None = None
        # The working-directory listing of the running import phase (None outside it).
        self._listed: dict[str, frozenset[str]] | None = None
        self._modules_before: frozenset[str] | None = None

    # -- public phases ------------------------------------------------------------------

    def load(self) -> Registry:
        """Run every phase that has not run yet and return the registry.

        :raises ReentrantLoadError: called from inside loading (a ``ready()``, a signals
            module, a plugin's import).
        :raises LoadError: ``strict`` is on and any plugin failed (raised again, the same
            error, by every later call).
        """
        with self._phase("load()"):
            if self._failure is not None:
                raise self._failure
            self._discover()
            self._import()
            self._ready(again=False)
            self._check_strict()
        return self.registry

    def discover(self) -> Registry:
        """Phase 1: read the group's entry points and build a record per plugin.

        Plugins excluded by the configuration become ``DISABLED`` and are never imported.
        """
        with self._phase("discover()"):
            self._discover()
        return self.registry

    def import_plugins(self) -> Registry:
        """Phase 2: import each enabled plugin's entry point and make its :class:`Plugin`."""
        with self._phase("import_plugins()"):
            self._discover()
            self._import()
        return self.registry

    def ready(self, again: bool = False) -> Registry:
        """Phase 3: in ``requires`` order, import each signals module and call ``ready()``.

        ``again=True`` runs ``ready()`` of every ready plugin once more, after undoing what its
        previous call connected. ``plugins_ready`` is sent each time the phase runs.
        """
        with self._phase("ready()"):
            self._discover()
            self._import()
            self._ready(again=again)
        return self.registry

    def unload(self) -> None:
        """Undo :meth:`load`: disconnect every registration each plugin's phases made,
        forget which modules the plugins own, remove from ``sys.modules`` the plugin modules
        loading imported (so a later load imports them again and their ``@receiver``
        decorators run again), and empty the registry.

        Modules imported before loading ran (by the host itself) stay imported, and what they
        connected then stays connected: loading did not connect it. Threads or other side
        effects of a ``ready()`` are the plugin's to undo (on ``host_stopping``).

        :raises ReentrantLoadError: called from inside loading.
        """
        import sys

        from .._dispatch.attribution import forget_claimants

        with self._phase("unload()"):
            if self._lazy is not None:
                self._lazy.withdraw_all()
            records = list(self._records.values())
            for record in reversed(records):
                record.undo_all()
            roots = set(forget_claimants(records))
            before = self._modules_before
            if before is not None and roots:
                for module in list(sys.modules):
                    if module not in before and is_within(module, roots):
                        sys.modules.pop(module, None)
            self._records = {}
            self._unchecked = {}
            self._problems = self._blocking = ()
            self._discovered = self._imported = self._readied = False
            self._failure = None
            self._modules_before = None
            self._publish()

    @property
    def failures(self) -> list[PluginError]:
        """Every failure so far: failed plugins, then the discovery problems that block a
        strict load (:attr:`Registry.blocking_problems`)."""
        failed = [
            record.exception
            for record in self._records.values()
            if record.state is PluginState.FAILED and record.exception is not None
        ]
        return failed + list(self._blocking)

    # -- guard ----------------------------------------------------------------------------

    @contextmanager
    def _phase(self, what: str) -> Iterator[None]:
        with self._lock:
            if self._running is not None:
                inside = current_plugin()
                where = f" (plugin {inside})" if inside else ""
                raise ReentrantLoadError(
                    f"{what} was called while plugin loading is running its "
                    f"{self._running}{where}; a plugin's import, signals module or ready() "
                    f"must not load plugins"
                )
            self._running = what
            try:
                yield
            finally:
                self._running = None

    # -- discover -------------------------------------------------------------------------

    def _discover(self) -> None:
        if self._discovered:
            return
        from .discovery import discover

        result = discover(
            self.group,
            path=self._path,
            distributions=self._distributions,
            use_cache=self._use_cache,
            report=False,
            # Lazy plugins' entries are checked when imported, if ever (_import_one).
            defer_lazy=self._lazy is not None and self.config.lazy,
        )
        unverified = set(result.unverified)
        unchecked: dict[str, EntryPointRecord] = {}
        shadowed: dict[str, list[EntryPointRecord]] = {}
        for entry in result.shadowed:
            shadowed.setdefault(normalize_name(entry.name), []).append(entry)
        records: dict[str, PluginRecord] = {}
        config = self.config
        disabled_reason = config.disabled_reason
        # Nothing to disable (no deny-list, no allow-list, autoload on): not asked a plugin.
        selects_all = not config.deny and config.allow is None and config.autoload
        for entry in result.entry_points:
            # Once for every plugin installed, lazy or not: the fields read once each.
            name, value, _, distribution, version, dist_path = entry
            key = normalize_name(name)
            record = PluginRecord(
                name,
                distribution,
                version,
                f"{name} = {value}",
                dist_path=dist_path,
                phase="discover",
                shadowed=tuple(shadowed[key]) if key in shadowed else (),
            )
            reason = None if selects_all else disabled_reason(name)
            if reason is not None:
                from .source_checks import static_requires

                record.state = PluginState.DISABLED
                record.reason = reason
                # Never imported, so read from source: what enabling it would also need.
                record.requires = static_requires(value) or ()
            records[key] = record
            if dist_path in unverified:
                unchecked[key] = entry
        problems = [*result.problems, *self._unknown_names(records, result.problems)]
        if result.declarations:
            problems += [
                DiscoveryError(line, phase="discover")
                for line in attach_declarations(records, result.declarations)
            ]
        blocking = tuple(problem for problem in problems if self._blocks(problem))
        self._records = records
        self._unchecked = unchecked
        self._problems = tuple(problems)
        self._blocking = blocking
        self._publish()
        self._discovered = True
        # Reported once: under strict the blocking ones come back in the LoadError instead.
        from .discovery import log_problems

        log_problems(
            [p for p in problems if not (self.config.strict and any(p is b for b in blocking))]
        )

    def _unknown_names(
        self, records: dict[str, PluginRecord], problems: Iterable[PluginError]
    ) -> list[PluginError]:
        """An error for each allow- or deny-list name that no installed distribution offers
        (a misspelt name would otherwise select or disable nothing, silently)."""
        # A name whose entry point is malformed is offered, badly: that problem says so.
        broken = {normalize_name(problem.plugin) for problem in problems if problem.plugin}
        offered = sorted(records)
        unknown: list[PluginError] = []
        lists = (("allow-list", self.config.allow or ()), ("deny-list", self.config.deny))
        for listed_in, names in lists:
            for name in names:
                if name in records or name in broken:
                    continue
                # Only for a name nothing offers: difflib costs a millisecond to import.
                import difflib

                from ..exceptions import UnknownPluginError

                close = difflib.get_close_matches(name, offered, n=1, cutoff=0.6)
                suggestion = close[0] if close else None
                source = self.config.source_of(listed_in, name)
                where = f" ({source})" if source else ""
                message = (
                    f"plugin {name}: named in the {listed_in}{where} but no installed "
                    f"distribution offers it in [{self.group}]"
                )
                if listed_in == "deny-list":
                    message += ", so it disables nothing"
                if suggestion is not None:
                    message += f"; did you mean {suggestion!r}?"
                elif offered:
                    message += f"; the plugins offered are: {', '.join(offered)}"
                else:
                    message += "; no plugin is offered there"
                unknown.append(
                    UnknownPluginError(
                        message, plugin=name, listed_in=listed_in, suggestion=suggestion
                    )
                )
        return unknown

    def _blocks(self, problem: PluginError) -> bool:
        """Whether ``problem`` fails a strict load: it concerns a plugin that would be
        loaded, or a name of the allow- or deny-list that nothing offers."""
        from ..exceptions import UnknownPluginError

        if isinstance(problem, UnknownPluginError):
            return True
        if problem.plugin is None:
            return False  # a distribution offering this group nothing
        return self.config.disabled_reason(problem.plugin) is None

    # -- import ---------------------------------------------------------------------------

    def _import(self) -> None:
        if self._imported:
            return
        if self._modules_before is None:
            import sys

            # What was imported before plugins were: unload() removes only what loading added.
            self._modules_before = frozenset(sys.modules)
        if self._lazy is not None and self.config.lazy:
            # Left DECLARED, imported at the first send of a signal they declare.
            self._lazy.defer(
                record
                for record in self._records.values()
                if record.state is PluginState.DISCOVERED
            )
        # The working directory is listed once for the whole phase, not once a plugin.
        self._listed = {}
        try:
            for record in list(self._records.values()):
                if record.state is PluginState.DISCOVERED:
                    if progress.listener is None:
                        # Nobody shows progress (a host's own start): not even a no-op block.
                        self._import_one(record)
                    else:
                        with working_on(record.name, "import"):
                            self._import_one(record)
                    if _lazy_senders.any_pending:
                        _resolve_pending()
        finally:
            self._listed = None
        self._imported = True

    def _import_one(self, record: PluginRecord) -> None:
        value = record.entry_point.partition("=")[2].strip()
        record.phase = "import"
        # Only lazy plugins' entries wait unchecked: an eager load need not even normalise.
        unchecked = self._unchecked.pop(record.key, None) if self._unchecked else None
        if unchecked is not None:
            # Taken from the discovery cache unread: its metadata must declare it still.
            from .discovery_cache import declared_in

            why = declared_in(self.group, unchecked)
            if why is not None:
                self._fail(record, "import", PluginImportError, why)
                return
        try:
            reference = split_value(value)
        except EntryPointProblem as problem:
            self._fail(record, "import", PluginImportError, str(problem))
            return
        module_name = reference[0]
        if self.host_version is not None:
            declared = static_requires_host(value)
            why = None if declared is None else check_requires_host(declared, self.host_version)
            if why is not None:
                self._fail(record, "import", HostVersionError, f"{why} (checked before import)")
                return

        shadow = working_directory_shadow(module_name, self._implicit_entries(), self._listed)
        if shadow is not None:
            self._fail(record, "import", PluginImportError, shadow)
            return

        failure: BaseException | None = None
        with record.connecting("import"):
            try:
                plugin, module = load_plugin_object(record.name, value, reference)
            except (Exception, SystemExit) as error:
                # SystemExit from plugin code is the plugin's failure, not the host's exit.
                failure = error
            except BaseException:
                # Interrupted: undo what the import connected, back to "discovered".
                record.undo("import")
                record.phase = "discover"
                raise
        if failure is not None:
            # Outside the scope: plugin_failed receivers are not the failing plugin's.
            failure_cause = describe_exception(failure)
            self._fail(record, "import", PluginImportError, failure_cause, failure)
            return

        record.plugin = plugin
        record.requires = tuple(plugin.requires)
        record.module_file = getattr(module, "__file__", None)
        # Receivers the host's own imports connected before loading ran belong to this plugin
        # when they are defined in its own modules: the entry point's module and below
        # ("pkg.sub:Cls" claims pkg.sub, never pkg, which may be the host's own package), and
        # the module defining its Plugin class when the entry point re-exports it.
        claim_module(module_name, record)
        defined_in = type(plugin).__module__
        if defined_in != module_name and defined_in.partition(".")[0] != "hookwire":
            claim_module(defined_in, record)
        if self.host_version is not None and plugin.requires_host is not None:
            why = check_requires_host(plugin.requires_host, self.host_version)
            if why is not None:
                self._fail(record, "import", HostVersionError, why)
                return
        record.state = PluginState.IMPORTED

    def _implicit_entries(self) -> list[str]:
        """``sys.path`` entries discovery does not search: plugin modules must not come from
        there either (a file planted in the working directory shadowing an installed one)."""
        import sys

        # Once per sys.path: asked for every plugin, and resolving entries costs a realpath
        # each; a plugin that changes sys.path makes the next one compute it again.
        snapshot = tuple(sys.path)
        if self._implicit is not None and self._implicit[0] == snapshot:
            return self._implicit[1]
        from .discovery import default_search_path

        searched = set(self._path if self._path is not None else default_search_path())
        implicit = [entry for entry in snapshot if entry not in searched]
        self._implicit = (snapshot, implicit)
        return implicit

    # -- ready ----------------------------------------------------------------------------

    def _ready(self, *, again: bool) -> None:
        if self._readied and not again:
            return
        from .requirements import ready_order

        self._wake_required()
        wanted = {PluginState.IMPORTED, PluginState.READY} if again else {PluginState.IMPORTED}
        candidates = [key for key, record in self._records.items() if record.state in wanted]
        requires: dict[str, tuple[str, ...]] = {}
        for key in candidates:
            required = self._records[key].requires
            # No generator for the many plugins requiring nothing.
            requires[key] = tuple(normalize_name(name) for name in required) if required else ()
        order, cycles = ready_order(candidates, requires)
        declaring: list[PluginRecord] = []
        for key in order:
            record = self._records[key]
            cycle = cycles.get(key)
            if progress.listener is None:  # as in _import()
                self._ready_one(record, cycle)
            else:
                with working_on(record.name, "ready"):
                    self._ready_one(record, cycle)
            if _lazy_senders.any_pending:
                _resolve_pending()
            if record.listens and self._lazy is not None and record.state is PluginState.READY:
                declaring.append(record)
        # Loaded eagerly, their declarations are checked all the same: once every plugin is
        # ready, so each signal's registrations are grouped by plugin once, not once a plugin.
        for record in declaring:
            assert self._lazy is not None
            check_declarations(record, self._lazy.signals)
        self._readied = True
        ready_first = [key for key in order if key in self._records]
        made_ready = set(ready_first)
        rest = [key for key in self._records if key not in made_ready]
        self._records = {key: self._records[key] for key in (*ready_first, *rest)}
        self._publish()
        from .. import signals

        self._send(signals.plugins_ready, registry=self.registry)

    def _wake_required(self) -> None:
        """Import now the lazy plugins that a plugin being made ready requires, and what they
        require in turn: a requirement is ready before the plugin needing it."""
        if self._lazy is None:
            return
        queue = [r for r in self._records.values() if r.state is PluginState.IMPORTED]
        while queue:
            record = queue.pop()
            for required in record.requires:
                dependency = self._records.get(normalize_name(required))
                if dependency is not None and dependency.state is PluginState.DECLARED:
                    self._lazy.undefer(dependency)
                    with working_on(dependency.name, "import"):
                        self._import_one(dependency)
                    _resolve_pending()
                    queue.append(dependency)

    def activate_waiting(self) -> None:
        """Activate every lazy plugin still waiting for its first send, in loading order (the
        host's lazy load made eager).

        :raises LoadError: ``strict`` is on and any of them failed, after every one was tried.
        """
        if self._lazy is None:
            return
        failures: list[PluginError] = []
        for record in list(self._records.values()):
            if record.state is PluginState.DECLARED:
                try:
                    self._lazy.activate(record)
                except LoadError as exc:
                    failures.extend(exc.failures)
        if failures:
            raise LoadError(failures)

    def _activate_one(
        self, record: PluginRecord, activate_required: Callable[[PluginRecord], None]
    ) -> None:
        """Run a ``DECLARED`` plugin's import and ready phases now (its first signal is being
        sent): the lazy plugins it requires are activated between the two. An interrupted
        activation leaves it ``DECLARED`` again, with what its finished steps connected kept
        (the phases undo the interrupted step): the next first send goes on from there."""
        with self._lock:
            try:
                if record.plugin is None:
                    record.state = PluginState.DISCOVERED
                    with working_on(record.name, "import"):
                        self._import_one(record)
                    _resolve_pending()
                else:
                    record.state = PluginState.IMPORTED  # imported by an interrupted activation
                if record.state is PluginState.IMPORTED:
                    activate_required(record)
                    with working_on(record.name, "ready"):
                        self._ready_one(record, None)
                    _resolve_pending()
            except BaseException:
                if record.state is not PluginState.FAILED:
                    record.state = PluginState.DECLARED
                raise

    def _ready_one(self, record: PluginRecord, cycle: tuple[str, ...] | None) -> None:
        # Nothing can be unmet for a plugin requiring nothing outside a cycle (most plugins).
        unmet = (
            unmet_requirement(record, self._records, cycle)
            if cycle is not None or record.requires
            else None
        )
        if unmet is not None:
            chain, chain_end = unmet
            self._fail_requirement(record, chain, chain_end)
            return
        plugin = record.plugin
        assert plugin is not None
        before = record.state
        record.phase = "ready"
        stage = "ready"
        try:
            if not record.signals_imported:
                stage = "signals"
                with record.connecting("signals"):
                    import_signals_module(plugin)
            stage = "ready"
            record.undo("ready")  # ready() again: never register a receiver twice
            # The base class's ready() does nothing: no scope to open for it (most plugins
            # connect in their signals module and keep that no-op).
            if getattr(plugin.ready, "__func__", None) is not _NO_OP_READY:
                with record.connecting("ready"):
                    plugin.ready()
        except (Exception, SystemExit) as error:
            failure_cause = describe_exception(error)
            if stage == "signals":
                failure_cause = f"importing its signals module: {failure_cause}"
            else:
                failure_cause = f"ready() raised {failure_cause}"
            self._fail(record, "ready", PluginReadyError, failure_cause, error)
            return
        except BaseException:
            # Interrupted: undo the unfinished step, leave the record as it was.
            record.undo(stage)
            record.state = before
            raise
        record.state = PluginState.READY
        record.error = None
        if before is PluginState.IMPORTED:
            # send_robust as _send() does it, called directly: once a plugin, and _send()'s
            # keyword arguments cost a dictionary and a call more each time.
            sender = self.host if self.host is not None else self
            lifecycle.plugin_loaded.send_robust(sender=sender, plugin=record)

    # -- failures -------------------------------------------------------------------------

    def _fail_requirement(
        self, record: PluginRecord, chain: tuple[str, ...], chain_end: str
    ) -> None:
        from .requirements import requirement_message

        failure_cause = requirement_message(chain, chain_end)
        error = PluginRequirementError(
            self._message(record, "ready", failure_cause),
            chain=chain,
            plugin=record.name,
            distribution=record.distribution,
            phase="ready",
        )
        self._record_failure(record, "ready", failure_cause, error, unmet_requirement_end=chain_end)

    def _fail(
        self,
        record: PluginRecord,
        phase: str,
        error_class: type[PluginError],
        failure_cause: str,
        exception: BaseException | None = None,
    ) -> None:
        error = error_class(
            self._message(record, phase, failure_cause),
            plugin=record.name,
            distribution=record.distribution,
            phase=phase,
            cause=exception,
        )
        error.__cause__ = exception
        if exception is not None:
            import traceback

            record.traceback = "".join(traceback.format_exception(exception))
        self._record_failure(record, phase, failure_cause, error)

    def _record_failure(
        self,
        record: PluginRecord,
        phase: str,
        failure_cause: str,
        error: PluginError,
        unmet_requirement_end: str | None = None,
    ) -> None:
        # A failed plugin leaves nothing behind: undo every phase's connections, newest first,
        # then what it connected before loading ran (the host imported it itself), which no
        # scope saw and only attribution knows.
        record.undo_all()
        _disconnect_attributed(record)
        record.mark_failed(phase, error, failure_cause, unmet_requirement_end)
        if not self.config.strict:
            # Under strict the failure comes back in the LoadError instead (as discovery
            # problems do): said once, by the exception.
            _log_failure(record, phase, failure_cause, error)
        from .. import signals

        self._send(signals.plugin_failed, plugin=record, error=error)

    @staticmethod
    def _message(record: PluginRecord, phase: str, failure_cause: str) -> str:
        origin = f"{record.distribution} {record.version}" if record.distribution else "?"
        return f"plugin {record.name} ({origin}), {phase} phase: {failure_cause}"

    def _check_strict(self) -> None:
        if not self.config.strict:
            return
        failures = self.failures
        if failures:
            self._failure = LoadError(failures)
            raise self._failure

    # -- plumbing -------------------------------------------------------------------------

    def _publish(self) -> None:
        publish(self.registry, self._records, self._problems, self._blocking)

    def _send(self, signal: Signal, **named: Any) -> None:
        # send_robust: a failing lifecycle receiver is logged, it does not stop loading.
        sender = self.host if self.host is not None else self
        signal.send_robust(sender=sender, **named)

    def __repr__(self) -> str:
        return f"<Loader {self.group!r} {self.registry!r}>"


#: The logger of plugin failures: an application that configures logging sees every one.
LOADING_LOGGER = "hookwire.loading"


def _log_failure(record: PluginRecord, phase: str, failure_cause: str, error: PluginError) -> None:
    """One WARNING record on ``hookwire.loading`` for a plugin that failed.

    A host embedded in an application (a web app calling ``host.load()`` itself) must never
    drop a plugin without a word, so the loader says it, not only the CLI. The record carries
    ``plugin``, ``distribution``, ``phase``, ``cause`` (the one-line cause, the record's
    ``failure_cause``) and ``error`` (the :class:`~hookwire.exceptions.PluginError`, whose
    ``__cause__`` is what the plugin raised),
    for handlers and filters that want more than the message.
    """
    import logging

    logging.getLogger(LOADING_LOGGER).warning(
        "%s",
        error.message,
        extra={
            "plugin": record.name,
            "distribution": record.distribution,
            "phase": phase,
            "cause": failure_cause,
            "error": error,
        },
    )


def _disconnect_attributed(record: PluginRecord) -> None:
    """Disconnect what ``record``'s modules connected outside any scope (the host imported the
    plugin itself before loading ran). Matched on the record itself, never on its name: another
    host's plugin of the same name keeps its receivers."""
    from .._dispatch.signal import disconnect_module_receivers

    disconnect_module_receivers(record)
