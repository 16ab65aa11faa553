"""hookwire.django: the app in a real Django project, its plugins pip-installed.

One fresh venv for the module: hookwire's wheel and two plugin projects installed into it
(``shop-audit``, whose receivers on Django's ``request_finished`` and ``request_started`` and
on the host's signal write to a log file, and ``shop-broken``, which connects to
``request_finished`` and then fails in ``ready()``); Django comes from the test environment.
Each test runs the project in its own interpreter: Django's test client from a script, or
``manage.py``.
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

        from django.core.signals import request_finished, request_started
        from django.db.models.signals import post_save
        from django.dispatch import receiver as django_receiver

        from hookwire import receiver
        from hookwire.signals import host_started, host_stopping
        from shopsignals import order_placed


        def log(line):
            with open(os.environ["SHOP_LOG"], "a", encoding="utf-8") as stream:
                stream.write(line + "\\n")


        @django_receiver(request_finished)
        def on_finished(sender, **kwargs):
            log("finished")


        @django_receiver(post_save, sender="auth.User")
        def on_user_saved(sender, instance, **kwargs):
            log(f"user {instance.username}")


        @receiver(request_started)
        def on_started_request(sender, **kwargs):
            log("request")


        @receiver(order_placed)
        def on_order(sender, order, **kwargs):
            log(f"order {order}")


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
        "shop-broken", "0.1", entry_points={"shop.plugins": {"broken": "shop_broken:BrokenPlugin"}}
    ),
    "shop_broken/__init__.py": """
        from hookwire import Plugin


        class BrokenPlugin(Plugin):
            name = "broken"

            def ready(self):
                raise RuntimeError("no oven in this shop")
    """,
    "shop_broken/signals.py": """
        import os

        from django.core.signals import request_finished


        def on_finished(sender, **kwargs):
            with open(os.environ["SHOP_LOG"], "a", encoding="utf-8") as stream:
                stream.write("broken finished\\n")


        request_finished.connect(on_finished)
        # Already connected by the project under this uid: Django adds nothing, so the
        # plugin's failure must not take the project's receiver with it.
        request_finished.connect(on_finished, dispatch_uid="shop-finished")
    """,
}

SITE = {
    "shopsignals.py": """
        from hookwire import Signal

        order_placed = Signal(name="order_placed", doc="An order was placed.")
    """,
    "shophost.py": """
        import os

        from django.core.signals import request_finished

        import shopsignals
        from hookwire import Host

        host = Host("shop", signals=[shopsignals])


        def site_finished(sender, **kwargs):
            with open(os.environ["SHOP_LOG"], "a", encoding="utf-8") as stream:
                stream.write("site finished\\n")


        # The project's own receiver, under the uid the broken plugin uses too.
        request_finished.connect(site_finished, dispatch_uid="shop-finished")
    """,
    "shopsite/__init__.py": "",
    "shopsite/settings.py": """
        SECRET_KEY = "only-for-tests"
        DEBUG = False
        ALLOWED_HOSTS = ["testserver"]
        INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "hookwire.django"]
        ROOT_URLCONF = "shopsite.urls"
        DATABASES = {}
        USE_TZ = True
        HOOKWIRE_HOST = "shophost:host"
    """,
    "shopsite/urls.py": """
        from django.http import JsonResponse
        from django.urls import path

        import shopsignals


        def order(request, name):
            responses = shopsignals.order_placed.send(sender="web", order=name)
            return JsonResponse({"answers": len(responses)})


        urlpatterns = [path("order/<str:name>", order)]
    """,
    "manage.py": """
        import sys

        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
    """,
}


class World:
    """The venv and the Django project's folder."""

    def __init__(self, venv: Venv, site: Path) -> None:
        self.venv = venv
        self.site = site

    def run(self, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Any:
        environment = {
            "SHOP_LOG": str(tmp_path / "events.log"),
            "DJANGO_SETTINGS_MODULE": "shopsite.settings",
            "PYTHONPATH": str(self.site),
            "HOOKWIRE_CACHE_DIR": str(tmp_path / "cache"),
            **(env or {}),
        }
        return self.venv.run(*args, env=environment, cwd=self.site)

    def script(self, tmp_path: Path, code: str, env: dict[str, str] | None = None) -> Any:
        return self.run(tmp_path, str(self.venv.python), "-c", textwrap.dedent(code), env=env)

    def manage(self, tmp_path: Path, *args: str) -> Any:
        return self.run(tmp_path, str(self.venv.python), "manage.py", *args)


def events(tmp_path: Path) -> list[str]:
    log = tmp_path / "events.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, hookwire_wheel: Path) -> World:
    root = tmp_path_factory.mktemp("django-app")
    venv = create_venv(root / "venv", wheels=[hookwire_wheel])
    venv.install(
        write_project(root / "shop-audit", AUDIT), write_project(root / "shop-broken", BROKEN)
    )
    return World(venv, write_project(root / "site", SITE))


CLIENT = """
import json
import logging

records = []


class Keep(logging.Handler):
    def emit(self, record):
        records.append(record)


logging.getLogger("hookwire.loading").addHandler(Keep())

import django
from django.apps import apps
from django.test import Client

django.setup()
apps.get_app_config("hookwire").ready()  # again: loads nothing more, sends nothing more

import hookwire.django

host = hookwire.django.get_host()
client = Client()
first = client.get("/order/margherita")
registry = host.registry
report = {
    "status": first.status_code,
    "answers": first.json()["answers"],
    "states": {record.name: record.state.value for record in registry},
    "receivers": {record.name: len(record.receivers()) for record in registry},
    "warnings": [
        [r.levelname, r.plugin, r.distribution, r.phase, r.getMessage()] for r in records
    ],
}
host.unload()
client.get("/order/after-unload")
host.load(disable=["audit"])
client.get("/order/audit-disabled")
print(json.dumps(report))
"""


def test_the_app_loads_once_and_django_signal_receivers_belong_to_their_plugin(
    world: World, tmp_path: Path
) -> None:
    result = world.script(tmp_path, CLIENT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == 200
    assert report["answers"] == 1
    assert report["states"] == {"audit": "ready", "broken": "failed"}
    # audit's receivers on Django's three signals count with its three on hookwire's signals.
    assert report["receivers"] == {"audit": 6, "broken": 0}
    [warning] = report["warnings"]
    assert warning[:4] == ["WARNING", "broken", "shop-broken", "ready"]
    assert "no oven in this shop" in warning[4]
    # ready() twice: one start. The broken plugin's request_finished receiver never ran;
    # after unload() audit's Django receivers are gone with its others, and a load without
    # audit leaves them uncalled; host_stopping is sent at exit (audit's receiver was
    # unloaded by then, so nothing logs it).
    # The project's receiver stays through all of it.
    assert events(tmp_path) == [
        "started",
        "request",
        "order margherita",
        "site finished",
        "finished",
        "site finished",
        "site finished",
    ]


def test_the_host_stops_when_the_process_exits(world: World, tmp_path: Path) -> None:
    result = world.script(tmp_path, "import django; django.setup()")
    assert result.returncode == 0, result.stderr
    assert events(tmp_path) == ["started", "stopping None"]
    # Said once, by Python's last-resort handler (the project configured no root handler).
    assert result.stderr.count("plugin broken") == 1, result.stderr


def test_runserver_autoreloader_watcher_loads_nothing(world: World, tmp_path: Path) -> None:
    code = """
        import sys

        sys.argv = ["manage.py", "runserver"]
        import django

        django.setup()
        import hookwire.django

        print(hookwire.django.get_host().loaded)
    """
    watcher = world.script(tmp_path, code)
    assert watcher.returncode == 0, watcher.stderr
    assert watcher.stdout.split() == ["False"]
    assert events(tmp_path) == []
    server = world.script(tmp_path, code, env={"RUN_MAIN": "true"})
    assert server.stdout.split() == ["True"], server.stderr
    assert events(tmp_path) == ["started", "stopping None"]


@pytest.mark.slow
def test_manage_py_hookwire_lists_plugins_and_django_signals(world: World, tmp_path: Path) -> None:
    listed = world.manage(tmp_path, "hookwire", "plugins", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    plugins = {entry["name"]: entry for entry in json.loads(listed.stdout)}
    assert plugins["audit"]["receivers"] == 6
    assert plugins["broken"]["state"] == "failed"
    assert plugins["broken"]["receivers"] == 0
    # Once, while the app loaded; the command does not repeat it.
    assert listed.stderr.count("plugin broken") == 1, listed.stderr

    shown = world.manage(tmp_path, "hookwire", "signals", "--json")
    assert shown.returncode == 0, shown.stderr
    by_name = {entry["signal"]: entry["receivers"] for entry in json.loads(shown.stdout)}
    # Django's own receivers (closing database connections) are listed too, as nobody's.
    finished_receivers = by_name["django.core.signals.request_finished"]
    assert {entry["plugin"] for entry in finished_receivers} == {"audit", None}
    [finished] = [entry for entry in finished_receivers if entry["plugin"]]
    assert finished["receiver"] == "shop_audit.signals.on_finished"
    assert finished["plugin"] == "audit"
    assert finished["sender"] is None
    assert finished["weak"] is True
    started = by_name["django.core.signals.request_started"]
    assert [entry["plugin"] for entry in started if entry["plugin"]] == ["audit"]
    # A model sender given as "app_label.Model" is shown as the model it resolved to.
    [saved] = [entry for entry in by_name["django.db.models.signals.post_save"] if entry["plugin"]]
    assert saved["receiver"] == "shop_audit.signals.on_user_saved"
    assert saved["plugin"] == "audit"
    assert saved["sender"] == "django.contrib.auth.models.User"

    table = world.manage(tmp_path, "hookwire", "signals")
    assert table.returncode == 0, table.stderr
    [row] = [line for line in table.stdout.splitlines() if "on_user_saved" in line]
    assert "audit" in row
    assert "django.contrib.auth.models.User" in row

    checked = world.manage(tmp_path, "hookwire", "plugins", "check")
    assert checked.returncode == 1
    assert "no oven in this shop" in checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("", "settings.HOOKWIRE_HOST is not set"),
        (
            "HOOKWIRE_HOST = 42",
            "settings.HOOKWIRE_HOST must be 'module:attribute' or a hookwire.Host",
        ),
        (
            "HOOKWIRE_HOST = 'nowhere_at_all:host'",
            "'nowhere_at_all:host' (from settings.HOOKWIRE_HOST)",
        ),
        ("HOOKWIRE_HOST = 'shopsignals:order_placed'", "shopsignals:order_placed"),
    ],
    ids=["missing", "not a string", "no such module", "not a host"],
)
def test_a_bad_hookwire_host_setting_is_improperly_configured(
    world: World, tmp_path: Path, setting: str, said: str
) -> None:
    (tmp_path / "nohost").mkdir()
    (tmp_path / "nohost" / "nohost_settings.py").write_text(
        f'SECRET_KEY = "x"\nINSTALLED_APPS = ["hookwire.django"]\n{setting}\n', encoding="utf-8"
    )
    result = world.run(
        tmp_path,
        str(world.venv.python),
        "manage.py",
        "hookwire",
        "plugins",
        "list",
        env={
            "DJANGO_SETTINGS_MODULE": "nohost_settings",
            "PYTHONPATH": f"{tmp_path / 'nohost'}:{world.site}",
        },
    )
    assert result.returncode != 0
    # Django's way: the exception's traceback, ending in the one line that says what is wrong.
    error = result.stderr.splitlines()[-1]
    assert error.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    assert said in error, result.stderr


def test_with_hookwire_as_djangos_dispatcher_each_signal_is_listed_once(
    world: World, tmp_path: Path
) -> None:
    """Django's signals are then hookwire's: attributed as any other, never listed twice."""
    code = """
        import hookwire.django.dispatcher

        hookwire.django.dispatcher.install()
        import django
        from django.core.management import call_command

        django.setup()
        call_command("hookwire", "signals", "--json")
    """
    result = world.script(tmp_path, code)
    assert result.returncode == 0, result.stderr
    shown = [entry["signal"] for entry in json.loads(result.stdout)]
    assert shown.count("django.core.signals.request_finished") == 1
    [finished] = [
        entry["receivers"]
        for entry in json.loads(result.stdout)
        if entry["signal"] == "django.core.signals.request_finished"
    ]
    assert [(r["receiver"], r["plugin"]) for r in finished if r["plugin"]] == [
        ("shop_audit.signals.on_finished", "audit")
    ]
