"""Text that is safe to print: used by the host and the CLI alike.

Plugin names, versions, paths and error messages come from installed packages and can hold
anything, terminal escape sequences included; whatever prints them goes through :func:`escape`.
"""

from __future__ import annotations

__all__ = ["describe_error", "escape"]


def escape(value: object) -> str:
    """``str(value)`` with every non-printable character written as a Python escape.

    ``"\\x1b[31mred"`` becomes ``"\\\\x1b[31mred"``: visible, harmless, and still telling.
    ``None`` becomes ``"-"``.
    """
    text = "-" if value is None else str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def describe_error(error: BaseException) -> str:
    """``"ValueError: first line of the message"`` (just the type when the message is empty).

    Not escaped: callers escape what they print.
    """
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
