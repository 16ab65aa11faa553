"""From entry point to Plugin: resolution, one-line causes, reading requires_host unexecuted."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from venvtools import PluginSite

from hookwire import Plugin
from hookwire._loading.importing import (
    EntryPointProblem,
    describe_exception,
    find_source_without_import,
    load_plugin_object,
    owner_module_name,
    split_value,
    static_requires_host,
    working_directory_shadow,
)


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


def test_receivers_outside_a_scope_are_owned_by_the_plugin_s_package_or_its_module(
    plugin_site: PluginSite,
) -> None:
    plugin_site.add(
        "owners",
        modules={
            "owned/__init__.py": "",
            "owned/plugin.py": "import hookwire\nclass P(hookwire.Plugin): pass\n",
            "shared_ns/sms.py": "import hookwire\nclass P(hookwire.Plugin): pass\n",
        },
    )
    plugin, module = load_plugin_object("owned", "owned.plugin:P")
    assert owner_module_name(plugin, module) == "owned"
    # A namespace package is shared with other distributions: only the module is the plugin's.
    plugin, module = load_plugin_object("sms", "shared_ns.sms:P")
    assert owner_module_name(plugin, module) == "shared_ns.sms"
    sys.modules.pop("shared_ns", None)


def test_requires_host_is_read_from_source_without_running_it(
    plugin_site: PluginSite, tmp_path: Path
) -> None:
    ran = tmp_path / "ran"
    plugin_site.add(
        "static",
        modules={
            "static_pkg/__init__.py": f"import pathlib\npathlib.Path({str(ran)!r}).touch()\n",
            "static_pkg/plugin.py": (
                "import hookwire\n"
                "class P(hookwire.Plugin):\n"
                "    requires_host: str = '>=3'\n"
                "class Q(P):\n"
                "    pass\n"
            ),
            "static_top.py": "requires_host = '<2'\n",
        },
    )
    assert find_source_without_import("static_pkg.plugin") == str(
        plugin_site.path / "static_pkg" / "plugin.py"
    )
    assert static_requires_host("static_pkg.plugin:P") == ">=3"
    assert static_requires_host("static_pkg.plugin:Q") is None  # inherited: known after import
    assert static_requires_host("static_top") == "<2"
    assert static_requires_host("not_installed_anywhere:P") is None
    assert not ran.exists()
    assert "static_pkg" not in sys.modules


def test_a_module_planted_in_the_working_directory_is_never_taken_for_the_installed_one(
    plugin_site: PluginSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin_site.add("real", modules={"twin_mod.py": "X = 'installed'\n"})
    cwd = tmp_path / "downloads"
    cwd.mkdir()
    (cwd / "twin_mod.py").write_text("X = 'planted'\n", encoding="utf-8")
    (cwd / "lonely_mod.py").write_text("", encoding="utf-8")
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "path", ["", *sys.path])  # as under python -c
    importlib.invalidate_caches()

    assert working_directory_shadow("twin_mod.sub", [""]) == (
        f"module twin_mod would be imported from the working directory ({cwd / 'twin_mod.py'}) "
        f"instead of the installed {plugin_site.path / 'twin_mod.py'}; refusing to run it "
        "(start the process from another directory)"
    )
    assert "lonely_mod is found only in the working directory" in (
        working_directory_shadow("lonely_mod", [""]) or ""
    )
    assert working_directory_shadow("twin_mod", []) is None
    assert "twin_mod" not in sys.modules

    # Started from the installed folder itself: the same file either way.
    monkeypatch.chdir(plugin_site.path)
    importlib.invalidate_caches()
    assert working_directory_shadow("twin_mod", [""]) is None


@pytest.mark.parametrize(
    "planted", ["late_mod.py", "late_mod/__init__.py", "late_mod/", "Late_Mod.py"]
)
def test_a_module_planted_after_the_working_directory_was_read_is_still_seen(
    plugin_site: PluginSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, planted: str
) -> None:
    """The working directory is read once and kept while it is unchanged, for hundreds of
    plugins; a file planted there later (a package, a namespace folder, a module) changes it,
    and the next plugin's check must see it."""
    plugin_site.add("real", modules={"late_mod.py": "X = 'installed'\n"})
    cwd = tmp_path / "downloads"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "path", ["", *sys.path])
    importlib.invalidate_caches()
    assert working_directory_shadow("late_mod", [""]) is None  # read now: nothing there

    target = cwd / planted
    if planted.endswith("/"):
        target.mkdir()
    else:
        target.parent.mkdir(exist_ok=True)
        target.write_text("X = 'planted'\n", encoding="utf-8")
    importlib.invalidate_caches()
    if planted == "Late_Mod.py" and not (cwd / "late_mod.py").exists():
        # A case-sensitive file system: another module, which shadows nothing.
        assert working_directory_shadow("late_mod", [""]) is None
        return
    assert "would be imported from the working directory" in (
        working_directory_shadow("late_mod", [""]) or ""
    )
