"""Plugin names compared the way users expect: ``My_Plugin``, ``my.plugin`` and ``my-plugin``
are one name. Kept apart from the registry so discovery can use it without importing
:mod:`dataclasses` (and with it :mod:`inspect`) on a warm start."""

from __future__ import annotations

from functools import lru_cache

__all__ = ["normalize_name"]


# Cached: the loader asks several times for every plugin (its record's key, requires, the
# allow- and deny-lists), and the substitution cost more than the rest of a record's discovery.
@lru_cache(maxsize=4096)
def normalize_name(name: str) -> str:
    """The canonical spelling of a plugin name: ``My_Plugin`` and ``my.plugin`` are ``my-plugin``.

    The same rule as distribution names (PEP 503), so names compare the way users expect.
    """
    # Every run of "-", "_" and "." becomes one "-", with string methods: compiling the
    # equivalent regular expression was a part of every start.
    text = name.strip().lower().replace("_", "-").replace(".", "-")
    while "--" in text:
        text = text.replace("--", "-")
    return text
