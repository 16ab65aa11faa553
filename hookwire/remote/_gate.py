"""What a worker accepts: the checks every message passes before anything else happens.

Anyone who can write to the broker can put anything in a worker's queues, so nothing in a
message is trusted: not its task name, headers, body shape, names, sender or arguments. A
message is either a well-formed delivery for a remote receiver in the worker's table — made
of ready plugins' receivers — or :class:`Rejected`, with a reason that is safe to log (every
part taken from the message is escaped and shortened). Nothing here imports a module or runs
code a message chose: names are only looked up in the table, and a sender is found among
modules already imported through attributes that exist without running code.
"""

from __future__ import annotations

import inspect
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FunctionType, ModuleType
from typing import TYPE_CHECKING, Any

from .._dispatch.lazy import is_lazy_reference
from .._text import escape
from ._broker import DELIVER_TASK
from ._receiver import FORMAT
from ._wire import CONTENT_ENCODING, CONTENT_TYPE, loads

if TYPE_CHECKING:
    from ._worker import RemoteEntry

__all__ = [
    "Accepted",
    "Rejected",
    "UnknownSender",
    "check_body",
    "check_message",
    "resolve_sender",
    "shown",
]

#: What a delivery id (the Celery task id) may be made of; it also names a file on disk.
_DELIVERY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: The keys of a delivery's body, exactly (see RemoteReceiver.message).
_BODY_KEYS = frozenset(
    {"format", "signal", "receiver", "sender", "kwargs", "sent_at", "delivery_id", "host"}
)
#: What Celery embeds after the arguments; hookwire never sends callbacks, errbacks or chains.
_EMBED_KEYS = frozenset({"callbacks", "errbacks", "chain", "chord"})
#: Headers Celery acts on (callbacks, groups, time limits, expiry, replies, the request's own
#: fields): a delivery never carries them, so any value but an empty one is a forgery.
_FORBIDDEN_HEADERS = frozenset(
    {
        "args",
        "callbacks",
        "called_directly",
        "chain",
        "children",
        "chord",
        "delivery_info",
        "errbacks",
        "expires",
        "group",
        "group_index",
        "hostname",
        "is_eager",
        "kwargs",
        "link",
        "link_error",
        "logfile",
        "loglevel",
        "properties",
        "reply_to",
        "shadow",
        "soft_time_limit",
        "stamped_headers",
        "stamps",
        "taskset",
        "time_limit",
    }
)
#: Headers that may hold a string (or nothing), and how long it may be.
_TEXT_HEADERS = {
    "lang": 8,
    "root_id": 64,
    "parent_id": 64,
    "origin": 300,
    "argsrepr": 1000,
    "kwargsrepr": 1000,
}
#: An ETA later than a receiver's longest backoff by this much (seconds) is not a retry.
_ETA_SLACK = 300.0
_SHOWN = 120


def shown(value: object, limit: int = _SHOWN, *, quote: bool = True) -> str:
    """``value`` as safe, one-line, bounded text for a log line (escaped, shortened); a string
    is quoted, unless ``quote`` is false."""
    if isinstance(value, str) and not quote:
        text = value
    else:
        try:
            text = repr(value)
        except Exception:  # pragma: no cover - values here come from JSON
            text = f"<{type(value).__name__}>"
    if len(text) > limit:
        text = f"{text[:limit]}...({len(text)} characters)"
    return escape(text)


class Rejected(Exception):
    """A message that is not a well-formed delivery; ``str()`` is safe to log on one line.

    :ivar delivery_id: the message's id, already made safe to show (``"-"`` if none).
    """

    def __init__(self, reason: str, delivery_id: str = "-") -> None:
        super().__init__(reason)
        self.delivery_id = delivery_id


class UnknownSender(LookupError):
    """A sender that does not travel as hookwire sends one, or names nothing loaded here."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """A well-formed delivery: the entry it is for, its resolved sender and its arguments."""

    entry: RemoteEntry
    delivery_id: str
    sender: object
    kwargs: dict[str, Any]


def check_message(message: Any, table: Mapping[tuple[str, str], RemoteEntry]) -> Accepted:
    """Check a kombu message as it was taken from a queue, before Celery sees it.

    :raises Rejected: anything about it is not what ``RemoteReceiver`` publishes.
    """
    headers = message.headers
    if not isinstance(headers, dict):
        raise Rejected("it has no task headers (not a Celery protocol 2 message)")
    delivery_id = headers.get("id")
    safe_id = shown(delivery_id, 64, quote=False) if delivery_id is not None else "-"
    task = headers.get("task")
    if task != DELIVER_TASK:
        raise Rejected(
            f"task {shown(task)} is not {DELIVER_TASK}, the only task a hookwire worker runs",
            safe_id,
        )
    if not isinstance(delivery_id, str) or not _DELIVERY_ID.fullmatch(delivery_id):
        raise Rejected(f"malformed task id {safe_id}", safe_id)
    eta = _check_headers(headers, safe_id)
    if message.content_type != CONTENT_TYPE or message.content_encoding != CONTENT_ENCODING:
        raise Rejected(
            f"content type {shown(message.content_type)} ({shown(message.content_encoding)}) "
            f"is not {CONTENT_TYPE} ({CONTENT_ENCODING})",
            safe_id,
        )
    try:
        payload = loads(message.body)
    except (ValueError, TypeError, RecursionError) as exc:
        raise Rejected(f"the body is not JSON ({type(exc).__name__})", safe_id) from None
    if not isinstance(payload, list) or len(payload) != 3:
        raise Rejected(
            f"the body is {_shape(payload)}, not Celery's [args, kwargs, embed]", safe_id
        )
    args, body, embed = payload
    if args != [] or not isinstance(body, dict):
        raise Rejected("a delivery has no positional arguments and a dict body", safe_id)
    if not isinstance(embed, dict) or not set(embed) <= _EMBED_KEYS:
        raise Rejected(f"unexpected embedded options {_shape(embed)}", safe_id)
    for key, value in embed.items():
        if value is not None:
            raise Rejected(f"it carries {shown(key)}: a delivery never has any", safe_id)
    accepted = check_body(body, table, delivery_id)
    if eta is not None:
        receiver = accepted.entry.receiver
        longest = receiver.retry_backoff * 2 ** max(receiver.max_retries, 0) + _ETA_SLACK
        if eta - datetime.now(UTC).timestamp() > longest:
            raise Rejected(
                f"its ETA is further away than any retry of {shown(receiver.name)}", safe_id
            )
    return accepted


def _check_headers(headers: dict[Any, Any], safe_id: str) -> float | None:
    """Check the headers Celery acts on; return the ETA as a timestamp, if any."""
    for key, value in headers.items():
        if not isinstance(key, str) or key.startswith("_"):
            raise Rejected(f"header {shown(key)} is not a Celery header", safe_id)
        if key in _FORBIDDEN_HEADERS and value not in (None, [], {}, [None, None]):
            raise Rejected(f"header {shown(key)} is set: a delivery never has it", safe_id)
        limit = _TEXT_HEADERS.get(key)
        if (limit is not None and value is not None) and (
            not isinstance(value, str) or len(value) > limit or not value.isprintable()
        ):
            raise Rejected(f"header {key} is malformed: {shown(value)}", safe_id)
    if headers.get("lang") not in (None, "py"):
        raise Rejected(f"header lang is {shown(headers.get('lang'))}", safe_id)
    timelimit = headers.get("timelimit")
    if timelimit not in (None, [None, None]):
        raise Rejected(f"header timelimit is {shown(timelimit)}: a delivery has none", safe_id)
    for key in ("retries", "replaced_task_nesting"):
        value = headers.get(key, 0)
        if type(value) is not int or not 0 <= value <= 1_000_000:
            raise Rejected(f"header {key} is {shown(value)}, not a count", safe_id)
    for key in ("ignore_result", "redelivered"):
        if headers.get(key) not in (None, True, False):
            raise Rejected(f"header {key} is {shown(headers.get(key))}", safe_id)
    eta = headers.get("eta")
    if eta is None:
        return None
    try:
        when = datetime.fromisoformat(eta)
    except (TypeError, ValueError):
        raise Rejected(f"header eta is {shown(eta)}, not a time", safe_id) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _shape(value: object) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return f"a dict with keys {shown(sorted(map(str, value)))}"
    return "null" if value is None else f"a {type(value).__name__}"


def check_body(
    body: object, table: Mapping[tuple[str, str], RemoteEntry], delivery_id: str | None = None
) -> Accepted:
    """Check a delivery's body (the task's keyword arguments), on its own.

    :param delivery_id: the message's task id, which the body's ``delivery_id`` must equal.
    :raises Rejected: a key missing or unknown, a value of the wrong type, a receiver not in
        ``table``, a sender that does not resolve or that the receiver's filter refuses.
    """
    safe_id = "-" if delivery_id is None else shown(delivery_id, 64, quote=False)
    if not isinstance(body, dict) or set(body) != _BODY_KEYS:
        shape = _shape(body)
        raise Rejected(f"the delivery is {shape}, not hookwire's message format", safe_id)
    if body["delivery_id"] != delivery_id and delivery_id is not None:
        raise Rejected("its delivery id is not its task id", safe_id)
    delivery_id = body["delivery_id"]
    if not isinstance(delivery_id, str) or not _DELIVERY_ID.fullmatch(delivery_id):
        raise Rejected(f"malformed delivery id {shown(delivery_id, 64)}", safe_id)
    if type(body["format"]) is not int or body["format"] != FORMAT:
        raise Rejected(f"message format {shown(body['format'])} is not {FORMAT}", safe_id)
    signal_name, receiver_name = body["signal"], body["receiver"]
    if not isinstance(signal_name, str) or not isinstance(receiver_name, str):
        raise Rejected("the signal and receiver names must be strings", safe_id)
    entry = table.get((signal_name, receiver_name))
    if entry is None:
        raise Rejected(
            f"remote receiver {shown(receiver_name)} of signal {shown(signal_name)} was not "
            "connected by a plugin ready on this worker",
            safe_id,
        )
    where = f"for {entry.receiver.name} (plugin {escape(entry.plugin)})"
    if not isinstance(body["host"], str) or type(body["sent_at"]) not in (int, float):
        raise Rejected(f"{where}: malformed host or sent_at", safe_id)
    kwargs = body["kwargs"]
    if not isinstance(kwargs, dict):
        raise Rejected(f"{where}: the arguments are {_shape(kwargs)}, not a dict", safe_id)
    for name in ("signal", "sender"):
        if name in kwargs:
            raise Rejected(f"{where}: an argument is named {name!r}", safe_id)
    try:
        sender = resolve_sender(body["sender"])
    except UnknownSender as exc:
        raise Rejected(f"{where}: {exc}", safe_id) from None
    if not _sender_matches(entry, sender):
        raise Rejected(
            f"{where}: its sender filter does not accept the sender {shown(body['sender'])}",
            safe_id,
        )
    return Accepted(entry=entry, delivery_id=delivery_id, sender=sender, kwargs=kwargs)


def _sender_matches(entry: RemoteEntry, sender: object) -> bool:
    """Whether ``entry.signal.send(sender)`` would call the receiver in this process."""
    sync, async_ = entry.signal._live_receivers(sender)
    receiver = entry.receiver
    if any(live is receiver for live in (*sync, *async_)):
        return True
    if sender is None or not isinstance(sender, str | int | float):
        return False
    # A value sender is matched by identity, as Django does; a value that came through JSON is
    # a new object, so here the same value (and type) stands for the same sender.
    for info in entry.signal.describe_receivers():
        target = info.sender
        if info.receiver is not receiver or type(target) is not type(sender):
            continue
        if isinstance(target, str) and is_lazy_reference(target):
            continue  # a lazy sender still pending: nothing resolves to it yet
        if target == sender:
            return True
    return False


def resolve_sender(encoded: object) -> object:
    """The sender of a message, found among the modules already imported here.

    ``{"value": v}`` gives ``v`` (``None``, a str, a finite number or a bool); ``{"ref":
    "module:QualName"}`` the module-level class or function of that name in a module already
    imported (``"module:"`` the module), found through attributes that exist without running
    code: a module's ``__getattr__``, properties and other descriptors are never called, and
    nothing is imported.

    :raises UnknownSender: a malformed sender, or one that names nothing loaded here.
    """
    if not isinstance(encoded, dict) or len(encoded) != 1:
        raise UnknownSender(f"malformed sender {shown(encoded)}")
    if "value" in encoded:
        value = encoded["value"]
        if value is None or type(value) in (str, int, bool):
            return value
        if type(value) is float and math.isfinite(value):
            return value
        raise UnknownSender(f"malformed sender value {shown(value)}")
    reference = encoded.get("ref")
    if not isinstance(reference, str) or ":" not in reference or len(reference) > 300:
        raise UnknownSender(f"malformed sender reference {shown(reference)}")
    module_name, _, qualname = reference.partition(":")
    # Only modules already imported (by the host and its plugins): a message never makes the
    # worker import anything.
    module = sys.modules.get(module_name)
    if not isinstance(module, ModuleType):
        raise UnknownSender(f"sender module {shown(module_name)} is not loaded on this worker")
    if not qualname:
        return module
    parts = qualname.split(".")
    if any(not part.isidentifier() or part.startswith("__") for part in parts):
        raise UnknownSender(f"sender {shown(reference)} names a private or invalid attribute")
    found: object = module
    for part in parts:
        try:
            # getattr_static reads what is stored: no __getattr__, no descriptor is called.
            found = inspect.getattr_static(found, part)
        except AttributeError:
            raise UnknownSender(
                f"sender {shown(reference)} not found in {shown(module_name)}"
            ) from None
        if not isinstance(found, type | FunctionType):
            raise UnknownSender(f"sender {shown(reference)} is not a class or function")
    if _static_name(found) != (module_name, qualname):
        raise UnknownSender(f"sender {shown(reference)} is an alias of another object")
    return found


def _static_name(value: object) -> tuple[object, object]:
    """``(__module__, __qualname__)`` as stored, bypassing any metaclass property."""
    if isinstance(value, FunctionType):  # FunctionType cannot be subclassed
        return value.__module__, value.__qualname__
    assert isinstance(value, type)
    module = type.__dict__["__module__"].__get__(value, type)
    qualname = type.__dict__["__qualname__"].__get__(value, type)
    if type(module) is not str or type(qualname) is not str:
        return None, None
    return module, qualname
