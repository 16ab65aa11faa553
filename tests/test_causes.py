"""A plugin's failure in one line: type, message and where it was raised, whatever it is."""

from __future__ import annotations

from hookwire._loading.causes import describe_exception


def test_exceptions_are_described_in_one_line_with_where_they_were_raised() -> None:
    def fail() -> None:
        raise ValueError("bad\nthing")

    try:
        fail()
    except ValueError as error:
        line = describe_exception(error)
    assert line.startswith("ValueError: bad thing (at ")
    assert line.endswith(f"{__file__}:{fail.__code__.co_firstlineno + 1})")
    syntax = SyntaxError("invalid syntax", ("/x/mod.py", 7, 1, "def (", 7, 2))
    assert describe_exception(syntax) == "SyntaxError at /x/mod.py:7: invalid syntax"
    assert describe_exception(SystemExit(2)) == "SystemExit(2) (sys.exit() was called)"


def test_describing_an_exception_never_raises_whatever_its_str_or_code_does() -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no text")

    class BadRepr:
        def __repr__(self) -> str:
            raise ValueError("no repr")

    assert describe_exception(Unprintable()) == (
        "Unprintable: <str() of the exception raised RuntimeError>"
    )
    assert describe_exception(SystemExit(BadRepr())) == (
        "SystemExit(<repr() raised ValueError>) (sys.exit() was called)"
    )
