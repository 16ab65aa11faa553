"""Plugins' receivers on Django's own signals, when hookwire is not Django's dispatcher.

A plugin's signals module or ``ready()`` may connect to ``request_finished``, ``post_save`` and
the rest, with Django's ``@receiver`` or hookwire's. Those connections are the plugin's like
any other: :func:`track` wraps ``django.dispatch.Signal.connect`` so that a connect made inside
a plugin's loading scope records, on that scope, how to remove exactly the registration it
added (a failed or unloaded plugin leaves nothing behind), and the views given to
introspection attribute it to the plugin (counted by ``plugins list``, listed by
``hookwire signals``).

Once :func:`hookwire.django.dispatcher.install` made hookwire Django's dispatcher, Django's
signals are hookwire's and need none of this: :func:`track` then does nothing.

Imported only by the app's ``ready()``, after Django is set up.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Hashable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .._dispatch.attribution import current_scope, plugin_for_module
from .._dispatch.foreign import register_source
from .._dispatch.introspection import _info

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .._dispatch.attribution import PluginScope
    from .._dispatch.introspection import ReceiverInfo

__all__ = ["DjangoSignalView", "track", "tracked"]

# Django's signals that `hookwire signals` always lists (when their module is imported), so a
# project sees what listens to them even when no plugin connected there.
_KNOWN_MODULES = (
    "django.core.signals",
    "django.db.models.signals",
    "django.db.backends.signals",
    "django.test.signals",
)

_lock = threading.Lock()
_tracked = False


class _Connection:
    """One registration a plugin's loading added to a Django signal."""

    __slots__ = ("__weakref__", "dispatch_uid", "entry", "plugin", "sender", "signal", "weak")

    def __init__(
        self,
        signal: Any,
        entry: tuple[Any, ...],
        plugin: str,
        sender: Any,
        weak: bool,
        dispatch_uid: Hashable | None,
    ) -> None:
        self.signal = weakref.ref(signal)
        self.entry = entry
        self.plugin = plugin
        # The sender as given (Django keeps only its id): held weakly when it can be, so a
        # plugin's filter never keeps a model class or an object alive.
        try:
            self.sender: Any = weakref.ref(sender) if sender is not None else None
        except TypeError:
            self.sender = lambda value=sender: value
        self.weak = weak
        self.dispatch_uid = dispatch_uid

    def undo(self) -> bool:
        """Remove exactly this registration (never an equal one someone else made)."""
        signal = self.signal()
        if signal is None:
            return False
        with signal.lock:
            for index, entry in enumerate(signal.receivers):
                if entry is self.entry:
                    del signal.receivers[index]
                    signal.sender_receivers_cache.clear()
                    return True
        return False


# Django signal -> its plugin-owned connections, by the identity of Django's entry.
_connections: weakref.WeakKeyDictionary[Any, dict[int, _Connection]] = weakref.WeakKeyDictionary()


def tracked() -> bool:
    """Whether plugins' connections to Django's signals are being tracked."""
    return _tracked


def track() -> None:
    """Start tracking (once per process); nothing to do when hookwire is Django's dispatcher."""
    global _tracked
    from django.dispatch import dispatcher

    from .._dispatch.signal import Signal as HookwireSignal

    with _lock:
        if _tracked or dispatcher.Signal is HookwireSignal:
            return
        original = dispatcher.Signal.connect
        make_id = dispatcher._make_id

        def connect(
            self: Any,
            receiver: Any,
            sender: Any = None,
            weak: bool = True,
            dispatch_uid: Hashable | None = None,
        ) -> None:
            scope = current_scope()
            if scope is None:
                return original(self, receiver, sender, weak, dispatch_uid)  # type: ignore[no-any-return]
            # Django's own lookup key, so the entry this call adds can be told from an equal
            # one that was there before (connecting again adds nothing: nothing to own).
            target = make_id(sender)
            key = (dispatch_uid, target) if dispatch_uid else (make_id(receiver), target)
            before = {id(entry) for entry in list(self.receivers) if entry[0] == key}
            original(self, receiver, sender, weak, dispatch_uid)
            added = [e for e in list(self.receivers) if e[0] == key and id(e) not in before]
            if added:
                _own(self, added[0], scope, sender, weak, dispatch_uid)
            return None

        connect.__doc__ = original.__doc__
        connect.__wrapped__ = original  # type: ignore[attr-defined]
        dispatcher.Signal.connect = connect
        register_source(_views)
        _tracked = True


def _own(
    signal: Any,
    entry: tuple[Any, ...],
    scope: PluginScope,
    sender: Any,
    weak: bool,
    dispatch_uid: Hashable | None,
) -> None:
    connection = _Connection(signal, entry, scope.plugin, sender, weak, dispatch_uid)
    with _lock:
        _connections.setdefault(signal, {})[id(entry)] = connection

    def undo() -> bool:
        with _lock:
            owned = _connections.get(signal)
            if owned is not None:
                owned.pop(id(entry), None)
        return connection.undo()

    scope.record_foreign(undo)


class DjangoSignalView:
    """A Django signal as ``hookwire signals`` and the receiver counts see it."""

    doc: str | None = None
    args: Mapping[str, Any] | None = None
    deprecated_args: Mapping[str, str] | None = None

    def __init__(self, signal: Any, qualified_name: str) -> None:
        self.signal = signal
        self.qualified_name = qualified_name

    def __repr__(self) -> str:
        return f"<DjangoSignalView {self.qualified_name}>"

    def describe_receivers(self, plugin: str | None = None) -> list[ReceiverInfo]:
        """Live receivers in the order Django calls them: sync ones, then async ones; with
        ``plugin``, only that plugin's (the others are not described at all: ``plugins list``
        asks once per plugin)."""
        signal = self.signal
        with signal.lock:
            entries = list(signal.receivers)
        with _lock:
            owned = dict(_connections.get(signal, {}))
        senders: dict[int, Any] | None = None  # the models, looked up only when needed
        infos: list[ReceiverInfo] = []
        for entry in entries:
            held = entry[1]
            receiver = held() if isinstance(held, weakref.ReferenceType) else held
            if receiver is None:
                continue
            connection = owned.get(id(entry))
            if connection is not None and connection.entry is entry:
                belongs_to: str | None = connection.plugin
            else:
                connection = None
                belongs_to = plugin_for_module(getattr(receiver, "__module__", None))
            if plugin is not None and belongs_to != plugin:
                continue
            is_async = entry[-1] if isinstance(entry[-1], bool) else False
            if connection is not None:
                sender = connection.sender() if connection.sender is not None else None
                uid = connection.dispatch_uid
            else:
                uid_part, sender_id = entry[0]
                if sender_id == id(None):
                    sender = None
                else:
                    if senders is None:
                        senders = _known_senders()
                    sender = senders.get(sender_id, _UNKNOWN)
                uid = uid_part if isinstance(uid_part, str) else None
            info = _info(
                receiver,
                plugin=belongs_to,
                sender=sender,
                weak=isinstance(held, weakref.ReferenceType),
                dispatch_uid=uid,
                is_async=is_async,
            )
            infos.append(info)
        return [i for i in infos if not i.is_async] + [i for i in infos if i.is_async]


class _UnknownSender:
    """A sender Django kept only the id of and that is no model: shown as such."""

    def __repr__(self) -> str:
        return "<a sender Django knows only by id>"


_UNKNOWN = _UnknownSender()


def _known_senders() -> dict[int, Any]:
    """Model classes by id: the senders of Django's model signals (Django keeps only ids)."""
    try:
        from django.apps import apps

        return {id(model): model for model in apps.get_models(include_auto_created=True)}
    except Exception:  # the registry not ready: no model to name
        return {}


def _views() -> list[DjangoSignalView]:
    """Django's well-known signals and every Django signal a plugin connected to."""
    from django.dispatch import dispatcher

    from .._dispatch.signal import Signal as HookwireSignal

    if dispatcher.Signal is HookwireSignal:
        return []  # hookwire is Django's dispatcher: its signals are listed as hookwire's
    found: dict[int, DjangoSignalView] = {}
    for module_name in _KNOWN_MODULES:
        module = sys.modules.get(module_name)
        if module is not None:
            for name, value in _django_signals(module):
                found.setdefault(id(value), DjangoSignalView(value, f"{module_name}.{name}"))
    with _lock:
        connected = [signal for signal, owned in _connections.items() if owned]
    for signal in connected:
        if id(signal) not in found:
            found[id(signal)] = DjangoSignalView(signal, _name_of(signal))
    return list(found.values())


def _django_signals(module: ModuleType) -> list[tuple[str, Any]]:
    from django.dispatch import Signal

    return [
        (name, value)
        for name, value in vars(module).items()
        if isinstance(value, Signal) and not name.startswith("_")
    ]


def _name_of(signal: Any) -> str:
    """``module.attribute`` of a Django signal defined outside Django's known modules."""
    for module_name, module in list(sys.modules.items()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for name, value in list(namespace.items()):
            if value is signal and not name.startswith("_"):
                return f"{module_name}.{name}"
    return f"<Django signal at {id(signal):#x}>"
