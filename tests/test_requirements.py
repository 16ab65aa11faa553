"""Ready order from ``requires``: dependencies first, ties in discovery order, cycles named."""

from __future__ import annotations

from hookwire._loading.requirements import ready_order, requirement_message, unmet_requirement


def test_dependencies_come_first_and_ties_keep_discovery_order() -> None:
    order, cycles = ready_order(
        ["web", "api", "db", "cache"], {"web": ["db", "cache"], "api": ["db"], "cache": ["db"]}
    )
    assert order == ["db", "cache", "web", "api"]
    assert cycles == {}


def test_requirements_outside_the_candidates_are_left_to_the_caller() -> None:
    assert ready_order(["a"], {"a": ["not-here"]}) == (["a"], {})


def test_every_member_of_a_cycle_gets_the_cycle_as_seen_from_itself() -> None:
    order, cycles = ready_order(
        ["a", "b", "c", "d"], {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}
    )
    assert sorted(order) == ["a", "b", "c", "d"]
    assert order[-1] == "d"
    assert cycles == {
        "a": ("a", "b", "c", "a"),
        "b": ("b", "c", "a", "b"),
        "c": ("c", "a", "b", "c"),
    }


def test_a_plugin_requiring_itself_is_a_cycle() -> None:
    assert ready_order(["self"], {"self": ["self"]}) == (["self"], {"self": ("self", "self")})


def test_the_message_walks_the_chain() -> None:
    assert requirement_message(("a", "b", "c"), ", which is not installed") == (
        "a requires b, which requires c, which is not installed"
    )


def test_an_unmet_requirement_extends_the_chain_of_the_plugin_it_waits_for() -> None:
    from hookwire._loading.registry import PluginRecord, PluginState
    from hookwire.exceptions import PluginImportError, PluginRequirementError

    c = PluginRecord("c")
    c.mark_failed("import", PluginImportError("..."), "ImportError: x")
    b = PluginRecord("b", requires=("c",))
    assert unmet_requirement(b, {"c": c}, None) == (
        ("b", "c"),
        ", which failed in the import phase: ImportError: x",
    )
    tail = ", which failed in the import phase: ImportError: x"
    b.mark_failed("ready", PluginRequirementError("...", chain=("b", "c")), "...", tail)
    a = PluginRecord("a", requires=("B",))
    assert unmet_requirement(a, {"b": b, "c": c}, None) == (("a", "b", "c"), tail)
    ready = PluginRecord("b", state=PluginState.READY)
    assert unmet_requirement(a, {"b": ready}, None) is None
    off = PluginRecord("b", state=PluginState.DISABLED, reason="not in the allow-list")
    assert unmet_requirement(a, {"b": off}, None) == (
        ("a", "b"),
        ", which is not in the allow-list",
    )
