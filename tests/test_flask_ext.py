"""hookwire.flask: the extension in a real Flask application, its plugins pip-installed.

One fresh venv for the module: hookwire's wheel and two plugin projects installed into it
(``shop-audit``, whose receivers log the host's life and the orders to a file, and
``shop-broken``, which fails to import); Flask comes from the test environment. Each test
runs the application in its own interpreter: Flask's test client from a script, or the
``flask`` command.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from venvtools import Venv, create_venv, hatchling_pyproject, write_project

pytestmark = pytest.mark.e2e

AUDIT = {
    "pyproject.toml": hatchling_pyproject(
        "shop-audit", "1.0", entry_points={"shop.plugins": {"audit": "shop_audit"}}
    ),
    "shop_audit/__init__.py": "",
    "shop_audit/signals.py": """
        import os

        from hookwire import receiver
        from hookwire.signals import host_started, host_stopping
        from shopsignals import order_placed


        def log(line):
            with open(os.environ["SHOP_LOG"], "a", encoding="utf-8") as stream:
                stream.write(line + "\\n")


        @receiver(order_placed)
        def on_order(sender, order, **kwargs):
            log(f"order {order}")
            return "ok"


        @receiver(host_started)
        def on_host_started(sender, **kwargs):
            log("started")


        @receiver(host_stopping)
        def on_host_stopping(sender, exc=None, **kwargs):
            log(f"stopping {exc!r}")
    """,
}

BROKEN = {
    "pyproject.toml": hatchling_pyproject(
        "shop-broken", "0.1", entry_points={"shop.plugins": {"broken": "shop_broken"}}
    ),
    "shop_broken/__init__.py": """
        raise ImportError("no oven in this shop")
    """,
}

SITE = {
    "shopsignals.py": """
        from hookwire import Signal

        order_placed = Signal(name="order_placed", doc="An order was placed.")
    """,
    "shopweb.py": """
        from flask import Flask, current_app

        import shopsignals
        from hookwire import Host
        from hookwire.flask import Hookwire

        host = Host("shop", signals=[shopsignals])
        hookwire_ext = Hookwire(host=host)


        def create_app(**load_options):
            app = Flask("shopweb")
            if load_options:
                Hookwire(app, host=host, **load_options)
            else:
                hookwire_ext.init_app(app)

            @app.get("/order/<name>")
            def order(name):
                responses = shopsignals.order_placed.send(sender="web", order=name)
                registry = current_app.extensions["hookwire"].registry
                return {
                    "answers": [answer for _, answer in responses],
                    "plugins": {record.name: record.state.value for record in registry},
                }

            return app
    """,
}


class World:
    """The venv and the application's folder."""

    def __init__(self, venv: Venv, site: Path) -> None:
        self.venv = venv
        self.site = site

    def run(self, tmp_path: Path, *args: str) -> Any:
        environment = {
            "SHOP_LOG": str(tmp_path / "events.log"),
            "PYTHONPATH": str(self.site),
            "HOOKWIRE_CACHE_DIR": str(tmp_path / "cache"),
        }
        return self.venv.run(*args, env=environment, cwd=self.site)

    def flask(self, tmp_path: Path, *args: str) -> Any:
        """``flask --app shopweb:create_app ARGS`` (``python -m flask``: Flask is installed
        in the environment the venv sees, its script is not in the venv)."""
        app = ("--app", "shopweb:create_app")
        return self.run(tmp_path, str(self.venv.python), "-m", "flask", *app, *args)

    def script(self, tmp_path: Path, code: str) -> Any:
        return self.run(tmp_path, str(self.venv.python), "-c", textwrap.dedent(code))


def events(tmp_path: Path) -> list[str]:
    log = tmp_path / "events.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, hookwire_wheel: Path) -> World:
    root = tmp_path_factory.mktemp("flask-ext")
    venv = create_venv(root / "venv", wheels=[hookwire_wheel])
    venv.install(
        write_project(root / "shop-audit", AUDIT), write_project(root / "shop-broken", BROKEN)
    )
    return World(venv, write_project(root / "site", SITE))


def test_the_host_starts_with_the_app_not_per_request_and_stops_at_exit(
    world: World, tmp_path: Path
) -> None:
    code = """
        import json
        import shopweb

        app = shopweb.create_app()
        client = app.test_client()
        answers = [client.get(f"/order/{name}").get_json() for name in ("a", "b")]
        second = shopweb.create_app()  # the same host: already running, not started again
        answers.append(second.test_client().get("/order/c").get_json())
        print(json.dumps(answers))
    """
    result = world.script(tmp_path, code)
    assert result.returncode == 0, result.stderr
    plugins = {"audit": "ready", "broken": "failed"}
    assert json.loads(result.stdout) == [{"answers": ["ok"], "plugins": plugins}] * 3
    assert events(tmp_path) == ["started", "order a", "order b", "order c", "stopping None"]
    # The failure is one WARNING record, which Python's last-resort handler prints.
    assert result.stderr.count("plugin broken") == 1, result.stderr


def test_shutdown_unloads_so_a_factory_can_load_another_selection(
    world: World, tmp_path: Path
) -> None:
    code = """
        import json
        import shopweb

        app = shopweb.create_app()
        first = app.test_client().get("/order/a").get_json()
        shopweb.hookwire_ext.shutdown(app)
        shopweb.hookwire_ext.shutdown(app)  # again: nothing
        app = shopweb.create_app(disable=["audit"])
        second = app.test_client().get("/order/b").get_json()
        try:
            shopweb.hookwire_ext.init_app(app)
        except RuntimeError as exc:
            refused = str(exc)
        print(json.dumps([first, second, refused]))
    """
    result = world.script(tmp_path, code)
    assert result.returncode == 0, result.stderr
    first, second, refused = json.loads(result.stdout)
    assert first == {"answers": ["ok"], "plugins": {"audit": "ready", "broken": "failed"}}
    # audit disabled: its receivers are gone, not merely skipped.
    assert second == {"answers": [], "plugins": {"audit": "disabled", "broken": "failed"}}
    assert "already has a hookwire extension" in refused
    assert events(tmp_path) == ["started", "order a", "stopping None"]


def test_flask_hookwire_runs_the_commands_against_the_apps_host(
    world: World, tmp_path: Path
) -> None:
    listed = world.flask(tmp_path, "hookwire", "plugins", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    plugins = {entry["name"]: entry for entry in json.loads(listed.stdout)}
    assert plugins["audit"]["state"] == "ready"
    assert plugins["audit"]["receivers"] == 3
    assert plugins["broken"]["error"].startswith("plugin broken (shop-broken 0.1)")
    assert listed.stderr.count("plugin broken") == 1, listed.stderr

    checked = world.flask(tmp_path, "hookwire", "plugins", "check")
    assert checked.returncode == 1, checked.stderr

    helped = world.flask(tmp_path, "hookwire", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "plugins" in helped.stdout
    assert "signals" in helped.stdout
