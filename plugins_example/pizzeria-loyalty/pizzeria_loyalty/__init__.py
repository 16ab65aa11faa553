"""A loyalty programme for the pizzeria, offered as a bare-module plugin.

The receivers live in :mod:`pizzeria_loyalty.signals`, imported by hookwire in the ready phase.
:data:`ledger` keeps the points, stamps and the day's pizza count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["STAMPS_FOR_A_FREE_PIZZA", "Ledger", "ledger"]

# Read by hookwire for the default Plugin it makes for this module.
verbose_name = "Loyalty programme"

STAMPS_FOR_A_FREE_PIZZA = 5


@dataclass
class Ledger:
    """Points per customer, stamps per customer and pizzas done today."""

    points: dict[str, int] = field(default_factory=dict)
    stamps: dict[str, int] = field(default_factory=dict)
    pizzas_done: int = 0

    def clear(self) -> None:
        """Forget everything (a new day, or a new test)."""
        self.points.clear()
        self.stamps.clear()
        self.pizzas_done = 0


ledger = Ledger()
