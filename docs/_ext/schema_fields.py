"""A Sphinx directive that lists the fields of a published JSON Schema as tables.

Usage in a MyST page::

    ```{schema-fields} ../schemas/signals.schema.json
    ```

renders one table per kind of object the schema describes — the document's own object (or
the items of its top-level array) first, then each object it refers to through ``$defs`` — with
every key, its type, whether it is always present, and its description. The schema file is the
only source, so the tables change with the schema at the next build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

_REF_PREFIX = "#/$defs/"


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
        return ref[len(_REF_PREFIX) :]
    return None


def describe_type(schema: dict[str, Any]) -> str:
    """A short, readable type for one property's schema: ``string or null``,
    ``array of receiver``, ``one of "ready", "failed"``."""
    name = _ref_name(schema)
    if name is not None:
        return f"{name} object"
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(value) for value in schema["enum"])
    if "oneOf" in schema or "anyOf" in schema:
        choices = schema.get("oneOf") or schema.get("anyOf") or []
        return " or ".join(describe_type(choice) for choice in choices)
    kinds = schema.get("type")
    if kinds is None:
        return "any"
    if isinstance(kinds, str):
        kinds = [kinds]
    words = []
    for kind in kinds:
        if kind == "array":
            items = schema.get("items")
            words.append(f"array of {describe_type(items)}" if isinstance(items, dict) else "array")
        elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
            words.append(f"object of {describe_type(schema['additionalProperties'])}")
        else:
            words.append(str(kind))
    return " or ".join(words)


def object_tables(schema: dict[str, Any]) -> list[tuple[str, list[tuple[str, str, bool, str]]]]:
    """``(title, rows)`` for each object the schema describes, in reading order: the document's
    own object first, then each ``$defs`` object in the order it is first referred to.
    A row is ``(key, type, always present, description)``."""
    definitions: dict[str, Any] = schema.get("$defs", {})
    order: list[str] = []
    tables: list[tuple[str, list[tuple[str, str, bool, str]]]] = []

    def refs_in(node: Any) -> None:
        if isinstance(node, dict):
            name = _ref_name(node)
            if name is not None and name not in order and name in definitions:
                order.append(name)
            for value in node.values():
                refs_in(value)
        elif isinstance(node, list):
            for value in node:
                refs_in(value)

    def rows_of(obj: dict[str, Any]) -> list[tuple[str, str, bool, str]]:
        required = set(obj.get("required", ()))
        return [
            (key, describe_type(prop), key in required, str(prop.get("description", "")))
            for key, prop in obj.get("properties", {}).items()
        ]

    root = schema
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        root = schema["items"]
    root_name = _ref_name(root)
    if root_name is None:
        tables.append(("the document", rows_of(root)))
    refs_in(root)
    index = 0
    while index < len(order):
        name = order[index]
        refs_in(definitions[name])
        tables.append((name, rows_of(definitions[name])))
        index += 1
    return tables


class SchemaFieldsDirective(SphinxDirective):
    """``schema-fields``: the fields of a JSON Schema file, one table per kind of object."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        relative = self.arguments[0]
        source = Path(self.env.doc2path(self.env.docname)).parent / relative
        try:
            schema = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise self.error(f"schema-fields: cannot read {relative}: {error}") from error
        self.env.note_dependency(str(source))
        result: list[nodes.Node] = []
        for title, rows in object_tables(schema):
            intro = nodes.paragraph()
            if title == "the document":
                intro += nodes.Text("The object's keys:")
            else:
                intro += nodes.Text("Each ")
                intro += nodes.literal(text=title)
                intro += nodes.Text(" object:")
            result.append(intro)
            result.append(self._table(rows))
        return result

    def _table(self, rows: list[tuple[str, str, bool, str]]) -> nodes.table:
        table = nodes.table(classes=["schema-fields"])
        group = nodes.tgroup(cols=3)
        table += group
        for width in (22, 22, 56):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        head += self._row([nodes.Text("key")], [nodes.Text("type")], [nodes.Text("meaning")])
        body = nodes.tbody()
        group += body
        for key, kind, always, description in rows:
            if not always and not description.startswith("Optional"):
                description = f"Optional. {description}"
            body += self._row(
                [nodes.literal(text=key)], [nodes.Text(kind)], [nodes.Text(description)]
            )
        return table

    @staticmethod
    def _row(*cells: list[nodes.Node]) -> nodes.row:
        row = nodes.row()
        for content in cells:
            entry = nodes.entry()
            paragraph = nodes.paragraph()
            for node in content:
                paragraph += node
            entry += paragraph
            row += entry
        return row


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("schema-fields", SchemaFieldsDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
