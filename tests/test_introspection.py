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
from hookwire._dispatch.attribution import forget_module_owner, plugin_scope, register_module_owner


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
    register_module_owner(__name__, "owner")
    try:
        plugins = [info.plugin for info in signal.describe_receivers()]
    finally:
        forget_module_owner(__name__)
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
