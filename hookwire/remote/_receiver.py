"""The sending side: a remote receiver is an ordinary receiver object whose call publishes.

Being connected with :meth:`Signal.connect` like any other receiver (strongly, with a
``dispatch_uid`` so a ``ready()`` run again connects it once), it is seen by ``send``,
``send_robust``, ``asend`` (which calls sync receivers off the event loop, so publishing never
blocks the loop), ``muted``, introspection and plugin attribution, in connect order.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import update_wrapper
from types import FunctionType, ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from .._dispatch import attribution as _attribution
from .._dispatch.introspection import REMOTE_MARKER
from ..exceptions import RemoteDispatchError, RemoteSerializationError
from ._broker import DEFAULT_QUEUE, DELIVER_TASK, app_for, host_for_plugin
from ._publishing import Handoff, submit
from ._wire import SERIALIZER

if TYPE_CHECKING:
    from .._dispatch.signal import Signal

__all__ = ["Dispatched", "RemoteReceiver", "StartedPublish", "encode_sender", "remote_receiver"]

F = TypeVar("F", bound=Callable[..., Any])

#: Message format version, so a worker can refuse a format it does not know.
FORMAT = 1


@dataclass(frozen=True, slots=True)
class Dispatched:
    """A remote receiver's response in the sending process: its message was published.

    :ivar delivery_id: stable for this send to this receiver, across retries and redelivery.
    :ivar task_id: the Celery task id of the message.
    :ivar queue: the queue it was published to.
    """

    delivery_id: str
    task_id: str
    queue: str


def _reference(value: object) -> str | None:
    """``"module:QualName"`` of a class, function or module that the worker can find again."""
    if isinstance(value, ModuleType):
        return f"{value.__name__}:"
    if isinstance(value, type | FunctionType):
        module, qualname = value.__module__, value.__qualname__
        if "<locals>" in qualname:
            return None
        found: Any = sys.modules.get(module)
        for part in qualname.split("."):
            found = getattr(found, part, None)
        return f"{module}:{qualname}" if found is value else None
    return None


def encode_sender(sender: object) -> dict[str, Any] | None:
    """How ``sender`` travels: ``{"value": ...}`` for ``None``/str/int/float/bool, ``{"ref":
    "module:QualName"}`` for a class, function or module; ``None`` when it cannot travel."""
    if sender is None or isinstance(sender, str | int | float | bool):
        return {"value": sender}
    reference = _reference(sender)
    return None if reference is None else {"ref": reference}


class RemoteReceiver:
    """A receiver that publishes a message for a worker instead of running here.

    Calling it (what a send does) returns a :class:`Dispatched`; the wrapped function runs on
    a worker started with ``hookwire worker``. Its name, file and line are the function's.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        queue: str,
        max_retries: int,
        retry_backoff: float,
        autoretry_for: tuple[type[BaseException], ...],
        plugin: str | None,
    ) -> None:
        update_wrapper(self, func)
        self.func = func
        self.queue = queue
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.autoretry_for = autoretry_for
        self.plugin = plugin
        self.name = f"{func.__module__}.{func.__qualname__}"
        setattr(self, REMOTE_MARKER, {"engine": "celery", "queue": queue})

    def __repr__(self) -> str:
        return f"<remote receiver {self.name} queue={self.queue!r}>"

    def message(self, signal: Signal, sender: object, arguments: dict[str, Any]) -> dict[str, Any]:
        """The message body of one send, checked to travel as JSON.

        :raises RemoteSerializationError: the sender or a keyword argument cannot travel.
        """
        encoded = encode_sender(sender)
        if encoded is None:
            raise RemoteSerializationError(
                f"remote receiver {self.name} of {signal.qualified_name}: the sender "
                f"{_short_repr(sender)} cannot travel to a worker; send None, a str, int, "
                "float, bool, or a module-level class, function or module",
                argument="sender",
                signal=signal,
                receiver=self.name,
            )
        try:
            _check_json(arguments)
        except (TypeError, ValueError):
            self._name_the_argument(signal, arguments)
            raise  # pragma: no cover - some argument is always named above
        return {
            "format": FORMAT,
            "signal": signal.qualified_name,
            "receiver": self.name,
            "sender": encoded,
            "kwargs": arguments,
            "sent_at": time.time(),
        }

    def _name_the_argument(self, signal: Signal, arguments: dict[str, Any]) -> None:
        """Raise the error naming the first argument that is not JSON (the slow path)."""
        for key, value in arguments.items():
            try:
                _check_json(value)
            except (TypeError, ValueError) as exc:
                raise RemoteSerializationError(
                    f"remote receiver {self.name} of {signal.qualified_name}: argument "
                    f"{key!r} ({type(value).__qualname__}) is not JSON: {exc}",
                    argument=key,
                    signal=signal,
                    receiver=self.name,
                    cause=exc,
                ) from exc

    def __call__(self, signal: Signal, sender: object, **named: Any) -> Dispatched:
        started = self.start_call(signal, sender, **named)
        try:
            return started.handoff.wait(started.deadline - time.monotonic())
        except TimeoutError:
            raise started.expired() from None

    def start_call(self, signal: Signal, sender: object, **named: Any) -> StartedPublish:
        """Check the message and start publishing it on a publishing thread.

        ``asend`` calls this instead of the receiver, so that concurrent sends do not wait
        for each other's publishes on asgiref's one thread; a plain call waits for the result.

        :raises RemoteSerializationError: the sender or a keyword argument cannot travel.
        :raises RemoteDispatchError: no broker could be set up.
        """
        body = self.message(signal, sender, named)
        host = host_for_plugin(self.plugin)
        try:
            app, timeout = app_for(host)
        except Exception as exc:
            raise RemoteDispatchError(
                f"remote receiver {self.name} of {signal.qualified_name}: no broker: {exc}",
                signal=signal,
                receiver=self.name,
                cause=exc,
            ) from exc
        delivery_id = uuid.uuid4().hex
        body["delivery_id"] = delivery_id
        body["host"] = "hookwire" if host is None else host.name
        # One deadline for the whole publish, reconnections and retries included, counted
        # from here: the caller stops waiting at it whatever the broker does.
        deadline = time.monotonic() + timeout
        # The publishing thread records each failed attempt here, for the error the caller
        # raises when it stops waiting first.
        failures: list[BaseException] = []
        handoff = submit(lambda: self._publish(app, signal, body, deadline, failures))

        def expired() -> RemoteDispatchError:
            cause = failures[-1] if failures else None
            last = f"; last error: {type(cause).__name__}: {cause}" if cause else ""
            error = RemoteDispatchError(
                f"remote receiver {self.name} of {signal.qualified_name}: the broker did not "
                f"take the message within {timeout:g}s (the broker timeout){last}; a publish "
                "still under way may yet be delivered",
                signal=signal,
                receiver=self.name,
                cause=cause,
            )
            error.__cause__ = cause
            return error

        return StartedPublish(handoff, deadline, expired)

    def _publish(
        self,
        app: Any,
        signal: Signal,
        body: dict[str, Any],
        deadline: float,
        failures: list[BaseException],
    ) -> Dispatched:
        """Publish ``body`` unless ``deadline`` passed; runs on a publishing thread."""
        started = time.monotonic()
        if started >= deadline:
            # The caller has stopped waiting: publishing now would deliver a send it was told
            # failed.
            raise RemoteDispatchError(
                f"remote receiver {self.name} of {signal.qualified_name}: no publishing thread "
                "was free before the broker timeout",
                signal=signal,
                receiver=self.name,
            )
        delivery_id = body["delivery_id"]
        try:
            app.send_task(
                DELIVER_TASK,
                kwargs=body,
                # What monitoring tools show for the message; also spares Celery a safe repr
                # of the whole body on every publish (bench_remote.py, "publish" row).
                argsrepr="()",
                kwargsrepr=f"{{signal: {body['signal']!r}, receiver: {self.name!r}}}",
                task_id=delivery_id,
                queue=self.queue,
                serializer=SERIALIZER,
                ignore_result=True,
                retry=True,
                retry_policy=_retry_policy(deadline, failures),
            )
        except Exception as exc:
            waited = time.monotonic() - started
            raise RemoteDispatchError(
                f"remote receiver {self.name} of {signal.qualified_name}: the broker did not "
                f"take the message (after {waited:.1f}s): {type(exc).__name__}: {exc}",
                signal=signal,
                receiver=self.name,
                cause=exc,
            ) from exc
        return Dispatched(delivery_id=delivery_id, task_id=delivery_id, queue=self.queue)


class StartedPublish:
    """A publish under way: its hand-off to a publishing thread, the monotonic deadline by
    which the caller stops waiting, and the error to raise then."""

    __slots__ = ("deadline", "expired", "handoff")

    def __init__(
        self,
        handoff: Handoff[Dispatched],
        deadline: float,
        expired: Callable[[], RemoteDispatchError],
    ) -> None:
        self.handoff = handoff
        self.deadline = deadline
        self.expired = expired

    def future(self) -> Future[Dispatched]:
        """The publish's outcome as a future, for an event loop to await."""
        return self.handoff.future()


def _check_json(value: object) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``value`` is JSON (without NaN or infinity).

    A dict key that is not a string is refused too: JSON would turn it into one silently, and
    the receiver would get ``{"1": ...}`` for ``{1: ...}``.
    """
    json.dumps(value, allow_nan=False)
    if isinstance(value, dict | list | tuple):
        _check_keys(value)


def _check_keys(value: dict[Any, Any] | list[Any] | tuple[Any, ...]) -> None:
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, nested in item.items():
                if not isinstance(key, str):
                    raise TypeError(
                        f"dict key {_short_repr(key)} ({type(key).__qualname__}) is not a "
                        "string; JSON would turn it into one"
                    )
                if isinstance(nested, dict | list | tuple):
                    pending.append(nested)
        else:
            pending.extend(nested for nested in item if isinstance(nested, dict | list | tuple))


def _retry_policy(deadline: float, failures: list[BaseException]) -> dict[str, Any]:
    # kombu reconnects and retries a failed publish; the errback, called before each wait,
    # ends the retries once the deadline is near, so a publishing thread does not outlive its
    # send by more than one socket timeout.
    def give_up_at_deadline(exc: BaseException, interval: float) -> None:
        failures.append(exc)
        if time.monotonic() + interval >= deadline:
            raise exc

    return {
        "max_retries": 100,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
        "errback": give_up_at_deadline,
    }


def _short_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__qualname__} object>"
    return text if len(text) <= 60 else text[:57] + "..."


def remote_receiver(
    signal: Signal | Sequence[Signal],
    sender: object = None,
    *,
    queue: str | None = None,
    max_retries: int = 3,
    retry_backoff: float = 1.0,
    autoretry_for: tuple[type[BaseException], ...] = (Exception,),
    dispatch_uid: str | None = None,
) -> Callable[[F], F]:
    """Connect the decorated function to ``signal`` as a receiver that runs on workers.

    :param sender: as for :meth:`~hookwire.Signal.connect`, including lazy ``"module:QualName"``.
    :param queue: the Celery queue (default ``"hookwire"``).
    :param max_retries: how many times a failing run is retried on a worker; a delivery
        runs at most ``max_retries + 1`` times on one machine, redeliveries after the process
        running it died included.
    :param retry_backoff: seconds before the first retry, doubled for each next one.
    :param autoretry_for: the exceptions that cause a retry; others fail at once.
    :param dispatch_uid: the connection's uid; default ``"hookwire.remote:<module>.<name>"``,
        so running a plugin's ``ready()`` again connects it once.
    :returns: the function itself, unchanged (it can still be called directly in tests).
    :raises ~hookwire.exceptions.ReceiverSignatureError: the function takes no ``**kwargs``.
    """
    from .._dispatch.signal import Signal

    signals: list[Signal] = [signal] if isinstance(signal, Signal) else list(signal)

    def decorate(func: F) -> F:
        if max_retries < 0 or retry_backoff < 0:
            raise ValueError("max_retries and retry_backoff must not be negative")
        remote = RemoteReceiver(
            func,
            queue=queue or DEFAULT_QUEUE,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
            autoretry_for=tuple(autoretry_for),
            plugin=_attribution.current_plugin(),
        )
        uid = dispatch_uid or f"hookwire.remote:{remote.name}"
        for target in signals:
            target.connect(remote, sender=sender, weak=False, dispatch_uid=uid)
        return func

    return decorate
