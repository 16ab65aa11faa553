"""Which plugin the loader is working on, for whoever shows progress (the CLI's status line).

The loader calls :func:`working_on` around each plugin's import and ready phase; one listener
at a time (:func:`listen`) is told ``(plugin, phase)`` as a phase begins and ``(None, None)``
as it ends. Without a listener this costs a global read per phase.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["Listener", "listen", "working_on"]

Listener = Callable[[str | None, str | None], None]

_listener: Listener | None = None


@contextmanager
def listen(listener: Listener) -> Iterator[None]:
    """Tell ``listener`` what the loader works on while the block runs."""
    global _listener
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous


@contextmanager
def working_on(plugin: str, phase: str) -> Iterator[None]:
    """Around one plugin's ``phase`` (``"import"`` or ``"ready"``) in the loader."""
    listener = _listener
    if listener is None:
        yield
        return
    listener(plugin, phase)
    try:
        yield
    finally:
        listener(None, None)
