"""hookwire.testing's signal recording: what is recorded, and what the assertions say."""

from __future__ import annotations

import asyncio
import threading
from typing import Any
from unittest import mock

import pytest

from hookwire import Signal
from hookwire.testing import SignalRecorder, record_signals

pytest_plugins = ["pytester"]

pizza_done = Signal(name="pizza_done")
order_placed = Signal(name="order_placed")


class Pizza:
    pass


def _echo(sender: object, **kwargs: Any) -> str:
    return f"echo {kwargs.get('toppings')}"


async def _async_echo(sender: object, **kwargs: Any) -> str:
    await asyncio.sleep(0)
    return "async echo"


def test_every_send_method_is_recorded_with_its_sender_and_arguments() -> None:
    pizza_done.connect(_echo)
    try:
        with record_signals() as recorder:
            pizza_done.send(sender=Pizza, toppings=["ham"])
            pizza_done.send_robust(Pizza, toppings=["olives"])
            asyncio.run(pizza_done.asend(sender=Pizza, toppings=["basil"]))
            asyncio.run(pizza_done.asend_robust(sender=Pizza, toppings=["garlic"]))
    finally:
        pizza_done.disconnect(_echo)

    assert [(c.method, c.sender, c.kwargs) for c in recorder.calls] == [
        ("send", Pizza, {"toppings": ["ham"]}),
        ("send_robust", Pizza, {"toppings": ["olives"]}),
        ("asend", Pizza, {"toppings": ["basil"]}),
        ("asend_robust", Pizza, {"toppings": ["garlic"]}),
    ]
    assert recorder.calls[0].responses == [(_echo, "echo ['ham']")]
    assert recorder.calls[3].responses == [(_echo, "echo ['garlic']")]


def test_signals_nobody_listens_to_and_signals_created_later_are_recorded() -> None:
    with record_signals() as recorder:
        late = Signal(name="late")
        late.send(sender=None, x=1)
        order_placed.send(sender="shop")
    assert [(c.signal, c.sender) for c in recorder.calls] == [(late, None), (order_placed, "shop")]


def test_concurrent_async_sends_in_a_real_event_loop_are_all_recorded() -> None:
    async def main() -> None:
        with pizza_done.connected_to(_async_echo):
            await asyncio.gather(
                *(pizza_done.asend(sender=Pizza, number=n) for n in range(5)),
                order_placed.asend_robust(sender=Pizza),
            )

    with record_signals() as recorder:
        asyncio.run(main())

    numbers = sorted(c.kwargs["number"] for c in recorder.calls_of(pizza_done))  # type: ignore[type-var]
    assert numbers == [0, 1, 2, 3, 4]
    assert all(c.responses == [(_async_echo, "async echo")] for c in recorder.calls_of(pizza_done))
    recorder.assert_sent_once(order_placed, sender=Pizza)


def test_a_sync_send_to_async_receivers_is_recorded_once_and_its_refusal_too() -> None:
    from hookwire.exceptions import SyncSendInEventLoopError

    async def main() -> None:
        with pytest.raises(SyncSendInEventLoopError):
            pizza_done.send(sender=Pizza, where="in a loop")

    with (
        pizza_done.connected_to(_async_echo),
        pizza_done.connected_to(_echo),
        record_signals() as recorder,
    ):
        pizza_done.send(sender=Pizza, where="no loop")
        asyncio.run(main())

    no_loop, in_loop = recorder.calls
    assert no_loop.responses == [(_echo, "echo None"), (_async_echo, "async echo")]
    assert isinstance(in_loop.exception, SyncSendInEventLoopError)
    assert in_loop.kwargs == {"where": "in a loop"}


def test_sends_from_other_threads_are_recorded() -> None:
    def bake(n: int) -> None:
        for _ in range(50):
            pizza_done.send(sender=Pizza, number=n)

    with record_signals(pizza_done) as recorder:
        threads = [threading.Thread(target=bake, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    assert len(recorder) == 200
    for n in range(4):
        assert len(recorder.calls_of(pizza_done, number=n)) == 50


def test_a_send_that_raises_is_recorded_with_its_exception() -> None:
    def broken(sender: object, **kwargs: Any) -> None:
        raise LookupError("no oven")

    with pizza_done.connected_to(broken), record_signals() as recorder, pytest.raises(LookupError):
        pizza_done.send(sender=Pizza)
    (call,) = recorder.calls
    assert isinstance(call.exception, LookupError)
    assert call.responses is None
    assert "pizza_done.send(sender=" in str(call)
    assert "-> raised LookupError" in str(call)


def test_an_async_send_that_raises_is_recorded_with_its_exception() -> None:
    async def broken(sender: object, **kwargs: Any) -> None:
        raise LookupError("no oven")

    with (
        pizza_done.connected_to(broken),
        record_signals() as recorder,
        pytest.raises(LookupError),
    ):
        asyncio.run(pizza_done.asend(sender=Pizza))
    (call,) = recorder.calls
    assert call.method == "asend"
    assert isinstance(call.exception, LookupError)


def test_the_signal_class_is_untouched_once_every_recorder_has_stopped() -> None:
    originals = {name: Signal.__dict__[name] for name in ("send", "asend")}
    outer = record_signals()
    inner = record_signals(order_placed)
    order_placed.send(sender=None, step=1)
    inner.stop()
    order_placed.send(sender=None, step=2)
    assert Signal.__dict__["send"] is not originals["send"]
    outer.stop()
    order_placed.send(sender=None, step=3)

    assert [c.kwargs["step"] for c in outer.calls] == [1, 2]
    assert [c.kwargs["step"] for c in inner.calls] == [1]
    assert {name: Signal.__dict__[name] for name in ("send", "asend")} == originals
    assert not outer.recording


def test_recording_and_the_dispatch_tracer_coexist_in_either_order() -> None:
    from hookwire._dispatch.tracing import install_tracer, remove_tracer

    originals = {name: Signal.__dict__[name] for name in ("send", "send_robust")}
    traced: list[object] = []
    install_tracer(lambda trace: traced.append(trace.signal))
    try:
        with record_signals(order_placed) as recorder:
            order_placed.send(sender=None)
        order_placed.send(sender=None)
    finally:
        remove_tracer()
    assert len(recorder) == 1
    assert traced == [order_placed, order_placed]

    # A recorder started first, a tracer installed and removed on top of it, then recorders
    # again: every send recorded exactly once, and the class ends untouched.
    first = record_signals(order_placed)
    install_tracer(lambda trace: None)
    remove_tracer()
    order_placed.send(sender=None)
    first.stop()
    with record_signals(order_placed) as second:
        order_placed.send_robust(sender=None)
    assert [c.method for c in first.calls] == ["send"]
    assert [c.method for c in second.calls] == ["send_robust"]
    assert {name: Signal.__dict__[name] for name in ("send", "send_robust")} == originals

    # A recorder stopped while the tracer sits on top leaves its wrapper to the tracer, which
    # puts it back when removed; the next recorder adopts it instead of wrapping it again.
    third = record_signals(order_placed)
    install_tracer(lambda trace: None)
    third.stop()
    remove_tracer()
    with record_signals(order_placed) as fourth:
        order_placed.send(sender=None)
    assert len(fourth) == 1
    assert len(third) == 0
    assert {name: Signal.__dict__[name] for name in ("send", "send_robust")} == originals


def test_a_muted_signal_sends_nothing_so_nothing_is_recorded() -> None:
    with pizza_done.connected_to(_echo), record_signals() as recorder:
        with pizza_done.muted():
            assert pizza_done.send(sender=Pizza) == []
            assert pizza_done.send_robust(sender=Pizza) == []
            assert asyncio.run(pizza_done.asend(sender=Pizza)) == []
            assert asyncio.run(pizza_done.asend_robust(sender=Pizza)) == []
        pizza_done.send(sender=Pizza, after="unmuted")
    (call,) = recorder.calls
    assert call.kwargs == {"after": "unmuted"}


def test_assert_sent_compares_only_the_named_arguments_and_returns_the_match() -> None:
    with record_signals() as recorder:
        pizza_done.send(sender=Pizza, toppings=["ham"], size="large")
    call = recorder.assert_sent(pizza_done, sender=Pizza, toppings=["ham"])
    assert call.kwargs["size"] == "large"
    recorder.assert_sent(pizza_done, size=mock.ANY)
    recorder.assert_sent(pizza_done)
    with pytest.raises(AssertionError):
        recorder.assert_sent(pizza_done, sender=None)
    with pytest.raises(AssertionError, match=r"<- differs in: sender, missing \(not sent\)"):
        recorder.assert_sent(pizza_done, sender=None, missing="argument")


def test_sender_none_is_a_sender_to_match_while_an_omitted_sender_matches_any() -> None:
    with record_signals() as recorder:
        order_placed.send(sender=None)
    recorder.assert_sent(order_placed, sender=None)
    recorder.assert_not_sent(order_placed, sender=Pizza)
    assert recorder.sent(order_placed)


def test_assert_sent_once_fails_when_the_signal_matched_twice() -> None:
    with record_signals() as recorder:
        pizza_done.send(sender=Pizza, n=1)
        pizza_done.send(sender=Pizza, n=2)
    recorder.assert_sent_once(pizza_done, n=2)
    with pytest.raises(AssertionError, match=r"was sent 2 times, expected once"):
        recorder.assert_sent_once(pizza_done, sender=Pizza)


def test_assert_not_sent_fails_naming_how_often_the_signal_was_sent() -> None:
    with record_signals() as recorder:
        pizza_done.send(sender=Pizza)
    recorder.assert_not_sent(order_placed)
    with pytest.raises(AssertionError, match=r"pizza_done was sent once, expected never\."):
        recorder.assert_not_sent(pizza_done)


def test_asserting_on_a_signal_the_recorder_does_not_record_is_an_error() -> None:
    with record_signals(pizza_done) as recorder:
        order_placed.send(sender=Pizza)
    assert recorder.calls == []
    with pytest.raises(ValueError, match=r"order_placed is not recorded by this recorder"):
        recorder.assert_not_sent(order_placed)


def test_failure_messages_survive_values_whose_repr_raises() -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no repr for you")

    with record_signals() as recorder:
        pizza_done.send(sender=Hostile(), value=Hostile())
    with pytest.raises(AssertionError) as failure:
        recorder.assert_sent(pizza_done, value=1)
    assert "send(sender=<Hostile instance at " in str(failure.value)
    assert "<- differs in: value" in str(failure.value)


def test_clear_forgets_what_was_recorded_and_recording_goes_on() -> None:
    recorder = SignalRecorder([pizza_done]).start()
    try:
        pizza_done.send(sender=1)
        recorder.clear()
        pizza_done.send(sender=2)
    finally:
        recorder.stop()
    assert [c.sender for c in recorder] == [2]
    assert "1 call(s), stopped" in repr(recorder)


# -- through a real pytest session ------------------------------------------------------------


def _assert_lines_in_order(result: pytest.RunResult, expected: list[str]) -> None:
    """Each expected text appears in a line of the output, in this order (no glob patterns:
    failure messages are full of brackets)."""
    lines = iter(result.outlines)
    for text in expected:
        assert any(text in line for line in lines), f"{text!r} not found in order:\n{result.stdout}"


SIGNALS_MODULE = """
from hookwire import Signal

pizza_done = Signal(name="pizza_done")
order_placed = Signal(name="order_placed")


class Pizza:
    pass
"""


def test_the_signal_recorder_fixture_records_during_the_test_and_stops_after(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(bakery=SIGNALS_MODULE)
    pytester.makepyfile(
        """
        from hookwire import Signal
        from bakery import Pizza, pizza_done

        seen = []

        def test_records(signal_recorder):
            pizza_done.send(sender=Pizza, toppings=["ham"])
            signal_recorder.assert_sent(pizza_done, sender=Pizza, toppings=["ham"])
            seen.append(signal_recorder)

        def test_previous_recorder_stopped():
            pizza_done.send(sender=Pizza)
            assert len(seen[0]) == 1
            assert not seen[0].recording
            assert "send" not in vars(Signal) or not hasattr(vars(Signal)["send"], "__wrapped__")
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)


def test_a_failed_assert_sent_lists_every_signal_sent_and_what_differs(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(bakery=SIGNALS_MODULE)
    pytester.makepyfile(
        """
        from bakery import Pizza, order_placed, pizza_done

        def test_wrong_toppings(signal_recorder):
            order_placed.send(sender=None, order=42)
            pizza_done.send(sender=Pizza, toppings=["cheese"])
            signal_recorder.assert_sent(pizza_done, sender=Pizza, toppings=["ham"])
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    _assert_lines_in_order(
        result,
        [
            "AssertionError: bakery.pizza_done was not sent with sender=<class "
            "'bakery.Pizza'>, toppings=['ham'].",
            "Signals sent (2):",
            "  1. bakery.order_placed.send(sender=None, order=42)",
            "  2. bakery.pizza_done.send(sender=<class 'bakery.Pizza'>, "
            "toppings=['cheese'])    <- differs in: toppings",
        ],
    )
    # The recorder's own frames are hidden: the traceback ends in the test.
    result.stdout.no_fnmatch_line("*_recorder.py*")


def test_a_failed_assert_sent_says_when_nothing_was_sent(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(bakery=SIGNALS_MODULE)
    pytester.makepyfile(
        """
        from bakery import pizza_done

        def test_nothing(record_signals):
            recorder = record_signals(pizza_done)
            recorder.assert_sent_once(pizza_done)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    _assert_lines_in_order(
        result,
        [
            "AssertionError: bakery.pizza_done was not sent, expected once.",
            "No signal of the recorded signals was sent.",
        ],
    )


def test_the_record_signals_fixture_records_only_the_chosen_signals_until_the_test_ends(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(bakery=SIGNALS_MODULE)
    pytester.makepyfile(
        """
        import pytest
        from bakery import Pizza, order_placed, pizza_done

        kept = []

        def test_chosen(record_signals):
            recorder = record_signals(pizza_done)
            everything = record_signals()
            pizza_done.send(sender=Pizza)
            order_placed.send(sender=Pizza)
            assert [c.signal for c in recorder.calls] == [pizza_done]
            assert len(everything) == 2
            with record_signals(order_placed) as block:
                order_placed.send(sender=None)
            assert not block.recording
            kept.extend([recorder, everything])

        def test_stopped_at_teardown():
            pizza_done.send(sender=Pizza)
            assert [len(r) for r in kept] == [1, 3]
            assert not any(r.recording for r in kept)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)


def test_async_sends_in_a_real_event_loop_are_asserted_through_the_fixture(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(bakery=SIGNALS_MODULE)
    pytester.makepyfile(
        """
        import asyncio
        import threading
        from bakery import Pizza, order_placed, pizza_done

        async def box(sender, **kwargs):
            await asyncio.sleep(0)
            return "boxed"

        def test_async_sends(signal_recorder, connect_receiver):
            connect_receiver(pizza_done, box)

            async def serve():
                await asyncio.gather(
                    pizza_done.asend(sender=Pizza, table=1),
                    pizza_done.asend_robust(sender=Pizza, table=2),
                    asyncio.to_thread(order_placed.send, sender=None, table=3),
                )

            asyncio.run(serve())
            call = signal_recorder.assert_sent_once(pizza_done, sender=Pizza, table=1)
            assert call.method == "asend"
            assert call.responses == [(box, "boxed")]
            signal_recorder.assert_sent_once(pizza_done, sender=Pizza, table=2)
            signal_recorder.assert_sent_once(order_placed, sender=None, table=3)
            signal_recorder.assert_not_sent(pizza_done, table=3)

        def test_a_failed_assertion_names_the_async_send(signal_recorder):
            asyncio.run(pizza_done.asend(sender=Pizza, table=4))
            signal_recorder.assert_sent_once(pizza_done, table=5)

        def test_muted_sends_are_not_recorded(signal_recorder, mute_signals):
            with mute_signals(pizza_done):
                asyncio.run(pizza_done.asend(sender=Pizza, table=6))
                pizza_done.send(sender=Pizza, table=7)
            signal_recorder.assert_not_sent(pizza_done)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=1)
    _assert_lines_in_order(
        result,
        [
            "AssertionError: bakery.pizza_done was not sent, expected once with table=5.",
            "  1. bakery.pizza_done.asend(sender=<class 'bakery.Pizza'>, table=4)"
            "    <- differs in: table",
        ],
    )
