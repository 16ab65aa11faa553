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
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .table import ReceiverTable

__all__ = [
    "file_activations",
    "restore_waiting",
    "run_waiting",
    "snapshot_waiting",
    "waiting",
    "withdraw_activation",
]

#: table -> {token: activate}; read without a lock by plan_for (membership only) and by
#: run_waiting (a copy of a table's activations, taken in one step), written under _lock in
#: place: withdrawing one plugin's activation costs that plugin, not every plugin still
#: waiting for the same signal. Tokens identify what is waiting (a plugin's record).
waiting: dict[ReceiverTable, dict[object, Callable[[], None]]] = {}
_lock = threading.Lock()


def file_activations(table: ReceiverTable, hooks: Mapping[object, Callable[[], None]]) -> None:
    """Make the next send through ``table`` call each of ``hooks`` (token -> activate) first,
    until withdrawn.

    The table's stored plans are dropped, so a plan built before cannot serve that send.
    """
    with _lock:
        before = waiting.get(table)
        if before is None:
            waiting[table] = dict(hooks)
        else:
            before.update(hooks)
    # A table already waiting has stored no plan since it began to (plan_for stores none
    # while anything waits), so its plans need dropping only the first time.
    if before is None:
        table.invalidate_plans()


def withdraw_activation(table: ReceiverTable, *tokens: object) -> None:
    """Forget what ``tokens`` filed for ``table`` (done, failed or unloaded), and drop the
    plans built while they were waiting, which may lack what an activation connected."""
    with _lock:
        hooks = waiting.get(table)
        if hooks is None:
            return
        gone = [token for token in tokens if token in hooks]
        if not gone:
            return
        for token in gone:
            del hooks[token]
        if not hooks:
            del waiting[table]
    table.invalidate_plans()


def run_waiting(table: ReceiverTable) -> None:
    """Call every activation waiting for ``table`` (each decides whether it still has work:
    one already done, or running further up this thread's stack, returns at once).

    An activation that raises (a strict host's ``LoadError``) does not keep the others from
    running: the first error is raised once every one has run.
    """
    hooks = waiting.get(table)
    if not hooks:
        return
    failure: Exception | None = None
    # A copy (one C call, which no other thread interrupts): the activations withdraw
    # themselves from the dict while this runs them.
    for activate in tuple(hooks.values()):
        try:
            activate()
        except Exception as error:
            if failure is None:
                failure = error
    if failure is not None:
        raise failure


def snapshot_waiting() -> object:
    """What is waiting now, for :func:`restore_waiting` (the pytest plugin's isolation)."""
    with _lock:
        return {table: dict(hooks) for table, hooks in waiting.items()}


def restore_waiting(state: object) -> None:
    """Make exactly what :func:`snapshot_waiting` saw wait again: activations filed since
    (by a host a test loaded and left loaded) no longer run at the next test's sends."""
    assert isinstance(state, dict)
    with _lock:
        changed = set(waiting) ^ set(state)
        changed.update(table for table in state if waiting.get(table) != state[table])
        waiting.clear()
        waiting.update({table: dict(hooks) for table, hooks in state.items()})
    for table in changed:
        table.invalidate_plans()
