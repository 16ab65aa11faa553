"""stdout kept for a command's data alone, at the file-descriptor level.

``redirect_stdout`` only moves Python's ``sys.stdout``: a plugin writing with ``os.write(1,
...)``, printing to ``sys.__stdout__``, or running a subprocess that inherits descriptor 1
would still write into ``hookwire plugins list --json``. While plugins load for a data command,
descriptor 1 itself is pointed at stderr (children started then keep writing there), and is
given back to the data once the load is over.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout

__all__ = ["data_descriptor", "stdout_to_stderr"]


def _flush(*streams: object) -> None:
    for stream in streams:
        flush = getattr(stream, "flush", None)
        if flush is not None:
            try:
                flush()
            except (OSError, ValueError):  # a closed or detached stream: nothing to keep
                pass


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Inside the block, whatever is written to stdout — by Python code or directly to
    descriptor 1, by this process or its children — goes to stderr."""
    _flush(sys.stdout, sys.__stdout__)
    saved = data_descriptor()
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        # What a plugin left in the buffer of the original stdout belongs to stderr too.
        _flush(sys.stdout, sys.__stdout__)
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def data_descriptor() -> int | None:
    """Point descriptor 1 at stderr and return a new descriptor of the original stdout
    (``None`` when there is no descriptor 1 or 2 to work with)."""
    try:
        saved = os.dup(1)
    except OSError:
        return None
    try:
        os.dup2(2, 1)
    except OSError:
        os.close(saved)
        return None
    return saved
