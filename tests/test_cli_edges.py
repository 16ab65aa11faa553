"""The ``hookwire`` command at its edges: each case ends with one clear line and the right exit
status, through the real console script of a venv with real installed distributions.

Exceptions whose ``str()`` raises, statuses outside 0-255, ``--trace`` with such exceptions, a
reader closing stdout early, ``--traceback`` for failed plugins, Ctrl-C and SIGTERM while
hookwire or a plugin is being imported, malformed host references and the wording of errors.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from clitools import World, isolated_venv

EDGE = {
    "edge/__init__.py": "",
    "edge/unprintable.py": """
        class Unprintable(Exception):
            def __str__(self):
                raise RuntimeError("no words for it")
    """,
    "edge/signals.py": """
        from hookwire import Signal

        ping = Signal()
    """,
    "edge/app.py": """
        import os
        import time

        from hookwire import Host
        from hookwire.signals import host_started, host_stopping

        from edge import signals
        from edge.unprintable import Unprintable


        def unprintable_main():
            raise Unprintable()


        def status_main():
            return int(os.environ["EDGE_STATUS"])


        def robust_main():
            responses = signals.ping.send_robust(sender="edge")
            print(f"main finished with {len(responses)} responses")


        def chatty_main():
            print("line 1", flush=True)
            go = os.environ["EDGE_GO"]
            while not os.path.exists(go):
                time.sleep(0.01)
            for number in range(1000):
                print(f"line {number}", flush=True)


        def unprintable_factory():
            raise Unprintable()


        def _started(sender, **kwargs):
            if sender.name == "chatty":
                print("started", flush=True)


        def _stopping(sender, exc=None, **kwargs):
            if sender.name == "chatty":
                with open(os.environ["EDGE_STOPFILE"], "a", encoding="utf-8") as file:
                    file.write(f"stopping exc={type(exc).__name__}\\n")
                print("stopping", flush=True)


        host_started.connect(_started)
        host_stopping.connect(_stopping)

        unprintable = Host("unprintable", main=unprintable_main)
        status = Host("status", main=status_main)
        robust = Host("robust", signals=[signals], main=robust_main)
        chatty = Host("chatty", main=chatty_main)
        kaput = Host("kaput", main=lambda: None)
        slow = Host("slow", main=lambda: None)
        slowpoke = Host("slowpoke", main=lambda: None)
    """,
    "edge/unprintable_module.py": """
        from edge.unprintable import Unprintable

        raise Unprintable()
    """,
    "edge/lookup.py": """
        from edge.unprintable import Unprintable


        def __getattr__(name):
            raise Unprintable()
    """,
    # Blocks the import of the module named in $EDGE_BLOCK_IMPORT after writing $EDGE_MARKER,
    # so a test can signal a real process while hookwire's own imports are running.
    "edge_block_imports.py": """
        import os
        import sys
        import time


        class _BlockImport:
            def find_spec(self, name, path=None, target=None):
                if name == os.environ.get("EDGE_BLOCK_IMPORT"):
                    with open(os.environ["EDGE_MARKER"], "w", encoding="utf-8"):
                        pass
                    while True:
                        time.sleep(0.01)
                return None


        if os.environ.get("EDGE_BLOCK_IMPORT"):
            sys.meta_path.insert(0, _BlockImport())
    """,
    "edge_block_imports.pth": "import edge_block_imports\n",
}

ROBUST = {
    "edge_robust.py": """
        from hookwire import receiver

        from edge.signals import ping
        from edge.unprintable import Unprintable


        @receiver(ping)
        def refuse(sender, **kwargs):
            raise Unprintable()
    """,
}

KAPUT = {
    "edge_kaput.py": """
        def explode():
            raise ValueError("kaput")


        explode()
    """,
}

SLEEPY = {
    "edge_sleepy.py": """
        import os
        import time

        with open(os.environ["EDGE_MARKER"], "w", encoding="utf-8"):
            pass
        while True:
            time.sleep(0.01)
    """,
}

# Imports slowly: until the file $EDGE_GO exists, or for $EDGE_SLOW_SECONDS.
SLOWPOKE = {
    "edge_slowpoke.py": """
        import os
        import time

        go = os.environ.get("EDGE_GO")
        deadline = time.monotonic() + (60 if go else float(os.environ["EDGE_SLOW_SECONDS"]))
        while time.monotonic() < deadline and not (go and os.path.exists(go)):
            time.sleep(0.01)
    """,
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, hookwire_wheel: Path) -> World:
    root = tmp_path_factory.mktemp("edges")
    venv = isolated_venv(tmp_path_factory, hookwire_wheel, root / "venv")
    venv.add_dist_info("edge", "1.0", modules=EDGE)
    venv.add_dist_info(
        "edge-robust",
        "1.0",
        entry_points={"robust.plugins": {"refuser": "edge_robust"}},
        modules=ROBUST,
    )
    venv.add_dist_info(
        "edge-kaput",
        "1.0",
        entry_points={"kaput.plugins": {"kaput": "edge_kaput"}},
        modules=KAPUT,
    )
    venv.add_dist_info(
        "edge-sleepy",
        "1.0",
        entry_points={"slow.plugins": {"sleepy": "edge_sleepy"}},
        modules=SLEEPY,
    )
    venv.add_dist_info(
        "edge-slowpoke",
        "1.0",
        entry_points={"slowpoke.plugins": {"slowpoke": "edge_slowpoke"}},
        modules=SLOWPOKE,
    )
    home = root / "home"
    home.mkdir()
    (root / "cache").mkdir()
    return World(venv, home)


def _errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stderr.splitlines()


# -- exceptions whose str() raises -----------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "names_reference"),
    [
        ("edge.app:unprintable", False),
        ("edge.unprintable_module:host", True),
        ("edge.app:unprintable_factory", True),
        ("edge.lookup:host", True),
    ],
    ids=["main", "host-module", "factory", "attribute-lookup"],
)
def test_an_exception_whose_str_raises_is_one_line_and_exit_1(
    world: World, reference: str, names_reference: bool
) -> None:
    result = world.hookwire("run", reference)
    assert result.returncode == 1
    (line,) = _errors(result)
    assert line.startswith("hookwire: error:")
    assert "Unprintable" in line
    if names_reference:
        assert repr(reference) in line


# -- exit statuses -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["256", "512", "-1", "1000"])
def test_a_status_outside_0_to_255_from_main_exits_1_with_a_warning_naming_it(
    world: World, status: str
) -> None:
    result = world.hookwire("run", "edge.app:status", env={"EDGE_STATUS": status})
    assert result.returncode == 1
    (line,) = _errors(result)
    assert line.startswith("hookwire: warning:")
    assert status in line


@pytest.mark.parametrize("status", ["0", "3", "255"])
def test_a_status_in_range_is_the_exit_status(world: World, status: str) -> None:
    result = world.hookwire("run", "edge.app:status", env={"EDGE_STATUS": status})
    assert result.returncode == int(status)
    assert result.stderr == ""


# -- tracing never changes what a send does ----------------------------------------------------


def test_trace_with_a_receiver_raising_an_unprintable_exception_changes_nothing(
    world: World,
) -> None:
    plain = world.hookwire("run", "edge.app:robust")
    traced = world.hookwire("run", "edge.app:robust", "--trace")
    assert plain.returncode == traced.returncode == 0, traced.stderr
    assert plain.stdout == traced.stdout == "main finished with 1 responses\n"
    trace_lines = [line for line in traced.stderr.splitlines() if line.startswith("trace:")]
    (refused,) = [line for line in trace_lines if "edge_robust.refuse" in line]
    assert "raised Unprintable" in refused
    failures = [line for line in traced.stderr.splitlines() if line.startswith("hookwire: error")]
    assert len(failures) == 1  # the send_robust failure, logged on one line


def test_a_send_the_trace_printer_cannot_describe_becomes_a_trace_line() -> None:
    from hookwire import Signal
    from hookwire._dispatch.tracing import SendTrace
    from hookwire.cli._trace import TracePrinter

    class Nameless(Signal):
        @property
        def qualified_name(self) -> str:  # type: ignore[override]
            raise RuntimeError("no name today")

    stream = io.StringIO()
    printer = TracePrinter(stream)
    printer(SendTrace(Nameless(), None, "send", (), 1000))
    (line,) = stream.getvalue().splitlines()
    assert line.startswith("trace: ")
    assert "RuntimeError" in line


# -- a reader that closes stdout ---------------------------------------------------------------


def test_a_reader_closing_stdout_ends_run_quietly_and_host_stopping_is_sent(
    world: World, tmp_path: Path
) -> None:
    go, stopfile = tmp_path / "go", tmp_path / "events.txt"
    env = {"EDGE_GO": str(go), "EDGE_STOPFILE": str(stopfile)}
    process = subprocess.Popen(
        world.command("run", "edge.app:chatty"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=world.home,
        env=world.popen_env(env),
    )
    try:
        assert process.stdout is not None
        assert process.stderr is not None
        assert process.stdout.readline() == "started\n"
        process.stdout.close()  # what `| head -1` does after its line
        go.touch()
        process.wait(timeout=60)
        stderr = process.stderr.read()
    finally:
        process.kill()
        process.wait()
        if process.stderr is not None:
            process.stderr.close()
    assert process.returncode in (0, 141)
    assert stderr == ""
    assert stopfile.read_text(encoding="utf-8").splitlines() == ["stopping exc=BrokenPipeError"]


# -- --traceback shows what a failed plugin raised ----------------------------------------------


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["--traceback", "run", "edge.app:kaput"], 0),
        (["run", "edge.app:kaput", "--traceback"], 0),
        (["run", "edge.app:kaput", "--traceback", "--strict"], 1),
        (["plugins", "check", "edge.app:kaput", "--traceback"], 1),
        (["plugins", "list", "edge.app:kaput", "--traceback"], 0),
        (["--traceback", "plugins", "list", "edge.app:kaput"], 0),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else str(value),
)
def test_traceback_shows_a_failed_plugins_traceback(
    world: World, args: list[str], status: int
) -> None:
    result = world.hookwire(*args)
    assert result.returncode == status, result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert 'raise ValueError("kaput")' in result.stderr
    assert "edge_kaput.py" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--traceback", "plugins", "info", "kaput", "edge.app:kaput"],
        ["plugins", "info", "kaput", "edge.app:kaput", "--traceback"],
    ],
    ids=" ".join,
)
def test_traceback_before_or_after_plugins_info_adds_the_plugins_traceback(
    world: World, args: list[str]
) -> None:
    # plugins info shows the traceback as part of the plugin's record, on stdout.
    result = world.hookwire(*args)
    assert result.returncode == 0, result.stderr
    assert "Traceback (most recent call last)" in result.stdout
    assert 'raise ValueError("kaput")' in result.stdout


def test_without_traceback_a_failed_plugin_is_one_line(world: World) -> None:
    result = world.hookwire("run", "edge.app:kaput")
    assert result.returncode == 0
    (line,) = _errors(result)
    assert line.startswith("hookwire: warning: plugin kaput (edge-kaput 1.0), import phase:")
    assert "ValueError: kaput" in line


# -- Ctrl-C and SIGTERM before the host runs ----------------------------------------------------


def _signal_when_marked(
    world: World, tmp_path: Path, signum: int, args: list[str], block_import: str | None
) -> tuple[int, str]:
    marker = tmp_path / "marker"
    env = {"EDGE_MARKER": str(marker)}
    if block_import is not None:
        env["EDGE_BLOCK_IMPORT"] = block_import
    process = subprocess.Popen(
        world.command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=world.home,
        env=world.popen_env(env),
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the process never reached the marker"
            time.sleep(0.01)
        os.kill(process.pid, signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    return process.returncode, stderr


@pytest.mark.parametrize(
    ("signum", "status", "line"),
    [(signal.SIGINT, 130, "hookwire: interrupted"), (signal.SIGTERM, 143, "hookwire: terminated")],
    ids=["SIGINT", "SIGTERM"],
)
@pytest.mark.parametrize(
    ("args", "block_import"),
    [
        (["run", "edge.app:slow"], "typer"),  # hookwire's own imports
        (["run", "edge.app:slow"], None),  # the sleepy plugin's import
        (["plugins", "list", "edge.app:slow"], None),
        (["plugins", "info", "sleepy", "edge.app:slow"], None),
    ],
    ids=["hookwire-imports", "plugin-loading", "plugins-list-loading", "plugins-info-loading"],
)
def test_a_signal_before_the_host_runs_is_one_line_and_128_plus_its_number(
    world: World,
    tmp_path: Path,
    signum: int,
    status: int,
    line: str,
    args: list[str],
    block_import: str | None,
) -> None:
    returncode, stderr = _signal_when_marked(world, tmp_path, signum, args, block_import)
    assert returncode == status, stderr
    assert stderr.splitlines() == [line]


# -- host references ---------------------------------------------------------------------------


def test_an_empty_host_reference_is_a_usage_error(world: World) -> None:
    result = world.hookwire("run", "")
    assert result.returncode == 2
    (line,) = _errors(result)
    assert line.startswith("hookwire: error:")
    assert "empty" in line
    assert result.stdout == ""


@pytest.mark.parametrize("reference", ["hh..bad:h", ".edge:app", "edge.app:status..x"])
def test_a_malformed_reference_is_a_usage_error_without_a_suggestion(
    world: World, reference: str
) -> None:
    result = world.hookwire("run", reference)
    assert result.returncode == 2
    (line,) = _errors(result)
    assert "not a valid" in line
    assert "did you mean" not in line


def test_did_you_mean_names_only_a_module_that_exists(world: World) -> None:
    # 'edgy' is close to 'edge', but 'edge.nowhere' does not exist: no suggestion.
    result = world.hookwire("run", "edgy.nowhere:host")
    assert result.returncode == 2
    assert "did you mean" not in result.stderr
    close = world.hookwire("run", "edgy.app:status")
    assert "did you mean 'edge.app:status'?" in close.stderr


# -- wording ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["frobnicate"], ["plugins", "lst"], ["run", "--jsn"], ["run", "a:b", "c:d"]],
    ids=" ".join,
)
def test_every_error_line_starts_lower_case(world: World, args: list[str]) -> None:
    result = world.hookwire(*args)
    assert result.returncode == 2
    (line,) = _errors(result)
    message = line.split(": error: ", 1)[1]
    assert message[:1].islower(), line


def test_traceback_after_a_command_without_it_says_where_it_goes(world: World) -> None:
    # 'plugins' itself (a group) has no --traceback option.
    result = world.hookwire("plugins", "--traceback", "list", "edge.app:kaput")
    assert result.returncode == 2
    (line,) = _errors(result)
    assert "hookwire --traceback" in line


# -- a slow import on a terminal -----------------------------------------------------------------


def _visible(terminal_text: str) -> list[str]:
    """The lines a terminal shows once carriage returns and erase-line sequences are applied."""
    lines = []
    for raw in terminal_text.replace("\r\n", "\n").split("\n"):
        line = ""
        for piece in raw.replace("\x1b[K", "\x00").split("\r"):
            line = piece.rpartition("\x00")[2] if "\x00" in piece else piece + line[len(piece) :]
        lines.append(line)
    return [line for line in lines if line]


def test_a_slow_import_is_named_on_the_terminal_then_erased(world: World, tmp_path: Path) -> None:
    """After a second, stderr on a terminal names the plugin being imported; the line goes
    away when the import ends, and stdout (the data) never holds it."""
    import pty
    import select

    go = tmp_path / "go"
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        world.command("plugins", "list", "edge.app:slowpoke"),
        stdout=subprocess.PIPE,
        stderr=follower,
        cwd=world.home,
        env=world.popen_env({"EDGE_GO": str(go)}),
    )
    os.close(follower)
    received = b""
    try:
        deadline = time.monotonic() + 60
        while b"importing plugin slowpoke" not in received:
            assert time.monotonic() < deadline, received
            if select.select([leader], [], [], 0.1)[0]:
                received += os.read(leader, 4096)
        go.touch()
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the command ended and closed the terminal
                break
            if not chunk:
                break
            received += chunk
        stdout, _ = process.communicate(timeout=60)
    finally:
        os.close(leader)
        process.kill()
        process.wait()
    assert process.returncode == 0
    text = received.decode()
    assert "hookwire: importing plugin slowpoke..." in text
    assert _visible(text) == []  # erased: nothing of it stays on the screen
    assert b"importing" not in stdout
    assert b"slowpoke" in stdout  # the table


def test_a_slow_import_leaves_no_status_in_captured_output(world: World) -> None:
    result = world.hookwire(
        "plugins", "list", "edge.app:slowpoke", env={"EDGE_SLOW_SECONDS": "1.3"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "importing" not in result.stdout
