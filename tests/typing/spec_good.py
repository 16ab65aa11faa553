"""Must type-check under mypy --strict: every send passes the spec's arguments."""

from __future__ import annotations

from typing import Any

from hookwire import Signal, signal_spec


class Store:
    """The sender."""


class Pizza:
    """What is sent."""


@signal_spec
def pizza_done(sender: type[Store], *, pizza: Pizza, order_id: int) -> None:
    """A pizza left the oven."""


@signal_spec(deprecated_args={"size": "use pizza.size"})
def resized(sender: type[Store], *, pizza: Pizza, size: int = 0) -> None:
    """A pizza changed size."""


def on_done(sender: type[Store], pizza: Pizza, **kwargs: Any) -> None:
    """A receiver, connected as to any signal."""


pizza_done.connect(on_done)
responses: list[tuple[Any, Any]] = pizza_done.send(Store, pizza=Pizza(), order_id=1)
pizza_done.send_robust(Store, pizza=Pizza(), order_id=2)
resized.send(Store, pizza=Pizza())
resized.send(Store, pizza=Pizza(), size=30)
still_a_signal: Signal = pizza_done


async def send_from_async_code() -> None:
    await pizza_done.asend(Store, pizza=Pizza(), order_id=3)
    await pizza_done.asend_robust(Store, pizza=Pizza(), order_id=4)
