"""Signal contracts: the arguments a signal declares, checked at connect and at send.

A :class:`Contract` is built once, when a ``Signal(args=...)`` is created, and never changes
afterwards. It holds what the send paths compare against (two frozensets) and everything the
error messages and introspection need. Signals without ``args`` have no contract and never
reach this module.

* **At send**, the public send methods compare the keyword names with
  :attr:`Contract.accepted` (one set comparison); only a mismatch calls :func:`check_send`,
  which accepts a send that leaves out deprecated arguments and raises
  :class:`~hookwire.exceptions.SignalArgumentsError` for anything else.
* **At connect**, :func:`check_receiver` reads the receiver's parameters (through its code
  object for plain functions and methods; :mod:`inspect` only for other callables) and raises
  :class:`~hookwire.exceptions.ReceiverSignatureError` for a parameter that is neither
  declared nor defaulted, or warns with
  :class:`~hookwire.exceptions.HookwireDeprecationWarning` for one that names a deprecated
  argument.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable, Mapping
from functools import partial
from types import FunctionType, MappingProxyType, MethodType
from typing import TYPE_CHECKING, Any

from ..exceptions import HookwireDeprecationWarning, ReceiverSignatureError, SignalArgumentsError
from .receivers import describe_callable, source_location

if TYPE_CHECKING:
    from .signal import Signal

__all__ = [
    "ALWAYS_PASSED",
    "Contract",
    "build_contract",
    "check_receiver",
    "check_send",
    "deprecated_names_used",
    "deprecation_message",
    "type_name",
]

#: What every receiver is called with besides the declared arguments.
ALWAYS_PASSED = frozenset({"signal", "sender"})


class Contract:
    """The declared arguments of one signal (immutable once built).

    :ivar types: declared name -> its type (``None`` when declared by name only), in
        declaration order; a read-only mapping.
    :ivar deprecated: deprecated name -> what to use instead (``""`` when nothing was said).
    :ivar required: the declared names, which every send must pass.
    :ivar accepted: the declared and the deprecated names: what a send may pass.
    """

    __slots__ = ("accepted", "deprecated", "required", "types")

    def __init__(self, types: dict[str, Any], deprecated: dict[str, str]) -> None:
        self.types: Mapping[str, Any] = MappingProxyType(types)
        self.deprecated: Mapping[str, str] = MappingProxyType(deprecated)
        self.required = frozenset(types)
        self.accepted = self.required | frozenset(deprecated)

    def __repr__(self) -> str:
        return f"<Contract {sorted(self.types)} deprecated={sorted(self.deprecated)}>"


def _names_and_types(args: object, what: str) -> dict[str, Any]:
    if isinstance(args, str | bytes) or not isinstance(args, Iterable | Mapping):
        raise TypeError(
            f"Signal({what}=...) takes a dict of argument name -> type or a list of names, "
            f"not {type(args).__name__}"
        )
    found: dict[str, Any] = dict(args.items()) if isinstance(args, Mapping) else dict.fromkeys(args)
    for name in found:
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"Signal({what}=...): {name!r} is not a valid argument name")
        if name in ALWAYS_PASSED:
            raise ValueError(
                f"Signal({what}=...): {name!r} is passed to every receiver already and "
                "cannot be declared"
            )
    return found


def build_contract(args: object, deprecated_args: object = None) -> Contract:
    """The contract of ``Signal(args=args, deprecated_args=deprecated_args)``.

    ``args`` is a mapping of name -> type, or an iterable of names; ``deprecated_args`` a
    mapping of name -> what to use instead, or an iterable of names.

    :raises TypeError: either has the wrong shape.
    :raises ValueError: a name is not an identifier, is ``signal`` or ``sender``, or is both
        declared and deprecated.
    """
    types = _names_and_types(args, "args")
    deprecated: dict[str, str] = {}
    if deprecated_args is not None:
        for name, replacement in _names_and_types(deprecated_args, "deprecated_args").items():
            if name in types:
                raise ValueError(
                    f"Signal(deprecated_args=...): {name!r} is also in args; an argument is "
                    "either declared or deprecated"
                )
            deprecated[name] = "" if replacement is None else str(replacement)
    return Contract(types, deprecated)


def type_name(annotation: object) -> str | None:
    """How a declared type is shown: ``"int"``, ``"pizzeria.store.Pizza"``, or the
    annotation's text; ``None`` when the argument was declared by name only."""
    if annotation is None:
        return None
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        module = annotation.__module__
        if module == "builtins":
            return annotation.__qualname__
        return f"{module}.{annotation.__qualname__}"
    return repr(annotation).replace("typing.", "")


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    import difflib  # only on failure paths

    close = difflib.get_close_matches(word, sorted(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def _listed(names: Iterable[str]) -> str:
    shown = ", ".join(names)
    return shown or "no argument"


def check_send(signal_name: str, contract: Contract, named: Mapping[str, Any]) -> None:
    """Check the keyword arguments of a send whose names differ from ``contract.accepted``.

    A send may leave out deprecated arguments; everything else must match.

    :raises SignalArgumentsError: an argument is undeclared, or a declared one is missing.
    """
    keys = named.keys()
    unexpected = sorted(keys - contract.accepted)
    missing = [name for name in contract.types if name not in keys]
    if not unexpected and not missing:
        return
    if unexpected:
        argument = unexpected[0]
        suggestion = _closest(argument, contract.accepted - keys) or _closest(
            argument, contract.accepted
        )
        problem = f"with the undeclared argument {argument!r}"
    else:
        argument = missing[0]
        suggestion = _closest(argument, keys - contract.accepted)
        problem = f"without the declared argument {argument!r}"
    message = f"{signal_name} was sent {problem}; it declares {_listed(contract.types)}" + (
        f" (deprecated: {_listed(contract.deprecated)})" if contract.deprecated else ""
    )
    if suggestion is not None:
        message += f"; did you mean {suggestion!r}?"
    raise SignalArgumentsError(
        message,
        signal=signal_name,
        argument=argument,
        missing=missing,
        unexpected=unexpected,
        suggestion=suggestion,
    )


def _code_parameters(
    code: Any, defaults: int, kwdefaults: Any, skip: int
) -> list[tuple[str, bool]]:
    positional = code.co_argcount
    names = code.co_varnames[: positional + code.co_kwonlyargcount]
    parameters = []
    first_default = positional - defaults
    for index, name in enumerate(names):
        if index < skip or index < code.co_posonlyargcount:
            continue  # bound already, or never passed by keyword
        if index < positional:
            has_default = index >= first_default
        else:
            has_default = bool(kwdefaults) and name in kwdefaults
        parameters.append((name, has_default))
    return parameters


def receiver_parameters(receiver: object) -> list[tuple[str, bool]] | None:
    """``(name, has a default)`` of every parameter a keyword call can fill, or ``None`` when
    the receiver's signature cannot be read (some builtins)."""
    func: Any = receiver
    skip = 0
    if type(func) is MethodType:
        func, skip = func.__func__, 1
    if type(func) is FunctionType and "__wrapped__" not in func.__dict__:
        return _code_parameters(
            func.__code__, len(func.__defaults__ or ()), func.__kwdefaults__, skip
        )
    import inspect  # partials, callable objects, decorated functions, builtins

    try:
        signature = inspect.signature(receiver)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [
        (parameter.name, parameter.default is not inspect.Parameter.empty)
        for parameter in signature.parameters.values()
        if parameter.kind in kinds
    ]


def _is_partial_keyword(receiver: object, name: str) -> bool:
    return isinstance(receiver, partial) and name in receiver.keywords


def check_receiver(
    signal: Signal, contract: Contract, receiver: object, plugin: str | None
) -> None:
    """Check a receiver's parameters against the contract, at connect.

    The signal's name is looked up only for an error or a warning: finding it may write to
    the signal's ``__dict__``, which makes every attribute read of its sends slower.

    :raises ReceiverSignatureError: a parameter other than ``signal`` and ``sender`` is neither
        declared (nor deprecated) nor has a default.
    :warns HookwireDeprecationWarning: a parameter names a deprecated argument (the warning
        points to the receiver's definition).
    """
    parameters = receiver_parameters(receiver)
    if parameters is None:
        return
    for name, has_default in parameters:
        if name in ALWAYS_PASSED or name in contract.required:
            continue
        if name in contract.deprecated:
            _warn_deprecated(signal.qualified_name, contract, receiver, name, plugin)
            continue
        if has_default or _is_partial_keyword(receiver, name):
            continue
        file, line = source_location(receiver)
        where = f" (defined at {file}:{line})" if file is not None else ""
        suggestion = _closest(name, contract.accepted)
        message = (
            f"{describe_callable(receiver)}{where} takes {name!r}, which "
            f"{signal.qualified_name} does not declare; it declares {_listed(contract.types)}"
        )
        if suggestion is not None:
            message += f"; did you mean {suggestion!r}?"
        else:
            message += f"; give {name!r} a default or accept it through **kwargs"
        raise ReceiverSignatureError(
            message,
            receiver=receiver,
            parameter=name,
            declared=tuple(contract.types),
            suggestion=suggestion,
            file=file,
            line=line,
        )


def deprecation_message(
    signal_name: str,
    deprecated: Mapping[str, str],
    receiver: object,
    name: str,
    plugin: str | None,
) -> str:
    """One line: the receiver, its plugin, the deprecated argument, what to use instead."""
    of_plugin = f" of plugin {plugin!r}" if plugin else ""
    replacement = deprecated[name]
    message = (
        f"{describe_callable(receiver)}{of_plugin} takes {name!r}, a deprecated argument of "
        f"{signal_name}"
    )
    return message + (f": {replacement}" if replacement else "")


def _warn_deprecated(
    signal_name: str, contract: Contract, receiver: object, name: str, plugin: str | None
) -> None:
    import warnings

    message = deprecation_message(signal_name, contract.deprecated, receiver, name, plugin)
    file, line = source_location(receiver)
    module = getattr(receiver, "__module__", None)
    if file is None or line is None or not isinstance(module, str):
        warnings.warn(message, HookwireDeprecationWarning, stacklevel=4)
        return
    # Attributed to the receiver's definition, not to hookwire or to whichever module
    # happened to connect it: the filters for the plugin's module decide, and the line shown
    # is the one to change.
    warnings.warn_explicit(
        message, HookwireDeprecationWarning, file, line, module=module, registry={}
    )


def deprecated_names_used(deprecated: Mapping[str, str], receiver: object) -> list[str]:
    """The names of ``deprecated`` (a signal's deprecated arguments) that ``receiver`` takes."""
    if not deprecated:
        return []
    parameters = receiver_parameters(receiver) or []
    return [name for name, _ in parameters if name in deprecated]
