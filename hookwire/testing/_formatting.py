"""Short, never-raising descriptions of signals and values for failure messages."""

from __future__ import annotations

import reprlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._dispatch.signal import Signal

__all__ = ["safe_repr", "signal_label"]

_repr = reprlib.Repr()
_repr.maxstring = 80
_repr.maxother = 80
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxdict = 8


def safe_repr(value: object) -> str:
    """``repr(value)``, shortened; an object whose ``repr`` raises is still described."""
    try:
        return _repr.repr(value)
    except Exception as exc:
        return f"<{type(value).__qualname__} object (repr raised {type(exc).__name__})>"


def signal_label(signal: Signal) -> str:
    """The signal's qualified name (``module.name``) when it has one, else a safe repr."""
    try:
        label = getattr(signal, "qualified_name", None) or getattr(signal, "name", None)
    except Exception:
        label = None
    return str(label) if label else safe_repr(signal)
