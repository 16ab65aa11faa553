"""An audit trail of the host's life, from hookwire's lifecycle signals.

The receivers live in :mod:`pizzeria_audit.listeners`; :data:`trail` keeps every entry.
"""

from __future__ import annotations

from hookwire import Plugin

__all__ = ["AuditPlugin", "record", "trail"]

trail: list[str] = []


def record(entry: str) -> None:
    """Append ``entry`` to :data:`trail` and print it, labelled ``[audit]``."""
    trail.append(entry)
    print(f"[audit] {entry}")


class AuditPlugin(Plugin):
    """The ``audit`` plugin: its receivers are in the ``listeners`` module."""

    name = "audit"
    verbose_name = "Audit trail"
    signals_module = "listeners"
