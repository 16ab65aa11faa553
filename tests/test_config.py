"""Loading configuration: arguments > environment > nearest pyproject.toml, names normalised."""

from __future__ import annotations

from pathlib import Path

import pytest

from hookwire._loading.config import (
    LoadConfig,
    find_pyproject,
    read_pyproject_settings,
    resolve_config,
)
from hookwire.exceptions import ConfigError


def write_pyproject(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pyproject.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_with_nothing_configured_every_discovered_plugin_autoloads(tmp_path: Path) -> None:
    assert resolve_config(environ={}, start_dir=tmp_path) == LoadConfig(
        allow=None, deny=(), autoload=True, strict=False
    )


def test_arguments_win_over_environment_which_wins_over_pyproject(tmp_path: Path) -> None:
    write_pyproject(
        tmp_path,
        '[tool.hookwire]\nplugins = ["from-file"]\nautoload = true\nstrict = true\n',
    )
    environ = {"HOOKWIRE_PLUGINS": "from-env", "HOOKWIRE_DISABLE_AUTOLOAD": "1"}
    from_env = resolve_config(environ=environ, start_dir=tmp_path)
    assert from_env == LoadConfig(allow=("from-env",), autoload=False, strict=True)
    from_args = resolve_config(
        plugins=["from-arg"], autoload=True, strict=False, environ=environ, start_dir=tmp_path
    )
    assert from_args == LoadConfig(allow=("from-arg",), autoload=True, strict=False)
    assert resolve_config(environ={}, start_dir=tmp_path).allow == ("from-file",)


def test_the_deny_list_is_the_union_of_every_source(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool.hookwire]\ndisable = ["file-one"]\n')
    config = resolve_config(
        disable=["Arg_One"],
        environ={"HOOKWIRE_DISABLE_PLUGINS": " env-one , env.two ,"},
        start_dir=tmp_path,
    )
    assert config.deny == ("arg-one", "env-one", "env-two", "file-one")


def test_names_are_normalised_so_any_spelling_matches(tmp_path: Path) -> None:
    config = resolve_config(plugins=["My_Plugin"], disable=["Other.Plugin"], environ={})
    assert config.allow == ("my-plugin",)
    assert config.disabled_reason("my.plugin") is None
    assert config.disabled_reason("OTHER_plugin") == "disabled by the deny-list"


def test_an_empty_allow_list_from_any_source_means_no_plugins(tmp_path: Path) -> None:
    assert resolve_config(plugins=[], environ={}, start_dir=tmp_path).allow == ()
    assert resolve_config(environ={"HOOKWIRE_PLUGINS": ""}, start_dir=tmp_path).allow == ()
    write_pyproject(tmp_path, "[tool.hookwire]\nplugins = []\n")
    config = resolve_config(environ={}, start_dir=tmp_path)
    assert config.allow == ()
    assert config.disabled_reason("anything") == "not in the allow-list"


def test_autoload_off_loads_only_plugins_named_explicitly() -> None:
    off = LoadConfig(autoload=False)
    assert off.disabled_reason("sms") == "autoload is off and it is not named explicitly"
    named = LoadConfig(autoload=False, allow=("sms",))
    assert named.disabled_reason("sms") is None
    assert named.disabled_reason("loyalty") == "not in the allow-list"
    assert LoadConfig(allow=("sms",), deny=("sms",)).disabled_reason("sms") == (
        "disabled by the deny-list"
    )


@pytest.mark.parametrize(
    ("value", "autoload"), [("1", False), ("yes", False), ("TRUE", False), ("0", True), ("", True)]
)
def test_hookwire_disable_autoload_reads_common_boolean_spellings(
    value: str, autoload: bool, tmp_path: Path
) -> None:
    environ = {"HOOKWIRE_DISABLE_AUTOLOAD": value}
    assert resolve_config(environ=environ, start_dir=tmp_path).autoload is autoload


def test_a_disable_autoload_value_that_is_not_a_boolean_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"HOOKWIRE_DISABLE_AUTOLOAD='maybe' is not a boolean"):
        resolve_config(environ={"HOOKWIRE_DISABLE_AUTOLOAD": "maybe"}, start_dir=tmp_path)


def test_the_nearest_pyproject_with_a_hookwire_table_is_used(tmp_path: Path) -> None:
    outer = write_pyproject(tmp_path, '[tool.hookwire]\nhost = "outer:host"\n')
    write_pyproject(tmp_path / "pkg", '[project]\nname = "pkg"\n')
    deep = tmp_path / "pkg" / "src" / "deeper"
    deep.mkdir(parents=True)
    assert find_pyproject(deep) == str(outer)
    inner = write_pyproject(tmp_path / "pkg" / "src", '[tool.hookwire]\nhost = "inner:host"\n')
    assert read_pyproject_settings(deep) == (str(inner), {"host": "inner:host"})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[tool.hookwire\n", "not valid TOML"),
        ("[tool.hookwire]\nplugin = ['x']\n", "unknown [tool.hookwire] key(s) plugin"),
        ("[tool.hookwire]\nplugins = 3\n", "plugins must be a list of plugin names, not int"),
        ("[tool.hookwire]\ndisable = [1]\n", "disable holds 1, not a plugin name"),
        ("[tool.hookwire]\nautoload = 'no'\n", "autoload must be true or false, not 'no'"),
        ("tool.hookwire = 1\n", "[tool.hookwire] must be a table"),
    ],
)
def test_bad_pyproject_settings_are_one_line_errors_naming_the_file(
    tmp_path: Path, body: str, message: str
) -> None:
    path = write_pyproject(tmp_path, body)
    with pytest.raises(ConfigError) as raised:
        resolve_config(environ={}, start_dir=tmp_path)
    assert message in str(raised.value)
    assert str(path) in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_single_string_is_read_as_a_comma_separated_list(tmp_path: Path) -> None:
    write_pyproject(tmp_path, '[tool.hookwire]\nplugins = "a, b"\n')
    assert resolve_config(environ={}, start_dir=tmp_path).allow == ("a", "b")
