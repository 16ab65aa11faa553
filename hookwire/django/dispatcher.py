"""hookwire as Django's own dispatcher: after :func:`install`, ``django.dispatch.Signal`` *is*
:class:`hookwire.Signal`.

Every signal Django creates afterwards (``request_finished``, ``post_save``, ``setting_changed``
and the rest, and those of third-party apps and of the project) is then a hookwire signal, with
hookwire's thread-safety, receiver checks, introspection and tracing. Django's own behaviour
does not change: its signal tests pass with hookwire swapped in.

Call it at the very top of ``manage.py``, ``wsgi.py`` and ``asgi.py``, before anything imports
Django's signals::

    import hookwire.django.dispatcher

    hookwire.django.dispatcher.install()

    from django.core.management import execute_from_command_line  # Django comes after

This module imports nothing of Django until :func:`install` is called.
"""

from __future__ import annotations

import sys
import threading
from importlib import import_module
from types import ModuleType
from typing import Any

from .._dispatch.failures import also_log_on
from .._dispatch.signal import Signal, receiver
from ..exceptions import DispatcherSwapError

__all__ = ["install", "is_installed"]

# The modules install() changes; anything else holding Django's Signal came too early.
_DISPATCH_MODULES = ("django.dispatch", "django.dispatch.dispatcher")
_DJANGO_LOGGER = "django.dispatch"
# How many modules the error names before it summarises the rest.
_LISTED = 5

_lock = threading.Lock()
_installed = False


def is_installed() -> bool:
    """Whether :func:`install` made hookwire Django's dispatcher in this process."""
    return _installed


def install() -> None:
    """Make :class:`hookwire.Signal` and :func:`hookwire.receiver` Django's dispatcher.

    What it changes, for the whole process:

    * ``django.dispatch.Signal`` and ``django.dispatch.dispatcher.Signal`` become
      :class:`hookwire.Signal`, and both modules' ``receiver`` becomes
      :func:`hookwire.receiver`; every signal created afterwards (Django's, its apps', the
      project's, ``ModelSignal`` included) is a hookwire signal.
    * ``send_robust``/``asend_robust`` failures are logged on ``django.dispatch`` (Django's
      documented logger, so the handlers of a project's ``LOGGING`` see them) as well as on
      ``hookwire.dispatch``; a handler reached from both (the root's) gets each failure once.

    Calling it again does nothing.

    :raises DispatcherSwapError: modules other than ``django.dispatch`` itself already hold
        Django's ``Signal`` class, a subclass of it or a signal made with it (Django's signals
        were imported before this call), so some signals would stay Django's. The message
        names those modules.
    :raises ModuleNotFoundError: Django is not installed.
    """
    global _installed
    with _lock:
        if _installed:
            return
        imported_before = _DISPATCH_MODULES[1] in sys.modules
        modules = [import_module(name) for name in _DISPATCH_MODULES]
        original = modules[1].Signal
        if original is not Signal:
            if imported_before:
                _refuse_if_used(original)
            for module in modules:
                setattr(module, "Signal", Signal)  # noqa: B010  # an untyped module's name
                setattr(module, "receiver", receiver)  # noqa: B010
        also_log_on(_DJANGO_LOGGER)
        _installed = True


def _refuse_if_used(original: type) -> None:
    """Raise :class:`DispatcherSwapError` when a module other than Django's dispatcher holds
    ``original`` (Django's ``Signal``), a subclass of it or an instance."""
    users = []
    for name, module in list(sys.modules.items()):
        if name in _DISPATCH_MODULES or not issubclass(type(module), ModuleType):
            continue
        try:
            values = list(vars(module).values())
        except Exception:
            continue
        if any(_is_djangos(value, original) for value in values):
            users.append(name)
    if not users:
        return
    users.sort()
    listed = ", ".join(users[:_LISTED])
    if len(users) > _LISTED:
        listed += f" and {len(users) - _LISTED} more"
    verb = "use" if len(users) > 1 else "uses"
    raise DispatcherSwapError(
        f"hookwire.django.dispatcher.install() came too late: {listed} already {verb} Django's "
        "own dispatcher, whose signals cannot be replaced; call install() at the top of "
        "manage.py, wsgi.py and asgi.py, before anything imports Django's signals",
        modules=users,
    )


def _is_djangos(value: Any, original: type) -> bool:
    # type() rather than isinstance(): a lazy object (django.conf.settings) answers
    # isinstance() through its __class__, which would set it up.
    kind = type(value)
    try:
        if value is original or issubclass(kind, original):
            return True
        return issubclass(kind, type) and issubclass(value, original)
    except Exception:
        return False
