"""A Sphinx directive listing the signals a module defines, read from the objects themselves.

Usage in a MyST page::

    ```{signal-table} hookwire.signals
    ```

renders the module's docstring as preformatted text (signal modules describe their signals'
arguments in aligned columns, which reStructuredText would misread), then a table with each
:class:`hookwire.Signal` attribute's qualified name and its ``doc``. Importing the module is the
only source: a signal added to the code appears at the next build.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


class SignalTableDirective(SphinxDirective):
    """``signal-table``: every Signal of a module, with the module's own description."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        module_name = self.arguments[0]
        try:
            module = importlib.import_module(module_name)
            from hookwire import Signal
        except Exception as error:  # an import failure must fail the build, readably
            raise self.error(
                f"signal-table: cannot import {module_name}: {type(error).__name__}: {error}"
            ) from error
        result: list[nodes.Node] = []
        description = inspect.cleandoc(module.__doc__ or "")
        if description:
            result.append(nodes.literal_block(description, description, language="text"))
        names = getattr(module, "__all__", None) or sorted(vars(module))
        rows = [
            (value.qualified_name, value.doc or "")
            for value in (getattr(module, name) for name in names)
            if isinstance(value, Signal)
        ]
        table = nodes.table()
        group = nodes.tgroup(cols=2)
        table += group
        group += nodes.colspec(colwidth=45)
        group += nodes.colspec(colwidth=55)
        head = nodes.thead()
        group += head
        head += self._row("signal", "what it means", literal=False)
        body = nodes.tbody()
        group += body
        for name, doc in rows:
            body += self._row(name, doc, literal=True)
        result.append(table)
        return result

    @staticmethod
    def _row(first: str, second: str, *, literal: bool) -> nodes.row:
        row = nodes.row()
        cell = nodes.entry()
        paragraph = nodes.paragraph()
        paragraph += nodes.literal(text=first) if literal else nodes.Text(first)
        cell += paragraph
        row += cell
        cell = nodes.entry()
        cell += nodes.paragraph(text=second)
        row += cell
        return row


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("signal-table", SignalTableDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
