"""Concurrent requests whose sync receivers block: HookwireMiddleware against asyncio.to_thread.

A FastAPI app answers N requests, C at a time, each sending a signal with ``await asend()``
whose one sync receiver sleeps 10 ms (a blocking client call, say). Requests go through
httpx's ASGI transport, in one process: what is measured is the app, not a network. Rows:

- ``middleware``: ``HookwireMiddleware`` gives each request its own thread (the goal: at most
  1.5x the ``to_thread`` row);
- ``no middleware``: asgiref's default, one thread for the whole process, so requests queue;
- ``to_thread``: the same receiver called through ``asyncio.to_thread`` (the default executor).

Wall-clock time, the minimum over the repeats (the work is sleeping, not CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import _benchutil as bu


def make_app(variant: str, receiver_ms: float) -> Any:
    from fastapi import FastAPI

    from hookwire import Signal
    from hookwire.asgi import HookwireMiddleware

    order_placed = Signal(name="order_placed")

    def blocking_receiver(sender: object, **kwargs: Any) -> None:
        time.sleep(receiver_ms / 1000)

    order_placed.connect(blocking_receiver, weak=False)
    app = FastAPI()
    if variant == "middleware":
        app.add_middleware(HookwireMiddleware)

    @app.get("/order")
    async def order() -> dict[str, bool]:
        if variant == "to_thread":
            await asyncio.to_thread(blocking_receiver, "web")
        else:
            await order_placed.asend(sender="web")
        return {"ok": True}

    return app


async def measure(app: Any, requests: int, concurrency: int) -> float:
    import httpx

    limit = asyncio.Semaphore(concurrency)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def one() -> None:
            async with limit:
                response = await client.get("/order")
                response.raise_for_status()

        await one()  # warm-up: the first request builds FastAPI's routing caches
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(requests)))
        return time.perf_counter() - started


VARIANTS = ("middleware", "no middleware", "to_thread")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few requests: a smoke run")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--json", nargs="?", const="-", metavar="PATH")
    args = parser.parse_args(argv)
    requests, concurrency, receiver_ms = (20, 5, 1.0) if args.quick else (200, 20, 10.0)
    repeat = args.repeat or (1 if args.quick else 5)

    best: dict[str, float] = {}
    for _ in range(repeat):
        for variant in VARIANTS:  # interleaved: a busy moment lands on every row alike
            app = make_app(variant.replace("no middleware", "plain"), receiver_ms)
            seconds = asyncio.run(measure(app, requests, concurrency))
            best[variant] = min(seconds, best.get(variant, seconds))
    ratio = best["middleware"] / best["to_thread"]
    report = {
        "requests": requests,
        "concurrency": concurrency,
        "receiver_ms": receiver_ms,
        "seconds": best,
        "requests_per_s": {variant: requests / best[variant] for variant in VARIANTS},
        "middleware_vs_to_thread": ratio,
        "goal": 1.5,
        "quick": args.quick,
    }
    lines = [
        f"{requests} requests, {concurrency} at a time, one sync receiver of {receiver_ms:g} ms",
        "",
        "| variant | total (s) | requests/s |",
        "|---|---|---|",
        *(
            f"| {variant} | {best[variant]:.3f} | {requests / best[variant]:.0f} |"
            for variant in VARIANTS
        ),
        "",
        f"middleware / to_thread: {ratio:.2f}x (goal <= 1.5x: "
        f"{'ok' if ratio <= 1.5 else 'MISSED'})",
    ]
    bu.write_results(args.json, report, "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
