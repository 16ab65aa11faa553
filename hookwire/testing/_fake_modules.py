"""Importable in-memory modules, so a test's fake plugins are really imported.

:class:`FakeModuleFinder` sits on ``sys.meta_path`` and serves modules declared by a test:
either from source text (executed by the import system when the module is first imported, so
``@receiver`` decorators in a fake signals module run in the loader's ready phase) or holding
given objects (a ``Plugin`` subclass defined in the test). Every module it serves is a package,
so ``<module>.signals`` and other submodules can be declared beside it.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

__all__ = ["FAKE_ROOT", "FakeModuleFinder"]

#: The directory fake modules pretend to live in (it does not exist).
FAKE_ROOT = "/hookwire-fake-modules"


class _Declared:
    __slots__ = ("attributes", "module", "source")

    def __init__(
        self,
        source: str | None,
        attributes: Mapping[str, Any],
        module: ModuleType | None,
    ) -> None:
        self.source = source
        self.attributes = dict(attributes)
        self.module = module


class FakeModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds and loads the modules declared with :meth:`declare`; install with :meth:`install`."""

    def __init__(self) -> None:
        self._declared: dict[str, _Declared] = {}
        self._lock = threading.Lock()

    # -- declaring ----------------------------------------------------------------------------

    def declare(
        self,
        name: str,
        *,
        source: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        module: ModuleType | None = None,
    ) -> None:
        """Make ``name`` importable: from ``source``, as a module holding ``attributes``, or as
        the given ``module`` object itself. Declaring a name again adds the attributes.

        :raises ValueError: ``name`` is not a dotted Python name.
        """
        if not all(part.isidentifier() for part in name.split(".")):
            raise ValueError(f"{name!r} is not a valid module name")
        with self._lock:
            existing = self._declared.get(name)
            if existing is not None and source is None and module is None:
                existing.attributes.update(attributes or {})
                return
            self._declared[name] = _Declared(source, attributes or {}, module)

    @property
    def names(self) -> Sequence[str]:
        """Every declared module name."""
        with self._lock:
            return tuple(self._declared)

    def filename(self, name: str) -> str:
        """The (non-existent) file a declared module pretends to come from."""
        return f"{FAKE_ROOT}/{name.replace('.', '/')}/__init__.py"

    # -- the import protocol ------------------------------------------------------------------

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        """A spec for a declared module; ``None`` (let others look) for any other name."""
        with self._lock:
            if fullname not in self._declared:
                return None
        spec = importlib.machinery.ModuleSpec(
            fullname, self, origin=self.filename(fullname), is_package=True
        )
        spec.has_location = True
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        """The given module object for modules declared with ``module=``, else the default."""
        with self._lock:
            declared = self._declared[spec.name]
        return declared.module

    def exec_module(self, module: ModuleType) -> None:
        """Set the declared attributes, then run the declared source in the module."""
        with self._lock:
            declared = self._declared[module.__name__]
        module.__dict__.update(declared.attributes)
        if declared.source is not None:
            code = compile(declared.source, self.filename(module.__name__), "exec")
            exec(code, module.__dict__)

    def get_source(self, fullname: str) -> str | None:
        """The declared source, so tracebacks and ``linecache`` show the fake module's lines."""
        with self._lock:
            declared = self._declared.get(fullname)
        return None if declared is None else declared.source

    # -- installation -------------------------------------------------------------------------

    def install(self) -> None:
        """Put the finder first on ``sys.meta_path`` (declared names shadow real modules)."""
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        """Take the finder off ``sys.meta_path``.

        Modules already imported stay in ``sys.modules``: removing them is the job of the
        :class:`~hookwire.testing.HookwireState` snapshot, which knows what was there before.
        """
        while self in sys.meta_path:
            sys.meta_path.remove(self)
