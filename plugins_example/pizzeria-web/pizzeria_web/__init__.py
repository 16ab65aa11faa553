"""A web front for the pizzeria: the host runs for as long as the application does.

``hookwire.asgi.lifespan`` loads the pizzeria's plugins and sends ``host_started`` before the
first request, and ``host_stopping`` after the last; ``HookwireMiddleware`` gives each request
its own thread for the sync receivers that ``await pizza_done.asend(...)`` runs.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from pizzeria.app import host
from pizzeria.store import PizzaStore

from hookwire.asgi import HookwireMiddleware, lifespan

__all__ = ["app", "store"]

#: The store behind the counter of the web front.
store = PizzaStore("Luigi's online")

app = FastAPI(title="Luigi's online", lifespan=lifespan(host))
app.add_middleware(HookwireMiddleware)


@app.post("/orders")
async def take_order(customer: str, topping: str, size: str = "medium") -> dict[str, Any]:
    """Take an order (``pizza_ordered``) and hand the pizza out (``pizza_done``)."""
    order = store.take_order(customer, [topping], size=size)
    await store.asend_pizza(order)
    return {"order": order.number, "customer": customer, "served": len(store.served)}


@app.get("/plugins")
async def plugins(request: Request) -> list[dict[str, Any]]:
    """The host's plugins, as ``hookwire plugins list --json`` shows them."""
    registry = request.state.hookwire.registry
    return [
        {"name": record.name, "state": record.state.value, "error": record.error}
        for record in registry
    ]
