"""``pizza_done`` carries an ``Order`` object, which cannot travel to a worker: a local receiver
picks the JSON fields and sends ``text_requested``, whose receiver runs on a worker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pizzeria.signals import pizza_done
from pizzeria.store import PizzaStore

from hookwire import Signal, receiver
from hookwire.remote import current_delivery, remote_receiver

__all__ = ["queue_text", "text_customer", "text_requested"]

text_requested = Signal(
    name="text_requested",
    doc="A text to a customer was asked for (JSON values only).",
    args={"customer": str, "size": str, "toppings": list},
)


@receiver(pizza_done, sender=PizzaStore)
def queue_text(sender: type, toppings: Sequence[str], size: str, order: Any, **kwargs: Any) -> None:
    """Local: hand the text over to a worker, with only what travels."""
    text_requested.send(sender=sender, customer=order.customer, size=size, toppings=list(toppings))


@remote_receiver(text_requested, sender=PizzaStore, queue="texts", max_retries=3)
def text_customer(
    sender: type, customer: str, size: str, toppings: Sequence[str], **kwargs: Any
) -> str:
    """Remote: runs on a ``hookwire worker``, at least once per pizza."""
    delivery = current_delivery()
    attempt = delivery.attempt if delivery else 0
    message = f"{customer}, your {size} pizza ({', '.join(toppings)}) is ready!"
    print(f"[texts] to {customer}: {message} (attempt {attempt})", flush=True)
    return message
