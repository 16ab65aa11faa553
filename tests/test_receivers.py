"""Receivers: validation, identity, async detection and descriptions that never fail."""

from __future__ import annotations

import functools
import inspect
import sys
from typing import Any

import pytest
from asgiref.sync import markcoroutinefunction

from hookwire._dispatch.receivers import (
    describe_callable,
    is_async_callable,
    receiver_key,
    source_location,
    validate_receiver,
)
from hookwire.exceptions import ReceiverSignatureError, ReceiverTypeError


def function(**kwargs: Any) -> None:
    return None


async def coroutine_function(**kwargs: Any) -> None:
    return None


class Handler:
    def method(self, **kwargs: Any) -> None:
        return None

    async def async_method(self, **kwargs: Any) -> None:
        return None

    def __call__(self, **kwargs: Any) -> None:
        return None


class AsyncCallable:
    async def __call__(self, **kwargs: Any) -> None:
        return None


class Unprintable:
    def __call__(self, **kwargs: Any) -> None:
        return None

    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


def test_functions_methods_and_instances_are_described_by_module_and_qualname() -> None:
    handler = Handler()
    assert describe_callable(function) == f"{__name__}.function"
    assert describe_callable(handler.method) == f"{__name__}.Handler.method"
    assert describe_callable(handler) == f"{__name__}.Handler"
    assert describe_callable(functools.partial(function)) == f"{__name__}.partial(function)"
    assert describe_callable(len) == "builtins.len"


def test_describing_an_object_whose_repr_and_str_raise_never_raises() -> None:
    assert describe_callable(Unprintable()) == f"{__name__}.Unprintable"

    class Hostile:
        def __getattribute__(self, name: str) -> Any:
            raise RuntimeError("hostile")

        def __call__(self, **kwargs: Any) -> None:
            return None

    assert describe_callable(Hostile()) == f"{__name__}.{Hostile.__qualname__}"


def test_source_location_points_at_the_definition() -> None:
    file, line = source_location(function)
    assert file == __file__
    assert line == function.__code__.co_firstlineno
    assert source_location(Handler().method)[0] == __file__
    assert source_location(functools.partial(function))[0] == __file__
    assert source_location(Handler())[0] == __file__
    assert source_location(len) == (None, None)


def test_bound_methods_are_identified_by_instance_and_function() -> None:
    handler = Handler()
    assert receiver_key(handler.method) == receiver_key(handler.method)
    assert receiver_key(handler.method) != receiver_key(Handler().method)
    assert receiver_key(function) == id(function)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (function, False),
        (coroutine_function, True),
        (functools.partial(coroutine_function), True),
        (Handler().async_method, True),
        (Handler().method, False),
        (AsyncCallable(), True),
        (Handler(), False),
        (markcoroutinefunction(lambda **kwargs: None), True),
    ],
    ids=[
        "function",
        "async-def",
        "partial",
        "async-method",
        "method",
        "async-call",
        "call",
        "mark",
    ],
)
def test_async_receivers_are_recognised_as_django_does(target: Any, expected: bool) -> None:
    assert is_async_callable(target) is expected


@pytest.mark.skipif(sys.version_info < (3, 12), reason="inspect.markcoroutinefunction is 3.12+")
def test_inspect_marked_functions_are_async() -> None:
    marked = inspect.markcoroutinefunction(lambda **kwargs: None)  # type: ignore[attr-defined]
    assert is_async_callable(marked)


def test_validation_accepts_any_callable_taking_kwargs() -> None:
    for target in (function, Handler().method, Handler(), functools.partial(function)):
        validate_receiver(target)


def test_validation_names_the_receiver_and_where_it_is_defined() -> None:
    def positional_only(sender: object) -> None:
        return None

    with pytest.raises(ReceiverSignatureError) as info:
        validate_receiver(positional_only)
    assert str(info.value).startswith("Signal receivers must accept keyword arguments (**kwargs).")
    assert "positional_only" in str(info.value)
    assert f"{__file__}:{positional_only.__code__.co_firstlineno}" in str(info.value)
    assert info.value.receiver is positional_only

    with pytest.raises(ReceiverTypeError) as not_callable:
        validate_receiver(3)
    assert str(not_callable.value).startswith("Signal receivers must be callable.")


def test_a_wrapped_function_is_checked_through_its_signature() -> None:
    def inner(sender: object) -> None:
        return None

    @functools.wraps(inner)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        return None

    with pytest.raises(ReceiverSignatureError):
        validate_receiver(wrapper)  # inspect follows __wrapped__, as Django's check does


def _on_dead(_reference: Any) -> None:
    return None


def test_a_registration_reads_back_through_its_accessors_what_it_was_built_from() -> None:
    from hookwire._dispatch.receivers import (
        NONE_KEY,
        dispatch_uid_of,
        func_of,
        getter_of,
        is_alive,
        is_async_of,
        is_weak,
        key_of,
        live_receiver,
        lookup_key,
        new_registration,
        registered_sender,
        scope_of,
        sender_key_of,
        sender_ref_of,
    )

    class Sender:
        pass

    handler = Handler()
    scope = object()
    # A weakly held bound method, for a sender that can be weakly referenced.
    key = lookup_key(handler.method, Sender, "uid")
    reg = new_registration(key, handler.method, Sender, True, "uid", scope, _on_dead)
    assert key_of(reg) == key
    assert sender_key_of(reg) == id(Sender)
    assert getter_of(reg)() is handler
    assert func_of(reg) is Handler.method
    assert live_receiver(reg) == handler.method
    assert is_async_of(reg) is False
    assert is_weak(reg) is True
    assert dispatch_uid_of(reg) == "uid"
    assert scope_of(reg) is scope
    assert sender_ref_of(reg)() is Sender
    assert registered_sender(reg) is Sender
    assert is_alive(reg)
    # A strongly held coroutine function, for any sender.
    key = lookup_key(coroutine_function, None, None)
    reg = new_registration(key, coroutine_function, None, False, None, None, _on_dead)
    assert sender_key_of(reg) == NONE_KEY
    assert getter_of(reg)() is coroutine_function
    assert func_of(reg) is None
    assert is_async_of(reg) is True
    assert is_weak(reg) is False
    assert dispatch_uid_of(reg) is None
    assert scope_of(reg) is None
    assert sender_ref_of(reg) is None
    assert registered_sender(reg) is None
    # A sender that cannot be weakly referenced is held strongly.
    reg = new_registration(lookup_key(function, 42, None), function, 42, True, None, None, _on_dead)
    assert sender_ref_of(reg) is None
    assert registered_sender(reg) == 42
    assert sender_key_of(reg) == id(42)


def test_a_registration_of_a_receiver_that_cannot_be_weakly_referenced_is_refused() -> None:
    from hookwire._dispatch.receivers import lookup_key, new_registration

    class Slotted:
        __slots__ = ()

        def __call__(self, **kwargs: Any) -> None:
            return None

    target = Slotted()
    with pytest.raises(ReceiverTypeError, match="cannot be weakly referenced"):
        new_registration(lookup_key(target, None, None), target, None, True, None, None, _on_dead)
