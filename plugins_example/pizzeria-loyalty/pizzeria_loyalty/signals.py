"""The loyalty programme's receivers; hookwire imports this module in the ready phase."""

from __future__ import annotations

from typing import Any

from pizzeria.signals import pizza_done, pizza_ordered
from pizzeria.store import Order, PizzaStore

from hookwire import receiver

from . import STAMPS_FOR_A_FREE_PIZZA, ledger

__all__ = ["award_points", "count_pizzas", "stamp_card"]

POINTS_PER_ORDER = 10


@receiver(pizza_ordered, sender=PizzaStore)
def award_points(sender: type, order: Order, **kwargs: Any) -> int:
    """Counter orders only (``sender=PizzaStore``): the customer earns points; returns the total."""
    total = ledger.points.get(order.customer, 0) + POINTS_PER_ORDER
    ledger.points[order.customer] = total
    print(f"[loyalty] {order.customer} earns {POINTS_PER_ORDER} points (total {total})")
    return total


@receiver(pizza_done)
async def stamp_card(sender: type, order: Order, **kwargs: Any) -> int:
    """Stamp the customer's card for every pizza done; returns the stamps on the card."""
    stamps = ledger.stamps.get(order.customer, 0) + 1
    ledger.stamps[order.customer] = stamps
    print(f"[loyalty] {order.customer}'s stamp card: {stamps} of {STAMPS_FOR_A_FREE_PIZZA}")
    return stamps


@receiver(pizza_done, dispatch_uid="pizzeria-loyalty:count-pizzas")
def count_pizzas(sender: type, **kwargs: Any) -> int:
    """Count the pizzas done today; returns the count."""
    ledger.pizzas_done += 1
    print(f"[loyalty] pizzas done today: {ledger.pizzas_done}")
    return ledger.pizzas_done
