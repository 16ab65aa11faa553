"""The registry: which plugins, in which state, from which distribution, with which receivers."""

from __future__ import annotations

import importlib
import json

import pytest
from venvtools import PluginSite

from hookwire import PluginRecord, PluginState, Registry
from hookwire._loading.config import LoadConfig
from hookwire._loading.loader import Loader

GROUP = "demo.plugins"
EVENTS = {"events.py": "from hookwire import Signal\nping = Signal(name='ping')\npong = Signal()\n"}
LISTENER = """
import hookwire, events

class Plugin(hookwire.Plugin):
    requires = {requires!r}

    def ready(self):
        events.ping.connect(self.on_ping)
        events.pong.connect(on_pong)

    def on_ping(self, sender, **kwargs): pass

def on_pong(sender, **kwargs): pass
"""


@pytest.fixture
def registry(plugin_site: PluginSite) -> Registry:
    for name, requires in [("Web_Shop", ("db",)), ("db", ()), ("off", ())]:
        module = f"{name.lower()}_plugin"
        plugin_site.add(
            name,
            "1.2",
            entry_points={GROUP: {name: f"{module}:Plugin"}},
            modules={f"{module}.py": LISTENER.format(requires=requires), **EVENTS},
        )
    plugin_site.add("broken", entry_points={GROUP: {"broken": "no_such_module"}})
    loader = Loader(
        GROUP, distributions=plugin_site.distributions(), config=LoadConfig(deny=("off",))
    )
    return loader.load()


def test_records_are_found_by_any_spelling_of_their_name(registry: Registry) -> None:
    record = registry["web-shop"]
    assert isinstance(record, PluginRecord)
    assert record.name == "Web_Shop"
    assert registry.get("WEB.shop") is record
    assert "web_shop" in registry
    assert "nothing" not in registry
    assert registry.get("nothing") is None
    with pytest.raises(
        KeyError, match="no plugin named 'nothing' \\(known: broken, db, off, web-shop\\)"
    ):
        registry["nothing"]


def test_iteration_follows_load_order_dependencies_first(registry: Registry) -> None:
    assert [record.name for record in registry] == ["db", "Web_Shop", "broken", "off"]
    assert len(registry) == 4


def test_records_can_be_selected_by_state(registry: Registry) -> None:
    assert [record.name for record in registry.by_state(PluginState.READY)] == ["db", "Web_Shop"]
    assert [record.name for record in registry.by_state("failed")] == ["broken"]
    assert [record.name for record in registry.by_state("disabled")] == ["off"]
    assert [state.value for state in PluginState] == [
        "discovered",
        "declared",
        "imported",
        "ready",
        "failed",
        "disabled",
    ]


def test_a_record_lists_the_receivers_its_plugin_connected_across_signals(
    registry: Registry,
) -> None:
    names = [info.name for info in registry["db"].receivers()]
    assert names == ["db_plugin.Plugin.on_ping", "db_plugin.on_pong"]
    assert all(info.plugin == "db" for info in registry["db"].receivers())
    assert registry["broken"].receivers() == []
    events = importlib.import_module("events")
    assert len(events.ping.describe_receivers()) == 2


def test_json_has_the_documented_keys_and_leaves_out_disabled_plugins_unless_asked(
    registry: Registry,
) -> None:
    listed = registry.to_json()
    assert [item["name"] for item in listed] == ["db", "Web_Shop", "broken"]
    web = listed[1]
    assert {
        "name",
        "distribution",
        "version",
        "entry_point",
        "state",
        "error",
        "receivers",
        "requires",
    } <= set(web)
    assert web["distribution"] == "Web_Shop"
    assert web["version"] == "1.2"
    assert web["entry_point"] == "Web_Shop = web_shop_plugin:Plugin"
    assert web["state"] == "ready"
    assert web["error"] is None
    assert web["receivers"] == 2
    assert web["requires"] == ["db"]
    assert web["module_file"].endswith("web_shop_plugin.py")
    broken = listed[2]
    assert broken["state"] == "failed"
    assert broken["error"].startswith("plugin broken (broken 1.0), import phase: ")
    everything = registry.to_json(include_disabled=True)
    assert everything[-1]["state"] == "disabled"
    assert everything[-1]["reason"] == "disabled by the deny-list"
    json.dumps(everything)


def test_the_repr_summarises_the_states(registry: Registry) -> None:
    assert repr(registry) == "<Registry 2 ready, 1 failed, 1 disabled>"
    assert repr(Registry()) == "<Registry empty>"
    assert Registry().problems == ()


# -- cost: inspection is linear in what is connected ---------------------------------------

SCALE_SIGNALS = "from hookwire import Signal\nplaced = Signal(name='placed')\ndone = Signal()\n"
SCALE_RECEIVERS = """
from hookwire import receiver
from scale_events import done, placed

@receiver(placed, dispatch_uid="{name}.placed")
def on_placed(sender, **kwargs): pass

@receiver(done, dispatch_uid="{name}.done")
def on_done(sender, **kwargs): pass

@receiver([placed, done], dispatch_uid="{name}.both")
def on_both(sender, **kwargs): pass
"""


@pytest.fixture
def counted_descriptions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many receiver descriptions are made, counted where every one is made."""
    from hookwire._dispatch import introspection

    made = [0]
    describe = introspection._info

    def counting(*args: object, **kwargs: object) -> object:
        made[0] += 1
        return describe(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(introspection, "_info", counting)
    return made


def test_listing_200_plugins_describes_each_receiver_once_not_once_per_plugin(
    fake_plugins: object, counted_descriptions: list[int]
) -> None:
    """``plugins list --json`` asks every record for its receivers: each call must describe
    that plugin's receivers only. Describing every receiver for every plugin made 200 plugins
    with 4 receivers each cost 160,000 descriptions instead of 800."""
    from hookwire.cli._output import plugins_json
    from hookwire.testing import FakePlugins

    assert isinstance(fake_plugins, FakePlugins)
    fake_plugins.add_module("scale_events", SCALE_SIGNALS)
    for index in range(200):
        name = f"scale_{index:03d}"
        fake_plugins.add_module(name)
        fake_plugins.add_module(f"{name}.signals", SCALE_RECEIVERS.format(name=name))
        fake_plugins.add(name, value=name)
    registry = fake_plugins.load()
    counted_descriptions[0] = 0

    listed = plugins_json(registry, include_disabled=False)

    assert [entry["receivers"] for entry in listed] == [4] * 200
    assert counted_descriptions[0] == 4 * 200
    names = [info.name for info in registry["scale_007"].receivers()]
    expected = ["on_done", "on_both", "on_placed", "on_both"]
    assert names == [f"scale_007.signals.{name}" for name in expected]
