"""The registry: which plugins, in which state, from which distribution, with which receivers."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

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


def _load_200_plugins(fake_plugins: object) -> Registry:
    """200 plugins with 4 receivers each on two signals."""
    from hookwire.testing import FakePlugins

    assert isinstance(fake_plugins, FakePlugins)
    fake_plugins.add_module("scale_events", SCALE_SIGNALS)
    for index in range(200):
        name = f"scale_{index:03d}"
        fake_plugins.add_module(name)
        fake_plugins.add_module(f"{name}.signals", SCALE_RECEIVERS.format(name=name))
        fake_plugins.add(name, value=name)
    return fake_plugins.load()


class _OtherDispatchersSignal:
    """A signal of another dispatcher as an integration shows it (as ``hookwire.django``
    shows Django's own): one receiver of every plugin, described through introspection."""

    qualified_name = "other.dispatcher.signal"
    doc = None
    args = None
    deprecated_args = None

    def __init__(self, plugins: list[str]) -> None:
        def receiver(sender: object, **kwargs: object) -> None:
            pass

        self.receiver = receiver
        self.plugins = plugins

    def describe_receivers(self, plugin: str | None = None) -> list[object]:
        from hookwire._dispatch import introspection

        return [
            introspection._info(
                self.receiver,
                plugin=name,
                sender=None,
                weak=False,
                dispatch_uid=None,
                is_async=False,
            )
            for name in self.plugins
            if plugin is None or name == plugin
        ]


def test_listing_200_plugins_describes_each_receiver_once_not_once_per_plugin(
    fake_plugins: object, counted_descriptions: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``plugins list`` (table and ``--json``) asks every record for its receivers: each call
    must describe that plugin's receivers only, on hookwire's signals and on another
    dispatcher's. Describing every receiver for every plugin made 200 plugins with 4 receivers
    each cost 160,000 descriptions instead of 800."""
    from hookwire._dispatch import foreign
    from hookwire.cli._output import plugins_json, plugins_table

    registry = _load_200_plugins(fake_plugins)
    other = _OtherDispatchersSignal([record.name for record in registry])
    monkeypatch.setattr(foreign, "_sources", [lambda: [other]])
    counted_descriptions[0] = 0

    listed = plugins_json(registry, include_disabled=False)

    assert [entry["receivers"] for entry in listed] == [5] * 200
    assert counted_descriptions[0] == 5 * 200
    counted_descriptions[0] = 0
    table = plugins_table(registry, include_disabled=False)
    assert len(table) == 1 + 200
    assert counted_descriptions[0] == 5 * 200
    names = [info.name for info in registry["scale_007"].receivers()]
    expected = ["on_done", "on_both", "on_placed", "on_both"]
    assert names[:4] == [f"scale_007.signals.{name}" for name in expected]
    assert names[4].endswith("_OtherDispatchersSignal.__init__.<locals>.receiver")


def test_plugins_info_and_check_on_200_plugins_describe_no_receiver_of_another_plugin(
    fake_plugins: object, counted_descriptions: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``plugins info NAME`` describes that plugin's receivers (its other dispatchers' too),
    ``plugins check`` at most every receiver once."""
    from hookwire._dispatch import foreign
    from hookwire.cli._info import plugin_info
    from hookwire.cli._output import plugin_check_lines

    registry = _load_200_plugins(fake_plugins)
    other = _OtherDispatchersSignal([record.name for record in registry])
    monkeypatch.setattr(foreign, "_sources", [lambda: [other]])
    counted_descriptions[0] = 0

    info = plugin_info(registry["scale_007"])

    assert [entry["signal"] for entry in info["receivers"]] == [
        "scale_events.done",
        "scale_events.done",
        "scale_events.placed",
        "scale_events.placed",
        "other.dispatcher.signal",
    ]
    assert counted_descriptions[0] == 5
    counted_descriptions[0] = 0
    lines, failures = plugin_check_lines(registry)
    assert (failures, lines[-1]) == (0, "200 plugins: 200 ready")
    assert counted_descriptions[0] <= 5 * 200


def test_a_plugin_s_receivers_ask_only_the_signals_it_connected_to_however_many_exist(
    fake_plugins: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``PluginRecord.receivers()`` (asked once a plugin by ``plugins list``) asks the signals
    its loading connected to and those holding receivers connected outside any plugin,
    never every signal of the process: 300 more signals, each with a receiver connected by a
    plugin of its own, change nothing for the others. (Asking every signal made listing
    200 plugins ask 200 x every signal, plugins times signals.)"""
    from hookwire import Signal
    from hookwire._dispatch.table import ReceiverTable, unscoped_tables
    from hookwire._loading.registry import PluginRecord as Record

    registry = _load_200_plugins(fake_plugins)
    asked: list[ReceiverTable] = []
    registrations_of = ReceiverTable.registrations_of

    def counting(table: ReceiverTable, plugin: str) -> Any:
        asked.append(table)
        return registrations_of(table, plugin)

    monkeypatch.setattr(ReceiverTable, "registrations_of", counting)

    def asks() -> int:
        asked.clear()
        counts = [len(record.receivers()) for record in registry]
        assert counts == [4] * 200
        return len(asked)

    before = asks()
    # Its two signals, and the few that hold receivers connected outside any plugin.
    assert before <= 200 * (2 + len(unscoped_tables()))

    others = [Signal(name=f"other_{index}") for index in range(300)]
    owners = []
    for index, signal in enumerate(others):
        owner = Record(f"other-owner-{index}")
        with owner.connecting("ready"):
            signal.connect(_other_receiver, dispatch_uid=f"other-{index}")
        owners.append(owner)
    assert asks() == before
    for owner in owners:
        owner.undo_all()


def _other_receiver(sender: object, **kwargs: object) -> None:
    pass


class _CountingClaims(dict[str, object]):
    """The module claims, counting the entries walked."""

    walked = 0

    def items(self) -> Any:
        for item in super().items():
            _CountingClaims.walked += 1
            yield item


class _CountingRoots(set[str]):
    """Module roots, counting lookups and the roots walked."""

    looked_at = 0

    def __contains__(self, name: object) -> bool:
        _CountingRoots.looked_at += 1
        return super().__contains__(name)

    def __iter__(self) -> Iterator[str]:
        for root in super().__iter__():
            _CountingRoots.looked_at += 1
            yield root


def test_unloading_200_plugins_walks_the_claims_once_and_each_module_by_its_depth(
    fake_plugins: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``unload()`` forgets every plugin's module claims in one walk of the claims, and tells
    the plugins' modules by looking up each module's packages: a walk of the claims per plugin
    and of every plugin's root per module made it quadratic in the plugins."""
    import sys

    from hookwire._dispatch import attribution
    from hookwire._loading import loader as loader_module
    from hookwire.testing import FakePlugins

    registry = _load_200_plugins(fake_plugins)
    assert isinstance(fake_plugins, FakePlugins)
    assert fake_plugins.last_loader is not None
    within = loader_module.is_within
    scanned = [0]

    def counting_within(module: str, roots: set[str]) -> bool:
        scanned[0] += 1
        return within(module, _CountingRoots(roots))

    monkeypatch.setattr(loader_module, "is_within", counting_within)
    claims = attribution._claims
    counting = _CountingClaims(claims)
    attribution._claims = counting
    claimed = len(counting)
    _CountingClaims.walked = _CountingRoots.looked_at = 0
    try:
        fake_plugins.last_loader.unload()
    finally:
        claims.clear()
        claims.update(counting)
        attribution._claims = claims

    assert len(registry) == 0
    assert "scale_007.signals" not in sys.modules
    assert claimed >= 200
    assert _CountingClaims.walked == claimed
    assert 0 < scanned[0] <= len(sys.modules) + 3 * 200
    deepest = max(module.count(".") for module in sys.modules) + 1
    assert _CountingRoots.looked_at <= (deepest + 1) * scanned[0]


def test_the_pytest_plugins_isolation_restores_200_plugins_by_each_modules_depth(
    fake_plugins: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Restoring hookwire's state after a test that loaded 200 plugins tells their modules by
    looking up each module's packages among the plugins' roots, never by walking every root
    for every module."""
    import sys

    from hookwire.testing import _isolation

    is_within = _isolation.is_within
    scanned = [0]

    def counting(module: str, roots: set[str]) -> bool:
        scanned[0] += 1
        return is_within(module, _CountingRoots(roots))

    state = _isolation.HookwireState()
    _load_200_plugins(fake_plugins)
    monkeypatch.setattr(_isolation, "is_within", counting)
    _CountingRoots.looked_at = 0

    state.restore()

    assert "scale_007.signals" not in sys.modules
    assert scanned[0] >= 200
    deepest = max(module.count(".") for module in sys.modules) + 1
    assert _CountingRoots.looked_at <= (deepest + 1) * scanned[0]
