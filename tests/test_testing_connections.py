"""hookwire.testing's temporary changes: muting signals and connecting receivers."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

from hookwire import Signal
from hookwire.testing import connect_receiver, mute_signals

pytest_plugins = ["pytester"]

pizza_done = Signal(name="pizza_done")
order_placed = Signal(name="order_placed")


def _answer(sender: object, **kwargs: Any) -> str:
    return "answered"


def test_connect_receiver_connects_until_the_with_block_ends() -> None:
    with connect_receiver(pizza_done, _answer, sender="shop") as change:
        assert change.receiver is _answer
        assert pizza_done.send(sender="shop") == [(_answer, "answered")]
        assert pizza_done.send(sender="elsewhere") == []
    assert pizza_done.send(sender="shop") == []


def test_connect_receiver_holds_a_lambda_strongly_by_default() -> None:
    change = connect_receiver(pizza_done, lambda sender, **kwargs: "lambda")
    try:
        assert [response for _, response in pizza_done.send(sender=None)] == ["lambda"]
    finally:
        change.undo()
    change.undo()
    assert not pizza_done.has_listeners()


def test_connect_receiver_leaves_a_receiver_connected_before_it_connected() -> None:
    pizza_done.connect(_answer, sender="shop")
    try:
        with connect_receiver(pizza_done, _answer, sender="shop"):
            assert pizza_done.send(sender="shop") == [(_answer, "answered")]
        assert pizza_done.send(sender="shop") == [(_answer, "answered")]
    finally:
        pizza_done.disconnect(_answer, sender="shop")


def test_connect_receiver_with_a_dispatch_uid_undoes_that_connection() -> None:
    with connect_receiver(pizza_done, _answer, dispatch_uid="answer") as change:
        pizza_done.connect(_answer, dispatch_uid="answer")  # the same uid: nothing new
        assert len(pizza_done.send(sender=None)) == 1
    change.undo()
    assert not pizza_done.has_listeners()


def test_a_dropped_handle_leaves_the_change_in_place_until_undone() -> None:
    handles = [
        weakref.ref(connect_receiver(pizza_done, _answer)),
        weakref.ref(mute_signals(order_placed)),
    ]
    gc.collect()
    connected, muted = (ref() for ref in handles)
    assert connected is not None
    assert muted is not None
    assert pizza_done.send(sender=None) == [(_answer, "answered")]
    assert "send" in vars(order_placed)  # the muted send
    connected.undo()
    muted.undo()
    assert not pizza_done.has_listeners()
    assert "send" not in vars(order_placed)


def test_connect_receiver_rejects_what_signal_connect_rejects() -> None:
    with pytest.raises(TypeError):
        connect_receiver(pizza_done, "not callable")  # type: ignore[type-var]
    with pytest.raises(ValueError, match="must accept keyword arguments"):
        connect_receiver(pizza_done, lambda sender: None)
    assert not pizza_done.has_listeners()


def test_mute_signals_mutes_the_given_signals_until_undone() -> None:
    with (
        connect_receiver(pizza_done, _answer),
        connect_receiver(order_placed, _answer),
    ):
        change = mute_signals(pizza_done)
        assert pizza_done.send(sender=None) == []
        assert order_placed.send(sender=None) == [(_answer, "answered")]
        change.undo()
        assert pizza_done.send(sender=None) == [(_answer, "answered")]


def test_mute_signals_without_arguments_mutes_every_existing_signal() -> None:
    with connect_receiver(pizza_done, _answer), connect_receiver(order_placed, _answer):
        with mute_signals() as change:
            assert pizza_done in change.signals
            assert order_placed in change.signals
            assert pizza_done.send(sender=None) == []
            assert order_placed.send_robust(sender=None) == []
        assert order_placed.send(sender=None) == [(_answer, "answered")]


def test_the_fixtures_undo_their_changes_when_the_test_ends(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio
        from hookwire import Signal

        pizza_done = Signal(name="pizza_done")
        order_placed = Signal(name="order_placed")

        def listen(sender, **kwargs):
            return "listened"

        def test_changes(connect_receiver, mute_signals):
            connect_receiver(pizza_done, lambda sender, **kwargs: "hi", sender="shop")
            mute_signals(order_placed)
            order_placed.connect(listen)
            assert len(pizza_done.send(sender="shop")) == 1
            assert order_placed.send(sender=None) == []
            assert asyncio.run(order_placed.asend(sender=None)) == []
            order_placed.disconnect(listen)

        def test_undone():
            assert not pizza_done.has_listeners()
            order_placed.connect(listen)
            assert len(order_placed.send(sender=None)) == 1

        def test_with_blocks_end_the_changes_earlier(connect_receiver, mute_signals):
            with connect_receiver(pizza_done, listen) as change:
                assert change.receiver is listen
                with mute_signals(pizza_done):
                    assert pizza_done.send(sender=None) == []
                assert pizza_done.send(sender=None) == [(listen, "listened")]
            assert not pizza_done.has_listeners()
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=3)
