"""The pizzeria's domain: pizzas, orders, the store and phone line that take them, the oven."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import count

from . import signals

__all__ = ["Order", "Oven", "PhoneLine", "Pizza", "PizzaStore"]


@dataclass(frozen=True)
class Pizza:
    """What goes on the pizza and how big it is."""

    toppings: tuple[str, ...]
    size: str = "medium"

    def describe(self) -> str:
        """A short human description, e.g. ``"large mushrooms & olives"``."""
        return f"{self.size} {' & '.join(self.toppings)}"


@dataclass(frozen=True)
class Order:
    """One pizza for one customer; ``channel`` is ``"counter"`` or ``"phone"``."""

    number: int
    customer: str
    pizza: Pizza
    channel: str = "counter"


class PizzaStore:
    """Takes orders at the counter and hands pizzas out.

    Sends :data:`~pizzeria.signals.pizza_ordered` and :data:`~pizzeria.signals.pizza_done`
    with ``sender=PizzaStore``, as in Django's documentation of custom signals.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.served: list[Order] = []
        self._numbers = count(1)

    def take_order(self, customer: str, toppings: Iterable[str], size: str = "medium") -> Order:
        """Record an order taken at the counter and send ``pizza_ordered``."""
        return self._record(customer, toppings, size, channel="counter", sender=type(self))

    def _record(
        self, customer: str, toppings: Iterable[str], size: str, *, channel: str, sender: type
    ) -> Order:
        order = Order(next(self._numbers), customer, Pizza(tuple(toppings), size), channel)
        print(
            f"[pizzeria] order #{order.number} ({channel}): "
            f"{customer} wants a {order.pizza.describe()} pizza"
        )
        signals.pizza_ordered.send(sender=sender, order=order)
        return order

    def send_pizza(self, order: Order) -> None:
        """Hand a pizza out from the counter: ``pizza_done`` is sent synchronously."""
        self.served.append(order)
        print(f"[pizzeria] pizza #{order.number} is ready at the counter")
        signals.pizza_done.send(
            sender=self.__class__,
            toppings=list(order.pizza.toppings),
            size=order.pizza.size,
            order=order,
        )

    async def asend_pizza(self, order: Order) -> None:
        """Hand a pizza out from the oven: ``pizza_done`` is sent with ``await asend``."""
        self.served.append(order)
        print(f"[pizzeria] pizza #{order.number} comes out of the oven")
        await signals.pizza_done.asend(
            sender=self.__class__,
            toppings=list(order.pizza.toppings),
            size=order.pizza.size,
            order=order,
        )


class PhoneLine:
    """Takes orders by phone for a store; sends ``pizza_ordered`` with ``sender=PhoneLine``.

    Receivers restricted to ``sender=PizzaStore`` therefore do not hear phone orders.
    """

    def __init__(self, store: PizzaStore) -> None:
        self.store = store

    def take_order(self, customer: str, toppings: Iterable[str], size: str = "medium") -> Order:
        """Record an order taken by phone and send ``pizza_ordered``."""
        return self.store._record(customer, toppings, size, channel="phone", sender=type(self))


class Oven:
    """Bakes orders one after the other on an event loop, then hands them out asynchronously."""

    def __init__(self, temperature: int) -> None:
        self.temperature = temperature

    async def bake(self, store: PizzaStore, order: Order) -> None:
        """Bake one order and hand it out with :meth:`PizzaStore.asend_pizza`."""
        print(f"[pizzeria] baking pizza #{order.number} at {self.temperature} degrees")
        # A real oven would wait here; yielding once keeps the demo fast and still async.
        await asyncio.sleep(0)
        await store.asend_pizza(order)

    async def bake_all(self, store: PizzaStore, orders: Sequence[Order]) -> None:
        """Bake ``orders`` in turn, so what the demo prints is always in the same order."""
        for order in orders:
            await self.bake(store, order)
