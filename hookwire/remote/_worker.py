"""The worker side: which remote receivers may run here, and running one message.

The worker builds its table once, after the host loaded its plugins: every remote receiver
connected to a live signal by a plugin that is ready in this process. A message names a signal
and a receiver as plain strings that are only looked up in that table; a message naming
anything else is rejected and logged, and nothing a message names is ever imported.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import signals as lifecycle
from ._broker import DELIVER_TASK
from ._delivery import Delivery, delivery_scope
from ._receiver import FORMAT, RemoteReceiver

if TYPE_CHECKING:
    from celery import Celery

    from .._dispatch.signal import Signal
    from .._host import Host
    from .._loading.registry import Registry

__all__ = ["RemoteEntry", "build_table", "install_delivery_task", "resolve_sender"]

logger = logging.getLogger("hookwire.remote")


@dataclass(frozen=True, slots=True)
class RemoteEntry:
    """A remote receiver this worker may run: the receiver, its signal, its plugin."""

    receiver: RemoteReceiver
    signal: Signal
    plugin: str


def build_table(
    signals: Iterable[Signal], registry: Registry
) -> dict[tuple[str, str], RemoteEntry]:
    """``(signal name, receiver name) -> entry`` for remote receivers of ready plugins."""
    from .._loading.registry import PluginState

    ready = {record.name for record in registry if record.state is PluginState.READY}
    table: dict[tuple[str, str], RemoteEntry] = {}
    for signal in signals:
        for info in signal.describe_receivers():
            receiver = info.receiver
            if isinstance(receiver, RemoteReceiver) and info.plugin in ready:
                key = (str(signal.qualified_name), receiver.name)
                table.setdefault(key, RemoteEntry(receiver, signal, str(info.plugin)))
    return table


class UnknownSender(LookupError):
    """A ``"module:QualName"`` sender that is not loaded in this worker."""


def resolve_sender(encoded: object) -> object:
    """The sender of a message, found among the modules already imported here.

    :raises UnknownSender: it names a module this worker has not imported, or nothing in it.
    """
    if not isinstance(encoded, dict):
        raise UnknownSender(f"malformed sender {encoded!r}")
    if "value" in encoded:
        value = encoded["value"]
        if value is None or isinstance(value, str | int | float | bool):
            return value
        raise UnknownSender(f"malformed sender value {value!r}")
    reference = encoded.get("ref")
    if not isinstance(reference, str) or ":" not in reference:
        raise UnknownSender(f"malformed sender reference {reference!r}")
    module_name, _, qualname = reference.partition(":")
    # Only modules already imported (by the host and its plugins): a message never makes the
    # worker import anything.
    found: Any = sys.modules.get(module_name)
    if found is None:
        raise UnknownSender(f"sender module {module_name!r} is not loaded on this worker")
    for part in qualname.split(".") if qualname else ():
        if part.startswith("__"):
            raise UnknownSender(f"sender {reference!r} names a private attribute")
        found = getattr(found, part, None)
        if found is None:
            raise UnknownSender(f"sender {reference!r} not found in {module_name}")
    return found


def install_delivery_task(
    app: Celery, host: Host, table: dict[tuple[str, str], RemoteEntry]
) -> Any:
    """Register the one task that serves every remote receiver of ``table`` on ``app``.

    Acknowledged after the receiver returns (``acks_late``), requeued when the pool process
    running it dies (``reject_on_worker_lost``): delivery is at least once.
    """

    def deliver(task: Any, **body: Any) -> None:
        key = (str(body.get("signal")), str(body.get("receiver")))
        entry = table.get(key) if body.get("format") == FORMAT else None
        delivery_id = str(body.get("delivery_id"))
        if entry is None:
            logger.error(
                "rejected message %s: remote receiver %s of signal %s was not connected by a "
                "plugin ready on this worker (host %s); nothing was run",
                delivery_id,
                key[1],
                key[0],
                host.name,
            )
            return
        receiver = entry.receiver
        try:
            sender = resolve_sender(body.get("sender"))
        except UnknownSender as exc:
            logger.error(
                "rejected message %s for %s (plugin %s): %s; nothing was run",
                delivery_id,
                receiver.name,
                entry.plugin,
                exc,
            )
            return
        retries = int(task.request.retries or 0)
        delivery = Delivery(delivery_id=delivery_id, attempt=retries + 1, host=host.name)
        kwargs = body.get("kwargs") or {}
        try:
            with delivery_scope(delivery):
                result = receiver.func(signal=entry.signal, sender=sender, **kwargs)
                if inspect.isawaitable(result):
                    asyncio.run(_awaited(result))
        except Exception as exc:
            if isinstance(exc, receiver.autoretry_for) and retries < receiver.max_retries:
                countdown = receiver.retry_backoff * (2**retries)
                logger.warning(
                    "remote receiver %s (plugin %s) failed on attempt %d of delivery %s: %s: "
                    "retrying in %.1fs",
                    receiver.name,
                    entry.plugin,
                    delivery.attempt,
                    delivery_id,
                    type(exc).__name__,
                    countdown,
                )
                raise task.retry(exc=exc, countdown=countdown, max_retries=None) from exc
            logger.error(
                "remote receiver %s (plugin %s) failed for good on attempt %d of delivery %s: "
                "%s: %s",
                receiver.name,
                entry.plugin,
                delivery.attempt,
                delivery_id,
                type(exc).__name__,
                exc,
                exc_info=exc,
            )
            lifecycle.remote_failed.send_robust(
                sender=host,
                receiver=receiver.name,
                plugin=entry.plugin,
                delivery=delivery,
                error=exc,
            )

    return app.task(
        name=DELIVER_TASK,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        ignore_result=True,
        max_retries=None,
        serializer="json",
    )(deliver)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable
