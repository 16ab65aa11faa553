"""The typed form of a contract: ``signal_spec`` at run time, and mypy --strict on sends."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hookwire import Signal, TypedSignal, signal_spec
from hookwire.exceptions import SignalArgumentsError

TYPING = Path(__file__).parent / "typing"
SEND_METHODS = ("send", "send_robust", "asend", "asend_robust")


class Store:
    """The sender."""


class Pizza:
    """What is sent."""


@signal_spec
def pizza_done(sender: type[Store], *, pizza: Pizza, order_id: int) -> None:
    """A pizza left the oven.

    Sent once per pizza, after baking.
    """


def test_the_spec_declares_its_keyword_arguments_doc_name_and_module() -> None:
    assert isinstance(pizza_done, Signal)
    assert isinstance(pizza_done, TypedSignal)
    # The module uses postponed annotations: types are kept as written.
    assert pizza_done.args == {"pizza": "Pizza", "order_id": "int"}
    assert pizza_done.deprecated_args == {}
    assert pizza_done.doc == "A pizza left the oven."
    assert pizza_done.name == "pizza_done"
    assert pizza_done.module == __name__
    assert pizza_done.qualified_name == f"{__name__}.pizza_done"


def test_a_typed_signal_checks_sends_at_run_time_as_any_declared_one() -> None:
    received: list[Any] = []

    def on_done(sender: type[Store], pizza: Pizza, order_id: int, **kwargs: Any) -> None:
        received.append(order_id)

    with pizza_done.connected_to(on_done):
        pizza_done.send(Store, pizza=Pizza(), order_id=5)
        with pytest.raises(SignalArgumentsError, match="did you mean 'order_id'"):
            pizza_done.send(Store, pizza=Pizza(), ordr_id=5)  # type: ignore[call-arg]
    assert received == [5]


def test_the_factory_form_takes_a_name_and_deprecated_arguments() -> None:
    @signal_spec(name="resized", deprecated_args={"size": "use pizza.size"})
    def pizza_resized(sender: object, *, pizza: Pizza, size: int = 0) -> None:
        """A pizza changed size."""

    assert pizza_resized.name == "resized"
    assert pizza_resized.args == {"pizza": "Pizza"}
    assert pizza_resized.deprecated_args == {"size": "use pizza.size"}
    assert pizza_resized.send(Store, pizza=Pizza()) == []


def _no_sender(order: int) -> None: ...
def _positional(sender: object, pizza: Pizza) -> None: ...
def _varkw(sender: object, **kwargs: Any) -> None: ...
def _defaulted(sender: object, *, pizza: Pizza | None = None) -> None: ...


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (_no_sender, "must take sender as its only positional parameter"),
        (_positional, "must take sender as its only positional parameter"),
        (_varkw, r"takes \*args or \*\*kwargs"),
        (_defaulted, "gives 'pizza' a default"),
    ],
)
def test_a_spec_of_another_shape_is_refused(spec: Any, words: str) -> None:
    with pytest.raises(TypeError, match=words):
        signal_spec(spec)


def test_deprecated_arguments_of_a_spec_must_be_keyword_parameters_with_a_default() -> None:
    def spec(sender: object, *, pizza: Pizza, size: int) -> None: ...

    with pytest.raises(TypeError, match="'size' in deprecated_args"):
        signal_spec(deprecated_args=["size"])(spec)


# -- mypy --strict --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[int, str]]]:
    """One mypy --strict run over every file of tests/typing: file name -> (line, message)."""
    cache = tmp_path_factory.mktemp("mypy-cache")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), str(TYPING)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert not result.stderr, result.stderr
    found: dict[str, list[tuple[int, str]]] = {path.name: [] for path in TYPING.glob("*.py")}
    for line in result.stdout.splitlines():
        match = re.match(r"(?P<file>[^:]+):(?P<line>\d+): error: (?P<message>.*)", line)
        if match:
            found[Path(match["file"]).name].append((int(match["line"]), match["message"]))
    return found


def _marked_lines(name: str) -> list[int]:
    lines = (TYPING / name).read_text(encoding="utf-8").splitlines()
    return [number for number, text in enumerate(lines, 1) if text.endswith("# E")]


def test_sends_passing_the_spec_arguments_type_check(
    mypy_errors: dict[str, list[tuple[int, str]]],
) -> None:
    assert mypy_errors["spec_good.py"] == []


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        (
            "spec_misspelt.py",
            r'Unexpected keyword argument "ordr_id" for "{method}" of "TypedSignal"; '
            r'did you mean "order_id"\?  \[call-arg\]',
        ),
        (
            "spec_missing.py",
            r'Missing named argument "order_id" for "{method}" of "TypedSignal"  \[call-arg\]',
        ),
        (
            "spec_mistyped.py",
            r'Argument "order_id" to "{method}" of "TypedSignal" has incompatible type "str"; '
            r'expected "int"  \[arg-type\]',
        ),
    ],
)
def test_a_send_breaking_the_spec_is_a_mypy_error_in_every_send_method(
    mypy_errors: dict[str, list[tuple[int, str]]], name: str, pattern: str
) -> None:
    errors = mypy_errors[name]
    assert [line for line, _ in errors] == _marked_lines(name)
    for (_, message), method in zip(errors, SEND_METHODS, strict=True):
        assert re.fullmatch(pattern.format(method=method), message), message
