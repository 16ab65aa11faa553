"""The loyalty plugin: a bare module whose `signals` module is imported in the ready phase.

The example is imported inside each test (see ``conftest.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from hookwire import PluginState, Registry
from hookwire.testing import FakePlugins


@pytest.fixture
def registry(fake_plugins: FakePlugins, declare_example_plugins: Callable[..., None]) -> Registry:
    declare_example_plugins("pizzeria-loyalty")
    return fake_plugins.load(group="pizzeria.plugins", host_version="1.4.0")


@pytest.fixture
def ledger(registry: Registry) -> Any:
    """The ledger of the loyalty module loaded for this test (each test imports it afresh)."""
    module: Any = registry["loyalty"].plugin.module  # type: ignore[union-attr]
    return module.ledger


def loyalty_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith("[loyalty]")]


def test_a_bare_module_becomes_a_ready_plugin_with_its_three_receivers(registry: Registry) -> None:
    record = registry["loyalty"]
    assert record.state is PluginState.READY
    assert record.distribution == "pizzeria-loyalty"
    assert record.version == "0.3.0"
    assert record.plugin is not None
    assert record.plugin.verbose_name == "Loyalty programme"
    assert sorted(info.name for info in record.receivers()) == [
        "pizzeria_loyalty.signals.award_points",
        "pizzeria_loyalty.signals.count_pizzas",
        "pizzeria_loyalty.signals.stamp_card",
    ]


def test_counter_orders_earn_points_and_phone_orders_do_not(
    ledger: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from pizzeria.store import PhoneLine, PizzaStore

    store = PizzaStore("Test")
    store.take_order("Ada", ["ham"])
    PhoneLine(store).take_order("Ada", ["olives"])
    store.take_order("Ada", ["basil"])

    assert ledger.points == {"Ada": 20}
    assert loyalty_lines(capsys) == [
        "[loyalty] Ada earns 10 points (total 10)",
        "[loyalty] Ada earns 10 points (total 20)",
    ]


def test_award_points_is_restricted_to_the_store_as_sender(registry: Registry) -> None:
    from pizzeria.store import PizzaStore

    (info,) = [info for info in registry["loyalty"].receivers() if info.name.endswith("points")]
    assert info.sender is PizzaStore


def test_the_async_stamp_card_is_stamped_under_send_and_under_asend(
    ledger: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from pizzeria.store import Oven, PizzaStore

    store = PizzaStore("Test")
    first = store.take_order("Ada", ["ham"])
    second = store.take_order("Ada", ["olives"])
    capsys.readouterr()

    store.send_pizza(first)
    asyncio.run(Oven(temperature=250).bake(store, second))

    assert ledger.stamps == {"Ada": 2}
    assert ledger.pizzas_done == 2
    assert loyalty_lines(capsys) == [
        "[loyalty] pizzas done today: 1",
        "[loyalty] Ada's stamp card: 1 of 5",
        "[loyalty] pizzas done today: 2",
        "[loyalty] Ada's stamp card: 2 of 5",
    ]


def test_stamp_card_is_described_as_async_and_count_pizzas_by_its_dispatch_uid(
    registry: Registry,
) -> None:
    infos = {info.name.rsplit(".", 1)[1]: info for info in registry["loyalty"].receivers()}
    assert infos["stamp_card"].is_async is True
    assert infos["count_pizzas"].is_async is False
    assert infos["count_pizzas"].dispatch_uid == "pizzeria-loyalty:count-pizzas"


def test_connecting_count_pizzas_again_under_its_dispatch_uid_changes_nothing(
    registry: Registry, ledger: Any
) -> None:
    from pizzeria.signals import pizza_done
    from pizzeria.store import PizzaStore

    module: Any = registry["loyalty"].plugin.module  # type: ignore[union-attr]
    before = pizza_done.describe_receivers()

    def impostor(sender: object, **kwargs: object) -> None:
        raise AssertionError("a second receiver under the same dispatch_uid was called")

    pizza_done.connect(impostor, dispatch_uid="pizzeria-loyalty:count-pizzas", weak=False)
    store = PizzaStore("Test")
    store.send_pizza(store.take_order("Ada", ["ham"]))

    assert pizza_done.describe_receivers() == before
    assert module.signals.count_pizzas in [info.receiver for info in before]
    assert ledger.pizzas_done == 1


def test_running_the_ready_phase_again_registers_nothing_twice(
    fake_plugins: FakePlugins, ledger: Any
) -> None:
    from pizzeria.store import PizzaStore

    fake_plugins.assert_ready_idempotent()

    store = PizzaStore("Test")
    store.send_pizza(store.take_order("Grace", ["ham"]))
    assert ledger.pizzas_done == 1
    assert ledger.stamps == {"Grace": 1}
