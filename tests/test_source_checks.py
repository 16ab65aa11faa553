"""Before any plugin code runs: requires_host read from source, a planted module refused."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from venvtools import PluginSite

from hookwire._loading.source_checks import (
    find_source_without_import,
    static_requires_host,
    working_directory_shadow,
)


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
