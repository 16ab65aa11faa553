"""Which plugin the loader is working on, for whoever shows progress (the CLI's status line).

The loader calls :func:`working_on` around each plugin's import and ready phase; one listener
at a time (:func:`listen`) is told ``(plugin, phase)`` as a phase begins and ``(None, None)``
as it ends. Without a listener this costs a global read and a shared no-op block per phase.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

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


def working_on(plugin: str, phase: str) -> AbstractContextManager[None]:
    """Around one plugin's ``phase`` (``"import"`` or ``"ready"``) in the loader."""
    listener = _listener
    if listener is None:
        # The loader opens two of these a plugin: without a listener, one shared no-op block
        # instead of a generator's set-up for each.
        return _IDLE
    return _telling(listener, plugin, phase)


_IDLE: AbstractContextManager[None] = nullcontext()


@contextmanager
def _telling(listener: Listener, plugin: str, phase: str) -> Iterator[None]:
    listener(plugin, phase)
    try:
        yield
    finally:
        listener(None, None)
