"""hookwire.cli._output's shapes, in process: the JSON of ``plugins list`` and ``signals``, the
plugins table and the ``plugins check`` report, built from a real registry of real plugins.

The end-to-end tests run the console script; these pin each key and line without a subprocess.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from docstools import SCHEMAS, required_keys
from venvtools import PluginSite

from hookwire import Registry, Signal
from hookwire._loading.config import LoadConfig
from hookwire._loading.loader import Loader
from hookwire.cli._output import (
    plugin_check_lines,
    plugins_json,
    plugins_table,
    signals_json,
    signals_lines,
    write_json,
)

GROUP = "shapes.plugins"
KITCHEN = {
    "kitchen.py": "from hookwire import Signal\norder_placed = Signal(name='order_placed')\n"
}
OVEN = """
import hookwire, kitchen

class Plugin(hookwire.Plugin):
    def ready(self):
        kitchen.order_placed.connect(bake, dispatch_uid="bake")

def bake(sender, **kwargs): pass
"""
WAITER = """
import hookwire, kitchen

class Plugin(hookwire.Plugin):
    requires = ("oven",)

    def ready(self):
        kitchen.order_placed.connect(serve, sender=int, weak=False)

async def serve(sender, **kwargs): pass
"""


@pytest.fixture
def registry(plugin_site: PluginSite) -> Registry:
    plugin_site.add(
        "oven-dist",
        "2.0",
        entry_points={GROUP: {"oven": "oven_plugin:Plugin"}},
        modules={"oven_plugin.py": OVEN, **KITCHEN},
    )
    plugin_site.add(
        "waiter-dist",
        "1.1",
        entry_points={GROUP: {"waiter": "waiter_plugin:Plugin"}},
        modules={"waiter_plugin.py": WAITER},
    )
    plugin_site.add("broken-dist", entry_points={GROUP: {"broken": "no_such_module"}})
    plugin_site.add("off-dist", entry_points={GROUP: {"off": "off_module"}})
    loader = Loader(
        GROUP, distributions=plugin_site.distributions(), config=LoadConfig(deny=("off",))
    )
    return loader.load()


@pytest.fixture
def order_placed(registry: Registry) -> Signal:
    signal: Signal = importlib.import_module("kitchen").order_placed
    return signal


def schema_validator(name: str) -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def test_plugins_json_has_every_documented_key_with_its_value_for_each_state(
    registry: Registry,
) -> None:
    listed = plugins_json(registry, include_disabled=False)
    assert [item["name"] for item in listed] == ["oven", "waiter", "broken"]
    oven, waiter, broken = listed
    documented = required_keys("plugins-list.schema.json", "plugin")
    for item in listed:
        assert set(documented) <= set(item), item
    assert {key: oven[key] for key in documented} == {
        "name": "oven",
        "distribution": "oven-dist",
        "version": "2.0",
        "entry_point": "oven = oven_plugin:Plugin",
        "state": "ready",
        "error": None,
        "receivers": 1,
        "requires": [],
    }
    assert waiter["requires"] == ["oven"]
    assert waiter["error"] is None
    assert broken["state"] == "failed"
    assert broken["receivers"] == 0
    assert broken["error"].startswith("plugin broken (broken-dist 1.0), import phase: ")
    assert "no_such_module" in broken["error"]
    schema_validator("plugins-list.schema.json").validate(listed)


def test_plugins_json_lists_disabled_plugins_with_their_reason_only_when_asked(
    registry: Registry,
) -> None:
    everything = plugins_json(registry, include_disabled=True)
    assert [item["name"] for item in everything] == ["oven", "waiter", "broken", "off"]
    off = everything[-1]
    assert (off["state"], off["error"], off["reason"]) == (
        "disabled",
        None,
        "disabled by the deny-list",
    )
    schema_validator("plugins-list.schema.json").validate(everything)


def test_write_json_prints_what_json_loads_reads_back(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = plugins_json(registry, include_disabled=True)
    write_json(listed)
    out, err = capsys.readouterr()
    assert json.loads(out) == listed
    assert out.endswith("]\n")
    assert err == ""


def test_signals_json_lists_receivers_in_call_order_with_every_documented_key(
    order_placed: Signal,
) -> None:
    [entry] = signals_json([order_placed])
    assert entry["signal"] == "kitchen.order_placed"
    bake, serve = entry["receivers"]
    assert bake == {
        "receiver": "oven_plugin.bake",
        "file": bake["file"],
        "line": 8,
        "plugin": "oven",
        "sender": None,
        "weak": True,
        "dispatch_uid": "bake",
        "async": False,
        "remote": None,
        "sender_pending": False,
    }
    assert bake["file"].endswith("oven_plugin.py")
    assert {key: serve[key] for key in ("receiver", "plugin", "sender", "weak", "async")} == {
        "receiver": "waiter_plugin.serve",
        "plugin": "waiter",
        "sender": "builtins.int",
        "weak": False,
        "async": True,
    }
    assert serve["dispatch_uid"] is None
    schema_validator("signals.schema.json").validate([entry])


def test_a_lazy_sender_still_pending_is_said_to_be_pending_in_the_json_and_the_table() -> None:
    """A receiver connected for ``"module:QualName"`` whose module is not imported yet is
    called for no sender: the JSON marks it ``sender_pending`` and the table says so, beside
    a resolved lazy sender shown as the class it became."""
    published = Signal(name="published")

    def on_pending(sender: object, **kwargs: object) -> None:
        pass

    def on_resolved(sender: object, **kwargs: object) -> None:
        pass

    published.connect(on_pending, sender="shapes_never_imported.views:Post", weak=False)
    published.connect(on_resolved, sender="collections:OrderedDict", weak=False)
    [entry] = signals_json([published])
    by_name = {receiver["receiver"].rpartition(".")[2]: receiver for receiver in entry["receivers"]}
    assert by_name["on_pending"]["sender"] == "shapes_never_imported.views:Post"
    assert by_name["on_pending"]["sender_pending"] is True
    assert by_name["on_resolved"]["sender"] == "collections.OrderedDict"
    assert by_name["on_resolved"]["sender_pending"] is False
    schema_validator("signals.schema.json").validate([entry])
    rows = "\n".join(signals_lines([published]))
    assert "shapes_never_imported.views:Post (pending)" in rows
    assert "collections.OrderedDict (pending)" not in rows


def test_signals_json_keeps_a_signal_without_receivers() -> None:
    lonely = Signal(name="lonely")
    assert signals_json([lonely]) == [
        {"signal": lonely.qualified_name, "doc": None, "args": None, "receivers": []}
    ]


def test_signals_lines_show_each_signal_then_its_receivers(order_placed: Signal) -> None:
    lonely = Signal(name="lonely")
    lines = signals_lines([order_placed, lonely])
    assert lines[0] == "kitchen.order_placed (2 receivers)"
    header, first, second = lines[1:4]
    assert header.split() == ["#", "RECEIVER", "PLUGIN", "SENDER", "KIND", "DEFINED", "AT"]
    assert first.split()[:6] == ["1", "oven_plugin.bake", "oven", "any", "sync", "weak"]
    assert "uid='bake'" in first
    assert first.rstrip().endswith("oven_plugin.py:8")
    assert second.split()[:6] == [
        "2",
        "waiter_plugin.serve",
        "waiter",
        "builtins.int",
        "async",
        "strong",
    ]
    assert lines[4:] == ["", f"{lonely.qualified_name} (0 receivers)"]


def test_the_plugins_table_has_a_row_per_shown_plugin_then_each_failure(
    registry: Registry,
) -> None:
    lines = plugins_table(registry, include_disabled=False)
    assert lines[0].split() == [
        "NAME",
        "STATE",
        "DISTRIBUTION",
        "VERSION",
        "RECEIVERS",
        "REQUIRES",
        "ENTRY",
        "POINT",
    ]
    rows = [line.split()[:6] for line in lines[1:4]]
    assert rows == [
        ["oven", "ready", "oven-dist", "2.0", "1", "-"],
        ["waiter", "ready", "waiter-dist", "1.1", "1", "oven"],
        ["broken", "failed", "broken-dist", "1.0", "0", "-"],
    ]
    [error] = lines[4:]
    assert error.startswith("! plugin broken (broken-dist 1.0), import phase: ")
    assert [line.split()[0] for line in plugins_table(registry, include_disabled=True)[1:5]] == [
        "oven",
        "waiter",
        "broken",
        "off",
    ]


def test_the_plugins_table_is_empty_when_there_is_nothing_to_show() -> None:
    assert plugins_table(Registry(), include_disabled=True) == []


def test_plugins_check_reports_each_plugin_the_failures_and_a_count_by_state(
    registry: Registry,
) -> None:
    lines, failures = plugin_check_lines(registry)
    assert [line.split() for line in lines[:5]] == [
        ["STATUS", "PLUGIN", "DISTRIBUTION"],
        ["ok", "oven", "oven-dist", "2.0"],
        ["ok", "waiter", "waiter-dist", "1.1"],
        ["FAILED", "broken", "broken-dist", "1.0"],
        ["disabled", "off", "off-dist", "1.0"],
    ]
    assert lines[5].startswith("! plugin broken (broken-dist 1.0), import phase: ")
    assert lines[6:] == ["4 plugins: 2 ready, 1 failed, 1 disabled"]
    assert failures == 1
