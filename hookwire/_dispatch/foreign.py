"""Signals of another dispatcher (Django's own, when hookwire is not its dispatcher) as
introspection sees them.

An integration that lets plugins connect to such signals registers a *source* here: a
function returning views of those signals, each with a ``qualified_name``, a ``doc``, the
declared ``args`` (``None``: other dispatchers declare none) and ``describe_receivers()``
giving :class:`~hookwire._dispatch.introspection.ReceiverInfo` records (with ``plugin=``,
describing that plugin's receivers only). ``hookwire signals`` lists them after hookwire's
own signals, and a plugin's receiver count includes what it connected there.

This module must stay import-light: the registry reads it on every receiver count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .introspection import ReceiverInfo

__all__ = ["ForeignSignal", "foreign_signals", "register_source"]


class ForeignSignal(Protocol):
    """What introspection needs of a signal hookwire does not own."""

    @property
    def qualified_name(self) -> str:
        """``"<module>.<name>"``, as for hookwire's signals."""

    @property
    def doc(self) -> str | None:
        """A description, if the signal has one."""

    @property
    def args(self) -> Mapping[str, Any] | None:
        """Declared arguments; ``None`` when the signal declares none."""

    @property
    def deprecated_args(self) -> Mapping[str, str] | None:
        """Declared deprecated arguments; ``None`` when the signal declares none."""

    def describe_receivers(self, plugin: str | None = None) -> list[ReceiverInfo]:
        """Every live receiver, in the order the signal calls them; with ``plugin``, only
        that plugin's, at the cost of describing those alone."""


_sources: list[Callable[[], Iterable[ForeignSignal]]] = []


def register_source(source: Callable[[], Iterable[ForeignSignal]]) -> None:
    """Add ``source`` (once): a function returning the views of the signals it knows."""
    if source not in _sources:
        _sources.append(source)


def foreign_signals() -> list[ForeignSignal]:
    """The views every registered source gives now, sorted by qualified name."""
    found: list[ForeignSignal] = []
    for source in list(_sources):
        found.extend(source())
    found.sort(key=lambda signal: signal.qualified_name)
    return found
