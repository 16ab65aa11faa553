"""Texts customers when their pizza is done: a :class:`hookwire.Plugin` subclass.

``ready()`` connects a bound method of an object it creates, the case Django's documentation
warns about: each run makes a new object, and hookwire still keeps one registration.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pizzeria.signals import pizza_done

from hookwire import Plugin

__all__ = ["SmsGateway", "SmsPlugin"]


class SmsGateway:
    """Sends (here: prints) a text message for every pizza that is done."""

    def __init__(self, sender_id: str) -> None:
        self.sender_id = sender_id
        self.sent: list[str] = []

    def on_pizza_done(self, sender: type, toppings: Sequence[str], size: str, **kwargs: Any) -> str:
        """Receiver of ``pizza_done``: text the customer; returns the message sent."""
        order = kwargs.get("order")
        customer = getattr(order, "customer", "customer")
        message = f"{customer}, your {size} pizza ({', '.join(toppings)}) is ready!"
        self.sent.append(message)
        print(f"[sms] from {self.sender_id} to {customer}: {message}")
        return message


class SmsPlugin(Plugin):
    """The ``sms`` plugin: needs the ``loyalty`` plugin and pizzeria 1.4 or later (below 2)."""

    name = "sms"
    verbose_name = "SMS notifications"
    requires = ("loyalty",)
    requires_host = ">=1.4,<2"
    signals_module = None

    gateway: SmsGateway | None = None

    def ready(self) -> None:
        """Create the gateway and connect its ``on_pizza_done`` to ``pizza_done``.

        The plugin keeps the gateway alive: the connection is weak, as Django's are.
        """
        self.gateway = SmsGateway(sender_id="PIZZERIA")
        pizza_done.connect(self.gateway.on_pizza_done)
