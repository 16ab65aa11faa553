"""Start-up benchmark: a whole process, from start to the return of one send, with N plugins.

N installed plugins (10, 100, 400), each its own distribution whose ``signals`` module connects
3 receivers with ``@receiver(..., dispatch_uid=...)``, in one fresh venv per N (see
``_sites.py``). Three ways to get from a bare interpreter to one delivered signal, measured in the
same run, interleaved round by round, the minimum kept:

- **hookwire**: ``Host(...).load()`` then one ``send`` of the signal every plugin listens to;
- **pluggy**: ``PluginManager.load_setuptools_entrypoints()`` of the same distributions (each
  also offers a ``hooks`` module with 3 hook implementations) then one hook call;
- **bare imports**: ``import hookwire`` and each plugin's ``signals`` module by name: the floor,
  what the plugins' own code costs;
- **hookwire, lazy**: the same N plugins in another venv, each declaring in its metadata the
  host signals it connects to (the ``benchlazy.plugins.listens`` entry points); 10 of them
  listen to the signal sent, the others to the two other signals. ``Host(...).load()`` imports
  none of them; the send activates the 10 and reaches their receivers. ``lazy N / lazy 10``
  compares the row with the one of 10 installed (the goal: at most 1.5x at 400).

- **CLI on the same host**: ``hookwire plugins list benchhost.app:host --json`` beside
  ``hookwire signals benchhost.app:host`` in the eager venv, each loading the N plugins (the
  listing is checked to show all N ready). ``list / signals`` divides the first by the second:
  listing costs each plugin's own receivers, not all of them (the goal: at most 1.2x at 400).

Every child prints how many receivers the send reached, checked against N. Times are CPU time
(``--clock cpu``, the default) or wall-clock time (``--clock wall``), shown above a bare
interpreter (``python -c pass``). ``hookwire's own`` is hookwire minus the bare imports, per
plugin: what loading adds to importing the plugins' code.

Run: ``python benchmarks/bench_startup.py [--quick] [--repeat N] [--json [PATH]]``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import _benchutil as bu
import _sites

SIZES = (10, 100, 400)
QUICK_SIZES = (3,)
HOST = "benchhost"
PLUGIN_GROUP = f"{HOST}.plugins"
PLUGGY_GROUP = f"{HOST}_pluggy"

HOST_SIGNALS = '''"""The signals of the benchmark's host."""

from hookwire import Signal

order_placed = Signal(name="order_placed")
pizza_done = Signal(name="pizza_done")
order_cancelled = Signal(name="order_cancelled")
'''

HOST_APP = '''"""The benchmark's host, for the command line."""

from hookwire import Host

from benchhost import signals

host = Host("benchhost", signals=[signals])
'''

HOST_HOOKSPECS = '''"""The hook specifications of the benchmark's host, for pluggy."""

import pluggy

hookspec = pluggy.HookspecMarker("benchhost")


@hookspec
def order_placed(order):
    """An order was placed."""


@hookspec
def pizza_done(order):
    """A pizza is ready."""


@hookspec
def order_cancelled(order):
    """An order was cancelled."""
'''

PLUGIN_SIGNALS = '''"""Receivers of the generated plugin {name}."""

from hookwire import receiver

from benchhost.signals import order_cancelled, order_placed, pizza_done


@receiver(order_placed, dispatch_uid="{name}.placed")
def on_order_placed(sender, **kwargs):
    return "{name}"


@receiver(pizza_done, dispatch_uid="{name}.done")
def on_pizza_done(sender, **kwargs):
    return "{name}"


@receiver(order_cancelled, dispatch_uid="{name}.cancelled")
def on_order_cancelled(sender, **kwargs):
    return "{name}"
'''

PLUGIN_HOOKS = '''"""Hook implementations of the generated plugin {name}, for pluggy."""

import pluggy

hookimpl = pluggy.HookimplMarker("benchhost")


@hookimpl
def order_placed(order):
    return "{name}"


@hookimpl
def pizza_done(order):
    return "{name}"


@hookimpl
def order_cancelled(order):
    return "{name}"
'''

HOOKWIRE_CODE = f"""
from hookwire import Host
import {HOST}.signals as signals
Host({HOST!r}, signals=[signals]).load()
print(len(signals.pizza_done.send(None, order=1)))
"""

PLUGGY_CODE = f"""
import pluggy
import {HOST}.hookspecs as hookspecs
manager = pluggy.PluginManager({HOST!r})
manager.add_hookspecs(hookspecs)
manager.load_setuptools_entrypoints({PLUGGY_GROUP!r})
print(len(manager.hook.pizza_done(order=1)))
"""

LAZY_HOST = "benchlazy"
LAZY_GROUP = f"{LAZY_HOST}.plugins"
#: How many of the lazy plugins listen to the signal sent.
LAZY_LISTENERS = 10

LAZY_CODE = f"""
from hookwire import Host
import {HOST}.signals as signals
Host({LAZY_HOST!r}, signals=[signals]).load()
print(len(signals.pizza_done.send(None, order=1)))
"""

LAZY_PLUGIN_SIGNALS = '''"""Receivers of the generated lazy plugin {name}."""

from hookwire import receiver

from benchhost.signals import order_cancelled, order_placed


@receiver(order_placed, dispatch_uid="{name}.placed")
def on_order_placed(sender, **kwargs):
    return "{name}"


@receiver(order_cancelled, dispatch_uid="{name}.cancelled")
def on_order_cancelled(sender, **kwargs):
    return "{name}"
'''

LAZY_LISTENER_SIGNALS = (
    LAZY_PLUGIN_SIGNALS.replace("order_placed\n", "order_placed, pizza_done\n")
    + """

@receiver(pizza_done, dispatch_uid="{name}.done")
def on_pizza_done(sender, **kwargs):
    return "{name}"
"""
)

#: The two commands compared on the eager host, by key.
CLI_COMMANDS = {
    "list_json": f"hookwire plugins list {HOST}.app:host --json",
    "signals": f"hookwire signals {HOST}.app:host",
}

TOOLS = {
    "hookwire": "hookwire Host.load() + send",
    "lazy": f"hookwire, lazy ({LAZY_LISTENERS} listen to the signal sent)",
    "pluggy": "pluggy load_setuptools_entrypoints + hook call",
    "imports": "importing the same signals modules by name",
}


def plugin_module(index: int) -> str:
    return f"benchstart_p{index:04d}"


def imports_code(count: int) -> str:
    """Import hookwire and every plugin's signals module by name; print how many receivers
    the signal every plugin listens to has, as the other children print what they reached."""
    lines = ["import hookwire", f"import {HOST}.signals as signals"]
    lines += [f"import {plugin_module(index)}.signals" for index in range(count)]
    lines.append("print(len(signals.pizza_done.send(None, order=1)))")
    return "\n".join(lines) + "\n"


def install(venv: _sites.BenchVenv, count: int) -> None:
    """The host package and ``count`` plugin distributions, in the venv's site-packages."""
    _sites.write_distribution(
        venv.site_packages,
        HOST,
        "1.0.0",
        modules={
            f"{HOST}/__init__.py": '"""The benchmark\'s host."""\n',
            f"{HOST}/signals.py": HOST_SIGNALS,
            f"{HOST}/hookspecs.py": HOST_HOOKSPECS,
            # For the command line: hookwire plugins list benchhost.app:host
            f"{HOST}/app.py": HOST_APP,
        },
    )
    for index in range(count):
        module = plugin_module(index)
        _sites.write_distribution(
            venv.site_packages,
            module.replace("_", "-"),
            "1.0.0",
            entry_points={
                PLUGIN_GROUP: {module: module},
                PLUGGY_GROUP: {module: f"{module}.hooks"},
            },
            modules={
                f"{module}/__init__.py": f'"""Generated plugin {module}."""\n',
                f"{module}/signals.py": PLUGIN_SIGNALS.format(name=module),
                f"{module}/hooks.py": PLUGIN_HOOKS.format(name=module),
            },
        )


def install_lazy(venv: _sites.BenchVenv, count: int) -> None:
    """The host package and ``count`` lazy plugin distributions: the first
    :data:`LAZY_LISTENERS` declare and connect the three signals, the others two of them."""
    _sites.write_distribution(
        venv.site_packages,
        HOST,
        "1.0.0",
        modules={
            f"{HOST}/__init__.py": '"""The benchmark\'s host."""\n',
            f"{HOST}/signals.py": HOST_SIGNALS,
        },
    )
    for index in range(count):
        module = f"benchlazy_p{index:04d}"
        listener = index < LAZY_LISTENERS
        signals = ["order_placed", "order_cancelled"] + (["pizza_done"] if listener else [])
        template = LAZY_LISTENER_SIGNALS if listener else LAZY_PLUGIN_SIGNALS
        _sites.write_distribution(
            venv.site_packages,
            module.replace("_", "-"),
            "1.0.0",
            entry_points={
                LAZY_GROUP: {module: module},
                f"{LAZY_GROUP}.listens": {
                    f"{module}.{signal}": f"{HOST}.signals:{signal}" for signal in signals
                },
            },
            modules={
                f"{module}/__init__.py": f'"""Generated lazy plugin {module}."""\n',
                f"{module}/signals.py": template.format(name=module),
            },
        )


def measure_size(count: int, options: bu.Options, root: Path) -> dict[str, Any]:
    venv = _sites.create_bench_venv(root / f"n{count}", ["hookwire", "pluggy"])
    install(venv, count)
    lazy_venv = _sites.create_bench_venv(root / f"lazy{count}", ["hookwire"])
    install_lazy(lazy_venv, count)
    env = venv.environment(root / f"n{count}" / "cache")
    lazy_env = lazy_venv.environment(root / f"lazy{count}" / "cache")
    python = str(venv.python)
    commands = {
        "bare": [python, "-c", "pass"],
        "hookwire": [python, "-c", HOOKWIRE_CODE],
        "lazy": [str(lazy_venv.python), "-c", LAZY_CODE],
        "pluggy": [python, "-c", PLUGGY_CODE],
        "imports": [python, "-c", imports_code(count)],
    }
    for key, line in CLI_COMMANDS.items():
        commands[key] = [python, "-m", "hookwire", *line.split()[1:]]
    envs = {"lazy": lazy_env}
    expected = {"lazy": min(count, LAZY_LISTENERS)}
    errors: dict[str, str] = {}
    for key, argv in commands.items():  # every child must reach every plugin it should
        if key == "bare":
            continue
        _, output = bu.run_timed(argv, clock=options.clock, env=envs.get(key, env), cwd=str(root))
        if key in CLI_COMMANDS:
            error = cli_error(key, output, count)
            if error is not None:
                errors[key] = error
            continue
        wanted = expected.get(key, count)
        if output.strip() != str(wanted):
            errors[key] = f"reached {output.strip()!r} receivers, expected {wanted}"
    best = bu.min_process_times(
        commands, options.repeat, clock=options.clock, env=env, cwd=str(root), envs=envs
    )
    bare_ms = best["bare"] * 1e3
    above = {key: best[key] * 1e3 - bare_ms for key in TOOLS}
    cli = {key: best[key] * 1e3 - bare_ms for key in CLI_COMMANDS}
    own = (above["hookwire"] - above["imports"]) / count
    return {
        "plugins": count,
        "bare_ms": bare_ms,
        "above_bare_ms": above,
        "hookwire_own_per_plugin_ms": own,
        "hookwire_vs_pluggy": bu.ratio(above["hookwire"], above["pluggy"]),
        "cli_above_bare_ms": cli,
        "list_vs_signals": bu.ratio(cli["list_json"], cli["signals"]),
        "errors": errors,
    }


def cli_error(key: str, output: str, count: int) -> str | None:
    """What is wrong with a CLI command's output on the host of ``count`` plugins, or
    ``None``: the listing must show them all ready, the signals listing every receiver of the
    signal all plugins listen to."""
    if key == "list_json":
        try:
            states = [plugin["state"] for plugin in json.loads(output)]
        except (ValueError, TypeError, KeyError) as error:
            return f"plugins list --json printed no listing ({type(error).__name__})"
        if states != ["ready"] * count:
            return f"plugins list --json shows {len(states)} plugins, not {count} ready"
        return None
    wanted = f"{HOST}.signals.pizza_done ({count} receivers)"  # sizes are never 1
    return None if wanted in output else f"signals does not show {wanted!r}"


def add_lazy_ratios(measured: list[dict[str, Any]]) -> None:
    """Each size's lazy figure against the lazy figure with :data:`LAZY_LISTENERS` installed
    (``None`` when that size was not measured)."""
    base = next((size for size in measured if size["plugins"] == LAZY_LISTENERS), None)
    for size in measured:
        size["lazy_vs_10"] = (
            None
            if base is None
            else bu.ratio(size["above_bare_ms"]["lazy"], base["above_bare_ms"]["lazy"])
        )


def render(document: dict[str, Any]) -> str:
    machine = document["machine"]
    lines = [
        f"hookwire start-up benchmark  {machine['date']}  Python {machine['python']}  "
        f"{machine['cpus']} CPUs ({machine['cpu_model']})",
        f"whole process to the return of one send, ms above a bare interpreter; minimum of "
        f"{document['repeat']} interleaved runs, {document['clock_description']}"
        + ("  [--quick: figures are meaningless]" if document["quick"] else ""),
        "",
    ]
    table = bu.Table(
        [
            "N installed",
            *TOOLS.values(),
            "hookwire/pluggy",
            "hookwire's own, ms a plugin",
            f"lazy N / lazy {LAZY_LISTENERS}",
        ]
    )
    for size in document["sizes"]:
        above = size["above_bare_ms"]
        table.add(
            [
                str(size["plugins"]),
                *(f"{above[key]:.1f} ms" for key in TOOLS),
                bu.format_ratio(size["hookwire_vs_pluggy"]),
                f"{size['hookwire_own_per_plugin_ms']:.3f}",
                bu.format_ratio(size["lazy_vs_10"]),
            ]
        )
    lines.append(table.render())
    cli_table = bu.Table(
        ["N installed", *CLI_COMMANDS.values(), "list / signals"],
    )
    for size in document["sizes"]:
        cli = size["cli_above_bare_ms"]
        cli_table.add(
            [
                str(size["plugins"]),
                *(f"{cli[key]:.1f} ms" for key in CLI_COMMANDS),
                bu.format_ratio(size["list_vs_signals"]),
            ]
        )
    lines += ["", "the CLI on the eager host, ms above a bare interpreter:", cli_table.render()]
    errors = [
        (size["plugins"], key, e) for size in document["sizes"] for key, e in size["errors"].items()
    ]
    if errors:
        lines += ["", "wrong results:"]
        lines += [f"  N={count} {key}: {error}" for count, key, error in errors]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    options = bu.parse_options(__doc__.splitlines()[0], default_repeat=15, argv=argv)
    sizes = QUICK_SIZES if options.quick else SIZES
    with tempfile.TemporaryDirectory(prefix="startup-", dir=bu.scratch_root()) as tmp:
        measured = [measure_size(count, options, Path(tmp)) for count in sizes]
    add_lazy_ratios(measured)
    document: dict[str, Any] = {
        "benchmark": "startup",
        "unit": "ms",
        "quick": options.quick,
        "repeat": options.repeat,
        "clock": options.clock,
        "clock_description": options.clock_description,
        "machine": bu.machine_description(),
        "versions": {name: bu.package_version(name) for name in ("hookwire", "pluggy")},
        "tools": TOOLS,
        "cli_commands": CLI_COMMANDS,
        "sizes": measured,
    }
    bu.emit_results(options, document, render(document))
    return 1 if any(size["errors"] for size in measured) else 0


if __name__ == "__main__":
    os.environ.pop("HOOKWIRE_HOST", None)
    sys.exit(main())
