"""A plugin's failure told in one line: the exception type and message, and where it was raised
(``file:line``; for a ``SyntaxError`` the file and line of the bad source)."""

from __future__ import annotations

import os
from types import TracebackType

from .importing import EntryPointProblem

__all__ = ["describe_exception"]


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
