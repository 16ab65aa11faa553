"""``Plugin``: what a plugin declares about itself (the ``AppConfig`` of hookwire)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, ClassVar

__all__ = ["Plugin", "check_requires_host"]


class Plugin:
    """A plugin's declaration, subclassed by plugin authors and named by an entry point.

    .. code-block:: python

        class SmsPlugin(Plugin):
            verbose_name = "Text messages"
            requires = ("billing",)          # plugins that must be ready first
            requires_host = ">=1.4,<2"       # PEP 440 specifier for the host's version
            signals_module = "signals"       # imported in the ready phase (None: none)

            def ready(self) -> None:
                order_placed.connect(self.on_order)

    The loader instantiates the class as ``cls(name=<entry point name>, module=<its module>)``.
    An entry point that names a bare module gets a default ``Plugin`` built by
    :meth:`for_module`, which reads the same settings from optional module-level variables
    (``verbose_name``, ``requires``, ``requires_host``, ``signals_module``).

    ``signals_module`` is relative to the plugin's package: the module itself when it is a
    package, else the package that contains it. A top-level single-file module has no package,
    so it has no signals module. The default ``"signals"`` is optional (skipped when absent); a
    name set explicitly must exist.

    :raises TypeError: ``requires`` is not a sequence of strings, or ``requires_host`` / a name
        is not a string.
    """

    #: The plugin's name; the loader passes the entry point's name, which wins over this.
    name: str = ""
    #: A human-readable name for listings; default: the name, capitalised, with ``_``, ``-``
    #: and ``.`` as spaces.
    verbose_name: str = ""
    #: Names of plugins that must be ready before this one (any spelling); an absent, failed
    #: or cyclic requirement fails this plugin with a
    #: :class:`~hookwire.exceptions.PluginRequirementError`.
    requires: Sequence[str] = ()
    #: A PEP 440 specifier (``">=1.4,<2"``) the host's version must satisfy, else the plugin
    #: fails with a :class:`~hookwire.exceptions.HostVersionError`; ``None`` accepts any host.
    requires_host: str | None = None
    #: The module imported in the ready phase, relative to the plugin's package (see above);
    #: ``None`` for none.
    signals_module: str | None = "signals"
    #: The default of :attr:`signals_module`, which may be absent without error.
    DEFAULT_SIGNALS_MODULE: ClassVar[str] = "signals"

    def __init__(self, name: str | None = None, module: ModuleType | None = None) -> None:
        if module is None:
            module = sys.modules.get(type(self).__module__)
        chosen = name or type(self).name or (module.__name__ if module is not None else "")
        if not isinstance(chosen, str) or not chosen:
            raise TypeError(f"{type(self).__qualname__}: a plugin needs a non-empty string name")
        self.name: str = chosen
        self.module: ModuleType | None = module
        self.verbose_name: str = self.verbose_name or _humanize(chosen)
        requires = self.requires
        # Nearly every plugin requires nothing: the class's own empty tuple is kept as it is.
        self.requires: tuple[str, ...] = (
            () if requires.__class__ is tuple and not requires else _names(requires, plugin=chosen)
        )
        if self.requires_host is not None and not isinstance(self.requires_host, str):
            raise TypeError(
                f"plugin {chosen!r}: requires_host must be a PEP 440 specifier string, "
                f"not {type(self.requires_host).__name__}"
            )

    @classmethod
    def for_module(cls, module: ModuleType, name: str) -> Plugin:
        """The default plugin of a bare-module entry point.

        Optional module-level ``verbose_name``, ``requires``, ``requires_host`` and
        ``signals_module`` are honoured (``requires_host`` is then checked after import).
        """
        plugin = cls.__new__(cls)
        # Read from a plain module's namespace: asking a module for a name it lacks builds an
        # AttributeError and its message, four a plugin at every load. A module of another
        # class, or one computing its attributes (a module-level __getattr__), is asked.
        namespace: dict[str, Any] | None = vars(module) if type(module) is ModuleType else None
        if namespace is not None and "__getattr__" in namespace:
            namespace = None
        for attribute in ("verbose_name", "requires", "requires_host", "signals_module"):
            if namespace is None:
                if hasattr(module, attribute):
                    setattr(plugin, attribute, getattr(module, attribute))
            elif attribute in namespace:
                setattr(plugin, attribute, namespace[attribute])
        Plugin.__init__(plugin, name=name, module=module)
        return plugin

    @property
    def package(self) -> str | None:
        """The package that holds this plugin's signals module, or ``None`` (top-level file)."""
        module = self.module
        if module is None:
            return None
        if hasattr(module, "__path__"):
            return module.__name__
        return module.__name__.rpartition(".")[0] or None

    def signals_module_name(self) -> str | None:
        """The absolute name of the signals module to import, or ``None`` for none."""
        relative = self.signals_module
        package = self.package
        if not relative or package is None:
            return None
        return f"{package}.{relative.lstrip('.')}"

    def ready(self) -> None:
        """Connect receivers and do start-up work; override in subclasses.

        Called once per load, after every plugin named in :attr:`requires` is ready. It may be
        called again (as :func:`hookwire.testing.assert_ready_idempotent` does): the
        connections the previous call made are undone first, so repeating it never registers a
        receiver twice. Whatever it raises marks the plugin failed and disconnects everything
        it connected.
        """

    def __repr__(self) -> str:
        return f"<{type(self).__qualname__} {self.name!r}>"


def _humanize(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").replace(".", " ").strip().capitalize()


def _names(value: object, *, plugin: str) -> tuple[str, ...]:
    # A tuple or a list (nearly every plugin's) is a sequence: asked first, the abstract
    # class check is spared for every plugin at load.
    if (
        value.__class__ is not tuple
        and value.__class__ is not list
        and (isinstance(value, str) or not isinstance(value, Sequence | set | frozenset))
    ):
        raise TypeError(
            f"plugin {plugin!r}: requires must be a sequence of plugin names, "
            f"not {type(value).__name__} {value!r}"
        )
    names = tuple(value)
    for item in names:
        if not isinstance(item, str) or not item:
            raise TypeError(f"plugin {plugin!r}: requires holds {item!r}, not a plugin name")
    return names


def check_requires_host(specifier: str, host_version: str) -> str | None:
    """Why ``host_version`` does not satisfy ``specifier``, or ``None`` when it does.

    Pre-releases of the host count as matching (a host's own beta should load its plugins).
    ``packaging`` is imported here, on first use.
    """
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        wanted = SpecifierSet(specifier)
    except InvalidSpecifier:
        return f"requires_host {specifier!r} is not a valid PEP 440 specifier"
    try:
        version = Version(host_version)
    except InvalidVersion:
        return f"the host version {host_version!r} is not a PEP 440 version"
    if wanted.contains(version, prereleases=True):
        return None
    return f"needs host version {specifier}, but the host is {host_version}"
