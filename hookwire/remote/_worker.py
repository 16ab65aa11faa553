"""The worker side: which remote receivers may run here, and running one message.

The worker builds its table once, after the host loaded its plugins: every remote receiver
connected to a live signal by a plugin that is ready in this process. Every message taken from
a queue goes through :func:`~hookwire.remote._gate.check_message` in the worker's main process
before Celery sees it (:func:`guarded_consumer`): one that is not a well-formed delivery for
an entry of that table is logged once and acknowledged, so it never stops the worker and is
never delivered again. The one task registered, ``hookwire.deliver``, checks the body again in
the process that runs it and counts its attempts itself (:mod:`._attempts`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import signals as lifecycle
from .._text import describe_error, escape
from ._attempts import AttemptRecord, state_folder
from ._broker import DELIVER_TASK
from ._delivery import Delivery, delivery_scope
from ._gate import Rejected, UnknownSender, check_body, check_message, resolve_sender, shown
from ._receiver import RemoteReceiver
from ._wire import CONTENT_TYPE, SERIALIZER

if TYPE_CHECKING:
    from celery import Celery

    from .._dispatch.signal import Signal
    from .._host import Host
    from .._loading.registry import Registry

__all__ = [
    "RemoteEntry",
    "UnknownSender",
    "build_table",
    "guarded_consumer",
    "install_delivery_task",
    "resolve_sender",
]

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


def install_delivery_task(
    app: Celery,
    host: Host,
    table: dict[tuple[str, str], RemoteEntry],
    record: AttemptRecord | None = None,
) -> Any:
    """Register the one task that serves every remote receiver of ``table`` on ``app``.

    Acknowledged after the receiver returns (``acks_late``), requeued when the pool process
    running it dies (``reject_on_worker_lost``): delivery is at least once. Attempts are
    counted in ``record`` (by default in the host's state folder), never read from a header:
    a run that is the receiver's ``max_retries + 1``-th or later and follows runs that never
    finished (their process died) ends the delivery as a final failure instead of running.
    The application accepts only hookwire's content type from then on.

    :raises OSError: the state folder cannot be used.
    """
    if record is None:
        record = AttemptRecord(state_folder(host.name))
        record.sweep()
    app.conf.accept_content = [CONTENT_TYPE]

    def deliver(task: Any, **body: Any) -> None:
        request = task.request
        try:
            accepted = check_body(body, table, str(request.id))
        except Rejected as rejected:
            log_rejected(rejected)
            return
        entry, delivery_id = accepted.entry, accepted.delivery_id
        receiver = entry.receiver
        try:
            runs = record.start(delivery_id)
        except OSError as exc:
            # Delivering matters more than counting: run it, as the first run it may be.
            logger.warning(
                "remote receiver %s (plugin %s): attempt of delivery %s not recorded: %s",
                receiver.name,
                escape(entry.plugin),
                delivery_id,
                escape(describe_error(exc)),
            )
            runs = 1
        delivery_info = request.delivery_info or {}
        # The run before a redelivery never finished, wherever it ran: at least the second.
        redelivered = delivery_info.get("redelivered") is True
        attempt = max(runs, 2 if redelivered else 1)
        delivery = Delivery(delivery_id=delivery_id, attempt=attempt, host=host.name)
        last = receiver.max_retries + 1
        if attempt > last:
            # The last attempt allowed started and never finished: its process died. Report
            # the delivery as of that attempt, and end it here instead of running it again.
            from celery.exceptions import WorkerLostError

            lost = WorkerLostError(
                f"the process running it died during attempt {last}, its last "
                f"(max_retries={receiver.max_retries})"
            )
            delivery = Delivery(delivery_id=delivery_id, attempt=last, host=host.name)
            _failed_for_good(host, entry, delivery, lost, record)
            return
        try:
            with delivery_scope(delivery):
                result = receiver.func(
                    signal=entry.signal, sender=accepted.sender, **accepted.kwargs
                )
                if inspect.isawaitable(result):
                    asyncio.run(_awaited(result))
        except Exception as exc:
            if isinstance(exc, receiver.autoretry_for) and attempt <= receiver.max_retries:
                countdown = receiver.retry_backoff * (2 ** (attempt - 1))
                logger.warning(
                    "remote receiver %s (plugin %s) failed on attempt %d of delivery %s: %s: "
                    "retrying in %.1fs",
                    receiver.name,
                    escape(entry.plugin),
                    attempt,
                    delivery_id,
                    escape(describe_error(exc)),
                    countdown,
                )
                raise task.retry(exc=exc, countdown=countdown, max_retries=None) from exc
            _failed_for_good(host, entry, delivery, exc, record)
            return
        record.forget(delivery_id)

    return app.task(
        name=DELIVER_TASK,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        ignore_result=True,
        max_retries=None,
        serializer=SERIALIZER,
    )(deliver)


def _failed_for_good(
    host: Host, entry: RemoteEntry, delivery: Delivery, error: BaseException, record: AttemptRecord
) -> None:
    record.forget(delivery.delivery_id)
    logger.error(
        "remote receiver %s (plugin %s) failed for good on attempt %d of delivery %s: %s",
        entry.receiver.name,
        escape(entry.plugin),
        delivery.attempt,
        delivery.delivery_id,
        escape(describe_error(error)),
        exc_info=error if error.__traceback__ is not None else None,
    )
    lifecycle.remote_failed.send_robust(
        sender=host,
        receiver=entry.receiver.name,
        plugin=entry.plugin,
        delivery=delivery,
        error=error,
    )


def log_rejected(rejected: Rejected) -> None:
    """The one line a rejected message gets on ``hookwire.remote``."""
    logger.error(
        "rejected message %s: %s; acknowledged, nothing was run", rejected.delivery_id, rejected
    )


def guarded_consumer(app: Celery, table: dict[tuple[str, str], RemoteEntry]) -> type[Any]:
    """The worker's consumer class: Celery's, with every message checked before Celery sees it.

    A message that :func:`check_message` rejects is logged and acknowledged there; it reaches
    no Celery code that could fail on it (and stop the worker) or run anything. The consumer
    also keeps ``hookwire.deliver`` as the only task it will hand to the pool, whatever tasks
    the application registered (Celery's built-in ones included).
    """
    from celery.utils.imports import symbol_by_name

    base: type[Any] = symbol_by_name(app.conf.worker_consumer or "celery.worker.consumer:Consumer")

    class GuardedConsumer(base):  # type: ignore[misc]
        def update_strategies(self) -> None:
            for name in [name for name in self.app.tasks if name != DELIVER_TASK]:
                self.app.tasks.pop(name, None)
            super().update_strategies()

        def on_decode_error(self, message: Any, exc: BaseException) -> None:
            # kombu could not even unpack the message (a bad compression header, say): one
            # escaped line instead of Celery's dump of its headers and body.
            headers = message.headers if isinstance(message.headers, dict) else {}
            delivery_id = shown(headers.get("id", "-"), 64, quote=False)
            reason = f"it cannot be decoded: {escape(describe_error(exc))}"
            log_rejected(Rejected(reason, delivery_id))
            message.ack_log_error(logger, self.connection_errors)

        def create_task_handler(self, *args: Any, **kwargs: Any) -> Any:
            handle = super().create_task_handler(*args, **kwargs)
            connection_errors = self.connection_errors

            def on_task_received(message: Any) -> Any:
                try:
                    check_message(message, table)
                except Rejected as rejected:
                    log_rejected(rejected)
                    message.ack_log_error(logger, connection_errors)
                    return None
                except Exception as exc:  # a defect here must not stop the worker either
                    logger.error(
                        "rejected message -: it could not be checked (%s); acknowledged, "
                        "nothing was run",
                        escape(describe_error(exc)),
                    )
                    message.ack_log_error(logger, connection_errors)
                    return None
                return handle(message)

            return on_task_received

    GuardedConsumer.__qualname__ = GuardedConsumer.__name__ = f"Guarded{base.__name__}"
    return GuardedConsumer


async def _awaited(awaitable: Any) -> Any:
    return await awaitable
