"""Which plugins may load: allow-list, deny-list, autoload and strict, from three sources.

Precedence, highest first: arguments, environment variables, ``[tool.hookwire]`` in the
nearest ``pyproject.toml``. For ``plugins`` (the allow-list), ``autoload`` and ``strict`` the
highest source that sets a value wins. The deny-list is the union of all sources: a plugin
disabled anywhere stays disabled, so a lower-precedence safety setting cannot be undone by
accident.

Environment variables (comma-separated names):

``HOOKWIRE_PLUGINS``            allow-list; set but empty means "no plugins"
``HOOKWIRE_DISABLE_PLUGINS``    deny-list
``HOOKWIRE_DISABLE_AUTOLOAD``   any of ``1/true/yes/on`` turns autoload off
``HOOKWIRE_EAGER``              any of ``1/true/yes/on`` activates lazy plugins at load

Names are normalised (``My_Plugin`` = ``my-plugin``). With autoload off, only plugins named in
the allow-list load (pytest's ``-p`` model); with no allow-list, none do.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from ..exceptions import ConfigError
from .names import normalize_name

__all__ = [
    "ENV_DISABLE_AUTOLOAD",
    "ENV_DISABLE_PLUGINS",
    "ENV_EAGER",
    "ENV_PLUGINS",
    "LoadConfig",
    "find_pyproject",
    "read_pyproject_settings",
    "resolve_config",
]

ENV_PLUGINS = "HOOKWIRE_PLUGINS"
ENV_DISABLE_PLUGINS = "HOOKWIRE_DISABLE_PLUGINS"
ENV_DISABLE_AUTOLOAD = "HOOKWIRE_DISABLE_AUTOLOAD"
ENV_EAGER = "HOOKWIRE_EAGER"

_KNOWN_KEYS = (
    "autoload",
    "broker",
    "broker_timeout",
    "disable",
    "host",
    "lazy",
    "plugins",
    "strict",
)
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


class LoadConfig:
    """The effective loading settings (immutable; equal when every field is).

    ``allow``: normalised names that may load, or ``None`` for every discovered plugin (an
    empty tuple: none). ``deny``: normalised names that are never imported. ``autoload``:
    load discovered plugins without naming them. ``strict``: raise
    :class:`~hookwire.exceptions.LoadError` after loading when anything failed. ``lazy``:
    plugins that declare the host signals they listen to are imported at the first send of
    one of them (``False``: every plugin at load).
    ``sources``: where each allow- and deny-list name came from, for messages (not compared).
    """

    # A plain class, not a dataclass: dataclasses imports inspect, about 7 ms of every
    # command's start ("hookwire Host(...).load(), cached" in benchmarks/bench_discovery.py).
    __slots__ = ("allow", "autoload", "deny", "lazy", "sources", "strict")

    allow: tuple[str, ...] | None
    deny: tuple[str, ...]
    autoload: bool
    strict: bool
    lazy: bool
    #: Where each allow/deny name was set: ``("allow-list" | "deny-list", name)`` -> source.
    #: Not part of equality or the repr.
    sources: Mapping[tuple[str, str], str]

    def __init__(
        self,
        allow: tuple[str, ...] | None = None,
        deny: tuple[str, ...] = (),
        autoload: bool = True,
        strict: bool = False,
        sources: Mapping[tuple[str, str], str] | None = None,
        lazy: bool = True,
    ) -> None:
        for field, value in (
            ("allow", allow),
            ("deny", deny),
            ("autoload", autoload),
            ("strict", strict),
            ("lazy", lazy),
            ("sources", {} if sources is None else sources),
        ):
            object.__setattr__(self, field, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"LoadConfig is immutable: cannot assign to {name!r}")

    def eager(self) -> LoadConfig:
        """The same settings with every lazy plugin activated at load."""
        return LoadConfig(self.allow, self.deny, self.autoload, self.strict, self.sources, False)

    def _fields(self) -> tuple[object, ...]:
        return (self.allow, self.deny, self.autoload, self.strict, self.lazy)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LoadConfig):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (
            f"LoadConfig(allow={self.allow!r}, deny={self.deny!r}, "
            f"autoload={self.autoload!r}, strict={self.strict!r}"
            + ("" if self.lazy else ", lazy=False")
            + ")"
        )

    def source_of(self, listed_in: str, name: str) -> str | None:
        """Where ``name`` of the ``"allow-list"`` or ``"deny-list"`` was set, if known."""
        return self.sources.get((listed_in, normalize_name(name)))

    def disabled_reason(self, name: str) -> str | None:
        """Why the plugin ``name`` must not be imported, or ``None`` when it may load."""
        key = normalize_name(name)
        if key in self.deny:
            return "disabled by the deny-list"
        if self.allow is not None:
            return None if key in self.allow else "not in the allow-list"
        if not self.autoload:
            return "autoload is off and it is not named explicitly"
        return None


def resolve_config(
    *,
    plugins: Iterable[str] | None = None,
    disable: Iterable[str] = (),
    autoload: bool | None = None,
    strict: bool | None = None,
    lazy: bool | None = None,
    environ: Mapping[str, str] | None = None,
    start_dir: str | os.PathLike[str] | None = None,
) -> LoadConfig:
    """Merge arguments > environment > nearest ``pyproject.toml`` into a :class:`LoadConfig`.

    ``environ`` defaults to :data:`os.environ`; ``start_dir`` (default: the current directory)
    is where the search for ``pyproject.toml`` starts.

    :raises ConfigError: a setting has the wrong type, an unknown ``[tool.hookwire]`` key, a
        boolean variable that is not a boolean, or the ``pyproject.toml`` is not valid TOML.
    """
    env = os.environ if environ is None else environ
    path, settings = read_pyproject_settings(start_dir)
    source = f"{path} [tool.hookwire]" if path is not None else "pyproject.toml"

    sources: dict[tuple[str, str], str] = {}

    def remember(listed_in: str, names: Iterable[str], where: str) -> tuple[str, ...]:
        for name in names:
            sources.setdefault((listed_in, normalize_name(name)), where)
        return tuple(names)

    allow: tuple[str, ...] | None = None
    if plugins is not None:
        allow = _normalized(
            remember("allow-list", _as_names(plugins, "plugins="), "--plugin / plugins=")
        )
    elif ENV_PLUGINS in env:
        allow = _normalized(remember("allow-list", _split(env[ENV_PLUGINS]), ENV_PLUGINS))
    elif "plugins" in settings:
        names = _as_names(settings["plugins"], f"{source} plugins")
        allow = _normalized(remember("allow-list", names, f"{source} plugins"))

    deny = list(remember("deny-list", _as_names(disable, "disable="), "--disable / disable="))
    deny.extend(
        remember("deny-list", _split(env.get(ENV_DISABLE_PLUGINS, "")), ENV_DISABLE_PLUGINS)
    )
    if "disable" in settings:
        names = _as_names(settings["disable"], f"{source} disable")
        deny.extend(remember("deny-list", names, f"{source} disable"))

    resolved_autoload = True
    if autoload is not None:
        resolved_autoload = bool(autoload)
    elif ENV_DISABLE_AUTOLOAD in env:
        resolved_autoload = not _env_flag(env[ENV_DISABLE_AUTOLOAD], ENV_DISABLE_AUTOLOAD)
    elif "autoload" in settings:
        resolved_autoload = _as_bool(settings["autoload"], f"{source} autoload")

    resolved_strict = False
    if strict is not None:
        resolved_strict = bool(strict)
    elif "strict" in settings:
        resolved_strict = _as_bool(settings["strict"], f"{source} strict")

    resolved_lazy = True
    if lazy is not None:
        resolved_lazy = bool(lazy)
    elif ENV_EAGER in env:
        resolved_lazy = not _env_flag(env[ENV_EAGER], ENV_EAGER)
    elif "lazy" in settings:
        resolved_lazy = _as_bool(settings["lazy"], f"{source} lazy")

    return LoadConfig(
        allow=allow,
        deny=_normalized(deny),
        autoload=resolved_autoload,
        strict=resolved_strict,
        sources=sources,
        lazy=resolved_lazy,
    )


def find_pyproject(start_dir: str | os.PathLike[str] | None = None) -> str | None:
    """The path of the nearest ``pyproject.toml`` with a ``[tool.hookwire]`` table, from
    ``start_dir`` up.

    A ``pyproject.toml`` without the table is passed over, as pytest does for its own table,
    so a package inside a larger project inherits the project's settings.
    """
    folder = os.path.realpath(start_dir if start_dir is not None else os.getcwd())
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        try:
            with open(candidate, "rb") as stream:
                data = stream.read()
        except OSError:
            data = b""
        # A cheap test before parsing: most pyproject files have nothing for us.
        if b"hookwire" in data:
            tool = _parse_toml(candidate, data).get("tool")
            if isinstance(tool, dict) and "hookwire" in tool:
                return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def read_pyproject_settings(
    start_dir: str | os.PathLike[str] | None = None,
) -> tuple[str | None, dict[str, Any]]:
    """The nearest ``[tool.hookwire]`` table and its file's path, or ``(None, {})``.

    Keys: ``plugins``, ``disable``, ``autoload``, ``strict``, ``lazy``, ``host``, and ``broker`` /
    ``broker_timeout`` (read by :mod:`hookwire.remote`).

    :raises ConfigError: invalid TOML, a table that is not a table, or an unknown key.
    """
    path = find_pyproject(start_dir)
    if path is None:
        return None, {}
    with open(path, "rb") as stream:
        table = _parse_toml(path, stream.read())["tool"]["hookwire"]
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.hookwire] must be a table", source=path)
    unknown = sorted(set(table) - set(_KNOWN_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown [tool.hookwire] key(s) {', '.join(unknown)}; "
            f"known keys: {', '.join(_KNOWN_KEYS)}",
            source=path,
        )
    return path, table


def _parse_toml(path: str, data: bytes) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}", source=path) from error


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _as_names(value: object, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        # A single string is a common slip in TOML and arguments; accept "a,b" as a list.
        return _split(value)
    if not isinstance(value, Iterable):
        raise ConfigError(
            f"{source} must be a list of plugin names, not {type(value).__name__}", source=source
        )
    names = tuple(value)
    for name in names:
        if not isinstance(name, str):
            raise ConfigError(f"{source} holds {name!r}, not a plugin name", source=source)
    return tuple(name.strip() for name in names if name.strip())


def _as_bool(value: object, source: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{source} must be true or false, not {value!r}", source=source)


def _env_flag(value: str, variable: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(
        f"{variable}={value!r} is not a boolean (use 1/0, true/false, yes/no)", source=variable
    )


def _normalized(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(normalize_name(name) for name in names))
