"""The pizzeria's public signals: what plugins may listen to.

``pizza_ordered``
    Sent when an order is taken, ``sender`` is the class that took it (:class:`PizzaStore` at
    the counter, :class:`PhoneLine` on the phone), ``order=`` the :class:`Order`.
``pizza_done``
    Sent when a pizza is ready, ``sender`` is :class:`PizzaStore`, with ``toppings=`` (a list of
    str), ``size=`` (str) and ``order=``. Sent with ``send`` for pizzas served from the counter
    and with ``await asend`` from the oven's async path, so receivers may be sync or async.
"""

from __future__ import annotations

from hookwire import Signal

__all__ = ["pizza_done", "pizza_ordered"]

pizza_ordered = Signal(name="pizza_ordered", doc="An order was taken; order=.")
pizza_done = Signal(name="pizza_done", doc="A pizza is ready; toppings=, size=, order=.")
