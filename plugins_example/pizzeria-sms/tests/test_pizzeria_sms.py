"""The sms plugin, loaded by hookwire's real loader as its pyproject.toml declares it.

The example is imported inside each test (see ``conftest.py``).
"""

from __future__ import annotations

import gc
from collections.abc import Callable

import pytest

from hookwire import PluginState, Registry
from hookwire.testing import FakePlugins


def serve_one_pizza() -> None:
    from pizzeria.store import PizzaStore

    store = PizzaStore("Test")
    store.send_pizza(store.take_order("Ada", ["mozzarella", "basil"]))


def sms_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith("[sms]")]


@pytest.fixture
def load(
    fake_plugins: FakePlugins, declare_example_plugins: Callable[..., None]
) -> Callable[..., Registry]:
    """``load(*folders, host_version="1.4.0")``: load those example packages' plugins."""

    def load_plugins(*folders: str, host_version: str = "1.4.0") -> Registry:
        declare_example_plugins(*folders)
        return fake_plugins.load(group="pizzeria.plugins", host_version=host_version)

    return load_plugins


def test_sms_texts_the_customer_when_a_pizza_is_done(
    load: Callable[..., Registry], capsys: pytest.CaptureFixture[str]
) -> None:
    registry = load("pizzeria-loyalty", "pizzeria-sms")
    assert registry["sms"].state is PluginState.READY
    assert registry["sms"].requires == ("loyalty",)
    assert [record.name for record in registry] == ["loyalty", "sms"]
    capsys.readouterr()

    serve_one_pizza()

    assert sms_lines(capsys) == [
        "[sms] from PIZZERIA to Ada: Ada, your medium pizza (mozzarella, basil) is ready!"
    ]
    gateway = registry["sms"].plugin.gateway  # type: ignore[union-attr]
    assert gateway.sent == ["Ada, your medium pizza (mozzarella, basil) is ready!"]


def test_sms_connects_one_bound_method_attributed_to_it(load: Callable[..., Registry]) -> None:
    from pizzeria.signals import pizza_done

    registry = load("pizzeria-loyalty", "pizzeria-sms")

    (info,) = registry["sms"].receivers()
    assert info.name == "pizzeria_sms.SmsGateway.on_pizza_done"
    assert info.plugin == "sms"
    assert info.weak is True
    assert info in pizza_done.describe_receivers()


def test_sms_fails_saying_it_requires_loyalty_when_loyalty_is_not_installed(
    load: Callable[..., Registry], capsys: pytest.CaptureFixture[str]
) -> None:
    registry = load("pizzeria-sms")

    assert registry["sms"].state is PluginState.FAILED
    assert "loyalty" in (registry["sms"].error or "")
    serve_one_pizza()
    assert sms_lines(capsys) == []


def test_sms_refuses_a_pizzeria_older_than_1_4(load: Callable[..., Registry]) -> None:
    registry = load("pizzeria-loyalty", "pizzeria-sms", host_version="1.3.2")

    assert registry["sms"].state is PluginState.FAILED
    assert ">=1.4,<2" in (registry["sms"].error or "")
    assert "1.3.2" in (registry["sms"].error or "")
    assert registry["loyalty"].state is PluginState.READY


def test_running_the_ready_phase_again_still_texts_once(
    load: Callable[..., Registry],
    fake_plugins: FakePlugins,
    capsys: pytest.CaptureFixture[str],
) -> None:
    load("pizzeria-loyalty", "pizzeria-sms")

    fake_plugins.assert_ready_idempotent()
    capsys.readouterr()
    serve_one_pizza()

    assert len(sms_lines(capsys)) == 1


def test_the_weakly_connected_gateway_lives_as_long_as_the_plugin(
    load: Callable[..., Registry], capsys: pytest.CaptureFixture[str]
) -> None:
    load("pizzeria-loyalty", "pizzeria-sms")
    gc.collect()
    capsys.readouterr()

    serve_one_pizza()

    assert len(sms_lines(capsys)) == 1
