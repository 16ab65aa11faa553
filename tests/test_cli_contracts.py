"""What the CLI shows of signal contracts, in process over really installed plugins: each
signal's doc and arguments in ``signals`` and its JSON, ``signals --markdown`` (the host's
plugin API as a page), and ``plugins check`` naming plugins that use deprecated arguments."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from docstools import SCHEMAS
from venvtools import PluginSite

from hookwire.cli._app import invoke
from hookwire.exceptions import HookwireDeprecationWarning

MENU = """
from __future__ import annotations

from hookwire import Signal, signal_spec

order_placed = Signal(
    name="order_placed",
    doc="An order was placed | at a table.",
    args={"order": int, "guests": "list[str]"},
    deprecated_args={"table": "use order.table"},
)
kitchen_closed = Signal(name="kitchen_closed")


@signal_spec
def dish_served(sender: object, *, dish: str) -> None:
    '''A dish left the kitchen.

    More prose that is not the summary.
    '''
"""
MENU_HOST = """
import menu
from hookwire import Host

host = Host("menu", version="2.0", signals=[menu])
"""
TABLES = """
from hookwire import receiver
from menu import order_placed


@receiver(order_placed)
def seat(sender, order, table, **kwargs):
    return table
"""
WAITERS = """
from hookwire import receiver
from menu import dish_served


@receiver(dish_served)
def carry(sender, dish, **kwargs):
    return dish
"""


@pytest.fixture
def menu(plugin_site: PluginSite) -> Iterator[PluginSite]:
    plugin_site.add("menu", modules={"menu.py": MENU, "menu_host.py": MENU_HOST})
    plugin_site.add(
        "menu-tables",
        entry_points={"menu.plugins": {"tables": "menu_tables"}},
        modules={"menu_tables/__init__.py": "", "menu_tables/signals.py": TABLES},
    )
    plugin_site.add(
        "menu-waiters",
        entry_points={"menu.plugins": {"waiters": "menu_waiters"}},
        modules={"menu_waiters/__init__.py": "", "menu_waiters/signals.py": WAITERS},
    )
    # The tests run with warnings as errors; a plugin naming a deprecated argument is
    # warned, not refused, so let the warning be a warning here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HookwireDeprecationWarning)
        yield plugin_site


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = invoke(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_signals_json_gives_each_signal_its_doc_and_declared_arguments(
    menu: PluginSite, capsys: pytest.CaptureFixture[str]
) -> None:
    from jsonschema import Draft202012Validator

    status, out, err = run(capsys, "signals", "menu_host:host", "--json")
    assert status == 0, err
    data = json.loads(out)
    schema = json.loads((SCHEMAS / "signals.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator(schema).validate(data)
    by_name: dict[str, Any] = {entry["signal"]: entry for entry in data}

    placed = by_name["menu.order_placed"]
    assert placed["doc"] == "An order was placed | at a table."
    assert placed["args"] == [
        {"name": "order", "type": "int", "deprecated": False, "replacement": None},
        {"name": "guests", "type": "list[str]", "deprecated": False, "replacement": None},
        {"name": "table", "type": None, "deprecated": True, "replacement": "use order.table"},
    ]
    assert [r["receiver"] for r in placed["receivers"]] == ["menu_tables.signals.seat"]
    assert by_name["menu.dish_served"]["doc"] == "A dish left the kitchen."
    assert by_name["menu.dish_served"]["args"] == [
        {"name": "dish", "type": "str", "deprecated": False, "replacement": None}
    ]
    # A signal that declares nothing says so with null, one that declares no argument with [].
    assert (by_name["menu.kitchen_closed"]["doc"], by_name["menu.kitchen_closed"]["args"]) == (
        None,
        None,
    )
    assert by_name["hookwire.signals.host_started"]["args"] == []
    assert by_name["hookwire.signals.plugins_ready"]["args"] == [
        {"name": "registry", "type": "Registry", "deprecated": False, "replacement": None}
    ]


def test_signals_text_shows_the_doc_and_the_arguments_under_each_signal(
    menu: PluginSite, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "signals", "menu_host:host")
    assert status == 0, err
    lines = out.splitlines()
    start = lines.index("menu.order_placed (1 receiver)")
    assert lines[start + 1 : start + 3] == [
        "  An order was placed | at a table.",
        "  arguments: order: int, guests: list[str]; deprecated: table (use order.table)",
    ]
    assert lines[start + 3].split()[:2] == ["#", "RECEIVER"]
    closed = lines.index("menu.kitchen_closed (0 receivers)")
    assert lines[closed + 1] == ""  # nothing declared, nothing documented: nothing added
    started = lines.index("hookwire.signals.host_started (0 receivers)")
    assert lines[started + 2] == "  arguments: none"


def test_signals_markdown_is_the_hosts_plugin_api_without_loading_any_plugin(
    menu: PluginSite, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    status, out, err = run(capsys, "signals", "menu_host:host", "--markdown")
    assert status == 0, err
    assert "menu_tables.signals" not in sys.modules
    assert out.startswith("# menu 2.0: plugin API\n")
    assert "entry point in the group `menu.plugins`" in out
    section = out[out.index("### `menu.order_placed`") : out.index("### `menu.kitchen_closed`")]
    assert section.splitlines()[2] == "An order was placed | at a table."
    assert "| `order` | `int` |  |" in section
    assert "| `guests` | `list[str]` |  |" in section
    assert "| `table` |  | deprecated: use order.table |" in section
    assert "def on_order_placed(sender, order, guests, **kwargs):" in section
    assert "from menu import order_placed" in section
    closed = out[out.index("### `menu.kitchen_closed`") :]
    assert closed.splitlines()[2].startswith("Declares no arguments")
    lifecycle = out[out.index("## Lifecycle signals") :]
    headings = [line for line in lifecycle.splitlines() if line.startswith("### ")]
    assert headings[:3] == [
        "### `hookwire.signals.plugin_loaded`",
        "### `hookwire.signals.plugin_failed`",
        "### `hookwire.signals.plugins_ready`",
    ]
    assert "def on_plugins_ready(sender, registry, **kwargs):" in lifecycle


def test_signals_refuses_json_and_markdown_together(
    menu: PluginSite, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "signals", "menu_host:host", "--json", "--markdown")
    assert status == 2
    assert out == ""
    assert "--json or --markdown, not both" in err


def test_plugins_check_lists_plugins_using_deprecated_arguments_without_failing(
    menu: PluginSite, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, "plugins", "check", "menu_host:host")
    assert status == 0, (out, err)
    lines = out.splitlines()
    assert (
        "~ plugin 'tables': menu_tables.signals.seat takes 'table', a deprecated argument of "
        "menu.order_placed: use order.table"
    ) in lines
    assert not any("waiters" in line and line.startswith("~") for line in lines)
    assert lines[-1] == "2 plugins: 2 ready; 1 plugin uses deprecated signal arguments"
