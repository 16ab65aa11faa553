"""``plugins info``: what it reads from a plugin's installed metadata, and how it shows it.

The command runs against real venvs in ``test_cli_manage.py``; here the metadata rules are
checked on hand-written ``*.dist-info`` folders.
"""

from __future__ import annotations

from pathlib import Path

from venvtools import write_dist_info

from hookwire._loading.registry import PluginRecord, PluginState
from hookwire.cli._info import _lines, plugin_info


def record_with_metadata(site: Path, metadata: str) -> PluginRecord:
    dist_info = write_dist_info(site, "shop-mail", "1.0")
    (dist_info / "METADATA").write_text(metadata, encoding="utf-8")
    return PluginRecord(
        name="mail",
        distribution="shop-mail",
        version="1.0",
        entry_point="mail = shop_mail",
        state=PluginState.READY,
        dist_path=str(dist_info),
    )


def test_summary_project_urls_and_license_expression_are_read(tmp_path: Path) -> None:
    record = record_with_metadata(
        tmp_path,
        "Metadata-Version: 2.4\nName: shop-mail\nVersion: 1.0\nSummary: Mail for the shop.\n"
        "License-Expression: Apache-2.0\nHome-page: https://example.org/home\n"
        "Project-URL: Source, https://example.org/src\n"
        "Project-URL: Issues, https://example.org/issues\n",
    )
    info = plugin_info(record)
    assert info["summary"] == "Mail for the shop."
    assert info["license"] == "Apache-2.0"
    assert info["project_urls"] == {
        "Homepage": "https://example.org/home",
        "Source": "https://example.org/src",
        "Issues": "https://example.org/issues",
    }
    lines = _lines(info, with_traceback=False)
    assert "url (Source):  https://example.org/src" in lines
    assert "receivers:     0" in lines


def test_a_whole_license_text_is_shown_by_its_first_line(tmp_path: Path) -> None:
    record = record_with_metadata(
        tmp_path,
        "Metadata-Version: 2.1\nName: shop-mail\nVersion: 1.0\n"
        "License: BSD 3-Clause License\n        \n        Copyright (c) someone\n",
    )
    info = plugin_info(record)
    assert info["license"].startswith("BSD 3-Clause License\n")
    assert "license:       BSD 3-Clause License ..." in _lines(info, with_traceback=False)


def test_without_a_license_field_the_license_classifier_is_used(tmp_path: Path) -> None:
    record = record_with_metadata(
        tmp_path,
        "Metadata-Version: 2.1\nName: shop-mail\nVersion: 1.0\n"
        "Classifier: Programming Language :: Python\n"
        "Classifier: License :: OSI Approved :: MIT License\n",
    )
    assert plugin_info(record)["license"] == "MIT License"


def test_a_plugin_without_metadata_has_nulls_not_errors() -> None:
    info = plugin_info(PluginRecord(name="ghost", state=PluginState.FAILED, error="gone"))
    assert (info["summary"], info["license"], info["project_urls"]) == (None, None, {})
    assert info["traceback"] is None
    assert "error:         gone" in _lines(info, with_traceback=True)
