"""The texts plugin: its remote receiver is marked as such and can be called directly."""

from __future__ import annotations

import pytest

pytest.importorskip("celery", reason="pizzeria-texts needs the hookwire[celery] extra")


def test_the_remote_receiver_is_marked_and_takes_only_json(hookwire_isolation: object) -> None:
    from pizzeria.store import PizzaStore
    from pizzeria_texts.signals import text_customer, text_requested

    (info,) = text_requested.describe_receivers()
    assert info.remote == {"engine": "celery", "queue": "texts"}
    message = text_customer(
        sender=PizzaStore, customer="Ada", size="small", toppings=["basil"], signal=text_requested
    )
    assert message == "Ada, your small pizza (basil) is ready!"
