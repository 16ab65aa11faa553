"""hookwire.cli._resolve: where the host reference comes from and how it becomes a Host."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hookwire import Host
from hookwire.cli._resolve import (
    DEFAULT_REFERENCE,
    HostReference,
    find_host_reference,
    import_host,
)
from hookwire.exceptions import ConfigError, HostImportError, HostNotFoundError


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A fresh, importable package name and its folder; its modules are forgotten afterwards."""
    name = f"resolvepkg_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "site" / name
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield name, folder
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def write(folder: Path, module: str, source: str) -> None:
    (folder / f"{module}.py").write_text(source, encoding="utf-8")


# -- where the reference comes from ------------------------------------------------------------


def test_the_argument_comes_first(tmp_path: Path) -> None:
    reference = find_host_reference("a.b:c", environ={"HOOKWIRE_HOST": "x:y"}, start_dir=tmp_path)
    assert reference == HostReference("a.b:c", "argument")


def test_then_the_environment(tmp_path: Path) -> None:
    reference = find_host_reference(None, environ={"HOOKWIRE_HOST": " x:y "}, start_dir=tmp_path)
    assert reference == HostReference("x:y", "HOOKWIRE_HOST")


def test_then_the_nearest_pyproject_with_a_tool_hookwire_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.hookwire]\nhost = "p.q:r"\n', "utf-8")
    inner = tmp_path / "inner"
    inner.mkdir()
    # A pyproject.toml without the table is passed over.
    (inner / "pyproject.toml").write_text('[project]\nname = "inner"\n', "utf-8")
    reference = find_host_reference(None, environ={}, start_dir=inner)
    assert reference.text == "p.q:r"
    assert reference.source == f"[tool.hookwire] host in {tmp_path / 'pyproject.toml'}"
    assert "(from [tool.hookwire] host in" in reference.describe()


def test_then_the_default_host(tmp_path: Path) -> None:
    assert find_host_reference(None, environ={}, start_dir=tmp_path) == HostReference(
        DEFAULT_REFERENCE, "default"
    )


def test_a_host_setting_that_is_not_a_string_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.hookwire]\nhost = 3\n", "utf-8")
    with pytest.raises(ConfigError, match="host must be a 'module:attribute' string"):
        find_host_reference(None, environ={}, start_dir=tmp_path)


def test_the_default_reference_is_the_default_host() -> None:
    from hookwire._host import default_host

    assert import_host(HostReference(DEFAULT_REFERENCE, "default")) is default_host


# -- from reference to host --------------------------------------------------------------------


def test_a_dotted_attribute_path_is_followed(package: tuple[str, Path]) -> None:
    name, folder = package
    write(
        folder,
        "app",
        "from hookwire import Host\nclass Holder:\n    host = Host('nested')\n",
    )
    host = import_host(HostReference(f"{name}.app:Holder.host", "argument"))
    assert isinstance(host, Host)
    assert host.name == "nested"


def test_a_factory_is_called_once_per_resolution(package: tuple[str, Path]) -> None:
    name, folder = package
    write(
        folder,
        "app",
        "from hookwire import Host\nCALLS = []\n"
        "def create():\n    CALLS.append(1)\n    return Host('made')\n",
    )
    host = import_host(HostReference(f"{name}.app:create", "argument"))
    assert host.name == "made"
    assert sys.modules[f"{name}.app"].CALLS == [1]


def test_a_factory_that_raises_is_a_host_import_error_with_the_cause(
    package: tuple[str, Path],
) -> None:
    name, folder = package
    write(folder, "app", "def create():\n    raise LookupError('no config')\n")
    with pytest.raises(HostImportError, match="the factory raised LookupError: no config") as info:
        import_host(HostReference(f"{name}.app:create", "argument"))
    assert isinstance(info.value.__cause__, LookupError)


def test_a_factory_returning_something_else_is_not_found(package: tuple[str, Path]) -> None:
    name, folder = package
    write(folder, "app", "def create():\n    return 'a host, honestly'\n")
    with pytest.raises(HostNotFoundError, match=r"returned a str, not a hookwire\.Host"):
        import_host(HostReference(f"{name}.app:create", "argument"))


def test_system_exit_while_importing_the_host_is_an_import_error(
    package: tuple[str, Path],
) -> None:
    name, folder = package
    write(folder, "app", "import sys\nsys.exit('refusing to start')\n")
    with pytest.raises(HostImportError, match="SystemExit: refusing to start"):
        import_host(HostReference(f"{name}.app:host", "argument"))


def test_a_syntax_error_in_the_host_module_names_file_and_line(package: tuple[str, Path]) -> None:
    name, folder = package
    write(folder, "app", "x = 1\ndef broken(:\n")
    with pytest.raises(HostImportError, match=r"SyntaxError: .*app\.py, line 2"):
        import_host(HostReference(f"{name}.app:host", "argument"))


def test_an_attribute_that_is_not_close_to_anything_lists_the_hosts_there(
    package: tuple[str, Path],
) -> None:
    name, folder = package
    write(folder, "app", "from hookwire import Host\nshop = Host('shop')\nadmin = Host('admin')\n")
    with pytest.raises(HostNotFoundError, match="its hosts are: admin, shop") as info:
        import_host(HostReference(f"{name}.app:zzzz", "argument"))
    assert info.value.suggestion is None


def test_the_suggestion_is_a_whole_reference_ready_to_paste(package: tuple[str, Path]) -> None:
    name, folder = package
    write(folder, "app", "from hookwire import Host\nhost = Host('shop')\n")
    with pytest.raises(HostNotFoundError) as info:
        import_host(HostReference(f"{name}.apq:host", "argument"))
    assert info.value.suggestion == f"{name}.app:host"
    with pytest.raises(HostNotFoundError) as info:
        import_host(HostReference(f"{name}.app:hots", "argument"))
    assert info.value.suggestion == f"{name}.app:host"
