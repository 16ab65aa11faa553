"""``plugins new``'s names and templates, and what ``plugins install`` expects to install.

The commands themselves run against real venvs in ``test_cli_manage.py``; these are the rules
they rely on, checked directly.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hookwire import Host, Signal
from hookwire.cli._install import requested_distribution
from hookwire.cli._new import module_name, project_names, render_project, template_values

order_placed = Signal(name="order_placed")


@pytest.mark.parametrize(
    ("name", "module"),
    [("pizzeria-hello", "pizzeria_hello"), ("Shop.Extra_Tools", "shop_extra_tools"), ("x", "x")],
)
def test_a_valid_distribution_name_gives_its_normalised_package_name(
    name: str, module: str
) -> None:
    assert module_name(name) == module


@pytest.mark.parametrize("name", ["my plugin", "-lead", "trail-", "ünï", "a/b", ""])
def test_an_invalid_distribution_name_is_refused_saying_what_is_allowed(name: str) -> None:
    with pytest.raises(ValueError, match="is not a valid distribution name: use ASCII letters"):
        module_name(name)


@pytest.mark.parametrize("name", ["1st-plugin", "class"])
def test_a_name_that_makes_no_python_package_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="does not make a Python package name"):
        module_name(name)


def test_the_plugin_is_named_without_the_hosts_prefix() -> None:
    names = project_names("pizzeria-hello-world", "pizzeria")
    assert (names.module, names.entry_point, names.class_name) == (
        "pizzeria_hello_world",
        "hello_world",
        "HelloWorldPlugin",
    )
    assert project_names("sms-tools", "pizzeria").entry_point == "sms_tools"
    assert project_names("pizzeria-2go", "pizzeria").entry_point == "pizzeria_2go"


def test_every_template_placeholder_is_filled_and_the_files_compile() -> None:
    host = Host("shop", version="2.3.1", signals=[order_placed])
    values = template_values(project_names("shop-mail", "shop"), host, "shop.app:host")
    files = render_project(values)
    assert sorted(files) == [
        "README.md",
        "pyproject.toml",
        "shop_mail/__init__.py",
        "shop_mail/signals.py",
        "tests/test_plugin.py",
    ]
    for path, text in files.items():
        assert not re.search(r"\$\{?\w", text), path
        if path.endswith(".py"):
            compile(text, path, "exec")
    assert f"from {__name__} import order_placed" in files["shop_mail/signals.py"]
    assert "@receiver(order_placed)" in files["shop_mail/signals.py"]
    assert 'requires_host = ">=2.3"' in files["shop_mail/__init__.py"]
    assert '[project.entry-points."shop.plugins"]' in files["pyproject.toml"]
    assert 'mail = "shop_mail:MailPlugin"' in files["pyproject.toml"]
    assert "hookwire plugins info mail shop.app:host" in files["README.md"]


def test_a_host_without_public_signals_gets_a_receiver_of_host_started() -> None:
    host = Host("bare")
    files = render_project(template_values(project_names("bare-x", "bare"), host, "m:host"))
    assert "from hookwire.signals import host_started" in files["bare_x/signals.py"]
    assert "requires_host" not in files["bare_x/__init__.py"]
    assert "HOST_VERSION = null" not in files["tests/test_plugin.py"]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("pizzeria-sms", "pizzeria-sms"),
        ("pizzeria_sms[extra]>=1.1", "pizzeria_sms"),
        ("dist/pizzeria_sms-1.0.0-py3-none-any.whl", "pizzeria_sms"),
        ("dist/pizzeria-sms-1.0.0.tar.gz", "pizzeria-sms"),
        ("not a requirement !", None),
    ],
)
def test_the_distribution_an_install_target_names(target: str, expected: str | None) -> None:
    assert requested_distribution(target) == expected


def test_a_project_folder_names_its_distribution_in_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop-mail"\n', "utf-8")
    assert requested_distribution(str(tmp_path)) == "shop-mail"
    assert requested_distribution(str(tmp_path / "missing")) is None
    # pip takes a folder for a project even without a path separator in its name.
    (tmp_path / "mailer").mkdir()
    (tmp_path / "mailer" / "pyproject.toml").write_text('[project]\nname = "mail"\n', "utf-8")
    monkeypatch.chdir(tmp_path)
    assert requested_distribution("mailer") == "mail"
    assert requested_distribution("mailer2") == "mailer2"
