"""A venv for the CLI tests: hookwire's wheel, an application with several hosts, and plugins.

Everything is really installed (``*.dist-info`` folders plus modules in the venv's
site-packages) and the ``hookwire`` console script of the venv is what the tests run.

hookwire's dependencies come from a private copy made once per test run, not from the
environment running the tests: discovery reads every distribution on the search path, so a
package being installed there meanwhile (a half-written ``entry_points.txt`` is a malformed
one) would otherwise turn up as a discovery problem in the middle of a test.

Hosts (all in ``clihost.app``):

``host``      "shop", group ``shop.plugins``: good, needy, and four broken plugins
``calm``      "calm", group ``calm.plugins``: good and needy only (everything loads)
``evil``      "evil", group ``evil.plugins``: a plugin whose metadata holds ANSI escapes and markup
``blocker``   "blocker": main blocks; the ``recorder`` plugin writes $CLIHOST_STOPFILE on stop
``ablocker``  the same with an async main
``crash``     "calm" whose main raises ``ValueError``
``lonely``    "lonely": no plugin is installed for it
``fragile``   "fragile": the ``grumpy`` plugin prints when imported; its host_stopping
              receiver raises
``mixed``     "mixed": the ``oven`` plugin connects an async receiver of ``pizza_baked`` before
              a sync one (sync receivers are called first); main sends ``pizza_baked``
``make_host`` a factory returning a "calm" host

``clihost.logged:host`` is ``host`` in a module that configures logging (``basicConfig``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest
from venvtools import ROOT, Venv, create_venv

OUTER_ENVIRONMENT_PTH = "_outer_environment.pth"

HOSTILE_DISTRIBUTION = "evil\x1b[31m[bold]dist\u2615"
HOSTILE_VERSION = "6.6\x1b[0m"
HOSTILE_PLUGIN = "red\x1b[2Jname"
HOSTILE_ERROR = "\x1b[31m[red]kaboom[/red]\x07"

CLIHOST = {
    "clihost/__init__.py": "",
    "clihost/signals.py": """
        from hookwire import Signal

        order_placed = Signal(doc="An order was placed.")
        pizza_baked = Signal()
    """,
    "clihost/app.py": """
        import asyncio
        import os
        import time

        from hookwire import Host
        from clihost import signals


        def main():
            signals.order_placed.send(sender="counter", order=42)
            print("main ran")
            return int(os.environ.get("CLIHOST_EXIT", "0"))


        def blocking_main():
            print("blocking", flush=True)
            while True:
                time.sleep(0.05)


        async def async_blocking_main():
            print("blocking", flush=True)
            while True:
                await asyncio.sleep(0.05)


        def crashing_main():
            raise ValueError("oven on fire")


        def baking_main():
            signals.pizza_baked.send(sender="oven")


        host = Host("shop", version="2.0", signals=[signals], main=main)
        calm = Host("calm", version="2.0", signals=[signals], main=main)
        evil = Host("evil", main=main)
        blocker = Host("blocker", main=blocking_main)
        ablocker = Host("blocker", main=async_blocking_main)
        crash = Host("calm", main=crashing_main)
        lonely = Host("lonely", main=main)
        fragile = Host("fragile", main=main)
        mixed = Host("mixed", signals=[signals], main=baking_main)
        not_a_host = 42


        def make_host():
            return Host("calm", version="2.0", signals=[signals], main=main)


        def needs_arguments(name):
            return Host(name)
    """,
    "clihost/broken.py": """
        raise RuntimeError("database not configured")
    """,
    "clihost/depbroken.py": """
        import clihost_missing_dependency  # noqa: F401
    """,
    "clihost/logged.py": """
        # An application that configures logging itself, as every web framework does.
        import logging
        import sys

        logging.basicConfig(stream=sys.stderr, format="LOG %(levelname)s %(name)s %(message)s")

        from clihost.app import host  # noqa: E402
    """,
}

GOOD = {
    "shop_good/__init__.py": """
        from hookwire import Plugin


        class GoodPlugin(Plugin):
            verbose_name = "Good"
    """,
    "shop_good/signals.py": """
        from hookwire import receiver
        from hookwire.signals import host_started

        from clihost.signals import order_placed


        @receiver(order_placed)
        def announce_order(sender, order, **kwargs):
            print(f"good: order {order}")


        @receiver(host_started)
        def greet(sender, **kwargs):
            pass
    """,
}

NEEDY = {
    "shop_needy.py": """
        from hookwire import Plugin

        from clihost.signals import order_placed


        async def count_order(sender, **kwargs):
            pass


        class NeedyPlugin(Plugin):
            requires = ("good",)
            signals_module = None

            def ready(self):
                order_placed.connect(count_order, sender="counter", dispatch_uid="needy-order")
    """,
}

BROKEN = {
    "shop_broken_import.py": "import shop_missing_oven  # noqa: F401\n",
    "shop_broken_syntax.py": "def oops(:\n    pass\n",
    "shop_ready_fails.py": """
        from hookwire import Plugin

        from clihost.signals import pizza_baked


        def on_baked(sender, **kwargs):
            pass


        class ReadyFails(Plugin):
            signals_module = None

            def ready(self):
                pizza_baked.connect(on_baked)
                raise RuntimeError("ready exploded")
    """,
    "shop_orphan.py": """
        from hookwire import Plugin


        class Orphan(Plugin):
            requires = ("absent",)
            signals_module = None
    """,
}

RECORDER = {
    "blocker_recorder.py": """
        import os

        from hookwire.signals import host_started, host_stopping


        def on_started(sender, **kwargs):
            with open(os.environ["CLIHOST_STOPFILE"], "a", encoding="utf-8") as file:
                file.write("started\\n")


        def on_stopping(sender, exc=None, **kwargs):
            with open(os.environ["CLIHOST_STOPFILE"], "a", encoding="utf-8") as file:
                file.write(f"stopping exc={type(exc).__name__}\\n")


        host_started.connect(on_started)
        host_stopping.connect(on_stopping)
    """,
}

GRUMPY = {
    "grumpy_plugin.py": """
        from hookwire.signals import host_stopping

        print("grumpy: imported")


        def refuse_to_stop(sender, **kwargs):
            raise RuntimeError("cannot stop now")


        host_stopping.connect(refuse_to_stop)
    """,
}

OVEN = {
    "mixed_oven.py": """
        from hookwire import receiver

        from clihost.signals import pizza_baked


        @receiver(pizza_baked)
        async def cool_down(sender, **kwargs):
            pass


        @receiver(pizza_baked)
        def slice_pizza(sender, **kwargs):
            pass
    """,
}

EVIL = {
    "evil_plugin.py": f"raise ImportError({HOSTILE_ERROR!r})\n",
}


def install_world(venv: Venv) -> None:
    """Install the application and every plugin distribution into ``venv``."""
    venv.add_dist_info("clihost", "2.0", modules=CLIHOST)
    venv.add_dist_info(
        "shop-good",
        "1.2.0",
        entry_points={
            "shop.plugins": {"good": "shop_good:GoodPlugin"},
            "calm.plugins": {"good": "shop_good:GoodPlugin"},
        },
        modules=GOOD,
    )
    venv.add_dist_info(
        "shop-needy",
        "0.1",
        entry_points={
            "shop.plugins": {"needy": "shop_needy:NeedyPlugin"},
            "calm.plugins": {"needy": "shop_needy:NeedyPlugin"},
        },
        modules=NEEDY,
    )
    venv.add_dist_info(
        "shop-broken-import",
        "0.0.1",
        entry_points={"shop.plugins": {"broken_import": "shop_broken_import"}},
        modules={"shop_broken_import.py": BROKEN["shop_broken_import.py"]},
    )
    venv.add_dist_info(
        "shop-broken-syntax",
        "0.0.2",
        entry_points={"shop.plugins": {"broken_syntax": "shop_broken_syntax"}},
        modules={"shop_broken_syntax.py": BROKEN["shop_broken_syntax.py"]},
    )
    venv.add_dist_info(
        "shop-ready-fails",
        "0.0.3",
        entry_points={"shop.plugins": {"ready_fails": "shop_ready_fails:ReadyFails"}},
        modules={"shop_ready_fails.py": BROKEN["shop_ready_fails.py"]},
    )
    venv.add_dist_info(
        "shop-orphan",
        "0.0.4",
        entry_points={"shop.plugins": {"orphan": "shop_orphan:Orphan"}},
        modules={"shop_orphan.py": BROKEN["shop_orphan.py"]},
    )
    venv.add_dist_info(
        "blocker-recorder",
        "1.0",
        entry_points={"blocker.plugins": {"recorder": "blocker_recorder"}},
        modules=RECORDER,
    )
    venv.add_dist_info(
        "fragile-grumpy",
        "1.0",
        entry_points={"fragile.plugins": {"grumpy": "grumpy_plugin"}},
        modules=GRUMPY,
    )
    venv.add_dist_info(
        "mixed-oven",
        "1.0",
        entry_points={"mixed.plugins": {"oven": "mixed_oven"}},
        modules=OVEN,
    )
    # Hostile metadata: the folder has a plain name, the METADATA and entry point do not.
    dist_info = venv.add_dist_info(
        "evil-dist",
        "6.6",
        entry_points_text=f"[evil.plugins]\n{HOSTILE_PLUGIN} = evil_plugin\n",
        modules=EVIL,
    )
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {HOSTILE_DISTRIBUTION}\nVersion: {HOSTILE_VERSION}\n",
        encoding="utf-8",
    )


def copy_runtime_dependencies(target: Path) -> Path:
    """Copy the installed distributions hookwire needs at run time (recursively) into ``target``.

    Only files inside site-packages are copied (scripts and data outside it are not needed).
    """
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement

    target.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    # hookwire's own requirements, as the checkout declares them (it need not be installed).
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pending = [Requirement(text) for text in project["dependencies"]]
    while pending:
        requirement = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        try:
            dist = distribution(requirement.name)
        except PackageNotFoundError:
            continue  # an optional dependency that is not installed here
        key = str(dist.metadata["Name"]).lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        for file in dist.files or ():
            if file.parts[:1] == ("..",):
                continue
            source = Path(str(dist.locate_file(file)))
            if source.is_file():
                destination = target / file
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination)
                if source.suffix == ".py":
                    _copy_bytecode(source, destination)
        pending.extend(Requirement(text) for text in dist.requires or ())
    return target


def _copy_bytecode(source: Path, destination: Path) -> None:
    """Copy the compiled bytecode of ``source`` beside ``destination`` when it exists.

    Installers need not list bytecode in ``RECORD`` (uv does not), and the processes tests
    start never write it, so without this every one would compile typer, rich, ... again.
    The copy stays valid: ``copy2`` keeps the source's modification time, which it records.
    """
    compiled = Path(importlib.util.cache_from_source(str(source)))
    if compiled.is_file():
        target = Path(importlib.util.cache_from_source(str(destination)))
        target.parent.mkdir(exist_ok=True)
        shutil.copy2(compiled, target)


def isolate(venv: Venv, dependencies: Path) -> Venv:
    """Make ``venv`` see ``dependencies`` instead of the whole environment running the tests."""
    (venv.site_packages / OUTER_ENVIRONMENT_PTH).write_text(f"{dependencies}\n", encoding="utf-8")
    return venv


_dependencies: dict[str, Path] = {}


def private_dependencies(factory: pytest.TempPathFactory) -> Path:
    """One copy of hookwire's run-time dependencies per test run (see the module docstring)."""
    path = _dependencies.get("path")
    if path is None:
        path = copy_runtime_dependencies(factory.mktemp("cli-dependencies"))
        _dependencies["path"] = path
    return path


def isolated_venv(factory: pytest.TempPathFactory, wheel: Path, path: Path) -> Venv:
    """A venv with hookwire's wheel that sees only the private copy of its dependencies."""
    venv = create_venv(path, wheels=[wheel])
    return isolate(venv, private_dependencies(factory))


class World:
    """The shared venv and a way to run its ``hookwire`` from a neutral directory."""

    def __init__(self, venv: Venv, home: Path) -> None:
        self.venv = venv
        self.home = home  # an empty working directory without pyproject.toml
        self.cache = home.parent / "cache"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {"HOOKWIRE_CACHE_DIR": str(self.cache), "COLUMNS": "200"}
        env.update(extra or {})
        return env

    def hookwire(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """Run the venv's ``hookwire`` console script with ``args``."""
        return self.venv.run(
            "hookwire", *args, env=self.env(env), cwd=cwd or self.home, timeout=timeout
        )

    def command(self, *args: str) -> list[str]:
        """The argv that runs the venv's ``hookwire`` with ``args`` (for ``Popen``)."""
        return [str(self.venv.bin / "hookwire"), *args]

    def popen_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        from venvtools import clean_env

        return clean_env(self.env(extra))


_worlds: dict[Path, World] = {}


def shared_world(factory: pytest.TempPathFactory, wheel: Path) -> World:
    """One world per test run (built on first use), shared by the CLI test modules.

    Tests must not change it; a test that needs a different installation makes its own venv.
    """
    world = _worlds.get(wheel)
    if world is None:
        root = factory.mktemp("cli-world")
        venv = isolated_venv(factory, wheel, root / "venv")
        install_world(venv)
        home = root / "home"
        home.mkdir()
        world = World(venv, home)
        _worlds[wheel] = world
    os.makedirs(world.cache, exist_ok=True)
    return world
