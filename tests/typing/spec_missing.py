"""Must fail mypy --strict on each line marked E: every send method with a missing argument."""

from __future__ import annotations

from hookwire import signal_spec


class Store:
    """The sender."""


class Pizza:
    """What is sent."""


@signal_spec
def pizza_done(sender: type[Store], *, pizza: Pizza, order_id: int) -> None:
    """A pizza left the oven."""


pizza_done.send(Store, pizza=Pizza())  # E
pizza_done.send_robust(Store, pizza=Pizza())  # E


async def send_from_async_code() -> None:
    await pizza_done.asend(Store, pizza=Pizza())  # E
    await pizza_done.asend_robust(Store, pizza=Pizza())  # E
