"""A host inside an ASGI application: Starlette, FastAPI, or any ASGI 3 app.

.. code-block:: python

    from fastapi import FastAPI
    from hookwire.asgi import HookwireMiddleware, lifespan

    app = FastAPI(lifespan=lifespan(host))  # or lifespan(host, the_app_own_lifespan)
    app.add_middleware(HookwireMiddleware)

:func:`lifespan` loads the plugins and sends ``host_started`` before the server takes its first
request, and ``host_stopping`` after the last one was answered. :class:`HookwireMiddleware`
gives each request its own thread for the sync receivers that ``await signal.asend()`` runs, as
Django's ASGI handler does; given a ``host``, it also runs the host's life for an ASGI app that
takes no lifespan of its own.

Nothing here imports Starlette or FastAPI: the lifespan is a plain async context manager
factory and the middleware plain ASGI, so they fit any framework built on the ASGI lifespan
protocol. asgiref (a hookwire dependency) is imported by the first request.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from ._host import Host
    from ._loading.registry import Registry

__all__ = ["HookwireMiddleware", "HostState", "lifespan"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: What Starlette and FastAPI accept as ``lifespan=``: called with the app, it returns an
#: async context manager that may yield the lifespan state (a mapping).
Lifespan = Callable[[Any], AbstractAsyncContextManager[Mapping[str, Any] | None]]

#: The key of the lifespan state that holds the :class:`HostState`
#: (``request.state.hookwire`` in Starlette and FastAPI).
STATE_KEY = "hookwire"


class HostState:
    """What the lifespan state holds under ``"hookwire"``: the running host and its registry.

    :ivar host: the :class:`~hookwire.Host`.
    :ivar registry: the :class:`~hookwire.Registry` its loading produced.
    """

    __slots__ = ("host", "registry")

    def __init__(self, host: Host, registry: Registry) -> None:
        self.host = host
        self.registry = registry

    def __repr__(self) -> str:
        return f"<HostState {self.host!r} {self.registry!r}>"


def lifespan(host: Host, inner: Lifespan | None = None, **load_options: Any) -> Lifespan:
    """A Starlette / FastAPI lifespan that runs ``host`` for as long as the application runs.

    On startup the plugins load (``load_options`` are :meth:`~hookwire.Host.load`'s:
    ``plugins``, ``disable``, ``autoload``, ``strict``, ``lazy``) and ``host_started`` is
    awaited, then ``inner`` (the application's own lifespan, if any) starts, so it can use the
    plugins. On shutdown, which the server begins after the last request was answered,
    ``inner`` stops first, then ``host_stopping`` is awaited with ``exc=`` what stopped the
    application (or ``None``).

    The lifespan state is ``inner``'s state plus ``"hookwire"``: a :class:`HostState`, so a
    request handler reads ``request.state.hookwire.registry``.

    :param host: the host to run.
    :param inner: the application's own lifespan, which ``lifespan(host, inner)`` wraps.
    :raises ~hookwire.exceptions.LoadError: on startup, under ``strict``, when a plugin
        failed: the server reports the startup as failed and does not serve.
    """

    @asynccontextmanager
    async def hookwire_lifespan(app: Any) -> AsyncIterator[Mapping[str, Any]]:
        async with host.running(**load_options) as registry:
            ours = HostState(host, registry)
            if inner is None:
                yield {STATE_KEY: ours}
                return
            async with inner(app) as inner_state:
                state = dict(inner_state) if inner_state is not None else {}
                state[STATE_KEY] = ours
                yield state

    return hookwire_lifespan


class HookwireMiddleware:
    """ASGI middleware: each request in its own asgiref thread-sensitive context.

    ``await signal.asend()`` runs sync receivers through asgiref's ``sync_to_async``, which by
    default sends every such call in the process to one shared thread: outside Django's ASGI
    handler, concurrent requests' sync receivers queue behind each other. Inside this
    middleware each request (HTTP or WebSocket) gets its own context, as Django gives each of
    its requests, so one request's receivers run one after another in that request's thread
    and never wait for another request's.

    With ``host``, the middleware also handles the ASGI lifespan for the app it wraps, for ASGI
    applications that take no lifespan parameter: plugins load and ``host_started`` is awaited
    when the server starts up, ``host_stopping`` when it shuts down (after the wrapped app's own
    shutdown, if it has one). ``load_options`` are :meth:`~hookwire.Host.load`'s. With
    Starlette or FastAPI, prefer :func:`lifespan` and leave ``host`` out here: given both, the
    host would start twice.

    :param app: the ASGI application to wrap.
    :param host: the host whose life follows the server's lifespan; ``None`` leaves the
        lifespan to ``app``.
    """

    def __init__(self, app: ASGIApp, host: Host | None = None, **load_options: Any) -> None:
        self.app = app
        self.host = host
        self.load_options = load_options

    def __repr__(self) -> str:
        return f"<HookwireMiddleware host={self.host!r} app={self.app!r}>"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            if self.host is None:
                await self.app(scope, receive, send)
            else:
                await _HostLifespan(self.app, self.host, self.load_options).serve(
                    scope, receive, send
                )
            return
        executor = _request_threads.take()
        try:
            async with executor.context():
                await self.app(scope, receive, send)
        finally:
            _request_threads.give(executor)


class _RequestThread:
    """One request's thread for thread-sensitive calls: a single-worker executor, reused.

    Where asgiref lets a thread-sensitive context be given its executor (``executor=``), the
    thread is kept for the next request: making and joining a thread per request cost about
    1.2 ms of CPU per request on a two-core machine, more than the work of a typical receiver
    ("middleware, fresh thread" against "middleware" in ``benchmarks/bench_asgi.py``). Older
    asgiref makes (and joins) one itself for each context.
    """

    __slots__ = ("executor",)

    def __init__(self, executor: Executor | None) -> None:
        self.executor = executor

    def context(self) -> AbstractAsyncContextManager[Any]:
        from asgiref.sync import ThreadSensitiveContext

        if self.executor is None:
            return ThreadSensitiveContext()
        return ThreadSensitiveContext(executor=self.executor)  # type: ignore[call-arg,unused-ignore]


class _RequestThreads:
    """A free list of request threads; at most ``keep`` idle ones are kept."""

    def __init__(self, keep: int = 32) -> None:
        self.keep = keep
        self._idle: list[_RequestThread] = []
        # Taken from the event loop's thread, but one process may run several loops.
        self._lock = threading.Lock()
        self._reusable: bool | None = None

    def take(self) -> _RequestThread:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        if self._reusable is None:
            self._reusable = _executor_accepted()
        if not self._reusable:
            return _RequestThread(None)
        from concurrent.futures import ThreadPoolExecutor

        return _RequestThread(ThreadPoolExecutor(1, thread_name_prefix="hookwire-request"))

    def give(self, thread: _RequestThread) -> None:
        executor = thread.executor
        if executor is None:
            return
        with self._lock:
            if len(self._idle) < self.keep:
                self._idle.append(thread)
                return
        executor.shutdown(wait=False)


def _executor_accepted() -> bool:
    """Whether this asgiref's ``ThreadSensitiveContext`` takes an ``executor=``."""
    import inspect

    from asgiref.sync import ThreadSensitiveContext

    return "executor" in inspect.signature(ThreadSensitiveContext).parameters


_request_threads = _RequestThreads()


class _HostLifespan:
    """One lifespan of a host behind :class:`HookwireMiddleware`.

    The wrapped app is given the lifespan first, through a ``receive`` that starts the host
    when the startup message passes and a ``send`` that stops it when the app has shut down.
    An app that does not speak the protocol (it returns or raises without sending a lifespan
    message) gets no say: the middleware answers the server itself.
    """

    def __init__(self, app: ASGIApp, host: Host, load_options: dict[str, Any]) -> None:
        self.app = app
        self.host = host
        self.running = host.running(**load_options)
        self.startup_received = False
        self.start_error: BaseException | None = None
        self.started = False
        self.stopped = False
        self.app_spoke = False

    async def start(self, scope: Scope) -> None:
        try:
            registry = await self.running.__aenter__()
        except BaseException as error:
            self.start_error = error
            raise
        self.started = True
        state = scope.get("state")
        if isinstance(state, MutableMapping):
            state[STATE_KEY] = HostState(self.host, registry)

    async def stop(self, error: BaseException | None = None) -> None:
        if self.started and not self.stopped:
            self.stopped = True
            if error is None:
                await self.running.__aexit__(None, None, None)
            else:
                await self.running.__aexit__(type(error), error, error.__traceback__)

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def app_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.startup_received = True
                # A failure here reaches the app's lifespan, which reports startup as failed.
                await self.start(scope)
            return message

        async def app_send(message: Message) -> None:
            self.app_spoke = True
            if message["type"] in {"lifespan.shutdown.complete", "lifespan.shutdown.failed"}:
                await self.stop()
            await send(message)

        try:
            await self.app(scope, app_receive, app_send)
        except Exception as error:
            if self.app_spoke:
                await self.stop(error)
                raise
            # The app does not handle lifespan (raising at once is how many apps say so).
        else:
            if self.app_spoke:
                await self.stop()
                return
        await self.answer_alone(scope, receive, send)

    async def answer_alone(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Speak the lifespan protocol to the server without the app's help."""
        if not self.startup_received:
            message = await receive()
            if message["type"] != "lifespan.startup":
                return
            self.startup_received = True
            try:
                await self.start(scope)
            except Exception:
                pass  # reported below, as the start_error
        if self.start_error is not None:
            await send({"type": "lifespan.startup.failed", "message": _describe(self.start_error)})
            return
        await send({"type": "lifespan.startup.complete"})
        while True:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                break
        await self.stop()
        await send({"type": "lifespan.shutdown.complete"})


def _describe(error: BaseException) -> str:
    from ._text import describe_error

    try:
        return describe_error(error)
    except Exception:
        return type(error).__name__
