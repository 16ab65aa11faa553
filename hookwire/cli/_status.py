"""A transient status line on the terminal while plugins load: a plugin whose import (or
``ready()``) takes more than :data:`DELAY` seconds is named on stderr, and the line is erased
as soon as that phase ends. Only when stderr is a terminal: captured or redirected output never
holds it."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .._text import escape
from ._output import PROG

__all__ = ["DELAY", "loading_status"]

#: Seconds a plugin's phase runs before the status line names it.
DELAY = 1.0
_ERASE = "\r\x1b[K"
_WORDS = {"import": "importing plugin", "ready": "making plugin {} ready"}


def _on_terminal() -> bool:
    try:
        return os.isatty(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):
        return False


@contextmanager
def loading_status() -> Iterator[None]:
    """While the block loads plugins, name on the terminal the one taking long."""
    if not _on_terminal():
        yield
        return
    from .._loading.progress import listen

    # (plugin, phase, monotonic start), swapped whole by the loading thread.
    current: list[tuple[str, str, float] | None] = [None]
    shown = [False]
    lock = threading.Lock()  # the loading thread erases, the ticker writes: one at a time
    done = threading.Event()

    def told(plugin: str | None, phase: str | None) -> None:
        with lock:
            current[0] = (
                None if plugin is None or phase is None else (plugin, phase, time.monotonic())
            )
            if shown[0]:
                _write(_ERASE)
                shown[0] = False

    def tick() -> None:
        while not done.wait(0.1):
            with lock:
                working = current[0]
                if working is None or shown[0] or time.monotonic() - working[2] < DELAY:
                    continue
                plugin, phase, _ = working
                words = _WORDS.get(phase, "loading plugin")
                text = words.format(plugin) if "{}" in words else f"{words} {plugin}"
                _write(f"{PROG}: {escape(text)}...")
                shown[0] = True

    ticker = threading.Thread(target=tick, name="hookwire-status", daemon=True)
    with listen(told):
        ticker.start()
        try:
            yield
        finally:
            done.set()
            ticker.join()
            with lock:
                if shown[0]:
                    _write(_ERASE)


def _write(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
