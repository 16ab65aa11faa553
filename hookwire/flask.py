"""A host inside a Flask application: the ``Hookwire`` extension.

.. code-block:: python

    from flask import Flask
    from hookwire.flask import Hookwire

    app = Flask(__name__)
    Hookwire(app, host=host)                      # or, with an application factory:

    hookwire_ext = Hookwire(host=host)

    def create_app():
        app = Flask(__name__)
        hookwire_ext.init_app(app)
        return app

``init_app`` loads the plugins and sends ``host_started`` when the application is made, once
for the host however many applications share it; ``host_stopping`` is sent when the process
exits, or earlier by :meth:`Hookwire.shutdown` (which also unloads the host, so an application
factory or a test can load it again with another selection). Nothing happens per request. The
application's ``extensions["hookwire"]`` holds the host and its registry, and ``flask
hookwire ...`` runs the ``hookwire`` commands (``plugins list``, ``signals``, ...) against that
host.

Nothing here imports Flask or click until ``init_app`` runs.
"""

from __future__ import annotations

import atexit
import sys
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .asgi import HostState

if TYPE_CHECKING:
    from ._host import Host, HostRunning

__all__ = ["EXTENSION", "Hookwire", "HostState"]

#: The key of the extension's state in ``app.extensions``.
EXTENSION = "hookwire"


class _Started:
    """A host started for one or more applications."""

    __slots__ = ("apps", "running")

    def __init__(self, running: HostRunning) -> None:
        self.running = running
        self.apps = 0


_lock = threading.Lock()
# id(host) -> its start; a host shared by several applications starts once and stops when the
# last of them is shut down (or at exit).
_started: dict[int, tuple[Host, _Started]] = {}


class Hookwire:
    """The Flask extension running ``host`` for the applications it is given.

    :param app: the application, or ``None`` to call :meth:`init_app` later (factories).
    :param host: the :class:`~hookwire.Host` whose plugins the applications use.
    :param load_options: :meth:`~hookwire.Host.load`'s options: ``plugins``, ``disable``,
        ``autoload``, ``strict``.

    As Flask's extensions do, it keeps no application: what belongs to one lives in its
    ``app.extensions["hookwire"]`` (a :class:`~hookwire.asgi.HostState`).
    """

    def __init__(self, app: Any = None, *, host: Host, **load_options: Any) -> None:
        self.host = host
        self.load_options = _checked(load_options)
        if app is not None:
            self.init_app(app)

    def __repr__(self) -> str:
        return f"<Hookwire {self.host!r}>"

    def init_app(self, app: Any) -> HostState:
        """Load the host's plugins (once per process), send ``host_started`` (when the host was
        not running yet), record the state in ``app.extensions["hookwire"]`` and add the
        ``flask hookwire`` command; return the state.

        :raises RuntimeError: the application already has a hookwire extension.
        :raises ~hookwire.exceptions.LoadError: a plugin failed under ``strict``.
        :raises ~hookwire.exceptions.HostError: the host was loaded with another selection.
        """
        if EXTENSION in app.extensions:
            raise RuntimeError(
                f"the Flask application {app.name!r} already has a hookwire extension "
                f"(for {app.extensions[EXTENSION].host!r}); init_app() once per application"
            )
        host = self.host
        with _lock:
            entry = _started.get(id(host))
            if entry is None:
                running = host.running(**self.load_options)
                running.__enter__()  # loads, sends host_started; raises under strict
                entry = (host, _Started(running))
                _started[id(host)] = entry
                if len(_started) == 1:
                    atexit.register(_stop_all)
            else:
                host.load(**self.load_options)  # a different selection is an error
            entry[1].apps += 1
        state = HostState(host, host.registry)
        app.extensions[EXTENSION] = state
        app.cli.add_command(_command())
        return state

    def shutdown(self, app: Any) -> None:
        """The application is done with the host: when it was the last one using it, send
        ``host_stopping`` and unload the host (its plugins' receivers removed), so it may be
        loaded again, perhaps with another selection. Again does nothing.
        """
        state = app.extensions.pop(EXTENSION, None)
        if state is None:
            return
        with _lock:
            entry = _started.get(id(state.host))
            if entry is None:
                return
            entry[1].apps -= 1
            if entry[1].apps > 0:
                return
            del _started[id(state.host)]
        _stop(*entry)
        state.host.unload()


def _checked(options: dict[str, Any]) -> dict[str, Any]:
    known = {"plugins", "disable", "autoload", "strict"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(
            f"Hookwire() got unknown load options {', '.join(unknown)}; "
            f"give any of {', '.join(sorted(known))}"
        )
    checked = dict(options)
    for name in ("plugins", "disable"):
        value = checked.get(name)
        if isinstance(value, Iterable) and not isinstance(value, str):
            checked[name] = tuple(value)
    return checked


def _stop(host: Host, started: _Started) -> None:
    started.running.__exit__(None, None, None)


def _stop_all() -> None:
    """At exit: ``host_stopping`` for every host still running."""
    with _lock:
        entries = list(_started.values())
        _started.clear()
    for entry in entries:
        _stop(*entry)


_built: list[Any] = []


def _command() -> Any:
    """``flask hookwire ...``: built once, on first use (click is imported here)."""
    if _built:
        return _built[0]
    import click
    from flask import current_app
    from flask.cli import with_appcontext

    @click.command(
        "hookwire",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
        help="Run a hookwire command (plugins list, plugins check, signals, ...) against "
        "the application's host; 'flask hookwire --help' lists them.",
    )
    @click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
    @with_appcontext
    def hookwire_command(arguments: tuple[str, ...]) -> None:
        from .cli import run_embedded

        state = current_app.extensions[EXTENSION]
        status = run_embedded(state.host, arguments)
        sys.stdout.flush()
        if status:
            sys.exit(status)

    _built.append(hookwire_command)
    return hookwire_command
