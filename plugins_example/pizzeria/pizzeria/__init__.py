"""An example host application for hookwire: a pizzeria whose plugins hook its signals.

The public signals live in :mod:`pizzeria.signals`, the domain in :mod:`pizzeria.store` and the
:class:`hookwire.Host` in :mod:`pizzeria.app`.
"""

from __future__ import annotations

__version__ = "1.4.0"
