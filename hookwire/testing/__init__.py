"""pytest fixtures for hosts and plugins built on hookwire.

Installed with hookwire and registered as a pytest plugin (the ``pytest11`` entry point), so the
fixtures below are available in every test without configuration. In projects that do not use
them it costs next to nothing: loading the plugin imports pytest and ``hookwire`` itself (the
dispatcher only: no CLI, no asyncio, no loader), and each fixture imports what it needs when a
test asks for it. Disable it with ``-p no:hookwire``.

.. rubric:: Fixtures

``signal_recorder`` -> :class:`SignalRecorder`
    Records every signal sent during the test (``send``, ``send_robust``, ``asend``,
    ``asend_robust``; any thread or event loop) with its sender and arguments.
``record_signals(*signals)`` -> :class:`SignalRecorder`
    A recorder of only the given signals (every signal when none are given); stopped at the end
    of the test or of a ``with`` block.
``hookwire_isolation`` -> :class:`HookwireState`
    Snapshots every signal's receivers, the plugin attribution table and the modules of
    plugins, and restores them when the test ends.
``fake_plugins`` -> :class:`FakePlugins`
    Declares fake distributions and entry points and loads them with hookwire's real discovery
    and loader; everything is undone when the test ends (uses ``hookwire_isolation``).
``mute_signals(*signals)`` -> :class:`Change`
    ``Signal.muted()`` of those signals (every existing signal when none are given) until the
    test or ``with`` block ends: they call no receiver and their sends are not recorded.
``connect_receiver(signal, receiver, **connect_kwargs)`` -> :class:`Change`
    ``Signal.connected_to()`` until the test or ``with`` block ends (``sender=``, ``weak=`` —
    default ``False`` —, ``dispatch_uid=`` as for ``Signal.connect``); a receiver connected
    before stays connected.

The same names are importable for use outside fixtures (:func:`record_signals`,
:func:`mute_signals`, :func:`connect_receiver`, :func:`isolated`,
:func:`assert_ready_idempotent`), where the ``with`` block or ``undo()`` ends the change.

.. rubric:: Recording signals

.. code-block:: python

    from hookwire import Signal

    pizza_done = Signal(name="pizza_done")


    class Pizza:
        @classmethod
        def bake(cls, *toppings: str) -> None:
            pizza_done.send(sender=cls, toppings=list(toppings))


    def test_baking_announces_the_pizza(signal_recorder):
        Pizza.bake("ham", "olives")
        signal_recorder.assert_sent(pizza_done, sender=Pizza, toppings=["ham", "olives"])
        signal_recorder.assert_sent_once(pizza_done)
        assert signal_recorder.calls[0].kwargs == {"toppings": ["ham", "olives"]}


    def test_only_chosen_signals(record_signals):
        recorder = record_signals(pizza_done)
        Pizza.bake()
        recorder.assert_sent(pizza_done, toppings=[])

Only the arguments named in an assertion are compared, expected value first, so
``unittest.mock.ANY`` matches anything. A failed assertion lists every signal sent, with the
arguments that differ. ``assert_not_sent(signal)`` with no other arguments asserts the signal
was not sent at all. A muted signal sends nothing, so its sends are not recorded either.

.. rubric:: Loading fake plugins

.. code-block:: python

    from hookwire import Plugin, PluginState


    class SmsPlugin(Plugin):
        requires_host = ">=1.4"

        def ready(self) -> None:
            pizza_done.connect(self.text_the_customer)

        def text_the_customer(self, sender, **kwargs):
            return "texted"


    def test_the_sms_plugin_listens_to_pizza_done(fake_plugins, signal_recorder):
        fake_plugins.add("sms", SmsPlugin, distribution="pizzeria-sms", version="1.0")
        registry = fake_plugins.load(group="pizzeria.plugins", host_version="1.4")
        assert registry["sms"].state is PluginState.READY
        assert registry["sms"].distribution == "pizzeria-sms"
        assert [response for _, response in pizza_done.send(sender=Pizza)] == ["texted"]


    def test_sms_plugin_ready_is_idempotent(fake_plugins):
        fake_plugins.add("sms", SmsPlugin)
        fake_plugins.load(host_version="1.4")
        fake_plugins.assert_ready_idempotent()


    AUDIT_PLUGIN = '''
    from hookwire import Plugin

    class AuditPlugin(Plugin):
        pass
    '''
    AUDIT_SIGNALS = '''
    from hookwire import receiver
    from hookwire.signals import plugins_ready

    @receiver(plugins_ready)
    def log_plugins(sender, registry, **kwargs):
        return [record.name for record in registry]
    '''


    def test_the_audit_signals_module_is_imported_in_the_ready_phase(fake_plugins):
        fake_plugins.add_module("pizzeria_audit", AUDIT_PLUGIN)
        fake_plugins.add_module("pizzeria_audit.signals", AUDIT_SIGNALS)
        fake_plugins.add("audit", value="pizzeria_audit:AuditPlugin")
        registry = fake_plugins.load()
        (info,) = registry["audit"].receivers()
        assert info.name == "pizzeria_audit.signals.log_plugins"

``add()`` takes a ``Plugin`` subclass, a module object, any other object (to test the loader's
errors), or ``value="module:attr"`` for a literal entry point. The target is served from an
importable fake package, ``hookwire_fake_<distribution>`` by default. ``add_module(name,
source)`` declares more importable fake modules, imported for real when the loader asks: write
a whole plugin package that way (``add_module("pizzeria_sms", "...")``,
``add_module("pizzeria_sms.signals", "...")``, ``add("sms", value="pizzeria_sms:SmsPlugin")``)
to test a signals module whose ``@receiver`` decorators run in the ready phase (the loader looks
for it beside the module that defines the plugin class, or beside a bare-module plugin, so a
class defined in the test module has none). ``add_distribution()`` declares a distribution
verbatim (malformed ``entry_points.txt``, a name offered twice). ``load(host=host)`` loads for a
:class:`~hookwire.Host`, which then answers ``host.registry`` and ``host.run()`` with the fake
plugins. Configuration comes from the arguments only (``plugins=``, ``disable=``,
``autoload=``, ``strict=``), never from the environment or ``pyproject.toml``.

``fake_plugins.assert_ready_idempotent()`` runs the ready phase of the last load again and fails
naming every receiver registered twice; :func:`assert_ready_idempotent` does the same for any
:class:`~hookwire.Host`, such as one whose plugins are really installed.

.. rubric:: Isolation

Tests that load plugins or connect receivers by other means can ask for
``hookwire_isolation``; to isolate every test of a project, put this in its ``conftest.py``:

.. code-block:: python

    import pytest


    @pytest.fixture(autouse=True)
    def _isolate_hookwire(hookwire_isolation):
        yield

Signals that exist when the test starts get their receivers back; signals created during the
test keep theirs, unless their module was a fake one or a plugin's loaded during the test
(those modules are removed from ``sys.modules``, so the next test imports them afresh). Hosts
held in module globals go back to their loaded or unloaded state, and a send tracer left
installed is removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .._dispatch.signal import Signal
    from ._connections import Change, connect_receiver, mute_signals
    from ._fake_plugins import FakeDistribution, FakeEntryPoint, FakePlugins
    from ._idempotence import assert_ready_idempotent
    from ._isolation import HookwireState, isolated
    from ._recorder import ANY_SENDER, SentSignal, SignalRecorder, record_signals

__all__ = [
    "ANY_SENDER",
    "Change",
    "FakeDistribution",
    "FakeEntryPoint",
    "FakePlugins",
    "HookwireState",
    "SentSignal",
    "SignalRecorder",
    "assert_ready_idempotent",
    "connect_receiver",
    "isolated",
    "mute_signals",
    "record_signals",
]

# Public name -> the private module defining it, imported on first access so that loading this
# pytest plugin imports nothing of hookwire's beyond the package itself.
_LAZY = {
    "ANY_SENDER": "._recorder",
    "Change": "._connections",
    "FakeDistribution": "._fake_plugins",
    "FakeEntryPoint": "._fake_plugins",
    "FakePlugins": "._fake_plugins",
    "HookwireState": "._isolation",
    "SentSignal": "._recorder",
    "SignalRecorder": "._recorder",
    "assert_ready_idempotent": "._idempotence",
    "connect_receiver": "._connections",
    "isolated": "._isolation",
    "mute_signals": "._connections",
    "record_signals": "._recorder",
}


def __getattr__(name: str) -> Any:
    # No module-level __dir__ on purpose: pytest scans dir() of a plugin for fixtures and
    # hooks, and listing the lazy names there would import them all at start-up.
    from importlib import import_module

    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'hookwire.testing' has no attribute {name!r}")
    value = getattr(import_module(module_name, __name__), name)
    globals()[name] = value
    return value


@pytest.fixture
def signal_recorder() -> Iterator[SignalRecorder]:
    """Records every signal sent during the test; see :class:`SignalRecorder`."""
    from ._recorder import SignalRecorder

    with SignalRecorder() as recorder:
        yield recorder


@pytest.fixture(name="record_signals")
def _record_signals_fixture() -> Iterator[Callable[..., SignalRecorder]]:
    """``record_signals(*signals)``: a started recorder of those signals (every signal when none
    are given), stopped when the test ends or its ``with`` block does."""
    from ._recorder import record_signals

    # An ExitStack undoes in reverse order and goes on past a step that raises.
    with ExitStack() as teardown:

        def record(*signals: Signal) -> SignalRecorder:
            recorder = record_signals(*signals)
            teardown.callback(recorder.stop)
            return recorder

        yield record


@pytest.fixture
def hookwire_isolation() -> Iterator[HookwireState]:
    """Restores every signal's receivers, plugin attribution and plugin modules after the test;
    see :class:`HookwireState`."""
    from ._isolation import isolated

    with isolated() as state:
        yield state


@pytest.fixture
def fake_plugins(hookwire_isolation: HookwireState) -> Iterator[FakePlugins]:
    """Fake distributions and entry points loaded by the real loader; see :class:`FakePlugins`."""
    from ._fake_plugins import FakePlugins

    plugins = FakePlugins(hookwire_isolation)
    try:
        yield plugins
    finally:
        plugins.close()


@pytest.fixture(name="mute_signals")
def _mute_signals_fixture() -> Iterator[Callable[..., Change[Any]]]:
    """``mute_signals(*signals)``: mute them (every existing signal when none are given) until
    the test ends or the returned handle's ``with`` block does. A muted signal calls no
    receiver and its sends are not recorded."""
    from ._connections import mute_signals

    with ExitStack() as teardown:

        def mute(*signals: Signal) -> Change[Any]:
            change = mute_signals(*signals)
            teardown.callback(change.undo)
            return change

        yield mute


@pytest.fixture(name="connect_receiver")
def _connect_receiver_fixture() -> Iterator[Callable[..., Change[Any]]]:
    """``connect_receiver(signal, receiver, *, sender=None, weak=False, dispatch_uid=None)``:
    connect it until the test ends or the returned handle's ``with`` block does (a receiver
    connected before stays connected)."""
    from ._connections import connect_receiver

    with ExitStack() as teardown:

        def connect(signal: Signal, receiver: Any, **connect_kwargs: Any) -> Change[Any]:
            change = connect_receiver(signal, receiver, **connect_kwargs)
            teardown.callback(change.undo)
            return change

        yield connect
