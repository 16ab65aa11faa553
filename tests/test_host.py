"""hookwire.Host: public signals, settings that announce changes, loading once, running main.

Plugins here are real distributions: hand-made ``*.dist-info`` folders in a temporary folder
put on ``sys.path``, discovered through their entry points like any installed package.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal as os_signal
import subprocess
import sys
import threading
import time
import types
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from venvtools import ROOT, Venv

import hookwire
from hookwire import Host, Signal
from hookwire import signals as lifecycle
from hookwire._dispatch.signal import all_signals
from hookwire._host import EXIT_INTERRUPTED, EXIT_TERMINATED, default_host
from hookwire.exceptions import HostError, LoadError, ReentrantLoadError


@pytest.fixture(autouse=True)
def _isolated_signals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every signal's receivers are restored after each test; discovery caches stay in tmp."""
    monkeypatch.setenv("HOOKWIRE_CACHE_DIR", str(tmp_path / "cache"))
    for variable in ("HOOKWIRE_PLUGINS", "HOOKWIRE_DISABLE_PLUGINS", "HOOKWIRE_DISABLE_AUTOLOAD"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    states = [(signal, signal._snapshot_state()) for signal in all_signals()]
    yield
    for signal, state in states:
        signal._restore_state(state)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on ``sys.path`` that plugin distributions are installed into."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def unique(prefix: str) -> str:
    """A module/group name no other test uses (modules stay in ``sys.modules``)."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def install_plugin(
    site: Path, group: str, name: str, source: str, *, attribute: str | None = None
) -> str:
    """Install distribution ``<module>-plugin`` offering ``name`` in ``group``; return its module.

    The entry point is the module itself, or ``module:attribute``.
    """
    module = unique(name)
    value = f"{module}:{attribute}" if attribute else module
    Venv(site).add_dist_info(
        f"{module}-plugin",
        "1.0",
        entry_points={group: {name: value}},
        modules={f"{module}.py": source},
        site=site,
    )
    return module


def record_sends(signal: Signal) -> list[tuple[object, dict[str, Any]]]:
    """Connect (strongly) a receiver that appends every ``(sender, kwargs)`` it gets."""
    received: list[tuple[object, dict[str, Any]]] = []

    def on_send(sender: object, **kwargs: Any) -> None:
        received.append((sender, kwargs))

    signal.connect(on_send, weak=False)
    return received


# -- construction and signals ------------------------------------------------------------------


def test_the_entry_point_group_defaults_to_the_name_followed_by_plugins() -> None:
    assert Host("pizzeria").entry_point_group == "pizzeria.plugins"
    assert Host("pizzeria", entry_point_group="pz.addons").entry_point_group == "pz.addons"


def test_an_empty_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="non-empty name"):
        Host("")


def test_signals_of_a_module_are_collected_and_unnamed_ones_take_their_attribute_name() -> None:
    module = types.ModuleType(unique("hostsignals"))
    module.order_placed = Signal()  # type: ignore[attr-defined]
    module.order_placed.module = module.__name__  # type: ignore[attr-defined]
    module.renamed = Signal(name="pizza_baked")  # type: ignore[attr-defined]
    module.renamed.module = module.__name__  # type: ignore[attr-defined]
    module.not_a_signal = 42  # type: ignore[attr-defined]

    host = Host("pizzeria", signals=[module])

    assert module.order_placed.name == "order_placed"  # type: ignore[attr-defined]
    names = list(host.signals)
    assert names[:2] == [f"{module.__name__}.order_placed", f"{module.__name__}.pizza_baked"]
    assert host.signals[f"{module.__name__}.order_placed"] is module.order_placed  # type: ignore[attr-defined]


def test_a_single_module_is_accepted_and_imported_signals_keep_their_own_names() -> None:
    home = types.ModuleType(unique("home"))
    home.defined_here = Signal()  # type: ignore[attr-defined]
    home.defined_here.module = home.__name__  # type: ignore[attr-defined]
    other = types.ModuleType(unique("other"))
    other.alias = home.defined_here  # type: ignore[attr-defined]
    other.foreign = Signal()  # type: ignore[attr-defined]
    other.foreign.module = "somewhere.else"  # type: ignore[attr-defined]

    host = Host("pizzeria", signals=other)

    assert home.defined_here.name is None  # type: ignore[attr-defined]
    assert other.foreign.name is None  # type: ignore[attr-defined]
    assert len(host.signals) == 2 + len(lifecycle.__all__)

    Host("pizzeria", signals=[home])
    assert home.defined_here.name == "defined_here"  # type: ignore[attr-defined]


def test_signal_objects_are_accepted_and_hookwire_lifecycle_signals_are_always_listed() -> None:
    extra = Signal(name="extra")
    host = Host("pizzeria", signals=[extra])
    assert host.signals[extra.qualified_name] is extra
    assert host.signals["hookwire.signals.host_stopping"] is lifecycle.host_stopping
    assert host.signals["hookwire.signals.setting_changed"] is lifecycle.setting_changed


def test_something_that_is_neither_module_nor_signal_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"modules or hookwire\.Signal objects, got int"):
        Host("pizzeria", signals=[42])  # type: ignore[list-item]


# -- settings ----------------------------------------------------------------------------------


def test_setting_a_value_sends_setting_changed_with_enter_true_after_the_change() -> None:
    host = Host("pizzeria", settings={"oven": "wood"})
    seen: list[object] = []

    def on_change(sender: object, setting: str, value: object, enter: bool, **kwargs: Any) -> None:
        seen.append((sender, setting, value, enter, host.settings.get(setting)))

    with lifecycle.setting_changed.connected_to(on_change):
        host.settings["oven"] = "electric"
    assert seen == [(host, "oven", "electric", True, "electric")]
    assert dict(host.settings) == {"oven": "electric"}


def test_deleting_a_setting_sends_setting_changed_with_enter_false_and_no_value() -> None:
    host = Host("pizzeria", settings={"oven": "wood"})
    received = record_sends(lifecycle.setting_changed)
    del host.settings["oven"]
    assert received == [
        (
            host,
            {"signal": lifecycle.setting_changed, "setting": "oven", "value": None, "enter": False},
        )
    ]
    assert "oven" not in host.settings
    with pytest.raises(KeyError):
        del host.settings["oven"]


def test_override_restores_previous_values_and_announces_both_edges() -> None:
    host = Host("pizzeria", settings={"oven": "wood"})
    received = record_sends(lifecycle.setting_changed)
    with host.settings.override(oven="gas", delivery=True):
        assert dict(host.settings) == {"oven": "gas", "delivery": True}
    assert dict(host.settings) == {"oven": "wood"}
    edges = [(kw["setting"], kw["value"], kw["enter"]) for _, kw in received]
    assert edges == [
        ("oven", "gas", True),
        ("delivery", True, True),
        ("oven", "wood", False),
        ("delivery", None, False),
    ]


def test_override_restores_previous_values_when_its_block_raises() -> None:
    host = Host("pizzeria", settings={"oven": "wood"})
    received = record_sends(lifecycle.setting_changed)
    with (  # noqa: PT012
        pytest.raises(LookupError, match="no such topping"),
        host.settings.override(oven="gas", delivery=True),
    ):
        assert dict(host.settings) == {"oven": "gas", "delivery": True}
        raise LookupError("no such topping")
    assert dict(host.settings) == {"oven": "wood"}
    edges = [(kw["setting"], kw["value"], kw["enter"]) for _, kw in received]
    assert edges == [
        ("oven", "gas", True),
        ("delivery", True, True),
        ("oven", "wood", False),
        ("delivery", None, False),
    ]


def test_settings_of_another_host_are_independent() -> None:
    first, second = Host("first"), Host("second")
    first.settings["a"] = 1
    assert "a" not in second.settings


# -- loading -----------------------------------------------------------------------------------

COUNTING_PLUGIN = """
    from hookwire import Plugin
    from hookwire.signals import host_started

    READY_CALLS = []

    def on_started(sender, **kwargs):
        READY_CALLS.append("started")

    class CountingPlugin(Plugin):
        signals_module = None

        def ready(self):
            READY_CALLS.append("ready")
            host_started.connect(on_started)
"""


def test_registry_before_loading_is_an_error_naming_the_host() -> None:
    with pytest.raises(HostError, match="'pizzeria' has not loaded its plugins yet"):
        _ = Host("pizzeria").registry


def test_load_discovers_an_installed_plugin_and_a_second_load_changes_nothing(site: Path) -> None:
    group = unique("grp")
    module = install_plugin(site, group, "counting", COUNTING_PLUGIN, attribute="CountingPlugin")
    host = Host("pizzeria", entry_point_group=group)

    registry = host.load()
    again = host.load()

    assert again is registry
    assert host.registry is registry
    record = registry["counting"]
    assert record.state.value == "ready"
    assert record.distribution == f"{module}-plugin"
    assert sys.modules[module].READY_CALLS == ["ready"]


def test_load_from_many_threads_readies_each_plugin_once(site: Path) -> None:
    group = unique("grp")
    module = install_plugin(site, group, "counting", COUNTING_PLUGIN, attribute="CountingPlugin")
    host = Host("pizzeria", entry_point_group=group)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def load() -> None:
        try:
            barrier.wait(timeout=10)
            host.load()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert not any(thread.is_alive() for thread in threads)
    assert len(host.registry) == 1
    assert sys.modules[module].READY_CALLS == ["ready"]


def test_load_arguments_reach_the_loader_and_a_disabled_plugin_is_never_imported(
    site: Path,
) -> None:
    group = unique("grp")
    module = install_plugin(site, group, "shy", "raise RuntimeError('must not be imported')\n")
    host = Host("pizzeria", entry_point_group=group)
    registry = host.load(disable=["shy"])
    assert registry["shy"].state.value == "disabled"
    assert module not in sys.modules


def test_load_again_with_different_arguments_is_an_error_not_silently_ignored(site: Path) -> None:
    group = unique("grp")
    install_plugin(site, group, "plain", "VALUE = 1\n")
    host = Host("pizzeria", entry_point_group=group)
    host.load()
    assert host.load(strict=False) is host.registry  # the same settings: fine
    with pytest.raises(HostError, match="already loaded its plugins"):
        host.load(disable=["plain"])


def test_strict_loading_raises_load_error_naming_the_failed_plugin(site: Path) -> None:
    group = unique("grp")
    install_plugin(site, group, "broken", "raise ImportError('no oven')\n")
    host = Host("pizzeria", entry_point_group=group)
    with pytest.raises(LoadError, match="broken"):
        host.load(strict=True)


def test_a_strict_load_failure_in_run_starts_nothing_and_sends_no_stopping(site: Path) -> None:
    group = unique("grp")
    install_plugin(site, group, "broken", "raise ImportError('no oven')\n")
    ran: list[str] = []
    host = Host("pizzeria", entry_point_group=group, main=lambda: ran.append("main"))
    started = record_sends(lifecycle.host_started)
    stopping = record_sends(lifecycle.host_stopping)
    with pytest.raises(LoadError, match="broken"):
        host.run(strict=True)
    assert (ran, started, stopping) == ([], [], [])


def test_a_ready_that_loads_its_host_again_gets_a_clear_error_not_a_hang(site: Path) -> None:
    group = unique("grp")
    install_plugin(
        site,
        group,
        "reentrant",
        """
        from hookwire import Plugin
        import hookwire_test_hosts

        class Reentrant(Plugin):
            signals_module = None

            def ready(self):
                hookwire_test_hosts.HOST.load()
        """,
        attribute="Reentrant",
    )
    host = Host("pizzeria", entry_point_group=group)
    holder = types.ModuleType("hookwire_test_hosts")
    holder.HOST = host  # type: ignore[attr-defined]
    sys.modules["hookwire_test_hosts"] = holder
    try:
        outcome: list[object] = []
        thread = threading.Thread(target=lambda: outcome.append(host.load()), daemon=True)
        thread.start()
        thread.join(timeout=30)
        assert not thread.is_alive(), "host.load() from ready() hung"
        record = host.registry["reentrant"]
        assert record.state.value == "failed"
        assert isinstance(
            record.exception.__cause__ if record.exception else None, ReentrantLoadError
        )
    finally:
        del sys.modules["hookwire_test_hosts"]


# -- running -----------------------------------------------------------------------------------


def test_run_sends_started_then_calls_main_then_sends_stopping_and_returns_main_status() -> None:
    events: list[str] = []
    host = Host(unique("host"), main=lambda: events.append("main") or 7)

    def on_started(sender: object, **kwargs: Any) -> None:
        events.append("started")

    def on_stopping(sender: object, exc: BaseException | None, **kwargs: Any) -> None:
        events.append(f"stopping exc={exc!r}")

    with (
        lifecycle.host_started.connected_to(on_started, sender=host),
        lifecycle.host_stopping.connected_to(on_stopping, sender=host),
    ):
        status = host.run()
    assert status == 7
    assert events == ["started", "main", "stopping exc=None"]


def test_run_loads_the_plugins_first_when_not_loaded_yet(site: Path) -> None:
    group = unique("grp")
    module = install_plugin(site, group, "counting", COUNTING_PLUGIN, attribute="CountingPlugin")
    host = Host("pizzeria", entry_point_group=group)
    assert not host.loaded
    assert host.run() == 0
    assert host.loaded
    assert sys.modules[module].READY_CALLS == ["ready", "started"]


@pytest.mark.parametrize(
    ("returned", "status"), [(None, 0), (0, 0), (3, 3), (True, 1)], ids=["None", "0", "3", "True"]
)
def test_main_return_value_is_the_exit_status(returned: object, status: int) -> None:
    assert Host(unique("host"), main=lambda: returned).run() == status


@pytest.mark.parametrize("returned", [256, 512, -1])
def test_a_status_outside_0_to_255_is_a_failure_with_a_warning_naming_it(
    returned: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="hookwire.host"):
        assert Host(unique("host"), main=lambda: returned).run() == 1
    (record,) = caplog.records
    assert str(returned) in record.getMessage()


def test_a_host_without_main_runs_and_exits_zero() -> None:
    assert Host(unique("host")).run() == 0


def test_main_returning_something_else_is_a_host_error_after_stopping_was_sent() -> None:
    host = Host(unique("host"), main=lambda: "done")
    received = record_sends(lifecycle.host_stopping)
    with pytest.raises(HostError, match="main returned str 'done'"):
        host.run()
    assert [sender for sender, _ in received] == [host]


def test_an_async_main_runs_in_its_own_event_loop_and_its_result_is_the_status() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def main() -> int:
        loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0)
        return 5

    assert Host(unique("host"), main=main).run() == 5
    assert len(loops) == 1
    assert loops[0].is_closed()


def test_an_exception_in_main_propagates_after_stopping_was_sent_with_it() -> None:
    def main() -> None:
        raise ValueError("oven on fire")

    host = Host(unique("host"), main=main)
    received = record_sends(lifecycle.host_stopping)
    with pytest.raises(ValueError, match="oven on fire"):
        host.run()
    ((sender, kwargs),) = received
    assert sender is host
    assert isinstance(kwargs["exc"], ValueError)


def test_every_stopping_receiver_is_called_even_when_one_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    host = Host(unique("host"))
    calls: list[str] = []

    def failing(sender: object, **kwargs: Any) -> None:
        calls.append("failing")
        raise RuntimeError("cannot stop")

    def second(sender: object, **kwargs: Any) -> None:
        calls.append("second")

    with (
        lifecycle.host_stopping.connected_to(failing, sender=host),
        lifecycle.host_stopping.connected_to(second, sender=host),
    ):
        assert host.run() == 0
    assert calls == ["failing", "second"]
    assert "cannot stop" in caplog.text


def test_ctrl_c_in_main_sends_stopping_and_returns_130() -> None:
    def main() -> None:
        raise KeyboardInterrupt

    host = Host(unique("host"), main=main)
    received = record_sends(lifecycle.host_stopping)
    assert host.run() == EXIT_INTERRUPTED == 130
    assert isinstance(received[0][1]["exc"], KeyboardInterrupt)


def test_sigterm_during_main_sends_stopping_returns_143_and_restores_the_handler() -> None:
    def main() -> None:
        os.kill(os.getpid(), os_signal.SIGTERM)
        time.sleep(10)  # interrupted by the handler run installs
        raise AssertionError("SIGTERM did not stop main")

    before = os_signal.getsignal(os_signal.SIGTERM)
    host = Host(unique("host"), main=main)
    received = record_sends(lifecycle.host_stopping)
    started = time.monotonic()
    assert host.run() == EXIT_TERMINATED == 143
    assert time.monotonic() - started < 5
    assert received[0][1]["exc"] is not None
    assert os_signal.getsignal(os_signal.SIGTERM) is before


def test_system_exit_from_main_propagates_after_stopping() -> None:
    def main() -> None:
        sys.exit(4)

    host = Host(unique("host"), main=main)
    received = record_sends(lifecycle.host_stopping)
    with pytest.raises(SystemExit) as raised:
        host.run()
    assert raised.value.code == 4
    assert isinstance(received[0][1]["exc"], SystemExit)


def test_run_works_outside_the_main_thread_without_touching_signal_handlers() -> None:
    before = os_signal.getsignal(os_signal.SIGTERM)
    results: list[int] = []
    thread = threading.Thread(
        target=lambda: results.append(Host(unique("host"), main=lambda: 2).run())
    )
    thread.start()
    thread.join(timeout=30)
    assert results == [2]
    assert os_signal.getsignal(os_signal.SIGTERM) is before


# -- the default host and import cost -------------------------------------------------------


def test_the_default_host_uses_the_hookwire_plugins_group_and_hookwire_version() -> None:
    assert default_host.name == "hookwire"
    assert default_host.entry_point_group == "hookwire.plugins"
    assert default_host.version == hookwire.__version__


def test_importing_the_host_module_imports_no_asyncio_loader_metadata_or_cli() -> None:
    code = (
        "import sys, hookwire._host\n"
        "heavy = ['asyncio', 'typer', 'rich', 'importlib.metadata', 'importlib_metadata',"
        " 'hookwire._loading.loader', 'hookwire.cli']\n"
        "print([name for name in heavy if name in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]"
