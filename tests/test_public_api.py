"""The public names of ``hookwire``: pinned, sorted, and each one resolvable."""

from __future__ import annotations

import hookwire

EXPECTED = [
    "Host",
    "HostRunning",
    "ObservedSend",
    "Plugin",
    "PluginRecord",
    "PluginState",
    "ReceiverInfo",
    "Registry",
    "SendObserver",
    "Signal",
    "TypedSignal",
    "__version__",
    "add_observer",
    "exceptions",
    "observing",
    "receiver",
    "remove_observer",
    "signal_spec",
]


def test_all_is_pinned_and_sorted() -> None:
    assert hookwire.__all__ == EXPECTED
    assert hookwire.__all__ == sorted(hookwire.__all__)


def test_every_public_name_resolves() -> None:
    for name in hookwire.__all__:
        assert getattr(hookwire, name) is not None, name


def test_every_public_name_is_listed_by_dir() -> None:
    assert set(hookwire.__all__) <= set(dir(hookwire))


def test_signal_and_receiver_come_from_the_dispatcher() -> None:
    assert hookwire.Signal.__module__ == "hookwire._dispatch.signal"
    assert hookwire.receiver.__module__ == "hookwire._dispatch.signal"
    assert hookwire.ReceiverInfo.__module__ == "hookwire._dispatch.introspection"
