"""Which host a command drives: the ``HOST`` argument, ``HOOKWIRE_HOST``, ``[tool.hookwire] host``
in the nearest ``pyproject.toml``, or the built-in default host — in that order.

A reference is ``module:attribute`` (the attribute may be dotted). The attribute is a
:class:`~hookwire.Host` or a zero-argument factory returning one. A reference that does not
resolve is a :class:`~hookwire.exceptions.HostNotFoundError` with a "did you mean" suggestion;
a host module that raises while importing is a :class:`~hookwire.exceptions.HostImportError`.

The current directory is never added to ``sys.path``: a module lying in it is imported only
when the user asks for it (``PYTHONPATH=.`` or installing the project).
"""

from __future__ import annotations

import difflib
import importlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._text import describe_error
from ..exceptions import ConfigError, HostImportError, HostNotFoundError

if TYPE_CHECKING:
    from .._host import Host

__all__ = [
    "DEFAULT_REFERENCE",
    "HostReference",
    "embedded_host",
    "find_host_reference",
    "import_host",
    "resolve_host",
]

DEFAULT_REFERENCE = "hookwire._host:default_host"
ENVIRONMENT_VARIABLE = "HOOKWIRE_HOST"


@dataclass(frozen=True)
class HostReference:
    """A ``module:attribute`` reference and where it came from (for error messages)."""

    text: str
    source: str

    def describe(self) -> str:
        """``"'pizzeria.app:host'"`` plus its source when that was not the command line."""
        if self.source == "argument":
            return repr(self.text)
        return f"{self.text!r} (from {self.source})"


def _pyproject_host(start: Path | None) -> HostReference | None:
    # The same file and rules as the loading settings: the nearest pyproject.toml that has
    # a [tool.hookwire] table.
    from .._loading.config import read_pyproject_settings

    path, settings = read_pyproject_settings(start)
    if path is None or "host" not in settings:
        return None
    value = settings["host"]
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"{path}: [tool.hookwire] host must be a 'module:attribute' string, got {value!r}",
            source=str(path),
        )
    return HostReference(value.strip(), f"[tool.hookwire] host in {path}")


def find_host_reference(
    argument: str | None,
    *,
    environ: Mapping[str, str] | None = None,
    start_dir: Path | None = None,
) -> HostReference:
    """The reference to use: argument, then environment, then ``pyproject.toml``, then default.

    :raises HostNotFoundError: ``argument`` is given but empty.
    :raises ConfigError: the nearest ``pyproject.toml`` with a ``[tool.hookwire]`` table cannot
        be read, or its ``host`` is not a string.
    """
    if argument is not None:
        if not argument.strip():
            raise HostNotFoundError(
                "the host reference is empty: give 'module:attribute' (e.g. 'pizzeria.app:host'), "
                "or leave HOST out to use $HOOKWIRE_HOST, [tool.hookwire] host or the default"
            )
        return HostReference(argument, "argument")
    environ = os.environ if environ is None else environ
    from_env = environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if from_env:
        return HostReference(from_env, ENVIRONMENT_VARIABLE)
    from_pyproject = _pyproject_host(start_dir)
    if from_pyproject is not None:
        return from_pyproject
    return HostReference(DEFAULT_REFERENCE, "default")


def _suggest(word: str, candidates: list[str]) -> str | None:
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


def _module_candidates(parent: str | None) -> list[str]:
    """Importable module names at the top level or inside the package ``parent``."""
    import pkgutil

    if parent is None:
        return sorted({info.name for info in pkgutil.iter_modules()})
    try:
        package = importlib.import_module(parent)
    except Exception:
        return []
    path = getattr(package, "__path__", None)
    if path is None:
        return []
    return sorted(f"{parent}.{info.name}" for info in pkgutil.iter_modules(path))


def _module_not_found(reference: HostReference, missing: str, attribute: str) -> HostNotFoundError:
    module_name = reference.text.partition(":")[0].strip()
    parent, _, _ = missing.rpartition(".")
    message = f"host {reference.describe()}: no module named {missing!r}"
    suggestion = None
    if "." not in missing and (
        Path(missing + ".py").is_file() or Path(missing, "__init__.py").is_file()
    ):
        message += (
            " (it is in the current directory, which hookwire does not import from; "
            "install the project or set PYTHONPATH=.)"
        )
        return HostNotFoundError(message)
    close = _suggest(missing, _module_candidates(parent or None))
    corrected = None if close is None else f"{close}{module_name[len(missing) :]}"
    if corrected is not None and _module_exists(corrected):
        # Offer the whole corrected reference, ready to paste; only one that names a module
        # that is really there.
        suggestion = f"{corrected}:{attribute}"
        message += f" (did you mean {suggestion!r}?)"
    return HostNotFoundError(message, suggestion=suggestion)


def _module_exists(name: str) -> bool:
    """Whether the module ``name`` can be found, without importing it or its packages
    (beyond what is already imported)."""
    import importlib.util
    from importlib.machinery import PathFinder

    first, *rest = name.split(".")
    try:
        spec = importlib.util.find_spec(first)
        for part in rest:
            locations = None if spec is None else spec.submodule_search_locations
            if not locations:
                return False
            spec = PathFinder.find_spec(part, list(locations))
    except (ImportError, ValueError):
        return False
    return spec is not None


def _is_dotted_name(text: str) -> bool:
    return all(part.isidentifier() for part in text.split("."))


def _attribute_not_found(
    reference: HostReference, module_name: str, namespace: Any, done: str, missing: str
) -> HostNotFoundError:
    from .._host import Host

    try:
        names = [name for name in dir(namespace) if not name.startswith("__")]
    except Exception:
        names = []
    suggestion = _suggest(missing, names)
    where = f"module {module_name!r}" if not done else f"{module_name}:{done}"
    message = f"host {reference.describe()}: {where} has no attribute {missing!r}"
    full = None
    if suggestion is not None:
        full = f"{module_name}:{done + '.' if done else ''}{suggestion}"
        message += f" (did you mean {full!r}?)"
    elif not done:
        hosts = [name for name in names if isinstance(_lookup_quietly(namespace, name), Host)]
        if hosts:
            message += f"; its hosts are: {', '.join(hosts)}"
    return HostNotFoundError(message, suggestion=full)


def _lookup_quietly(namespace: object, name: str) -> object:
    try:
        return getattr(namespace, name, None)
    except Exception:
        return None


def import_host(reference: HostReference) -> Host:
    """Import the module of ``reference`` and return its :class:`~hookwire.Host`.

    :raises HostNotFoundError: malformed reference, no such module or attribute, or the object
        is neither a ``Host`` nor a zero-argument factory of one.
    :raises HostImportError: the module (or the factory, or an attribute lookup) raised; the
        error is ``__cause__``.
    """
    from .._host import Host

    module_name, colon, attribute_path = reference.text.partition(":")
    module_name, attribute_path = module_name.strip(), attribute_path.strip()
    if not colon or not module_name or not attribute_path:
        raise HostNotFoundError(
            f"host {reference.describe()} is not 'module:attribute' (e.g. 'pizzeria.app:host')"
        )
    for text, what in ((module_name, "module"), (attribute_path, "attribute")):
        if not _is_dotted_name(text):
            raise HostNotFoundError(
                f"host {reference.describe()}: {text!r} is not a valid {what} name "
                "(Python identifiers joined by dots, e.g. 'pizzeria.app:host')"
            )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        if module_name == missing or module_name.startswith(missing + "."):
            raise _module_not_found(reference, missing, attribute_path) from exc
        raise _import_failed(reference, module_name, exc) from exc
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except BaseException as exc:  # SystemExit at import time is a broken module too
        raise _import_failed(reference, module_name, exc) from exc

    value: Any = module
    done: list[str] = []
    for part in attribute_path.split("."):
        try:
            value = getattr(value, part)
        except AttributeError as exc:
            raise _attribute_not_found(reference, module_name, value, ".".join(done), part) from exc
        except Exception as exc:
            # A module __getattr__ or a property that raised: the host's own code failed.
            where = ":".join([module_name, ".".join([*done, part])])
            raise HostImportError(
                f"host {reference.describe()}: looking up {where} raised {describe_error(exc)}"
            ) from exc
        done.append(part)

    if isinstance(value, Host):
        return value
    if callable(value) and not isinstance(value, type):
        return _call_factory(reference, value)
    raise HostNotFoundError(
        f"host {reference.describe()} is {_kind(value)}, "
        "not a hookwire.Host or a zero-argument function returning one"
    )


def _kind(value: object) -> str:
    if isinstance(value, type):
        return f"the class {value.__qualname__}"
    article = "an" if type(value).__name__[:1].lower() in "aeiou" else "a"
    return f"{article} {type(value).__qualname__}"


def _call_factory(reference: HostReference, factory: Any) -> Host:
    import inspect

    from .._host import Host

    try:
        inspect.signature(factory).bind()
    except TypeError as exc:
        raise HostNotFoundError(
            f"host {reference.describe()} is a factory that needs arguments ({exc}); "
            "a host factory must take none"
        ) from None
    except ValueError:  # no signature available (some builtins): just try calling it
        pass
    try:
        value = factory()
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except BaseException as exc:
        raise HostImportError(
            f"host {reference.describe()}: the factory raised {describe_error(exc)}"
        ) from exc
    if not isinstance(value, Host):
        raise HostNotFoundError(
            f"host {reference.describe()} returned {_kind(value)}, not a hookwire.Host"
        )
    return value


def _import_failed(
    reference: HostReference, module_name: str, exc: BaseException
) -> HostImportError:
    return HostImportError(
        f"host {reference.describe()}: importing {module_name!r} failed with {describe_error(exc)}"
    )


# The host an application's own command (``manage.py hookwire``, ``flask hookwire``) runs the
# commands against: it comes before $HOOKWIRE_HOST when no HOST argument is given.
_embedded: list[Host] = []


@contextmanager
def embedded_host(host: Host) -> Iterator[None]:
    """Inside the block, commands given no ``HOST`` drive ``host`` (already loaded by the
    application embedding it)."""
    _embedded.append(host)
    try:
        yield
    finally:
        _embedded.remove(host)


def resolve_host(argument: str | None) -> Host:
    """:func:`find_host_reference` then :func:`import_host`; with no argument, the host of
    :func:`embedded_host` if one is set."""
    if argument is None and _embedded:
        return _embedded[-1]
    return import_host(find_host_reference(argument))
