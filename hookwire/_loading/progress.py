"""Which plugin the loader is working on, for whoever shows progress (the CLI's status line).

The loader calls :func:`working_on` around each plugin's import and ready phase; one listener
at a time (:func:`listen`) is told ``(plugin, phase)`` as a phase begins and ``(None, None)``
as it ends. Without a listener the loader opens no block at all (it reads :data:`listener`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

__all__ = ["Listener", "listen", "listener", "working_on"]

Listener = Callable[[str | None, str | None], None]

#: The listener being told, if any (set only by :func:`listen`; the loader reads it to skip
#: even the no-op block when nobody listens).
listener: Listener | None = None


@contextmanager
def listen(told: Listener) -> Iterator[None]:
    """Tell ``told`` what the loader works on while the block runs."""
    global listener
    previous, listener = listener, told
    try:
        yield
    finally:
        listener = previous


def working_on(plugin: str, phase: str) -> AbstractContextManager[None]:
    """Around one plugin's ``phase`` (``"import"`` or ``"ready"``) in the loader."""
    current = listener
    if current is None:
        # Without a listener, one shared no-op block instead of a generator's set-up for each.
        return _IDLE
    return _telling(current, plugin, phase)


_IDLE: AbstractContextManager[None] = nullcontext()


@contextmanager
def _telling(listener: Listener, plugin: str, phase: str) -> Iterator[None]:
    listener(plugin, phase)
    try:
        yield
    finally:
        listener(None, None)
