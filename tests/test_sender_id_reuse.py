"""A dead sender's ``id()`` taken by a new object: nothing connected for the dead one reaches it.

CPython gives a new object the memory, and so the ``id()``, of one just freed. Registrations
are filed by ``id(sender)``, so every path that looks them up must tell the dead sender from
the newcomer: the four send methods (with wrappers attached or not, with plain, bound-method
and async receivers, with or without ``use_caching``), ``has_listeners``, ``_live_receivers``,
``receivers``, ``connect`` and ``disconnect`` (which file by the same key), ``dispatch_uid``
keys, and a subclass that connects through ``super().connect`` as Django's ``ModelSignal``
does. Django tests this by patching its private ``_make_id``; hookwire never calls it, so the
ids here are really reused.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from typing import Any

import pytest

from hookwire import Signal
from hookwire._dispatch.tracing import install_tracer, remove_tracer
from hookwire.testing import SignalRecorder


class Sender:
    pass


def first_receiver(sender: object, **kwargs: Any) -> str:
    return "first"


def second_receiver(sender: object, **kwargs: Any) -> str:
    return "second"


async def async_first(sender: object, **kwargs: Any) -> str:
    return "async first"


class Listener:
    def on_signal(self, sender: object, **kwargs: Any) -> str:
        return "bound first"


def reusing_newcomers(
    signal: Signal, connect: Callable[[Signal, Sender], None], count: int = 200
) -> list[Sender]:
    """Connect for ``count`` senders, send from each, let them die; newcomers taking their
    ids (at most five)."""
    senders = [Sender() for _ in range(count)]
    for sender in senders:
        connect(signal, sender)
    for sender in senders:
        assert signal.has_listeners(sender)
    dead_ids = {id(sender) for sender in senders}
    del sender
    senders.clear()
    gc.collect()
    return newcomers_taking(dead_ids)


def newcomers_taking(ids: set[int], wanted: int = 5, at_most: int = 400_000) -> list[Sender]:
    """New senders that took ``ids`` of dead ones (up to ``wanted``). In a process that ran
    many tests the allocator first fills the holes other objects left, so as many are made
    as it takes (all kept alive meanwhile, so none is freed to be made again)."""
    made: list[Sender] = []
    reusing: list[Sender] = []
    while len(reusing) < wanted and len(made) < at_most:
        batch = [Sender() for _ in range(2_000)]
        made.extend(batch)
        reusing.extend(newcomer for newcomer in batch if id(newcomer) in ids)
    assert reusing, "the allocator reused none of the dead senders' ids"
    return reusing[:wanted]


@contextmanager
def wrapped(wrappers: str) -> Iterator[None]:
    with ExitStack() as stack:
        if wrappers == "recorder+tracer":
            stack.enter_context(SignalRecorder())
            install_tracer(lambda trace: None)
            stack.callback(remove_tracer)
        yield


def send(signal: Signal, method: str, sender: object) -> list[tuple[Any, Any]]:
    sent = getattr(signal, method)(sender)
    if asyncio.iscoroutine(sent):
        result: list[tuple[Any, Any]] = asyncio.run(sent)
        return result
    return sent  # type: ignore[no-any-return]


listener = Listener()
CONNECTS: dict[str, Callable[[Signal, Sender], None]] = {
    "function": lambda signal, sender: signal.connect(first_receiver, sender=sender),
    "bound method": lambda signal, sender: signal.connect(listener.on_signal, sender=sender),
    "async": lambda signal, sender: signal.connect(async_first, sender=sender),
}


@pytest.mark.parametrize("wrappers", ["none", "recorder+tracer"])
@pytest.mark.parametrize("use_caching", [False, True])
@pytest.mark.parametrize("kind", sorted(CONNECTS))
@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
def test_a_send_from_a_newcomer_reaches_none_of_the_dead_senders_receivers(
    method: str, kind: str, use_caching: bool, wrappers: str
) -> None:
    signal = Signal(use_caching=use_caching)
    signal.connect(second_receiver)
    with wrapped(wrappers):
        reusing = reusing_newcomers(signal, CONNECTS[kind])
        for newcomer in reusing:
            assert send(signal, method, newcomer) == [(second_receiver, "second")]


def test_lookups_see_nothing_of_the_dead_sender() -> None:
    signal = Signal()
    for newcomer in reusing_newcomers(signal, CONNECTS["function"]):
        assert not signal.has_listeners(newcomer)
        assert signal._live_receivers(newcomer) == ([], [])
    assert signal.receivers == []


@pytest.mark.parametrize("receiver", [first_receiver, second_receiver])
def test_connecting_for_a_newcomer_connects_whatever_the_dead_sender_had(
    receiver: Callable[..., str],
) -> None:
    # Django's test_garbage_collected_sender: a receiver connected for the newcomer is called,
    # and only it; the same receiver as the dead sender's shares its lookup key.
    signal = Signal()
    for newcomer in reusing_newcomers(signal, CONNECTS["function"]):
        signal.connect(receiver, sender=newcomer)
        assert signal.send(newcomer) == [(receiver, receiver(None))]
        assert signal.disconnect(receiver, sender=newcomer) is True


def test_disconnecting_for_a_newcomer_removes_nothing_of_the_dead_sender() -> None:
    signal = Signal()
    for newcomer in reusing_newcomers(signal, CONNECTS["function"]):
        assert signal.disconnect(first_receiver, sender=newcomer) is False


def test_a_dispatch_uid_of_the_dead_sender_does_not_block_the_newcomer() -> None:
    signal = Signal()
    reusing = reusing_newcomers(
        signal, lambda s, sender: s.connect(first_receiver, sender=sender, dispatch_uid="uid")
    )
    for newcomer in reusing:
        signal.connect(second_receiver, sender=newcomer, dispatch_uid="uid")
        assert signal.send(newcomer) == [(second_receiver, "second")]
        assert signal.disconnect(sender=newcomer, dispatch_uid="uid") is True


class ModelStyleSignal(Signal):
    """Connects through ``super().connect`` bound in a partial, as Django's ModelSignal."""

    def connect(  # type: ignore[override]
        self, receiver: Callable[..., Any], sender: object = None, weak: bool = True, **kw: Any
    ) -> None:
        partial(super().connect, receiver, weak=weak, **kw)(sender=sender)


def test_a_subclass_connecting_like_djangos_model_signal_keeps_the_newcomer_apart() -> None:
    signal = ModelStyleSignal()
    for newcomer in reusing_newcomers(signal, CONNECTS["function"]):
        assert signal.send(newcomer) == []
        signal.connect(second_receiver, sender=newcomer)
        assert signal.send_robust(newcomer) == [(second_receiver, "second")]


def _die_at_the_recursion_limit(holder: list[Any]) -> None:
    """Drop the references ``holder`` keeps where no Python function can be called any more,
    so the callbacks of the weak references to what dies cannot run."""

    def deeper() -> None:
        try:
            deeper()
        except RecursionError:
            holder.clear()

    previous_hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None  # each callback's RecursionError
    try:
        deeper()
    finally:
        sys.unraisablehook = previous_hook


@pytest.mark.usefixtures("collector_paused")
@pytest.mark.parametrize("wrappers", ["none", "recorder+tracer"])
@pytest.mark.parametrize("kind", sorted(CONNECTS))
@pytest.mark.parametrize(
    "method", ["send", "send_robust", "asend", "asend_robust", "has_listeners", "live"]
)
def test_a_plan_left_by_a_sender_dead_before_its_callback_ran_never_serves_a_newcomer(
    method: str, kind: str, wrappers: str
) -> None:
    """Senders die at the recursion limit, where their weak references' callbacks cannot run
    to drop the plans built for them: the plans stay under ids that newcomers then take. A
    newcomer must get the any-sender receivers only, never a dead sender's."""
    signal = Signal()
    anyone = method != "has_listeners"  # which then has nothing to listen but the dead's
    if anyone:
        signal.connect(second_receiver)
    holder = [Sender() for _ in range(200)]
    for sender in holder:
        CONNECTS[kind](signal, sender)
        send(signal, "send_robust", sender)  # builds and keeps its plan
    dead_ids = {id(sender) for sender in holder}
    del sender
    _die_at_the_recursion_limit(holder)
    left = dead_ids & set(signal.sender_receivers_cache)
    assert left, "every callback ran: nothing left to check"
    reusing = newcomers_taking(left)
    with wrapped(wrappers):
        for newcomer in reusing:
            if method == "has_listeners":
                assert not signal.has_listeners(newcomer)
            elif method == "live":
                assert signal._live_receivers(newcomer) == ([second_receiver], [])
            else:
                assert send(signal, method, newcomer) == [(second_receiver, "second")]
    # Once the dead registrations are purged, the newcomers' own connections work as usual.
    signal._clear_dead_receivers()
    CONNECTS[kind](signal, reusing[0])
    responses = send(signal, "send_robust", reusing[0])
    assert len(responses) == (2 if anyone else 1)
