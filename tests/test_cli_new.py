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
order_paid = Signal(
    name="order_paid",
    doc="An order was paid for.",
    args={"order": int, "amount": "decimal.Decimal"},
    deprecated_args={"total": "use amount"},
)


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
        "hello-world",
        "HelloWorldPlugin",
    )
    assert project_names("pizzeria-2go", "pizzeria").entry_point == "pizzeria-2go"


@pytest.mark.parametrize(
    ("name", "plugin"),
    [
        ("pizzeria-reviews", "reviews"),
        ("hello-world", "hello-world"),
        ("Hello_World", "hello-world"),
        ("pizzeria.hello_world", "hello-world"),
        ("sms-tools", "sms-tools"),
    ],
)
def test_every_plugin_name_is_written_the_one_way_names_are_compared(
    name: str, plugin: str
) -> None:
    """Whatever the distribution name's case and separators, the plugin's name is normalised
    (lower case, words joined by '-'), so ``pizzeria-reviews`` and ``hello-world`` follow
    one rule."""
    assert project_names(name, "pizzeria").entry_point == plugin


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


def test_a_lazy_project_declares_its_signal_in_the_hosts_listens_group() -> None:
    host = Host("shop", signals=[order_placed])
    values = template_values(project_names("shop-late", "shop"), host, "m:host", lazy=True)
    pyproject = render_project(values)["pyproject.toml"]
    assert (
        '[project.entry-points."shop.plugins.listens"]\n'
        f'"late.order_placed" = "{__name__}:order_placed"\n'
    ) in pyproject
    import tomllib

    entry_points = tomllib.loads(pyproject)["project"]["entry-points"]
    assert entry_points["shop.plugins.listens"] == {"late.order_placed": f"{__name__}:order_placed"}
    assert (
        "listens"
        not in render_project(template_values(project_names("shop-now", "shop"), host, "m:host"))[
            "pyproject.toml"
        ]
    )


def test_lazy_needs_one_of_the_hosts_own_signals() -> None:
    host = Host("bare")
    with pytest.raises(ValueError, match="--lazy needs one of host 'bare'"):
        template_values(project_names("bare-y", "bare"), host, "m:host", lazy=True)


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


def test_the_receiver_takes_and_the_test_sends_what_the_chosen_signal_declares() -> None:
    host = Host("shop", signals=[order_placed, order_paid])
    values = template_values(
        project_names("shop-till", "shop"), host, "shop.app:host", "order_paid"
    )
    files = render_project(values)
    signals = files["shop_till/signals.py"]
    assert "def on_order_paid(sender, order, amount, **kwargs):" in signals
    assert f"# {__name__}.order_paid: An order was paid for. Sent with sender and order: int," in (
        signals
    )
    tests = files["tests/test_plugin.py"]
    assert (
        'ARGUMENTS = {\n    "order": None,  # int\n    "amount": None,  # decimal.Decimal\n}'
        in (tests)
    )
    assert 'order_paid.send(sender="test", **ARGUMENTS)' in tests
    for path, text in files.items():
        if path.endswith(".py"):
            compile(text, path, "exec")


def test_a_signal_without_a_declaration_gets_a_receiver_taking_kwargs_only() -> None:
    host = Host("shop", signals=[order_placed, order_paid])
    files = render_project(template_values(project_names("shop-a", "shop"), host, "m:host"))
    assert "def on_order_placed(sender, **kwargs):" in files["shop_a/signals.py"]
    assert "It declares no arguments" in files["shop_a/signals.py"]
    assert "ARGUMENTS = {}" in files["tests/test_plugin.py"]


def test_a_lifecycle_signal_may_be_chosen_by_its_qualified_name() -> None:
    host = Host("shop", signals=[order_placed])
    values = template_values(
        project_names("shop-b", "shop"), host, "m:host", "hookwire.signals.plugins_ready"
    )
    assert values["receiver_parameters"] == "sender, registry, **kwargs"


def test_an_unknown_signal_is_refused_with_the_closest_name() -> None:
    host = Host("shop", signals=[order_placed, order_paid])
    with pytest.raises(ValueError, match="has no signal 'order_pad'; did you mean 'order_paid'"):
        template_values(project_names("shop-c", "shop"), host, "m:host", "order_pad")
