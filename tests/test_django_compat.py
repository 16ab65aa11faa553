"""Differential tests: the same scenarios on ``django.dispatch.Signal`` and ``hookwire.Signal``.

Each scenario takes a signal class (and the matching ``receiver`` decorator) and returns what a
program can observe; both implementations must return the same thing. Where hookwire
deliberately differs (falsy ``dispatch_uid``, ``send()`` inside a running loop,
unweakrefable senders with ``use_caching``, receiver checks outside ``DEBUG``), the scenarios
stay on the behaviour correct programs see, and the differences are tested in
``test_signals.py`` and ``test_async_send.py``.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import django
import django.dispatch
import pytest

import hookwire

IMPLEMENTATIONS = {
    "django": (django.dispatch.Signal, django.dispatch.receiver),
    "hookwire": (hookwire.Signal, hookwire.receiver),
}

Scenario = Callable[[Any, Any], Any]
SCENARIOS: dict[str, Scenario] = {}


def scenario(function: Scenario) -> Scenario:
    SCENARIOS[function.__name__] = function
    return function


def names(responses: list[tuple[Any, Any]]) -> list[tuple[str, Any]]:
    """Responses with receivers named and exceptions reduced to their type and message."""
    result = []
    for receiver, response in responses:
        if isinstance(response, BaseException):
            assert response.__traceback__ is not None
            response = (type(response).__name__, str(response))
        result.append((getattr(receiver, "__qualname__", type(receiver).__qualname__), response))
    return result


class Sender:
    pass


class Listener:
    def __init__(self, label: str) -> None:
        self.label = label

    def on_signal(self, sender: object, **kwargs: Any) -> str:
        return f"{self.label}:{kwargs.get('value')}"


def answer_one(sender: object, **kwargs: Any) -> Any:
    return ("one", sorted(kwargs))


def answer_two(sender: object, **kwargs: Any) -> Any:
    return ("two", kwargs.get("value"))


def raising(sender: object, **kwargs: Any) -> None:
    raise ValueError("raising")


async def async_answer(sender: object, **kwargs: Any) -> Any:
    await asyncio.sleep(0)
    return ("async", kwargs.get("value"))


async def async_raising(sender: object, **kwargs: Any) -> None:
    raise KeyError("async_raising")


@scenario
def connect_order_and_arguments(signal_class: Any, receiver: Any) -> Any:
    signal = signal_class()
    signal.connect(answer_two)
    signal.connect(answer_one)
    return names(signal.send(Sender, value=1, other=2))


@scenario
def duplicates_and_dispatch_uids(signal_class: Any, receiver: Any) -> Any:
    signal = signal_class()
    signal.connect(answer_one)
    signal.connect(answer_one)
    signal.connect(answer_two, dispatch_uid="uid")
    signal.connect(answer_one, dispatch_uid="uid")
    first = names(signal.send(None))
    removed = signal.disconnect(dispatch_uid="uid")
    return first, removed, names(signal.send(None)), len(signal.receivers)


@scenario
def sender_filters(signal_class: Any, receiver: Any) -> Any:
    signal = signal_class()
    signal.connect(answer_one, sender=Sender)
    signal.connect(answer_two)
    return (
        names(signal.send(Sender)),
        names(signal.send(object())),
        signal.has_listeners(Sender),
        signal.has_listeners(),
    )


@scenario
def disconnect_results(signal_class: Any, receiver: Any) -> Any:
    signal = signal_class()
    signal.connect(answer_one, sender=Sender)
    return [
        signal.disconnect(answer_two),
        signal.disconnect(answer_one),
        signal.disconnect(answer_one, sender=Sender),
        signal.disconnect(answer_one, sender=Sender),
        signal.receivers,
    ]


@scenario
def weak_bound_methods_are_dropped(signal_class: Any, receiver: Any) -> Any:
    signal = signal_class()
    kept, dropped = Listener("kept"), Listener("dropped")
    signal.connect(kept.on_signal)
    signal.connect(dropped.on_signal)
    before = names(signal.send(None, value=1))
    del dropped
    gc.collect()
    after = names(signal.send(None, value=2))
    signal.disconnect(kept.on_signal)
    return before, after, signal.has_listeners(), signal.receivers


@scenario
def strong_references(signal_class: Any, receiver: Any) -> Any:
    signal = signal_class()
    signal.connect(Listener("strong").on_signal, weak=False)
    gc.collect()
    return names(signal.send(None, value=3))


@scenario
def send_stops_at_the_first_error(signal_class: Any, receiver: Any) -> Any:
    signal = signal_class()
    signal.connect(answer_one)
    signal.connect(raising)
    signal.connect(answer_two)
    with pytest.raises(ValueError, match="raising"):
        signal.send(None)
    return names(signal.send_robust(None, value=4))


@scenario
def receiver_decorator(signal_class: Any, receiver: Any) -> Any:
    first, second = signal_class(), signal_class()

    @receiver([first, second], sender=Sender)
    def decorated(sender: object, **kwargs: Any) -> str:
        return "decorated"

    @receiver(first, dispatch_uid="single")
    def single(sender: object, **kwargs: Any) -> str:
        return "single"

    return names(first.send(Sender)), names(second.send(Sender)), decorated(None)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@scenario
def send_robust_logs_djangos_line_with_its_arguments(signal_class: Any, receiver: Any) -> Any:
    """The log line of a failing receiver: message, arguments, level, traceback, as Django's
    (each on its own logger: ``django.dispatch`` / ``hookwire.dispatch``)."""
    signal = signal_class()

    def fails(val: object, **kwargs: Any) -> None:
        raise ValueError("this")

    signal.connect(fails)
    signal.connect(answer_two)
    handler = _Records()
    loggers = [logging.getLogger(name) for name in ("django.dispatch", "hookwire.dispatch")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        responses = signal.send_robust(sender=Sender, val="test")
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    [record] = handler.records
    qualname, error = record.args  # type: ignore[misc]
    return (
        names(responses),
        record.msg,
        qualname,
        error is responses[0][1],
        record.getMessage(),
        record.levelname,
        record.exc_info is not None and record.exc_info[1] is error,
    )


@scenario
def caching_with_class_senders(signal_class: Any, receiver: Any) -> Any:
    signal = signal_class(use_caching=True)
    signal.connect(answer_one, sender=Sender)
    first = names(signal.send(Sender))
    signal.connect(answer_two, sender=Sender)
    second = names(signal.send(Sender))
    signal.disconnect(answer_one, sender=Sender)
    return first, second, names(signal.send(Sender)), names(signal.send(Listener))


@scenario
def changes_during_a_send_apply_next_time(signal_class: Any, receiver: Any) -> Any:
    signal = signal_class()

    def self_removing(sender: object, **kwargs: Any) -> str:
        signal.disconnect(self_removing)
        signal.connect(answer_two)
        return "self_removing"

    signal.connect(self_removing)
    signal.connect(answer_one)
    return names(signal.send(None)), names(signal.send(None))


@scenario
def async_receivers_from_sync_and_async_code(signal_class: Any, receiver: Any) -> Any:
    signal = signal_class()
    signal.connect(async_answer)
    signal.connect(answer_two)
    signal.connect(async_raising)
    robust = names(signal.send_robust(None, value=5))
    arobust = names(asyncio.run(signal.asend_robust(None, value=6)))
    signal.disconnect(async_raising)
    return (
        robust,
        arobust,
        names(signal.send(None, value=7)),
        names(asyncio.run(signal.asend(None, value=8))),
    )


@scenario
def one_async_failure_is_raised_as_itself(signal_class: Any, receiver: Any) -> Any:
    signal = signal_class()
    signal.connect(async_answer)
    signal.connect(async_raising)
    with pytest.raises(KeyError, match="async_raising"):
        asyncio.run(signal.asend(None))
    return True


@scenario
def kwargs_mutation_is_private_to_each_receiver(signal_class: Any, receiver: Any) -> Any:
    signal = signal_class()

    def mutating(sender: object, **kwargs: Any) -> str:
        kwargs["value"] = "mutated"
        return "mutating"

    signal.connect(mutating)
    signal.connect(answer_two)
    return names(signal.send(None, value="original"))


@scenario
def live_receivers_private_helper(signal_class: Any, receiver: Any) -> Any:
    signal = signal_class()
    signal.connect(async_answer)
    signal.connect(answer_one, sender=Sender)
    signal.connect(answer_two)
    sync_receivers, async_receivers = signal._live_receivers(Sender)
    return [r.__name__ for r in sync_receivers], [r.__name__ for r in async_receivers]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_observes_the_same_on_django_and_hookwire(name: str) -> None:
    django_result = SCENARIOS[name](*IMPLEMENTATIONS["django"])
    hookwire_result = SCENARIOS[name](*IMPLEMENTATIONS["hookwire"])
    assert hookwire_result == django_result


# -- Django 6.1's async semantics ------------------------------------------------------
#
# Django 6.1 runs async receivers in an asyncio.TaskGroup, each in its own task sharing one
# copy of the caller's context; Django 5.2 used asyncio.gather. hookwire follows 6.1 on every
# Django version, so these scenarios carry the result Django 6.1 gives, checked against
# hookwire always and against Django itself when the installed one is 6.1 or later.


def failure_outcome(signal_class: Any, via: str, plan: list[tuple[bool, bool]]) -> Any:
    """Connect one async receiver per ``(fails, awaits_first)``; what a caller observes."""
    signal = signal_class()
    log: list[str] = []
    receivers = []
    for index, (fails, awaits_first) in enumerate(plan):

        async def receiver(
            sender: object, _i: int = index, _f: bool = fails, _a: bool = awaits_first, **kw: Any
        ) -> int:
            log.append(f"r{_i} starts")
            if _a:
                await asyncio.sleep(0)
            if _f:
                raise ValueError(f"r{_i}")
            log.append(f"r{_i} ends")
            return _i

        receivers.append(receiver)
        signal.connect(receiver)
    try:
        if via == "asend":
            asyncio.run(signal.asend(None))
        else:
            signal.send(None)
    except Exception as error:
        raised = getattr(error, "exceptions", [error])
        return type(error).__name__, sorted(str(e) for e in raised), log
    return "returned", [], log


FAILURE_PLANS_ON_DJANGO_61 = [
    # (fails, awaits first) per receiver -> (raised type, messages, what ran)
    ([(True, False)], ("ValueError", ["r0"], ["r0 starts"])),
    (
        [(True, False), (False, False)],
        ("ValueError", ["r0"], ["r0 starts", "r1 starts", "r1 ends"]),
    ),
    ([(True, False), (True, False)], ("ExceptionGroup", ["r0", "r1"], ["r0 starts", "r1 starts"])),
    ([(True, True), (True, True)], ("ExceptionGroup", ["r0", "r1"], ["r0 starts", "r1 starts"])),
    (
        [(True, True), (False, True), (True, True)],
        ("ExceptionGroup", ["r0", "r2"], ["r0 starts", "r1 starts", "r2 starts", "r1 ends"]),
    ),
    (
        [(False, False), (True, True)],
        ("ValueError", ["r1"], ["r0 starts", "r0 ends", "r1 starts"]),
    ),
]


@pytest.mark.parametrize("via", ["asend", "send"])
@pytest.mark.parametrize(("plan", "expected"), FAILURE_PLANS_ON_DJANGO_61)
def test_failing_async_receivers_raise_what_django_61_raises(
    via: str, plan: list[tuple[bool, bool]], expected: Any
) -> None:
    assert failure_outcome(hookwire.Signal, via, plan) == expected
    if django.VERSION >= (6, 1):
        assert failure_outcome(django.dispatch.Signal, via, plan) == expected


request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


def context_outcome(signal_class: Any, sender_kind: str, receiver_kind: str, count: int) -> Any:
    """Each receiver notes the variable, sets its own value, yields, notes it again."""
    signal = signal_class()
    seen: list[Any] = []
    receivers = []
    for index in range(count):
        if receiver_kind == "async":

            async def receiver(sender: object, _i: int = index, **kwargs: Any) -> None:
                seen.append((_i, request_id.get()))
                request_id.set(f"r{_i}")
                await asyncio.sleep(0)
                seen.append((_i, "later", request_id.get()))

        else:

            def receiver(sender: object, _i: int = index, **kwargs: Any) -> None:  # type: ignore[misc]
                seen.append((_i, request_id.get()))
                request_id.set(f"r{_i}")

        receivers.append(receiver)
        signal.connect(receiver)

    async def async_sender() -> str:
        request_id.set("sender")
        await signal.asend(None)
        return request_id.get()

    def sync_sender() -> str:
        request_id.set("sender")
        signal.send(None)
        return request_id.get()

    if sender_kind == "async":
        after = contextvars.Context().run(asyncio.run, async_sender())
    else:
        after = contextvars.Context().run(sync_sender)
    return after, seen


CONTEXT_ON_DJANGO_61 = {
    ("sync", "sync", 2): ("r1", [(0, "sender"), (1, "r0")]),
    ("async", "sync", 2): ("r1", [(0, "sender"), (1, "r0")]),
    ("sync", "async", 1): ("r0", [(0, "sender"), (0, "later", "r0")]),
    ("async", "async", 1): ("r0", [(0, "sender"), (0, "later", "r0")]),
    # Async receivers share one context: each sees what the one before it set.
    ("sync", "async", 2): (
        "r1",
        [(0, "sender"), (1, "r0"), (0, "later", "r1"), (1, "later", "r1")],
    ),
    ("async", "async", 2): (
        "r1",
        [(0, "sender"), (1, "r0"), (0, "later", "r1"), (1, "later", "r1")],
    ),
}


@pytest.mark.parametrize(("combination", "expected"), sorted(CONTEXT_ON_DJANGO_61.items()))
def test_context_variables_behave_as_on_django_61(
    combination: tuple[str, str, int], expected: Any
) -> None:
    assert context_outcome(hookwire.Signal, *combination) == expected
    if django.VERSION >= (6, 1):
        assert context_outcome(django.dispatch.Signal, *combination) == expected


def receivers_rows(signal_class: Any) -> Any:
    """Read ``Signal.receivers`` as Django 6.1 code does: unpack, dereference, inspect."""
    signal = signal_class()
    listener = Listener("rows")
    signal.connect(answer_one)
    signal.connect(listener.on_signal, sender=Sender)
    signal.connect(answer_two, weak=False, dispatch_uid="strong")
    signal.connect(async_answer, sender=listener)
    rows = []
    for _lookup_key, reference, sender_ref, is_async in signal.receivers:
        if isinstance(reference, weakref.ReferenceType):
            reference = reference()
        sender = None if sender_ref is None else sender_ref()
        rows.append((reference.__qualname__, sender is not None, sender is listener, is_async))
    return rows


RECEIVERS_ROWS_ON_DJANGO_61 = [
    ("answer_one", False, False, False),
    ("Listener.on_signal", True, False, False),
    ("answer_two", False, False, False),
    ("async_answer", True, True, True),
]


def test_receivers_rows_read_as_on_django_61() -> None:
    assert receivers_rows(hookwire.Signal) == RECEIVERS_ROWS_ON_DJANGO_61
    if django.VERSION >= (6, 1):
        assert receivers_rows(django.dispatch.Signal) == RECEIVERS_ROWS_ON_DJANGO_61


@pytest.mark.skipif(django.VERSION < (6, 1), reason="Django drops dead senders' rows from 6.1")
def test_receivers_of_a_dead_sender_are_dropped_by_both() -> None:
    def scenario(signal_class: Any) -> Any:
        signal = signal_class()
        sender = Sender()
        signal.connect(answer_one, sender=sender)
        del sender
        gc.collect()
        return signal.has_listeners(), signal.receivers

    assert scenario(hookwire.Signal) == scenario(django.dispatch.Signal)


DJANGO_STYLE_SAMPLE = textwrap.dedent(
    """
    from {package} import Signal, receiver

    pizza_done = Signal()
    order_placed = Signal(use_caching=True)
    events = []


    class Pizza:
        def bake(self):
            return pizza_done.send(sender=self.__class__, toppings=["ham"], size="L")


    @receiver(pizza_done, sender=Pizza)
    def announce(sender, toppings, **kwargs):
        events.append(("announce", sender.__name__, toppings))
        return len(toppings)


    @receiver([pizza_done, order_placed])
    def audit(signal, sender, **kwargs):
        events.append(("audit", signal is pizza_done, sorted(kwargs)))


    class Kitchen:
        def __init__(self):
            pizza_done.connect(self.on_done, dispatch_uid="kitchen")

        def on_done(self, sender, **kwargs):
            events.append(("kitchen", kwargs["size"]))


    kitchen = Kitchen()
    responses = Pizza().bake()
    order_placed.send_robust(sender=Pizza, order=1)
    disconnected = pizza_done.disconnect(dispatch_uid="kitchen")
    Pizza().bake()
    result = (
        [(getattr(r, "__name__", None), value) for r, value in responses],
        events,
        disconnected,
        pizza_done.has_listeners(Pizza),
    )
    """
)


def test_django_style_code_runs_unchanged_with_only_the_import_switched() -> None:
    results = {}
    for package in ("django.dispatch", "hookwire"):
        namespace: dict[str, Any] = {"__name__": f"sample_{package.replace('.', '_')}"}
        exec(compile(DJANGO_STYLE_SAMPLE.format(package=package), "<sample>", "exec"), namespace)
        results[package] = namespace["result"]
    assert results["hookwire"] == results["django.dispatch"]
    assert results["hookwire"][2] is True


# -- Django's own dispatcher tests -----------------------------------------------------------

# Django's tests of its dispatcher: tests/dispatch/tests.py whole, and the tests of
# tests/signals/tests.py that need no models (async receivers, context variables), with only
# their import lines pointed at hookwire, and the one logger name they listen on: each
# dispatcher logs on the logger named after its package ("django.dispatch" /
# "hookwire.dispatch"), with the same message and arguments.
_DJANGO_SUITES = {
    "tests/dispatch/tests.py": ("from django.dispatch import Signal, receiver", None),
    "tests/signals/tests.py": ("from django import dispatch", "class SyncHandler:"),
}
_MODEL_FREE_HEADER = """\
import contextvars
from inspect import markcoroutinefunction
from unittest import mock

import hookwire as dispatch
from django.test import SimpleTestCase


"""
_RUNNER = """\
import sys
import unittest

import django
from django.conf import settings

settings.configure(DEBUG=False, DATABASES={}, INSTALLED_APPS=[])
django.setup()
suite = unittest.defaultTestLoader.discover(sys.argv[1], pattern="test_*.py")
result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
print("RESULT", result.testsRun, len(result.failures) + len(result.errors), len(result.skipped))
"""


def _django_sdist() -> Path:
    """The sdist of the installed Django (its tests are not in the wheel), downloaded once."""
    # Kept beside the checkout (ignored by git), never under the user's home folder.
    default = Path(__file__).resolve().parent.parent / ".pytest_cache" / "hookwire-tests"
    cache = Path(os.environ.get("HOOKWIRE_TEST_CACHE", default))
    target = cache / f"django-{django.__version__}"
    found = sorted(target.glob("*.tar.gz"))
    if not found:
        # Downloaded aside, then moved in whole: tests on other workers may be looking.
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target))
        try:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--no-binary",
                    ":all:",
                    f"django=={django.__version__}",
                    "--dest",
                    str(staging),
                ],
                check=True,
                capture_output=True,
            )
            for downloaded in staging.glob("*.tar.gz"):
                os.replace(downloaded, target / downloaded.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        found = sorted(target.glob("*.tar.gz"))
    return found[0]


def _pointed_at_hookwire(source: str, import_line: str, model_free_from: str | None) -> str:
    if model_free_from is not None:
        # Everything before the first model-free class needs models and an app registry.
        return _MODEL_FREE_HEADER + source[source.index(model_free_from) :]
    assert import_line in source
    source = source.replace(import_line, "from hookwire import Signal, receiver")
    return source.replace('assertLogs("django.dispatch"', 'assertLogs("hookwire.dispatch"')


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.skipif(
    django.VERSION[:2] != (6, 1), reason="Django 6.1's own tests need Django 6.1 (Python 3.12+)"
)
def test_djangos_own_dispatcher_tests_pass_on_hookwire(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    with tarfile.open(_django_sdist()) as archive:
        members = {member.name.partition("/")[2]: member for member in archive.getmembers()}
        for number, (name, (import_line, model_free_from)) in enumerate(_DJANGO_SUITES.items()):
            extracted = archive.extractfile(members[name])
            assert extracted is not None
            source = extracted.read().decode()
            text = _pointed_at_hookwire(source, import_line, model_free_from)
            (suite / f"test_django_{number}.py").write_text(text)
    (tmp_path / "run_suite.py").write_text(_RUNNER)
    result = subprocess.run(
        [sys.executable, str(tmp_path / "run_suite.py"), str(suite)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert summary == "RESULT 39 0 0", result.stdout + result.stderr


# -- Django's own signal tests, with hookwire as Django's dispatcher --------------------------

# Django's test apps about signals and what sends them (model signals, requests, settings,
# deletion, migrations), run by Django's runtests.py from the sdist once hookwire is Django's
# dispatcher (hookwire.django.dispatcher.install()). All of each app, nothing excluded.
_SIGNAL_APPS = (
    "signals",
    "dispatch",
    "m2m_signals",
    "migrate_signals",
    "handlers",
    "test_client_regress",
    "asgi",
    "delete",
    "delete_regress",
    "settings_tests",
)
# What runtests.py needs beside the apps: its settings, root URLconf and templates.
_RUNTESTS_SUPPORT = ("runtests.py", "test_sqlite.py", "urls.py", "templates")
# Skipped on SQLite by Django itself (database features); the same skips without hookwire.
_SQLITE_SKIPS = {
    "delete.tests.DeletionTests.test_cannot_defer_constraint_checks",
    "delete_regress.tests.DeleteLockingTest.test_concurrent_delete",
}
_RUNTESTS_WRAPPER = """\
import json
import os
import runpy
import sys
import unittest

if os.environ["HOOKWIRE_SWAP"] == "1":
    import hookwire.django.dispatcher

    hookwire.django.dispatcher.install()

started = []
start_test = unittest.TestResult.startTest


def record_start(result, test):
    started.append(test.id())
    start_test(result, test)


unittest.TestResult.startTest = record_start
run_tests = unittest.TextTestRunner.run


def run_and_report(runner, test):
    result = run_tests(runner, test)
    outcome = {
        "swapped": sys.modules["django.dispatch"].Signal.__module__,
        "run": result.testsRun,
        "started": started,
        "failed": [t.id() for t, _ in result.failures + result.errors],
        "unexpected_successes": [t.id() for t in result.unexpectedSuccesses],
        "skipped": [t.id() for t, _ in result.skipped],
    }
    with open(os.environ["HOOKWIRE_OUTCOME"], "w") as stream:
        json.dump(outcome, stream)
    return result


unittest.TextTestRunner.run = run_and_report
runtests = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(runtests))
runpy.run_path(runtests, run_name="__main__")
"""


def _django_tests_folder(apps: tuple[str, ...]) -> Path:
    """Django's ``tests/`` folder with ``runtests.py`` and ``apps``, extracted once beside the
    cached sdist."""
    sdist = _django_sdist()
    target = sdist.parent / "tests"
    wanted = (*_RUNTESTS_SUPPORT, *apps)

    def complete() -> bool:
        return all((target / name).exists() for name in wanted)

    if complete():
        return target
    staging = Path(tempfile.mkdtemp(dir=sdist.parent))
    with tarfile.open(sdist) as archive:
        members = []
        for member in archive.getmembers():
            inside = member.name.partition("/")[2]
            if inside.startswith("tests/") and inside[len("tests/") :].split("/")[0] in wanted:
                member.name = inside[len("tests/") :]
                members.append(member)
        archive.extractall(staging, members=members, filter="data")
    # A test on another worker may have put a complete copy in place meanwhile (and may be
    # running in it); only an older, incomplete one is replaced.
    if not complete():
        shutil.rmtree(target, ignore_errors=True)
        try:
            staging.rename(target)
        except OSError:
            pass
    shutil.rmtree(staging, ignore_errors=True)
    return target


def _run_django_tests(
    folder: Path, labels: list[str], *, swapped: bool, outcome: Path
) -> tuple[dict[str, Any], str]:
    """Run ``runtests.py`` on ``labels`` (hookwire swapped in or not); its outcome and output."""
    wrapper = outcome.with_suffix(".py")
    wrapper.write_text(_RUNTESTS_WRAPPER)
    environment = dict(
        os.environ, HOOKWIRE_SWAP="1" if swapped else "0", HOOKWIRE_OUTCOME=str(outcome)
    )
    result = subprocess.run(
        [
            sys.executable,
            str(wrapper),
            str(folder / "runtests.py"),
            "--settings=test_sqlite",
            "--parallel=1",
            "--noinput",
            *labels,
        ],
        capture_output=True,
        text=True,
        cwd=folder,
        env=environment,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert outcome.exists(), output[-5000:]
    return json.loads(outcome.read_text()), output


def _label(test_id: str) -> str:
    # A failing setUpClass is reported as "setUpClass (app.tests.Class)": run the class.
    return test_id.partition(" (")[2].rstrip(")") if " (" in test_id else test_id


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.skipif(
    django.VERSION[:2] != (6, 1), reason="Django 6.1's own tests need Django 6.1 (Python 3.12+)"
)
def test_djangos_signal_tests_pass_with_hookwire_as_djangos_dispatcher(tmp_path: Path) -> None:
    folder = _django_tests_folder(_SIGNAL_APPS)
    outcome, output = _run_django_tests(
        folder, list(_SIGNAL_APPS), swapped=True, outcome=tmp_path / "swapped.json"
    )
    assert outcome["swapped"] == "hookwire._dispatch.signal", output[-3000:]
    # Every app ran, all of it (runtests.py counts each test once).
    assert outcome["run"] == len(outcome["started"])
    assert {test_id.split(".")[0] for test_id in outcome["started"]} == set(_SIGNAL_APPS)
    suspects = sorted(
        {
            *outcome["failed"],
            *outcome["unexpected_successes"],
            *(set(outcome["skipped"]) - _SQLITE_SKIPS),
        }
    )
    if suspects:
        # Only what passes on Django's own dispatcher has to pass on hookwire: ask it.
        plain, plain_output = _run_django_tests(
            folder,
            sorted({_label(test_id) for test_id in suspects}),
            swapped=False,
            outcome=tmp_path / "plain.json",
        )
        not_passing = {
            *plain["failed"],
            *plain["unexpected_successes"],
            *plain["skipped"],
        }
        # Every test started there is one of the suspects (or in a suspect class).
        passing_on_django = [t for t in plain["started"] if t not in not_passing]
        assert not passing_on_django, output[-8000:] + plain_output[-2000:]
