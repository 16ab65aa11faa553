"""The pizzeria host: the signals its store, phone line and oven send, and its demo ``main``.

The example is imported inside each test (see ``conftest.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from unittest.mock import ANY

import pytest

from hookwire import PluginState, Signal
from hookwire.signals import setting_changed
from hookwire.testing import FakePlugins, SignalRecorder


def test_the_host_declares_the_pizzeria_signals_and_its_entry_point_group() -> None:
    from pizzeria.app import host
    from pizzeria.signals import pizza_done, pizza_ordered

    assert host.name == "pizzeria"
    assert host.version == "1.4.0"
    assert host.entry_point_group == "pizzeria.plugins"
    assert host.signals["pizzeria.signals.pizza_ordered"] is pizza_ordered
    assert host.signals["pizzeria.signals.pizza_done"] is pizza_done
    assert all(isinstance(signal, Signal) for signal in host.signals.values())


def test_a_counter_order_sends_pizza_ordered_with_the_store_as_sender(
    signal_recorder: SignalRecorder,
) -> None:
    from pizzeria.signals import pizza_ordered
    from pizzeria.store import Pizza, PizzaStore

    order = PizzaStore("Test").take_order("Ada", ["ham"], size="small")

    assert order.pizza == Pizza(("ham",), "small")
    signal_recorder.assert_sent_once(pizza_ordered, sender=PizzaStore, order=order)


def test_a_phone_order_sends_pizza_ordered_with_the_phone_line_as_sender(
    signal_recorder: SignalRecorder,
) -> None:
    from pizzeria.signals import pizza_ordered
    from pizzeria.store import PhoneLine, PizzaStore

    order = PhoneLine(PizzaStore("Test")).take_order("Linus", ["olives"])

    assert order.channel == "phone"
    signal_recorder.assert_sent_once(pizza_ordered, sender=PhoneLine, order=order)
    signal_recorder.assert_not_sent(pizza_ordered, sender=PizzaStore)


def test_send_pizza_sends_pizza_done_with_toppings_and_size_as_in_django_docs(
    signal_recorder: SignalRecorder,
) -> None:
    from pizzeria.signals import pizza_done
    from pizzeria.store import PizzaStore

    store = PizzaStore("Test")
    order = store.take_order("Ada", ["mozzarella", "basil"])
    store.send_pizza(order)

    signal_recorder.assert_sent_once(
        pizza_done, sender=PizzaStore, toppings=["mozzarella", "basil"], size="medium", order=order
    )
    (call,) = signal_recorder.calls_of(pizza_done)
    assert call.method == "send"
    assert store.served == [order]


def test_the_oven_bakes_in_order_and_sends_pizza_done_with_asend(
    signal_recorder: SignalRecorder, capsys: pytest.CaptureFixture[str]
) -> None:
    from pizzeria.signals import pizza_done
    from pizzeria.store import Oven, PizzaStore

    store = PizzaStore("Test")
    first = store.take_order("Ada", ["ham"])
    second = store.take_order("Grace", ["olives"], size="large")
    capsys.readouterr()

    asyncio.run(Oven(temperature=230).bake_all(store, [first, second]))

    calls = signal_recorder.calls_of(pizza_done)
    assert [(call.method, call.kwargs["order"]) for call in calls] == [
        ("asend", first),
        ("asend", second),
    ]
    assert capsys.readouterr().out.splitlines() == [
        "[pizzeria] baking pizza #1 at 230 degrees",
        "[pizzeria] pizza #1 comes out of the oven",
        "[pizzeria] baking pizza #2 at 230 degrees",
        "[pizzeria] pizza #2 comes out of the oven",
    ]


def test_async_receivers_of_pizza_done_hear_both_the_counter_and_the_oven(
    connect_receiver: Callable[..., object],
) -> None:
    from pizzeria.signals import pizza_done
    from pizzeria.store import Oven, PizzaStore

    heard: list[tuple[str, str]] = []

    async def listen(sender: type, order: object, **kwargs: object) -> None:
        heard.append((getattr(order, "customer", "?"), str(kwargs["size"])))

    connect_receiver(pizza_done, listen, sender=PizzaStore)
    store = PizzaStore("Test")
    ada = store.take_order("Ada", ["ham"])
    grace = store.take_order("Grace", ["olives"], size="large")
    store.send_pizza(ada)
    asyncio.run(Oven(temperature=250).bake(store, grace))

    assert heard == [("Ada", "medium"), ("Grace", "large")]


def test_main_without_plugins_serves_three_pizzas_and_sets_the_oven_temperature(
    fake_plugins: FakePlugins,
    signal_recorder: SignalRecorder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pizzeria.app import host
    from pizzeria.signals import pizza_done, pizza_ordered

    registry = fake_plugins.load(host=host)
    assert len(registry) == 0

    assert host.run() == 0

    signal_recorder.assert_sent_once(
        setting_changed, sender=host, setting="oven_temperature", value=250, enter=ANY
    )
    assert host.settings["oven_temperature"] == 250
    assert len(signal_recorder.calls_of(pizza_ordered)) == 3
    assert [call.method for call in signal_recorder.calls_of(pizza_done)] == [
        "send",
        "asend",
        "asend",
    ]
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "[pizzeria] Luigi's opens"
    assert out[-1] == "[pizzeria] Luigi's closes: 3 pizzas served"


def test_main_with_every_example_plugin_runs_them_all(
    fake_plugins: FakePlugins,
    declare_example_plugins: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pizzeria.app import host

    declare_example_plugins("pizzeria-audit", "pizzeria-loyalty", "pizzeria-sms")
    registry = fake_plugins.load(host=host)
    assert {record.name: record.state for record in registry} == {
        "audit": PluginState.READY,
        "loyalty": PluginState.READY,
        "sms": PluginState.READY,
    }

    assert host.run() == 0

    labels = [line.split("]")[0] + "]" for line in capsys.readouterr().out.splitlines()]
    assert {"[audit]", "[loyalty]", "[sms]", "[pizzeria]"} == set(labels)
    assert labels.count("[sms]") == 3
