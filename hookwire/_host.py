"""The host: an application's public signals, its settings, its plugins and its ``main``.

:class:`Host` ties the layers together. ``load()`` delegates to one
:class:`~hookwire._loading.loader.Loader` kept on the host (so loading twice is loading once), and
``run()`` is the application's top level: it loads, sends ``host_started``, calls ``main`` and
*always* sends ``host_stopping`` — after a normal return, an exception, Ctrl-C or SIGTERM.

The loader, asyncio and the configuration reader are imported on first use so that importing
a host module (which every ``hookwire`` command does) stays cheap.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from types import FrameType, ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

from . import signals as lifecycle
from ._dispatch.signal import Signal
from .exceptions import HostError

if TYPE_CHECKING:
    from ._loading.config import LoadConfig
    from ._loading.loader import Loader
    from ._loading.registry import Registry

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_TERMINATED",
    "Host",
    "HostRunning",
    "HostSettings",
    "Terminated",
    "default_host",
]

#: Exit status of :meth:`Host.run` after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: Exit status of :meth:`Host.run` after SIGTERM (128 + SIGTERM).
EXIT_TERMINATED = 143

_MISSING: Any = object()


class Terminated(SystemExit):
    """Raised in the main thread by the SIGTERM handler :meth:`Host.run` installs; it is the
    ``exc=`` that ``host_stopping`` receivers get after SIGTERM.

    A ``SystemExit`` (code 143) so that ``except Exception`` in application code lets it
    through and, if it ever escapes, the process still exits with 143.
    """

    def __init__(self) -> None:
        super().__init__(EXIT_TERMINATED)


class HostSettings(MutableMapping[str, Any]):
    """A host's settings: a mutable mapping that announces every change.

    Setting a key sends :data:`hookwire.signals.setting_changed` with ``sender=`` the host,
    ``setting=`` the key, ``value=`` the new value and ``enter=True``; deleting one sends it
    with ``value=None`` and ``enter=False`` — Django's ``setting_changed`` arguments. The
    signal is sent after the change is visible and with no lock held, so receivers may read
    (or change) the settings. Receivers' errors propagate, as from ``Signal.send``.
    """

    def __init__(self, host: Host, initial: Mapping[str, Any] | None = None) -> None:
        self._host = host
        self._data: dict[str, Any] = dict(initial or {})
        self._lock = threading.Lock()

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        with self._lock:
            # Copy-on-write: readers iterating the old dict never see it change under them.
            data = dict(self._data)
            data[key] = value
            self._data = data
        lifecycle.setting_changed.send(sender=self._host, setting=key, value=value, enter=True)

    def __delitem__(self, key: str) -> None:
        with self._lock:
            data = dict(self._data)
            del data[key]
            self._data = data
        lifecycle.setting_changed.send(sender=self._host, setting=key, value=None, enter=False)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"<HostSettings of {self._host.name!r}: {self._data!r}>"

    @contextmanager
    def override(self, **values: Any) -> Iterator[HostSettings]:
        """Set ``values`` for the duration of a ``with`` block, then restore what was there.

        Like Django's ``override_settings``: entering sends ``setting_changed`` with
        ``enter=True`` and the new value; leaving restores each previous value (or removes the
        key) and sends it again with ``enter=False`` and the restored value (``None`` when the
        key was absent).
        """
        previous = {key: self._data.get(key, _MISSING) for key in values}
        for key, value in values.items():
            self[key] = value
        try:
            yield self
        finally:
            for key, old in previous.items():
                with self._lock:
                    data = dict(self._data)
                    if old is _MISSING:
                        data.pop(key, None)
                    else:
                        data[key] = old
                    self._data = data
                restored = None if old is _MISSING else old
                lifecycle.setting_changed.send(
                    sender=self._host, setting=key, value=restored, enter=False
                )


def _collect_signals(sources: Iterable[ModuleType | Signal]) -> dict[str, Signal]:
    """Signals of ``sources`` by qualified name; unnamed module attributes get their name."""
    collected: dict[str, Signal] = {}
    seen: set[int] = set()
    for source in sources:
        source_name = getattr(source, "__name__", None)
        if isinstance(source, Signal):
            candidates: list[tuple[str | None, Signal]] = [(None, source)]
        elif isinstance(source, ModuleType):
            candidates = [
                (attribute, value)
                for attribute, value in vars(source).items()
                if isinstance(value, Signal) and not attribute.startswith("__")
            ]
        else:
            raise TypeError(
                f"Host signals must be modules or hookwire.Signal objects, "
                f"got {type(source).__qualname__}: {source!r}"
            )
        for attribute, found in candidates:
            if id(found) in seen:
                continue
            seen.add(id(found))
            if not found.name and attribute is not None and found.module == source_name:
                # A module's ``order_placed = Signal()`` is known as "order_placed" (a signal
                # merely imported there keeps the name its own module gives it).
                found.name = attribute
            collected[found.qualified_name] = found
    return collected


def _exit_status(result: object) -> int:
    """Map main's return value to an exit status: ``None`` → 0, an ``int`` in 0-255 → itself.

    Any other ``int`` is a failure (1), with a warning on ``hookwire.host``: the operating
    system keeps only the low 8 bits, so 256 would otherwise report success.
    """
    if result is None:
        return 0
    if isinstance(result, int):
        status = int(result)
        if 0 <= status <= 255:
            return status
        import logging

        logging.getLogger("hookwire.host").warning(
            "main returned %d, which is not an exit status (0-255); exiting with 1", status
        )
        return 1
    raise HostError(
        f"main returned {type(result).__qualname__} {result!r}; return None or an int exit status"
    )


# A host's loading state, as hookwire.testing snapshots and restores it.
_LoadingState = tuple["Loader | None", "LoadConfig | None", bool]


class Host:
    """An application that plugins extend.

    :param name: the host's name (``"pizzeria"``); also the sender of hookwire's lifecycle
        signals' ``repr``.
    :param entry_point_group: where plugins are discovered; default ``"<name>.plugins"``.
    :param version: the host's version, checked against each plugin's ``requires_host``.
    :param signals: the host's public signals — modules (every :class:`~hookwire.Signal`
        attribute is taken; unnamed ones defined there are named after their attribute) and/or
        ``Signal`` objects; a single module or signal may be given alone.
    :param main: called by :meth:`run` with no arguments; a coroutine function runs in a new
        event loop (``asyncio.run``). Its return value is the exit status.
    :param settings: the initial :attr:`settings`.
    :param celery: an existing Celery application (e.g. a Django project's) that remote
        receivers (:mod:`hookwire.remote`) publish through and ``hookwire worker`` runs;
        ``None`` lets :mod:`hookwire.remote` build one from the broker settings.
    :raises TypeError: ``signals`` holds something that is neither a module nor a ``Signal``.
    :raises ValueError: ``name`` is empty.
    """

    def __init__(
        self,
        name: str,
        *,
        entry_point_group: str | None = None,
        version: str | None = None,
        signals: ModuleType | Signal | Iterable[ModuleType | Signal] = (),
        main: Callable[[], Any] | None = None,
        settings: Mapping[str, Any] | None = None,
        celery: Any = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a Host needs a non-empty name, got {name!r}")
        self.name = name
        self.entry_point_group = entry_point_group or f"{name}.plugins"
        self.version = version
        self.main = main
        self.celery = celery
        if isinstance(signals, ModuleType | Signal):
            signals = [signals]  # a single module or signal is accepted as well
        self._public_signals = _collect_signals(signals)
        self._settings = HostSettings(self, settings)
        self._loader: Loader | None = None
        self._config: LoadConfig | None = None
        self._lock = threading.Lock()
        self._loaded = False

    def __repr__(self) -> str:
        version = f" {self.version}" if self.version else ""
        return f"<Host {self.name!r}{version} group={self.entry_point_group!r}>"

    # -- introspection -------------------------------------------------------------------

    @property
    def signals(self) -> dict[str, Signal]:
        """The host's public signals then hookwire's lifecycle signals, by qualified name."""
        merged = dict(self._public_signals)
        for found in _collect_signals([lifecycle]).values():
            merged.setdefault(found.qualified_name, found)
        return merged

    @property
    def settings(self) -> HostSettings:
        """The host's settings: a mutable mapping (``settings["mode"] = "busy"``) that
        announces every change.

        Setting a key sends :data:`hookwire.signals.setting_changed` with ``sender=`` the host,
        ``setting=``, ``value=`` and ``enter=True``; deleting one sends ``value=None`` and
        ``enter=False`` (Django's arguments). The signal is sent after the change is visible,
        with no lock held; receivers' errors propagate. ``with host.settings.override(key=value):``
        sets values for the block and restores them after, as Django's ``override_settings``.
        """
        return self._settings

    @property
    def loaded(self) -> bool:
        """Whether :meth:`load` has returned the registry at least once."""
        return self._loaded

    @property
    def registry(self) -> Registry:
        """The registry of the loaded plugins.

        :raises HostError: :meth:`load` has not been called yet.
        """
        loader = self._loader
        if loader is None:
            raise HostError(f"host {self.name!r} has not loaded its plugins yet; call load()")
        return loader.registry

    # -- loading -------------------------------------------------------------------------

    def load(
        self,
        *,
        plugins: Iterable[str] | None = None,
        disable: Iterable[str] = (),
        autoload: bool | None = None,
        strict: bool | None = None,
        lazy: bool | None = None,
    ) -> Registry:
        """Discover, import and ready the host's plugins; return the :class:`~hookwire.Registry`.

        A plugin that declares which of the host's signals it listens to (see "Lazy
        plugins" in the documentation) is not imported here: it is activated by the first
        send of one of them. ``lazy=False`` (or ``HOOKWIRE_EAGER=1``, or ``[tool.hookwire]
        lazy = false``) activates every plugin now, for deployments that want to fail at start;
        given to a host already loaded lazily with otherwise the same settings, it activates
        every lazy plugin still waiting (``hookwire plugins check`` in an application that
        loaded its host does).

        The arguments are the strongest source of configuration, before the environment
        (``HOOKWIRE_PLUGINS``, ``HOOKWIRE_DISABLE_PLUGINS``, ``HOOKWIRE_DISABLE_AUTOLOAD``) and
        ``[tool.hookwire]`` in the nearest ``pyproject.toml``. Loading happens once: calling
        again returns the same registry (from any thread, each plugin is readied once).

        :raises HostError: called again with arguments that select a different configuration.
        :raises ~hookwire.exceptions.ConfigError: invalid configuration.
        :raises ~hookwire.exceptions.LoadError: under ``strict``, after every plugin was tried.
        :raises ~hookwire.exceptions.ReentrantLoadError: called from inside loading (e.g. from
            a plugin's ``ready()``).
        """
        from ._loading.config import resolve_config

        plugins = None if plugins is None else tuple(plugins)
        disable = tuple(disable)
        explicit = (
            plugins is not None
            or bool(disable)
            or autoload is not None
            or strict is not None
            or lazy is not None
        )
        activate_waiting = False
        with self._lock:
            loader = self._loader
            if loader is None:
                from ._loading.loader import Loader

                config = resolve_config(
                    plugins=plugins, disable=disable, autoload=autoload, strict=strict, lazy=lazy
                )
                loader = Loader(
                    self.entry_point_group,
                    host=self,
                    host_version=self.version,
                    config=config,
                    signals=self._public_signals,
                )
                self._loader, self._config = loader, config
            elif explicit:
                config = resolve_config(
                    plugins=plugins, disable=disable, autoload=autoload, strict=strict, lazy=lazy
                )
                loaded_with = self._config
                assert loaded_with is not None  # set with the loader
                if config != loaded_with and config == loaded_with.eager():
                    # The lazy load, made eager: every plugin still waiting is activated.
                    activate_waiting = True
                elif config != self._config:
                    raise HostError(
                        f"host {self.name!r} already loaded its plugins with {self._config}; "
                        f"cannot load again with {config}"
                    )
        # The lock is released before loading: a plugin's ready() calling load() again must
        # reach the loader's re-entry check (a clear error), not deadlock on our lock.
        registry = loader.load()
        self._loaded = True
        if activate_waiting:
            loader.activate_waiting()
            with self._lock:
                self._config = loader.config = config
        return registry

    def unload(self) -> None:
        """Undo :meth:`load` exactly, so that :meth:`load` can run again, perhaps with another
        selection of plugins (an application factory, a test).

        Every registration the plugins' loading made is removed (on hookwire's signals and, in
        a Django project, on Django's), the plugin modules loading imported are forgotten by
        ``sys.modules`` (loading again imports them afresh), and the registry is emptied. The
        signals themselves stay: they are process-wide, as in Django. A plugin's other side
        effects (a thread it started) are its own to undo, typically on ``host_stopping``.
        Unloading a host that is not loaded does nothing.

        :raises ~hookwire.exceptions.ReentrantLoadError: called while the plugins are loading
            (from a plugin's ``ready()``).
        """
        with self._lock:
            loader = self._loader
            if loader is None:
                return
            loader.unload()
            self._loader, self._config = None, None
            self._loaded = False

    def running(
        self,
        *,
        plugins: Iterable[str] | None = None,
        disable: Iterable[str] = (),
        autoload: bool | None = None,
        strict: bool | None = None,
        lazy: bool | None = None,
    ) -> HostRunning:
        """The host's life as a context manager, for applications that run themselves.

        ``with host.running() as registry:`` (or ``async with`` from a running event loop)
        loads the plugins with the same options as :meth:`load`, sends ``host_started`` and
        gives the :class:`~hookwire.Registry`; leaving the block, however it is left, sends
        ``host_stopping`` with ``exc=`` the exception that ends it (or ``None``), to every
        receiver even if some fail. The exception itself is never swallowed. Under
        ``async with`` both signals are awaited (``asend`` / ``asend_robust``), so async
        receivers run in the application's own event loop.

        A ``host_started`` receiver that raises stops the host at once: ``host_stopping`` is
        sent with that exception, which then propagates. When loading fails (``strict``), the
        host never started and neither signal is sent.

        :raises ~hookwire.exceptions.LoadError: loading failed under ``strict``.
        :raises HostError: loaded before with a different selection (see :meth:`load`).
        """
        return HostRunning(
            self,
            {
                "plugins": None if plugins is None else tuple(plugins),
                "disable": tuple(disable),
                "autoload": autoload,
                "strict": strict,
                "lazy": lazy,
            },
        )

    # -- running -------------------------------------------------------------------------

    def run(
        self,
        *,
        plugins: Iterable[str] | None = None,
        disable: Iterable[str] = (),
        autoload: bool | None = None,
        strict: bool | None = None,
        lazy: bool | None = None,
    ) -> int:
        """Load (if needed), send ``host_started``, call ``main``, always send ``host_stopping``.

        ``host_stopping`` is sent with ``exc=`` the exception that stops the host (or ``None``)
        after ``main`` returns or raises, after Ctrl-C (a ``KeyboardInterrupt``) and after
        SIGTERM (a ``SystemExit`` with code 143); while ``run`` is
        active in the main thread it handles SIGTERM. Its receivers are all called even if
        some fail (``send_robust``; failures are logged on ``hookwire.dispatch``).

        :returns: the exit status — ``main``'s return value (``None`` → 0; an ``int`` outside
            0-255 → 1, with a warning on the ``hookwire.host`` logger), 0 when there is no
            ``main``, 130 after Ctrl-C, 143 after SIGTERM.
        :raises HostError: ``main`` returned something other than ``None`` or an ``int``.
        :raises Exception: whatever ``main`` (or a ``host_started`` receiver) raised, after
            ``host_stopping`` was sent. ``SystemExit`` from ``main`` propagates the same way.
        :raises ~hookwire.exceptions.LoadError: loading failed under ``strict``; the host was
            not started, so neither ``host_started`` nor ``host_stopping`` is sent.
        """
        # Loaded before SIGTERM is handled: a host that never started has nothing to stop.
        self.load(plugins=plugins, disable=disable, autoload=autoload, strict=strict, lazy=lazy)
        with _sigterm_raises():
            try:
                with self.running():
                    return _exit_status(self._call_main())
            except Terminated:
                return EXIT_TERMINATED
            except KeyboardInterrupt:
                return EXIT_INTERRUPTED

    def _call_main(self) -> object:
        main = self.main
        if main is None:
            return None
        if _is_coroutine_function(main):
            import asyncio

            return asyncio.run(main())
        result = main()
        if _is_awaitable(result):
            # A plain function that returned a coroutine (e.g. a functools.partial of one).
            import asyncio

            async def _await() -> object:
                return await result

            return asyncio.run(_await())
        return result

    # -- for hookwire.testing: adopting a loader, snapshot and restore -------------------

    def _adopt_loader(self, loader: Loader, config: LoadConfig) -> None:
        """From now on load with ``loader`` (made for ``config``), unless a loader was made
        already; :attr:`registry`, :meth:`load` and :meth:`run` then use it."""
        with self._lock:
            if self._loader is None:
                self._loader, self._config = loader, config

    def _current_loader(self) -> Loader | None:
        """The loader :meth:`load` uses, or ``None`` before one was made or adopted."""
        return self._loader

    def _snapshot_state(self) -> _LoadingState:
        """What :meth:`_restore_state` puts back: the loader, its configuration, and whether
        :meth:`load` has returned."""
        return (self._loader, self._config, self._loaded)

    def _restore_state(self, state: _LoadingState) -> None:
        """Put back a state taken by :meth:`_snapshot_state`."""
        with self._lock:
            self._loader, self._config, self._loaded = state


class HostRunning:
    """What :meth:`Host.running` returns: a context manager for ``with`` and ``async with``.

    Entering loads the host's plugins, sends ``host_started`` and gives the registry; leaving
    sends ``host_stopping`` with ``exc=``. It may be entered again after it was left (each time
    is a start and a stop; loading is done once).
    """

    __slots__ = ("_host", "_options")

    def __init__(self, host: Host, options: dict[str, Any]) -> None:
        self._host = host
        self._options = options

    def __repr__(self) -> str:
        return f"<HostRunning of {self._host!r}>"

    def __enter__(self) -> Registry:
        host = self._host
        registry = host.load(**self._options)
        try:
            lifecycle.host_started.send(sender=host)
        except BaseException as exc:
            lifecycle.host_stopping.send_robust(sender=host, exc=exc)
            raise
        return registry

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        lifecycle.host_stopping.send_robust(sender=self._host, exc=exc)

    async def __aenter__(self) -> Registry:
        host = self._host
        # Loading stays on the loop's thread: plugins' imports and ready() run where the
        # application runs, in its context, as Django's app registry does at startup.
        registry = host.load(**self._options)
        try:
            await lifecycle.host_started.asend(sender=host)
        except BaseException as exc:
            await lifecycle.host_stopping.asend_robust(sender=host, exc=exc)
            raise
        return registry

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await lifecycle.host_stopping.asend_robust(sender=self._host, exc=exc)


def _is_coroutine_function(function: object) -> bool:
    # inspect is imported here, not at module level: importing a host module stays light.
    import inspect

    return inspect.iscoroutinefunction(function)


def _is_awaitable(value: object) -> bool:
    import inspect

    return inspect.isawaitable(value)


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While active in the main thread, SIGTERM raises :class:`Terminated` there."""
    import signal as os_signal  # here, not at the top: only run() needs it, load() does not

    if threading.current_thread() is not threading.main_thread() or not hasattr(
        os_signal, "SIGTERM"
    ):
        yield
        return

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise Terminated

    try:
        previous = os_signal.signal(os_signal.SIGTERM, on_sigterm)
    except (ValueError, OSError):  # pragma: no cover - embedded interpreters without signals
        yield
        return
    try:
        yield
    finally:
        os_signal.signal(os_signal.SIGTERM, previous)


def _print_summary() -> int:
    """The default host's main (what ``hookwire run`` does with no host configured): one line
    per plugin, then a count."""
    # Escaped as the CLI's tables are: names and errors come from installed metadata.
    from ._text import escape

    registry = default_host.registry
    out = sys.stdout
    records = list(registry)
    if not records:
        out.write(f"hookwire: no plugins in group {default_host.entry_point_group!r}\n")
        return 0
    for record in records:
        line = f"{record.name}: {record.state.value}"
        if record.distribution:
            line += f" ({record.distribution} {record.version or ''})".replace(" )", ")")
        if record.error:
            line += f" - {record.error}"
        out.write(escape(line) + "\n")
    ready = sum(1 for record in records if record.state.value == "ready")
    out.write(f"{ready} of {len(records)} plugins ready\n")
    return 0


def _default_version() -> str:
    from . import __version__

    return __version__


#: The host the ``hookwire`` commands use when none is named: group ``hookwire.plugins``.
default_host = Host(
    "hookwire",
    entry_point_group="hookwire.plugins",
    version=_default_version(),
    main=_print_summary,
)
