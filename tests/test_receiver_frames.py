"""A sync receiver finds above it exactly the frames it finds under Django, on every send path.

Code written for Django relies on it: a receiver that warns with ``stacklevel=N`` (Django's
own ``setting_changed`` receiver does, so that the warning names the line with
``override_settings``) must point at the same place when hookwire dispatches. Each case runs
one scenario twice, on ``django.dispatch.Signal`` and on ``hookwire.Signal`` (with wrappers
attached or not), and compares where every ``stacklevel`` from 1 to 12 lands; frames inside
either dispatcher count as one place, "the dispatcher".
"""

from __future__ import annotations

import asyncio
import functools
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import django
import django.dispatch
import pytest

import hookwire
from hookwire._dispatch.tracing import SendTrace, install_tracer, remove_tracer
from hookwire.testing import SignalRecorder

DISPATCHERS = (
    str(Path(django.dispatch.__file__).parent),
    str(Path(hookwire.__file__).parent / "_dispatch"),
)
LEVELS = range(1, 13)


def _place(filename: str, lineno: int) -> tuple[str, int]:
    if filename.startswith(DISPATCHERS):
        return ("<dispatcher>", 0)
    return (filename, lineno)


class Sender:
    pass


def warning_receiver(sender: object, **kwargs: Any) -> str:
    for level in LEVELS:
        warnings.warn(str(level), UserWarning, stacklevel=level)
    return "warned"


class BoundListener:
    def on_signal(self, sender: object, **kwargs: Any) -> str:
        for level in LEVELS:
            warnings.warn(str(level), UserWarning, stacklevel=level)
        return "warned"


class CallableListener:
    def __call__(self, sender: object, **kwargs: Any) -> str:
        for level in LEVELS:
            warnings.warn(str(level), UserWarning, stacklevel=level)
        return "warned"


async def async_bystander(sender: object, **kwargs: Any) -> str:
    return "async"


def bystander(sender: object, **kwargs: Any) -> str:
    return "bystander"


_lazy_modules = iter(range(1_000_000))


def _fresh_module() -> tuple[str, types.ModuleType]:
    name = f"_hookwire_frames_lazy_{next(_lazy_modules)}"
    module = types.ModuleType(name)
    module.Model = type("Model", (), {"__module__": name})  # type: ignore[attr-defined]
    return name, module


# Each path: (signal, keep_alive) -> the sender to send from, connecting the warning receiver
# (and maybe others). ``hookwire_only`` paths use a feature Django lacks; Django's side then
# connects the same receiver to the resolved class directly.


def path_function(signal: Any, keep: list[Any], hookwire_side: bool) -> object:
    signal.connect(warning_receiver, sender=Sender)
    signal.connect(bystander)
    return Sender


def path_bound_method(signal: Any, keep: list[Any], hookwire_side: bool) -> object:
    listener = BoundListener()
    keep.append(listener)
    signal.connect(bystander)
    signal.connect(listener.on_signal)
    return Sender


def path_callable_object(signal: Any, keep: list[Any], hookwire_side: bool) -> object:
    listener = CallableListener()
    keep.append(listener)
    signal.connect(listener)
    return Sender


def path_partial(signal: Any, keep: list[Any], hookwire_side: bool) -> object:
    signal.connect(functools.partial(warning_receiver, extra=1), weak=False)
    return Sender


def path_with_async_receivers(signal: Any, keep: list[Any], hookwire_side: bool) -> object:
    signal.connect(async_bystander)
    signal.connect(warning_receiver)
    listener = BoundListener()
    keep.append(listener)
    signal.connect(listener.on_signal)
    return Sender


def path_cached(signal: Any, keep: list[Any], hookwire_side: bool) -> object:
    # use_caching: the plan of the sender comes from the cache from the second send on.
    signal.connect(warning_receiver, sender=Sender)
    return Sender


def path_lazy_resolved_at_connect(signal: Any, keep: list[Any], hookwire_side: bool) -> object:
    name, module = _fresh_module()
    sys.modules[name] = module
    keep.append(module)
    signal.connect(warning_receiver, sender=f"{name}:Model" if hookwire_side else module.Model)
    return module.Model  # type: ignore[attr-defined, no-any-return]


def path_lazy_resolved_at_send(signal: Any, keep: list[Any], hookwire_side: bool) -> object:
    name, module = _fresh_module()
    keep.append(module)
    signal.connect(warning_receiver, sender=f"{name}:Model" if hookwire_side else module.Model)
    # Imported after the connect: the send resolves the connection.
    sys.modules[name] = module
    return module.Model  # type: ignore[attr-defined, no-any-return]


def path_lazy_pending_elsewhere(signal: Any, keep: list[Any], hookwire_side: bool) -> object:
    # Another connection stays pending, so no plan is stored and each send builds its own.
    if hookwire_side:
        signal.connect(bystander, sender="_hookwire_frames_never_imported:Model")
    signal.connect(warning_receiver)
    return Sender


PATHS: dict[str, Callable[[Any, list[Any], bool], object]] = {
    function.__name__.removeprefix("path_"): function
    for function in (
        path_function,
        path_bound_method,
        path_callable_object,
        path_partial,
        path_with_async_receivers,
        path_cached,
        path_lazy_resolved_at_connect,
        path_lazy_resolved_at_send,
        path_lazy_pending_elsewhere,
    )
}


@contextmanager
def attached(wrappers: str) -> Iterator[list[Any]]:
    """The wrappers named (``none``, ``recorder``, ``tracer``, ``recorder+tracer``), attached
    to every hookwire signal for the block; yields what they saw."""
    seen: list[Any] = []
    with ExitStack() as stack:
        if "recorder" in wrappers:
            recorder = stack.enter_context(SignalRecorder())
            stack.callback(lambda: seen.extend(recorder.calls))
        if "tracer" in wrappers:
            traces: list[SendTrace] = []
            install_tracer(traces.append)
            stack.callback(remove_tracer)
            stack.callback(lambda: seen.extend(traces))
        yield seen


def sent_from_here(signal: Any, method: str, sender: object) -> Any:
    """The one line every send of these tests is made from."""
    return getattr(signal, method)(sender, value=1)


def send(signal: Any, method: str, sender: object) -> Any:
    if method.startswith("a"):
        return asyncio.run(sent_from_here(signal, method, sender))
    return sent_from_here(signal, method, sender)


def warning_places(signal_class: Any, path: str, method: str) -> tuple[Any, list[Any]]:
    """Where each stacklevel of the warning receiver pointed, on the second of two sends
    (the first fills caches), and the responses of that send."""
    signal = signal_class(use_caching=path == "cached")
    keep: list[Any] = []
    sender = PATHS[path](signal, keep, signal_class is hookwire.Signal)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        send(signal, method, sender)
        del caught[:]
        responses = send(signal, method, sender)
    places = [_place(w.filename, w.lineno) for w in caught if w.category is UserWarning]
    return places, [response for _, response in responses]


SENT_FROM = (__file__, sent_from_here.__code__.co_firstlineno + 2)


@pytest.mark.parametrize("wrappers", ["none", "recorder", "tracer", "recorder+tracer"])
@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
@pytest.mark.parametrize("path", sorted(PATHS))
def test_a_receivers_stacklevel_lands_where_it_lands_under_django(
    path: str, method: str, wrappers: str
) -> None:
    results = []
    for signal_class, attach in ((django.dispatch.Signal, "none"), (hookwire.Signal, wrappers)):
        with attached(attach) as seen:
            # One line for both, so that even the levels above this test compare equal.
            results.append(warning_places(signal_class, path, method))
    (expected, django_responses), (places, responses) = results
    assert places == expected
    assert responses == django_responses
    # Not vacuous: the receiver itself, then the dispatcher's one frame, then (sync sends)
    # the line that sent.
    assert len(places) >= len(LEVELS)
    assert places[0][0] == __file__
    assert places[1] == ("<dispatcher>", 0)
    if not method.startswith("a"):
        assert places[2] == SENT_FROM
    if wrappers != "none":
        assert seen, "the wrappers saw nothing"
