"""The loader: phases, isolation of failing plugins, requirements, re-entry, threads, strict.

In-process tests drive :class:`hookwire._loading.loader.Loader` over hand-made distributions in a
folder on ``sys.path`` (``plugin_site``); the end-to-end tests at the bottom install real
distributions into a fresh venv and read the registry back as JSON from a subprocess.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from venvtools import PluginSite, Venv

from hookwire import signals
from hookwire._loading.config import LoadConfig
from hookwire._loading.loader import Loader
from hookwire._loading.registry import PluginState
from hookwire.exceptions import (
    HostVersionError,
    LoadError,
    PluginImportError,
    PluginReadyError,
    PluginRequirementError,
    ReentrantLoadError,
)

GROUP = "demo.plugins"
EVENTS = {"events.py": "from hookwire import Signal\nping = Signal(name='ping')\n"}


def make_loader(site: PluginSite, host_version: str | None = None, **config: Any) -> Loader:
    return Loader(
        GROUP,
        distributions=site.distributions(),
        config=LoadConfig(**config),
        host_version=host_version,
    )


def ping_receivers() -> list[tuple[str, str | None]]:
    events = importlib.import_module("events")
    return [(info.qualname, info.plugin) for info in events.ping.describe_receivers()]


def add_distribution(
    site: PluginSite,
    distribution: str,
    plugins: Mapping[str, str],
    modules: Mapping[str, str] | None = None,
    *,
    events: bool = False,
) -> Path:
    """Write ``distribution`` offering ``plugins`` (entry point name: value) in ``GROUP``, with
    ``modules`` and, with ``events``, the ``events`` module holding the ``ping`` signal."""
    return site.add(
        distribution,
        entry_points={GROUP: dict(plugins)},
        modules={**(modules or {}), **(EVENTS if events else {})},
    )


def add_plugin(site: PluginSite, name: str, source: str, *, value: str | None = None) -> None:
    module = name.replace("-", "_") + "_plugin"
    add_distribution(
        site, name, {name: value or f"{module}:Plugin"}, {f"{module}.py": source}, events=True
    )


PINGING_PLUGIN = """
import hookwire
import events

class Plugin(hookwire.Plugin):
    requires = {requires!r}

    def ready(self):
        events.ping.connect(self.on_ping)

    def on_ping(self, sender, **kwargs):
        return self.name
"""


def pinging(*requires: str) -> str:
    return PINGING_PLUGIN.format(requires=tuple(requires))


# -- phases ---------------------------------------------------------------------------------


def test_each_phase_can_run_on_its_own_and_moves_the_plugin_one_state_on(
    plugin_site: PluginSite,
) -> None:
    add_plugin(plugin_site, "alpha", pinging())
    loader = make_loader(plugin_site)

    assert loader.discover()["alpha"].state is PluginState.DISCOVERED
    assert "alpha_plugin" not in __import__("sys").modules
    assert loader.import_plugins()["alpha"].state is PluginState.IMPORTED
    assert ping_receivers() == []
    assert loader.ready()["alpha"].state is PluginState.READY
    assert ping_receivers() == [("Plugin.on_ping", "alpha")]


def test_a_later_phase_runs_the_earlier_ones_first(plugin_site: PluginSite) -> None:
    add_plugin(plugin_site, "alpha", pinging())
    registry = make_loader(plugin_site).ready()
    assert registry["alpha"].state is PluginState.READY


def test_a_bare_module_gets_a_default_plugin_and_its_signals_module_is_imported(
    plugin_site: PluginSite,
) -> None:
    add_distribution(
        plugin_site,
        "beta-dist",
        {"beta": "beta_pkg"},
        {
            "beta_pkg/__init__.py": "verbose_name = 'Beta things'\n",
            "beta_pkg/signals.py": """
                from hookwire import receiver
                import events

                @receiver(events.ping)
                def on_ping(sender, **kwargs):
                    return "beta"
            """,
        },
        events=True,
    )
    record = make_loader(plugin_site).load()["beta"]
    assert record.state is PluginState.READY
    assert record.plugin is not None
    assert record.plugin.verbose_name == "Beta things"
    assert record.module_file is not None
    assert record.module_file.endswith("beta_pkg/__init__.py")
    assert ping_receivers() == [("on_ping", "beta")]
    assert [info.name for info in record.receivers()] == ["beta_pkg.signals.on_ping"]


def test_an_explicitly_named_signals_module_that_does_not_exist_fails_the_plugin(
    plugin_site: PluginSite,
) -> None:
    add_distribution(
        plugin_site,
        "gamma",
        {"gamma": "gamma_pkg:Plugin"},
        {
            "gamma_pkg/__init__.py": """
                import hookwire
                class Plugin(hookwire.Plugin):
                    signals_module = "receivers"
            """
        },
    )
    record = make_loader(plugin_site).load()["gamma"]
    assert record.state is PluginState.FAILED
    assert "importing its signals module" in (record.error or "")
    assert "gamma_pkg.receivers" in (record.error or "")


def test_a_default_signals_module_that_exists_but_fails_to_import_fails_the_plugin(
    plugin_site: PluginSite,
) -> None:
    add_distribution(
        plugin_site,
        "delta",
        {"delta": "delta_pkg"},
        {"delta_pkg/__init__.py": "", "delta_pkg/signals.py": "import not_installed_anywhere\n"},
    )
    record = make_loader(plugin_site).load()["delta"]
    assert record.state is PluginState.FAILED
    assert "ready phase: importing its signals module: ModuleNotFoundError: No module named " in (
        record.error or ""
    )
    assert "delta_pkg/signals.py:1" in (record.error or "")


# -- failures: one line, isolated -------------------------------------------------------------


def test_an_import_error_fails_only_that_plugin_with_plugin_distribution_and_phase(
    plugin_site: PluginSite,
) -> None:
    add_plugin(plugin_site, "good", pinging())
    add_plugin(plugin_site, "broken", "import not_installed_anywhere\n")
    registry = make_loader(plugin_site).load()

    assert registry["good"].state is PluginState.READY
    broken = registry["broken"]
    assert broken.state is PluginState.FAILED
    assert broken.phase == "import"
    assert isinstance(broken.exception, PluginImportError)
    assert broken.exception.plugin == "broken"
    assert broken.exception.distribution == "broken"
    assert isinstance(broken.exception.__cause__, ModuleNotFoundError)
    assert broken.error is not None
    assert "\n" not in broken.error
    assert broken.error.startswith("plugin broken (broken 1.0), import phase: ModuleNotFoundError")
    assert "broken_plugin.py:1" in broken.error


def test_a_syntax_error_names_the_file_and_line(plugin_site: PluginSite) -> None:
    add_plugin(plugin_site, "typo", "x = 1\ndef broken(:\n    pass\n")
    record = make_loader(plugin_site).load()["typo"]
    assert record.state is PluginState.FAILED
    assert f"SyntaxError at {plugin_site.path / 'typo_plugin.py'}:2" in (record.error or "")


def test_a_missing_attribute_lists_what_the_module_has(plugin_site: PluginSite) -> None:
    add_plugin(
        plugin_site,
        "sms",
        "import hookwire\nclass SmsPlugin(hookwire.Plugin):\n    pass\ndef helper(): pass\n",
        value="sms_plugin:SmsPlugn",
    )
    error = make_loader(plugin_site).load()["sms"].error or ""
    assert "sms_plugin has no attribute 'SmsPlugn'" in error
    assert "did you mean 'SmsPlugin'?" in error
    assert "(it has: SmsPlugin, helper, hookwire)" in error


def test_an_invalid_entry_point_value_fails_before_anything_is_imported(
    plugin_site: PluginSite,
) -> None:
    plugin_site.add("odd", entry_points_text=f"[{GROUP}]\nodd = not a module reference!\n")
    record = make_loader(plugin_site).load()["odd"]
    assert record.state is PluginState.FAILED
    assert "invalid entry point value 'not a module reference!'" in (record.error or "")


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("def Plugin(): pass\n", "an object of type function"),
        ("Plugin = 42\n", "an object of type int"),
        ("class Plugin: pass\n", "the class wrong_plugin.Plugin"),
        (
            "import hookwire\nclass P(hookwire.Plugin): pass\nPlugin = P()\n",
            "a Plugin instance (P); name its class instead",
        ),
    ],
)
def test_an_entry_point_naming_the_wrong_kind_of_object_fails_saying_what_it_is(
    plugin_site: PluginSite, source: str, kind: str
) -> None:
    add_plugin(plugin_site, "wrong", source)
    error = make_loader(plugin_site).load()["wrong"].error or ""
    assert f"wrong_plugin:Plugin is {kind}, not a hookwire.Plugin subclass or a module" in error


def test_receivers_connected_at_import_are_disconnected_when_the_import_then_fails(
    plugin_site: PluginSite,
) -> None:
    add_plugin(
        plugin_site,
        "half",
        """
        import events
        def on_ping(sender, **kwargs): pass
        events.ping.connect(on_ping)
        raise RuntimeError("half-way")
        """,
    )
    record = make_loader(plugin_site).load()["half"]
    assert record.state is PluginState.FAILED
    assert "RuntimeError: half-way" in (record.error or "")
    assert ping_receivers() == []


def test_ready_raising_after_connecting_leaves_nothing_connected(plugin_site: PluginSite) -> None:
    add_distribution(
        plugin_site,
        "flaky",
        {"flaky": "flaky_pkg:Plugin"},
        {
            "flaky_pkg/__init__.py": """
                import hookwire, events
                def at_import(sender, **kwargs): pass
                events.ping.connect(at_import)

                class Plugin(hookwire.Plugin):
                    def ready(self):
                        events.ping.connect(self.on_ping)
                        raise ValueError("no database")
                    def on_ping(self, sender, **kwargs): pass
            """,
            "flaky_pkg/signals.py": """
                from hookwire import receiver
                import events
                @receiver(events.ping)
                def from_signals_module(sender, **kwargs): pass
            """,
        },
        events=True,
    )
    add_plugin(plugin_site, "steady", pinging())
    registry = make_loader(plugin_site).load()

    flaky = registry["flaky"]
    assert flaky.state is PluginState.FAILED
    assert isinstance(flaky.exception, PluginReadyError)
    assert "ready phase: ready() raised ValueError: no database" in (flaky.error or "")
    assert ping_receivers() == [("Plugin.on_ping", "steady")]
    assert flaky.receivers() == []


def test_system_exit_during_import_or_ready_is_a_load_failure_not_an_exit(
    plugin_site: PluginSite,
) -> None:
    add_plugin(plugin_site, "quitter", "import sys\nsys.exit(3)\n")
    add_plugin(
        plugin_site,
        "late-quitter",
        """
        import sys, hookwire, events
        class Plugin(hookwire.Plugin):
            def ready(self):
                events.ping.connect(self.on_ping)
                sys.exit("bye")
            def on_ping(self, sender, **kwargs): pass
        """,
    )
    add_plugin(plugin_site, "stayer", pinging())
    registry = make_loader(plugin_site).load()
    assert registry["quitter"].state is PluginState.FAILED
    assert "import phase: SystemExit(3) (sys.exit() was called)" in (
        registry["quitter"].error or ""
    )
    late = registry["late-quitter"]
    assert late.state is PluginState.FAILED
    assert "ready phase: ready() raised SystemExit('bye')" in (late.error or "")
    assert registry["stayer"].state is PluginState.READY
    assert ping_receivers() == [("Plugin.on_ping", "stayer")]


def test_an_exception_that_cannot_be_printed_still_fails_only_its_plugin(
    plugin_site: PluginSite,
) -> None:
    add_plugin(
        plugin_site,
        "mute",
        """
        class Unprintable(Exception):
            def __str__(self):
                raise RuntimeError("no text")
        raise Unprintable()
        """,
    )
    add_plugin(plugin_site, "stayer", pinging())
    registry = make_loader(plugin_site).load()
    error = registry["mute"].error or ""
    assert registry["mute"].state is PluginState.FAILED
    assert error.startswith("plugin mute (mute 1.0), import phase: Unprintable: <str() of the ")
    assert "mute_plugin.py:5" in error
    assert registry["stayer"].state is PluginState.READY


def test_receivers_connected_by_plugin_failed_receivers_are_not_the_failing_plugin_s(
    plugin_site: PluginSite,
) -> None:
    add_plugin(plugin_site, "broken", "import events\nraise ImportError('gone')\n")
    events = importlib.import_module("events")

    def on_ping(sender: object, **kwargs: Any) -> None:
        pass

    def on_failed(sender: object, **kwargs: Any) -> None:
        events.ping.connect(on_ping)

    with signals.plugin_failed.connected_to(on_failed):
        make_loader(plugin_site).load()
    assert ping_receivers() == [(on_ping.__qualname__, None)]


def test_keyboard_interrupt_propagates_and_a_retry_resumes_with_a_consistent_registry(
    plugin_site: PluginSite, tmp_path: Path
) -> None:
    marker = tmp_path / "interrupted-once"
    add_plugin(plugin_site, "first", pinging())
    add_plugin(
        plugin_site,
        "second",
        "import pathlib, events\n"
        "def early(sender, **kwargs): pass\n"
        "events.ping.connect(early)\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n"
        "    marker.touch()\n"
        "    raise KeyboardInterrupt\n" + pinging(),
    )
    loader = make_loader(plugin_site)
    with pytest.raises(KeyboardInterrupt):
        loader.load()
    registry = loader.registry
    assert registry["first"].state is PluginState.IMPORTED
    assert registry["second"].state is PluginState.DISCOVERED
    assert ping_receivers() == []  # "early" was undone with the interrupted import

    loader.load()
    assert [record.state for record in registry] == [PluginState.READY, PluginState.READY]
    assert sorted(ping_receivers()) == [
        ("Plugin.on_ping", "first"),
        ("Plugin.on_ping", "second"),
        ("early", "second"),
    ]


def test_keyboard_interrupt_in_ready_undoes_that_ready_call_and_leaves_the_plugin_imported(
    plugin_site: PluginSite,
) -> None:
    add_plugin(
        plugin_site,
        "impatient",
        """
        import hookwire, events
        class Plugin(hookwire.Plugin):
            interrupt = True
            def ready(self):
                events.ping.connect(self.on_ping)
                if Plugin.interrupt:
                    Plugin.interrupt = False
                    raise KeyboardInterrupt
            def on_ping(self, sender, **kwargs): pass
        """,
    )
    loader = make_loader(plugin_site)
    with pytest.raises(KeyboardInterrupt):
        loader.load()
    assert loader.registry["impatient"].state is PluginState.IMPORTED
    assert ping_receivers() == []
    assert loader.load()["impatient"].state is PluginState.READY
    assert ping_receivers() == [("Plugin.on_ping", "impatient")]


def test_a_plugin_with_hostile_metadata_loads_and_keeps_its_strings_raw(
    plugin_site: PluginSite,
) -> None:
    hostile = "\x1b[2J\x1b[31m"
    dist_info = add_distribution(
        plugin_site,
        "hostile",
        {f"ev{hostile}il": "hostile_mod"},
        {"hostile_mod.py": "raise RuntimeError('\\x1b[0mboom')\n"},
    )
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: host{hostile}ile\nVersion: 1{hostile}\n",
        encoding="utf-8",
    )
    (record,) = make_loader(plugin_site).load()
    assert record.name == f"ev{hostile}il"
    assert record.distribution == f"host{hostile}ile"
    assert record.state is PluginState.FAILED
    assert (record.error or "").startswith(f"plugin ev{hostile}il (host{hostile}ile 1{hostile}), ")
    assert "\x1b[0mboom" in (record.error or "")


def test_a_name_offered_twice_is_loaded_from_the_first_and_fails_a_strict_load(
    plugin_site: PluginSite,
) -> None:
    add_plugin(plugin_site, "aaa", pinging(), value="aaa_plugin:Plugin")
    add_distribution(plugin_site, "zzz", {"AAA": "zzz_plugin:Plugin"})
    registry = make_loader(plugin_site).load()
    assert registry["aaa"].distribution == "aaa"
    assert registry["aaa"].state is PluginState.READY
    assert [problem.plugin for problem in registry.problems] == ["AAA"]
    with pytest.raises(LoadError, match=r"plugin AAA is offered twice: by aaa 1\.0"):
        make_loader(plugin_site, strict=True).load()


def plant_in_working_directory(
    module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Put ``module``.py in a new working directory, with ``""`` first on ``sys.path`` as under
    ``python -c``; the module touches the returned file if it is ever run."""
    ran = tmp_path / "planted-code-ran"
    cwd = tmp_path / "downloads"
    cwd.mkdir()
    (cwd / f"{module}.py").write_text(
        f"import pathlib\npathlib.Path({str(ran)!r}).touch()\n", encoding="utf-8"
    )
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "path", ["", *sys.path])
    return ran


def test_a_plugin_module_planted_in_the_working_directory_is_refused_not_run(
    plugin_site: PluginSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_plugin(plugin_site, "legit", pinging())
    ran = plant_in_working_directory("legit_plugin", tmp_path, monkeypatch)
    record = make_loader(plugin_site).load()["legit"]
    assert record.state is PluginState.FAILED
    assert "would be imported from the working directory" in (record.error or "")
    assert not ran.exists()


def test_the_import_phase_looks_at_the_working_directory_once_however_many_plugins(
    plugin_site: PluginSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(6):
        add_plugin(plugin_site, f"calm{index}", pinging())
    add_plugin(plugin_site, "legit", pinging())
    ran = plant_in_working_directory("legit_plugin", tmp_path, monkeypatch)
    looked: list[object] = []
    real_stat = os.stat

    def counting_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if path == ".":
            looked.append(path)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting_stat)
    registry = make_loader(plugin_site).load()
    monkeypatch.setattr(os, "stat", real_stat)
    assert len(looked) == 1  # seven plugins checked against one listing
    assert [record.name for record in registry if record.state is PluginState.READY] == [
        f"calm{index}" for index in range(6)
    ]
    assert "would be imported from the working directory" in (registry["legit"].error or "")
    assert not ran.exists()


# -- requirements ---------------------------------------------------------------------------


def test_plugins_are_made_ready_after_the_plugins_they_require(plugin_site: PluginSite) -> None:
    order_source = """
import hookwire, events
class Plugin(hookwire.Plugin):
    requires = {requires!r}
    def ready(self):
        events.order.append(self.name)
"""
    events = {"events.py": "from hookwire import Signal\nping = Signal()\norder = []\n"}
    for name, requires in [("web", ("db", "cache")), ("cache", ("db",)), ("db", ())]:
        add_distribution(
            plugin_site,
            name,
            {name: f"{name}_plugin:Plugin"},
            {f"{name}_plugin.py": order_source.format(requires=requires), **events},
        )
    registry = make_loader(plugin_site).load()
    assert importlib.import_module("events").order == ["db", "cache", "web"]
    assert [record.name for record in registry] == ["db", "cache", "web"]


def test_a_misspelt_requirement_names_the_installed_plugin_it_is_closest_to(
    plugin_site: PluginSite,
) -> None:
    add_plugin(plugin_site, "loyalty", pinging())
    add_plugin(plugin_site, "rewards", pinging("loyality"))
    add_plugin(plugin_site, "audit", pinging("zzzz"))
    registry = make_loader(plugin_site).load()
    assert registry["rewards"].state is PluginState.FAILED
    assert (registry["rewards"].error or "").endswith(
        "rewards requires loyality, which is not installed; did you mean 'loyalty'?"
    )
    # Nothing close: no guess.
    assert (registry["audit"].error or "").endswith("audit requires zzzz, which is not installed")


def test_absent_disabled_failed_and_cyclic_requirements_fail_the_dependents_naming_the_chain(
    plugin_site: PluginSite,
) -> None:
    add_plugin(plugin_site, "needs-ghost", pinging("ghost"))
    add_plugin(plugin_site, "needs-off", pinging("off"))
    add_plugin(plugin_site, "off", pinging())
    add_plugin(plugin_site, "a", pinging("b"))
    add_plugin(plugin_site, "b", pinging("c"))
    add_plugin(plugin_site, "c", "raise RuntimeError('c is broken')\n")
    add_plugin(plugin_site, "x", pinging("y"))
    add_plugin(plugin_site, "y", pinging("x"))
    add_plugin(plugin_site, "z", pinging("x"))
    registry = make_loader(plugin_site, deny=("off",)).load()

    def cause(name: str) -> str:
        record = registry[name]
        assert record.state is PluginState.FAILED
        assert isinstance(record.exception, PluginRequirementError)
        return (record.error or "").partition("ready phase: ")[2]

    assert cause("needs-ghost") == "needs-ghost requires ghost, which is not installed"
    assert cause("needs-off") == "needs-off requires off, which is disabled by the deny-list"
    assert cause("a").startswith(
        "a requires b, which requires c, which failed in the import phase: "
        "RuntimeError: c is broken"
    )
    assert registry["a"].exception.chain == ("a", "b", "c")  # type: ignore[union-attr]
    assert cause("x") == "x requires y, which requires x (a requirement cycle)"
    assert cause("y") == "y requires x, which requires y (a requirement cycle)"
    assert cause("z") == "z requires x, which requires y, which requires x (a requirement cycle)"
    assert ping_receivers() == []


# -- host version ---------------------------------------------------------------------------


def test_a_declared_requires_host_outside_the_host_version_fails_before_any_plugin_code_runs(
    plugin_site: PluginSite, tmp_path: Path
) -> None:
    ran = tmp_path / "plugin-code-ran"
    add_plugin(
        plugin_site,
        "future",
        f"""
        import pathlib, hookwire
        pathlib.Path({str(ran)!r}).touch()
        class Plugin(hookwire.Plugin):
            requires_host = ">=2.0"
        """,
    )
    record = make_loader(plugin_site, host_version="1.4.0").load()["future"]
    assert record.state is PluginState.FAILED
    assert isinstance(record.exception, HostVersionError)
    assert "needs host version >=2.0, but the host is 1.4.0 (checked before import)" in (
        record.error or ""
    )
    assert not ran.exists()


def test_an_inherited_requires_host_is_checked_after_import(plugin_site: PluginSite) -> None:
    add_plugin(
        plugin_site,
        "inherits",
        """
        import hookwire
        class Base(hookwire.Plugin):
            requires_host = "<1"
        class Plugin(Base):
            pass
        """,
    )
    record = make_loader(plugin_site, host_version="1.4.0").load()["inherits"]
    assert record.state is PluginState.FAILED
    assert (record.error or "").endswith("needs host version <1, but the host is 1.4.0")


def test_a_bare_module_requires_host_is_checked_and_a_matching_one_loads(
    plugin_site: PluginSite,
) -> None:
    add_distribution(plugin_site, "old", {"old": "old_mod"}, {"old_mod.py": ""})
    add_distribution(
        plugin_site, "fits", {"fits": "fits_mod"}, {"fits_mod.py": "requires_host = '>=1.4,<2'\n"}
    )
    add_distribution(
        plugin_site,
        "computed",
        {"computed": "computed_mod"},
        {"computed_mod.py": "requires_host = '>=' + '3'\n"},
    )
    registry = make_loader(plugin_site, host_version="1.4.0").load()
    assert registry["old"].state is PluginState.READY
    assert registry["fits"].state is PluginState.READY
    assert registry["computed"].state is PluginState.FAILED
    assert "checked before import" not in (registry["computed"].error or "")


def test_an_invalid_requires_host_specifier_fails_the_plugin(plugin_site: PluginSite) -> None:
    add_plugin(
        plugin_site,
        "bad-spec",
        "import hookwire\nclass Plugin(hookwire.Plugin):\n    requires_host = 'soon'\n",
    )
    record = make_loader(plugin_site, host_version="1.0").load()["bad-spec"]
    assert "requires_host 'soon' is not a valid PEP 440 specifier" in (record.error or "")


# -- re-entry, retries, threads, idempotence ------------------------------------------------


def test_ready_calling_load_again_gets_a_clear_error_instead_of_a_hang(
    plugin_site: PluginSite,
) -> None:
    add_plugin(
        plugin_site,
        "loopy",
        """
        import hookwire, events
        class Plugin(hookwire.Plugin):
            def ready(self):
                events.loader.load()
        """,
    )
    loader = make_loader(plugin_site)
    importlib.import_module("events").loader = loader  # type: ignore[attr-defined]
    record = loader.load()["loopy"]
    assert record.state is PluginState.FAILED
    assert isinstance(record.exception.__cause__, ReentrantLoadError)  # type: ignore[union-attr]
    assert "load() was called while plugin loading is running its load() (plugin loopy)" in (
        record.error or ""
    )


def test_a_plugin_module_that_loads_plugins_at_import_fails_in_the_import_phase(
    plugin_site: PluginSite,
) -> None:
    add_plugin(plugin_site, "eager", "import events\nevents.loader.discover()\n")
    add_plugin(plugin_site, "steady", pinging())
    loader = make_loader(plugin_site)
    importlib.import_module("events").loader = loader  # type: ignore[attr-defined]
    registry = loader.load()
    assert registry["eager"].phase == "import"
    assert "ReentrantLoadError: discover() was called while plugin loading is running its " in (
        registry["eager"].error or ""
    )
    assert "(plugin eager)" in (registry["eager"].error or "")
    assert registry["steady"].state is PluginState.READY


def test_a_strict_load_retried_after_failure_raises_the_original_error(
    plugin_site: PluginSite,
) -> None:
    add_plugin(plugin_site, "bad", "raise ImportError('first failure')\n")
    loader = make_loader(plugin_site, strict=True)
    with pytest.raises(LoadError) as first:
        loader.load()
    with pytest.raises(LoadError) as second:
        loader.load()
    assert second.value is first.value
    assert "first failure" in str(second.value)
    assert "reentrant" not in str(second.value).lower()


def test_strict_tries_every_plugin_then_raises_one_error_listing_every_failure(
    plugin_site: PluginSite,
) -> None:
    add_plugin(plugin_site, "one", "raise ImportError('one is broken')\n")
    add_plugin(plugin_site, "two", pinging("missing"))
    add_plugin(plugin_site, "three", pinging())
    loader = make_loader(plugin_site, strict=True)
    with pytest.raises(LoadError) as raised:
        loader.load()
    assert [failure.plugin for failure in raised.value.failures] == ["two", "one"]
    assert str(raised.value).startswith("2 plugin failures: ")
    assert loader.registry["three"].state is PluginState.READY


def test_load_from_many_threads_runs_each_ready_exactly_once(plugin_site: PluginSite) -> None:
    add_plugin(
        plugin_site,
        "counted",
        """
        import time, hookwire, events
        calls = []
        class Plugin(hookwire.Plugin):
            def ready(self):
                calls.append(1)
                time.sleep(0.05)  # widen the window in which other threads arrive
        """,
    )
    loader = make_loader(plugin_site)
    barrier = threading.Barrier(8)
    results: list[object] = []

    def worker() -> None:
        barrier.wait(timeout=10)
        results.append(loader.load())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert len(results) == 8
    assert all(result is loader.registry for result in results)
    assert importlib.import_module("counted_plugin").calls == [1]


def test_a_strict_load_from_many_threads_gives_every_thread_the_same_error(
    plugin_site: PluginSite,
) -> None:
    add_plugin(plugin_site, "bad", "raise ImportError('broken once')\n")
    add_plugin(
        plugin_site,
        "counted",
        """
        import time, hookwire
        calls = []
        class Plugin(hookwire.Plugin):
            def ready(self):
                calls.append(1)
                time.sleep(0.05)
        """,
    )
    loader = make_loader(plugin_site, strict=True)
    barrier = threading.Barrier(6)
    errors: list[LoadError] = []

    def worker() -> None:
        barrier.wait(timeout=10)
        try:
            loader.load()
        except LoadError as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert len(errors) == 6
    assert all(error is errors[0] for error in errors)
    assert [failure.plugin for failure in errors[0].failures] == ["bad"]
    assert importlib.import_module("counted_plugin").calls == [1]


def test_loading_again_or_readying_again_never_registers_a_receiver_twice(
    plugin_site: PluginSite,
) -> None:
    add_distribution(
        plugin_site,
        "twice",
        {"twice": "twice_pkg:Plugin"},
        {
            "twice_pkg/__init__.py": """
                import hookwire, events
                class Handler:
                    def on_ping(self, sender, **kwargs): pass
                class Strong:
                    def on_ping(self, sender, **kwargs): pass
                handlers = []  # every instance stays alive, so no old receiver dies by itself
                class Plugin(hookwire.Plugin):
                    def ready(self):
                        handler = Handler()   # a fresh instance every time, no dispatch_uid
                        handlers.append(handler)
                        events.ping.connect(handler.on_ping)
                        events.ping.connect(Strong().on_ping, weak=False)
            """,
            "twice_pkg/signals.py": """
                from hookwire import receiver
                import events
                @receiver(events.ping)
                def from_signals_module(sender, **kwargs): pass
            """,
        },
        events=True,
    )
    loader = make_loader(plugin_site)
    loader.load()
    loader.load()
    assert len(ping_receivers()) == 3
    loader.ready(again=True)
    loader.ready(again=True)
    assert len(importlib.import_module("twice_pkg").handlers) == 3
    assert sorted(ping_receivers()) == [
        ("Handler.on_ping", "twice"),
        ("Strong.on_ping", "twice"),
        ("from_signals_module", "twice"),
    ]
    assert len(importlib.import_module("events").ping.send(sender=None)) == 3
    assert loader.registry["twice"].state is PluginState.READY


# -- configuration, attribution, lifecycle ----------------------------------------------------


def test_denied_plugins_are_never_imported_and_are_listed_as_disabled(
    plugin_site: PluginSite, tmp_path: Path
) -> None:
    ran = tmp_path / "denied-code-ran"
    add_plugin(plugin_site, "Nosy_Plugin", f"import pathlib\npathlib.Path({str(ran)!r}).touch()\n")
    add_plugin(plugin_site, "kept", pinging())
    registry = make_loader(plugin_site, deny=("nosy-plugin",)).load()
    assert registry["nosy-plugin"].state is PluginState.DISABLED
    assert registry["nosy_plugin"].reason == "disabled by the deny-list"
    assert not ran.exists()
    assert [record["name"] for record in registry.to_json()] == ["kept"]
    assert len(registry.to_json(include_disabled=True)) == 2


def test_autoload_off_or_an_empty_allow_list_runs_no_plugin_code(
    plugin_site: PluginSite, tmp_path: Path
) -> None:
    ran = tmp_path / "ran"
    add_plugin(
        plugin_site,
        "eager",
        f"import pathlib\npathlib.Path({str(ran)!r}).touch()\n",
        value="eager_plugin",
    )
    for config in ({"autoload": False}, {"allow": ()}):
        registry = make_loader(plugin_site, **config).load()  # type: ignore[arg-type]
        assert registry["eager"].state is PluginState.DISABLED
    assert not ran.exists()
    named = make_loader(plugin_site, autoload=False, allow=("eager",)).load()
    assert named["eager"].state is PluginState.READY
    assert ran.exists()


def test_an_allow_list_naming_an_uninstalled_plugin_is_reported(plugin_site: PluginSite) -> None:
    add_plugin(plugin_site, "here", pinging())
    loader = make_loader(plugin_site, allow=("here", "elsewhere"))
    registry = loader.load()
    assert [problem.plugin for problem in registry.problems] == ["elsewhere"]
    assert [failure.plugin for failure in loader.failures] == ["elsewhere"]


def test_a_misspelt_allow_or_deny_name_is_an_unknown_plugin_error_with_a_suggestion(
    plugin_site: PluginSite,
) -> None:
    from hookwire.exceptions import UnknownPluginError

    add_plugin(plugin_site, "loyalty", pinging())
    registry = make_loader(plugin_site, allow=("loyalty",), deny=("loyalti",)).load()
    (problem,) = registry.problems
    assert isinstance(problem, UnknownPluginError)
    assert (problem.plugin, problem.listed_in, problem.suggestion) == (
        "loyalti",
        "deny-list",
        "loyalty",
    )
    assert registry.blocking_problems == (problem,)
    assert registry["loyalty"].state is PluginState.READY


def test_strict_ignores_a_problem_of_a_plugin_that_is_not_selected(
    plugin_site: PluginSite,
) -> None:
    add_plugin(plugin_site, "alpha", pinging())
    add_distribution(plugin_site, "twin-a", {"twin": "twin_a"})
    add_distribution(plugin_site, "twin-b", {"twin": "twin_b"})
    registry = make_loader(plugin_site, allow=("alpha",), strict=True).load()
    assert [problem.plugin for problem in registry.problems] == ["twin"]
    assert registry.blocking_problems == ()
    assert [entry.distribution for entry in registry["twin"].shadowed] == ["twin-b"]
    with pytest.raises(LoadError, match="twin-a"):
        make_loader(plugin_site, allow=("twin",), strict=True).load()


def test_receivers_of_a_plugin_the_host_imported_before_loading_are_attributed_to_it(
    plugin_site: PluginSite,
) -> None:
    add_distribution(
        plugin_site,
        "early-bird",
        {"early": "early_pkg"},
        {
            "early_pkg/__init__.py": "from . import handlers\n",
            "early_pkg/handlers.py": """
                from hookwire import receiver
                import events
                @receiver(events.ping)
                def on_ping(sender, **kwargs): pass
            """,
        },
        events=True,
    )
    importlib.import_module("early_pkg")  # the host imports it itself, before loading
    assert ping_receivers() == [("on_ping", None)]
    make_loader(plugin_site).load()
    assert ping_receivers() == [("on_ping", "early")]


def test_a_failing_plugin_the_host_imported_before_loading_leaves_no_receiver_behind(
    plugin_site: PluginSite,
) -> None:
    add_distribution(
        plugin_site,
        "early-bird",
        {"early": "early_pkg"},
        {
            "early_pkg/__init__.py": "from . import handlers\nrequires = ['ghost']\n",
            "early_pkg/handlers.py": """
                from hookwire import receiver
                import events
                @receiver(events.ping)
                def on_ping(sender, **kwargs): pass
            """,
        },
        events=True,
    )
    add_plugin(plugin_site, "steady", pinging())
    importlib.import_module("early_pkg")  # the host imports it itself, before loading
    registry = make_loader(plugin_site).load()
    assert registry["early"].state is PluginState.FAILED
    assert registry["early"].receivers() == []
    assert registry["early"].to_json()["receivers"] == 0
    assert ping_receivers() == [("Plugin.on_ping", "steady")]


def test_two_pre_imported_plugins_of_one_package_keep_their_own_receivers(
    plugin_site: PluginSite,
) -> None:
    receiver_module = """
        from hookwire import receiver
        import hookwire, events
        @receiver(events.ping)
        def on_{name}(sender, **kwargs): pass
        class P(hookwire.Plugin):
            requires = {requires!r}
    """
    add_distribution(
        plugin_site,
        "duo",
        {"a": "duo_pkg.a:P", "b": "duo_pkg.b:P"},
        {
            "duo_pkg/__init__.py": "",
            "duo_pkg/a.py": receiver_module.format(name="a", requires=[]),
            "duo_pkg/b.py": receiver_module.format(name="b", requires=["ghost"]),
        },
        events=True,
    )
    importlib.import_module("duo_pkg.a")  # the host imports both itself, before loading
    importlib.import_module("duo_pkg.b")
    registry = make_loader(plugin_site).load()
    assert registry["a"].state is PluginState.READY
    assert registry["b"].state is PluginState.FAILED
    assert ping_receivers() == [("on_a", "a")]


def test_lifecycle_signals_are_sent_with_the_host_as_sender(plugin_site: PluginSite) -> None:
    add_plugin(plugin_site, "fine", pinging())
    add_plugin(plugin_site, "fails", "raise ImportError('nope')\n")
    host = object()
    seen: list[tuple[str, object, str]] = []

    def on_loaded(sender: object, plugin: Any, **kwargs: Any) -> None:
        seen.append(("loaded", sender, plugin.name))

    def on_failed(sender: object, plugin: Any, error: Any, **kwargs: Any) -> None:
        seen.append(("failed", sender, error.plugin))

    def on_ready(sender: object, registry: Any, **kwargs: Any) -> None:
        seen.append(("ready", sender, str(len(registry))))

    loader = Loader(
        GROUP, host=host, distributions=plugin_site.distributions(), config=LoadConfig()
    )
    with (
        signals.plugin_loaded.connected_to(on_loaded),
        signals.plugin_failed.connected_to(on_failed),
        signals.plugins_ready.connected_to(on_ready),
    ):
        loader.load()
    assert seen == [("failed", host, "fails"), ("loaded", host, "fine"), ("ready", host, "2")]


def test_a_failing_lifecycle_receiver_does_not_stop_loading(
    plugin_site: PluginSite, caplog: pytest.LogCaptureFixture
) -> None:
    add_plugin(plugin_site, "fine", pinging())

    def explode(sender: object, **kwargs: Any) -> None:
        raise RuntimeError("receiver bug")

    with signals.plugin_loaded.connected_to(explode):
        registry = make_loader(plugin_site).load()
    assert registry["fine"].state is PluginState.READY
    assert "receiver bug" in caplog.text


def test_a_lazy_sender_naming_a_plugin_class_binds_once_the_plugin_is_imported(
    plugin_site: PluginSite,
) -> None:
    received: list[object] = []

    def on_ping(sender: object, **kwargs: Any) -> None:
        received.append(sender)

    add_distribution(
        plugin_site,
        "lazy",
        {"lazy": "lazy_plugin:Plugin"},
        {"lazy_plugin.py": "import hookwire\nclass Plugin(hookwire.Plugin): pass\n"},
        events=True,
    )
    events = importlib.import_module("events")
    events.ping.connect(on_ping, sender="lazy_plugin:Plugin")
    make_loader(plugin_site).load()
    plugin_class = importlib.import_module("lazy_plugin").Plugin
    events.ping.send(sender=plugin_class)
    assert received == [plugin_class]


# -- end to end: real installed distributions -------------------------------------------------

REGISTRY_AS_JSON = """
import json, sys
from hookwire._loading.loader import Loader
from hookwire._loading.config import LoadConfig
loader = Loader("shop.plugins", host_version="1.4.0", config=LoadConfig({config}))
registry = loader.load()
print(json.dumps([record.to_json() for record in registry]))
"""


def run_registry(venv: Venv, config: str = "") -> dict[str, dict[str, Any]]:
    result = venv.python_code(REGISTRY_AS_JSON.format(config=config), cwd=venv.path)
    assert result.returncode == 0, result.stderr
    return {item["name"]: item for item in json.loads(result.stdout)}


@pytest.mark.e2e
def test_installed_plugins_that_fail_in_every_way_are_each_reported_and_the_rest_load(
    make_venv: Callable[..., Venv],
) -> None:
    venv = make_venv()
    shop = "shop.plugins"
    venv.add_dist_info(
        "shop-events", modules={"shop_events.py": "from hookwire import Signal\nsold = Signal()\n"}
    )
    venv.add_dist_info(
        "shop-good",
        "2.1",
        entry_points={shop: {"good": "shop_good:GoodPlugin"}},
        modules={
            "shop_good/__init__.py": """
                import hookwire, shop_events
                class GoodPlugin(hookwire.Plugin):
                    requires_host = ">=1.4,<2"
                    def ready(self):
                        shop_events.sold.connect(self.on_sold)
                    def on_sold(self, sender, **kwargs): pass
            """
        },
    )
    venv.add_dist_info(
        "shop-bad",
        entry_points={
            shop: {
                "syntax": "shop_syntax",
                "missing": "shop_missing_module",
                "attr": "shop_good:Nope",
                "kind": "shop_events:sold",
                "value": "shop good",
                "ready": "shop_ready:P",
                "exit": "shop_exit",
                "host": "shop_host:P",
                "needs": "shop_needs:P",
            }
        },
        modules={
            "shop_syntax.py": "def f(:\n",
            "shop_exit.py": "raise SystemExit('bye')\n",
            "shop_ready.py": """
                import hookwire, shop_events
                class P(hookwire.Plugin):
                    def ready(self):
                        shop_events.sold.connect(self.on_sold)
                        raise RuntimeError('ready broke')
                    def on_sold(self, sender, **kwargs): pass
            """,
            "shop_host.py": "import hookwire\nclass P(hookwire.Plugin):\n  requires_host = '>=9'\n",
            "shop_needs.py": "import hookwire\nclass P(hookwire.Plugin):\n  requires = ['ready']\n",
        },
    )
    records = run_registry(venv)
    good = records.pop("good")
    assert good["state"] == "ready"
    assert good["receivers"] == 1
    assert good["distribution"] == "shop-good"
    assert good["version"] == "2.1"
    assert good["entry_point"] == "good = shop_good:GoodPlugin"
    assert good["module_file"].endswith("shop_good/__init__.py")
    assert str(venv.path) in good["module_file"]

    assert all(record["state"] == "failed" for record in records.values())
    assert all(record["receivers"] == 0 for record in records.values())
    errors = {name: record["error"] for name, record in records.items()}
    assert all(
        error.startswith(f"plugin {name} (shop-bad 1.0), ") for name, error in errors.items()
    )
    assert "import phase: SyntaxError at " in errors["syntax"]
    assert "shop_syntax.py:1" in errors["syntax"]
    assert "No module named 'shop_missing_module'" in errors["missing"]
    assert "has no attribute 'Nope'" in errors["attr"]
    assert "(it has: GoodPlugin, hookwire, shop_events)" in errors["attr"]
    assert "shop_events:sold is an object of type Signal" in errors["kind"]
    assert "invalid entry point value 'shop good'" in errors["value"]
    assert "ready phase: ready() raised RuntimeError: ready broke" in errors["ready"]
    assert "SystemExit('bye')" in errors["exit"]
    assert "needs host version >=9, but the host is 1.4.0 (checked before import)" in errors["host"]
    assert "needs requires ready, which failed in the ready phase" in errors["needs"]


@pytest.mark.e2e
def test_environment_variables_disable_autoload_and_deny_plugins_in_a_real_install(
    make_venv: Callable[..., Venv], tmp_path: Path
) -> None:
    venv = make_venv()
    ran = tmp_path / "ran"
    source = f"import pathlib\npathlib.Path({str(ran)!r}, __name__).touch()\n"
    ran.mkdir()
    for name in ("alpha", "beta"):
        venv.add_dist_info(
            f"shop-{name}",
            entry_points={"shop.plugins": {name: f"shop_{name}"}},
            modules={f"shop_{name}.py": source},
        )
    code = REGISTRY_AS_JSON.replace("LoadConfig({config})", "None")
    result = venv.python_code(code, env={"HOOKWIRE_DISABLE_AUTOLOAD": "1"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert {item["state"] for item in json.loads(result.stdout)} == {"disabled"}
    assert list(ran.iterdir()) == []

    result = venv.python_code(code, env={"HOOKWIRE_PLUGINS": ""}, cwd=tmp_path)
    assert {item["state"] for item in json.loads(result.stdout)} == {"disabled"}
    assert list(ran.iterdir()) == []

    result = venv.python_code(code, env={"HOOKWIRE_DISABLE_PLUGINS": "Alpha"}, cwd=tmp_path)
    states = {item["name"]: item["state"] for item in json.loads(result.stdout)}
    assert states == {"alpha": "disabled", "beta": "ready"}
    assert [path.name for path in ran.iterdir()] == ["shop_beta"]


@pytest.mark.e2e
def test_pyproject_settings_above_the_working_directory_control_a_real_install(
    make_venv: Callable[..., Venv], tmp_path: Path
) -> None:
    venv = make_venv()
    ran = tmp_path / "ran"
    ran.mkdir()
    source = f"import pathlib\npathlib.Path({str(ran)!r}, __name__).touch()\n"
    for name in ("alpha", "beta", "gamma"):
        venv.add_dist_info(
            f"shop-{name}",
            entry_points={"shop.plugins": {name: f"shop_{name}"}},
            modules={f"shop_{name}.py": source},
        )
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[tool.hookwire]\nautoload = false\nplugins = ["ALPHA", "Beta"]\ndisable = ["beta"]\n',
        encoding="utf-8",
    )
    code = REGISTRY_AS_JSON.replace("LoadConfig({config})", "None")
    result = venv.python_code(code, cwd=project / "src")
    assert result.returncode == 0, result.stderr
    states = {item["name"]: item["state"] for item in json.loads(result.stdout)}
    assert states == {"alpha": "ready", "beta": "disabled", "gamma": "disabled"}
    assert [path.name for path in ran.iterdir()] == ["shop_alpha"]

    # The environment outranks the file: an empty allow-list loads nothing.
    result = venv.python_code(code, cwd=project / "src", env={"HOOKWIRE_PLUGINS": ""})
    assert result.returncode == 0, result.stderr
    assert {item["state"] for item in json.loads(result.stdout)} == {"disabled"}


INTERRUPTED_REENTERED_RETRIED = """
import builtins, json
from hookwire._loading.loader import Loader
from hookwire._loading.config import LoadConfig
import shop_early  # the host imports a plugin itself before loading
import shop_events

loader = builtins.LOADER = Loader("shop.plugins", config=LoadConfig(strict=True))
report = {}
try:
    loader.load()
except KeyboardInterrupt:
    report["after_interrupt"] = {r.name: r.state.value for r in loader.registry}
try:
    loader.load()
except Exception as error:
    first = error
try:
    loader.load()
except Exception as error:
    report["same_error_again"] = error is first
report["error_type"] = type(first).__name__
report["failures"] = {f.plugin: str(f) for f in first.failures}
report["states"] = {r.name: r.state.value for r in loader.registry}
report["names"] = [r.name for r in loader.registry]
report["distributions"] = [r.distribution for r in loader.registry]
report["early_receivers"] = [
    (i.name, i.plugin) for i in shop_events.sold.describe_receivers()
]
print(json.dumps(report))
"""


@pytest.mark.e2e
def test_interrupted_reentrant_duplicate_and_cyclic_plugins_in_a_real_install(
    make_venv: Callable[..., Venv], tmp_path: Path
) -> None:
    venv = make_venv()
    shop = "shop.plugins"
    marker = tmp_path / "interrupted-once"
    hostile = "\x1b[31mred"
    venv.add_dist_info(
        "shop-events", modules={"shop_events.py": "from hookwire import Signal\nsold = Signal()\n"}
    )
    venv.add_dist_info(
        "shop-early",
        entry_points={shop: {"early": "shop_early"}},
        modules={
            "shop_early.py": """
                import shop_events
                def on_sold(sender, **kwargs): pass
                shop_events.sold.connect(on_sold)
            """
        },
    )
    venv.add_dist_info(
        "shop-misc",
        entry_points={
            shop: {
                "interrupt": "shop_interrupt",
                "reenter": "shop_reenter:P",
                "ghost-fan": "shop_ghost:P",
                "cyc-a": "shop_cyc:A",
                "cyc-b": "shop_cyc:B",
                f"shiny{hostile}": "shop_events",
            }
        },
        modules={
            "shop_interrupt.py": f"""
                import pathlib
                marker = pathlib.Path({str(marker)!r})
                if not marker.exists():
                    marker.touch()
                    raise KeyboardInterrupt
            """,
            "shop_reenter.py": """
                import builtins, hookwire
                class P(hookwire.Plugin):
                    def ready(self):
                        builtins.LOADER.load()
            """,
            "shop_ghost.py": "import hookwire\nclass P(hookwire.Plugin):\n  requires = ['ghost']\n",
            "shop_cyc.py": """
                import hookwire
                class A(hookwire.Plugin):
                    requires = ["cyc-b"]
                class B(hookwire.Plugin):
                    requires = ["cyc-a"]
            """,
        },
    )
    venv.add_dist_info("shop-rival", entry_points={shop: {"Early": "shop_rival"}})
    result = venv.python_code(INTERRUPTED_REENTERED_RETRIED, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)

    interrupted = report["after_interrupt"]
    assert interrupted["interrupt"] == "discovered"
    assert set(interrupted.values()) <= {"discovered", "imported"}
    assert report["error_type"] == "LoadError"
    assert report["same_error_again"] is True
    states = report["states"]
    assert states["interrupt"] == "ready"
    assert states["early"] == "ready"
    assert states[f"shiny{hostile}"] == "ready"
    failures = report["failures"]
    assert set(failures) == {"reenter", "ghost-fan", "cyc-a", "cyc-b", "Early"}
    assert (
        "ReentrantLoadError: load() was called while plugin loading is running"
        in (failures["reenter"])
    )
    assert failures["ghost-fan"].endswith("ghost-fan requires ghost, which is not installed")
    assert failures["cyc-a"].endswith(
        "cyc-a requires cyc-b, which requires cyc-a (a requirement cycle)"
    )
    assert "plugin Early is offered twice: by shop-early 1.0" in failures["Early"]
    assert report["early_receivers"] == [["shop_early.on_sold", "early"]]
    assert f"shiny{hostile}" in report["names"]
