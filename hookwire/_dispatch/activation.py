"""Activations waiting for a signal's first send: the dispatcher's side of lazy plugins.

Loading (:mod:`hookwire._loading.lazy`) files here, for each signal a lazy plugin declares,
a callable that activates the plugin. The dispatcher knows nothing of plugins: a table with
waiting activations has no stored plans, so every send of its signal misses the plan cache
and reaches :meth:`ReceiverTable.plan_for <hookwire._dispatch.table.ReceiverTable.plan_for>`,
which calls :func:`run_waiting` before it builds the plan (so the first send already reaches
the receivers the activation connects) and stores no plan while anything is still waiting.
Signals with nothing waiting never look here: their sends pay nothing for the feature.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .table import ReceiverTable

__all__ = ["file_activation", "run_waiting", "waiting", "withdraw_activation"]

#: table -> {token: activate}; read without a lock by plan_for (a dict lookup is atomic),
#: written under _lock. Tokens identify what is waiting (a plugin's record) for withdrawal.
waiting: dict[ReceiverTable, dict[object, Callable[[], None]]] = {}
_lock = threading.Lock()


def file_activation(table: ReceiverTable, token: object, activate: Callable[[], None]) -> None:
    """Make the next send through ``table`` call ``activate()`` first (until withdrawn).

    The table's stored plans are dropped, so a plan built before cannot serve that send.
    """
    with _lock:
        waiting.setdefault(table, {})[token] = activate
    table.invalidate_plans()


def withdraw_activation(table: ReceiverTable, token: object) -> None:
    """Forget what ``token`` filed for ``table`` (done, failed or unloaded), and drop the
    plans built while it was waiting, which may lack what the activation connected."""
    with _lock:
        hooks = waiting.get(table)
        if hooks is None or hooks.pop(token, None) is None:
            return
        if not hooks:
            del waiting[table]
    table.invalidate_plans()


def run_waiting(table: ReceiverTable) -> None:
    """Call every activation waiting for ``table`` (each decides whether it still has work:
    one already done, or running further up this thread's stack, returns at once)."""
    hooks = waiting.get(table)
    if hooks:
        for activate in tuple(hooks.values()):
            activate()
