"""The pizzeria's public signals: what plugins may listen to.

Both are declared with :func:`hookwire.signal_spec`: the signature says what every send
passes, so a receiver naming anything else is refused when it connects, a send that leaves
an argument out fails before any receiver runs, and mypy checks the senders in ``store.py``.
``hookwire signals pizzeria.app:host --markdown`` prints them as a reference page.

``pizza_ordered``
    Sent when an order is taken, ``sender`` is the class that took it (:class:`PizzaStore` at
    the counter, :class:`PhoneLine` on the phone), ``order=`` the :class:`Order`.
``pizza_done``
    Sent when a pizza is ready, ``sender`` is :class:`PizzaStore`, with ``toppings=`` (a list of
    str), ``size=`` (str) and ``order=``. Sent with ``send`` for pizzas served from the counter
    and with ``await asend`` from the oven's async path, so receivers may be sync or async.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hookwire import signal_spec

if TYPE_CHECKING:
    from .store import Order, PhoneLine, PizzaStore

__all__ = ["pizza_done", "pizza_ordered"]


@signal_spec
def pizza_ordered(sender: type[PizzaStore | PhoneLine], *, order: Order) -> None:
    """An order was taken, at the counter or on the phone."""


@signal_spec
def pizza_done(sender: type[PizzaStore], *, toppings: list[str], size: str, order: Order) -> None:
    """A pizza is ready, from the counter (`send`) or from the oven (`await asend`)."""
