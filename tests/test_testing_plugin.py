"""hookwire.testing as a pytest plugin: free to load, fixtures registered, guide runnable."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from venvtools import Venv

import hookwire.testing

pytest_plugins = ["pytester"]

FIXTURES = [
    "connect_receiver",
    "fake_plugins",
    "hookwire_isolation",
    "mute_signals",
    "record_signals",
    "signal_recorder",
]


def test_importing_the_plugin_pulls_in_no_cli_stack_no_asyncio_and_no_loader() -> None:
    code = textwrap.dedent(
        """
        import json, sys
        import pytest
        before = set(sys.modules)
        import hookwire.testing
        print(json.dumps(sorted(set(sys.modules) - before)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    imported = json.loads(result.stdout)
    assert "hookwire.testing" in imported
    heavy = [
        name
        for name in imported
        if name.split(".")[0] in {"typer", "rich", "click", "asyncio", "asgiref", "packaging"}
        or name
        in {
            "importlib_metadata",
            "hookwire._loading.loader",
            "hookwire._loading.discovery",
            "hookwire.cli",
        }
        or name.startswith("hookwire.testing.")
    ]
    assert heavy == []


def test_a_pytest_session_that_uses_no_fixture_imports_nothing_heavy(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import sys

        HEAVY = {"typer", "rich", "click", "asyncio", "asgiref", "packaging", "importlib_metadata"}

        def test_plain():
            assert "hookwire.testing" in sys.modules  # loaded through the entry point
            loaded = sorted(
                name for name in sys.modules
                if name.split(".")[0] in HEAVY
                or name.startswith(
                    ("hookwire.testing.", "hookwire.cli", "hookwire._loading.loader")
                )
            )
            assert loaded == []
        """
    )
    # anyio's pytest plugin (anyio comes with httpx, which the embedding tests use) imports
    # asyncio itself: what is measured here is hookwire's plugin alone.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:anyio")
    result.assert_outcomes(passed=1)


def test_every_fixture_is_registered_by_the_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest_subprocess("--fixtures")
    listed = set(re.findall(r"^(\w+)(?: \[.*\])? -- ", result.stdout.str(), re.MULTILINE))
    assert set(FIXTURES) <= listed, result.stdout.str()


def test_the_plugin_can_be_disabled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_uses(signal_recorder): pass")
    result = pytester.runpytest_subprocess("-p", "no:hookwire")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'signal_recorder' not found*"])


def test_the_public_names_are_importable_and_listed() -> None:
    assert sorted(hookwire.testing.__all__) == hookwire.testing.__all__
    for name in hookwire.testing.__all__:
        assert getattr(hookwire.testing, name) is not None
    with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
        hookwire.testing.nothing_here  # noqa: B018


def _code_blocks(docstring: str) -> list[str]:
    """The bodies of the ``.. code-block:: python`` directives of a reStructuredText text."""
    blocks = []
    for match in re.finditer(
        r"^\.\. code-block:: python\n\n((?:(?:    .*)?\n)+)", docstring, re.MULTILINE
    ):
        blocks.append(textwrap.dedent(match.group(1)))
    return blocks


def test_the_usage_examples_in_the_module_docstring_pass(pytester: pytest.Pytester) -> None:
    recording, plugins, conftest = _code_blocks(hookwire.testing.__doc__ or "")
    pytester.makeconftest(conftest)
    pytester.makepyfile(test_guide=recording + "\n\n" + plugins)
    result = pytester.runpytest("-W", "error")
    result.assert_outcomes(passed=5)


def test_every_fixture_cleans_up_after_a_failing_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import sys
        from hookwire import Signal

        pizza_done = Signal(name="pizza_done")
        SEND_METHODS = {"send", "send_robust", "asend", "asend_robust"}
        PLAIN = {name: vars(Signal).get(name) for name in SEND_METHODS}

        def kept(sender, **kwargs):
            return "kept"

        pizza_done.connect(kept)
        handles = []  # held, so only the fixtures' teardown can undo them

        def test_fails_with_every_fixture(
            signal_recorder, record_signals, hookwire_isolation, fake_plugins, mute_signals,
            connect_receiver,
        ):
            handles.append(record_signals(pizza_done))
            pizza_done.disconnect(kept)
            handles.append(connect_receiver(pizza_done, lambda sender, **kwargs: "temporary"))
            fake_plugins.add_module("pizzeria_failing", "")
            fake_plugins.add_module(
                "pizzeria_failing.signals",
                "from hookwire import receiver\\n"
                "from test_every_fixture_cleans_up_after_a_failing_test import pizza_done\\n"
                "@receiver(pizza_done)\\n"
                "def loaded(sender, **kwargs):\\n"
                "    return 'loaded'\\n",
            )
            fake_plugins.add("failing", value="pizzeria_failing")
            assert fake_plugins.load()["failing"].state == "ready"
            handles.append(mute_signals(pizza_done))
            assert pizza_done.send(sender=None) == []
            raise RuntimeError("the test fails half-way")

        def test_fails_with_the_isolation_set_up_last(
            connect_receiver, mute_signals, record_signals, signal_recorder, hookwire_isolation
        ):
            handles.append(connect_receiver(pizza_done, lambda sender, **kwargs: "temporary"))
            handles.append(mute_signals(pizza_done))
            handles.append(record_signals(pizza_done))
            pizza_done.connect(lambda sender, **kwargs: "leaked", weak=False)
            raise RuntimeError("the test fails half-way")

        def test_everything_was_put_back():
            assert [response for _, response in pizza_done.send(sender=None)] == ["kept"]
            assert {name: vars(Signal).get(name) for name in SEND_METHODS} == PLAIN
            assert not SEND_METHODS & set(vars(pizza_done))  # not muted any more
            assert not any(handle.recording for handle in handles if hasattr(handle, "recording"))
            assert "pizzeria_failing" not in sys.modules
            assert "pizzeria_failing.signals" not in sys.modules
            assert not any("Fake" in type(finder).__name__ for finder in sys.meta_path)
            from hookwire._dispatch.attribution import plugin_for_module
            assert plugin_for_module("pizzeria_failing.signals") is None
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*RuntimeError: the test fails half-way*"])


def _hide_this_checkouts_hookwire(venv: Venv, folder: Path) -> None:
    """Let ``venv`` reach this environment's packages (pytest among them) but not its editable
    hookwire, so the wheel installed in the venv is the only hookwire there is."""
    folder.mkdir()
    outer = Path(sysconfig.get_paths()["purelib"])
    for entry in outer.iterdir():
        if "hookwire" not in entry.name.lower() and not entry.name.startswith("__editable__"):
            (folder / entry.name).symlink_to(entry)
    (venv.site_packages / "_outer_environment.pth").write_text(f"{folder}\n", encoding="utf-8")


WHEEL_TESTS = """
import asyncio
import importlib.metadata
import sys

from hookwire import Plugin, Signal

pizza_done = Signal(name="pizza_done")


class SmsPlugin(Plugin):
    def ready(self):
        pizza_done.connect(self.text, weak=False)

    def text(self, sender, **kwargs):
        return "texted"


def test_the_plugin_is_registered_by_the_installed_wheel(pytestconfig):
    (hookwire,) = [
        dist for dist in importlib.metadata.distributions() if dist.metadata["Name"] == "hookwire"
    ]
    assert str(hookwire.locate_file("")).startswith(sys.prefix)
    (registered,) = [
        dist
        for plugin, dist in pytestconfig.pluginmanager.list_plugin_distinfo()
        if plugin.__name__ == "hookwire.testing"
    ]
    assert registered.project_name == "hookwire"
    assert str(registered.locate_file("")).startswith(sys.prefix)
    assert sys.modules["hookwire.testing"].__file__.startswith(sys.prefix)


def test_fake_plugins_and_recording(fake_plugins, signal_recorder):
    fake_plugins.add("sms", SmsPlugin, distribution="pizzeria-sms", version="2.0")
    registry = fake_plugins.load(group="pizzeria.plugins")
    assert registry["sms"].state == "ready"
    assert registry["sms"].version == "2.0"
    asyncio.run(pizza_done.asend(sender=None, order=1))
    signal_recorder.assert_sent_once(pizza_done, sender=None, order=1)
    fake_plugins.assert_ready_idempotent()


def test_muting_and_connecting(mute_signals, connect_receiver, record_signals):
    recorder = record_signals(pizza_done)
    connect_receiver(pizza_done, lambda sender, **kwargs: "heard")
    with mute_signals(pizza_done):
        assert pizza_done.send(sender=None) == []
    assert [response for _, response in pizza_done.send(sender=None)] == ["heard"]
    assert len(recorder) == 1


def test_isolation_undid_the_earlier_tests(hookwire_isolation):
    assert not pizza_done.has_listeners()
"""


@pytest.mark.e2e
def test_the_fixtures_work_from_hookwires_wheel_in_a_fresh_venv(
    make_venv: Callable[[], Venv], tmp_path: Path
) -> None:
    venv = make_venv()
    _hide_this_checkouts_hookwire(venv, tmp_path / "reachable")
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_with_hookwire_fixtures.py").write_text(WHEEL_TESTS, encoding="utf-8")

    result = venv.run(
        str(venv.python), "-m", "pytest", "-p", "no:cacheprovider", "-W", "error", cwd=project
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
