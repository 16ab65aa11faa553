"""``hookwire signals``: every signal of the host and its receivers, in call order."""

from __future__ import annotations

import json

import pytest
from clitools import World
from docstools import documented_keys, required_keys

pytestmark = pytest.mark.e2e

RECEIVER_KEYS = set(documented_keys("signals.schema.json", "receiver"))
LIFECYCLE = [
    "hookwire.signals.plugin_loaded",
    "hookwire.signals.plugin_failed",
    "hookwire.signals.plugins_ready",
    "hookwire.signals.host_started",
    "hookwire.signals.host_stopping",
    "hookwire.signals.setting_changed",
    "hookwire.signals.remote_failed",
]


def signals_json(world: World, *args: str) -> dict[str, list[dict[str, object]]]:
    result = world.hookwire("signals", *args, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    for entry in data:
        assert set(entry) >= {"signal", "receivers"}
        for receiver in entry["receivers"]:
            assert set(receiver) >= RECEIVER_KEYS
    return {entry["signal"]: entry["receivers"] for entry in data}


def test_json_lists_the_host_signals_then_hookwire_signals_with_their_receivers(
    world: World,
) -> None:
    signals = signals_json(world, "clihost.app:calm")
    assert list(signals)[:9] == [
        "clihost.signals.order_placed",
        "clihost.signals.pizza_baked",
        *LIFECYCLE,
    ]
    assert signals["clihost.signals.pizza_baked"] == []


def test_json_receivers_are_in_call_order_with_plugin_sender_weak_uid_async_and_place(
    world: World,
) -> None:
    first, second = signals_json(world, "clihost.app:calm")["clihost.signals.order_placed"]
    required = required_keys("signals.schema.json", "receiver")
    # The required keys first, in documented order; later ones are additions.
    assert list(first)[: len(required)] == required
    assert first["receiver"] == "shop_good.signals.announce_order"
    assert first["plugin"] == "good"
    assert first["sender"] is None
    assert first["weak"] is True
    assert first["dispatch_uid"] is None
    assert first["async"] is False
    assert str(first["file"]).endswith("shop_good/signals.py")
    assert first["line"] == 8

    assert second == {
        **second,
        "receiver": "shop_needy.count_order",
        "plugin": "needy",
        "sender": "counter",
        "weak": True,
        "dispatch_uid": "needy-order",
        "async": True,
        "line": 7,
    }
    assert str(second["file"]).endswith("shop_needy.py")


def test_json_receivers_are_in_the_order_a_run_calls_them_not_the_order_they_connected(
    world: World,
) -> None:
    listed = signals_json(world, "clihost.app:mixed")["clihost.signals.pizza_baked"]
    assert [r["receiver"] for r in listed] == [
        "mixed_oven.slice_pizza",  # connected second, but sync receivers are called first
        "mixed_oven.cool_down",
    ]
    run = world.hookwire("run", "clihost.app:mixed", "--trace")
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if "clihost.signals.pizza_baked" in line)
    called = [line.split()[1] for line in lines[start + 1 : start + 3]]
    assert called == [r["receiver"] for r in listed]


def test_receivers_of_disabled_or_failed_plugins_are_not_listed(world: World) -> None:
    signals = signals_json(world, "clihost.app:host", "--disable", "needy")
    assert [r["receiver"] for r in signals["clihost.signals.order_placed"]] == [
        "shop_good.signals.announce_order"
    ]
    # ready_fails connected to pizza_baked before raising: undone.
    assert signals["clihost.signals.pizza_baked"] == []


def test_plugin_option_limits_the_receivers_to_the_named_plugins(world: World) -> None:
    signals = signals_json(world, "clihost.app:calm", "--plugin", "good")
    plugins = {r["plugin"] for receivers in signals.values() for r in receivers}
    assert plugins == {"good"}


def test_the_text_form_shows_each_signal_and_a_row_per_receiver(world: World) -> None:
    result = world.hookwire("signals", "clihost.app:calm")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    start = lines.index("clihost.signals.order_placed (2 receivers)")
    assert lines[start + 1] == "  An order was placed."
    header, first, second = lines[start + 2 : start + 5]
    assert header.split() == ["#", "RECEIVER", "PLUGIN", "SENDER", "KIND", "DEFINED", "AT"]
    assert first.split()[:6] == [
        "1",
        "shop_good.signals.announce_order",
        "good",
        "any",
        "sync",
        "weak",
    ]
    assert first.rstrip().endswith("shop_good/signals.py:8")
    assert second.split()[:7] == [
        "2",
        "shop_needy.count_order",
        "needy",
        "counter",
        "async",
        "weak",
        "uid='needy-order'",
    ]
    assert "clihost.signals.pizza_baked (0 receivers)" in lines
    assert "hookwire.signals.host_started (1 receiver)" in lines


def test_strict_applies_to_signals_too(world: World) -> None:
    result = world.hookwire("signals", "clihost.app:host", "--strict")
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1


def test_no_autoload_shows_the_signals_with_no_plugin_receivers(world: World) -> None:
    signals = signals_json(world, "clihost.app:calm", "--no-autoload")
    assert list(signals) == [
        "clihost.signals.order_placed",
        "clihost.signals.pizza_baked",
        *LIFECYCLE,
    ]
    assert list(signals.values()) == [[] for _ in signals]


def _on_a_terminal(world: World, columns: int, *args: str) -> str:
    """What ``hookwire`` prints with stdout on a pseudo-terminal ``columns`` wide."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(
        world.command(*args),
        stdout=follower,
        stderr=subprocess.PIPE,
        cwd=world.home,
        env=world.popen_env({"COLUMNS": str(columns)}),
    )
    os.close(follower)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the follower side closed: everything was read
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=120) == 0, process.stderr.read() if process.stderr else ""
    finally:
        os.close(leader)
        process.kill()
        process.wait()
        if process.stderr:
            process.stderr.close()
    return b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.mark.parametrize("columns", [80, 60])
def test_on_a_terminal_the_text_form_fits_its_width_with_short_paths(
    world: World, columns: int
) -> None:
    """On a terminal the receivers' files are shown below their search-path entry
    (``.../shop_good/signals.py``) and cells too wide are wrapped onto the next lines, so no
    line is wider than the terminal; piped, each row stays one line with its full path."""
    shown = _on_a_terminal(world, columns, "signals", "clihost.app:calm")
    lines = shown.splitlines()
    assert "clihost.signals.order_placed (2 receivers)" in lines
    assert max(len(line) for line in lines) <= columns, shown
    assert "site-packages" not in shown
    assert ".../" in shown
    first_row = next(line for line in lines if line.startswith("  1  shop_good."))
    assert first_row.split()[2:3] == ["good"]  # the plugin column, beside the receiver
    piped = world.hookwire("signals", "clihost.app:calm", env={"COLUMNS": str(columns)})
    row = next(line for line in piped.stdout.splitlines() if "announce_order" in line)
    assert "site-packages" in row
    assert row.rstrip().endswith("shop_good/signals.py:8")
