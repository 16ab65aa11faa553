"""The order plugins are made ready in, from their ``requires``, and cycle detection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..exceptions import PluginRequirementError
from .registry import PluginRecord, PluginState, normalize_name

__all__ = ["ready_order", "requirement_message", "unmet_requirement"]


def ready_order(
    names: Sequence[str], requires: Mapping[str, Sequence[str]]
) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """Order ``names`` so that every name comes after the names it requires.

    Requirements outside ``names`` are ignored here (the loader reports them). Ties keep the
    order of ``names``. Returns the order and, for every name on a requirement cycle, the cycle
    as seen from it: ``("a", "b", "a")`` for ``a -> b -> a``. Cycle members still appear in
    the order (they fail when their turn comes).
    """
    candidates = set(names)
    order: list[str] = []
    cycles: dict[str, tuple[str, ...]] = {}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> None:
        # Iterative DFS is not needed: requirement chains are short, and recursion keeps the
        # cycle path at hand.
        state[name] = 1
        path.append(name)
        for required in requires.get(name, ()):
            if required not in candidates:
                continue
            status = state.get(required)
            if status == 1:
                cycle = path[path.index(required) :]
                for position, member in enumerate(cycle):
                    rotated = (*cycle[position:], *cycle[:position])
                    cycles.setdefault(member, (*rotated, member))
            elif status is None:
                visit(required)
        path.pop()
        state[name] = 2
        order.append(name)

    for name in names:
        if name not in state:
            visit(name)
    return order, cycles


def requirement_message(chain: Sequence[str], chain_end: str) -> str:
    """``"a requires b, which requires c" + chain_end`` for the chain ``(a, b, c)``."""
    return f"{chain[0]} requires {', which requires '.join(chain[1:])}{chain_end}"


def unmet_requirement(
    record: PluginRecord,
    records: Mapping[str, PluginRecord],
    cycle: tuple[str, ...] | None,
) -> tuple[tuple[str, ...], str] | None:
    """Why ``record`` cannot be made ready, as ``(chain of names, chain end)``, or ``None``.

    ``records`` maps normalised names to records; ``cycle`` is ``record``'s cycle from
    :func:`ready_order`. A requirement that failed for want of its own requirements extends
    that chain: ``("a", "b", "c")`` ending with ``", which failed in the import phase: ..."``.
    """
    if cycle is not None:
        return tuple(records[key].name for key in cycle), " (a requirement cycle)"
    for required in record.requires:
        dependency = records.get(normalize_name(required))
        if dependency is None:
            return (record.name, required), ", which is not installed" + _closest(
                required, record, records
            )
        if dependency.state is PluginState.DISABLED:
            return (record.name, dependency.name), f", which is {dependency.reason}"
        if dependency.state is PluginState.FAILED:
            failure = dependency.exception
            chain_end = dependency.unmet_requirement_end
            if isinstance(failure, PluginRequirementError) and chain_end is not None:
                return (record.name, *failure.chain), chain_end
            return (
                (record.name, dependency.name),
                f", which failed in the {dependency.phase} phase: {dependency.failure_cause}",
            )
        if dependency.state is not PluginState.READY:
            return (record.name, dependency.name), f", which is {dependency.state.value}"
    return None


def _closest(required: str, requiring: PluginRecord, records: Mapping[str, PluginRecord]) -> str:
    """``"; did you mean 'loyalty'?"`` when another plugin is named like the missing
    ``required`` (a plugin cannot mean itself)."""
    import difflib

    names = {
        normalize_name(record.name): record.name
        for record in records.values()
        if record is not requiring
    }
    close = difflib.get_close_matches(normalize_name(required), list(names), n=1, cutoff=0.6)
    return f"; did you mean {names[close[0]]!r}?" if close else ""
