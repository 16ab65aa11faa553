"""``hookwire plugins new``: write a plugin project for a host, ready to ``pip install -e``.

The files come from templates shipped in ``hookwire/cli/templates/plugin`` (package data read
with :mod:`importlib.resources`); ``${name}`` placeholders are filled from the host: its
entry-point group, version, distribution and one of its public signals.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .._loading.names import normalize_name
from .._text import escape
from ._output import PROG
from ._params import HostOption

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from .._dispatch.signal import Signal
    from .._host import Host

__all__ = ["module_name", "plugins_new", "project_names", "render_project", "shadowing"]

# A valid distribution name (the core metadata specification), ASCII letters and digits.
_DISTRIBUTION_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_TEMPLATE_SUFFIX = ".tmpl"


@dataclass(frozen=True)
class ProjectNames:
    """The names a new plugin project is written with."""

    distribution: str  # as given: "pizzeria-hello"
    module: str  # "pizzeria_hello"
    entry_point: str  # the plugin's name: "hello"
    class_name: str  # "HelloPlugin"


def module_name(name: str) -> str:
    """The package name of the distribution ``name``: ``Pizzeria-Hello`` -> ``pizzeria_hello``.

    :raises ValueError: ``name`` is not a valid distribution name, or gives no valid module.
    """
    import keyword

    if not _DISTRIBUTION_NAME.match(name):
        raise ValueError(
            f"{name!r} is not a valid distribution name: use ASCII letters, digits and "
            "'-', '_' or '.' between them (e.g. 'pizzeria-hello')"
        )
    module = re.sub(r"[-_.]+", "_", name).lower()
    if keyword.iskeyword(module) or keyword.issoftkeyword(module):
        raise ValueError(
            f"{name!r} does not make a Python package name ({module!r} is a Python keyword): "
            "add a word to it (e.g. 'shop-class')"
        )
    if not module.isidentifier():
        raise ValueError(
            f"{name!r} does not make a Python package name ({module!r}): start it with a letter"
        )
    return module


def shadowing(names: ProjectNames, host: Host, host_module: str) -> str | None:
    """Why the project ``names`` would shadow what already exists, or ``None``.

    Its package must not hide a module of the standard library, hookwire, a distribution
    hookwire needs, the host's package, or any module already importable here; its
    distribution must not be hookwire, the host's or one already installed (installing the
    project would replace it).
    """
    import importlib.util

    import importlib_metadata

    from .._loading.names import normalize_name
    from ._install import requirement_chains
    from ._probe import distribution_of_module

    module, distribution = names.module, normalize_name(names.distribution)
    if module in sys.stdlib_module_names:
        return f"its package {module!r} would shadow the module of Python's standard library"
    if "hookwire" in (module, distribution):
        return "it is hookwire's own name"
    host_top = host_module.partition(".")[0]
    host_distribution = distribution_of_module(host_module)
    if module == host_top or (
        host_distribution and distribution == normalize_name(host_distribution)
    ):
        return f"it is the name of host {host.name} ({host_top})"
    needed = requirement_chains([("hookwire", "hookwire")])
    if distribution in needed:
        chain = " -> ".join(needed[distribution][1])
        return f"hookwire needs the distribution of that name ({chain})"
    providers = importlib_metadata.packages_distributions().get(module) or []
    for provider in providers:
        if normalize_name(provider) in needed:
            return f"its package {module!r} is that of {provider}, which hookwire needs"
    try:
        installed = importlib_metadata.distribution(names.distribution)
    except importlib_metadata.PackageNotFoundError:
        pass
    else:
        return (
            f"distribution {installed.metadata['Name']} {installed.version} is already "
            "installed, and installing the new project would replace it"
        )
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):  # a broken module of that name still takes the name
        return f"its package {module!r} would shadow a module of that name (it fails to load)"
    if spec is not None:
        where = f" ({spec.origin})" if spec.origin else ""
        provided_by = f" of {providers[0]}" if providers else ""
        return f"its package {module!r} would shadow the installed module{provided_by}{where}"
    return None


def project_names(name: str, host_name: str) -> ProjectNames:
    """Names derived from the distribution name ``name`` for the host ``host_name``.

    The plugin's name is the distribution's, normalised as plugin names are compared
    (lower case, words joined by ``-``), without the host's name in front: ``pizzeria-reviews``
    gives ``reviews`` and ``pizzeria-hello-world`` gives ``hello-world`` for the host
    ``pizzeria``; ``hello-world`` gives ``hello-world`` (the prefix stays when the rest does not
    start with a letter: ``pizzeria-2go``). Its class is ``HelloWorldPlugin``.

    :raises ValueError: as :func:`module_name`.
    """
    module = module_name(name)
    prefix = re.sub(r"[-_.]+", "_", host_name).lower() + "_"
    words = module.removeprefix(prefix) if module != prefix[:-1] else module
    if not words.isidentifier():
        words = module
    class_name = "".join(part.capitalize() for part in words.split("_")) + "Plugin"
    return ProjectNames(name, module, normalize_name(words), class_name)


def _signal_of(host: Host, chosen: str | None = None) -> Signal:
    """The signal the new plugin's receiver listens to: ``chosen`` (an attribute or qualified
    name among the host's public signals and hookwire's lifecycle signals), else the host's
    first public signal, else hookwire's ``host_started``, which every host sends.

    :raises ValueError: ``chosen`` names no such signal (the message suggests the closest).
    """
    from .. import signals as lifecycle

    own = [
        signal
        for signal in host.signals.values()
        if signal.qualified_name.rpartition(".")[2].isidentifier()
        and signal.qualified_name.rpartition(".")[0]
    ]
    known = list(
        {
            id(signal): signal
            for signal in own + [getattr(lifecycle, name) for name in lifecycle.__all__]
        }.values()
    )
    if chosen is None:
        for signal in own:
            if signal.module != "hookwire.signals":
                return signal
        return lifecycle.host_started
    by_name: dict[str, Signal] = {}
    for signal in known:
        by_name.setdefault(signal.qualified_name, signal)
        by_name.setdefault(signal.qualified_name.rpartition(".")[2], signal)
    if chosen in by_name:
        return by_name[chosen]
    import difflib

    close = difflib.get_close_matches(chosen, list(by_name), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    names = ", ".join(signal.qualified_name for signal in known)
    raise ValueError(f"host {host.name!r} has no signal {chosen!r}{hint} (it has: {names})")


def _comment(text: str, width: int = 88) -> str:
    """``text`` as ``#`` comment lines, escaped and wrapped."""
    import textwrap

    lines = textwrap.wrap(escape(" ".join(text.split())), width - 2) or [""]
    return "\n".join(f"# {line}" for line in lines)


def _signal_values(signal: Signal) -> dict[str, str]:
    """What the templates say about the chosen signal: its doc and declared arguments, the
    receiver's parameters, and the arguments the generated test sends."""
    from ._output import describe_args, signal_args_json

    declared = [arg for arg in signal_args_json(signal) or () if not arg["deprecated"]]
    about = signal.qualified_name + (f": {signal.doc}" if signal.doc else "")
    arguments = describe_args(signal)
    if arguments is None:
        about += " It declares no arguments: read what the host documents from kwargs."
    elif declared:
        about += f" Sent with sender and {arguments}."
    else:
        about += " Sent with sender only."
    if declared:
        entries = "".join(
            f'    "{arg["name"]}": None,{"  # " + escape(arg["type"]) if arg["type"] else ""}\n'
            for arg in declared
        )
        literal = "{\n" + entries + "}"
    else:
        literal = "{}"
    return {
        "signal_comment": _comment(about),
        "receiver_parameters": ", ".join(
            ["sender", *(arg["name"] for arg in declared), "**kwargs"]
        ),
        "arguments": literal,
    }


def _host_dependency(host_module: str) -> str | None:
    from ._probe import distribution_of_module

    distribution = distribution_of_module(host_module)
    if distribution is None or distribution.lower() == "hookwire":
        return None
    return distribution


def template_values(
    names: ProjectNames,
    host: Host,
    host_reference: str,
    signal_name: str | None = None,
    *,
    lazy: bool = False,
) -> dict[str, str]:
    """The values the templates are filled with; ``host_reference`` is ``module:attribute``,
    ``signal_name`` the signal to listen to (see :func:`_signal_of`); ``lazy`` declares that
    signal in the host's declarations group, so the plugin is imported at its first send.

    :raises ValueError: ``signal_name`` names no signal of the host, or ``lazy`` is asked
        for a signal that is not one of the host's own (a lifecycle signal).
    """
    from .. import __version__

    host_module = host_reference.partition(":")[0]
    signal = _signal_of(host, signal_name)
    signal_module, _, signal_attr = signal.qualified_name.rpartition(".")
    dependencies = [f"hookwire>={'.'.join(__version__.split('.')[:2])}"]
    host_distribution = _host_dependency(host_module)
    if host_distribution is not None:
        dependencies.append(host_distribution)
    requires_host = ""
    if host.version:
        from packaging.version import InvalidVersion, Version

        try:
            release = Version(host.version).release
            requires_host = f'\n    requires_host = ">={".".join(map(str, release[:2]))}"'
        except InvalidVersion:
            requires_host = ""
    lazy_declaration = ""
    if lazy:
        if signal.module == "hookwire.signals":
            raise ValueError(
                f"--lazy needs one of host {host.name!r}'s own signals, and "
                f"{signal.qualified_name} is not one (a lazy plugin is activated by the first "
                f"send of a signal the host declares); choose one with --signal"
            )
        from .._loading.records import declarations_group

        lazy_declaration = (
            "\n# A lazy plugin: imported at the first send of a signal declared here.\n"
            f'[project.entry-points."{declarations_group(host.entry_point_group)}"]\n'
            f'"{names.entry_point}.{signal_attr}" = "{signal_module}:{signal_attr}"\n'
        )
    # The built-in host needs no HOST argument; any other is named in the README's commands.
    builtin = host_module == "hookwire._host"
    return {
        "distribution": names.distribution,
        "module": names.module,
        "entry_point": names.entry_point,
        "class_name": names.class_name,
        "verbose_name": names.entry_point.replace("-", " ").capitalize(),
        "requires_host": requires_host,
        "host_name": host.name,
        "host_version": json.dumps(host.version) if host.version else "None",
        "group": host.entry_point_group,
        "dependencies": ", ".join(f'"{dependency}"' for dependency in dependencies),
        "signals_imports": _imports(("hookwire", "receiver"), (signal_module, signal_attr)),
        "tests_imports": _imports(("hookwire", "PluginState"), (signal_module, signal_attr)),
        "signal_attr": signal_attr,
        "signal_path": f"{signal_module}.{signal_attr}",
        "receiver": f"on_{signal_attr}",
        "host_argument": "" if builtin else f" {host_reference}",
        "lazy_declaration": lazy_declaration,
        **_signal_values(signal),
    }


def _imports(*names: tuple[str, str]) -> str:
    # Sorted by module as isort (ruff's "I" rules) wants them, whatever the host's module is.
    return "\n".join(f"from {module} import {name}" for module, name in sorted(names))


def _templates() -> Traversable:
    from importlib.resources import files

    return files("hookwire.cli").joinpath("templates", "plugin")


def _walk(folder: Traversable, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    found = []
    for item in sorted(folder.iterdir(), key=lambda item: item.name):
        if item.is_dir():
            found.extend(_walk(item, (*prefix, item.name)))
        elif item.name.endswith(_TEMPLATE_SUFFIX):
            found.append(((*prefix, item.name), item.read_text(encoding="utf-8")))
    return found


def render_project(values: dict[str, str]) -> dict[str, str]:
    """Relative path -> text of every file of the new project (``package/`` becomes the
    module's folder)."""
    from string import Template

    rendered = {}
    for parts, text in _walk(_templates()):
        path = [values["module"] if part == "package" else part for part in parts]
        path[-1] = path[-1].removesuffix(_TEMPLATE_SUFFIX)
        rendered["/".join(path)] = Template(text).substitute(values)
    return rendered


def plugins_new(
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME",
            help="The distribution name of the new plugin, e.g. pizzeria-hello.",
            show_default=False,
        ),
    ],
    host: HostOption = None,
    directory: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--dir",
            metavar="PATH",
            help="Where to write the project (default: ./NAME). Must be empty or not exist.",
            show_default=False,
        ),
    ] = None,
    signal: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--signal",
            metavar="SIGNAL",
            help=(
                "The signal the plugin's receiver listens to: a name such as 'pizza_done' or "
                "'hookwire.signals.host_started'. Default: the host's first public signal."
            ),
            show_default=False,
        ),
    ] = None,
    lazy: Annotated[
        bool,
        typer.Option(
            "--lazy",
            help=(
                "Declare the signal in the project's metadata (the entry-point group named "
                "after the host's with '.listens' added), so the host imports the plugin at "
                "that signal's first send instead of at start."
            ),
        ),
    ] = False,
) -> int:
    """Write a new plugin project for the host, ready to 'pip install -e'.

    The project has a pyproject.toml (hatchling; the entry point in the host's group; a
    dependency on hookwire and on the host's distribution), a package with a Plugin subclass,
    a signals.py whose receiver listens to one of the host's signals and takes the arguments
    it declares, a README, and tests written with hookwire.testing that send those arguments
    and pass as generated.
    """
    from ._resolve import find_host_reference, import_host
    from ._streams import stdout_to_stderr

    try:
        module_name(name)
    except ValueError as exc:
        sys.stderr.write(f"{PROG}: error: {escape(exc)}\n")
        return 2
    reference = find_host_reference(host)
    with stdout_to_stderr():
        loaded = import_host(reference)
    names = project_names(name, loaded.name)
    why = shadowing(names, loaded, reference.text.partition(":")[0])
    if why is not None:
        prefix = f"{loaded.name}-"
        other = f"{name}-plugin" if name.lower().startswith(prefix.lower()) else prefix + name
        sys.stderr.write(
            f"{PROG}: error: refusing the name {name!r}: {escape(why)}; choose another name "
            f"(e.g. '{escape(other)}')\n"
        )
        return 2
    target = directory if directory is not None else Path(name)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        what = "a file" if not target.is_dir() else "a folder that is not empty"
        sys.stderr.write(
            f"{PROG}: error: {escape(target)} is {what}; choose another place with --dir\n"
        )
        return 1
    try:
        values = template_values(names, loaded, reference.text, signal, lazy=lazy)
    except ValueError as exc:
        sys.stderr.write(f"{PROG}: error: {escape(exc)}\n")
        return 2
    files = render_project(values)
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    sys.stdout.write(
        f"Wrote plugin {escape(names.entry_point)} for host {escape(loaded.name)} "
        f"({escape(loaded.entry_point_group)}) in {escape(target)}:\n"
    )
    for relative in sorted(files):
        sys.stdout.write(f"  {escape(relative)}\n")
    host_option = f" --host {values['host_argument'].strip()}" if values["host_argument"] else ""
    sys.stdout.write(
        f"Next: {PROG} plugins install --editable {escape(target)}{escape(host_option)}\n"
    )
    return 0
