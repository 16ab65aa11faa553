"""Lazy plugins: declared in metadata, imported at the first send of a signal they declare.

Every test loads a real host over distributions installed (as ``*.dist-info`` folders with
their modules) into one folder on ``sys.path``, written once for the module; each test
selects the plugins it is about with the allow-list, and everything its plugins imported is
forgotten afterwards.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from venvtools import backdate, write_dist_info

from hookwire import Host
from hookwire._dispatch import activation
from hookwire._loading.discovery import discover
from hookwire._loading.registry import PluginState
from hookwire.exceptions import HostError, LoadError

GROUP = "lazytest.plugins"
LISTENS = f"{GROUP}.listens"

HOST_SIGNALS = """
from hookwire import Signal

ping = Signal()
pong = Signal()
hello = Signal()
boom = Signal()
sigx = Signal()
sigy = Signal()
"""


def plugin_modules(
    package: str, name: str, receivers: dict[str, str], ready: str = "", requires: str = "()"
) -> dict[str, str]:
    """A plugin package whose import and ready() are counted in ``lazytally.events`` and
    whose signals module connects one receiver, returning ``name``, to each signal of
    ``receivers`` (signal attribute -> receiver function name)."""
    init = f"""
        import lazytally
        from hookwire import Plugin

        lazytally.events.append(("import", {name!r}))


        class ThePlugin(Plugin):
            requires = {requires}

            def ready(self):
                lazytally.events.append(("ready", {name!r}))
                import lazyhost
                {ready or "pass"}
        """
    lines = ["from hookwire import receiver", "import lazyhost", ""]
    for signal, function in receivers.items():
        lines += [
            f"@receiver(lazyhost.{signal}, dispatch_uid={function!r})",
            f"def {function}(sender, **kwargs):",
            f"    return {name!r}",
            "",
        ]
    return {f"{package}/__init__.py": init, f"{package}/signals.py": "\n".join(lines)}


def lazy_distribution(
    site: Path, name: str, listens: dict[str, str], modules: dict[str, str]
) -> None:
    """Install ``lazy-<name>`` offering plugin ``name`` (``lazy_<name>:ThePlugin``) and
    declaring ``listens`` (label -> value) in the declarations group."""
    write_dist_info(
        site,
        f"lazy-{name}",
        entry_points={
            GROUP: {name: f"lazy_{name}:ThePlugin"},
            LISTENS: {f"{name}.{label}": value for label, value in listens.items()},
        },
        modules=modules,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("lazy-site")
    write_dist_info(
        root,
        "lazyhost",
        modules={"lazyhost.py": HOST_SIGNALS, "lazytally.py": "events = []\ninterrupted = False\n"},
    )
    lazy_distribution(
        root,
        "alpha",
        {"ping": "lazyhost:ping"},
        plugin_modules("lazy_alpha", "alpha", {"ping": "alpha_ping"}),
    )
    lazy_distribution(
        root,
        "beta",
        {"pong": "lazyhost:pong"},
        plugin_modules("lazy_beta", "beta", {"pong": "beta_pong"}, requires="('alpha',)"),
    )
    lazy_distribution(
        root,
        "relay",
        {"hello": "lazyhost:hello"},
        plugin_modules(
            "lazy_relay",
            "relay",
            {"hello": "relay_hello"},
            ready=(
                "lazytally.events.append(('pong', [r for _, r in lazyhost.pong.send(None)]));"
                " lazytally.events.append(('hello', [r for _, r in lazyhost.hello.send(None)]))"
            ),
        ),
    )
    lazy_distribution(
        root,
        "x",
        {"sigx": "lazyhost:sigx"},
        plugin_modules("lazy_x", "x", {"sigx": "x_sigx"}, ready="lazyhost.sigy.send(None)"),
    )
    lazy_distribution(
        root,
        "y",
        {"sigy": "lazyhost:sigy"},
        plugin_modules("lazy_y", "y", {"sigy": "y_sigy"}, ready="lazyhost.sigx.send(None)"),
    )
    lazy_distribution(
        root,
        "failing",
        {"boom": "lazyhost:boom"},
        plugin_modules(
            "lazy_failing",
            "failing",
            {"boom": "failing_boom"},
            ready="raise RuntimeError('the oven is cold')",
        ),
    )
    lazy_distribution(
        root,
        "steady",
        {"boom": "lazyhost:boom"},
        plugin_modules("lazy_steady", "steady", {"boom": "steady_boom"}),
    )
    lazy_distribution(
        root,
        "drifter",
        {"ping": "lazyhost:ping", "pong": "lazyhost:pong"},
        plugin_modules("lazy_drifter", "drifter", {"ping": "drift_ping", "hello": "drift_hello"}),
    )
    lazy_distribution(
        root,
        "outsider",
        {"started": "hookwire.signals:host_started"},
        plugin_modules("lazy_outsider", "outsider", {"ping": "outsider_ping"}),
    )
    write_dist_info(
        root,
        "lazy-odd",
        entry_points={
            GROUP: {"noattr": "lazy_noattr:ThePlugin"},
            LISTENS: {
                "noattr.ping": "lazyhost",
                "nobody.ping": "lazyhost:ping",
                "\x1b[31mred.ping": "lazyhost:ping",
            },
        },
        modules=plugin_modules("lazy_noattr", "noattr", {"ping": "noattr_ping"}),
    )
    lazy_distribution(
        root,
        "brittle",
        {"pong": "lazyhost:pong"},
        plugin_modules(
            "lazy_brittle",
            "brittle",
            {"pong": "brittle_pong"},
            ready=(
                "if not lazytally.interrupted: lazytally.interrupted = True; "
                "raise KeyboardInterrupt"
            ),
        ),
    )
    write_dist_info(
        root,
        "needy",
        entry_points={GROUP: {"needy": "lazy_needy:ThePlugin"}},
        modules=plugin_modules(
            "lazy_needy", "needy", {"pong": "needy_pong"}, requires="('alpha',)"
        ),
    )
    write_dist_info(
        root,
        "plain",
        entry_points={GROUP: {"plain": "lazy_plain:ThePlugin"}},
        modules=plugin_modules("lazy_plain", "plain", {"ping": "plain_ping"}),
    )
    backdate(root)
    importlib.invalidate_caches()
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(root))
        yield root


@pytest.fixture
def fresh(
    site: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    hookwire_isolation: Any,
) -> Iterator[Path]:
    """No HOOKWIRE_* variables, a private cache, and the site's modules forgotten after."""
    for variable in [name for name in os.environ if name.startswith("HOOKWIRE_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("HOOKWIRE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    yield site
    prefix = str(site)
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(prefix):
            del sys.modules[name]


def make_host(*plugins: str, **options: Any) -> tuple[Host, Any]:
    lazyhost = importlib.import_module("lazyhost")
    host = Host("lazytest", signals=[lazyhost])
    host.load(plugins=plugins, **options)
    return host, lazyhost


def events() -> list[Any]:
    return list(importlib.import_module("lazytally").events)


def names(responses: list[tuple[Any, Any]]) -> list[Any]:
    return [response for _, response in responses]


# -- declarations -------------------------------------------------------------------------


def test_the_declarations_are_read_in_the_discovery_pass_and_kept_by_its_cache(
    fresh: Path,
) -> None:
    first = discover(GROUP, path=[str(fresh)])
    second = discover(GROUP, path=[str(fresh)])
    assert not first.from_cache
    assert second.from_cache
    assert second.declarations == first.declarations
    assert ("alpha.ping", "lazyhost:ping") in {(d.name, d.value) for d in second.declarations}
    assert {d.group for d in second.declarations} == {LISTENS}


def test_the_declaration_form_is_what_importlib_metadata_reads(fresh: Path) -> None:
    import importlib_metadata

    found = importlib_metadata.entry_points(group=LISTENS)
    assert ("alpha.ping", "lazyhost:ping") in {(ep.name, ep.value) for ep in found}


def test_a_declared_plugin_is_not_imported_at_load(fresh: Path) -> None:
    host, _ = make_host("alpha", "plain")
    record = host.registry["alpha"]
    assert record.state is PluginState.DECLARED
    assert record.activation == "declared"
    assert record.listens == ("lazyhost.ping",)
    assert "lazy_alpha" not in sys.modules
    assert host.registry["plain"].state is PluginState.READY
    assert host.registry["plain"].activation is None
    assert events() == [("import", "plain"), ("ready", "plain")]


def test_a_plugin_declaring_a_signal_the_host_does_not_offer_stays_eager(fresh: Path) -> None:
    host, _ = make_host("outsider")
    record = host.registry["outsider"]
    assert record.state is PluginState.READY
    assert not record.lazy
    assert record.lazy_note is not None
    assert "hookwire.signals.host_started" in record.lazy_note


# -- activation ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
def test_the_first_send_activates_the_plugin_and_reaches_its_receivers(
    fresh: Path, method: str
) -> None:
    host, lazyhost = make_host("alpha", "plain")
    send = getattr(lazyhost.ping, method)
    result = asyncio.run(send(sender=None)) if method.startswith("a") else send(sender=None)
    assert sorted(names(result)) == ["alpha", "plain"]
    assert host.registry["alpha"].state is PluginState.READY
    assert host.registry["alpha"].activation == "active"
    assert events().count(("import", "alpha")) == 1
    assert events().count(("ready", "alpha")) == 1
    # Nothing waits any more: the signal's sends take the fast path again.
    assert lazyhost.ping._table not in activation.waiting
    again = send(sender=None)
    again = asyncio.run(again) if method.startswith("a") else again
    assert sorted(names(again)) == ["alpha", "plain"]
    assert lazyhost.ping._plans  # a plan is stored once nothing waits


def test_a_send_of_another_signal_activates_nothing(fresh: Path) -> None:
    _, lazyhost = make_host("alpha")
    assert lazyhost.pong.send(sender=None) == []
    assert "lazy_alpha" not in sys.modules


def test_requirements_are_activated_first(fresh: Path) -> None:
    host, lazyhost = make_host("alpha", "beta")
    assert names(lazyhost.pong.send(sender=None)) == ["beta"]
    assert events() == [
        ("import", "beta"),
        ("import", "alpha"),
        ("ready", "alpha"),
        ("ready", "beta"),
    ]
    assert host.registry["alpha"].activation == "active"


def test_a_lazy_plugin_an_eager_one_requires_is_made_ready_first_at_load(fresh: Path) -> None:
    host, lazyhost = make_host("needy", "alpha")
    assert host.registry["alpha"].state is PluginState.READY
    assert host.registry["alpha"].activation == "active"
    assert host.registry["needy"].state is PluginState.READY
    assert events() == [
        ("import", "needy"),
        ("import", "alpha"),
        ("ready", "alpha"),
        ("ready", "needy"),
    ]
    assert lazyhost.ping._table not in activation.waiting
    assert names(lazyhost.ping.send(sender=None)) == ["alpha"]


def test_concurrent_first_sends_from_threads_activate_once_and_all_reach_it(
    fresh: Path,
) -> None:
    _host, lazyhost = make_host("alpha", "plain")
    start = threading.Barrier(8)
    results: list[list[Any]] = []
    errors: list[BaseException] = []

    def first_send() -> None:
        try:
            start.wait(timeout=10)
            results.append(names(lazyhost.ping.send(sender=None)))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=first_send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert [sorted(result) for result in results] == [["alpha", "plain"]] * 8
    assert events().count(("import", "alpha")) == 1
    assert events().count(("ready", "alpha")) == 1


def test_concurrent_first_sends_from_tasks_activate_once_and_all_reach_it(fresh: Path) -> None:
    _host, lazyhost = make_host("alpha", "steady")

    async def main() -> list[list[Any]]:
        async def one(index: int) -> list[Any]:
            signal = lazyhost.ping if index % 2 else lazyhost.boom
            method = signal.asend if index % 3 else signal.asend_robust
            return names(await method(sender=None))

        return list(await asyncio.gather(*(one(index) for index in range(100))))

    results = asyncio.run(main())
    assert results == [["alpha"] if index % 2 else ["steady"] for index in range(100)]
    for name in ("alpha", "steady"):
        assert events().count(("import", name)) == 1
        assert events().count(("ready", name)) == 1


def test_an_activation_that_sends_activates_what_it_sends_to_and_reaches_itself(
    fresh: Path,
) -> None:
    _, lazyhost = make_host("relay", "beta", "alpha")
    assert names(lazyhost.hello.send(sender=None)) == ["relay"]
    recorded = events()
    # Its ready() sent beta's signal (beta and its requirement activated there) and its own
    # signal, which reached its receiver (connected by its signals module) without waiting
    # for its own activation.
    assert ("pong", ["beta"]) in recorded
    assert ("hello", ["relay"]) in recorded
    for name in ("relay", "beta", "alpha"):
        assert recorded.count(("import", name)) == 1


def test_a_cycle_of_two_activations_neither_deadlocks_nor_activates_twice(
    fresh: Path,
) -> None:
    host, lazyhost = make_host("x", "y")
    done = threading.Event()
    outcome: list[Any] = []

    def send() -> None:
        outcome.append(names(lazyhost.sigx.send(sender=None)))
        done.set()

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    assert done.wait(timeout=30), "the cycle dead-locked"
    assert outcome == [["x"]]
    assert names(lazyhost.sigy.send(sender=None)) == ["y"]
    for name in ("x", "y"):
        assert events().count(("import", name)) == 1
        assert events().count(("ready", name)) == 1
        assert host.registry[name].state is PluginState.READY


# -- failures -----------------------------------------------------------------------------


def test_a_failing_activation_is_rolled_back_logged_once_and_the_send_goes_on(
    fresh: Path, caplog: pytest.LogCaptureFixture
) -> None:
    host, lazyhost = make_host("failing", "steady")
    with caplog.at_level(logging.WARNING, logger="hookwire.loading"):
        first = lazyhost.boom.send(sender=None)
        second = lazyhost.boom.send_robust(sender=None)
    assert names(first) == ["steady"]
    assert names(second) == ["steady"]
    record = host.registry["failing"]
    assert record.state is PluginState.FAILED
    assert record.activation == "failed"
    assert record.error is not None
    assert "the oven is cold" in record.error
    assert record.receivers() == []  # its signals module's receiver was disconnected
    failures = [r for r in caplog.records if getattr(r, "plugin", None) == "failing"]
    assert len(failures) == 1
    assert failures[0].name == "hookwire.loading"
    assert "the oven is cold" in failures[0].message
    assert events().count(("ready", "failing")) == 1


def test_under_strict_a_failing_activation_raises_load_error_after_the_rollback(
    fresh: Path,
) -> None:
    host, lazyhost = make_host("failing", "steady", strict=True)
    with pytest.raises(LoadError, match="the oven is cold") as raised:
        lazyhost.boom.send(sender=None)
    assert raised.value.failures[0].plugin == "failing"
    assert host.registry["failing"].state is PluginState.FAILED
    assert [info.plugin for info in lazyhost.boom.describe_receivers()] == ["steady"]
    # Failed once: later sends go on with the others.
    assert names(lazyhost.boom.send(sender=None)) == ["steady"]


@pytest.mark.parametrize("how", ["argument", "environment", "pyproject"])
def test_the_eager_switch_activates_every_plugin_at_load(
    fresh: Path, how: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    options: dict[str, Any] = {}
    if how == "argument":
        options["lazy"] = False
    elif how == "environment":
        monkeypatch.setenv("HOOKWIRE_EAGER", "1")
    else:
        (tmp_path / "pyproject.toml").write_text("[tool.hookwire]\nlazy = false\n")
    host, _ = make_host("alpha", "failing", **options)
    assert "lazy_alpha" in sys.modules
    assert host.registry["alpha"].state is PluginState.READY
    assert host.registry["failing"].state is PluginState.FAILED
    assert not activation.waiting


def test_loading_a_lazily_loaded_host_again_eagerly_activates_what_still_waits(
    fresh: Path,
) -> None:
    host, _ = make_host("alpha", "plain")
    assert host.registry["alpha"].state is PluginState.DECLARED
    registry = host.load(plugins=["alpha", "plain"], lazy=False)
    assert registry["alpha"].state is PluginState.READY
    assert "lazy_alpha" in sys.modules
    assert not activation.waiting
    # Now loaded eagerly: the same eager call is a no-op, any other selection still refused.
    assert host.load(plugins=["alpha", "plain"], lazy=False) is registry
    with pytest.raises(HostError, match="already loaded its plugins"):
        host.load(plugins=["alpha"], lazy=False)


def test_made_eager_under_strict_a_failing_activation_is_one_load_error_after_all_tried(
    fresh: Path,
) -> None:
    host, _ = make_host("failing", "alpha", strict=True)
    with pytest.raises(LoadError, match="the oven is cold") as raised:
        host.load(plugins=["failing", "alpha"], strict=True, lazy=False)
    assert [failure.plugin for failure in raised.value.failures] == ["failing"]
    assert host.registry["failing"].state is PluginState.FAILED
    assert host.registry["alpha"].state is PluginState.READY


def test_an_interrupted_activation_propagates_and_the_next_first_send_completes_it(
    fresh: Path,
) -> None:
    host, lazyhost = make_host("brittle")
    with pytest.raises(KeyboardInterrupt):
        lazyhost.pong.send(sender=None)
    assert host.registry["brittle"].state is PluginState.DECLARED
    assert lazyhost.pong._table in activation.waiting
    assert names(lazyhost.pong.send(sender=None)) == ["brittle"]
    assert host.registry["brittle"].state is PluginState.READY
    assert events().count(("import", "brittle")) == 1
    assert events().count(("ready", "brittle")) == 2
    assert [info.name for info in lazyhost.pong.describe_receivers()] == [
        "lazy_brittle.signals.brittle_pong"
    ]


# -- declarations hold ---------------------------------------------------------------------


def test_a_drifting_declaration_is_a_warning_naming_plugin_and_signal(
    fresh: Path, caplog: pytest.LogCaptureFixture
) -> None:
    host, lazyhost = make_host("drifter")
    with caplog.at_level(logging.WARNING, logger="hookwire.loading"):
        assert names(lazyhost.ping.send(sender=None)) == ["drifter"]
    drift = host.registry["drifter"].drift
    assert len(drift) == 2
    assert "drifter" in drift[0]
    assert "lazyhost.hello" in drift[0]
    assert "not declare" in drift[0]
    assert "drifter" in drift[1]
    assert "lazyhost.pong" in drift[1]
    assert "no receiver" in drift[1]
    assert [r.getMessage() for r in caplog.records if r.name == "hookwire.loading"] == list(drift)


# -- unload ---------------------------------------------------------------------------------


def test_unload_forgets_waiting_activations_and_a_reload_declares_again(fresh: Path) -> None:
    host, lazyhost = make_host("alpha")
    host.unload()
    assert not activation.waiting
    assert lazyhost.ping.send(sender=None) == []
    assert "lazy_alpha" not in sys.modules

    host.load(plugins=["alpha"])
    assert names(lazyhost.ping.send(sender=None)) == ["alpha"]
    host.unload()
    assert "lazy_alpha" not in sys.modules
    assert lazyhost.ping.describe_receivers() == []

    registry = host.load(plugins=["alpha"])
    assert registry["alpha"].state is PluginState.DECLARED
    assert names(lazyhost.ping.send(sender=None)) == ["alpha"]
    assert events().count(("import", "alpha")) == 2


# -- muted, connected_to, the pytest plugin's isolation ----------------------------------------


def test_a_muted_send_calls_nobody_and_activates_nobody(fresh: Path) -> None:
    host, lazyhost = make_host("alpha")
    with lazyhost.ping.muted():
        assert lazyhost.ping.send(sender=None) == []
    assert "lazy_alpha" not in sys.modules
    assert host.registry["alpha"].state is PluginState.DECLARED
    assert names(lazyhost.ping.send(sender=None)) == ["alpha"]


def test_a_send_inside_connected_to_activates_and_reaches_both(fresh: Path) -> None:
    _, lazyhost = make_host("alpha")

    def temporary(sender: object, **kwargs: object) -> str:
        return "temporary"

    with lazyhost.ping.connected_to(temporary):
        assert sorted(names(lazyhost.ping.send(sender=None))) == ["alpha", "temporary"]
    assert names(lazyhost.ping.send(sender=None)) == ["alpha"]


def test_isolation_forgets_the_activations_a_test_left_waiting(fresh: Path) -> None:
    from hookwire.testing._isolation import isolated

    lazyhost = importlib.import_module("lazyhost")
    with isolated():
        host = Host("lazytest", signals=[lazyhost])
        host.load(plugins=["alpha"])  # left loaded, its activation waiting
        assert lazyhost.ping._table in activation.waiting
    assert lazyhost.ping._table not in activation.waiting
    assert lazyhost.ping.send(sender=None) == []
    assert "lazy_alpha" not in sys.modules


def test_running_takes_the_eager_switch_too(fresh: Path) -> None:
    lazyhost = importlib.import_module("lazyhost")
    host = Host("lazytest", signals=[lazyhost])
    with host.running(plugins=["alpha"], lazy=False) as registry:
        assert registry["alpha"].state is PluginState.READY
        assert "lazy_alpha" in sys.modules
    host.unload()
    with host.running(plugins=["alpha"]) as registry:
        assert registry["alpha"].state is PluginState.DECLARED


# -- hostile declarations --------------------------------------------------------------------


def test_declarations_that_name_no_plugin_or_no_signal_are_reported_and_change_nothing(
    fresh: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="hookwire.discovery"):
        host, _ = make_host("noattr", "alpha")
    record = host.registry["noattr"]
    assert record.state is PluginState.READY  # its declaration is unusable: loaded eagerly
    assert not record.lazy
    assert host.registry["alpha"].state is PluginState.DECLARED
    lines = [r.getMessage() for r in caplog.records if "lazy-odd" in r.getMessage()]
    assert any("'noattr.ping = lazyhost'" in line and "module:attribute" in line for line in lines)
    assert any(
        "'nobody.ping = lazyhost:ping'" in line and "names no plugin" in line for line in lines
    )
    assert len(lines) == 3
    assert host.registry.blocking_problems == ()


def test_a_cached_declaration_changed_behind_discoverys_back_is_a_miss(fresh: Path) -> None:
    import marshal

    from hookwire._loading import discovery_cache

    discover(GROUP, path=[str(fresh)])
    assert discover(GROUP, path=[str(fresh)]).from_cache
    target = Path(discovery_cache.cache_file(GROUP))
    raw = target.read_bytes()
    payload = discovery_cache._decode(raw)
    assert payload is not None
    forged = [list(item) for item in payload["declarations"]]
    forged[0][1] = "os:system"  # a declaration its distribution never made
    payload["declarations"] = [tuple(item) for item in forged]
    body = marshal.dumps(payload)
    target.write_bytes(discovery_cache.MAGIC + len(body).to_bytes(8, "little") + body)
    again = discover(GROUP, path=[str(fresh)])
    assert not again.from_cache
    assert "os:system" not in {d.value for d in again.declarations}
