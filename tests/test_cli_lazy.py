"""The CLI and lazy plugins: shown without being imported, checked by being activated.

One folder of installed distributions for the module: a host with four signals, 400 lazy
plugins (each declaring one of them), one whose declarations drift and one eager plugin. The
commands run in a fresh interpreter that reports, after the command, which plugin modules it
imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from venvtools import ROOT, backdate, clean_env, write_dist_info

GROUP = "lazycli.plugins"
LISTENS = f"{GROUP}.listens"
PLUGINS = 400
SIGNALS = ("opened", "closed", "paid", "cooked")

HOST = """
from hookwire import Host, Signal

opened = Signal(doc="The shop opened.")
closed = Signal()
paid = Signal()
cooked = Signal()

host = Host("lazycli", signals=[opened, closed, paid, cooked])
"""

# After the command: which plugin modules this process imported, on stderr's last line.
RUNNER = """
import json, sys
from hookwire.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    status = exit.code
imported = sorted(name for name in sys.modules if name.startswith("lazycli_"))
sys.stderr.write("\\nIMPORTED " + json.dumps(imported) + "\\n")
sys.exit(status)
"""


def validate(document: Any, schema: str) -> None:
    """``document`` against ``docs/schemas/<schema>.schema.json``."""
    path = ROOT / "docs" / "schemas" / f"{schema}.schema.json"
    jsonschema.validate(document, json.loads(path.read_text(encoding="utf-8")))


def plugin_files(package: str, signal: str, extra: str = "") -> dict[str, str]:
    return {
        f"{package}/__init__.py": "",
        f"{package}/signals.py": (
            "from hookwire import receiver\nimport lazycli_host as host\n\n"
            f"@receiver(host.{signal}, dispatch_uid={package!r})\n"
            "def on_signal(sender, **kwargs):\n    return None\n" + extra
        ),
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lazycli")
    write_dist_info(root, "lazycli-host", modules={"lazycli_host.py": HOST})
    for index in range(PLUGINS):
        signal = SIGNALS[index % len(SIGNALS)]
        name = f"p{index:03d}"
        write_dist_info(
            root,
            f"lazycli-{name}",
            entry_points={
                GROUP: {name: f"lazycli_{name}"},
                LISTENS: {f"{name}.{signal}": f"lazycli_host:{signal}"},
            },
            modules=plugin_files(f"lazycli_{name}", signal),
        )
    write_dist_info(
        root,
        "lazycli-drift",
        entry_points={
            GROUP: {"drift": "lazycli_drift"},
            LISTENS: {"drift.paid": "lazycli_host:paid"},
        },
        modules=plugin_files(
            "lazycli_drift",
            "paid",
            "\n@receiver(host.closed)\ndef also_closed(sender, **kwargs):\n    return None\n",
        ),
    )
    write_dist_info(
        root,
        "lazycli-eager",
        entry_points={GROUP: {"eager": "lazycli_eager"}},
        modules=plugin_files("lazycli_eager", "opened"),
    )
    backdate(root)
    return root


def hookwire(site: Path, tmp_path: Path, *args: str) -> tuple[int, str, list[str]]:
    """Run ``hookwire ARGS lazycli_host:host``: (status, stdout, plugin modules imported)."""
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *args, "lazycli_host:host"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=clean_env({"PYTHONPATH": str(site), "HOOKWIRE_CACHE_DIR": str(tmp_path / "c")}),
    )
    _, _, tail = done.stderr.rpartition("\nIMPORTED ")
    assert tail, done.stderr
    imported = json.loads(tail)
    return done.returncode, done.stdout, [name for name in imported if name != "lazycli_host"]


def test_plugins_list_json_shows_400_lazy_plugins_importing_none(
    site: Path, tmp_path: Path
) -> None:
    status, out, imported = hookwire(site, tmp_path, "plugins", "list", "--json")
    assert status == 0
    assert imported == ["lazycli_eager", "lazycli_eager.signals"]
    document = json.loads(out)
    validate(document, "plugins-list")
    shown = {entry["name"]: entry for entry in document}
    assert len(shown) == PLUGINS + 2
    first = shown["p000"]
    assert first["state"] == "declared"
    assert first["activation"] == "declared"
    assert first["lazy"] is True
    assert first["listens"] == ["lazycli_host.opened"]
    assert first["receivers"] == 0
    assert shown["eager"]["activation"] is None
    assert shown["eager"]["state"] == "ready"


def test_plugins_list_table_shows_the_declared_state(site: Path, tmp_path: Path) -> None:
    status, out, imported = hookwire(site, tmp_path, "plugins", "list")
    assert status == 0
    assert imported == ["lazycli_eager", "lazycli_eager.signals"]
    row = next(line for line in out.splitlines() if line.startswith("p001 "))
    assert "declared" in row.split()


def test_signals_json_names_the_lazy_plugins_declaring_each_signal(
    site: Path, tmp_path: Path
) -> None:
    status, out, imported = hookwire(site, tmp_path, "signals", "--json")
    assert status == 0
    assert imported == ["lazycli_eager", "lazycli_eager.signals"]
    document = json.loads(out)
    validate(document, "signals")
    by_name = {entry["signal"]: entry for entry in document}
    opened = by_name["lazycli_host.opened"]
    assert [r["plugin"] for r in opened["receivers"]] == ["eager"]
    declared: list[dict[str, Any]] = opened["declared"]
    assert len(declared) == PLUGINS // len(SIGNALS)
    assert declared[0] == {"plugin": "p000", "state": "declared"}
    assert "declared" not in by_name["hookwire.signals.host_started"]


def test_signals_text_lists_the_lazy_plugins(site: Path, tmp_path: Path) -> None:
    status, out, _ = hookwire(site, tmp_path, "signals")
    assert status == 0
    assert "  lazy plugins: p000 (declared), p004 (declared)" in out


def test_plugins_info_shows_a_lazy_plugin_without_importing_it(site: Path, tmp_path: Path) -> None:
    status, out, imported = hookwire(site, tmp_path, "plugins", "info", "p002", "--json")
    assert status == 0, out
    assert "lazycli_p002" not in imported
    info = json.loads(out)
    validate(info, "plugins-info")
    assert info["state"] == "declared"
    assert info["activation"] == "declared"
    assert info["listens"] == ["lazycli_host.paid"]
    status, out, imported = hookwire(site, tmp_path, "plugins", "info", "p002")
    assert "lazycli_p002" not in imported
    assert "listens to:    lazycli_host.paid" in out


def test_plugins_check_activates_every_lazy_plugin_and_fails_on_a_drifting_one(
    site: Path, tmp_path: Path
) -> None:
    status, out, imported = hookwire(site, tmp_path, "plugins", "check")
    assert status == 1
    assert "lazycli_p399.signals" in imported
    drift = [line for line in out.splitlines() if line.startswith("! plugin drift")]
    assert drift == [
        "! plugin drift (lazycli-drift): connected a receiver to lazycli_host.closed, which it "
        "does not declare in its listens entry points"
    ]
    assert out.rstrip().endswith("; 1 declaration not kept")
