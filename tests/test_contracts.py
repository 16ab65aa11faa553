"""Signal contracts: declared arguments that hold at connect and at send.

A signal created with ``args=`` checks every receiver at connect and every send, in all four
send methods, before any receiver runs; a signal without ``args`` is Django's, unchanged.
"""

from __future__ import annotations

import asyncio
import functools
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from hookwire import PluginState, Signal, receiver
from hookwire._dispatch.attribution import plugin_scope
from hookwire.exceptions import (
    HookwireDeprecationWarning,
    ReceiverSignatureError,
    SignalArgumentsError,
)
from hookwire.testing import FakePlugins, SignalRecorder


class Pizza:
    """A pizza, as the example host sends them."""


pizza_done = Signal(args={"pizza": Pizza, "order_id": int}, doc="A pizza left the oven.")
resized = Signal(args={"pizza": Pizza}, deprecated_args={"size": "use pizza.size"})
by_name = Signal(args=["pizza", "order_id"])
plain = Signal()

SEND_METHODS = ("send", "send_robust", "asend", "asend_robust")


def send_with(signal: Signal, method: str, **named: Any) -> list[tuple[Any, Any]]:
    """Send through ``method``, running the async ones in a fresh event loop."""
    result = getattr(signal, method)(Pizza, **named)
    if method.startswith("a"):
        responses: list[tuple[Any, Any]] = asyncio.run(result)
        return responses
    return list(result)


def line_of(function: Callable[..., Any]) -> int:
    return function.__code__.co_firstlineno


# -- declaring ----------------------------------------------------------------------------


def test_a_signal_without_args_declares_nothing_and_takes_any_receiver_and_send() -> None:
    signal = Signal()
    calls: list[dict[str, Any]] = []

    def anything(sender: object, whatever: int, **kwargs: Any) -> None:
        calls.append({"whatever": whatever, **kwargs})

    signal.connect(anything, weak=False)
    signal.send(Pizza, whatever=1, more=2)
    assert signal.args is None
    assert signal.deprecated_args is None
    assert [{k: v for k, v in call.items() if k != "signal"} for call in calls] == [
        {"whatever": 1, "more": 2}
    ]
    # A receiver that does not take what is sent fails in the send, as in Django.
    with pytest.raises(TypeError, match="whatever"):
        signal.send(Pizza)


def test_args_as_a_dict_keeps_names_types_and_order() -> None:
    assert pizza_done.args == {"pizza": Pizza, "order_id": int}
    assert list(pizza_done.args or {}) == ["pizza", "order_id"]
    assert pizza_done.deprecated_args == {}
    assert pizza_done.doc == "A pizza left the oven."


def test_args_as_a_list_declares_names_without_types() -> None:
    assert by_name.args == {"pizza": None, "order_id": None}


def test_deprecated_args_say_what_to_use_instead() -> None:
    assert resized.args == {"pizza": Pizza}
    assert resized.deprecated_args == {"size": "use pizza.size"}
    assert Signal(args=[], deprecated_args=["old"]).deprecated_args == {"old": ""}


def test_the_declared_arguments_cannot_be_changed_through_the_property() -> None:
    with pytest.raises(TypeError):
        pizza_done.args["extra"] = int  # type: ignore[index]


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"args": "pizza"}, TypeError, "dict of argument name -> type or a list of names"),
        ({"args": 3}, TypeError, "not int"),
        ({"args": ["not a name"]}, ValueError, "'not a name' is not a valid argument name"),
        ({"args": ["class"]}, ValueError, "'class' is not a valid argument name"),
        ({"args": ["sender"]}, ValueError, "'sender' is passed to every receiver already"),
        ({"args": {"signal": int}}, ValueError, "'signal' is passed to every receiver"),
        ({"deprecated_args": ["size"]}, TypeError, "needs args=... as well"),
        (
            {"args": ["size"], "deprecated_args": ["size"]},
            ValueError,
            "'size' is also in args",
        ),
    ],
)
def test_a_malformed_declaration_is_refused_when_the_signal_is_created(
    kwargs: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        Signal(**kwargs)


# -- at connect ---------------------------------------------------------------------------


def test_a_receiver_taking_an_undeclared_argument_is_refused_at_connect() -> None:
    def on_done(sender: object, ordr: Pizza, **kwargs: Any) -> None: ...

    with pytest.raises(ReceiverSignatureError) as caught:
        pizza_done.connect(on_done, weak=False)

    error = caught.value
    assert isinstance(error, ValueError)
    assert error.receiver is on_done
    assert error.parameter == "ordr"
    assert error.declared == ("pizza", "order_id")
    assert error.suggestion == "order_id"
    assert (error.file, error.line) == (__file__, line_of(on_done))
    message = str(error)
    assert message.startswith(f"{__name__}.{on_done.__qualname__} (defined at {__file__}:")
    assert f"takes 'ordr', which {__name__}.pizza_done does not declare" in message
    assert "it declares pizza, order_id; did you mean 'order_id'?" in message
    assert not pizza_done.has_listeners(Pizza)


def test_an_unknown_argument_without_a_close_match_gets_a_way_out_instead() -> None:
    def on_done(sender: object, customer: str, **kwargs: Any) -> None: ...

    with pytest.raises(ReceiverSignatureError, match="give 'customer' a default") as caught:
        pizza_done.connect(on_done, weak=False)
    assert caught.value.suggestion is None


def test_the_receiver_decorator_is_checked_as_connect_is() -> None:
    with pytest.raises(ReceiverSignatureError, match=r"'piza'.*did you mean 'pizza'"):

        @receiver(pizza_done, weak=False)
        def on_done(sender: object, piza: Pizza, **kwargs: Any) -> None: ...


def test_receivers_taking_declared_arguments_sender_signal_or_defaults_connect() -> None:
    signal = Signal(args={"pizza": Pizza, "order_id": int})
    received: list[Any] = []

    def exact(sender: object, pizza: Pizza, order_id: int, **kwargs: Any) -> None:
        received.append(("exact", order_id))

    def keyword_only(*, signal: Signal, sender: object, pizza: Pizza, **kwargs: Any) -> None:
        received.append(("keyword_only", signal is not None))

    def defaulted(sender: object, extra: int = 0, **kwargs: Any) -> None:
        received.append(("defaulted", extra))

    def kwargs_only(**kwargs: Any) -> None:
        received.append(("kwargs_only", sorted(kwargs)))

    for each in (exact, keyword_only, defaulted, kwargs_only):
        signal.connect(each, weak=False)
    signal.send(Pizza, pizza=Pizza(), order_id=7)
    assert received == [
        ("exact", 7),
        ("keyword_only", True),
        ("defaulted", 0),
        ("kwargs_only", ["order_id", "pizza", "sender", "signal"]),
    ]


class Oven:
    def bake(self, sender: object, pizza: Pizza, **kwargs: Any) -> str:
        return "baked"

    def burn(self, sender: object, temperature: int, **kwargs: Any) -> str:
        return "burnt"


class Counter:
    def __call__(self, sender: object, order_ids: int, **kwargs: Any) -> None: ...


def test_bound_methods_partials_and_callable_objects_are_checked_by_their_parameters() -> None:
    oven = Oven()
    signal = Signal(args={"pizza": Pizza, "order_id": int})
    signal.connect(oven.bake)  # self is bound: only pizza is named
    with pytest.raises(ReceiverSignatureError, match="takes 'temperature'"):
        signal.connect(oven.burn)

    # A partial's keywords are already given, so they need no declaration.
    signal.connect(functools.partial(Oven.burn, oven, temperature=250), weak=False)
    with pytest.raises(ReceiverSignatureError, match=r"partial\(.*burn\).*'temperature'"):
        signal.connect(functools.partial(Oven.burn, oven), weak=False)

    with pytest.raises(ReceiverSignatureError, match=r"'order_ids'.*did you mean 'order_id'"):
        signal.connect(Counter(), weak=False)
    responses = signal.send(Pizza, pizza=Pizza(), order_id=1)
    assert [response for _, response in responses] == ["baked", "burnt"]


def test_a_lazy_sender_connect_is_checked_before_the_sender_is_imported() -> None:
    def on_done(sender: object, pizzza: Pizza, **kwargs: Any) -> None: ...

    with pytest.raises(ReceiverSignatureError, match="'pizzza'"):
        pizza_done.connect(on_done, sender="pizzeria_never_imported.store:Store", weak=False)
    assert pizza_done.describe_receivers() == []


def test_a_receiver_naming_a_deprecated_argument_is_warned_where_it_is_defined() -> None:
    def on_resized(sender: object, size: int, **kwargs: Any) -> None: ...

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with plugin_scope("sizes"):
            resized.connect(on_resized, weak=False)

    (warning,) = caught
    assert warning.category is HookwireDeprecationWarning
    assert issubclass(HookwireDeprecationWarning, DeprecationWarning)
    assert (warning.filename, warning.lineno) == (__file__, line_of(on_resized))
    assert str(warning.message) == (
        f"{__name__}.{on_resized.__qualname__} of plugin 'sizes' takes 'size', a deprecated "
        f"argument of {__name__}.resized: use pizza.size"
    )
    # The warning does not refuse the receiver: it still receives what senders pass.
    try:
        responses = resized.send(Pizza, pizza=Pizza(), size=30)
        assert [receiver for receiver, _ in responses] == [on_resized]
    finally:
        resized.disconnect(on_resized)


def test_the_deprecation_warning_follows_the_filters_of_the_receivers_module() -> None:
    def on_resized(sender: object, size: int = 0, **kwargs: Any) -> None: ...

    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=HookwireDeprecationWarning, module=__name__)
        with pytest.raises(HookwireDeprecationWarning, match="takes 'size'"):
            resized.connect(on_resized, weak=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=HookwireDeprecationWarning, module=__name__)
        resized.connect(on_resized, weak=False)
    assert resized.disconnect(on_resized)


# -- at send ------------------------------------------------------------------------------


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def declared(calls: list[str]) -> Signal:
    """A declared signal with one sync and one async receiver that record being called."""
    signal = Signal(args={"pizza": Pizza, "order_id": int}, name="declared")

    def sync_receiver(sender: object, **kwargs: Any) -> None:
        calls.append("sync")

    async def async_receiver(sender: object, **kwargs: Any) -> None:
        calls.append("async")

    signal.connect(sync_receiver, weak=False)
    signal.connect(async_receiver, weak=False)
    return signal


@pytest.mark.parametrize("method", SEND_METHODS)
def test_an_undeclared_argument_is_refused_before_any_receiver_runs(
    declared: Signal, calls: list[str], method: str
) -> None:
    with pytest.raises(SignalArgumentsError) as caught:
        send_with(declared, method, pizza=Pizza(), ordr_id=1)

    error = caught.value
    assert isinstance(error, TypeError)
    assert calls == []
    assert (error.argument, error.suggestion) == ("ordr_id", "order_id")
    assert error.signal == f"{__name__}.declared"
    assert error.unexpected == ("ordr_id",)
    assert error.missing == ("order_id",)
    assert str(error) == (
        f"{__name__}.declared was sent with the undeclared argument 'ordr_id'; "
        "it declares pizza, order_id; did you mean 'order_id'?"
    )


@pytest.mark.parametrize("method", SEND_METHODS)
def test_a_missing_declared_argument_is_refused_before_any_receiver_runs(
    declared: Signal, calls: list[str], method: str
) -> None:
    with pytest.raises(SignalArgumentsError) as caught:
        send_with(declared, method, pizza=Pizza())
    assert calls == []
    assert caught.value.argument == "order_id"
    assert caught.value.suggestion is None
    assert "was sent without the declared argument 'order_id'" in str(caught.value)


@pytest.mark.parametrize("method", SEND_METHODS)
def test_a_send_passing_exactly_the_declared_arguments_reaches_every_receiver(
    declared: Signal, calls: list[str], method: str
) -> None:
    responses = send_with(declared, method, pizza=Pizza(), order_id=3)
    assert sorted(calls) == ["async", "sync"]
    assert len(responses) == 2


def test_signal_passed_again_is_an_undeclared_argument() -> None:
    with pytest.raises(SignalArgumentsError, match="undeclared argument 'signal'"):
        pizza_done.send(Pizza, signal=None, pizza=Pizza(), order_id=1)


def test_a_send_with_no_receivers_is_checked_too() -> None:
    signal = Signal(args=["pizza"])
    with pytest.raises(SignalArgumentsError, match="without the declared argument 'pizza'"):
        signal.send(Pizza)
    assert signal.send(Pizza, pizza=Pizza()) == []


@pytest.mark.parametrize("method", SEND_METHODS)
def test_a_signal_declaring_one_argument_refuses_every_other_set_of_names(method: str) -> None:
    signal = Signal(args=["pizza"])
    got: list[object] = []

    def on_pizza(sender: object, pizza: object, **kwargs: Any) -> None:
        got.append(pizza)

    signal.connect(on_pizza)
    for wrong, message in (
        ({"pizaa": 1}, "undeclared argument 'pizaa'"),
        ({"pizza": 1, "size": 2}, "undeclared argument 'size'"),
        ({}, "without the declared argument 'pizza'"),
    ):
        with pytest.raises(SignalArgumentsError, match=message):
            send_with(signal, method, **wrong)
    assert got == []
    assert [response for _, response in send_with(signal, method, pizza=3)] == [None]
    assert got == [3]


def test_deprecated_arguments_may_be_sent_or_left_out_but_nothing_else() -> None:
    got: list[dict[str, Any]] = []

    def on_resized(sender: object, pizza: Pizza, signal: Signal, **kwargs: Any) -> None:
        got.append(kwargs)

    resized.connect(on_resized, weak=False)
    try:
        resized.send(Pizza, pizza=Pizza(), size=30)
        resized.send(Pizza, pizza=Pizza())
        with pytest.raises(SignalArgumentsError, match=r"'sise'.*\(deprecated: size\).*'size'"):
            resized.send(Pizza, pizza=Pizza(), sise=30)
    finally:
        resized.disconnect(on_resized)
    assert got == [{"size": 30}, {}]


@pytest.mark.parametrize("method", SEND_METHODS)
def test_muted_and_recorded_sends_are_checked_as_plain_ones(
    declared: Signal, calls: list[str], method: str
) -> None:
    with declared.muted(), pytest.raises(SignalArgumentsError):
        send_with(declared, method, pizza=Pizza(), ordr_id=1)
    with SignalRecorder([declared]) as recorder, pytest.raises(SignalArgumentsError):
        send_with(declared, method, pizza=Pizza(), ordr_id=1)
    assert calls == []
    assert recorder.calls == []


def test_send_robust_raises_the_contract_error_instead_of_returning_it(declared: Signal) -> None:
    with pytest.raises(SignalArgumentsError):
        declared.send_robust(Pizza, pizza=Pizza())


def test_a_signal_without_args_still_fails_in_the_receiver_as_django_does() -> None:
    def on_plain(sender: object, pizza: Pizza, **kwargs: Any) -> None: ...

    plain.connect(on_plain, weak=False)
    try:
        with pytest.raises(TypeError, match="missing 1 required positional argument: 'pizza'") as c:
            plain.send(Pizza)
        assert not isinstance(c.value, SignalArgumentsError)
    finally:
        plain.disconnect(on_plain)


# -- plugins ------------------------------------------------------------------------------


def test_a_plugin_connecting_a_mismatched_receiver_fails_naming_the_receivers_file(
    fake_plugins: FakePlugins,
) -> None:
    fake_plugins.add_module("pizzeria_typo", "")
    fake_plugins.add_module(
        "pizzeria_typo.signals",
        "from hookwire import receiver\n"
        f"from {__name__} import pizza_done\n"
        "\n"
        "@receiver(pizza_done)\n"
        "def on_done(sender, ordr, **kwargs):\n"
        "    return 'never'\n",
    )
    fake_plugins.add("typo", value="pizzeria_typo")
    registry = fake_plugins.load()

    record = registry["typo"]
    assert record.state is PluginState.FAILED
    error = record.error or ""
    location = "/hookwire-fake-modules/pizzeria_typo/signals/__init__.py"
    cause = record.exception.cause if record.exception else None
    assert isinstance(cause, ReceiverSignatureError)
    assert (cause.file, cause.line, cause.parameter) == (location, 4, "ordr")
    assert str(cause).startswith(f"pizzeria_typo.signals.on_done (defined at {location}:4)")
    assert error.startswith("plugin typo (typo 1.0), ready phase: importing its signals module: ")
    assert "ReceiverSignatureError: pizzeria_typo.signals.on_d" in error
    assert "did you mean 'order_id'?" in error
    # Where it was raised: the decorator's line in the plugin, never hookwire's own files.
    assert error.endswith(f"(at {location}:4)")
    assert "hookwire/_dispatch" not in error
    assert not pizza_done.has_listeners(Pizza)


# -- hookwire's own signals -------------------------------------------------------------------


def test_the_lifecycle_signals_declare_what_the_host_sends() -> None:
    from hookwire import signals as lifecycle

    declared = {name: list(getattr(lifecycle, name).args or {}) for name in lifecycle.__all__}
    assert declared == {
        "host_started": [],
        "host_stopping": ["exc"],
        "plugin_failed": ["plugin", "error"],
        "plugin_loaded": ["plugin"],
        "plugins_ready": ["registry"],
        "remote_failed": ["receiver", "plugin", "delivery", "error"],
        "setting_changed": ["setting", "value", "enter"],
    }

    def on_ready(sender: object, registy: object, **kwargs: Any) -> None: ...

    with pytest.raises(ReceiverSignatureError, match="did you mean 'registry'"):
        lifecycle.plugins_ready.connect(on_ready, weak=False)


def test_a_host_sends_its_lifecycle_signals_as_they_declare(fake_plugins: FakePlugins) -> None:
    from hookwire import Host
    from hookwire import signals as lifecycle

    seen: list[str] = []

    def on_loaded(sender: object, plugin: Any, **kwargs: Any) -> None:
        seen.append(f"loaded {plugin.name}")

    def on_ready(sender: object, registry: Any, **kwargs: Any) -> None:
        seen.append(f"ready {len(registry)}")

    def on_stopping(sender: object, exc: BaseException | None, **kwargs: Any) -> None:
        seen.append(f"stopping {exc}")

    fake_plugins.add_module("pizzeria_ok", "")
    fake_plugins.add("ok", value="pizzeria_ok")
    with (
        lifecycle.plugin_loaded.connected_to(on_loaded),
        lifecycle.plugins_ready.connected_to(on_ready),
        lifecycle.host_stopping.connected_to(on_stopping),
    ):
        host = Host("contracts", main=lambda: 0)
        fake_plugins.load(host=host)
        host.run()
    assert seen[:2] == ["loaded ok", "ready 1"]
    assert seen[-1] == "stopping None"
