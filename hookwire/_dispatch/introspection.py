"""``ReceiverInfo``: what introspection (``hookwire signals``) knows about one receiver."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from . import attribution
from .receivers import (
    PendingConnection,
    Registration,
    dispatch_uid_of,
    is_alive,
    is_async_callable,
    is_async_of,
    is_weak,
    live_receiver,
    names_of,
    registered_sender,
    registration_plugin,
    scope_plugin,
    source_location,
)

__all__ = ["ReceiverInfo", "describe_registration", "describe_registrations", "safe_repr"]


@dataclass(frozen=True, slots=True)
class ReceiverInfo:
    """One connected receiver, as :meth:`Signal.describe_receivers` reports it.

    :ivar name: ``"module.qualname"``.
    :ivar module: the module defining the receiver (``None`` if unknown).
    :ivar qualname: its qualified name (callable objects are named after their class).
    :ivar file: the file defining it, or ``None`` (builtins).
    :ivar line: the first line of its definition, or ``None``.
    :ivar plugin: the plugin that connected it: recorded at connect time inside a plugin's
        scope, else the plugin owning the receiver's module, else ``None``.
    :ivar sender: ``None`` for any sender, else the sender object (or the pending
        ``"module:QualName"`` string of a lazy sender).
    :ivar sender_repr: a ``repr`` of the sender that never raises.
    :ivar weak: whether the receiver is held by a weak reference.
    :ivar dispatch_uid: the ``dispatch_uid`` it was connected with, or ``None``.
    :ivar is_async: whether it is an async receiver.
    :ivar receiver: the live receiver, or ``None`` if it has been garbage collected since.
    :ivar remote: ``None`` for a receiver that runs in the sending process; for a remote
        receiver (:mod:`hookwire.remote`) ``{"engine": "celery", "queue": ...}``.
    :ivar sender_pending: whether ``sender`` is a lazy ``"module:QualName"`` reference not
        resolved yet (its module has not been imported): the receiver is called for no
        sender until it is.
    """

    name: str
    module: str | None
    qualname: str
    file: str | None
    line: int | None
    plugin: str | None
    sender: Any
    sender_repr: str
    weak: bool
    dispatch_uid: Hashable | None
    is_async: bool
    receiver: Any
    remote: dict[str, Any] | None = None
    sender_pending: bool = False

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape of ``hookwire signals --json`` for this receiver."""
        uid = self.dispatch_uid
        return {
            "receiver": self.name,
            "file": self.file,
            "line": self.line,
            "plugin": self.plugin,
            "sender": None if self.sender is None else self.sender_repr,
            "weak": self.weak,
            "dispatch_uid": uid if uid is None or isinstance(uid, str | int) else repr(uid),
            "async": self.is_async,
            "remote": None if self.remote is None else dict(self.remote),
            "sender_pending": self.sender_pending,
        }


def safe_repr(value: object) -> str:
    """A readable name for a sender: ``module.QualName`` for classes, else ``repr``."""
    try:
        if isinstance(value, type):
            return f"{value.__module__}.{value.__qualname__}"
        if isinstance(value, str):
            return value
        return repr(value)
    except Exception:
        try:
            return f"<{type(value).__qualname__} object>"
        except Exception:
            return "<unprintable sender>"


def _info(
    receiver: Any,
    *,
    plugin: str | None,
    sender: Any,
    weak: bool,
    dispatch_uid: Hashable | None,
    is_async: bool,
    sender_pending: bool = False,
) -> ReceiverInfo:
    module, qualname = names_of(receiver)
    file, line = source_location(receiver)
    if plugin is None:
        plugin = attribution.plugin_for_module(module)
    return ReceiverInfo(
        name=f"{module}.{qualname}" if module else qualname,
        module=module,
        qualname=qualname,
        file=file,
        line=line,
        plugin=plugin,
        sender=sender,
        sender_repr="None" if sender is None else safe_repr(sender),
        weak=weak,
        dispatch_uid=dispatch_uid,
        is_async=is_async,
        receiver=receiver,
        remote=_remote_marker(receiver),
        sender_pending=sender_pending,
    )


#: The attribute by which a receiver says it runs elsewhere (set by :mod:`hookwire.remote`).
REMOTE_MARKER = "__hookwire_remote__"


def _remote_marker(receiver: Any) -> dict[str, Any] | None:
    try:
        marker = getattr(receiver, REMOTE_MARKER, None)
    except Exception:
        return None
    return dict(marker) if isinstance(marker, dict) else None


def describe_registration(reg: Registration) -> ReceiverInfo | None:
    """The :class:`ReceiverInfo` of one registration, or ``None`` if it is dead."""
    receiver = live_receiver(reg)
    if receiver is None or not is_alive(reg):
        return None
    return _info(
        receiver,
        plugin=registration_plugin(reg),
        sender=registered_sender(reg),
        weak=is_weak(reg),
        dispatch_uid=dispatch_uid_of(reg),
        is_async=is_async_of(reg),
    )


def describe_registrations(
    registrations: list[Registration], pending: list[PendingConnection]
) -> list[ReceiverInfo]:
    """Infos in call order: sync, then async, then pending lazy-sender connections."""
    infos = [describe_registration(reg) for reg in registrations]
    live = [info for info in infos if info is not None]
    ordered = [info for info in live if not info.is_async] + [i for i in live if i.is_async]
    for connection in pending:
        receiver = connection.receiver()
        if receiver is None:
            continue
        ordered.append(
            _info(
                receiver,
                plugin=None if connection.scope is None else scope_plugin(connection.scope),
                sender=connection.reference,
                weak=connection.weak,
                dispatch_uid=connection.dispatch_uid,
                is_async=is_async_callable(receiver),
                sender_pending=True,
            )
        )
    return ordered
