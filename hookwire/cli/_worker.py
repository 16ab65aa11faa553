"""``hookwire worker``: load the host's plugins as ``run`` does, then run a Celery worker that
executes the remote receivers those plugins connected (:mod:`hookwire.remote`)."""

from __future__ import annotations

import os
import socket
import sys
from enum import StrEnum
from typing import Annotated, Any, Optional

import typer

from .._text import escape
from ..exceptions import HookwireError
from . import _output
from ._options import (
    DisableOption,
    NoAutoloadOption,
    PluginOption,
    StrictOption,
    TracebackOption,
    load_host,
    signals_of,
)
from ._params import HostArgument, HostOption, one_host
from ._policy import EXIT_INTERRUPTED, EXIT_TERMINATED

__all__ = ["worker"]


class Pool(StrEnum):
    prefork = "prefork"
    threads = "threads"
    solo = "solo"


class LogLevel(StrEnum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


def worker(
    host: HostArgument = None,
    host_option: HostOption = None,
    concurrency: Annotated[
        Optional[int],  # noqa: UP045 - typer reads the annotation at runtime
        typer.Option(
            "--concurrency",
            "-c",
            min=1,
            metavar="N",
            help="Receivers run at once (pool processes or threads). Default: the CPU count.",
            show_default=False,
        ),
    ] = None,
    queue: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--queue",
            "-Q",
            metavar="NAME",
            help=(
                "Consume only this queue; repeat for several. Default: every queue of the "
                "remote receivers loaded, and 'hookwire'."
            ),
            show_default=False,
        ),
    ] = None,
    pool: Annotated[
        Pool,
        typer.Option(
            "--pool",
            metavar="[prefork|threads|solo]",
            help="How receivers run: processes, threads or in-line.",
        ),
    ] = Pool.prefork,
    loglevel: Annotated[
        LogLevel,
        typer.Option(
            "--loglevel",
            "-l",
            metavar="[debug|info|warning|error]",
            help="Celery's log level.",
        ),
    ] = LogLevel.warning,
    plugin: PluginOption = None,
    disable: DisableOption = None,
    no_autoload: NoAutoloadOption = False,
    strict: StrictOption = False,
    traceback: TracebackOption = False,
) -> int:
    """Load the plugins as 'run' does (main is never called) and run a Celery worker.

    The worker executes only remote receivers connected by plugins ready in it; any other
    message (another task, a malformed or forged one) is rejected, logged and acknowledged.
    Messages are acknowledged after the receiver
    returns, so a receiver may run more than once (at least once). Ctrl-C and SIGTERM let the
    running receivers finish, then exit 130 / 143.
    """

    try:
        from ..remote._broker import DEFAULT_QUEUE, app_for, broker_settings, check_broker
        from ..remote._worker import build_table, guarded_consumer, install_delivery_task
    except ImportError as exc:
        raise HookwireError(str(exc)) from exc

    # Lazy plugins are activated here, at start: the worker serves only the remote receivers
    # of ready plugins, listed once below, and a message must never decide what is imported.
    loaded_host, registry = load_host(
        one_host(host, host_option),
        plugin,
        disable,
        no_autoload,
        strict,
        runs_host=True,
        lazy=False,
    )
    table = build_table(signals_of(loaded_host), registry)
    celery_app, _ = app_for(loaded_host)
    try:
        install_delivery_task(celery_app, loaded_host, table)
    except OSError as exc:
        raise HookwireError(f"the worker's state folder cannot be used: {exc}") from exc
    # Remote control commands (shutdown, pool restart, new consumers...) are messages anyone
    # who can write to the broker can send; a hookwire worker obeys none.
    celery_app.conf.worker_enable_remote_control = False
    if str(celery_app.conf.broker_url or "").startswith("redis://") and not (
        celery_app.conf.broker_transport
    ):
        from ..remote._transport import GuardedRedisTransport

        celery_app.conf.broker_transport = GuardedRedisTransport
    consumer = guarded_consumer(celery_app, table)
    queues = list(
        dict.fromkeys(queue or [DEFAULT_QUEUE, *(e.receiver.queue for e in table.values())])
    )
    if getattr(loaded_host, "celery", None) is not None:
        where = "the host's Celery app"
    else:
        settings = broker_settings(loaded_host.name)
        where = settings.source
        try:
            check_broker(settings)
        except Exception as exc:
            # Before Celery starts: it would report this as a long traceback.
            raise HookwireError(f"worker for host {loaded_host.name}: no broker: {exc}") from exc
    names = ", ".join(sorted({entry.receiver.name for entry in table.values()})) or "none"
    sys.stderr.write(
        f"{_output.PROG}: worker for host {escape(loaded_host.name)}: broker from "
        f"{escape(where)}; queues {', '.join(queues)}; remote receivers: "
        f"{escape(names)}\n"
    )
    sys.stderr.flush()
    return _run_worker(
        celery_app, consumer, loaded_host.name, queues, pool.value, concurrency, loglevel
    )


def _run_worker(
    celery_app: Any,
    consumer: type[Any],
    host_name: str,
    queues: list[str],
    pool: str,
    concurrency: int | None,
    loglevel: LogLevel,
) -> int:
    from celery import signals as celery_signals

    from ..remote._embedded import worker_stopping

    received: list[str] = []

    def on_shutdown(sig: str = "", **kwargs: object) -> None:
        received.append(str(sig))
        worker_stopping(True)

    # Celery's worker handles SIGINT and SIGTERM itself (a warm shutdown: running tasks finish);
    # this learns which one came, for the exit status, and stops the embedded broker's wait.
    celery_signals.worker_shutting_down.connect(on_shutdown, weak=False)

    def on_ready(**kwargs: object) -> None:
        sys.stderr.write(f"{_output.PROG}: worker ready: {node}\n")
        sys.stderr.flush()

    celery_signals.worker_ready.connect(on_ready, weak=False)
    node = f"hookwire-{host_name}-{os.getpid()}@{socket.gethostname()}"
    celery_worker = celery_app.Worker(
        hostname=node,
        consumer_cls=consumer,
        pool_cls=pool,
        concurrency=concurrency or os.cpu_count() or 1,
        queues=queues,
        loglevel=loglevel.value.upper(),
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
        quiet=True,
    )
    worker_stopping(False)
    try:
        celery_worker.start()
    finally:
        worker_stopping(False)
    if received:
        # The same last line as every other command stopped by a signal.
        terminated = received[-1] == "SIGTERM"
        sys.stderr.write(f"{_output.PROG}: {'terminated' if terminated else 'interrupted'}\n")
        sys.stderr.flush()
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    return int(celery_worker.exitcode or 0)
