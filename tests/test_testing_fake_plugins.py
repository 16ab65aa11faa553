"""hookwire.testing's fake plugins: declared in a test, loaded by the real discovery and loader."""

from __future__ import annotations

import functools
import sys
import textwrap
import threading
import types
from typing import Any

import pytest

from hookwire import Host, Plugin, PluginState, Signal
from hookwire import signals as lifecycle
from hookwire.exceptions import (
    DiscoveryError,
    DuplicatePluginError,
    HostVersionError,
    LoadError,
    PluginImportError,
)
from hookwire.testing import (
    FakeDistribution,
    FakePlugins,
    SignalRecorder,
    assert_ready_idempotent,
)

pytest_plugins = ["pytester"]

pizza_done = Signal(name="pizza_done")


class Pizza:
    pass


class SmsPlugin(Plugin):
    verbose_name = "Text messages"
    requires_host = ">=1.4,<2"

    def ready(self) -> None:
        pizza_done.connect(self.text_the_customer)

    def text_the_customer(self, sender: object, **kwargs: Any) -> str:
        return "texted"


class LoyaltyPlugin(Plugin):
    requires = ("sms",)

    def ready(self) -> None:
        pizza_done.connect(self.add_points)

    def add_points(self, sender: object, **kwargs: Any) -> str:
        return "points"


def test_a_plugin_class_is_discovered_imported_and_made_ready(
    fake_plugins: FakePlugins, signal_recorder: SignalRecorder
) -> None:
    fake_plugins.add("sms", SmsPlugin, distribution="pizzeria-sms", version="1.0")
    registry = fake_plugins.load(group="pizzeria.plugins", host_version="1.4")

    record = registry["sms"]
    assert record.state is PluginState.READY
    assert (record.distribution, record.version) == ("pizzeria-sms", "1.0")
    assert record.entry_point == "sms = hookwire_fake_pizzeria_sms:SmsPlugin"
    assert isinstance(record.plugin, SmsPlugin)
    assert [info.name.rsplit(".", 1)[-1] for info in record.receivers()] == ["text_the_customer"]
    assert [response for _, response in pizza_done.send(sender=Pizza)] == ["texted"]
    signal_recorder.assert_sent_once(lifecycle.plugin_loaded, plugin=record)
    signal_recorder.assert_sent_once(lifecycle.plugins_ready, registry=registry)


def test_plugins_are_made_ready_in_requires_order(fake_plugins: FakePlugins) -> None:
    fake_plugins.add("loyalty", LoyaltyPlugin)
    fake_plugins.add("sms", SmsPlugin)
    registry = fake_plugins.load()
    assert [record.name for record in registry] == ["sms", "loyalty"]
    assert [response for _, response in pizza_done.send(sender=Pizza)] == ["texted", "points"]


def test_a_module_object_becomes_a_default_plugin_with_its_settings(
    fake_plugins: FakePlugins,
) -> None:
    module = types.ModuleType("pizzeria_audit_fake")
    module.verbose_name = "Audit trail"  # type: ignore[attr-defined]
    fake_plugins.add("audit", module, distribution="pizzeria-audit", version="2.0")
    registry = fake_plugins.load()
    record = registry["audit"]
    assert record.state is PluginState.READY
    assert record.entry_point == "audit = pizzeria_audit_fake"
    assert record.plugin is not None
    assert record.plugin.module is module
    assert record.plugin.verbose_name == "Audit trail"


def test_fake_source_modules_run_their_receiver_decorators_in_the_ready_phase(
    fake_plugins: FakePlugins,
) -> None:
    fake_plugins.add_module(
        "pizzeria_loyalty",
        "from hookwire import Plugin\nclass LoyaltyPlugin(Plugin):\n    pass\n",
    )
    fake_plugins.add_module(
        "pizzeria_loyalty.signals",
        "from hookwire import receiver\n"
        f"from {__name__} import pizza_done\n"
        "\n"
        "@receiver(pizza_done)\n"
        "def add_points(sender, **kwargs):\n"
        "    return 'points'\n",
    )
    fake_plugins.add("loyalty", value="pizzeria_loyalty:LoyaltyPlugin")

    loader = fake_plugins.loader()
    loader.import_plugins()
    assert "pizzeria_loyalty.signals" not in sys.modules
    registry = loader.ready()

    (info,) = registry["loyalty"].receivers()
    assert info.name == "pizzeria_loyalty.signals.add_points"
    assert info.plugin == "loyalty"
    assert info.line == 4
    assert [response for _, response in pizza_done.send(sender=None)] == ["points"]


def test_loader_errors_are_reported_for_fake_plugins(fake_plugins: FakePlugins) -> None:
    fake_plugins.add("missing", value="pizzeria_not_installed_anywhere:Plugin")
    fake_plugins.add("function", print, distribution="wrong-kind")
    fake_plugins.add("old-host", SmsPlugin, distribution="pizzeria-sms")
    fake_plugins.add_module("pizzeria_broken", "def oops(:\n")
    fake_plugins.add("broken", value="pizzeria_broken")
    registry = fake_plugins.load(host_version="2.5")

    assert {record.name: record.state for record in registry} == {
        "missing": PluginState.FAILED,
        "function": PluginState.FAILED,
        "old-host": PluginState.FAILED,
        "broken": PluginState.FAILED,
    }
    assert isinstance(registry["missing"].exception, PluginImportError)
    assert "pizzeria_not_installed_anywhere" in (registry["missing"].error or "")
    assert "not a hookwire.Plugin subclass or a module" in (registry["function"].error or "")
    assert isinstance(registry["old-host"].exception, HostVersionError)
    assert "SyntaxError at /hookwire-fake-modules/pizzeria_broken/__init__.py:1" in (
        registry["broken"].error or ""
    )


def test_raw_distributions_test_malformed_metadata_and_duplicates(
    fake_plugins: FakePlugins,
) -> None:
    fake_plugins.add("sms", SmsPlugin, distribution="pizzeria-sms")
    fake_plugins.add_distribution(
        "pizzeria-clone", "0.1", entry_points={fake_plugins.group: {"sms": "x:Y"}}
    )
    fake_plugins.add_distribution(
        "pizzeria-garbled", entry_points=f"[{fake_plugins.group}]\nthis is not an entry point\n"
    )
    result = fake_plugins.discover()

    assert [record.name for record in result.entry_points] == ["sms"]
    kinds = sorted(type(problem).__name__ for problem in result.problems)
    assert kinds == [DiscoveryError.__name__, DuplicatePluginError.__name__]
    assert any("pizzeria-garbled" in str(problem) for problem in result.problems)

    # load() runs the same discovery: the loader keeps the first sms and reports the clone.
    registry = fake_plugins.load()
    assert [(record.name, record.distribution) for record in registry] == [("sms", "pizzeria-sms")]
    assert fake_plugins.last_loader is not None
    duplicate = next(
        failure
        for failure in fake_plugins.last_loader.failures
        if isinstance(failure, DuplicatePluginError)
    )
    assert duplicate.distributions == ("pizzeria-sms", "pizzeria-clone")


def test_configuration_comes_from_the_arguments_only(
    fake_plugins: FakePlugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKWIRE_DISABLE_PLUGINS", "sms")
    fake_plugins.add("sms", SmsPlugin)
    fake_plugins.add("loyalty", LoyaltyPlugin)
    registry = fake_plugins.load(disable=["Loyalty"])
    assert registry["sms"].state is PluginState.READY
    assert registry["loyalty"].state is PluginState.DISABLED

    nothing = fake_plugins.load(plugins=[], group="other.plugins")
    assert {record.state for record in nothing} == {PluginState.DISABLED}
    allowed = fake_plugins.load(plugins=["SMS"], autoload=False)
    assert {record.name: record.state for record in allowed} == {
        "sms": PluginState.READY,
        "loyalty": PluginState.DISABLED,
    }


def test_strict_loading_raises_after_trying_every_plugin(fake_plugins: FakePlugins) -> None:
    fake_plugins.add("missing", value="pizzeria_not_installed_anywhere")
    fake_plugins.add("sms", SmsPlugin)
    with pytest.raises(LoadError, match=r"1 plugin failure: .*missing"):
        fake_plugins.load(strict=True)
    assert fake_plugins.last_loader is not None
    assert fake_plugins.last_loader.registry["sms"].state is PluginState.READY


def test_a_host_adopts_the_fake_plugins(fake_plugins: FakePlugins) -> None:
    host = Host("pizzeria", version="1.4.0", main=lambda: 3)
    fake_plugins.add("sms", SmsPlugin, distribution="pizzeria-sms")
    registry = fake_plugins.load(host=host)
    assert host.registry is registry
    assert registry["sms"].state is PluginState.READY
    assert fake_plugins.last_loader is not None
    assert fake_plugins.last_loader.group == "pizzeria.plugins"
    with SignalRecorder([lifecycle.host_started, lifecycle.host_stopping]) as recorder:
        assert host.run() == 3
    recorder.assert_sent_once(lifecycle.host_started, sender=host)
    recorder.assert_sent_once(lifecycle.host_stopping, sender=host, exc=None)


def test_distributions_follow_the_group_being_loaded() -> None:
    with FakePlugins(group="pizzeria.plugins") as plugins:
        plugins.add("sms", SmsPlugin, distribution="pizzeria-sms", version="1.2")
        plugins.add("audit", SmsPlugin, distribution="pizzeria-sms", version="1.2", group="x")
        (dist,) = plugins.distributions()
        assert isinstance(dist, FakeDistribution)
        assert (dist.name, dist.version) == ("pizzeria-sms", "1.2")
        assert sorted((ep.group, ep.name) for ep in dist.entry_points) == [
            ("pizzeria.plugins", "sms"),
            ("x", "audit"),
        ]
        assert dist.read_text("RECORD") is None
    assert "hookwire_fake_pizzeria_sms" not in sys.modules


def test_add_needs_exactly_one_of_target_and_value(fake_plugins: FakePlugins) -> None:
    with pytest.raises(TypeError, match="give either a target object or value="):
        fake_plugins.add("sms")
    with pytest.raises(TypeError, match="give either a target object or value="):
        fake_plugins.add("sms", SmsPlugin, value="x:Y")


# -- idempotence ------------------------------------------------------------------------------


class ThreadedPlugin(Plugin):
    """Connects from a worker thread, outside the loader's attribution: ready() again doubles it."""

    def ready(self) -> None:
        receiver = functools.partial(_count, label="threaded")
        worker = threading.Thread(
            target=pizza_done.connect, args=(receiver,), kwargs={"weak": False}
        )
        worker.start()
        worker.join(timeout=10)


def _count(sender: object, label: str, **kwargs: Any) -> str:
    return label


def test_assert_ready_idempotent_passes_for_a_plugin_that_connects_in_ready(
    fake_plugins: FakePlugins,
) -> None:
    fake_plugins.add("sms", SmsPlugin)
    fake_plugins.add("loyalty", LoyaltyPlugin)
    fake_plugins.load(host_version="1.4")
    fake_plugins.assert_ready_idempotent()
    assert len(pizza_done.send(sender=None)) == 2


def test_assert_ready_idempotent_names_the_receivers_that_doubled(
    fake_plugins: FakePlugins,
) -> None:
    fake_plugins.add("threaded", ThreadedPlugin)
    fake_plugins.add("sms", SmsPlugin)
    with pytest.raises(AssertionError) as failure:
        fake_plugins.assert_ready_idempotent()
    message = str(failure.value)
    assert message.startswith("the ready phase is not idempotent (ready plugins: sms, threaded)")
    # Connected outside the loader's scope, the receiver is attributed by its module, which
    # here is this test module (owned by whichever fake plugin class it defines loaded last).
    assert f"registered again: {__name__}.partial(_count) (plugin " in message
    assert f") on {__name__}.pizza_done: 1 -> 2" in message
    assert "text_the_customer" not in message


class LateBinderPlugin(Plugin):
    """Connects a fresh partial once every plugin is ready: plugins_ready comes again with the
    ready phase, so without a dispatch_uid the receiver doubles."""

    dispatch_uid: str | None = None

    def ready(self) -> None:
        lifecycle.plugins_ready.connect(self.bind_late)

    def bind_late(self, sender: object, **kwargs: Any) -> None:
        receiver = functools.partial(_count, label="late")
        pizza_done.connect(receiver, weak=False, dispatch_uid=self.dispatch_uid)


def test_assert_ready_idempotent_names_a_receiver_a_plugins_ready_handler_connects_again(
    fake_plugins: FakePlugins,
) -> None:
    fake_plugins.add("late", LateBinderPlugin, distribution="pizzeria-late")
    fake_plugins.load()
    assert len(pizza_done.send(sender=None)) == 1
    with pytest.raises(AssertionError) as failure:
        fake_plugins.assert_ready_idempotent()
    assert str(failure.value).splitlines() == [
        "the ready phase is not idempotent (ready plugins: late); running it again changed "
        "1 thing(s):",
        f"  - registered again: {__name__}.partial(_count) (plugin late) on "
        f"{__name__}.pizza_done: 1 -> 2",
    ]


def test_assert_ready_idempotent_passes_once_the_late_receiver_has_a_dispatch_uid(
    fake_plugins: FakePlugins,
) -> None:
    class UidPlugin(LateBinderPlugin):
        dispatch_uid = "pizzeria-late"

    fake_plugins.add("late", UidPlugin)
    fake_plugins.assert_ready_idempotent()
    assert len(pizza_done.send(sender=None)) == 1


def test_assert_ready_idempotent_takes_a_host_and_runs_its_ready_phase_again(
    fake_plugins: FakePlugins,
) -> None:
    host = Host("pizzeria", version="1.4.0")
    fake_plugins.add("sms", SmsPlugin)
    fake_plugins.loader(host=host)  # the host adopts it; not loaded yet
    loaded_before = host.loaded
    with SignalRecorder([lifecycle.plugins_ready]) as recorder:
        assert_ready_idempotent(host)
    assert (loaded_before, host.loaded) == (False, True)
    assert len(recorder.calls_of(lifecycle.plugins_ready)) == 2  # loaded, then ready again
    assert len(pizza_done.send(sender=None)) == 1

    doubled = Host("pizzeria", version="1.4.0")
    fake_plugins.add("late", LateBinderPlugin)
    fake_plugins.load(host=doubled)
    with pytest.raises(AssertionError, match=r"registered again: .*partial\(_count\)"):
        assert_ready_idempotent(doubled)


def test_assert_ready_idempotent_reports_a_plugin_that_fails_the_second_time(
    fake_plugins: FakePlugins,
) -> None:
    class OnceOnly(Plugin):
        calls = 0

        def ready(self) -> None:
            type(self).calls += 1
            if type(self).calls > 1:
                raise RuntimeError("already set up")

    fake_plugins.add("once", OnceOnly)
    with pytest.raises(
        AssertionError, match=r"plugin once failed when made ready again: .*already"
    ):
        fake_plugins.assert_ready_idempotent()


def _host_receiver(sender: object, **kwargs: Any) -> str:
    return "host"


class MoodyPlugin(Plugin):
    """Its second ready() disconnects the host's receiver and connects something else."""

    runs = 0

    def ready(self) -> None:
        type(self).runs += 1
        if type(self).runs > 1:
            worker = threading.Thread(target=pizza_done.disconnect, args=(_host_receiver,))
            worker.start()
            worker.join(timeout=10)
            pizza_done.connect(_count, weak=False)


def test_assert_ready_idempotent_reports_receivers_that_appeared_or_vanished(
    fake_plugins: FakePlugins, hookwire_isolation: object
) -> None:
    pizza_done.connect(_host_receiver)
    fake_plugins.add("moody", MoodyPlugin)
    with pytest.raises(AssertionError) as failure:
        fake_plugins.assert_ready_idempotent()
    message = str(failure.value)
    assert f"  - disconnected: {__name__}._host_receiver (plugin " in message
    assert f"on {__name__}.pizza_done: 1 -> 0" in message
    assert f"  - newly registered: {__name__}._count (plugin moody) on " in message


# -- through a real pytest session ------------------------------------------------------------


def test_fake_plugins_leave_nothing_behind_for_the_next_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import sys
        import pytest
        from hookwire import Signal

        pizza_done = Signal(name="pizza_done")
        SIGNALS = (
            "from hookwire import receiver\\n"
            "from test_fake_plugins_leave_nothing_behind_for_the_next_test import pizza_done\\n"
            "@receiver(pizza_done)\\n"
            "def add_points(sender, **kwargs):\\n"
            "    return 'points'\\n"
        )

        @pytest.mark.parametrize("attempt", [1, 2])
        def test_loads(fake_plugins, attempt):
            assert not pizza_done.has_listeners()
            fake_plugins.add_module("pizzeria_loyalty", "")
            fake_plugins.add_module("pizzeria_loyalty.signals", SIGNALS)
            fake_plugins.add("loyalty", value="pizzeria_loyalty")
            registry = fake_plugins.load()
            assert registry["loyalty"].state == "ready", registry["loyalty"].error
            assert [r for _, r in pizza_done.send(sender=None)] == ["points"]

        def test_after():
            assert not pizza_done.has_listeners()
            assert "pizzeria_loyalty" not in sys.modules
            assert "pizzeria_loyalty.signals" not in sys.modules
            assert not any("Fake" in type(finder).__name__ for finder in sys.meta_path)
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=3)


def test_a_failed_idempotence_check_reads_well_in_pytest_output(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import functools, threading
        from hookwire import Plugin, Signal

        order_placed = Signal(name="order_placed")

        def notify(sender, **kwargs):
            return None

        class LeakyPlugin(Plugin):
            def ready(self):
                worker = threading.Thread(
                    target=order_placed.connect,
                    args=(functools.partial(notify),),
                    kwargs={"weak": False},
                )
                worker.start()
                worker.join()

        def test_idempotent(fake_plugins):
            fake_plugins.add("leaky", LeakyPlugin, distribution="pizzeria-leaky")
            fake_plugins.load()
            fake_plugins.assert_ready_idempotent()
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "AssertionError: the ready phase is not idempotent (ready plugins: leaky)" in output
    assert (
        "- registered again: test_a_failed_idempotence_check_reads_well_in_pytest_output" in output
    )
    assert ".partial(notify) (plugin leaky) on " in output
    assert ".order_placed: 1 -> 2" in output


def test_a_plugin_class_defined_in_a_test_package_does_not_unload_that_package(
    pytester: pytest.Pytester,
) -> None:
    pytester.mkpydir("pizzeria_tests")
    pytester.path.joinpath("pizzeria_tests", "helpers.py").write_text("MARK = object()\n")
    pytester.path.joinpath("pizzeria_tests", "test_sms.py").write_text(
        textwrap.dedent(
            """
            import sys
            from hookwire import Plugin

            class SmsPlugin(Plugin):
                pass

            def test_loads(fake_plugins):
                from pizzeria_tests import helpers  # first imported during the test
                fake_plugins.add("sms", SmsPlugin)
                assert fake_plugins.load()["sms"].state == "ready"
                sys.modules["pizzeria_tests"].kept = helpers.MARK

            def test_helpers_survived():
                helpers = sys.modules["pizzeria_tests.helpers"]
                assert helpers.MARK is sys.modules["pizzeria_tests"].kept
            """
        )
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
