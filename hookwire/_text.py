"""Text that is safe to print: used by the host and the CLI alike.

Plugin names, versions, paths and error messages come from installed packages and can hold
anything, terminal escape sequences included; whatever prints them goes through :func:`escape`.
"""

from __future__ import annotations

__all__ = ["describe_error", "escape", "escape_lines"]


def escape(value: object) -> str:
    """``str(value)`` with every non-printable character written as a Python escape.

    ``"\\x1b[31mred"`` becomes ``"\\\\x1b[31mred"``: visible, harmless, and still telling.
    ``None`` becomes ``"-"``.
    """
    text = "-" if value is None else str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def escape_lines(text: str) -> str:
    """``text`` (a traceback, several lines) with each line escaped as :func:`escape` does; the
    line breaks themselves are kept."""
    return "".join(escape(line) + "\n" for line in text.splitlines())


def describe_error(error: BaseException) -> str:
    """``"ValueError: first line of the message"`` (just the type when the message is empty).

    Never raises: an exception whose ``str()`` raises is described by its type and what its
    ``str()`` raised. Not escaped: callers escape what they print.
    """
    name = _type_name(error)
    try:
        text = str(error)
    except Exception as broken:
        return f"{name} (its message cannot be shown: str() raised {_type_name(broken)})"
    lines = text.strip().splitlines() if isinstance(text, str) else []
    return f"{name}: {lines[0]}" if lines else name


def _type_name(error: BaseException) -> str:
    name = getattr(type(error), "__name__", None)
    return name if isinstance(name, str) else "exception"
