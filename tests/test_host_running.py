"""Embedding a host: ``Host.running()`` (``with`` and ``async with``), ``Host.unload()``, and
every failed plugin logged once on ``hookwire.loading``.

Plugins are hand-made distributions on ``sys.path`` (see ``plugin_site``), discovered through
their entry points like any installed package.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from typing import Any

import pytest
from venvtools import PluginSite

from hookwire import Host, PluginState, Signal
from hookwire import signals as lifecycle
from hookwire.exceptions import LoadError

RECORDER = """
    from hookwire import receiver
    from hookwire.signals import host_started

    calls = []

    @receiver(host_started)
    def on_started(sender, **kwargs):
        calls.append(sender)
"""


def unique(prefix: str) -> str:
    """A module or group name no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def lifecycle_log() -> list[tuple[str, Any]]:
    """Record, in order, ``host_started`` and ``host_stopping`` (with its ``exc``)."""
    seen: list[tuple[str, Any]] = []

    def started(sender: object, **kwargs: Any) -> None:
        seen.append(("started", sender))

    def stopping(sender: object, exc: BaseException | None = None, **kwargs: Any) -> None:
        seen.append(("stopping", exc))

    lifecycle.host_started.connect(started, weak=False)
    lifecycle.host_stopping.connect(stopping, weak=False)
    return seen


def add_plugin(site: PluginSite, group: str, name: str, source: str = RECORDER) -> str:
    """Install a distribution offering plugin ``name`` (a bare module) in ``group``."""
    module = unique(name)
    site.add(
        f"{module}-dist",
        entry_points={group: {name: module}},
        modules={f"{module}/__init__.py": "", f"{module}/signals.py": source},
    )
    return module


# -- running() -------------------------------------------------------------------------------


def test_running_loads_sends_started_gives_the_registry_and_sends_stopping_on_the_way_out(
    plugin_site: PluginSite,
) -> None:
    group = unique("grp")
    module = add_plugin(plugin_site, group, "counter")
    host = Host("shop", entry_point_group=group)
    seen = lifecycle_log()
    with host.running() as registry:
        assert registry["counter"].state is PluginState.READY
        assert seen == [("started", host)]
        assert sys.modules[f"{module}.signals"].calls == [host]
    assert seen == [("started", host), ("stopping", None)]


def test_running_sends_stopping_with_the_exception_that_ends_the_block_and_lets_it_through(
    plugin_site: PluginSite,
) -> None:
    host = Host("shop", entry_point_group=unique("grp"))
    seen = lifecycle_log()
    with pytest.raises(KeyboardInterrupt), host.running():
        raise KeyboardInterrupt
    assert seen[-1][0] == "stopping"
    assert isinstance(seen[-1][1], KeyboardInterrupt)


def test_a_started_receiver_that_raises_stops_the_host_with_that_exception(
    plugin_site: PluginSite,
) -> None:
    host = Host("shop", entry_point_group=unique("grp"))
    seen = lifecycle_log()
    body_ran = []

    def refuse(sender: object, **kwargs: Any) -> None:
        raise RuntimeError("no oven")

    lifecycle.host_started.connect(refuse, weak=False)
    with pytest.raises(RuntimeError, match="no oven"), host.running():
        body_ran.append(True)
    assert body_ran == []
    assert isinstance(seen[-1][1], RuntimeError)


def test_a_strict_load_failure_starts_nothing_and_stops_nothing(plugin_site: PluginSite) -> None:
    group = unique("grp")
    plugin_site.add("gone-dist", entry_points={group: {"gone": "no_such_module_anywhere"}})
    host = Host("shop", entry_point_group=group)
    seen = lifecycle_log()
    with pytest.raises(LoadError), host.running(strict=True):
        pass
    assert seen == []


def test_async_running_awaits_the_lifecycle_sends_in_the_running_loop(
    plugin_site: PluginSite,
) -> None:
    host = Host("shop", entry_point_group=unique("grp"))
    loops: list[tuple[str, object, BaseException | None]] = []

    async def started(sender: object, **kwargs: Any) -> None:
        loops.append(("started", asyncio.get_running_loop(), None))

    async def stopping(sender: object, exc: BaseException | None = None, **kwargs: Any) -> None:
        loops.append(("stopping", asyncio.get_running_loop(), exc))

    lifecycle.host_started.connect(started, weak=False)
    lifecycle.host_stopping.connect(stopping, weak=False)

    async def serve() -> object:
        async with host.running() as registry:
            assert loops == [("started", asyncio.get_running_loop(), None)]
            assert len(registry) == 0
            raise ValueError("served badly")

    with pytest.raises(ValueError, match="served badly"):
        asyncio.run(serve())
    (_, loop_started, _), (stop, loop_stopping, exc) = loops
    assert loop_started is loop_stopping
    assert stop == "stopping"
    assert isinstance(exc, ValueError)


def test_run_is_main_inside_running(plugin_site: PluginSite) -> None:
    seen = lifecycle_log()
    host = Host("shop", entry_point_group=unique("grp"), main=lambda: seen.append(("main", 0)))
    assert host.run() == 0
    assert seen == [("started", host), ("main", 0), ("stopping", None)]


# -- unload() --------------------------------------------------------------------------------


def test_unload_then_load_with_a_plugin_disabled_leaves_its_receivers_uncalled(
    plugin_site: PluginSite,
) -> None:
    group = unique("grp")
    kept = add_plugin(plugin_site, group, "kept")
    dropped = add_plugin(plugin_site, group, "dropped")
    host = Host("shop", entry_point_group=group)
    with host.running():
        pass
    first_kept = sys.modules[f"{kept}.signals"]
    assert sys.modules[f"{dropped}.signals"].calls == [host]

    host.unload()
    assert not host.loaded
    assert dropped not in sys.modules  # imported afresh when loaded again
    assert not lifecycle.host_started.has_listeners(host)

    with host.running(disable=["dropped"]) as registry:
        assert registry["dropped"].state is PluginState.DISABLED
    assert dropped not in sys.modules  # never imported this time
    assert sys.modules[f"{kept}.signals"] is not first_kept
    assert sys.modules[f"{kept}.signals"].calls == [host]
    assert first_kept.calls == [host]  # its old receiver was not called again


def test_unload_empties_the_registry_and_keeps_what_the_host_connected(
    plugin_site: PluginSite,
) -> None:
    group = unique("grp")
    add_plugin(plugin_site, group, "counter")
    host = Host("shop", entry_point_group=group)
    registry = host.load()
    assert registry["counter"].receivers()
    seen = lifecycle_log()
    host.unload()
    assert len(registry) == 0
    lifecycle.host_started.send(sender=host)
    assert seen == [("started", host)]
    host.unload()  # not loaded: nothing to do
    assert host.load()["counter"].state is PluginState.READY


def test_unload_removes_what_a_plugin_connected_in_ready(plugin_site: PluginSite) -> None:
    group = unique("grp")
    module = unique("readyplug")
    pizza_done = Signal(name=unique("pizza_done"))
    holder = unique("holder")
    sys.modules[holder] = type(sys)(holder)
    sys.modules[holder].pizza_done = pizza_done  # type: ignore[attr-defined]
    plugin_site.add(
        f"{module}-dist",
        entry_points={group: {"chef": f"{module}:Chef"}},
        modules={
            f"{module}.py": f"""
                from hookwire import Plugin
                import {holder}

                def on_done(sender, **kwargs):
                    pass

                class Chef(Plugin):
                    def ready(self):
                        {holder}.pizza_done.connect(on_done)
            """
        },
    )
    host = Host("shop", entry_point_group=group)
    try:
        host.load()
        assert pizza_done.has_listeners()
        host.unload()
        assert not pizza_done.has_listeners()
    finally:
        del sys.modules[holder]


# -- failures are logged -----------------------------------------------------------------------


def test_each_failed_plugin_is_one_warning_on_hookwire_loading_with_its_context(
    plugin_site: PluginSite, caplog: pytest.LogCaptureFixture
) -> None:
    group = unique("grp")
    plugin_site.add("gone-dist", "2.0", entry_points={group: {"gone": "no_such_module_here"}})
    add_plugin(plugin_site, group, "raiser", "def oops(:\n")
    add_plugin(plugin_site, group, "fine")
    host = Host("shop", entry_point_group=group)
    with caplog.at_level(logging.DEBUG, logger="hookwire"):
        host.load()
        host.load()  # loading again logs nothing again
    records = [record for record in caplog.records if record.name == "hookwire.loading"]
    assert [(r.levelno, r.plugin, r.phase) for r in records] == [  # type: ignore[attr-defined]
        (logging.WARNING, "gone", "import"),
        (logging.WARNING, "raiser", "ready"),
    ]
    gone, raiser = records
    assert gone.distribution == "gone-dist"  # type: ignore[attr-defined]
    assert gone.getMessage() == host.registry["gone"].error
    assert "no_such_module_here" in gone.cause  # type: ignore[attr-defined]
    assert "SyntaxError" in raiser.cause  # type: ignore[attr-defined]
    assert raiser.error.plugin == "raiser"  # type: ignore[attr-defined]
    assert isinstance(raiser.error.__cause__, SyntaxError)  # type: ignore[attr-defined]


def test_an_application_that_configures_logging_sees_the_failure(
    plugin_site: PluginSite,
) -> None:
    group = unique("grp")
    plugin_site.add("gone-dist", entry_points={group: {"gone": "no_such_module_here"}})
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")

    root = logging.getLogger()
    handler = Collect()
    root.addHandler(handler)
    try:
        Host("shop", entry_point_group=group).load()
    finally:
        root.removeHandler(handler)
    assert len(lines) == 1
    assert lines[0].startswith("WARNING hookwire.loading: plugin gone (gone-dist 1.0), import")


def test_a_strict_load_says_it_once_in_the_load_error_not_in_the_log(
    plugin_site: PluginSite, caplog: pytest.LogCaptureFixture
) -> None:
    group = unique("grp")
    plugin_site.add("gone-dist", entry_points={group: {"gone": "no_such_module_here"}})
    with caplog.at_level(logging.DEBUG, logger="hookwire"), pytest.raises(LoadError):
        Host("shop", entry_point_group=group).load(strict=True)
    assert [r for r in caplog.records if r.name == "hookwire.loading"] == []
