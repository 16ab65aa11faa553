"""``import hookwire`` stays cheap: no event loop, no metadata reader, no CLI stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FORBIDDEN = (
    "asyncio",
    "asgiref",
    "importlib.metadata",
    "importlib_metadata",
    "typer",
    "rich",
    "click",
    "celery",
    "kombu",
    "opentelemetry",
)


def _modules_after(code: str) -> set[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("module", FORBIDDEN)
def test_import_hookwire_does_not_import(module: str) -> None:
    baseline = _modules_after("")
    loaded = _modules_after("import hookwire")
    assert module not in loaded - baseline


def test_sending_a_signal_with_sync_receivers_stays_light() -> None:
    code = (
        "import hookwire\n"
        "s = hookwire.Signal()\n"
        "def r(**kwargs): return 1\n"
        "s.connect(r)\n"
        "assert s.send(None) == [(r, 1)]\n"
        "assert s.send_robust(None) == [(r, 1)]\n"
    )
    loaded = _modules_after(code) - _modules_after("")
    assert not loaded & set(FORBIDDEN)
    assert "inspect" not in loaded


def test_observing_sends_imports_no_opentelemetry() -> None:
    """The observer API is part of the dispatcher; only hookwire.otel imports OpenTelemetry."""
    code = (
        "import hookwire\n"
        "s = hookwire.Signal()\n"
        "def r(**kwargs): return 1\n"
        "s.connect(r)\n"
        "with hookwire.observing(hookwire.SendObserver(), s):\n"
        "    assert s.send(None) == [(r, 1)]\n"
    )
    loaded = _modules_after(code) - _modules_after("")
    assert not {name for name in loaded if name.split(".")[0] == "opentelemetry"}
    assert "hookwire.otel" not in loaded


def test_importtime_report_lists_no_forbidden_module() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import hookwire"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "hookwire" in imported
    assert not imported & set(FORBIDDEN)


LOAD_PATH_FORBIDDEN = (
    "dataclasses",
    "inspect",
    "pathlib",
    "email",
    "importlib.metadata",
    "importlib_metadata",
    "asyncio",
    "typer",
)


@pytest.mark.parametrize("warm", [False, True], ids=["cold cache", "warm cache"])
def test_loading_a_host_s_plugins_stays_light(warm: bool, tmp_path: Path) -> None:
    code = (
        "import os\n"
        f"os.environ['HOOKWIRE_CACHE_DIR'] = {str(tmp_path)!r}\n"
        "from hookwire import Host\n"
        "Host('lightweight').load()\n"
    )
    if warm:
        _modules_after(code)
    loaded = _modules_after(code) - _modules_after("")
    assert "hookwire._loading.loader" in loaded
    assert not loaded & set(LOAD_PATH_FORBIDDEN)


FRAMEWORKS = ("django", "flask", "werkzeug", "starlette", "fastapi", "click", "asgiref")


def test_the_framework_integrations_import_no_framework() -> None:
    """``hookwire.asgi``, ``hookwire.django`` and ``hookwire.flask`` import their framework
    only when used (the app's ready(), init_app(), the first request)."""
    loaded = _modules_after("import hookwire, hookwire.asgi, hookwire.django, hookwire.flask")
    assert not {name.partition(".")[0] for name in loaded} & set(FRAMEWORKS)


def test_a_cli_command_imports_no_pydantic(tmp_path: Path) -> None:
    """Each ``hookwire`` command is its own process: a CLI stack that imported pydantic to
    coerce options (typer 0.29 does) would add about 80 ms to every one of them."""
    code = (
        "import os, sys\n"
        f"os.environ['HOOKWIRE_CACHE_DIR'] = {str(tmp_path)!r}\n"
        "from hookwire.cli import main\n"
        "sys.argv = ['hookwire', 'plugins', 'list', '--json', '--all']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
    )
    loaded = _modules_after(code)
    assert "hookwire.cli._app" in loaded
    assert not {name for name in loaded if name.partition(".")[0] == "pydantic"}
