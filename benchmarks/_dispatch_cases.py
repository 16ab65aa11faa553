"""The cases of bench_dispatch.py: receivers, senders and what each implementation runs.

Each builder returns a :class:`Prepared` statement for one implementation, or None when that
implementation has no equivalent of the case (shown as n/a).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import MethodType
from typing import Any

import _benchutil as bu

IMPLEMENTATIONS = ("hookwire", "django", "blinker", "psygnal", "direct")
#: Measured only in the rows that name it (``Case.extra``), interleaved with the others: the
#: same hookwire send on a signal without declared arguments, the baseline of a declared one.
UNDECLARED = "hookwire_undeclared"

# --------------------------------------------------------------------------- receivers & senders


class Sender:
    """The sender of every send, a class as Django's model senders are."""


OTHER_SENDERS = [type(f"OtherSender{index}", (), {}) for index in range(9)]


def make_receivers(count: int) -> list[Callable[..., None]]:
    """``count`` distinct functions taking ``(sender, **kwargs)``: the Django receiver shape."""

    def make(index: int) -> Callable[..., None]:
        def receiver(sender: object, **kwargs: object) -> None:
            return None

        receiver.__qualname__ = f"receiver_{index}"
        return receiver

    return [make(index) for index in range(count)]


def make_async_receivers(count: int) -> list[Callable[..., Any]]:
    """``count`` distinct coroutine functions taking ``(sender, **kwargs)``."""

    def make(index: int) -> Callable[..., Any]:
        async def receiver(sender: object, **kwargs: object) -> None:
            return None

        receiver.__qualname__ = f"async_receiver_{index}"
        return receiver

    return [make(index) for index in range(count)]


def make_positional_receivers(count: int) -> list[Callable[..., None]]:
    """psygnal's receiver shape: the emitted values as positional arguments."""

    def make(index: int) -> Callable[..., None]:
        def receiver(sender: object, value: int) -> None:
            return None

        receiver.__qualname__ = f"positional_receiver_{index}"
        return receiver

    return [make(index) for index in range(count)]


class Listener:
    """An object whose bound method is the receiver (held weakly through WeakMethod)."""

    def on_signal(self, sender: object, **kwargs: object) -> None:
        return None

    def on_emit(self, sender: object, value: int) -> None:
        return None


def failing_receiver(sender: object, **kwargs: object) -> None:
    raise ValueError("receiver failed on purpose")


# --------------------------------------------------------------------------- implementations


def hookwire_signal_class() -> tuple[Any, str | None]:
    """hookwire.Signal once it can send, or None and the reason."""
    try:
        import hookwire
    except Exception as error:
        return None, f"import hookwire failed: {type(error).__name__}: {error}"
    signal_class = getattr(hookwire, "Signal", None)
    if signal_class is None or not hasattr(signal_class, "send"):
        return None, "hookwire.Signal has no send() yet"
    return signal_class, None


def django_signal_class() -> Any:
    from django.conf import settings

    if not settings.configured:
        # Production settings: Django then skips its DEBUG-only receiver checks in connect().
        settings.configure(DEBUG=False)
    from django.dispatch import Signal

    return Signal


def quiet_logger(name: str) -> None:
    """Failures are logged as in production, into a handler that drops them unformatted."""
    logger = logging.getLogger(name)
    logger.handlers[:] = [logging.NullHandler()]
    logger.propagate = False


@dataclass
class Prepared:
    """What one implementation runs for one case: a statement and its namespace."""

    statement: str
    namespace: dict[str, Any]


@dataclass
class Context:
    """Everything a case builder needs: the signal classes and the event loop."""

    hookwire: Any
    django: Any
    loop: asyncio.AbstractEventLoop
    keep_alive: list[Any] = field(default_factory=list)


def signal_for(
    ctx: Context, implementation: str, *, use_caching: bool = False, declared: bool = False
) -> Any:
    if implementation == "hookwire" and declared:
        # What every send of the cases passes, declared: the argument check runs on each send.
        return ctx.hookwire(use_caching=use_caching, args=["value"])
    if implementation in ("hookwire", UNDECLARED):
        return ctx.hookwire(use_caching=use_caching)
    if implementation == "django":
        return ctx.django(use_caching=use_caching)
    if implementation == "blinker":
        import blinker

        return blinker.Signal()
    if implementation == "psygnal":
        import psygnal

        return psygnal.SignalInstance((object, int))
    raise ValueError(implementation)


def direct_send_function(receivers: Sequence[Callable[..., Any]]) -> Callable[..., Any]:
    """The floor: call the receivers with the same arguments and collect the same pairs."""

    def send(sender: object, **named: object) -> list[tuple[Any, Any]]:
        responses = []
        for receiver in receivers:
            responses.append((receiver, receiver(signal=None, sender=sender, **named)))
        return responses

    return send


def direct_weak_methods_function(methods: Sequence[Callable[..., Any]]) -> Callable[..., Any]:
    """The floor for bound methods held as every dispatcher here holds them, weakly: each
    call dereferences a weak reference to the instance and binds the function to it again
    (what a loop over strong references to the bound methods skips, and may not: it would
    keep every instance alive)."""
    held = [(weakref.ref(method.__self__), method.__func__) for method in methods]

    def send(sender: object, **named: object) -> list[tuple[Any, Any]]:
        responses = []
        for instance_ref, function in held:
            instance = instance_ref()
            if instance is not None:
                receiver = MethodType(function, instance)
                responses.append((receiver, receiver(signal=None, sender=sender, **named)))
        return responses

    return send


def sync_send_case(
    ctx: Context,
    implementation: str,
    *,
    count: int = 0,
    bound: bool = False,
    filtered: bool = False,
    use_caching: bool = False,
    declared: bool = False,
) -> Prepared | None:
    """send(Sender, value=1) with ``count`` receivers (+ 90 on other senders when filtered);
    ``declared``: hookwire's signal declares ``args=["value"]``."""
    if implementation == "psygnal":
        if filtered:
            return None  # psygnal has no notion of a sender to filter on
        signal = signal_for(ctx, implementation)
        if bound:
            listeners = [Listener() for _ in range(count)]
            ctx.keep_alive.append(listeners)
            for listener in listeners:
                signal.connect(listener.on_emit)
        else:
            receivers = make_positional_receivers(count)
            ctx.keep_alive.append(receivers)
            for receiver in receivers:
                signal.connect(receiver)
        return Prepared("sig.emit(sender, 1)", {"sig": signal, "sender": Sender})

    if bound:
        listeners = [Listener() for _ in range(count)]
        ctx.keep_alive.append(listeners)
        targets: list[Callable[..., Any]] = [listener.on_signal for listener in listeners]
    else:
        targets = make_receivers(count)
        ctx.keep_alive.append(targets)
    others = make_receivers(90) if filtered else []
    ctx.keep_alive.append(others)

    if implementation == "direct":
        floor = direct_weak_methods_function(targets) if bound else direct_send_function(targets)
        return Prepared("send(sender, value=1)", {"send": floor, "sender": Sender})
    signal = signal_for(ctx, implementation, use_caching=use_caching, declared=declared)
    target_sender: Any = Sender if filtered else None
    if implementation == "blinker":
        import blinker

        target_sender = Sender if filtered else blinker.ANY
    # Interleave the other senders' receivers with the measured ones, as an app's
    # registrations would be, so a linear scan has to skip them everywhere.
    per_target = len(others) // max(1, len(targets))
    for index, receiver in enumerate(targets):
        signal.connect(receiver, sender=target_sender)
        for position in range(index * per_target, (index + 1) * per_target):
            signal.connect(others[position], sender=OTHER_SENDERS[position % len(OTHER_SENDERS)])
    return Prepared("sig.send(sender, value=1)", {"sig": signal, "sender": Sender})


#: The "many senders" row: receivers connected each for one sender, and how many senders.
MANY_RECEIVERS = 8000
MANY_SENDERS = 800


class ManySender:
    """One of the many senders (instances: the objects plugins listen to each their own of)."""


def many_senders_case(ctx: Context, implementation: str) -> Prepared | None:
    """A warm send from each of 800 senders in turn, each with its own 10 receivers among
    8,000: more distinct senders than a cache of per-sender plans may hold."""
    if implementation == "psygnal":
        return None  # no sender to filter on
    per_sender = MANY_RECEIVERS // MANY_SENDERS
    senders = [ManySender() for _ in range(MANY_SENDERS)]
    receivers = make_receivers(MANY_RECEIVERS)
    ctx.keep_alive.extend([senders, receivers])
    # Receiver i of every sender, then receiver i+1 of every sender: registrations of one
    # sender lie far apart, as when many plugins each connect to their own objects.
    of_sender = {
        id(sender): receivers[index * per_sender : (index + 1) * per_sender]
        for index, sender in enumerate(senders)
    }
    from itertools import cycle

    if implementation == "direct":
        floors = {key: direct_send_function(found) for key, found in of_sender.items()}

        def send(sender: object, **named: object) -> list[tuple[Any, Any]]:
            return floors[id(sender)](sender, **named)

        return Prepared("send(next(senders), value=1)", {"send": send, "senders": cycle(senders)})
    # Django keeps a plan per sender only with use_caching=True (without it every send scans
    # all 8,000); hookwire always keeps plans, so the flag changes nothing for it.
    signal = signal_for(ctx, implementation, use_caching=True)
    for position in range(per_sender):
        for index, sender in enumerate(senders):
            signal.connect(receivers[index * per_sender + position], sender=sender)
    namespace = {"sig": signal, "senders": cycle(senders)}
    for _ in range(2 * MANY_SENDERS):  # warm: every sender sent from once already
        signal.send(next(namespace["senders"]), value=1)
    return Prepared("sig.send(next(senders), value=1)", namespace)


def connect_disconnect_case(ctx: Context, implementation: str, count: int) -> Prepared | None:
    if implementation == "direct":
        return None
    receivers = (
        make_positional_receivers(count) if implementation == "psygnal" else make_receivers(count)
    )
    ctx.keep_alive.append(receivers)
    signal = signal_for(ctx, implementation)
    statement = "for _f in funcs:\n    sig.connect(_f)\nfor _f in funcs:\n    sig.disconnect(_f)"
    return Prepared(statement, {"sig": signal, "funcs": receivers})


def asend_case(ctx: Context, implementation: str, *, sync_receivers: bool) -> Prepared | None:
    """await asend(Sender, value=1) with 10 async or 10 sync receivers."""
    from asgiref.sync import sync_to_async

    if implementation == "psygnal":
        return None
    receivers: list[Callable[..., Any]] = (
        make_receivers(10) if sync_receivers else make_async_receivers(10)
    )
    ctx.keep_alive.append(receivers)
    if implementation == "direct":
        if sync_receivers:
            call_all = direct_send_function(receivers)

            async def direct_asend(sender: object, **named: object) -> Any:
                return await sync_to_async(call_all)(sender, **named)

        else:

            async def direct_asend(sender: object, **named: object) -> Any:
                results = await asyncio.gather(
                    *(r(signal=None, sender=sender, **named) for r in receivers)
                )
                return list(zip(receivers, results, strict=True))

        return Prepared("await asend(sender, value=1)", {"asend": direct_asend, "sender": Sender})
    signal = signal_for(ctx, implementation)
    for receiver in receivers:
        signal.connect(receiver)
    if implementation == "blinker":
        # blinker adapts sync receivers one at a time through the wrapper it is given.
        return Prepared(
            "await sig.send_async(sender, _sync_wrapper=wrap, value=1)",
            {"sig": signal, "sender": Sender, "wrap": sync_to_async},
        )
    if not hasattr(signal, "asend"):
        return None
    return Prepared("await sig.asend(sender, value=1)", {"sig": signal, "sender": Sender})


def send_async_receivers_case(ctx: Context, implementation: str) -> Prepared | None:
    """send(Sender, value=1) from sync code with 10 async receivers."""
    from asgiref.sync import async_to_sync

    if implementation == "psygnal":
        return None
    receivers = make_async_receivers(10)
    ctx.keep_alive.append(receivers)
    if implementation == "direct":

        def direct_send(sender: object, **named: object) -> Any:
            async def gather_all() -> list[Any]:
                return await asyncio.gather(
                    *(r(signal=None, sender=sender, **named) for r in receivers)
                )

            return list(zip(receivers, async_to_sync(gather_all)(), strict=True))

        return Prepared("send(sender, value=1)", {"send": direct_send, "sender": Sender})
    signal = signal_for(ctx, implementation)
    for receiver in receivers:
        signal.connect(receiver)
    if implementation == "blinker":
        # blinker runs each async receiver through the wrapper it is given.
        return Prepared(
            "sig.send(sender, _async_wrapper=wrap, value=1)",
            {"sig": signal, "sender": Sender, "wrap": async_to_sync},
        )
    return Prepared("sig.send(sender, value=1)", {"sig": signal, "sender": Sender})


def send_robust_case(ctx: Context, implementation: str) -> Prepared | None:
    """send_robust(Sender, value=1) with 10 receivers, the fifth raising ValueError."""
    if implementation in ("blinker", "psygnal"):
        return None
    receivers = make_receivers(10)
    receivers[4] = failing_receiver
    ctx.keep_alive.append(receivers)
    if implementation == "direct":
        logger = logging.getLogger("bench.direct")

        def direct_send_robust(sender: object, **named: object) -> list[tuple[Any, Any]]:
            responses: list[tuple[Any, Any]] = []
            for receiver in receivers:
                try:
                    response = receiver(signal=None, sender=sender, **named)
                except Exception as error:
                    logger.error(
                        "Error calling %s in send_robust() (%s)",
                        receiver.__qualname__,
                        error,
                        exc_info=error,
                    )
                    responses.append((receiver, error))
                else:
                    responses.append((receiver, response))
            return responses

        return Prepared(
            "send_robust(sender, value=1)", {"send_robust": direct_send_robust, "sender": Sender}
        )
    signal = signal_for(ctx, implementation)
    for receiver in receivers:
        signal.connect(receiver)
    return Prepared("sig.send_robust(sender, value=1)", {"sig": signal, "sender": Sender})


# --------------------------------------------------------------------------- cases and targets


@dataclass(frozen=True)
class Target:
    """One promise: ``ratio_key`` compared with ``bound``."""

    ratio_key: str
    at_least: bool
    bound: float

    @property
    def label(self) -> str:
        return f"{self.ratio_key} {'>=' if self.at_least else '<='} {self.bound:g}"

    def judge(self, value: float | None) -> str:
        if value is None:
            return bu.NA
        passed = value >= self.bound if self.at_least else value <= self.bound
        return "PASS" if passed else "FAIL"


def faster_than_django(bound: float) -> Target:
    return Target("django/hookwire", True, bound)


#: A send on a signal that declares its arguments costs at most this much more.
DECLARED_AT_MOST = Target("declared/undeclared", False, 1.10)


@dataclass(frozen=True)
class Case:
    key: str
    title: str
    build: Callable[[Context, str], Prepared | None]
    targets: tuple[Target, ...]
    is_async: bool = False
    extra: tuple[str, ...] = ()


def cases(connect_count: int) -> list[Case]:
    not_slower = (faster_than_django(1.0),)
    return [
        Case("send_0", "send, 0 receivers", lambda c, i: sync_send_case(c, i), not_slower),
        Case(
            "send_1",
            "send, 1 receiver",
            lambda c, i: sync_send_case(c, i, count=1),
            (Target("hookwire/direct", False, 1.65), faster_than_django(2.0)),
        ),
        Case(
            "send_1_declared",
            "send, 1 receiver, declared",
            lambda c, i: sync_send_case(c, i, count=1, declared=True),
            (DECLARED_AT_MOST, faster_than_django(2.0)),
            extra=(UNDECLARED,),
        ),
        Case(
            "send_10",
            "send, 10 receivers",
            lambda c, i: sync_send_case(c, i, count=10),
            (Target("hookwire/direct", False, 1.4), faster_than_django(1.5)),
        ),
        Case(
            "send_10_declared",
            "send, 10 receivers, declared",
            lambda c, i: sync_send_case(c, i, count=10, declared=True),
            (DECLARED_AT_MOST, faster_than_django(1.5)),
            extra=(UNDECLARED,),
        ),
        Case(
            "send_100",
            "send, 100 receivers",
            lambda c, i: sync_send_case(c, i, count=100),
            (faster_than_django(1.45),),
        ),
        Case(
            "send_10_bound_methods",
            "send, 10 bound methods",
            lambda c, i: sync_send_case(c, i, count=10, bound=True),
            (Target("hookwire/direct", False, 1.10), faster_than_django(1.8)),
        ),
        Case(
            "send_10_of_100_by_sender",
            "send, 10 for sender + 90 others",
            lambda c, i: sync_send_case(c, i, count=10, filtered=True),
            (faster_than_django(2.5),),
        ),
        Case(
            "send_10_of_100_by_sender_cached",
            "  same, use_caching=True",
            lambda c, i: sync_send_case(c, i, count=10, filtered=True, use_caching=True),
            not_slower,
        ),
        Case(
            "send_10_of_8000_by_800_senders",
            f"send, 10 of {MANY_RECEIVERS:,} by {MANY_SENDERS} senders",
            many_senders_case,
            (Target("blinker/hookwire", True, 1 / 1.2),),
        ),
        Case(
            "connect_disconnect_1000",
            f"connect+disconnect {connect_count}",
            lambda c, i: connect_disconnect_case(c, i, connect_count),
            (faster_than_django(10.0), Target("blinker/hookwire", True, 1.0)),
        ),
        Case(
            "asend_10_async",
            "asend, 10 async receivers",
            lambda c, i: asend_case(c, i, sync_receivers=False),
            (faster_than_django(1.15),),
            is_async=True,
        ),
        Case(
            "asend_10_sync",
            "asend, 10 sync receivers",
            lambda c, i: asend_case(c, i, sync_receivers=True),
            (faster_than_django(1.15),),
            is_async=True,
        ),
        Case(
            "send_10_async_from_sync",
            "send, 10 async receivers",
            send_async_receivers_case,
            not_slower,
        ),
        Case(
            "send_robust_10_one_raises",
            "send_robust, 10 (1 raises)",
            send_robust_case,
            (faster_than_django(1.15),),
        ),
    ]
