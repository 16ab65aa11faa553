"""A Sphinx directive that renders a typer application's commands as reference sections.

Usage in a MyST page::

    ```{typer-cli} hookwire.cli._app:click_command
    :prog: hookwire
    ```

At build time the directive imports ``module:attribute``, turns a :class:`typer.Typer` into its
command object with :func:`typer.main.get_command` (a click-style command is used as it is,
a function is called for the command it returns),
walks every sub-command, and emits one section per command with its usage line, its help text,
its arguments and its options. Nothing is copied by hand, so the reference cannot drift from the
code: a renamed option changes the page at the next build, and an app that cannot be imported
fails the build.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def _load_command(reference: str) -> Any:
    """Import ``module:attribute`` and return a click-style command object for it."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"expected 'module:attribute', got {reference!r}")
    module = importlib.import_module(module_name)
    target: Any = module
    for part in attribute.split("."):
        target = getattr(target, part)
    import typer
    import typer.main

    if isinstance(target, typer.Typer):
        return typer.main.get_command(target)
    if hasattr(target, "make_context") and hasattr(target, "get_params"):
        return target
    if callable(target):  # a function building the command object
        built = target()
        if hasattr(built, "make_context") and hasattr(built, "get_params"):
            return built
    raise TypeError(
        f"{reference} is neither a typer.Typer, a command object nor a function returning one"
    )


def _help_text(command: Any) -> str:
    """The command's full help, without click's ``\\f`` tail and ``\\b`` no-rewrap markers."""
    text = command.help or ""
    text = text.split("\f", 1)[0]
    return inspect.cleandoc(text.replace("\b\n", "\n"))


def _walk(
    command: Any, ctx: Any, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """Yield ``(path, command, context)`` for ``command`` and every visible sub-command."""
    yield path, command, ctx
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        return
    names = command.list_commands(ctx) if hasattr(command, "list_commands") else list(subcommands)
    for name in names:
        child = (
            command.get_command(ctx, name) if hasattr(command, "get_command") else subcommands[name]
        )
        if child is None or getattr(child, "hidden", False):
            continue
        child_ctx = child.make_context(name, [], parent=ctx, resilient_parsing=True)
        yield from _walk(child, child_ctx, (*path, name))


class TyperCliDirective(SphinxDirective):
    """``typer-cli``: render every command of a typer app (argument: ``module:attribute``)."""

    required_arguments = 1
    has_content = False
    option_spec = {
        "prog": directives.unchanged_required,
    }

    def run(self) -> list[nodes.Node]:
        reference = self.arguments[0]
        try:
            root = _load_command(reference)
        except Exception as error:  # any import failure must fail the build, readably
            raise self.error(
                f"typer-cli: cannot load {reference}: {type(error).__name__}: {error}"
            ) from error
        prog = self.options.get("prog") or root.name or reference
        root_ctx = root.make_context(prog, [], resilient_parsing=True)
        sections: list[nodes.Node] = []
        for path, command, ctx in _walk(root, root_ctx, (prog,)):
            sections.append(self._section(" ".join(path), command, ctx))
        return sections

    def _section(self, title: str, command: Any, ctx: Any) -> nodes.section:
        section = nodes.section()
        section += nodes.title(text=title)
        section["names"].append(title)
        self.state.document.note_implicit_target(section, section)

        usage = command.get_usage(ctx).strip()
        section += nodes.literal_block(usage, usage, language="text")

        for paragraph in _help_text(command).split("\n\n"):
            if paragraph.strip():
                section += nodes.paragraph(text=" ".join(paragraph.split()))

        arguments: list[tuple[str, str]] = []
        options: list[tuple[str, str]] = []
        for param in command.get_params(ctx):
            if getattr(param, "hidden", False):
                continue
            record = param.get_help_record(ctx)
            if record is None:  # a plain click argument: name it at least
                record = (param.human_readable_name, "")
            target = arguments if getattr(param, "param_type_name", "") == "argument" else options
            target.append((record[0], record[1]))

        for heading, rows in (("Arguments", arguments), ("Options", options)):
            if not rows:
                continue
            section += nodes.rubric(text=heading)
            items = nodes.definition_list()
            for term, description in rows:
                item = nodes.definition_list_item()
                term_node = nodes.term()
                term_node += nodes.literal(text=term)
                item += term_node
                definition = nodes.definition()
                definition += nodes.paragraph(text=" ".join(description.split()) or "\N{EM DASH}")
                item += definition
                items += item
            section += items
        return section


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("typer-cli", TyperCliDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
