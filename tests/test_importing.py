"""From entry point to Plugin: values split, attribute paths followed, modules made plugins."""

from __future__ import annotations

import pytest
from venvtools import PluginSite

from hookwire import Plugin
from hookwire._loading.importing import EntryPointProblem, load_plugin_object, split_value


def test_entry_point_values_split_into_module_and_attribute_path() -> None:
    assert split_value("pkg.mod:Outer.Inner [extra]") == ("pkg.mod", "Outer.Inner")
    assert split_value(" pkg ") == ("pkg", None)
    with pytest.raises(EntryPointProblem, match="invalid entry point value 'a b'"):
        split_value("a b")


def test_a_nested_attribute_path_is_followed(plugin_site: PluginSite) -> None:
    plugin_site.add(
        "nest",
        modules={
            "nest_mod.py": "import hookwire\nclass Box:\n    class Inner(hookwire.Plugin): pass\n"
        },
    )
    plugin, module = load_plugin_object("nest", "nest_mod:Box.Inner")
    assert type(plugin).__qualname__ == "Box.Inner"
    assert plugin.name == "nest"
    assert module.__name__ == "nest_mod"
    with pytest.raises(EntryPointProblem, match="nest_mod:Box has no attribute 'Missing'"):
        load_plugin_object("nest", "nest_mod:Box.Missing")


def test_a_plugin_class_re_exported_by_a_package_keeps_its_defining_module(
    plugin_site: PluginSite,
) -> None:
    plugin_site.add(
        "re-export",
        modules={
            "rex/__init__.py": "from .plugin import P\n",
            "rex/plugin.py": "import hookwire\nclass P(hookwire.Plugin): pass\n",
        },
    )
    plugin, module = load_plugin_object("rex", "rex:P")
    assert module.__name__ == "rex.plugin"
    assert plugin.signals_module_name() == "rex.signals"


def test_a_module_entry_point_becomes_a_default_plugin(plugin_site: PluginSite) -> None:
    plugin_site.add("bare", modules={"bare_mod.py": "requires = ['x']\n"})
    plugin, module = load_plugin_object("bare", "bare_mod")
    assert type(plugin) is Plugin
    assert plugin.requires == ("x",)
    assert plugin.module is module
