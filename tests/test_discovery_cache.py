"""The discovery cache: fresh answers after installs, safe when corrupt, light when warm."""

from __future__ import annotations

import json
import marshal
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from venvtools import Venv, backdate, create_venv, hatchling_pyproject, write_dist_info

from hookwire._loading import discovery_cache as _discovery_cache
from hookwire._loading.discovery import discover

GROUP = "demo.plugins"
GROUP_SHOP = "shop.plugins"
LONG_AGO_NS = 1_000_000_000 * 1_600_000_000  # September 2020


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A search-path folder with one plugin, installed "long ago", and a private cache."""
    monkeypatch.delenv("HOOKWIRE_NO_CACHE", raising=False)
    monkeypatch.setenv("HOOKWIRE_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "site"
    write_dist_info(folder, "first", entry_points={GROUP: {"first": "first_mod"}})
    age(folder)
    return folder


_ages = iter(range(LONG_AGO_NS, LONG_AGO_NS + 10**15, 10**9))


def age(*paths: Path) -> None:
    """Give ``paths`` and what is inside them an old mtime, as after an install long ago.

    Each call uses a different time: a real change never brings an old mtime back (and
    importlib_metadata's own folder cache is keyed on it too).
    """
    when = next(_ages)
    for path in paths:
        for item in [*path.rglob("*"), path]:
            os.utime(item, ns=(when, when))


def names(folder: Path) -> tuple[list[str], bool]:
    result = discover(GROUP, path=[str(folder)])
    return [record.name for record in result.entry_points], result.from_cache


def cache_file() -> Path:
    return Path(_discovery_cache.cache_file(GROUP))


def read_payload() -> Any:
    """The payload of the cache file, its header stripped (the counterpart of ``write_payload``)."""
    return marshal.loads(cache_file().read_bytes()[len(_discovery_cache.MAGIC) + 8 :])


def forge_first_entry(payload: Any) -> None:
    """Point the payload's first cached entry at ``os:system``, a module no distribution
    declares."""
    name, _, *rest = payload["entry_points"][0]
    payload["entry_points"] = [(name, "os:system", *rest)]


def write_payload(payload: object) -> None:
    """Write a cache file with a valid header around ``payload``."""
    body = marshal.dumps(payload)
    header = _discovery_cache.MAGIC + len(body).to_bytes(8, "little")
    cache_file().write_bytes(header + body)


def test_a_second_discovery_is_answered_from_the_cache(site: Path) -> None:
    assert names(site) == (["first"], False)
    assert cache_file().exists()
    assert names(site) == (["first"], True)


def test_installing_or_uninstalling_a_distribution_is_seen_at_once(site: Path) -> None:
    names(site)
    added = write_dist_info(site, "second", entry_points={GROUP: {"second": "second_mod"}})
    assert names(site) == (["first", "second"], False)
    age(site)
    names(site)
    assert names(site) == (["first", "second"], True)
    for item in added.iterdir():
        item.unlink()
    added.rmdir()
    assert names(site) == (["first"], False)


def test_an_entry_points_file_rewritten_in_place_invalidates_the_cache(site: Path) -> None:
    names(site)
    entry_points = site / "first-1.0.dist-info" / "entry_points.txt"
    entry_points.write_text(f"[{GROUP}]\nrenamed = first_mod\n", encoding="utf-8")
    os.utime(site, ns=(site.stat().st_mtime_ns,) * 2)  # the folder itself looks untouched
    assert names(site) == (["renamed"], False)


def test_an_entry_points_file_rewritten_with_the_same_bytes_stays_cached(
    site: Path,
) -> None:
    names(site)
    entry_points = site / "first-1.0.dist-info" / "entry_points.txt"
    entry_points.write_bytes(entry_points.read_bytes())  # a new time, the same bytes
    assert names(site) == (["first"], True)


def test_an_entry_points_file_changed_in_place_with_its_old_time_is_seen(site: Path) -> None:
    names(site)
    entry_points = site / "first-1.0.dist-info" / "entry_points.txt"
    times = entry_points.stat()
    # An archive tool restoring a different file with the times of the one it replaces.
    entry_points.write_text(f"[{GROUP}]\nfirst = first_mod\nsecond = first_mod\n", encoding="utf-8")
    os.utime(entry_points, ns=(times.st_atime_ns, times.st_mtime_ns))
    os.utime(site, ns=(site.stat().st_mtime_ns,) * 2)
    assert names(site) == (["first", "second"], False)


def test_a_metadata_file_rewritten_in_place_invalidates_the_cache(site: Path) -> None:
    assert discover(GROUP, path=[str(site)]).entry_points[0].version == "1.0"
    names(site)
    metadata = site / "first-1.0.dist-info" / "METADATA"
    metadata.write_text("Metadata-Version: 2.1\nName: first\nVersion: 1.1\n", encoding="utf-8")
    os.utime(site, ns=(site.stat().st_mtime_ns,) * 2)
    result = discover(GROUP, path=[str(site)])
    assert not result.from_cache
    assert result.entry_points[0].version == "1.1"


def test_a_cache_whose_copy_of_an_entry_points_file_was_forged_is_a_miss(site: Path) -> None:
    names(site)
    payload = read_payload()
    # The copy and the entries agree with each other, not with the file on disk.
    payload["read"] = [
        (folder, mtime, metadata, f"[{GROUP}]\nfirst = os:system\n".encode())
        for folder, mtime, metadata, _ in payload["read"]
    ]
    forge_first_entry(payload)
    write_payload(payload)
    result = discover(GROUP, path=[str(site)])
    assert not result.from_cache
    assert [record.value for record in result.entry_points] == ["first_mod"]


@pytest.mark.parametrize("copy", [None, "a string", b""])
def test_a_cache_whose_copy_of_an_entry_points_file_has_the_wrong_type_is_a_miss(
    site: Path, copy: object
) -> None:
    names(site)
    payload = read_payload()
    payload["read"] = [
        (folder, mtime, metadata, copy) for folder, mtime, metadata, _ in payload["read"]
    ]
    write_payload(payload)
    assert names(site) == (["first"], False)


def test_an_egg_info_offering_nothing_that_gains_an_entry_point_in_place_is_seen(
    site: Path,
) -> None:
    egg_info = site / "legacy.egg-info"
    egg_info.mkdir()
    (egg_info / "PKG-INFO").write_text(
        "Metadata-Version: 2.1\nName: legacy\nVersion: 1.0\n", encoding="utf-8"
    )
    entry_points = egg_info / "entry_points.txt"
    entry_points.write_text("[other.group]\ntool = legacy\n", encoding="utf-8")
    age(site)
    names(site)
    assert names(site) == (["first"], True)
    # What `setup.py egg_info` does: the file rewritten in place, no folder touched.
    folder_times = [(folder, folder.stat().st_mtime_ns) for folder in (site, egg_info)]
    entry_points.write_text(
        f"[other.group]\ntool = legacy\n\n[{GROUP}]\nlegacy = legacy\n", encoding="utf-8"
    )
    for folder, mtime in folder_times:
        os.utime(folder, ns=(mtime, mtime))
    assert names(site) == (["first", "legacy"], False)


def test_a_change_in_the_same_clock_tick_as_the_scan_is_never_cached(site: Path) -> None:
    future = (2**33) * 1_000_000_000  # an mtime no scan can be proven newer than
    os.utime(site, ns=(future, future))
    assert names(site) == (["first"], False)
    assert not cache_file().exists()
    assert not list(Path(_discovery_cache.cache_dir()).glob("*.tmp"))


def damaged(valid: bytes) -> list[bytes]:
    magic = _discovery_cache.MAGIC
    body = valid[len(magic) + 8 :]
    return [
        b"",
        b"{not a cache",
        b"\x00\xff" * 40,
        magic,
        valid[:-1],  # truncated
        valid + b"\x00",  # something appended
        magic + len(body).to_bytes(8, "little") + b"\xff" * len(body),  # undecodable body
        magic + (5).to_bytes(8, "little") + marshal.dumps([1]),  # wrong length
    ]


def test_a_damaged_cache_file_is_a_miss_and_is_replaced(site: Path) -> None:
    names(site)
    valid = cache_file().read_bytes()
    for content in damaged(valid):
        cache_file().write_bytes(content)
        assert names(site) == (["first"], False), content
        assert cache_file().read_bytes() == valid


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"format": 2},
        {"format": 999},
        "a string",
    ],
)
def test_a_cache_file_with_the_wrong_shape_is_a_miss(site: Path, payload: object) -> None:
    cache_file().parent.mkdir(parents=True)
    write_payload(payload)
    assert names(site) == (["first"], False)
    assert names(site) == (["first"], True)


def test_a_cache_file_with_fields_of_the_wrong_type_is_a_miss(site: Path) -> None:
    names(site)
    payload = read_payload()
    payload["entry_points"] = [(1, 2, 3, 4, 5, 6)]
    write_payload(payload)
    assert names(site) == (["first"], False)


def test_a_cache_path_that_is_a_folder_is_ignored(site: Path) -> None:
    cache_file().mkdir(parents=True)
    assert names(site) == (["first"], False)
    assert names(site) == (["first"], False)
    assert cache_file().is_dir()


def test_a_cache_written_by_another_interpreter_is_not_used(site: Path) -> None:
    names(site)
    payload = read_payload()
    version, _, *rest = payload["interpreter"]
    payload["interpreter"] = (version, "/some/other/python", *rest)
    _, *fields = payload["entry_points"][0]
    payload["entry_points"] = [("stale", *fields)]
    write_payload(payload)
    assert names(site) == (["first"], False)


def test_an_unwritable_cache_folder_is_ignored(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file-not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("HOOKWIRE_CACHE_DIR", str(blocker / "cache"))
    assert names(site) == (["first"], False)
    assert names(site) == (["first"], False)


def test_hookwire_no_cache_turns_the_cache_off(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOKWIRE_NO_CACHE", "1")
    assert names(site) == (["first"], False)
    assert names(site) == (["first"], False)
    assert not os.path.exists(_discovery_cache.cache_dir())


def test_problems_are_cached_with_the_entry_points(site: Path) -> None:
    write_dist_info(site, "rival", entry_points={GROUP: {"first": "rival_mod"}})
    age(site)
    fresh = discover(GROUP, path=[str(site)])
    cached = discover(GROUP, path=[str(site)])
    assert cached.from_cache
    assert [str(problem) for problem in cached.problems] == [
        str(problem) for problem in fresh.problems
    ]
    assert type(cached.problems[0]) is type(fresh.problems[0])


def test_the_cache_folder_follows_the_platform_conventions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("HOOKWIRE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(sys, "platform", "linux")
    assert Path(_discovery_cache.cache_dir()) == tmp_path / "xdg" / "hookwire"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/xdg")  # ignored, as the XDG spec says
    assert Path(_discovery_cache.cache_dir()) == Path.home() / ".cache" / "hookwire"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert Path(_discovery_cache.cache_dir()) == Path.home() / ".cache" / "hookwire"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert Path(_discovery_cache.cache_dir()) == tmp_path / "local" / "hookwire" / "Cache"
    monkeypatch.setenv("HOOKWIRE_CACHE_DIR", str(tmp_path / "mine"))
    assert Path(_discovery_cache.cache_dir()) == tmp_path / "mine"


def test_one_cache_file_per_group_and_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    one = _discovery_cache.cache_file("a.plugins")
    assert one == _discovery_cache.cache_file("a.plugins")
    assert one != _discovery_cache.cache_file("b.plugins")
    monkeypatch.setattr(sys, "executable", "/elsewhere/bin/python")
    assert one != _discovery_cache.cache_file("a.plugins")


WARM_START = """
import sys, hookwire
before = set(sys.modules)
from hookwire._loading.discovery import discover
result = discover({group!r}, path=[{folder!r}])
heavy = (
    "importlib_metadata", "importlib.metadata", "email", "json", "pathlib", "zlib",
    "dataclasses", "inspect",
)
imported = sorted(name for name in heavy if name in set(sys.modules) - before)
import json  # only now: it is one of the modules looked for
print(json.dumps({{
    "names": [record.name for record in result.entry_points],
    "from_cache": result.from_cache,
    "imported": imported,
}}))
"""


def warm_start(python: str | Path, folder: Path) -> dict[str, object]:
    """Run discovery of ``folder`` in a new ``python`` process (sharing the test's cache)."""
    import subprocess

    done = subprocess.run(
        [str(python), "-c", WARM_START.format(group=GROUP, folder=str(folder))],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    data: dict[str, object] = json.loads(done.stdout)
    return data


def test_a_warm_start_in_a_new_process_imports_no_metadata_reader_nor_other_heavy_module(
    site: Path,
) -> None:
    cold = warm_start(sys.executable, site)
    # A plain folder on the search path is read without importlib_metadata even when cold.
    assert cold == {"names": ["first"], "from_cache": False, "imported": []}
    assert warm_start(sys.executable, site) == {
        "names": ["first"],
        "from_cache": True,
        "imported": [],
    }


@pytest.mark.e2e
def test_another_interpreter_on_the_same_search_path_never_reads_this_one_s_cache(
    site: Path, tmp_path: Path
) -> None:
    other = create_venv(tmp_path / "other")  # sees hookwire through this environment
    assert warm_start(sys.executable, site)["from_cache"] is False
    assert warm_start(sys.executable, site)["from_cache"] is True
    # The same search path, the same cache folder, another interpreter: its own miss first.
    first = warm_start(other.python, site)
    assert (first["names"], first["from_cache"]) == (["first"], False)
    assert warm_start(other.python, site)["from_cache"] is True
    assert warm_start(sys.executable, site)["from_cache"] is True
    assert len(list(Path(_discovery_cache.cache_dir()).glob("discovery-*.bin"))) == 2


# -- end to end: pip install / uninstall between runs -------------------------------------------

LOAD_AND_REPORT = """
import json, sys
from hookwire._loading.discovery import discover
from hookwire._loading.loader import Loader
result = discover("shop.plugins")
registry = Loader("shop.plugins").load()
print(json.dumps({
    "from_cache": result.from_cache,
    "plugins": sorted(record.name for record in registry),
    "metadata_imported": sorted(
        name for name in ("importlib_metadata", "importlib.metadata") if name in sys.modules
    ),
}))
"""


def make_project(root: Path, name: str, plugin: str, version: str = "1.0") -> Path:
    module = name.replace("-", "_")
    (root / module).mkdir(parents=True, exist_ok=True)
    (root / module / "__init__.py").write_text("", encoding="utf-8")
    (root / "pyproject.toml").write_text(
        hatchling_pyproject(name, version, entry_points={"shop.plugins": {plugin: module}}),
        encoding="utf-8",
    )
    return root


@pytest.mark.e2e
@pytest.mark.slow
def test_pip_install_and_uninstall_between_runs_are_seen_and_a_warm_start_skips_metadata(
    make_venv: Callable[..., Venv], tmp_path: Path
) -> None:
    venv = make_venv()
    env = {"HOOKWIRE_CACHE_DIR": str(tmp_path / "cache")}

    def run() -> dict[str, object]:
        result = venv.python_code(LOAD_AND_REPORT, env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        data: dict[str, object] = json.loads(result.stdout)
        return data

    def warm() -> dict[str, object]:
        """The first answer from the cache, once the install has settled (backdated, so no
        test waits two seconds for it): the first run writes it, the next reads it."""
        backdate(venv.path, tmp_path)
        assert run()["from_cache"] is False
        return run()

    venv.pip_install(make_project(tmp_path / "sms", "shop-sms", "sms"))
    cold = run()
    assert cold["plugins"] == ["sms"]
    assert cold["from_cache"] is False
    assert warm() == {"from_cache": True, "plugins": ["sms"], "metadata_imported": []}

    venv.pip_install(make_project(tmp_path / "loyalty", "shop-loyalty", "loyalty"))
    assert run()["plugins"] == ["loyalty", "sms"]
    assert warm()["from_cache"] is True
    # An upgrade that renames the entry point replaces the dist-info folder in place.
    venv.pip_install(make_project(tmp_path / "sms", "shop-sms", "texts", version="2.0"))
    assert run()["plugins"] == ["loyalty", "texts"]
    venv.pip_uninstall("shop-sms")
    after = run()
    assert after["plugins"] == ["loyalty"]
    assert after["from_cache"] is False
    assert warm() == {"from_cache": True, "plugins": ["loyalty"], "metadata_imported": []}


# -- nobody else can feed the cache ------------------------------------------------------------

OTHER_USER = 65534  # "nobody"

posix_owner = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="giving a file to another user needs POSIX and root",
)


def forged_payload(site: Path, module: str) -> dict[str, object]:
    """The valid cache of ``site`` plus a plugin that names ``module`` from a made-up
    distribution, as someone appending to the file would write it."""
    payload: dict[str, object] = marshal.loads(
        cache_file().read_bytes()[len(_discovery_cache.MAGIC) + 8 :]
    )
    made_up = str(site / "made_up-6.6.dist-info")
    payload["entry_points"] = [
        *payload["entry_points"],  # type: ignore[misc]
        ("intruder", module, GROUP, "made-up", "6.6", made_up),
    ]
    payload["sources"] = [*payload["sources"], made_up]  # type: ignore[misc]
    return payload


def test_the_cache_folder_is_created_private(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "fresh" / "cache"
    monkeypatch.setenv("HOOKWIRE_CACHE_DIR", str(folder))
    names(site)
    assert folder.stat().st_mode & 0o777 == 0o700
    assert cache_file().stat().st_mode & 0o777 == 0o600


@posix_owner
def test_a_cache_file_owned_by_another_user_is_ignored(site: Path) -> None:
    names(site)
    write_payload(forged_payload(site, "intruder_module"))
    os.chown(cache_file(), OTHER_USER, OTHER_USER)
    assert names(site) == (["first"], False)


@posix_owner
def test_a_cache_folder_owned_by_another_user_is_neither_read_nor_written(site: Path) -> None:
    names(site)
    write_payload(forged_payload(site, "intruder_module"))
    folder = cache_file().parent
    os.chown(folder, OTHER_USER, OTHER_USER)
    before = sorted(os.listdir(folder))
    assert names(site) == (["first"], False)
    assert sorted(os.listdir(folder)) == before  # nothing written into it either


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666], ids=oct)
def test_a_cache_file_writable_by_group_or_others_is_ignored(site: Path, mode: int) -> None:
    names(site)
    write_payload(forged_payload(site, "intruder_module"))
    os.chmod(cache_file(), mode)
    assert names(site) == (["first"], False)


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777], ids=oct)
def test_a_cache_folder_writable_by_group_or_others_is_neither_read_nor_written(
    site: Path, mode: int
) -> None:
    names(site)
    write_payload(forged_payload(site, "intruder_module"))
    folder = cache_file().parent
    os.chmod(folder, mode)
    before = {name: (folder / name).read_bytes() for name in os.listdir(folder)}
    assert names(site) == (["first"], False)
    assert {name: (folder / name).read_bytes() for name in os.listdir(folder)} == before


def test_a_symbolic_link_at_the_cache_file_s_name_is_not_followed(
    site: Path, tmp_path: Path
) -> None:
    names(site)
    elsewhere = tmp_path / "elsewhere.bin"
    elsewhere.write_bytes(cache_file().read_bytes())
    cache_file().unlink()
    cache_file().symlink_to(elsewhere)
    assert names(site) == (["first"], False)
    assert elsewhere.read_bytes().startswith(_discovery_cache.MAGIC)  # left as it was


def test_a_symbolic_link_planted_at_the_temporary_name_is_never_written_through(
    site: Path, tmp_path: Path
) -> None:
    import threading

    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    cache_file().parent.mkdir(parents=True)
    planted = Path(f"{cache_file()}.{os.getpid()}.{threading.get_ident()}.tmp")
    planted.symlink_to(victim)
    assert names(site) == (["first"], False)
    assert victim.read_text(encoding="utf-8") == "precious"
    assert planted.is_symlink()
    # The cache was written under another temporary name and moved into place.
    assert names(site) == (["first"], True)


def test_an_entry_naming_a_distribution_not_in_the_key_is_refused(site: Path) -> None:
    names(site)
    write_payload(forged_payload(site, "intruder_module"))
    assert names(site) == (["first"], False)


def test_an_entry_naming_a_module_its_distribution_does_not_declare_is_refused(
    site: Path,
) -> None:
    names(site)
    payload = read_payload()
    forge_first_entry(payload)
    write_payload(payload)
    result = discover(GROUP, path=[str(site)])
    assert not result.from_cache
    assert [record.value for record in result.entry_points] == ["first_mod"]


def test_a_forged_entry_is_never_imported_by_the_loader(site: Path, tmp_path: Path) -> None:
    from hookwire._loading.config import LoadConfig
    from hookwire._loading.loader import Loader

    marker = tmp_path / "imported"
    intruder = site / "intruder_module.py"
    intruder.write_text(f"open({str(marker)!r}, 'w').close()\n", encoding="utf-8")
    age(site)
    names(site)
    write_payload(forged_payload(site, "intruder_module"))
    sys.path.insert(0, str(site))
    try:
        registry = Loader(GROUP, path=[str(site)], config=LoadConfig()).load()
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("intruder_module", None)
        sys.modules.pop("first_mod", None)
    assert [record.name for record in registry] == ["first"]
    assert not marker.exists()


def test_an_ignored_cache_is_reported_once_at_info(
    site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    names(site)
    os.chmod(cache_file().parent, 0o777)
    with caplog.at_level("INFO", logger="hookwire.discovery.cache"):
        names(site)
        names(site)
    notes = [record for record in caplog.records if record.name == "hookwire.discovery.cache"]
    assert len(notes) == 1
    assert notes[0].levelname == "INFO"
    assert "writable by group and others (mode 0777)" in notes[0].getMessage()
    assert str(cache_file().parent) in notes[0].getMessage()


# -- never stale: every way an environment changes, seen on the next run with the cache on -----

MATRIX_REPORT = """
import json, os, sys
extra = os.environ.get("MATRIX_EXTRA_PATH")
if extra:
    sys.path.append(extra)  # a search-path entry added at run time
from hookwire._loading.discovery import discover
result = discover("shop.plugins")
print(json.dumps({
    "plugins": sorted(record.name for record in result.entry_points),
    "from_cache": result.from_cache,
}))
"""


def make_setup_py_project(root: Path, name: str, groups: dict[str, dict[str, str]]) -> Path:
    """A setuptools project with only a setup.py (the legacy layout)."""
    module = name.replace("-", "_")
    (root / module).mkdir(parents=True, exist_ok=True)
    (root / module / "__init__.py").write_text("", encoding="utf-8")
    entry_points = {
        group: [f"{key} = {value}" for key, value in entries.items()]
        for group, entries in groups.items()
    }
    (root / "setup.py").write_text(
        "from setuptools import setup\n"
        f"setup(name={name!r}, version='1.0', packages=[{module!r}], "
        f"entry_points={entry_points!r})\n",
        encoding="utf-8",
    )
    return root


@pytest.mark.e2e
@pytest.mark.slow
def test_every_change_to_the_environment_is_seen_on_the_next_run_with_the_cache_on(
    make_venv: Callable[..., Venv], tmp_path: Path
) -> None:
    import subprocess

    venv = make_venv()
    env = {"HOOKWIRE_CACHE_DIR": str(tmp_path / "cache")}

    def run(**extra: str) -> dict[str, object]:
        result = venv.python_code(MATRIX_REPORT, env={**env, **extra}, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        data: dict[str, object] = json.loads(result.stdout)
        return data

    def warm(expected: list[str], **extra: str) -> None:
        """Let the change settle (backdated), then see the answer written to the cache and
        read from it: the next change is then made with a cached answer in place, the one
        that could go stale."""
        backdate(venv.path, tmp_path)
        for from_cache in (False, True):  # the first run writes the answer, the next reads it
            data = run(**extra)
            assert data == {"plugins": expected, "from_cache": from_cache}

    def seen(expected: list[str], **extra: str) -> None:
        data = run(**extra)
        assert data["plugins"] == expected
        assert data["from_cache"] is False
        warm(expected, **extra)

    warm([])
    # pip install, upgrade (the entry point renamed), uninstall.
    venv.pip_install(make_project(tmp_path / "sms", "shop-sms", "sms"))
    seen(["sms"])
    venv.pip_install(make_project(tmp_path / "sms", "shop-sms", "texts", version="2.0"))
    seen(["texts"])
    venv.pip_uninstall("shop-sms")
    seen([])

    # pip install -e of a hatchling project (a .pth file and a dist-info in site-packages).
    hatch = make_project(tmp_path / "hatch", "shop-hatch", "hatch")
    with (hatch / "pyproject.toml").open("a", encoding="utf-8") as stream:
        stream.write('\n[tool.hatch.build.targets.wheel]\ndev-mode-dirs = ["."]\n')
    venv.pip("install", "--quiet", "--no-deps", "--no-build-isolation", "-e", str(hatch))
    seen(["hatch"])

    # A legacy editable install (`setup.py develop`, what `pip install -e` runs for a legacy
    # project: an egg-link, easy-install.pth and an egg-info in the project folder) of a
    # project that offers nothing to the group yet; then an entry point is added and
    # `setup.py egg_info` rewrites entry_points.txt in place.
    legacy = make_setup_py_project(
        tmp_path / "legacy", "shop-legacy", {"other.group": {"tool": "shop_legacy"}}
    )
    subprocess.run(
        [str(venv.python), "setup.py", "develop", "--no-deps"],
        cwd=legacy,
        check=True,
        capture_output=True,
        timeout=120,
    )
    seen(["hatch"])
    entry_points = legacy / "shop_legacy.egg-info" / "entry_points.txt"
    assert entry_points.exists()
    folder_mtime = legacy.stat().st_mtime_ns
    make_setup_py_project(
        legacy,
        "shop-legacy",
        {"other.group": {"tool": "shop_legacy"}, "shop.plugins": {"legacy": "shop_legacy"}},
    )
    subprocess.run(
        [str(venv.python), "setup.py", "egg_info"],
        cwd=legacy,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert legacy.stat().st_mtime_ns == folder_mtime  # only the file's contents changed
    seen(["hatch", "legacy"])

    # A .pth file added to site-packages that puts a folder with a plugin on the path.
    extra_site = tmp_path / "extra-site"
    write_dist_info(extra_site, "shop-extra", entry_points={GROUP_SHOP: {"extra": "shop_extra"}})
    (venv.site_packages / "shop_extra.pth").write_text(f"{extra_site}\n", encoding="utf-8")
    seen(["extra", "hatch", "legacy"])

    # A search-path entry added at run time.
    runtime_site = tmp_path / "runtime-site"
    write_dist_info(runtime_site, "shop-late", entry_points={GROUP_SHOP: {"late": "shop_late"}})
    seen(["extra", "hatch", "late", "legacy"], MATRIX_EXTRA_PATH=str(runtime_site))
    seen(["extra", "hatch", "legacy"])  # and gone again without it


def test_a_lazy_plugin_s_forged_entry_is_checked_before_its_first_send_imports_it(
    site: Path, tmp_path: Path
) -> None:
    """The loader's look-up leaves lazy plugins' entry_points.txt unread; the entry is checked
    against it when the plugin is activated, and a forged one is never imported."""
    from hookwire._loading.config import LoadConfig
    from hookwire._loading.loader import Loader
    from hookwire._loading.registry import PluginState

    marker = tmp_path / "imported"
    (site / "forged_host.py").write_text(
        "from hookwire import Signal\nping = Signal(name='ping')\n", encoding="utf-8"
    )
    write_dist_info(
        site,
        "sleeper",
        entry_points={
            GROUP: {"sleeper": "sleeper_mod"},
            f"{GROUP}.listens": {"sleeper.ping": "forged_host:ping"},
        },
        modules={
            "sleeper_mod.py": "",
            "intruder_module.py": f"open({str(marker)!r}, 'w').close()\n",
        },
    )
    age(site)
    assert names(site) == (["first", "sleeper"], False)
    payload = read_payload()
    payload["entry_points"] = [
        (name, "intruder_module" if name == "sleeper" else value, *rest)
        for name, value, *rest in payload["entry_points"]
    ]
    write_payload(payload)
    sys.path.insert(0, str(site))
    try:
        import forged_host

        ping = forged_host.ping
        loader = Loader(
            GROUP, path=[str(site)], config=LoadConfig(), signals={ping.qualified_name: ping}
        )
        registry = loader.load()
        sleeper = registry["sleeper"]
        assert sleeper.state is PluginState.DECLARED  # answered by the cache, not read
        ping.send(None)
        assert sleeper.state is PluginState.FAILED
        assert sleeper.error is not None
        assert "'sleeper = intruder_module' comes from the discovery cache" in sleeper.error
        assert f"does not declare it under [{GROUP}]" in sleeper.error
        assert not marker.exists()
        assert not cache_file().exists()  # the next start reads the distributions
        loader.unload()
    finally:
        sys.path.remove(str(site))
        for module in ("forged_host", "intruder_module", "sleeper_mod", "first_mod"):
            sys.modules.pop(module, None)
    assert names(site) == (["first", "sleeper"], False)
    result = discover(GROUP, path=[str(site)])
    assert [record.value for record in result.entry_points] == ["first_mod", "sleeper_mod"]


def test_a_lazy_plugin_s_true_entry_from_the_cache_activates(site: Path) -> None:
    from hookwire._loading.config import LoadConfig
    from hookwire._loading.loader import Loader
    from hookwire._loading.registry import PluginState

    (site / "true_host.py").write_text(
        "from hookwire import Signal\nping = Signal(name='ping')\n", encoding="utf-8"
    )
    write_dist_info(
        site,
        "napper",
        entry_points={
            GROUP: {"napper": "napper_mod"},
            f"{GROUP}.listens": {"napper.ping": "true_host:ping"},
        },
        modules={"napper_mod.py": ""},
    )
    age(site)
    names(site)
    sys.path.insert(0, str(site))
    try:
        import true_host

        ping = true_host.ping
        loader = Loader(
            GROUP, path=[str(site)], config=LoadConfig(), signals={ping.qualified_name: ping}
        )
        registry = loader.load()
        assert discover(GROUP, path=[str(site)]).from_cache
        napper = registry["napper"]
        assert napper.state is PluginState.DECLARED
        ping.send(None)
        assert napper.state is PluginState.READY, napper.error
        assert cache_file().exists()
        loader.unload()
    finally:
        sys.path.remove(str(site))
        for module in ("true_host", "napper_mod", "first_mod"):
            sys.modules.pop(module, None)
