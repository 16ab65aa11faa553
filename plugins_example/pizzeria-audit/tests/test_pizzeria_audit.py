"""The audit plugin: an audit trail from hookwire's lifecycle signals.

The example is imported inside each test (see ``conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hookwire import Host, PluginState, Registry
from hookwire.testing import FakePlugins


@pytest.fixture
def host() -> Host:
    from pizzeria.app import host

    return host


@pytest.fixture
def load(
    fake_plugins: FakePlugins, declare_example_plugins: Callable[..., None], host: Host
) -> Callable[..., Registry]:
    """``load(*folders)``: load those example packages' plugins for the pizzeria host."""

    def load_plugins(*folders: str) -> Registry:
        declare_example_plugins(*folders)
        return fake_plugins.load(host=host)

    return load_plugins


def audit_trail(registry: Registry) -> list[str]:
    """The trail of the audit module loaded for this test (each test imports it afresh)."""
    module: Any = registry["audit"].plugin.module  # type: ignore[union-attr]
    return list(module.trail)


def test_audit_connects_one_receiver_per_lifecycle_signal_from_its_listeners_module(
    load: Callable[..., Registry],
) -> None:
    record = load("pizzeria-audit")["audit"]

    assert record.state is PluginState.READY
    assert record.entry_point == "audit = pizzeria_audit:AuditPlugin"
    assert sorted(info.name for info in record.receivers()) == [
        "pizzeria_audit.listeners.on_host_started",
        "pizzeria_audit.listeners.on_host_stopping",
        "pizzeria_audit.listeners.on_plugin_failed",
        "pizzeria_audit.listeners.on_plugin_loaded",
        "pizzeria_audit.listeners.on_plugins_ready",
        "pizzeria_audit.listeners.on_setting_changed",
    ]


def test_audit_records_loading_and_the_host_life_in_order(
    load: Callable[..., Registry], host: Host, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = load("pizzeria-audit", "pizzeria-loyalty", "pizzeria-sms")
    assert host.run() == 0

    assert audit_trail(registry) == [
        "plugin loaded: audit (pizzeria-audit 2.1.0)",
        "plugin loaded: loyalty (pizzeria-loyalty 0.3.0)",
        "plugin loaded: sms (pizzeria-sms 1.0.0)",
        "plugins ready: audit, loyalty, sms",
        "host started: pizzeria 1.4.0",
        "setting changed: oven_temperature = 250",
        "host stopping normally: pizzeria 1.4.0",
    ]
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[audit]")]
    assert printed == [f"[audit] {entry}" for entry in audit_trail(registry)]


def test_audit_records_a_plugin_that_failed_with_its_cause(load: Callable[..., Registry]) -> None:
    trail = audit_trail(load("pizzeria-audit", "pizzeria-sms"))

    assert trail[0] == "plugin loaded: audit (pizzeria-audit 2.1.0)"
    assert trail[1].startswith("plugin failed: sms: ")
    assert "loyalty" in trail[1]
    assert trail[2:] == ["plugins ready: audit"]


def test_audit_records_why_the_host_stops(
    load: Callable[..., Registry], host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_main() -> int:
        raise RuntimeError("the oven is on fire")

    monkeypatch.setattr(host, "main", broken_main)
    registry = load("pizzeria-audit")

    with pytest.raises(RuntimeError, match="on fire"):
        host.run()

    assert audit_trail(registry)[-1] == "host stopping because of RuntimeError: pizzeria 1.4.0"


def test_running_the_ready_phase_again_registers_nothing_twice(
    load: Callable[..., Registry], fake_plugins: FakePlugins
) -> None:
    load("pizzeria-audit")
    fake_plugins.assert_ready_idempotent()
