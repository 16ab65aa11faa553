"""``Signal`` connect/disconnect/send: the django.dispatch contract and the faults we fix."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import re
import subprocess
import sys
import threading
import tracemalloc
import weakref
from typing import Any

import pytest
from onepython import TARGET_PINNED, interpreter_independent

from hookwire import Signal, receiver
from hookwire._dispatch import attribution
from hookwire._dispatch.attribution import claim_module, plugin_scope
from hookwire._dispatch.signal import all_signals
from hookwire.exceptions import (
    ReceiverSignatureError,
    ReceiverTypeError,
    RecursiveSendError,
    WeakReceiverWarning,
)


def plain(sender: object, **kwargs: Any) -> str:
    return "plain"


def other(sender: object, **kwargs: Any) -> str:
    return "other"


class Owner:
    def __init__(self) -> None:
        self.calls = 0

    def method(self, sender: object, **kwargs: Any) -> str:
        self.calls += 1
        return "method"


class Sender:
    pass


# -- connect and send -----------------------------------------------------------------


def test_receivers_are_called_in_connect_order_with_signal_and_sender() -> None:
    signal = Signal()
    seen: list[tuple[str, Any, Any, dict[str, Any]]] = []

    def first(signal: Signal, sender: object, **kwargs: Any) -> int:
        seen.append(("first", signal, sender, kwargs))
        return 1

    def second(signal: Signal, sender: object, **kwargs: Any) -> int:
        seen.append(("second", signal, sender, kwargs))
        return 2

    signal.connect(first)
    signal.connect(second)
    assert signal.send(sender="me", value=3) == [(first, 1), (second, 2)]
    assert seen == [
        ("first", signal, "me", {"value": 3}),
        ("second", signal, "me", {"value": 3}),
    ]


def test_connecting_the_same_receiver_twice_registers_it_once() -> None:
    signal = Signal()
    signal.connect(plain)
    signal.connect(plain)
    assert signal.send(None) == [(plain, "plain")]
    assert len(signal.receivers) == 1


def test_the_same_dispatch_uid_registers_only_the_first_receiver() -> None:
    signal = Signal()
    signal.connect(plain, dispatch_uid="uid")
    signal.connect(other, dispatch_uid="uid")
    assert signal.send(None) == [(plain, "plain")]
    assert signal.disconnect(dispatch_uid="uid") is True
    assert signal.send(None) == []


@pytest.mark.parametrize("uid", [0, ""])
def test_falsy_dispatch_uids_identify_receivers_like_any_other_uid(uid: object) -> None:
    signal = Signal()
    signal.connect(plain, dispatch_uid=uid)
    signal.connect(other, dispatch_uid=uid)
    assert signal.send(None) == [(plain, "plain")]
    assert signal.disconnect(dispatch_uid=uid) is True
    assert signal.disconnect(dispatch_uid=uid) is False
    assert signal.receivers == []


def test_a_sender_filter_restricts_which_sends_reach_the_receiver() -> None:
    signal = Signal()
    signal.connect(plain, sender=Sender)
    signal.connect(other)
    assert signal.send(Sender) == [(plain, "plain"), (other, "other")]
    assert signal.send(object()) == [(other, "other")]
    assert signal.send(None) == [(other, "other")]


@pytest.mark.parametrize("use_caching", [False, True])
@pytest.mark.parametrize("sender", [42, "x", (1, 2), [1, 2]])
def test_senders_that_cannot_be_weakly_referenced_work_with_and_without_caching(
    use_caching: bool, sender: object
) -> None:
    signal = Signal(use_caching=use_caching)
    signal.connect(plain, sender=sender)
    assert signal.send(sender) == [(plain, "plain")]
    assert signal.send(sender) == [(plain, "plain")]
    assert signal.has_listeners(sender)
    assert signal.send(object()) == []
    assert signal.disconnect(plain, sender=sender) is True
    assert signal.send(sender) == []


@pytest.mark.parametrize("use_caching", [False, True])
def test_receivers_tied_to_a_dead_sender_never_fire_for_an_object_reusing_its_id(
    use_caching: bool,
) -> None:
    signal = Signal(use_caching=use_caching)
    senders = [Sender() for _ in range(200)]
    for sender in senders:
        signal.connect(plain, sender=sender)
    # Every sender's receivers are looked up once more after the last connect, so each id
    # is in use when the senders die.
    assert all(signal.send(sender) == [(plain, "plain")] for sender in senders)
    assert all(signal.has_listeners(sender) for sender in senders)
    dead_ids = {id(sender) for sender in senders}
    watchers = [weakref.ref(sender) for sender in senders]
    del sender
    senders.clear()
    assert all(watcher() is None for watcher in watchers)  # the signal held none of them
    newcomers = [Sender() for _ in range(2_000)]
    reusing = [newcomer for newcomer in newcomers if id(newcomer) in dead_ids]
    assert reusing, "the allocator reused none of the dead senders' ids"
    assert [signal.send(newcomer) for newcomer in reusing] == [[] for _ in reusing]
    assert not any(signal.has_listeners(newcomer) for newcomer in reusing)
    assert signal.receivers == []


def test_send_with_no_receivers_returns_an_empty_list() -> None:
    signal = Signal()
    assert signal.send(None) == []
    assert signal.send_robust(None) == []
    assert not signal.has_listeners()


def test_receiver_decorator_connects_to_one_or_several_signals_and_keeps_the_function() -> None:
    first, second = Signal(), Signal()

    @receiver([first, second], sender=Sender, dispatch_uid="decorated")
    def decorated(sender: object, **kwargs: Any) -> str:
        return "decorated"

    @receiver(first)
    def single(sender: object, **kwargs: Any) -> str:
        return "single"

    assert decorated(None) == "decorated"
    assert first.send(Sender) == [(decorated, "decorated"), (single, "single")]
    assert second.send(Sender) == [(decorated, "decorated")]


# -- disconnect -----------------------------------------------------------------------


def test_disconnect_reports_whether_something_was_removed_and_never_raises() -> None:
    signal = Signal()
    signal.connect(plain, sender=Sender)
    assert signal.disconnect(other) is False
    assert signal.disconnect(plain) is False  # wrong sender
    assert signal.disconnect(plain, sender=Sender) is True
    assert signal.disconnect(plain, sender=Sender) is False
    assert signal.disconnect() is False
    assert signal.disconnect(dispatch_uid="nothing") is False


def test_a_reconnected_receiver_goes_to_the_end_of_the_order() -> None:
    signal = Signal()
    signal.connect(plain)
    signal.connect(other)
    signal.disconnect(plain)
    signal.connect(plain)
    assert [r for r, _ in signal.send(None)] == [other, plain]


def test_connect_and_disconnect_by_lookup_key_removes_exactly_one_registration() -> None:
    signal = Signal()
    with plugin_scope("alpha") as scope:
        signal.connect(plain, sender=Sender)
        signal.connect(other)
        signal.connect(plain, sender=Sender)  # already there: not recorded twice
    assert len(scope.connections) == 2
    assert scope.undo() == 2
    assert signal.receivers == []


# -- weak references ------------------------------------------------------------------


def test_a_weakly_connected_bound_method_dies_with_its_instance() -> None:
    signal = Signal()
    owner = Owner()
    signal.connect(owner.method)
    assert signal.send(None) == [(owner.method, "method")]
    del owner
    gc.collect()
    assert signal.send(None) == []
    assert signal.receivers == []
    assert not signal.has_listeners()


def test_bound_methods_are_keyed_on_instance_and_function() -> None:
    signal = Signal()
    first, second = Owner(), Owner()
    signal.connect(first.method)
    signal.connect(first.method)
    signal.connect(second.method)
    assert [r for r, _ in signal.send(None)] == [first.method, second.method]
    assert signal.disconnect(first.method) is True
    assert [r for r, _ in signal.send(None)] == [second.method]


def test_ready_run_twice_with_new_instances_keeps_one_registration_each() -> None:
    signal = Signal()

    class Plugin:
        def ready(self) -> None:
            signal.connect(self.on_event)
            signal.connect(self.on_event, dispatch_uid="plugin.on_event")

        def on_event(self, **kwargs: Any) -> None:
            return None

    first = Plugin()
    first.ready()
    del first
    gc.collect()
    second = Plugin()
    second.ready()
    second.ready()
    assert [r for r, _ in signal.send(None)] == [second.on_event, second.on_event]
    assert len(signal.receivers) == 2  # by identity, and by dispatch_uid


def test_strongly_connected_receivers_outlive_their_last_outside_reference() -> None:
    signal = Signal()

    def make() -> Any:
        def closure(**kwargs: Any) -> str:
            return "closure"

        return closure

    signal.connect(make(), weak=False)
    gc.collect()
    assert [response for _, response in signal.send(None)] == ["closure"]


def test_a_lambda_connected_weakly_warns_that_it_dies_at_once() -> None:
    signal = Signal()
    with pytest.warns(WeakReceiverWarning, match="weak=False") as record:
        signal.connect(lambda **kwargs: None)
    assert record[0].filename == __file__  # points at the connect() call
    with pytest.warns(WeakReceiverWarning, match="weak=False"):
        signal.connect(functools.partial(other, None))
    gc.collect()
    assert signal.send(None) == []


def test_a_lambda_kept_alive_by_the_caller_does_not_warn() -> None:
    signal = Signal()
    kept = lambda **kwargs: "kept"  # noqa: E731
    signal.connect(kept)
    signal.connect(lambda **kwargs: "strong", weak=False)
    assert [response for _, response in signal.send(None)] == ["kept", "strong"]


def test_weakly_connecting_an_object_without_weakref_support_says_to_use_weak_false() -> None:
    class Slotted:
        __slots__ = ()

        def __call__(self, **kwargs: Any) -> str:
            return "slotted"

    signal = Signal()
    with pytest.raises(ReceiverTypeError, match="weak=False"):
        signal.connect(Slotted())
    signal.connect(Slotted(), weak=False)
    assert [response for _, response in signal.send(None)] == ["slotted"]


def test_one_receiver_connected_ten_thousand_times_keeps_memory_flat() -> None:
    signal = Signal()
    owner = Owner()
    signal.connect(owner.method)
    signal.connect(plain)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(10_000):
            signal.connect(owner.method)
            signal.connect(plain)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 20_000
    assert len(signal.receivers) == 2


def test_rows_of_dead_receivers_are_freed_by_the_next_send() -> None:
    signal = Signal()
    signal.connect(plain)
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        owners = [Owner() for _ in range(10_000)]
        for owner in owners:
            signal.connect(owner.method)
        del owner
        connected, _ = tracemalloc.get_traced_memory()
        owners.clear()
        gc.collect()
        assert signal.send(None) == [(plain, "plain")]
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # What stays is at most the registry's table, which a dict never shrinks.
    assert after - before < (connected - before) / 5
    assert len(signal.receivers) == 1


@pytest.mark.slow
def test_a_dead_receivers_id_reused_by_a_new_function_can_connect() -> None:
    signal = Signal()
    ids = set()
    for _ in range(200):

        def fresh(**kwargs: Any) -> str:
            return "fresh"

        ids.add(id(fresh))
        signal.connect(fresh)
        assert [r for r, _ in signal.send(None)] == [fresh]
        alive = weakref.ref(fresh)
        del fresh
        # Reference counting frees it here; a full collection is needed only if something
        # kept it in a cycle (and would cost a walk of every object of this test run).
        if alive() is not None:
            gc.collect()
        assert alive() is None
    assert signal.receivers == []
    # The allocator gave a dead receiver's address to a later one: the case under test.
    assert len(ids) < 200


# -- validation -----------------------------------------------------------------------


def test_a_non_callable_receiver_is_a_type_error_naming_it() -> None:
    signal = Signal()
    with pytest.raises(TypeError, match=r"^Signal receivers must be callable") as info:
        signal.connect("not callable")  # type: ignore[arg-type]
    assert isinstance(info.value, ReceiverTypeError)
    assert "str" in str(info.value)


def test_a_receiver_without_kwargs_is_a_value_error_naming_it_and_where_it_is() -> None:
    def no_kwargs(sender: object) -> None:
        return None

    signal = Signal()
    with pytest.raises(
        ValueError, match=r"^Signal receivers must accept keyword arguments"
    ) as info:
        signal.connect(no_kwargs)
    assert isinstance(info.value, ReceiverSignatureError)
    message = str(info.value)
    assert "no_kwargs" in message
    assert f"{__file__}:" in message


def test_partials_and_callable_objects_are_validated_too() -> None:
    class NoKwargs:
        def __call__(self, sender: object) -> None:
            return None

    signal = Signal()
    with pytest.raises(ReceiverSignatureError):
        signal.connect(NoKwargs(), weak=False)
    with pytest.raises(ReceiverSignatureError):
        signal.connect(functools.partial(lambda a, sender: None, 1), weak=False)
    signal.connect(functools.partial(other, None), weak=False)
    assert len(signal.receivers) == 1


# -- errors ---------------------------------------------------------------------------


def test_send_propagates_the_first_error_with_a_note_naming_receiver_and_plugin() -> None:
    signal = Signal(name="saved")
    calls: list[str] = []

    def failing(**kwargs: Any) -> None:
        calls.append("failing")
        raise LookupError("boom")

    def after(**kwargs: Any) -> None:
        calls.append("after")

    with plugin_scope("pizza"):
        signal.connect(failing)
    signal.connect(after)
    with pytest.raises(LookupError, match="boom") as info:
        signal.send(None)
    assert calls == ["failing"]
    notes = " ".join(info.value.__notes__)
    assert "failing" in notes
    assert "'pizza'" in notes
    assert "saved" in notes
    assert info.value.__traceback__ is not None


def test_the_plugin_of_an_unscoped_receiver_comes_from_its_module() -> None:
    signal = Signal()

    def failing(**kwargs: Any) -> None:
        raise LookupError("boom")

    signal.connect(failing)
    claims = attribution._snapshot_claims()
    claim_module(__name__, "owner-plugin")
    try:
        with pytest.raises(LookupError) as info:
            signal.send(None)
    finally:
        attribution._restore_claims(claims)
    assert "'owner-plugin'" in " ".join(info.value.__notes__)


def test_send_robust_calls_everyone_and_returns_each_error_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    signal = Signal()

    def failing(**kwargs: Any) -> None:
        raise LookupError("boom")

    owner = Owner()
    signal.connect(failing)
    signal.connect(owner.method)
    with caplog.at_level(logging.ERROR, logger="hookwire.dispatch"):
        responses = signal.send_robust(None)
    assert responses[1] == (owner.method, "method")
    receiver_called, error = responses[0]
    assert receiver_called is failing
    assert isinstance(error, LookupError)
    assert error.__traceback__ is not None
    records = [r for r in caplog.records if r.name == "hookwire.dispatch"]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert "failing" in records[0].getMessage()
    assert records[0].exc_info is not None


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__

    def __call__(self, **kwargs: Any) -> None:
        raise ValueError(self)

    def refuse(self, **kwargs: Any) -> None:
        raise ValueError(self)


@pytest.mark.parametrize(
    "make",
    [
        lambda: functools.partial(lambda value, **kwargs: 1 / 0, 1),
        BrokenRepr,
        lambda: BrokenRepr().refuse,
    ],
    ids=["partial", "broken-repr", "bound-method"],
)
def test_describing_any_failing_callable_never_raises(
    make: Any, caplog: pytest.LogCaptureFixture
) -> None:
    signal = Signal()
    target = make()
    # A bound method is connected weakly, as usual (``target`` keeps its owner alive); the
    # others are referenced by nothing else and would die at once.
    signal.connect(target, weak=hasattr(target, "__func__"))
    with caplog.at_level(logging.ERROR, logger="hookwire.dispatch"):
        responses = signal.send_robust(None)
    assert responses[0][0] == target
    assert isinstance(responses[0][1], Exception)
    assert len(caplog.records) == 1
    caplog.records[0].getMessage()
    with pytest.raises(Exception) as info:
        signal.send(None)
    assert info.value.__notes__


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit, GeneratorExit])
def test_base_exceptions_propagate_from_send_and_send_robust(error: type[BaseException]) -> None:
    signal = Signal()

    def interrupting(**kwargs: Any) -> None:
        raise error

    signal.connect(interrupting)
    with pytest.raises(error):
        signal.send(None)
    with pytest.raises(error):
        signal.send_robust(None)


@pytest.mark.usefixtures("collector_paused")
def test_a_receiver_sending_its_own_signal_raises_a_recursive_send_error_naming_the_chain() -> None:
    signal = Signal(name="looping")

    def again(sender: object, **kwargs: Any) -> None:
        signal.send(sender)

    signal.connect(again)
    with pytest.raises(RecursiveSendError) as info:
        signal.send(None)
    assert "looping" in str(info.value)
    assert any("again" in name for name in info.value.chain)


def test_a_function_marked_as_calling_receivers_must_take_the_signal_first() -> None:
    # The runaway-chain message reads the signal from that parameter of each such frame.
    from hookwire._dispatch.recursion import calls_receivers

    def sender_first(sender: object, signal: Signal) -> None:
        return None

    def nothing() -> None:
        return None

    with pytest.raises(TypeError, match=r"sender_first.*signal or self.*'sender' first"):
        calls_receivers(sender_first)
    with pytest.raises(TypeError, match=r"nothing.*no parameter"):
        calls_receivers(nothing)


@pytest.mark.usefixtures("collector_paused")
def test_a_runaway_chain_through_a_marked_function_names_its_signal() -> None:
    from hookwire._dispatch.recursion import calls_receivers, recursive_send_error

    signal = Signal(name="relayed")

    @calls_receivers
    def relay(signal: Signal, receiver: Any) -> None:
        try:
            receiver(signal=signal, sender=None)
        except RecursionError as error:
            raise recursive_send_error(error) from None

    def again(**kwargs: Any) -> None:
        relay(signal, again)

    with pytest.raises(RecursiveSendError) as info:
        relay(signal, again)
    assert info.value.chain[0].endswith("relayed")
    assert any(name.endswith("again") for name in info.value.chain)


@pytest.mark.usefixtures("collector_paused")
def test_send_robust_does_not_swallow_runaway_recursion() -> None:
    signal = Signal(name="looping")

    def again(sender: object, **kwargs: Any) -> None:
        signal.send_robust(sender)

    signal.connect(again)
    with pytest.raises(RecursiveSendError):
        signal.send_robust(None)


@pytest.mark.usefixtures("collector_paused")
def test_a_receivers_own_recursion_error_is_an_ordinary_failure_for_send_robust() -> None:
    signal = Signal()

    def recurse(n: int) -> int:
        return 1 + recurse(n + 1)

    def deep(**kwargs: Any) -> int:
        return recurse(0)

    signal.connect(deep)
    [(_, error)] = signal.send_robust(None)
    assert isinstance(error, RecursionError)
    assert not isinstance(error, RecursiveSendError)


# -- changes during a send ------------------------------------------------------------


def test_a_receiver_disconnecting_itself_and_connecting_another_applies_next_send() -> None:
    signal = Signal()
    calls: list[str] = []

    def late(**kwargs: Any) -> None:
        calls.append("late")

    def self_removing(**kwargs: Any) -> None:
        calls.append("self_removing")
        signal.disconnect(self_removing)
        signal.connect(late)

    signal.connect(self_removing)
    signal.send(None)
    assert calls == ["self_removing"]
    signal.send(None)
    assert calls == ["self_removing", "late"]


class Recording:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def method(self, **kwargs: Any) -> None:
        self.calls.append("method")


@pytest.mark.parametrize("dropper_first", [True, False])
def test_an_owner_collected_during_a_send_is_called_at_most_once(dropper_first: bool) -> None:
    signal = Signal()
    calls: list[str] = []
    holder = {"owner": Recording(calls)}

    def dropper(**kwargs: Any) -> None:
        holder.clear()  # the last strong reference to the owner
        gc.collect()

    if dropper_first:
        signal.connect(dropper)
    signal.connect(holder["owner"].method)
    if not dropper_first:
        signal.connect(dropper)
    signal.send(None)
    signal.send(None)
    signal.send(None)
    assert calls == ([] if dropper_first else ["method"])
    assert len(signal.receivers) == 1


def test_a_weakref_callback_that_disconnects_does_not_deadlock() -> None:
    signal = Signal()
    signal.connect(plain)
    owner = Owner()
    weakref.finalize(owner, signal.disconnect, plain)
    signal.connect(owner.method)
    results: list[Any] = []

    def scenario() -> None:
        nonlocal owner
        with signal.lock:  # the callbacks may run while this thread holds the writers' lock
            del owner
            gc.collect()
        results.append(signal.send(None))

    thread = threading.Thread(target=scenario, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "deadlocked"
    assert results == [[]]


def test_receivers_mutating_their_kwargs_do_not_affect_the_others() -> None:
    signal = Signal()
    seen: list[dict[str, Any]] = []

    def mutating(**kwargs: Any) -> None:
        kwargs["value"] = "changed"
        kwargs.pop("sender")
        kwargs["extra"] = True

    def observing(**kwargs: Any) -> None:
        seen.append(dict(kwargs))

    signal.connect(mutating)
    signal.connect(observing)
    signal.send("me", value="original")
    assert seen == [{"signal": signal, "sender": "me", "value": "original"}]


# -- beyond Django --------------------------------------------------------------------


def test_connected_to_connects_only_inside_the_block() -> None:
    signal = Signal()
    with signal.connected_to(lambda **kwargs: "temporary", sender=Sender) as temporary:
        assert signal.send(Sender) == [(temporary, "temporary")]
    assert signal.send(Sender) == []


def test_connected_to_keeps_a_receiver_that_was_connected_before() -> None:
    signal = Signal()
    signal.connect(plain)
    with signal.connected_to(plain):
        pass
    assert signal.send(None) == [(plain, "plain")]


def test_muted_signals_call_nobody_until_the_block_ends() -> None:
    signal = Signal()
    called = []

    def sync_one(**kwargs: Any) -> str:
        called.append("sync")
        return "sync"

    async def async_one(**kwargs: Any) -> str:
        called.append("async")
        return "async"

    signal.connect(sync_one)
    signal.connect(async_one)
    with signal.muted():
        with signal.muted():
            assert signal.send(None) == []
        assert signal.send_robust(None) == []
        assert asyncio.run(signal.asend(None)) == []
        assert asyncio.run(signal.asend_robust(None)) == []
    assert called == []
    assert signal.send(None) == [(sync_one, "sync"), (async_one, "async")]
    assert called == ["sync", "async"]


def test_signals_know_their_module_and_qualified_name() -> None:
    named = Signal(name="saved", doc="Saved.")
    assert named.module == __name__
    assert named.qualified_name == f"{__name__}.saved"
    assert named.doc == "Saved."

    class Custom(Signal):
        def __init__(self) -> None:
            super().__init__(name="custom")

    assert Custom().module == __name__
    named.name = "renamed"
    assert named.qualified_name == f"{__name__}.renamed"


def test_all_signals_lists_live_signals_only() -> None:
    signal = Signal()
    assert signal in all_signals()
    before = [weakref.ref(live) for live in all_signals()]
    reference = weakref.ref(signal)
    del signal
    gc.collect()
    assert reference() is None
    # The same collection may free other tests' signals too: what is listed
    # must be exactly what is still alive of what was listed before.
    still_alive = [live for ref in before if (live := ref()) is not None]
    assert sorted(map(id, all_signals())) == sorted(map(id, still_alive))
    assert len(still_alive) < len(before)


def test_receivers_list_can_be_restored_as_django_code_does() -> None:
    signal = Signal()
    owner = Owner()
    signal.connect(plain)
    signal.connect(owner.method, sender=Sender)
    saved = signal.receivers
    signal.receivers = []
    assert signal.send(None) == []
    assert signal.send(Sender) == []
    signal.receivers = saved
    assert signal.send(None) == [(plain, "plain")]
    assert [r for r, _ in signal.send(Sender)] == [plain, owner.method]
    signal.sender_receivers_cache.clear()
    assert signal.send(None) == [(plain, "plain")]
    with pytest.raises(TypeError, match=r"only a list read from Signal\.receivers"):
        signal.receivers = [tuple(row) for row in saved]


def test_snapshot_and_restore_put_back_exactly_the_registrations() -> None:
    signal = Signal()
    signal.connect(plain)
    state = signal._snapshot_state()
    signal.connect(other)
    signal.disconnect(plain)
    assert [r for r, _ in signal.send(None)] == [other]
    signal._restore_state(state)
    assert [r for r, _ in signal.send(None)] == [plain]


def test_passing_signal_as_a_named_argument_is_a_type_error_as_in_django() -> None:
    signal = Signal()
    signal.connect(plain)
    with pytest.raises(TypeError, match="multiple values for keyword argument 'signal'"):
        signal.send(None, signal="other")
    [(_, error)] = signal.send_robust(None, signal="other")
    assert isinstance(error, TypeError)


TYPED_USE = """
from hookwire import Signal, receiver

signal = Signal()


@receiver(signal, sender=int)
def on_signal(sender: type, **kwargs: object) -> int:
    return 1


reveal_type(on_signal)
"""


@interpreter_independent(TARGET_PINNED)
@pytest.mark.slow
def test_the_receiver_decorator_keeps_the_function_type_for_mypy(tmp_path: Any) -> None:
    sample = tmp_path / "typed_use.py"
    sample.write_text(TYPED_USE)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(sample)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    pattern = (
        r'Revealed type is "def \(sender: (builtins\.)?type, \*\*kwargs: (builtins\.)?object\)'
        r' -> (builtins\.)?int"'
    )
    # The test environments install the lint extra, so a missing mypy fails here (its stderr
    # says so) rather than skipping.
    assert re.search(pattern, result.stdout), result.stdout + result.stderr
    assert result.returncode == 0, result.stdout


def test_an_unnamed_signal_is_named_after_the_module_global_it_becomes() -> None:
    import types

    module = types.ModuleType("unnamed_signal_home")
    sys.modules[module.__name__] = module
    try:
        exec("from hookwire import Signal\nmade = [Signal()]", module.__dict__)
        signal = module.made[0]
        assert signal.qualified_name == f"unnamed_signal_home.<signal at {id(signal):#x}>"
        assert signal.qualified_name == f"unnamed_signal_home.<signal at {id(signal):#x}>"
        module.ready = signal  # the module gains a name: looked up again
        assert signal.qualified_name == "unnamed_signal_home.ready"
        signal.module = "elsewhere"
        assert signal.qualified_name == "elsewhere.ready"
    finally:
        del sys.modules[module.__name__]
