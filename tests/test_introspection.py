"""``Signal.describe_receivers`` and ``ReceiverInfo``: what ``hookwire signals`` shows."""

from __future__ import annotations

import dataclasses
import gc
import json
import subprocess
import sys
from typing import Any

import pytest

import hookwire
from hookwire import ReceiverInfo, Signal
from hookwire._dispatch import attribution
from hookwire._dispatch.attribution import claim_module, plugin_scope


def first(**kwargs: Any) -> None:
    return None


async def second(**kwargs: Any) -> None:
    return None


def third(**kwargs: Any) -> None:
    return None


class Model:
    pass


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_receivers_are_listed_in_call_order_sync_before_async() -> None:
    signal = Signal()
    signal.connect(second)
    signal.connect(first)
    signal.connect(third, sender=Model)
    names = [info.qualname for info in signal.describe_receivers()]
    assert names == ["first", "third", "second"]


def test_a_receiver_info_describes_everything_about_the_registration() -> None:
    signal = Signal()
    signal.connect(third, sender=Model, weak=False, dispatch_uid="uid-3")
    [info] = signal.describe_receivers()
    assert info == ReceiverInfo(
        name=f"{__name__}.third",
        module=__name__,
        qualname="third",
        file=__file__,
        line=third.__code__.co_firstlineno,
        plugin=None,
        sender=Model,
        sender_repr=f"{__name__}.Model",
        weak=False,
        dispatch_uid="uid-3",
        is_async=False,
        receiver=third,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.name = "other"  # type: ignore[misc]


def test_to_json_has_the_stable_shape_of_the_signals_command() -> None:
    signal = Signal()
    signal.connect(second)
    signal.connect(first, sender=Model)
    payload = [info.to_json() for info in signal.describe_receivers()]
    assert payload == [
        {
            "receiver": f"{__name__}.first",
            "file": __file__,
            "line": first.__code__.co_firstlineno,
            "plugin": None,
            "sender": f"{__name__}.Model",
            "weak": True,
            "dispatch_uid": None,
            "async": False,
            "remote": None,
            "sender_pending": False,
        },
        {
            "receiver": f"{__name__}.second",
            "file": __file__,
            "line": second.__code__.co_firstlineno,
            "plugin": None,
            "sender": None,
            "weak": True,
            "dispatch_uid": None,
            "async": True,
            "remote": None,
            "sender_pending": False,
        },
    ]
    json.dumps(payload)


def test_the_plugin_comes_from_the_connect_scope_then_from_the_module_owner() -> None:
    signal = Signal()
    with plugin_scope("scoped"):
        signal.connect(first)
    signal.connect(third)
    claims = attribution._snapshot_claims()
    claim_module(__name__, "owner")
    try:
        plugins = [info.plugin for info in signal.describe_receivers()]
    finally:
        attribution._restore_claims(claims)
    assert plugins == ["scoped", "owner"]


def test_a_sender_whose_repr_raises_is_still_described() -> None:
    signal = Signal()
    sender = BadRepr()
    signal.connect(first, sender=sender)
    [info] = signal.describe_receivers()
    assert info.sender is sender
    assert "BadRepr" in info.sender_repr
    assert "BadRepr" in info.to_json()["sender"]


def test_dead_receivers_are_not_listed() -> None:
    signal = Signal()

    class Listener:
        def on_event(self, **kwargs: Any) -> None:
            return None

    listener = Listener()
    signal.connect(listener.on_event)
    assert [info.receiver for info in signal.describe_receivers()] == [listener.on_event]
    del listener
    gc.collect()
    assert signal.describe_receivers() == []


LAZY_IMPORT = """
import sys
import hookwire
before = "hookwire._dispatch.introspection" in sys.modules
info = hookwire.ReceiverInfo
print(before, "hookwire._dispatch.introspection" in sys.modules, info.__module__)
"""


def test_receiver_info_is_public_and_imported_lazily() -> None:
    assert hookwire.ReceiverInfo is ReceiverInfo
    assert "ReceiverInfo" in hookwire.__all__
    # A fresh interpreter: this one imported the module long ago.
    completed = subprocess.run(
        [sys.executable, "-c", LAZY_IMPORT], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["False", "True", "hookwire._dispatch.introspection"]


# -- one plugin's receivers ------------------------------------------------------------------


def _by_filter(signal: Signal, plugin: str) -> list[str]:
    return [info.name for info in signal.describe_receivers() if info.plugin == plugin]


def _of(signal: Signal, plugin: str) -> list[str]:
    return [info.name for info in signal.describe_receivers(plugin=plugin)]


def test_one_plugins_receivers_follow_connect_disconnect_and_rollback() -> None:
    """``describe_receivers(plugin=)`` answers from an index of the registrations by plugin;
    it must say what filtering every receiver says after each kind of change."""
    signal = Signal(name="indexed")
    with plugin_scope("alpha") as alpha:
        signal.connect(first)
    with plugin_scope("beta"):
        signal.connect(second, dispatch_uid="beta.second")
    assert _of(signal, "alpha") == [f"{__name__}.first"]
    assert _of(signal, "beta") == [f"{__name__}.second"]

    with plugin_scope("alpha") as alpha_again:
        signal.connect(third)
    assert _of(signal, "alpha") == [f"{__name__}.first", f"{__name__}.third"]

    assert signal.disconnect(first)
    assert _of(signal, "alpha") == [f"{__name__}.third"]

    alpha_again.undo()  # what a failing plugin's rollback does
    assert _of(signal, "alpha") == []
    alpha.undo()
    assert _of(signal, "beta") == [f"{__name__}.second"]

    snapshot = signal._snapshot_state()
    signal.disconnect(dispatch_uid="beta.second")
    assert _of(signal, "beta") == []
    signal._restore_state(snapshot)
    assert _of(signal, "beta") == [f"{__name__}.second"]
    for plugin in ("alpha", "beta", "gamma"):
        assert _of(signal, plugin) == _by_filter(signal, plugin)


def test_a_dead_receiver_leaves_its_plugins_list() -> None:
    signal = Signal(name="indexed_dead")

    def short_lived(**kwargs: Any) -> None:
        pass

    with plugin_scope("alpha"):
        signal.connect(short_lived)
        signal.connect(first)
    assert len(_of(signal, "alpha")) == 2
    del short_lived
    gc.collect()
    assert _of(signal, "alpha") == [f"{__name__}.first"]


def test_receivers_connected_outside_a_scope_belong_to_the_plugin_owning_their_module_later() -> (
    None
):
    """The host may import a plugin before loading it: its receivers connect outside any scope,
    and belong to it once the loader registers its module, whenever that happens."""
    signal = Signal(name="indexed_late_owner")
    with plugin_scope("alpha"):
        signal.connect(third)
    signal.connect(first)  # outside any scope, defined in this module
    signal.connect(second, sender=int)
    assert _of(signal, "alpha") == [f"{__name__}.third"]
    claims = attribution._snapshot_claims()
    claim_module(__name__, "alpha")
    try:
        # In connect order, whichever way each was attributed.
        expected = [f"{__name__}.{name}" for name in ("third", "first", "second")]
        assert _of(signal, "alpha") == expected
        assert _of(signal, "alpha") == _by_filter(signal, "alpha")
    finally:
        attribution._restore_claims(claims)
    assert _of(signal, "alpha") == [f"{__name__}.third"]


def test_pending_lazy_sender_connections_are_listed_under_their_plugin() -> None:
    signal = Signal(name="indexed_pending")
    with plugin_scope("alpha"):
        signal.connect(first, sender="no_such_module_yet:Thing")
        signal.connect(third)
    infos = signal.describe_receivers(plugin="alpha")
    assert [(info.name, info.sender) for info in infos] == [
        (f"{__name__}.third", None),
        (f"{__name__}.first", "no_such_module_yet:Thing"),
    ]
    assert signal.describe_receivers(plugin="beta") == []
