"""Turning an entry point into a :class:`~hookwire.Plugin`, and describing what went wrong.

Every failure here becomes one readable line: the exception type and message, plus where it
was raised (``file:line``; for a ``SyntaxError`` the file and line of the bad source), a list
of what a module does have when an attribute is missing, and the kind of object when an entry
point names something that is neither a ``Plugin`` subclass nor a module.

Two checks run before any plugin code does, by asking finders and reading source only:
:func:`static_requires_host` (a ``requires_host`` literal, so an incompatible plugin is never
imported) and :func:`working_directory_shadow` (a module planted in the directory the process
started in must not be imported in place of the installed one).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib import import_module
from importlib.machinery import ModuleSpec
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING

from .plugin import Plugin
from .records import parse_reference

if TYPE_CHECKING:
    import ast

__all__ = [
    "EntryPointProblem",
    "describe_exception",
    "find_source_without_import",
    "import_signals_module",
    "load_plugin_object",
    "owner_module_name",
    "split_value",
    "static_requires_host",
    "working_directory_shadow",
]


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


def load_plugin_object(name: str, value: str) -> tuple[Plugin, ModuleType]:
    """Import ``value`` and make the plugin named ``name`` from it.

    A ``Plugin`` subclass is instantiated with ``name=`` and ``module=``; a module gets
    :meth:`Plugin.for_module`. Anything the import raises propagates unchanged.

    :raises EntryPointProblem: invalid value, missing attribute, or the wrong kind of object.
    """
    module_name, attr_path = split_value(value)
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


def _missing_attribute(owner: object, owner_name: str, missing: str) -> str:
    try:
        names = sorted(name for name in dir(owner) if not name.startswith("_"))
    except Exception:  # a module's own __dir__ may fail; the message must not
        names = []
    import difflib

    close = difflib.get_close_matches(missing, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(names[:15]) + (", ..." if len(names) > 15 else "")
    return f"{owner_name} has no attribute {missing!r}{hint} (it has: {shown or 'nothing public'})"


def describe_exception(error: BaseException) -> str:
    """One line: ``Type: message`` and where it was raised (``file:line``).

    Never raises, whatever the exception's ``__str__`` does: describing a plugin's failure
    must not become a failure of the loader.
    """
    if isinstance(error, EntryPointProblem):
        return str(error)
    if isinstance(error, SyntaxError):
        location = f"{error.filename}:{error.lineno}" if error.filename else "?"
        return f"{type(error).__name__} at {location}: {_collapse_whitespace(error.msg)}"
    if isinstance(error, SystemExit):
        text = f"SystemExit({_safe_repr(error.code)}) (sys.exit() was called)"
    else:
        message = _collapse_whitespace(_safe_str(error))
        text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    where = _raised_at(error.__traceback__)
    return f"{text} (at {where})" if where else text


def _collapse_whitespace(text: object) -> str:
    return " ".join(str(text).split())


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)
    except Exception as broken:
        return f"<str() of the exception raised {type(broken).__name__}>"


def _safe_repr(value: object) -> str:
    try:
        return _collapse_whitespace(repr(value))
    except Exception as broken:
        return f"<repr() raised {type(broken).__name__}>"


def _raised_at(traceback: TracebackType | None) -> str | None:
    last = None
    while traceback is not None:
        frame = traceback.tb_frame
        filename = frame.f_code.co_filename
        # Frames of the import machinery say nothing about the plugin, and hookwire's own
        # frames (a connect refusing a receiver) would point away from the line to change.
        if not filename.startswith(("<frozen", _PACKAGE_DIR)):
            last = f"{filename}:{traceback.tb_lineno}"
        traceback = traceback.tb_next
    return last


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def owner_module_name(plugin: Plugin, module: ModuleType) -> str:
    """The module (and submodules) whose receivers belong to ``plugin`` when they were
    connected outside any plugin scope, e.g. because the host imported the plugin itself.

    The plugin's package, which also holds its signals module; the plugin's own module when
    that package is a namespace package shared with other distributions, or absent.
    """
    package = plugin.package
    if package is not None:
        holder = sys.modules.get(package)
        if holder is not None and getattr(holder, "__file__", None) is not None:
            return package
    return module.__name__


def working_directory_shadow(module_name: str, implicit: Sequence[str]) -> str | None:
    """Why importing ``module_name`` would run a file from the working directory, or ``None``.

    ``implicit`` are the ``sys.path`` entries discovery leaves out (``''``, the working
    directory Python put first). When the import system would find the module's top-level
    package there first, and the installed one elsewhere is a different file (or there is none),
    importing it would run whatever was planted in the directory the process started in. No
    module code runs here: only finders are asked, in the order the import system asks them.
    """
    top = module_name.partition(".")[0]
    if not implicit or top in sys.modules:
        return None
    if not _found_in(top, implicit):
        # Nothing there to shadow anything: spares walking the whole path for every plugin.
        return None
    skipped = set(implicit)
    first = _first_spec(top, sys.path)
    if first is None or first[0] not in skipped:
        return None
    planted = _spec_location(first[1])
    alternative = _first_spec(top, [entry for entry in sys.path if entry not in skipped])
    if alternative is not None and _spec_location(alternative[1]) == planted:
        return None  # the same file either way, e.g. an editable install of the cwd project
    if alternative is None:
        return (
            f"module {top} is found only in the working directory ({planted}), which is not "
            f"imported from implicitly; put it on PYTHONPATH if it is meant to be used"
        )
    return (
        f"module {top} would be imported from the working directory ({planted}) instead of "
        f"the installed {_spec_location(alternative[1])}; refusing to run it (start the "
        f"process from another directory)"
    )


def _found_in(name: str, entries: Sequence[str]) -> bool:
    """Whether the path finder finds the top-level module ``name`` in one of ``entries``."""
    from importlib.machinery import PathFinder

    for entry in entries:
        try:
            if PathFinder.find_spec(name, [entry]) is not None:
                return True
        except (ImportError, ValueError, OSError):
            continue
    return False


def _first_spec(name: str, path: Sequence[str]) -> tuple[str | None, ModuleSpec] | None:
    """``(sys.path entry or None for another finder, spec)`` the import system would use."""
    from importlib.machinery import PathFinder

    for finder in sys.meta_path:
        if finder is PathFinder:
            for entry in path:
                try:
                    spec = PathFinder.find_spec(name, [entry])
                except (ImportError, ValueError, OSError):
                    continue
                if spec is not None:
                    return entry, spec
            continue
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        try:
            found = find_spec(name, None)
        except Exception:
            continue
        if found is not None:
            return None, found
    return None


def _spec_location(spec: ModuleSpec) -> str:
    if spec.origin and spec.has_location:
        return os.path.realpath(spec.origin)
    locations = list(spec.submodule_search_locations or ())
    return os.path.realpath(locations[0]) if locations else str(spec.origin)


def find_source_without_import(module_name: str) -> str | None:
    """The ``.py`` file that importing ``module_name`` would run, found without running code.

    Only the path-based finder is asked, so ``None`` means "unknown" (an editable install's
    custom finder, a zip, an extension module), not "absent".
    """
    from importlib.machinery import PathFinder

    search: list[str] | None = None
    origin: str | None = None
    parts = module_name.split(".")
    for depth in range(1, len(parts) + 1):
        name = ".".join(parts[:depth])
        loaded = sys.modules.get(name)
        spec = getattr(loaded, "__spec__", None) if loaded is not None else None
        if spec is None:
            try:
                spec = PathFinder.find_spec(name, search)
            except (ImportError, ValueError, OSError):
                return None
        if spec is None:
            return None
        origin = spec.origin
        locations = spec.submodule_search_locations
        search = list(locations) if locations is not None else None
    if origin is None or not origin.endswith(".py"):
        return None
    return origin


def static_requires_host(value: str) -> str | None:
    """The ``requires_host`` string literal a plugin declares, read from source, not run.

    Looks at ``requires_host = "..."`` in the named class's body (or at module level for a
    bare-module entry point). ``None`` when the source cannot be found, the value is not a
    literal, or it is inherited: the loader checks again after import in every case.
    """
    import ast

    found = _static_assignment(value, "requires_host")
    if isinstance(found, ast.Constant) and isinstance(found.value, str):
        return found.value
    return None


def static_requires(value: str) -> tuple[str, ...] | None:
    """The ``requires`` a plugin declares as a tuple or list of string literals, read from
    source without running it (for plugins that are never imported: disabled ones).

    ``None`` when it cannot be known that way (no source, not literals, inherited).
    """
    import ast

    found = _static_assignment(value, "requires")
    if not isinstance(found, ast.Tuple | ast.List):
        return None
    names: list[str] = []
    for element in found.elts:
        if not (isinstance(element, ast.Constant) and isinstance(element.value, str)):
            return None
        names.append(element.value)
    return tuple(names)


def _static_assignment(value: str, name: str) -> ast.expr | None:
    """The expression last assigned to ``name`` in the body of the entry point's class (or
    module), found by parsing its source; ``None`` when there is none to be found."""
    try:
        module_name, attr_path = split_value(value)
    except EntryPointProblem:
        return None
    if attr_path is not None and "." in attr_path:
        return None
    origin = find_source_without_import(module_name)
    if origin is None:
        return None
    import ast

    try:
        with open(origin, "rb") as stream:
            tree = ast.parse(stream.read(), filename=origin)
    except (OSError, SyntaxError, ValueError):
        return None  # the import itself will report a syntax error properly
    body: list[ast.stmt] = tree.body
    if attr_path is not None:
        classes = [
            node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == attr_path
        ]
        if not classes:
            return None
        body = classes[-1].body
    found: ast.expr | None = None
    for node in body:
        if isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                found = node.value
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
        ):
            found = node.value
    return found


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
