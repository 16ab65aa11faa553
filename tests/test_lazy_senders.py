"""Lazy senders: ``"package.module:QualName"`` connected before the module is imported."""

from __future__ import annotations

import gc
import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hookwire import Signal
from hookwire._dispatch.attribution import plugin_scope
from hookwire._dispatch.lazy import is_lazy_reference, resolve_pending


def on_save(sender: object, **kwargs: Any) -> str:
    return "saved"


@pytest.fixture
def make_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Write a not-yet-imported module ``name`` defining ``class Model`` (and ``Model.Inner``)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    created: list[str] = []

    def make(name: str) -> str:
        (tmp_path / f"{name}.py").write_text(
            textwrap.dedent(
                """
                class Model:
                    class Inner:
                        pass
                """
            )
        )
        created.append(name)
        importlib.invalidate_caches()
        return name

    yield make
    for name in created:
        sys.modules.pop(name, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("shop.models:Order", True),
        ("shop:Order.Line", True),
        ("models:Order", True),
        ("x", False),
        ("shop.models", False),
        ("shop:models:Order", False),
        ("shop models:Order", False),
        (":Order", False),
        ("shop:", False),
        ("1shop:Order", False),
        (42, False),
    ],
)
def test_only_dotted_identifiers_around_one_colon_are_lazy_references(
    value: object, expected: bool
) -> None:
    assert is_lazy_reference(value) is expected


def test_a_lazy_sender_is_resolved_when_its_module_is_imported(make_module: Any) -> None:
    module_name = make_module("lazy_shop_a")
    signal = Signal()
    signal.connect(on_save, sender=f"{module_name}:Model")
    assert module_name not in sys.modules
    module = importlib.import_module(module_name)
    assert signal.send(module.Model) == [(on_save, "saved")]
    assert signal.send(object()) == []
    assert signal.disconnect(on_save, sender=module.Model) is True
    assert signal.send(module.Model) == []


def test_resolve_pending_connects_every_imported_reference(make_module: Any) -> None:
    module_name = make_module("lazy_shop_b")
    signal = Signal()
    signal.connect(on_save, sender=f"{module_name}:Model.Inner", weak=False)
    module = importlib.import_module(module_name)
    resolve_pending()
    # Resolved: introspection shows the object, no longer the pending reference.
    assert [info.sender for info in signal.describe_receivers()] == [module.Model.Inner]
    assert signal.send(module.Model.Inner) == [(on_save, "saved")]


def test_a_reference_to_an_imported_module_connects_at_once() -> None:
    signal = Signal()
    signal.connect(on_save, sender=f"{__name__}:Signal")
    assert signal.send(Signal) == [(on_save, "saved")]


def test_a_plain_string_sender_is_an_ordinary_sender() -> None:
    signal = Signal()
    signal.connect(on_save, sender="x")
    assert signal.send("x") == [(on_save, "saved")]
    assert signal.disconnect(on_save, sender="x") is True


def test_disconnecting_a_lazy_reference_returns_none_and_removes_it(make_module: Any) -> None:
    module_name = make_module("lazy_shop_c")
    signal = Signal()
    signal.connect(on_save, sender=f"{module_name}:Model")
    assert signal.disconnect(on_save, sender=f"{module_name}:Model") is None
    module = importlib.import_module(module_name)
    resolve_pending()
    assert signal.send(module.Model) == []


def test_disconnecting_a_resolved_lazy_reference_by_its_string_removes_it(make_module: Any) -> None:
    module_name = make_module("lazy_shop_d")
    signal = Signal()
    signal.connect(on_save, sender=f"{module_name}:Model")
    module = importlib.import_module(module_name)
    assert signal.send(module.Model) == [(on_save, "saved")]
    assert signal.disconnect(on_save, sender=f"{module_name}:Model") is None
    assert signal.send(module.Model) == []


def test_a_plugin_scope_undoes_pending_and_resolved_lazy_connections(make_module: Any) -> None:
    module_name = make_module("lazy_shop_e")
    signal = Signal()
    with plugin_scope("shop-plugin") as scope:
        signal.connect(on_save, sender=f"{module_name}:Model")
        signal.connect(on_save, sender=f"{module_name}:Model.Inner")
    module = importlib.import_module(module_name)
    assert signal.send(module.Model) == [(on_save, "saved")]  # resolved, still attributed
    infos = signal.describe_receivers()
    assert [info.plugin for info in infos] == ["shop-plugin", "shop-plugin"]
    assert scope.undo() == 2
    assert signal.send(module.Model) == []
    assert signal.send(module.Model.Inner) == []


def test_pending_connections_are_introspected_with_their_reference(make_module: Any) -> None:
    module_name = make_module("lazy_shop_f")
    signal = Signal()
    signal.connect(on_save, sender=f"{module_name}:Model")
    [info] = signal.describe_receivers()
    assert info.sender == f"{module_name}:Model"
    assert info.to_json()["sender"] == f"{module_name}:Model"


def test_a_weak_pending_receiver_that_dies_is_never_connected(make_module: Any) -> None:
    module_name = make_module("lazy_shop_g")
    signal = Signal()

    def make() -> Any:
        def temporary(**kwargs: Any) -> None:
            return None

        return temporary

    receiver = make()
    signal.connect(receiver, sender=f"{module_name}:Model")
    del receiver
    gc.collect()
    module = importlib.import_module(module_name)
    assert signal.send(module.Model) == []
    assert signal.describe_receivers() == []


def test_a_send_before_the_import_does_not_hide_the_receiver_after_it(make_module: Any) -> None:
    module_name = make_module("lazy_shop_h")
    signal = Signal()
    signal.connect(on_save, sender=f"{module_name}:Model")
    placeholder = object()
    assert signal.send(placeholder) == []  # cached while the reference is pending
    assert signal.send(placeholder) == []
    module = importlib.import_module(module_name)
    assert signal.send(module.Model) == [(on_save, "saved")]
    assert signal.send(placeholder) == []
    assert [info.sender for info in signal.describe_receivers()] == [module.Model]


def test_a_sender_cached_before_the_import_is_resolved_at_its_next_send(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "lazy_alias_module.py").write_text("from collections import OrderedDict as Model\n")
    importlib.invalidate_caches()
    from collections import OrderedDict

    signal = Signal()
    signal.connect(on_save, sender="lazy_alias_module:Model")
    try:
        assert signal.send(OrderedDict) == []  # a plan for this very sender is now cached
        importlib.import_module("lazy_alias_module")
        assert signal.send(OrderedDict) == [(on_save, "saved")]
    finally:
        sys.modules.pop("lazy_alias_module", None)


@pytest.mark.parametrize("imported_inside", [False, True])
@pytest.mark.parametrize("dispatch_uid", [None, "uid"])
def test_connected_to_a_lazy_sender_disconnects_on_exit(
    make_module: Any, imported_inside: bool, dispatch_uid: str | None
) -> None:
    module_name = make_module("lazy_shop_temporary" + ("_in" if imported_inside else "_out"))
    signal = Signal()
    reference = f"{module_name}:Model"
    with signal.connected_to(on_save, sender=reference, dispatch_uid=dispatch_uid):
        if imported_inside:
            module = importlib.import_module(module_name)
            assert signal.send(module.Model) == [(on_save, "saved")]
    module = importlib.import_module(module_name)
    assert signal.send(module.Model) == []
    assert signal.describe_receivers() == []


def test_connected_to_an_imported_lazy_reference_keeps_an_earlier_connection() -> None:
    signal = Signal()
    signal.connect(on_save, sender=Signal)
    with signal.connected_to(on_save, sender=f"{__name__}:Signal"):
        assert signal.send(Signal) == [(on_save, "saved")]
    assert signal.send(Signal) == [(on_save, "saved")]
