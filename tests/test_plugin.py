"""``Plugin``: names, defaults, requirements, the signals module, host version checks."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from hookwire import Plugin
from hookwire._loading.plugin import check_requires_host


def module(name: str, *, package: bool = False, **attributes: object) -> types.ModuleType:
    made = types.ModuleType(name)
    if package:
        made.__path__ = []
    for key, value in attributes.items():
        setattr(made, key, value)
    return made


def test_a_plugin_takes_its_name_from_the_argument_then_the_class_then_the_module() -> None:
    class Named(Plugin):
        name = "from-class"

    assert Plugin(name="sms", module=module("pkg")).name == "sms"
    assert Named(module=module("pkg")).name == "from-class"
    assert Plugin(module=module("pkg.sub")).name == "pkg.sub"


def test_defaults_are_a_human_verbose_name_no_requirements_and_a_signals_module() -> None:
    plugin = Plugin(name="text_messages", module=module("pkg", package=True))
    assert plugin.verbose_name == "Text messages"
    assert plugin.requires == ()
    assert plugin.requires_host is None
    assert plugin.signals_module == "signals"
    assert plugin.module is not None
    assert repr(plugin) == "<Plugin 'text_messages'>"


def test_class_attributes_declare_the_plugin() -> None:
    class Sms(Plugin):
        verbose_name = "Text messages"
        requires = ["billing", "users"]
        requires_host = ">=1.4,<2"
        signals_module = "receivers"

    plugin = Sms(name="sms", module=module("pizzeria_sms", package=True))
    assert plugin.verbose_name == "Text messages"
    assert plugin.requires == ("billing", "users")
    assert plugin.signals_module_name() == "pizzeria_sms.receivers"


@pytest.mark.parametrize(
    ("requires", "message"),
    [
        ("billing", "requires must be a sequence of plugin names, not str 'billing'"),
        (3, "requires must be a sequence of plugin names, not int 3"),
        ((1,), "requires holds 1, not a plugin name"),
    ],
)
def test_malformed_requires_is_a_type_error_naming_the_plugin(
    requires: object, message: str
) -> None:
    class Bad(Plugin):
        pass

    Bad.requires = requires  # type: ignore[assignment]
    with pytest.raises(TypeError, match=rf"plugin 'bad': {message}"):
        Bad(name="bad", module=module("bad"))


def test_requires_host_must_be_a_string() -> None:
    class Bad(Plugin):
        requires_host = 2  # type: ignore[assignment]

    with pytest.raises(TypeError, match="requires_host must be a PEP 440 specifier string"):
        Bad(name="bad", module=module("bad"))


def test_the_signals_module_is_looked_up_in_the_plugin_s_package() -> None:
    assert Plugin(name="a", module=module("pkg", package=True)).signals_module_name() == (
        "pkg.signals"
    )
    assert Plugin(name="a", module=module("pkg.plugin")).signals_module_name() == "pkg.signals"
    # A top-level single-file module has no package to hold a signals module.
    assert Plugin(name="a", module=module("single")).signals_module_name() is None

    class Silent(Plugin):
        signals_module = None

    assert Silent(name="a", module=module("pkg", package=True)).signals_module_name() is None


def test_a_bare_module_plugin_reads_optional_module_level_settings() -> None:
    bare = module(
        "loyalty",
        package=True,
        verbose_name="Loyalty points",
        requires=("billing",),
        requires_host=">=1",
        signals_module="hooks",
    )
    plugin = Plugin.for_module(bare, "loyalty")
    assert type(plugin) is Plugin
    assert plugin.name == "loyalty"
    assert plugin.module is bare
    assert plugin.verbose_name == "Loyalty points"
    assert plugin.requires == ("billing",)
    assert plugin.requires_host == ">=1"
    assert plugin.signals_module_name() == "loyalty.hooks"
    assert Plugin.for_module(module("plain"), "plain").requires == ()


def test_module_level_settings_computed_by_the_module_or_its_class_are_read_too() -> None:
    """A module-level ``__getattr__`` (PEP 562) and a module subclass's properties give
    settings that are not in the module's namespace."""
    computed = module("computed", package=True)

    def settings(name: str) -> object:
        if name == "requires":
            return ("billing",)
        raise AttributeError(name)

    computed.__getattr__ = settings  # type: ignore[method-assign]
    assert Plugin.for_module(computed, "computed").requires == ("billing",)

    class Configured(types.ModuleType):
        @property
        def signals_module(self) -> str:
            return "hooks"

    configured = Configured("configured")
    configured.__path__ = []  # type: ignore[attr-defined]
    assert Plugin.for_module(configured, "configured").signals_module_name() == "configured.hooks"


def test_ready_does_nothing_by_default() -> None:
    assert Plugin(name="a", module=module("a")).ready() is None


@pytest.mark.parametrize(
    ("specifier", "version", "expected"),
    [
        (">=1.4,<2", "1.4.0", None),
        (">=1.4,<2", "2.0", "needs host version >=1.4,<2, but the host is 2.0"),
        (">=1.4", "1.5.0rc1", None),
        ("~=1.4", "1.3", "needs host version ~=1.4, but the host is 1.3"),
        ("soon", "1.0", "requires_host 'soon' is not a valid PEP 440 specifier"),
        (">=1", "one", "the host version 'one' is not a PEP 440 version"),
    ],
)
def test_requires_host_is_checked_against_the_host_version(
    specifier: str, version: str, expected: str | None
) -> None:
    assert check_requires_host(specifier, version) == expected


def test_importing_plugin_does_not_import_packaging() -> None:
    code = "import hookwire, sys; hookwire.Plugin; print('packaging' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
