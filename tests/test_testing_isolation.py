"""hookwire.testing's isolation: what a test changes in hookwire's global state is put back."""

from __future__ import annotations

import gc
import sys
import types
import weakref
from typing import Any

import pytest

from hookwire import Host, Signal
from hookwire._dispatch.attribution import claim_module, plugin_for_module
from hookwire.exceptions import HostError
from hookwire.testing import FakePlugins, HookwireState, isolated

pytest_plugins = ["pytester"]

pizza_done = Signal(name="pizza_done")


def _kept(sender: object, **kwargs: Any) -> str:
    return "kept"


def _added(sender: object, **kwargs: Any) -> str:
    return "added"


def test_receivers_connected_during_the_block_are_gone_and_removed_ones_are_back() -> None:
    pizza_done.connect(_kept)
    try:
        with isolated():
            pizza_done.disconnect(_kept)
            pizza_done.connect(_added)
            assert pizza_done.send(sender=None) == [(_added, "added")]
        assert pizza_done.send(sender=None) == [(_kept, "kept")]
    finally:
        pizza_done.disconnect(_kept)


def test_state_is_restored_also_when_the_block_raises() -> None:
    def connect_then_fail() -> None:
        with isolated():
            pizza_done.connect(_added)
            raise KeyError("boom")

    with pytest.raises(KeyError):
        connect_then_fail()
    assert not pizza_done.has_listeners()


def test_signals_created_during_the_block_keep_their_receivers() -> None:
    with isolated():
        created = Signal(name="created")
        created.connect(_added)
    assert created.send(sender=None) == [(_added, "added")]


def test_the_attribution_table_is_restored() -> None:
    with isolated():
        claim_module("pizzeria_sms_isolation_check", "sms")
        assert plugin_for_module("pizzeria_sms_isolation_check.signals") == "sms"
    assert plugin_for_module("pizzeria_sms_isolation_check.signals") is None


def test_modules_of_plugins_registered_during_the_block_are_unloaded() -> None:
    with isolated():
        sys.modules["pizzeria_sms_isolation_check"] = types.ModuleType(
            "pizzeria_sms_isolation_check"
        )
        sys.modules["pizzeria_sms_isolation_check.signals"] = types.ModuleType("x")
        sys.modules["unrelated_isolation_check"] = types.ModuleType("unrelated_isolation_check")
        claim_module("pizzeria_sms_isolation_check", "sms")
    assert "pizzeria_sms_isolation_check" not in sys.modules
    assert "pizzeria_sms_isolation_check.signals" not in sys.modules
    assert sys.modules.pop("unrelated_isolation_check") is not None


def test_forget_module_unloads_only_modules_imported_after_the_snapshot() -> None:
    sys.modules["already_there_isolation_check"] = types.ModuleType("already_there")
    try:
        state = HookwireState()
        sys.modules["fresh_isolation_check.sub"] = types.ModuleType("fresh.sub")
        sys.modules["fresh_isolation_checker"] = types.ModuleType("not a submodule")
        state.forget_module("fresh_isolation_check")
        state.forget_module("already_there_isolation_check")
        state.restore()
        state.restore()
        assert "fresh_isolation_check.sub" not in sys.modules
        assert "already_there_isolation_check" in sys.modules
        assert sys.modules.pop("fresh_isolation_checker") is not None
    finally:
        sys.modules.pop("already_there_isolation_check", None)


def test_a_module_level_host_loaded_in_the_block_is_unloaded_again() -> None:
    from hookwire._host import default_host

    was_loaded = default_host.loaded
    with isolated():
        sys.modules["host_isolation_check"] = module = types.ModuleType("host_isolation_check")
        try:
            module.host = host = Host("isolationcheck", version="1.0")  # type: ignore[attr-defined]
            with isolated(), FakePlugins() as plugins:
                registry = plugins.load(host=host)
                loaded_inside = host.loaded
                assert host.registry is registry
            assert (loaded_inside, host.loaded) == (True, False)
            with pytest.raises(HostError, match="has not loaded its plugins yet"):
                host.registry  # noqa: B018
        finally:
            del sys.modules["host_isolation_check"]
    assert default_host.loaded is was_loaded


def test_a_tracer_installed_in_the_block_is_removed() -> None:
    from hookwire._dispatch.tracing import install_tracer

    originals = {name: Signal.__dict__[name] for name in ("send", "asend")}
    traced: list[object] = []
    with isolated():
        install_tracer(traced.append)
        pizza_done.send(sender=None)
    pizza_done.send(sender=None)
    assert len(traced) == 1
    assert {name: Signal.__dict__[name] for name in ("send", "asend")} == originals


def test_the_fixture_keeps_tests_from_leaking_receivers_into_each_other(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        from hookwire import Host, Signal

        pizza_done = Signal(name="pizza_done")

        def listen(sender, **kwargs):
            return "listened"

        def test_connects(hookwire_isolation):
            pizza_done.connect(listen)
            assert pizza_done.has_listeners()

        def test_sees_nothing():
            assert not pizza_done.has_listeners()
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)


def test_the_conftest_recipe_isolates_every_test(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(autouse=True)
        def _isolate_hookwire(hookwire_isolation):
            yield
        """
    )
    pytester.makepyfile(
        """
        import pytest
        from hookwire import Host, Signal

        pizza_done = Signal(name="pizza_done")

        def listen(sender, **kwargs):
            return "listened"

        @pytest.mark.parametrize("attempt", range(3))
        def test_connects(attempt):
            assert not pizza_done.has_listeners()
            pizza_done.connect(listen)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=3)


def test_the_snapshot_does_not_keep_signals_alive() -> None:
    doomed = Signal(name="doomed")
    doomed.connect(_added)
    reference = weakref.ref(doomed)
    with isolated():
        del doomed
        gc.collect()
        assert reference() is None


def test_a_signal_whose_module_was_unloaded_loses_the_receivers_the_test_gave_it() -> None:
    with isolated() as state:
        sys.modules["events_isolation_check"] = module = types.ModuleType("events_isolation_check")
        exec("from hookwire import Signal\nping = Signal(name='ping')\n", module.__dict__)
        orphan = module.ping
        orphan.connect(_added)
        state.forget_module("events_isolation_check")
        survivor = Signal(name="survivor")
        survivor.connect(_added)
    assert "events_isolation_check" not in sys.modules
    assert orphan.module == "events_isolation_check"
    assert not orphan.has_listeners()
    assert survivor.has_listeners()


def test_the_fixture_puts_a_module_level_host_and_its_plugins_back(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import sys
        from hookwire import Host, Plugin, Signal
        from hookwire._dispatch.attribution import plugin_for_module

        pizza_done = Signal(name="pizza_done")
        host = Host("pizzeria", version="1.4.0", main=lambda: 0)

        class SmsPlugin(Plugin):
            def ready(self):
                pizza_done.connect(self.text)

            def text(self, sender, **kwargs):
                return "texted"

        def test_loads_the_host(fake_plugins, hookwire_isolation):
            fake_plugins.add_module("pizzeria_sms", "")
            fake_plugins.add_module("pizzeria_sms.signals", "")
            fake_plugins.add("sms", value="pizzeria_sms")
            fake_plugins.add("texts", SmsPlugin, distribution="pizzeria-texts")
            registry = fake_plugins.load(host=host)
            assert host.loaded and host.registry is registry
            assert [record.name for record in registry] == ["sms", "texts"]
            assert plugin_for_module("pizzeria_sms.signals") == "sms"
            assert pizza_done.has_listeners()

        def test_finds_everything_as_before():
            assert not host.loaded
            assert not pizza_done.has_listeners()
            assert plugin_for_module("pizzeria_sms.signals") is None
            assert "pizzeria_sms" not in sys.modules
            assert "pizzeria_sms.signals" not in sys.modules
            assert __name__ in sys.modules  # the plugin class's own module stays
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
