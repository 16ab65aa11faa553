"""Fake distributions and entry points, loaded by hookwire's real discovery and loader.

Nothing is installed: each fake distribution is an in-memory ``importlib_metadata.Distribution``
(``METADATA`` and ``entry_points.txt`` only), handed to the loader through its
``distributions=`` argument, and each entry point's target is served by a
:class:`~hookwire.testing._fake_modules.FakeModuleFinder`, so the import phase really imports.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import importlib_metadata

from ._fake_modules import FAKE_ROOT, FakeModuleFinder
from ._idempotence import assert_ready_idempotent

if TYPE_CHECKING:
    from .._host import Host
    from .._loading.config import LoadConfig
    from .._loading.loader import Loader
    from .._loading.records import DiscoveryResult
    from .._loading.registry import Registry
    from ._isolation import HookwireState

__all__ = ["FakeDistribution", "FakeEntryPoint", "FakePlugins"]

DEFAULT_GROUP = "hookwire.plugins"


class _NoTarget:
    """The default of ``FakePlugins.add(target=...)``: no target object was given."""

    def __repr__(self) -> str:
        return "<no target>"


_NO_TARGET: Any = _NoTarget()


def _slug(name: str) -> str:
    slug = re.sub(r"\W+", "_", name).strip("_").lower()
    return slug if slug and not slug[0].isdigit() else f"_{slug}"


class FakeDistribution(importlib_metadata.Distribution):
    """An installed-looking distribution that exists only in memory.

    :param name: the distribution name (``Name:`` in ``METADATA``).
    :param version: its version.
    :param entry_points: ``{group: {name: value}}``, or the raw text of ``entry_points.txt``
        (to test malformed metadata).
    :param files: more metadata files by name, or replacements (``{"METADATA": ""}`` for a
        distribution without usable metadata).
    """

    def __init__(
        self,
        name: str,
        version: str = "1.0",
        *,
        entry_points: Mapping[str, Mapping[str, str]] | str | None = None,
        files: Mapping[str, str] | None = None,
    ) -> None:
        self._name = name
        self._version = version
        self._files: dict[str, str] = {
            "METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        }
        if isinstance(entry_points, str):
            self._files["entry_points.txt"] = entry_points
        elif entry_points:
            self._files["entry_points.txt"] = "".join(
                f"[{group}]\n" + "".join(f"{ep} = {value}\n" for ep, value in points.items())
                for group, points in entry_points.items()
            )
        self._files.update(files or {})
        self._root = Path(FAKE_ROOT, f"{_slug(name)}-{version}.dist-info")

    def read_text(self, filename: str | os.PathLike[str]) -> str | None:
        """The text of a metadata file, or ``None`` when the distribution has none by that name."""
        return self._files.get(os.fspath(filename))

    def locate_file(self, path: str | os.PathLike[str]) -> Path:
        """Where ``path`` would be if this distribution were installed (it does not exist)."""
        return self._root.parent / path

    def __repr__(self) -> str:
        return f"<FakeDistribution {self._name} {self._version}>"


@dataclass(frozen=True)
class FakeEntryPoint:
    """One entry point declared with :meth:`FakePlugins.add`.

    ``group`` is ``None`` when it follows the group given to :meth:`FakePlugins.load`.
    """

    name: str
    value: str
    distribution: str
    version: str
    group: str | None


class FakePlugins:
    """Declares fake plugins and loads them with hookwire's real discovery and loader.

    Made by the ``fake_plugins`` fixture, which restores everything when the test ends. Outside
    pytest, use it as a context manager (it then takes and restores its own snapshot).

    :param state: the snapshot that removes the fake modules afterwards (``None``: make one).
    :param group: the entry-point group for plugins added without ``group=`` and loaded
        without ``group=`` (default ``"hookwire.plugins"``, the default host's).
    """

    def __init__(self, state: HookwireState | None = None, *, group: str = DEFAULT_GROUP) -> None:
        from ._isolation import HookwireState

        self._owns_state = state is None
        self._state = HookwireState() if state is None else state
        self.group = group
        self._finder = FakeModuleFinder()
        self._finder.install()
        self._entry_points: list[FakeEntryPoint] = []
        self._raw: list[FakeDistribution] = []
        self.last_loader: Loader | None = None

    # -- declaring ----------------------------------------------------------------------------

    def add(
        self,
        name: str,
        target: object = _NO_TARGET,
        *,
        value: str | None = None,
        distribution: str | None = None,
        version: str = "1.0",
        group: str | None = None,
        module: str | None = None,
    ) -> FakeEntryPoint:
        """Declare entry point ``name`` offered by a fake ``distribution`` (default: ``name``).

        ``target`` is what the entry point resolves to: a ``Plugin`` subclass, a module object
        (a bare-module plugin) or any object (to test wrong kinds). It is served from the
        importable fake package ``module`` (default ``"hookwire_fake_<distribution>"``). Give
        ``value`` instead of ``target`` for a literal entry point value such as
        ``"missing.module:Thing"`` or one naming modules declared with :meth:`add_module`.

        :raises TypeError: neither or both of ``target`` and ``value`` given.
        """
        if (target is _NO_TARGET) == (value is None):
            raise TypeError(f"fake plugin {name!r}: give either a target object or value=")
        dist = distribution or name
        if value is None:
            value = self._serve(name, target, module or f"hookwire_fake_{_slug(dist)}")
        entry_point = FakeEntryPoint(name, value, dist, version, group)
        self._entry_points.append(entry_point)
        return entry_point

    def add_module(self, name: str, source: str = "", **attributes: Any) -> None:
        """Declare an importable fake module ``name`` running ``source`` on import.

        Every fake module is a package, so submodules can be declared beside it. With
        ``add_module("pizzeria_sms", "class SmsPlugin(Plugin): ...")``,
        ``add_module("pizzeria_sms.signals", "@receiver(...) ...")`` and
        ``add("sms", value="pizzeria_sms:SmsPlugin")`` the loader imports ``pizzeria_sms`` in
        the import phase and ``pizzeria_sms.signals`` in the ready phase. ``attributes`` are
        set on the module before ``source`` runs; the module is unloaded after the test.

        :raises ValueError: ``name`` is not a dotted Python name.
        """
        self._finder.declare(name, source=source, attributes=attributes)
        self._state.forget_module(name)

    def add_distribution(
        self,
        name: str,
        version: str = "1.0",
        *,
        entry_points: Mapping[str, Mapping[str, str]] | str | None = None,
        files: Mapping[str, str] | None = None,
    ) -> FakeDistribution:
        """Declare a distribution verbatim (see :class:`FakeDistribution`), e.g. one whose
        ``entry_points.txt`` is malformed, or the same name offered twice."""
        dist = FakeDistribution(name, version, entry_points=entry_points, files=files)
        self._raw.append(dist)
        return dist

    def _serve(self, name: str, target: object, module: str) -> str:
        if isinstance(target, ModuleType):
            self._finder.declare(target.__name__, module=target)
            self._state.forget_module(target.__name__)
            return target.__name__
        home = getattr(target, "__module__", None)
        if isinstance(home, str) and home not in self._finder.names:
            self._state.keep_module(home)  # e.g. the test module that defines the Plugin class
        attribute = getattr(target, "__name__", None)
        if not isinstance(attribute, str) or not attribute.isidentifier():
            attribute = _slug(name)
        self._finder.declare(module, attributes={attribute: target})
        self._state.forget_module(module)
        return f"{module}:{attribute}"

    @property
    def entry_points(self) -> list[FakeEntryPoint]:
        """The entry points declared with :meth:`add`, in order."""
        return list(self._entry_points)

    def distributions(self, group: str | None = None) -> list[FakeDistribution]:
        """The fake distributions as discovery sees them when loading ``group``."""
        group = group or self.group
        by_distribution: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
        for entry_point in self._entry_points:
            groups = by_distribution.setdefault((entry_point.distribution, entry_point.version), {})
            groups.setdefault(entry_point.group or group, {})[entry_point.name] = entry_point.value
        made = [
            FakeDistribution(name, version, entry_points=groups)
            for (name, version), groups in by_distribution.items()
        ]
        return [*made, *self._raw]

    # -- loading ------------------------------------------------------------------------------

    def discover(self, group: str | None = None) -> DiscoveryResult:
        """Run the real discovery phase on the fake distributions only."""
        from .._loading.discovery import discover

        group = group or self.group
        return discover(group, distributions=self.distributions(group), use_cache=False)

    def loader(
        self,
        group: str | None = None,
        *,
        host: Host | None = None,
        host_version: str | None = None,
        config: LoadConfig | None = None,
        plugins: Iterable[str] | None = None,
        disable: Iterable[str] = (),
        autoload: bool = True,
        strict: bool = False,
    ) -> Loader:
        """hookwire's real loader over the fake distributions, not run yet.

        ``group`` and ``host_version`` default to the host's when ``host`` is given. The
        configuration comes from ``config`` or from the other arguments alone — never from the
        environment or a ``pyproject.toml``, so results do not depend on where tests run.
        """
        from .._loading.config import LoadConfig
        from .._loading.loader import Loader
        from .._loading.registry import normalize_name

        if host is not None:
            group = group or host.entry_point_group
            host_version = host_version if host_version is not None else host.version
        group = group or self.group
        if config is None:
            config = LoadConfig(
                allow=None if plugins is None else tuple(normalize_name(p) for p in plugins),
                deny=tuple(normalize_name(name) for name in disable),
                autoload=autoload,
                strict=strict,
            )
        loader = Loader(
            group,
            host=host,
            host_version=host_version,
            config=config,
            distributions=self.distributions(group),
        )
        if host is not None:
            # The host then answers host.registry / host.load() / host.run() with this loader.
            host._adopt_loader(loader, config)
        self.last_loader = loader
        return loader

    def load(
        self,
        group: str | None = None,
        *,
        host: Host | None = None,
        host_version: str | None = None,
        config: LoadConfig | None = None,
        plugins: Iterable[str] | None = None,
        disable: Iterable[str] = (),
        autoload: bool = True,
        strict: bool = False,
    ) -> Registry:
        """Discover, import and ready the fake plugins (arguments as :meth:`loader`).

        With ``host``, the host adopts the loader (when it has not loaded yet), so
        ``host.registry`` and ``host.run()`` see the fake plugins.

        :returns: the :class:`~hookwire.Registry`.
        :raises ~hookwire.exceptions.LoadError: under ``strict``, when a plugin failed.
        """
        loader = self.loader(
            group,
            host=host,
            host_version=host_version,
            config=config,
            plugins=plugins,
            disable=disable,
            autoload=autoload,
            strict=strict,
        )
        if host is not None and host._current_loader() is loader:
            return host.load()
        return loader.load()

    def assert_ready_idempotent(self, loader: Loader | None = None) -> None:
        """:func:`~hookwire.testing.assert_ready_idempotent` on ``loader`` (default: the last one
        made by :meth:`loader` or :meth:`load`; loaded first if it has not been).

        :raises AssertionError: a receiver was registered again, or a plugin failed, when the
            ready phase ran a second time.
        """
        __tracebackhide__ = True
        loader = loader or self.last_loader
        if loader is None:
            loader = self.loader()
        assert_ready_idempotent(loader)

    # -- teardown -----------------------------------------------------------------------------

    def close(self) -> None:
        """Remove the fake modules from the import system (and restore the snapshot this object
        took itself, if any)."""
        self._finder.uninstall()
        if self._owns_state:
            self._state.restore()

    def __enter__(self) -> FakePlugins:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
