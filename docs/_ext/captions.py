"""Code-block captions are file names, shown as written.

A caption such as ``hello_plugin/__init__.py`` is parsed as inline markup by the directive, so
its double underscores would turn ``init`` bold. Before a page is parsed, underscores and
asterisks in ``:caption:`` lines are escaped; the page's source keeps plain file names, which
the documentation tests also read to write the files out.
"""

from __future__ import annotations

import re
from typing import Any

_CAPTION = re.compile(r"^(?P<lead>\s*:caption:\s*)(?P<text>\S.*)$", re.MULTILINE)


def escape_captions(text: str) -> str:
    """Escape the markup characters of every ``:caption:`` option line in ``text``."""

    def escape(match: re.Match[str]) -> str:
        caption = re.sub(r"(?<!\\)([_*])", r"\\\1", match.group("text"))
        return match.group("lead") + caption

    return _CAPTION.sub(escape, text)


def _on_source_read(app: Any, docname: str, source: list[str]) -> None:
    source[0] = escape_captions(source[0])


def setup(app: Any) -> dict[str, Any]:
    app.connect("source-read", _on_source_read)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
