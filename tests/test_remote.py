"""``hookwire.remote`` in the sending process: what travels, what fails before publishing,
how remote receivers look to introspection, where the broker comes from, and what a worker
refuses to resolve."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import hookwire
from hookwire import Signal, receiver
from hookwire.exceptions import (
    ConfigError,
    ReceiverSignatureError,
    RemoteDispatchError,
    RemoteSerializationError,
    SignalArgumentsError,
)

pytest.importorskip("celery", reason="the hookwire[celery] extra is not installed")

from hookwire.remote import Dispatched, RemoteReceiver, current_delivery, remote_receiver
from hookwire.remote._broker import app_for, broker_settings, default_broker_folder
from hookwire.remote._receiver import encode_sender
from hookwire.remote._wire import CONTENT_TYPE, dumps, loads
from hookwire.remote._worker import UnknownSender, resolve_sender

pytestmark = pytest.mark.usefixtures("hookwire_isolation")


class Store:
    pass


def module_level_function(**kwargs: object) -> None:
    pass


@pytest.fixture
def unreachable_broker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A broker nobody listens on: reaching the publish step fails fast and visibly."""
    monkeypatch.setenv("HOOKWIRE_BROKER_URL", "redis://127.0.0.1:9/0")
    monkeypatch.setenv("HOOKWIRE_BROKER_TIMEOUT", "0.5")
    monkeypatch.chdir(tmp_path)


def _signal_with_remote(**options: object) -> tuple[Signal, list[str]]:
    signal = Signal(name="order_placed")
    calls: list[str] = []

    @receiver(signal, weak=False)
    def local_before(sender: object, **kwargs: object) -> str:
        calls.append("before")
        return "before"

    @remote_receiver(signal, **options)  # type: ignore[arg-type]
    def remote(sender: object, **kwargs: object) -> None:
        raise AssertionError("a remote receiver never runs in the sending process")

    @receiver(signal, weak=False)
    def local_after(sender: object, **kwargs: object) -> str:
        calls.append("after")
        return "after"

    return signal, calls


@pytest.mark.usefixtures("unreachable_broker")
def test_an_argument_that_is_not_json_fails_before_publishing_naming_it() -> None:
    signal, calls = _signal_with_remote()
    with pytest.raises(RemoteSerializationError) as caught:
        signal.send(sender=Store, order=object(), phone="555")
    error = caught.value
    assert error.argument == "order"
    assert error.signal is signal
    assert error.receiver is not None
    assert error.receiver.endswith(".remote")
    assert "argument 'order' (object) is not JSON" in str(error)
    assert calls == ["before"]  # send stops at the failing receiver, as for any receiver


@pytest.mark.usefixtures("unreachable_broker")
def test_send_robust_returns_the_serialization_error_and_runs_the_local_receivers() -> None:
    signal, calls = _signal_with_remote()
    responses = signal.send_robust(sender=Store, order={1, 2})
    assert calls == ["before", "after"]
    assert isinstance(responses[1][1], RemoteSerializationError)
    assert responses[1][1].argument == "order"


@pytest.mark.usefixtures("unreachable_broker")
@pytest.mark.parametrize(
    "value",
    [float("nan"), b"bytes", (lambda: 1), {1: "one"}, [{"nested": {None: 2}}], ({(1, 2): 3},)],
)
def test_values_json_cannot_carry_faithfully_are_refused(value: object) -> None:
    signal, _ = _signal_with_remote()
    response = signal.send_robust(sender=None, value=value)[1][1]
    assert isinstance(response, RemoteSerializationError)
    assert response.argument == "value"


@pytest.mark.usefixtures("unreachable_broker")
def test_a_dict_key_that_is_not_a_string_is_named_in_the_error() -> None:
    signal, _ = _signal_with_remote()
    response = signal.send_robust(sender=None, counts={"a": {7: "seven"}})[1][1]
    assert isinstance(response, RemoteSerializationError)
    assert "dict key 7 (int) is not a string" in str(response)


@pytest.mark.usefixtures("unreachable_broker")
def test_a_sender_that_cannot_travel_is_named_as_the_argument_sender() -> None:
    class LocalClass:
        pass

    signal, _ = _signal_with_remote()
    for sender in (Store(), LocalClass):
        response = signal.send_robust(sender=sender)[1][1]
        assert isinstance(response, RemoteSerializationError)
        assert response.argument == "sender"
        assert "cannot travel to a worker" in str(response)


@pytest.mark.usefixtures("unreachable_broker")
def test_a_message_that_travels_reaches_the_broker_step_and_fails_there_in_bounded_time() -> None:
    import time

    signal, calls = _signal_with_remote()
    started = time.monotonic()
    responses = signal.send_robust(sender=Store, order=[1, "two", {"three": 3.0}], ok=True)
    # One deadline (0.5 s) for the whole publish, the client's reconnections included.
    assert time.monotonic() - started < 1.5
    assert calls == ["before", "after"]
    error = responses[1][1]
    assert isinstance(error, RemoteDispatchError)
    assert error.receiver is not None
    assert error.receiver.endswith(".remote")
    assert "did not take the message" in str(error)
    assert error.__cause__ is error.cause


@pytest.mark.usefixtures("unreachable_broker")
@pytest.mark.parametrize("method", ["send", "send_robust"])
def test_a_declared_signal_checks_its_arguments_before_anything_is_published(method: str) -> None:
    signal = Signal(name="order_placed", args={"order": list})
    calls: list[str] = []

    @receiver(signal, weak=False)
    def local_before(sender: object, **kwargs: object) -> None:
        calls.append("before")

    @remote_receiver(signal)
    def remote(sender: object, order: list[object], **kwargs: object) -> None:
        raise AssertionError("a remote receiver never runs in the sending process")

    with pytest.raises(SignalArgumentsError, match="undeclared argument 'ordr'"):
        getattr(signal, method)(sender=Store, ordr=[1])
    assert calls == []  # nothing ran, so nothing was published


def test_a_remote_function_naming_an_undeclared_argument_is_refused_at_connect() -> None:
    signal = Signal(name="order_placed", args={"order": list})

    def remote(sender: object, ordr: list[object], **kwargs: object) -> None: ...

    with pytest.raises(ReceiverSignatureError, match=r"takes 'ordr'.*did you mean 'order'"):
        remote_receiver(signal)(remote)
    assert signal.describe_receivers() == []


def test_senders_travel_as_values_or_module_references() -> None:
    assert encode_sender(None) == {"value": None}
    assert encode_sender("web") == {"value": "web"}
    assert encode_sender(3) == {"value": 3}
    assert encode_sender(Store) == {"ref": f"{__name__}:Store"}
    assert encode_sender(module_level_function) == {"ref": f"{__name__}:module_level_function"}
    assert encode_sender(json) == {"ref": "json:"}
    assert encode_sender(Store()) is None


def test_the_worker_resolves_senders_only_among_modules_already_imported() -> None:
    assert resolve_sender({"ref": f"{__name__}:Store"}) is Store
    assert resolve_sender({"value": "web"}) == "web"
    assert "antigravity" not in sys.modules
    with pytest.raises(UnknownSender, match="not loaded on this worker"):
        resolve_sender({"ref": "antigravity:fly"})
    assert "antigravity" not in sys.modules  # named in a message, never imported
    with pytest.raises(UnknownSender):
        resolve_sender({"ref": "os:__builtins__"})
    with pytest.raises(UnknownSender):
        resolve_sender({"value": ["a list"]})


class _Meta(type):
    @property
    def trap(cls) -> object:
        raise AssertionError("a metaclass property was called to resolve a sender")


class WithTraps(metaclass=_Meta):
    @property
    def prop(self) -> object:
        raise AssertionError("a property was called to resolve a sender")

    @staticmethod
    def static() -> None:
        pass

    class Inner:
        pass


def test_senders_resolve_through_stored_attributes_only_running_no_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import types

    lazy = types.ModuleType("hookwire_test_lazy_module")

    def module_getattr(name: str) -> object:
        raise AssertionError(f"module __getattr__ was called for {name!r}")

    lazy.__getattr__ = module_getattr  # type: ignore[method-assign]
    monkeypatch.setitem(sys.modules, lazy.__name__, lazy)
    assert resolve_sender({"ref": f"{__name__}:WithTraps.Inner"}) is WithTraps.Inner
    assert resolve_sender({"ref": f"{lazy.__name__}:"}) is lazy
    for reference in (
        f"{lazy.__name__}:anything",
        f"{__name__}:WithTraps.trap",
        f"{__name__}:WithTraps.prop",
        f"{__name__}:WithTraps.static",
        f"{__name__}:pytest",  # a module imported here is not a sender named in this module
        f"{__name__}:_Meta.mro",
        "os:system",  # a builtin function, and an alias of posix.system
        "os:path",
        "concurrent.futures:ProcessPoolExecutor",
    ):
        with pytest.raises(UnknownSender):
            resolve_sender({"ref": reference})
    for malformed in ({"value": 1.5, "ref": "x:y"}, {"value": float("inf")}, {"ref": 7}, []):
        with pytest.raises(UnknownSender):
            resolve_sender(malformed)


def test_the_wire_format_is_strict_json_that_revives_no_type() -> None:
    from kombu.serialization import dumps as kombu_dumps
    from kombu.serialization import loads as kombu_loads

    tagged = {"money": {"__type__": "decimal", "__value__": "1.5"}, "keys": {"1": [None]}}
    content_type, encoding, data = kombu_dumps(tagged, serializer="hookwire-json")
    assert (content_type, encoding) == (CONTENT_TYPE, "utf-8")
    assert kombu_loads(data, content_type, encoding, accept=[CONTENT_TYPE]) == tagged
    assert loads(dumps(tagged).encode()) == tagged
    for bad in (b"NaN", b"[Infinity]", b"[1e999]", b"1" * 5000, b"\xff", b"[" * 100_000):
        with pytest.raises((ValueError, RecursionError)):
            loads(bad)


def test_a_remote_receiver_is_a_strong_receiver_marked_for_introspection() -> None:
    signal, _ = _signal_with_remote(queue="sms")
    infos = signal.describe_receivers()
    assert [info.qualname.rsplit(".", 1)[-1] for info in infos] == [
        "local_before",
        "remote",
        "local_after",
    ]
    remote = infos[1]
    assert isinstance(remote.receiver, RemoteReceiver)
    assert remote.remote == {"engine": "celery", "queue": "sms"}
    assert remote.weak is False
    assert remote.file == __file__
    assert remote.to_json()["remote"] == {"engine": "celery", "queue": "sms"}
    assert infos[0].to_json()["remote"] is None


def test_connecting_the_same_function_again_registers_it_once() -> None:
    signal = Signal(name="again")

    def handler(sender: object, **kwargs: object) -> None:
        pass

    for _ in range(3):  # a plugin's ready() run again
        remote_receiver(signal)(handler)
    assert len(signal.describe_receivers()) == 1


def test_the_decorator_returns_the_function_and_checks_it_takes_kwargs() -> None:
    signal = Signal(name="checked")

    def handler(sender: object, **kwargs: object) -> str:
        return "called directly"

    assert remote_receiver(signal)(handler) is handler
    with pytest.raises(hookwire.exceptions.ReceiverSignatureError):

        @remote_receiver(signal)
        def no_kwargs(sender: object) -> None:
            pass


def test_current_delivery_is_none_outside_a_worker() -> None:
    assert current_delivery() is None


def test_dispatched_carries_the_delivery_and_task_ids_and_queue() -> None:
    dispatched = Dispatched(delivery_id="d", task_id="t", queue="q")
    assert (dispatched.delivery_id, dispatched.task_id, dispatched.queue) == ("d", "t", "q")


def test_broker_comes_from_the_environment_then_pyproject_then_the_embedded_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("HOOKWIRE_BROKER_URL", raising=False)
    monkeypatch.delenv("HOOKWIRE_BROKER_TIMEOUT", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    default = broker_settings("pizzeria")
    assert default.url == "hookwire://localhost"
    assert default.timeout == 3.0
    assert default_broker_folder("pizzeria") == tmp_path / "data/hookwire/broker/pizzeria"
    assert default.transport_options["folder"] == str(default_broker_folder("pizzeria"))
    (tmp_path / "pyproject.toml").write_text(
        '[tool.hookwire]\nbroker = "redis://from-pyproject:6379/0"\nbroker_timeout = 1.5\n'
    )
    from_file = broker_settings("pizzeria")
    assert (from_file.url, from_file.timeout) == ("redis://from-pyproject:6379/0", 1.5)
    monkeypatch.setenv("HOOKWIRE_BROKER_URL", "redis://from-env:6379/0")
    assert broker_settings("pizzeria").url == "redis://from-env:6379/0"
    monkeypatch.setenv("HOOKWIRE_BROKER_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="HOOKWIRE_BROKER_TIMEOUT"):
        broker_settings("pizzeria")


def test_the_hosts_own_celery_app_comes_before_environment_and_pyproject(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from celery import Celery

    monkeypatch.setenv("HOOKWIRE_BROKER_URL", "redis://from-env:6379/0")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.hookwire]\nbroker = "redis://file:6379/0"\n')
    app = Celery("django-project", broker="memory://", set_as_current=False)
    host = hookwire.Host("own-app-host", celery=app)
    chosen, timeout = app_for(host)
    assert chosen is app
    assert str(chosen.conf.broker_url) == "memory://"
    assert timeout > 0
    # Without an app of its own, a host of another name falls back to the environment.
    other, _ = app_for(hookwire.Host("no-app-host"))
    assert other is not app
    assert str(other.conf.broker_url) == "redis://from-env:6379/0"


def test_without_celery_hookwire_remote_is_one_error_naming_the_extra() -> None:
    code = "import sys\nsys.modules['celery'] = None\nimport hookwire.remote\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "ImportError: hookwire.remote needs Celery, which is not installed: "
        "pip install 'hookwire[celery]'"
    )


def _entry_and_message(
    **body_changes: object,
) -> tuple[dict[tuple[str, str], object], object]:
    from types import SimpleNamespace

    from hookwire.remote._worker import RemoteEntry

    signal = Signal(name="checked_signal")

    @remote_receiver(signal, sender=Store)
    def remote(sender: object, **kwargs: object) -> None:
        pass

    (info,) = signal.describe_receivers()
    entry = RemoteEntry(info.receiver, signal, "plugin")
    body = info.receiver.message(signal, Store, {"n": 1})
    body.update(delivery_id="d" * 32, host="h")
    body.update(body_changes)
    message = SimpleNamespace(
        headers={"task": "hookwire.deliver", "id": "d" * 32, "retries": 0, "eta": None},
        content_type=CONTENT_TYPE,
        content_encoding="utf-8",
        body=dumps([[], body, {"callbacks": None, "errbacks": None, "chain": None}]).encode(),
    )
    return {(signal.qualified_name, info.receiver.name): entry}, message


def test_the_gate_accepts_what_a_remote_receiver_publishes_and_nothing_else() -> None:
    from hookwire.remote._gate import Rejected, check_message

    table, message = _entry_and_message()
    accepted = check_message(message, table)  # type: ignore[arg-type]
    assert (accepted.sender, accepted.kwargs, accepted.delivery_id) == (Store, {"n": 1}, "d" * 32)
    cases: list[tuple[dict[str, object], dict[str, object], str]] = [
        ({}, {"task": "celery.chunks"}, "task 'celery.chunks' is not hookwire.deliver"),
        ({}, {"retries": -40}, "header retries is -40, not a count"),
        ({}, {"id": "../x"}, "malformed task id"),
        ({}, {"chord": {"task": "x"}}, "header 'chord' is set"),
        ({}, {"eta": "9999-01-01T00:00:00"}, "ETA is further away than any retry"),
        ({"receiver": "a\nb\x1b[31m"}, {}, "remote receiver 'a\\nb\\x1b[31m' of signal"),
        ({"sender": {"value": "web"}}, {}, "sender filter does not accept"),
        ({"sender": {"ref": "os:system"}}, {}, "is not a class or function"),
        ({"kwargs": {"sender": 1}}, {}, "an argument is named 'sender'"),
        ({"format": True}, {}, "message format True is not 1"),
        ({"delivery_id": "e" * 32}, {}, "its delivery id is not its task id"),
    ]
    for body_changes, header_changes, reason in cases:
        table, message = _entry_and_message(**body_changes)
        message.headers.update(header_changes)  # type: ignore[attr-defined]
        with pytest.raises(Rejected) as caught:
            check_message(message, table)  # type: ignore[arg-type]
        assert reason in str(caught.value), (reason, str(caught.value))
        assert str(caught.value).isprintable()
    table, message = _entry_and_message()
    message.content_type = "application/json"  # type: ignore[attr-defined]
    with pytest.raises(Rejected, match="content type 'application/json' "):
        check_message(message, table)  # type: ignore[arg-type]


def test_the_attempt_record_counts_runs_started_in_a_private_folder(tmp_path: Path) -> None:
    import os
    import stat

    from hookwire.remote._attempts import KEEP_FOR, AttemptRecord

    folder = tmp_path / "state" / "deliveries"
    record = AttemptRecord(folder)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert [record.start("abc") for _ in range(3)] == [1, 2, 3]
    assert AttemptRecord(folder).start("abc") == 4  # a new process sees the same count
    record.forget("abc")
    record.forget("abc")  # forgetting twice is harmless
    assert record.start("abc") == 1
    old = folder / "stale"
    old.write_bytes(b".")
    os.utime(old, (0, 0))
    assert record.sweep() == 1
    assert not old.exists()
    assert (folder / "abc").exists()
    assert record.sweep(now=os.stat(folder / "abc").st_mtime + KEEP_FOR + 1) == 1
