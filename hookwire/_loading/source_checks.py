"""What is known of a plugin before any of its code runs, by asking finders and reading source.

:func:`static_requires_host` reads a ``requires_host`` literal, so an incompatible plugin is
never imported; :func:`static_requires` reads the ``requires`` of a plugin that is never
imported (a disabled one); :func:`working_directory_shadow` tells when a module planted in the
directory the process started in would be imported in place of the installed one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib.machinery import FileFinder, ModuleSpec, PathFinder
from typing import TYPE_CHECKING

from .importing import EntryPointProblem, split_value

if TYPE_CHECKING:
    import ast

__all__ = [
    "find_source_without_import",
    "static_requires",
    "static_requires_host",
    "working_directory_shadow",
]


def working_directory_shadow(
    module_name: str,
    implicit: Sequence[str],
    listed: dict[str, frozenset[str]] | None = None,
) -> str | None:
    """Why importing ``module_name`` would run a file from the working directory, or ``None``.

    ``implicit`` are the ``sys.path`` entries discovery leaves out (``''``, the working
    directory Python put first). When the import system would find the module's top-level
    package there first, and the installed one elsewhere is a different file (or there is none),
    importing it would run whatever was planted in the directory the process started in. No
    module code runs here: only finders are asked, in the order the import system asks them.

    ``listed`` (entry -> the names in its folder) is the listing of one loading pass: each
    entry's folder is listed the first time it is asked about and not looked at again while
    the pass runs (the loader's import phase, asked for hundreds of plugins a few microseconds
    apart). Only code already running in the process could add a file meanwhile.
    """
    top = module_name.partition(".")[0]
    if not implicit or top in sys.modules:
        return None
    if not _found_in(top, implicit, listed):
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


# sys.path entry -> ((device, inode, mtime) of its folder, the stems of its names casefolded):
# what _may_hold() read last. The folder's identity is part of the key, so an entry naming
# another folder now ('' after a chdir) is read again.
_listings: dict[str, tuple[tuple[int, int, int], frozenset[str]]] = {}


def _may_hold(entry: str, name: str, listed: dict[str, frozenset[str]] | None = None) -> bool:
    """Whether the ``sys.path`` folder ``entry`` could hold the top-level module ``name``: a
    name in it whose part before the first dot is ``name`` (a package or namespace folder,
    ``name.py``, ``name.pyc``, an extension module). Read once per folder and modification
    time, as the import system's own finder does, so that asking for each of hundreds of
    plugins costs one ``stat``; ``True`` whenever the answer is not certain."""
    importer = sys.path_importer_cache.get(entry)
    if importer is not None and not isinstance(importer, FileFinder):
        return True  # a zip file or a custom path hook: only its finder can tell
    stems = None if listed is None else listed.get(entry)
    if stems is None:
        folder = entry or "."
        try:
            status = os.stat(folder)
            identity = (status.st_dev, status.st_ino, status.st_mtime_ns)
            cached = _listings.get(entry)
            if cached is None or cached[0] != identity:
                found = os.listdir(folder)
                cached = _listings[entry] = (
                    identity,
                    frozenset(item.partition(".")[0].casefold() for item in found),
                )
        except (OSError, ValueError):
            return True
        stems = cached[1]
        if listed is not None:
            listed[entry] = stems
    return name.casefold() in stems


def _found_in(
    name: str, entries: Sequence[str], listed: dict[str, frozenset[str]] | None = None
) -> bool:
    """Whether the path finder finds the top-level module ``name`` in one of ``entries``."""
    for entry in entries:
        if not _may_hold(entry, name, listed):
            continue
        try:
            if PathFinder.find_spec(name, [entry]) is not None:
                return True
        except (ImportError, ValueError, OSError):
            continue
    return False


def _first_spec(name: str, path: Sequence[str]) -> tuple[str | None, ModuleSpec] | None:
    """``(sys.path entry or None for another finder, spec)`` the import system would use."""
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
