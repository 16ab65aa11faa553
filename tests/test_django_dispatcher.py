"""``hookwire.django.dispatcher.install()``: hookwire becomes Django's dispatcher, or says why not.

Installing changes Django for the whole process, so every scenario runs in a fresh interpreter;
the logging rules (one record per handler, whichever logger leads to it) are also checked in
this process through the dispatcher's own switch, undone after each test.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from hookwire import Signal
from hookwire._dispatch.failures import also_log_on


def run_python(code: str) -> Any:
    """Run ``code`` in a fresh interpreter; what it printed last, as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_the_module_imports_none_of_djangos_signals() -> None:
    # Or install() would always come too late.
    loaded = run_python(
        """
        import json, sys
        import hookwire.django.dispatcher
        print(json.dumps(sorted(m for m in sys.modules if "signals" in m or "dispatch" in m)))
        """
    )
    assert [name for name in loaded if name.startswith("django")] == []


def test_after_install_every_signal_django_creates_is_a_hookwire_signal() -> None:
    seen = run_python(
        """
        import json
        import hookwire
        import hookwire.django.dispatcher as dispatcher

        before = dispatcher.is_installed()
        dispatcher.install()
        dispatcher.install()  # again: nothing happens

        import django.dispatch
        import django.dispatch.dispatcher
        from django.conf import settings

        settings.configure(INSTALLED_APPS=[])
        import django
        django.setup()
        from django.core.signals import request_finished
        from django.db.models.signals import ModelSignal, post_save
        from django.test.signals import setting_changed

        print(json.dumps({
            "before": before,
            "after": dispatcher.is_installed(),
            "names": [
                django.dispatch.Signal is hookwire.Signal,
                django.dispatch.dispatcher.Signal is hookwire.Signal,
                django.dispatch.receiver is hookwire.receiver,
                django.dispatch.dispatcher.receiver is hookwire.receiver,
            ],
            "signals": [
                isinstance(s, hookwire.Signal)
                for s in (request_finished, post_save, setting_changed)
            ],
            "model_signal": issubclass(ModelSignal, hookwire.Signal),
            "listed": sorted(
                s.qualified_name for s in hookwire._dispatch.all_signals()
                if s.qualified_name.startswith("django.core.signals.")
            ),
        }))
        """
    )
    assert seen == {
        "before": False,
        "after": True,
        "names": [True, True, True, True],
        "signals": [True, True, True],
        "model_signal": True,
        "listed": [
            "django.core.signals.got_request_exception",
            "django.core.signals.request_finished",
            "django.core.signals.request_started",
            "django.core.signals.setting_changed",
        ],
    }


def test_install_after_djangos_signals_were_made_refuses_naming_the_modules() -> None:
    seen = run_python(
        """
        import json
        import django.core.signals
        import django.db.models.signals
        import django.dispatch
        import hookwire.django.dispatcher as dispatcher
        from hookwire.exceptions import DispatcherSwapError

        original = django.dispatch.Signal
        try:
            dispatcher.install()
        except DispatcherSwapError as error:
            print(json.dumps({
                "message": str(error),
                "modules": list(error.modules),
                "untouched": django.dispatch.Signal is original,
                "installed": dispatcher.is_installed(),
            }))
        """
    )
    assert "django.core.signals" in seen["modules"]
    assert "django.db.models.signals" in seen["modules"]
    assert seen["message"].startswith("hookwire.django.dispatcher.install() came too late: ")
    assert "django.core.signals" in seen["message"]
    assert "at the top of manage.py, wsgi.py and asgi.py" in seen["message"]
    assert "\n" not in seen["message"]
    assert (seen["untouched"], seen["installed"]) == (True, False)


def test_install_after_only_the_dispatcher_itself_was_imported_swaps_it() -> None:
    # Nothing made a signal with Django's class yet: the swap is complete.
    seen = run_python(
        """
        import json
        from django.dispatch import receiver  # Django's decorator works on any signal
        import hookwire, hookwire.django.dispatcher as dispatcher
        dispatcher.install()
        from django.core.signals import request_finished
        calls = []

        @receiver(request_finished)
        def on_finished(sender, **kwargs):
            calls.append(sender)

        request_finished.send(sender="test")
        print(json.dumps([isinstance(request_finished, hookwire.Signal), calls]))
        """
    )
    assert seen == [True, ["test"]]


def test_a_receiver_failure_reaches_djangos_logging_configuration_once() -> None:
    """A project's ``LOGGING`` for ``django`` sees the failure under ``django.dispatch``; a
    handler of ``hookwire`` sees it under ``hookwire.dispatch``; the root's sees it once."""
    seen = run_python(
        """
        import json, logging, logging.config
        import hookwire.django.dispatcher
        hookwire.django.dispatcher.install()
        from django.core.signals import request_finished

        records = {"django": [], "hookwire": [], "root": []}

        class Keep(logging.Handler):
            def __init__(self, name):
                super().__init__()
                self.bucket = records[name]

            def emit(self, record):
                self.bucket.append([record.name, record.getMessage(), record.exc_info is not None])

        logging.config.dictConfig({
            "version": 1,
            "handlers": {
                name: {"()": Keep, "name": name} for name in ("django", "hookwire", "root")
            },
            "loggers": {
                "django": {"handlers": ["django"], "level": "INFO"},
                "hookwire": {"handlers": ["hookwire"], "level": "INFO"},
            },
            "root": {"handlers": ["root"], "level": "WARNING"},
        })

        def fails(sender, **kwargs):
            raise ValueError("broken")

        request_finished.connect(fails)
        [(_, error)] = request_finished.send_robust(sender=None)
        print(json.dumps({"records": records, "error": repr(error)}))
        """
    )
    message = "Error calling fails in Signal.send_robust() (broken)"
    assert seen["error"] == "ValueError('broken')"
    assert seen["records"] == {
        "django": [["django.dispatch", message, True]],
        "hookwire": [["hookwire.dispatch", message, True]],
        "root": [["django.dispatch", message, True]],
    }


# -- the logging rules, in this process ----------------------------------------------------


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def companion() -> Iterator[logging.Logger]:
    """``django.dispatch`` as the companion logger, as after install(); loggers restored."""
    names = ("django", "django.dispatch", "hookwire", "hookwire.dispatch", "")
    saved = {}
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = (logger.handlers[:], logger.propagate, logger.level, logger.disabled)
        logger.handlers = []
    also_log_on("django.dispatch")
    try:
        yield logging.getLogger("django.dispatch")
    finally:
        also_log_on(None)
        for name, (handlers, propagate, level, disabled) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers, logger.propagate, logger.disabled = handlers, propagate, disabled
            logger.setLevel(level)  # through setLevel(): it empties the loggers' level caches


def fails(sender: object, **kwargs: Any) -> None:
    raise ValueError("broken")


def fail_once() -> None:
    signal = Signal()
    signal.connect(fails)
    signal.send_robust(None)


def test_a_handler_on_both_chains_gets_the_failure_once(companion: logging.Logger) -> None:
    # One handler for the "django" and the "hookwire" loggers, another for the root.
    shared, root = Kept(), Kept()
    for name in ("django", "hookwire"):
        logging.getLogger(name).addHandler(shared)
    logging.getLogger().addHandler(root)
    fail_once()
    assert [record.name for record in shared.records] == ["django.dispatch"]
    assert [record.name for record in root.records] == ["django.dispatch"]


def test_with_djangos_logger_not_propagating_the_root_gets_hookwires_record(
    companion: logging.Logger,
) -> None:
    # What assertLogs("django.dispatch") does: its own handler, propagate off.
    captured, root = Kept(), Kept()
    companion.addHandler(captured)
    companion.propagate = False
    logging.getLogger().addHandler(root)
    fail_once()
    assert [record.name for record in captured.records] == ["django.dispatch"]
    assert [record.name for record in root.records] == ["hookwire.dispatch"]


def test_a_disabled_or_quiet_companion_leaves_hookwires_logging_as_it_was(
    companion: logging.Logger,
) -> None:
    own, root = Kept(), Kept()
    logging.getLogger("hookwire.dispatch").addHandler(own)
    logging.getLogger().addHandler(root)
    companion.setLevel(logging.CRITICAL)
    fail_once()
    assert [r.name for r in own.records] == [r.name for r in root.records] == ["hookwire.dispatch"]


def test_hookwires_logger_switched_off_still_lets_django_see_failures(
    companion: logging.Logger,
) -> None:
    kept = Kept()
    companion.addHandler(kept)
    logging.getLogger("hookwire.dispatch").setLevel(logging.CRITICAL)
    fail_once()
    [record] = kept.records
    assert record.name == "django.dispatch"
    assert record.getMessage() == "Error calling fails in Signal.send_robust() (broken)"
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)
    # hookwire's attributes are on Django's record too.
    assert (record.receiver, record.plugin) == (f"{__name__}.fails", None)
