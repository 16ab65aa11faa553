"""Asserting that running the ready phase again registers nothing twice."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Protocol

from ._formatting import signal_label

if TYPE_CHECKING:
    from .._dispatch.introspection import ReceiverInfo
    from .._dispatch.signal import Signal
    from .._host import Host
    from .._loading.registry import Registry

__all__ = ["assert_ready_idempotent"]

# A registration as a person would name it: receiver, sender, dispatch_uid. Two bound methods
# of two instances of one plugin class share it, which is exactly the doubling to catch.
_Key = tuple[str, str, str]


class ReadyPhase(Protocol):
    """What :func:`assert_ready_idempotent` needs: a ``Loader``."""

    @property
    def registry(self) -> Registry: ...

    def load(self) -> Registry: ...

    def ready(self, again: bool = False) -> object: ...


def _key(info: ReceiverInfo) -> _Key:
    return (info.name, info.sender_repr, repr(info.dispatch_uid))


def _registrations() -> dict[Signal, tuple[Counter[_Key], dict[_Key, ReceiverInfo]]]:
    from .._dispatch.signal import all_signals

    table = {}
    for signal in all_signals():
        infos = signal.describe_receivers()
        table[signal] = (Counter(_key(info) for info in infos), {_key(i): i for i in infos})
    return table


def _describe(signal: Signal, info: ReceiverInfo, before: int, after: int) -> str:
    plugin = f" (plugin {info.plugin})" if info.plugin else ""
    sender = "" if info.sender is None else f" for sender {info.sender_repr}"
    return f"{info.name}{plugin} on {signal_label(signal)}{sender}: {before} -> {after}"


def assert_ready_idempotent(loader: ReadyPhase | Host) -> None:
    """Run the ready phase of ``loader`` (or of a :class:`~hookwire.Host`) again and assert it
    changed no registration.

    It is loaded first if it has not been (a host through ``host.load()``, with its usual
    configuration). Then ``ready(again=True)`` runs every ready plugin's signals module and
    ``ready()`` a second time; afterwards every signal must have exactly the receivers it had
    before, and no plugin may have failed.

    :raises AssertionError: naming each receiver registered twice (with its plugin, signal and
        sender), each receiver that appeared or vanished, and each plugin that failed.
    """
    __tracebackhide__ = True
    from .._host import Host
    from .._loading.registry import PluginState

    if isinstance(loader, Host):
        loader.load()
        adopted = loader._current_loader()
        assert adopted is not None  # set by load()
        loader = adopted
    registry = loader.load()
    ready_before = {record.name for record in registry.by_state(PluginState.READY)}
    before = _registrations()
    loader.ready(again=True)
    after = _registrations()

    problems: list[str] = []
    for signal in {*before, *after}:
        counts_before, infos_before = before.get(signal, (Counter(), {}))
        counts_after, infos_after = after.get(signal, (Counter(), {}))
        for key in sorted({*counts_before, *counts_after}):
            old, new = counts_before[key], counts_after[key]
            if old == new:
                continue
            info = infos_after.get(key) or infos_before[key]
            if old and new > old:
                kind = "registered again"
            elif new > old:
                kind = "newly registered"
            else:
                kind = "disconnected"
            problems.append(f"{kind}: {_describe(signal, info, old, new)}")
    for record in loader.registry.by_state(PluginState.FAILED):
        if record.name in ready_before:
            problems.append(f"plugin {record.name} failed when made ready again: {record.error}")
    if problems:
        plugins = ", ".join(sorted(ready_before)) or "none"
        lines = [
            f"the ready phase is not idempotent (ready plugins: {plugins}); running it again "
            f"changed {len(problems)} thing(s):",
            *(f"  - {problem}" for problem in sorted(problems)),
        ]
        raise AssertionError("\n".join(lines))
