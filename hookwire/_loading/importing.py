"""Turning an entry point into a :class:`~hookwire.Plugin`, and importing its signals module.

An entry point that cannot become a plugin is an :class:`EntryPointProblem` whose message is
one readable line: a list of what a module does have when an attribute is missing, the kind
of object when an entry point names something that is neither a ``Plugin`` subclass nor a
module. The checks made before import (:mod:`.source_checks`) and the one-line description of
any other exception (:mod:`.causes`) live in modules of their own.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType

from .plugin import Plugin
from .records import parse_reference

__all__ = ["EntryPointProblem", "import_signals_module", "load_plugin_object", "split_value"]


class EntryPointProblem(Exception):
    """An entry point that cannot become a plugin; the message is the one-line cause."""


def split_value(value: str) -> tuple[str, str | None]:
    """``(module, attribute path or None)`` of an entry point value.

    :raises EntryPointProblem: the value is not ``module[:attr[.attr]] [extras]``.
    """
    parsed = parse_reference(value)
    if parsed is None:
        raise EntryPointProblem(
            f"invalid entry point value {value!r} (expected 'package.module' or "
            f"'package.module:Object')"
        )
    return parsed


def load_plugin_object(
    name: str, value: str, reference: tuple[str, str | None] | None = None
) -> tuple[Plugin, ModuleType]:
    """Import ``value`` and make the plugin named ``name`` from it.

    A ``Plugin`` subclass is instantiated with ``name=`` and ``module=``; a module gets
    :meth:`Plugin.for_module`. Anything the import raises propagates unchanged.

    :raises EntryPointProblem: invalid value, missing attribute, or the wrong kind of object.
    """
    # The loader has split the value already and passes it as ``reference``.
    module_name, attr_path = split_value(value) if reference is None else reference
    module = import_module(module_name)
    if attr_path is None:
        return Plugin.for_module(module, name), module
    target: object = module
    walked = module_name
    for part in attr_path.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise EntryPointProblem(_missing_attribute(target, walked, part)) from None
        walked = f"{walked}.{part}" if walked != module_name else f"{module_name}:{part}"
    if isinstance(target, type) and issubclass(target, Plugin):
        home = sys.modules.get(target.__module__, module)
        return target(name=name, module=home), home
    if isinstance(target, ModuleType):
        return Plugin.for_module(target, name), target
    raise EntryPointProblem(
        f"{value.strip()} is {_kind(target)}, not a hookwire.Plugin subclass or a module"
    )


def _kind(target: object) -> str:
    if isinstance(target, Plugin):
        return f"a Plugin instance ({type(target).__qualname__}); name its class instead"
    if isinstance(target, type):
        return f"the class {target.__module__}.{target.__qualname__}"
    kind = type(target).__name__
    return f"an object of type {kind}"


def _missing_attribute(namespace: object, namespace_name: str, missing: str) -> str:
    try:
        names = sorted(name for name in dir(namespace) if not name.startswith("_"))
    except Exception:  # a module's own __dir__ may fail; the message must not
        names = []
    import difflib

    close = difflib.get_close_matches(missing, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(names[:15]) + (", ..." if len(names) > 15 else "")
    return (
        f"{namespace_name} has no attribute {missing!r}{hint} (it has: {shown or 'nothing public'})"
    )


def import_signals_module(plugin: Plugin) -> None:
    """Import ``plugin``'s signals module, so its ``@receiver`` decorators run.

    The default ``"signals"`` may be absent; a module named explicitly must exist.
    """
    module_name = plugin.signals_module_name()
    if module_name is None:
        return
    try:
        import_module(module_name)
    except ModuleNotFoundError as error:
        # The default signals module is optional; one named explicitly must exist.
        optional = plugin.signals_module == Plugin.DEFAULT_SIGNALS_MODULE
        if error.name == module_name and optional:
            return
        raise
