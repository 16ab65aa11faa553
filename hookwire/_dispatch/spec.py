"""The typed form of a signal contract: :func:`signal_spec` over a function signature.

The decorated function is never called. Its signature says what every send passes —
``sender`` first, then keyword-only arguments — and its docstring what the signal means. The
result is a :class:`TypedSignal`, an ordinary :class:`~hookwire.Signal` with that contract,
whose four send methods a type checker reads as taking the function's parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, overload

from .signal import Signal

__all__ = ["TypedSignal", "signal_spec"]

P = ParamSpec("P")

_CO_VARARGS = 0x04
_CO_VARKEYWORDS = 0x08


class TypedSignal(Signal, Generic[P]):
    """A :class:`~hookwire.Signal` made by :func:`signal_spec`: ``send``, ``send_robust``,
    ``asend`` and ``asend_robust`` take the spec's parameters, so mypy and pyright check every
    send against them. At run time it is exactly a ``Signal`` with ``args`` declared."""

    if TYPE_CHECKING:
        # Only the type checker sees these: at run time the Signal methods are used, so a
        # typed signal sends exactly as any declared one (same frames, same speed).
        def send(  # type: ignore[override]
            self, *args: P.args, **kwargs: P.kwargs
        ) -> list[tuple[Any, Any]]: ...

        def send_robust(  # type: ignore[override]
            self, *args: P.args, **kwargs: P.kwargs
        ) -> list[tuple[Any, Any]]: ...

        async def asend(  # type: ignore[override]
            self, *args: P.args, **kwargs: P.kwargs
        ) -> list[tuple[Any, Any]]: ...

        async def asend_robust(  # type: ignore[override]
            self, *args: P.args, **kwargs: P.kwargs
        ) -> list[tuple[Any, Any]]: ...


def _spec_error(func: Any, problem: str) -> TypeError:
    where = f"{func.__module__}.{func.__qualname__}"
    return TypeError(
        f"signal_spec: {where} {problem}; write it as "
        "def name(sender: SenderType, *, argument: Type, ...) -> None"
    )


def _build(
    func: Callable[..., object],
    name: str | None,
    deprecated_args: Mapping[str, str] | Iterable[str] | None,
    use_caching: bool,
) -> TypedSignal[Any]:
    code = getattr(func, "__code__", None)
    if code is None:
        raise TypeError(f"signal_spec expects a function, not {type(func).__name__}")
    if code.co_flags & (_CO_VARARGS | _CO_VARKEYWORDS):
        raise _spec_error(func, "takes *args or **kwargs")
    if code.co_argcount != 1 or code.co_varnames[0] != "sender":
        raise _spec_error(func, "must take sender as its only positional parameter")
    keywords = code.co_varnames[1 : 1 + code.co_kwonlyargcount]
    annotations = getattr(func, "__annotations__", {})
    defaults = getattr(func, "__kwdefaults__", None) or {}
    deprecated = (
        dict(deprecated_args)
        if isinstance(deprecated_args, Mapping)
        else dict.fromkeys(deprecated_args or (), "")
    )
    for keyword in deprecated:
        if keyword not in keywords or keyword not in defaults:
            raise _spec_error(
                func,
                f"lists {keyword!r} in deprecated_args, which must be one of its keyword-only "
                "parameters with a default (senders may leave it out)",
            )
    for keyword in defaults:
        if keyword not in deprecated:
            raise _spec_error(
                func,
                f"gives {keyword!r} a default; every declared argument is passed by every "
                "send (only deprecated ones may have a default)",
            )
    args = {keyword: annotations.get(keyword) for keyword in keywords if keyword not in deprecated}
    doc = (func.__doc__ or "").strip().split("\n\n")[0]
    signal: TypedSignal[Any] = TypedSignal(
        use_caching,
        name=name or func.__name__,
        doc=" ".join(doc.split()) or None,
        args=args,
        deprecated_args=deprecated or None,
    )
    module = getattr(func, "__module__", None)
    signal.module = module if isinstance(module, str) else signal.module
    return signal


@overload
def signal_spec(func: Callable[P, object], /) -> TypedSignal[P]: ...


@overload
def signal_spec(
    *,
    name: str | None = None,
    deprecated_args: Mapping[str, str] | Iterable[str] | None = None,
    use_caching: bool = False,
) -> Callable[[Callable[P, object]], TypedSignal[P]]: ...


def signal_spec(
    func: Callable[..., object] | None = None,
    /,
    *,
    name: str | None = None,
    deprecated_args: Mapping[str, str] | Iterable[str] | None = None,
    use_caching: bool = False,
) -> Any:
    """Make a :class:`TypedSignal` from a function's signature (the function is never called).

    .. code-block:: python

        @signal_spec
        def pizza_done(sender: type[Store], *, pizza: Pizza, order_id: int) -> None:
            \"\"\"A pizza left the oven.\"\"\"

    The first parameter must be ``sender``; every other one is keyword-only and becomes a
    declared argument with its annotation as type. The signal's name is the function's (or
    ``name``), its ``doc`` the first paragraph of the docstring, its module the function's.
    ``deprecated_args`` (name -> what to use instead) lists keyword-only parameters that have
    a default, so that senders may leave them out; no other parameter may have one.

    :raises TypeError: the signature is not of that shape.
    """
    if func is None:

        def decorator(inner: Callable[..., object]) -> TypedSignal[Any]:
            return _build(inner, name, deprecated_args, use_caching)

        return decorator
    return _build(func, name, deprecated_args, use_caching)
