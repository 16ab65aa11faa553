"""The ``hookwire`` command where plugins and users push at it: chatty plugins under ``--json``,
``--traceback`` with hostile exceptions, requirement names misspelt, Ctrl-C in every command.

One venv (hookwire's wheel, an isolated copy of its dependencies and hand-made distributions)
is shared by the module; each test runs the venv's real console script.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clitools import World, isolated_venv

CHATTY = {
    "chatty/__init__.py": "",
    "chatty/signals.py": """
        from hookwire import Signal

        chatter = Signal(doc="Someone talked.")
    """,
    "chatty/app.py": """
        from hookwire import Host

        from chatty import signals

        host = Host("chatty", signals=[signals], main=lambda: None)


        def hostile_main():
            raise ValueError("main \x1b[31mred\x07 \u202eevil")


        hostile = Host("hostile", main=hostile_main)
    """,
}

SNEAKY = {
    "hostile_sneaky.py": 'raise ImportError("plugin \\x1b[31mred\\x07 \\u202eevil")\n',
}

#: What a terminal must never receive raw from plugin code.
CONTROL = ("\x1b", "\x07", "\u202e")

# Every way a plugin can reach the descriptor of stdout while it is imported and readied.
LOUD = {
    "chatty_loud.py": """
        import os
        import subprocess
        import sys
        import threading

        from hookwire import Plugin, receiver

        from chatty.signals import chatter

        os.write(1, b"loud: os.write\\n")
        print("loud: sys.__stdout__", file=sys.__stdout__)
        subprocess.run([sys.executable, "-c", "print('loud: child')"], check=True)
        thread = threading.Thread(target=lambda: print("loud: thread"))
        thread.start()
        thread.join()


        @receiver(chatter)
        def listen(sender, **kwargs):
            pass


        class Loud(Plugin):
            signals_module = None

            def ready(self):
                os.write(1, b"loud: ready os.write\\n")
                sys.__stdout__.write("loud: unflushed ready\\n")
    """,
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, hookwire_wheel: Path) -> World:
    root = tmp_path_factory.mktemp("boundaries")
    venv = isolated_venv(tmp_path_factory, hookwire_wheel, root / "venv")
    venv.add_dist_info("chatty", "1.0", modules=CHATTY)
    venv.add_dist_info(
        "chatty-loud",
        "1.0",
        entry_points={"chatty.plugins": {"loud": "chatty_loud:Loud"}},
        modules=LOUD,
    )
    venv.add_dist_info(
        "hostile-sneaky",
        "1.0",
        entry_points={"hostile.plugins": {"sneaky": "hostile_sneaky"}},
        modules=SNEAKY,
    )
    home = root / "home"
    home.mkdir()
    (root / "cache").mkdir()
    return World(venv, home)


def _loud_lines(text: str) -> set[str]:
    return {line for line in text.splitlines() if line.startswith("loud: ")}


ALL_LOUD = {
    "loud: os.write",
    "loud: sys.__stdout__",
    "loud: child",
    "loud: thread",
    "loud: ready os.write",
    "loud: unflushed ready",
}


# -- stdout is for data alone ----------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["plugins", "list", "chatty.app:host", "--json"],
        ["signals", "chatty.app:host", "--json"],
        ["plugins", "info", "loud", "chatty.app:host", "--json"],
    ],
    ids=["plugins-list", "signals", "plugins-info"],
)
def test_json_stays_json_whatever_a_plugin_writes_to_the_stdout_descriptor(
    world: World, args: list[str]
) -> None:
    result = world.hookwire(*args)
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)
    assert _loud_lines(result.stdout) == set()
    assert _loud_lines(result.stderr) == ALL_LOUD


def test_the_plugins_table_holds_no_plugin_output(world: World) -> None:
    result = world.hookwire("plugins", "list", "chatty.app:host")
    assert result.returncode == 0, result.stderr
    assert _loud_lines(result.stdout) == set()
    assert result.stdout.splitlines()[0].startswith("NAME")


def test_the_installers_probe_prints_one_json_document_with_chatty_plugins(world: World) -> None:
    request = json.dumps({"host": "chatty.app:host", "load": True, "distributions": []})
    result = world.venv.run(
        str(world.venv.python), "-m", "hookwire.cli._probe", request, env=world.env()
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert [entry["name"] for entry in document["plugins"]] == ["loud"]
    assert _loud_lines(result.stderr) == ALL_LOUD


# -- --traceback prints what plugin code raised, escaped -----------------------------------------


@pytest.mark.parametrize(
    ("args", "status", "shown"),
    [
        (["--traceback", "run", "chatty.app:hostile"], 1, "ValueError: main \\x1b[31mred"),
        (["plugins", "list", "chatty.app:hostile", "--traceback"], 0, "plugin \\x1b[31mred"),
        (["--traceback", "plugins", "info", "sneaky", "chatty.app:hostile"], 0, "\\u202eevil"),
    ],
    ids=["error", "failed-plugin", "plugins-info"],
)
def test_traceback_escapes_control_characters_from_plugin_code(
    world: World, args: list[str], status: int, shown: str
) -> None:
    result = world.hookwire(*args)
    assert result.returncode == status, result.stderr
    output = result.stdout + result.stderr
    assert "Traceback (most recent call last):" in output
    assert shown in output
    assert [char for char in CONTROL if char in output] == []
