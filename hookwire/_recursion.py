"""Telling runaway recursion through signals apart from a receiver's own ``RecursionError``.

Only used on the failure path: the send loops catch ``RecursionError`` (free until raised) and
ask :func:`recursive_send_error` what it means. The answer comes from walking the stack: if the
same (signal, receiver) pair appears many times, receivers keep sending signals from inside
each other, and the error names that chain.
"""

from __future__ import annotations

import sys
from typing import Any

from .exceptions import RecursiveSendError

__all__ = ["recursive_send_error"]

# A (signal, receiver) pair seen this many times on one stack is a runaway chain.
_REPEATS = 8

_SEND_MODULES = ("hookwire._signals", "hookwire._async_send", "hookwire._tracing")
_SENDS = frozenset(
    {
        "send",
        "send_robust",
        "_send_general",
        "_send_robust_plan",
        "_call_sync",
        "_call_one",
        "traced_send",
    }
)


def _chain_on_stack() -> list[tuple[str, str]]:
    """``(signal, receiver)`` name pairs of the sends on the current stack, outermost first."""
    pairs: list[tuple[str, str]] = []
    frame: Any = sys._getframe(1)
    inner: Any = None  # the frame called by ``frame``
    while frame is not None:
        if frame.f_globals.get("__name__") in _SEND_MODULES and frame.f_code.co_name in _SENDS:
            locals_ = frame.f_locals
            signal = locals_.get("self", locals_.get("signal"))
            if (
                inner is not None
                and signal is not None
                and inner.f_globals.get("__name__") not in _SEND_MODULES
            ):
                pairs.append(
                    (
                        str(getattr(signal, "qualified_name", "?")),
                        f"{inner.f_globals.get('__name__', '?')}.{inner.f_code.co_qualname}",
                    )
                )
        inner = frame
        frame = frame.f_back
    pairs.reverse()
    return pairs


def recursive_send_error(error: RecursionError, *, robust: bool = False) -> Any:
    """The :class:`RecursiveSendError` that ``error`` amounts to, if any.

    Returns ``error`` itself when it already is one, or when the stack is too exhausted to
    look (an outer send will look again). When the stack shows no runaway chain of sends,
    returns ``error`` (``None`` with ``robust=True``, so ``send_robust`` records it as the
    receiver's own failure).
    """
    if isinstance(error, RecursiveSendError):
        return error
    try:
        pairs = _chain_on_stack()
        counts: dict[tuple[str, str], int] = {}
        for pair in pairs:
            counts[pair] = counts.get(pair, 0) + 1
        if not counts or max(counts.values()) < _REPEATS:
            return None if robust else error
        # The cycle: from the first pair that repeats up to its next occurrence.
        first = next(pair for pair in pairs if counts[pair] >= _REPEATS)
        start = pairs.index(first)
        end = pairs.index(first, start + 1)
        cycle = pairs[start:end]
        chain = [name for pair in cycle for name in pair] + [cycle[0][0]]
        message = (
            f"signal {cycle[0][0]} was sent recursively from its own receivers: "
            f"{' -> '.join(chain)} -> ... (at least {counts[first]} times, until Python's "
            "recursion limit); guard the receiver against re-entry or send from elsewhere"
        )
        return RecursiveSendError(message, chain=chain)
    except RecursionError:
        return error
