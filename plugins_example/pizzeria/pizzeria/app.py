"""The pizzeria's :class:`hookwire.Host` and its demo ``main``.

Run it with ``hookwire run pizzeria.app:host`` (or the ``pizzeria`` console script). Plugins are
the distributions that declare an entry point in the group ``pizzeria.plugins``.
"""

from __future__ import annotations

import asyncio

import pizzeria.signals
from hookwire import Host

from .store import Oven, PhoneLine, PizzaStore

__all__ = ["host", "main", "run"]


def main() -> int:
    """A short, deterministic day at the pizzeria: three orders, one served, two baked.

    Returns 0, the host's exit status.
    """
    store = PizzaStore("Luigi's")
    phone = PhoneLine(store)
    print(f"[pizzeria] {store.name} opens")
    # Plugins hear this through hookwire.signals.setting_changed.
    host.settings["oven_temperature"] = 250
    ada = store.take_order("Ada", ["mozzarella", "basil"])
    grace = store.take_order("Grace", ["mushrooms", "olives"], size="large")
    linus = phone.take_order("Linus", ["pepperoni"], size="small")
    store.send_pizza(ada)
    oven = Oven(temperature=int(host.settings["oven_temperature"]))
    asyncio.run(oven.bake_all(store, [grace, linus]))
    print(f"[pizzeria] {store.name} closes: {len(store.served)} pizzas served")
    return 0


host = Host(
    "pizzeria",
    version="1.4.0",
    signals=[pizzeria.signals],
    main=main,
    settings={"oven_temperature": 220},
)


def run() -> None:
    """The ``pizzeria`` console script: load the plugins, run :func:`main`, exit with its status."""
    raise SystemExit(host.run())
