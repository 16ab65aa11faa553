"""Discovery: one distribution at a time, every problem reported where it is, never from cwd."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import importlib_metadata
import pytest
from venvtools import PluginSite, Venv, write_dist_info

from hookwire._loading.discovery import (
    EntryPointRecord,
    default_search_path,
    discover,
    parse_entry_points,
)
from hookwire.exceptions import DiscoveryError, DuplicatePluginError

GROUP = "demo.plugins"


def test_entry_points_of_the_group_are_recorded_with_distribution_version_and_path(
    plugin_site: PluginSite,
) -> None:
    dist_info = plugin_site.add(
        "demo-sms",
        "2.3",
        entry_points={GROUP: {"sms": "demo_sms:SmsPlugin"}, "other.group": {"x": "y"}},
    )
    result = discover(GROUP, distributions=plugin_site.distributions())
    assert result.problems == ()
    assert result.entry_points == (
        EntryPointRecord("sms", "demo_sms:SmsPlugin", GROUP, "demo-sms", "2.3", str(dist_info)),
    )
    (record,) = result.entry_points
    assert record.text == "sms = demo_sms:SmsPlugin"
    assert (record.module, record.attr) == ("demo_sms", "SmsPlugin")


def test_a_malformed_entry_points_file_is_reported_for_its_distribution_and_the_rest_is_read(
    plugin_site: PluginSite,
) -> None:
    plugin_site.add("unrelated", entry_points_text="[console_scripts]\nthis line has no equals\n")
    plugin_site.add("good", entry_points={GROUP: {"good": "good_mod"}})
    result = discover(GROUP, distributions=plugin_site.distributions())
    assert [record.name for record in result.entry_points] == ["good"]
    (problem,) = result.problems
    assert isinstance(problem, DiscoveryError)
    assert problem.plugin is None  # not this group's plugin: reported, not fatal under strict
    assert problem.distribution == "unrelated"
    assert str(problem) == (
        "distribution unrelated 1.0: malformed entry point on line 2 of entry_points.txt in "
        "[console_scripts]: 'this line has no equals' (expected 'name = module:object'); "
        "ignored, other groups are unaffected"
    )


def test_a_malformed_line_in_the_group_names_the_plugin_and_keeps_the_valid_lines(
    plugin_site: PluginSite,
) -> None:
    plugin_site.add("mixed", entry_points_text=f"[{GROUP}]\nfine = fine_mod\nbroken =\n")
    result = discover(GROUP, distributions=plugin_site.distributions())
    assert [record.name for record in result.entry_points] == ["fine"]
    assert [problem.plugin for problem in result.problems] == ["broken"]
    assert "line 3 of entry_points.txt in [demo.plugins]: 'broken ='" in str(result.problems[0])


def test_a_distribution_without_metadata_is_skipped_with_a_warning(
    plugin_site: PluginSite, caplog: pytest.LogCaptureFixture
) -> None:
    orphan = plugin_site.add("orphan", entry_points={GROUP: {"orphan": "orphan_mod"}})
    (orphan / "METADATA").unlink()
    nameless = plugin_site.add("nameless", entry_points={GROUP: {"anon": "anon_mod"}})
    (nameless / "METADATA").write_text("Metadata-Version: 2.1\nVersion: 1.0\n", encoding="utf-8")
    garbled = plugin_site.add("garbled", entry_points={GROUP: {"garbled": "garbled_mod"}})
    (garbled / "METADATA").write_bytes(b"Metadata-Version: 2.1\nName: \xff\xfe\nVersion: 1\n")
    plugin_site.add("kept", entry_points={GROUP: {"kept": "kept_mod"}})

    result = discover(GROUP, distributions=plugin_site.distributions())
    assert [record.name for record in result.entry_points] == ["kept"]
    messages = sorted(str(problem) for problem in result.problems)
    assert messages == [
        f"plugin anon: distribution at {nameless} has no Name in its METADATA; "
        "skipped its [demo.plugins] entry points (anon)",
        f"plugin garbled: distribution at {garbled} has unreadable METADATA "
        "(UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 28: invalid "
        "start byte); skipped its [demo.plugins] entry points (garbled)",
        f"plugin orphan: distribution at {orphan} has no METADATA file; "
        "skipped its [demo.plugins] entry points (orphan)",
    ]
    assert [record.levelname for record in caplog.records] == ["WARNING"] * 3
    assert {record.name for record in caplog.records} == {"hookwire.discovery"}


def test_an_undecodable_entry_points_file_is_reported_not_raised(plugin_site: PluginSite) -> None:
    garbled = plugin_site.add("garbled")
    (garbled / "entry_points.txt").write_bytes(b"[demo.plugins]\nx = \xff\xfe\n")
    result = discover(GROUP, distributions=plugin_site.distributions())
    assert result.entry_points == ()
    assert "entry_points.txt is not UTF-8" in str(result.problems[0])


def test_an_entry_points_file_that_cannot_be_read_is_reported_not_taken_as_absent(
    plugin_site: PluginSite,
) -> None:
    odd = plugin_site.add("odd")
    (odd / "entry_points.txt").mkdir()  # readable by nobody, root included
    result = discover(GROUP, distributions=plugin_site.distributions())
    assert result.entry_points == ()
    (problem,) = result.problems
    assert str(problem).startswith(f"distribution at {odd}: cannot read entry_points.txt: ")
    assert "IsADirectoryError" in str(problem)


READ_AS_NOBODY = """
import json, logging, os, sys  # logging: discovery imports it on its first problem
from pathlib import Path

import importlib_metadata

from hookwire._loading.discovery import discover

site, group = Path(sys.argv[1]), sys.argv[2]


def discovered():
    dists = [importlib_metadata.PathDistribution(p) for p in sorted(site.glob("*.dist-info"))]
    result = discover(group, distributions=dists)
    return [r.name for r in result.entry_points], [str(p) for p in result.problems]


as_root = discovered()  # imports everything discovery needs while the interpreter is readable
if os.geteuid() == 0:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
metadata = (next(site.glob("*.dist-info")) / "METADATA").read_text(encoding="utf-8")
seen = {"uid": os.geteuid(), "before": as_root, "metadata": metadata, "after": discovered()}
print(json.dumps(seen))
"""


@pytest.mark.skipif(os.name == "nt", reason="needs POSIX permissions")
def test_an_unreadable_entry_points_file_is_reported_not_taken_as_absent(tmp_path: Path) -> None:
    # Root reads any file whatever its mode, so a child process drops to the "nobody" user
    # before the discovery that counts. The site lives outside pytest's private temporary
    # folder so that only the file's own mode can deny the read.
    site = Path(tempfile.mkdtemp(prefix="hookwire-unreadable-"))
    try:
        site.chmod(0o755)
        dist_info = write_dist_info(site, "locked", entry_points={GROUP: {"locked": "locked_mod"}})
        (dist_info / "entry_points.txt").chmod(0)
        completed = subprocess.run(
            [sys.executable, "-c", READ_AS_NOBODY, str(site), GROUP],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")},
                "HOOKWIRE_CACHE_DIR": str(tmp_path / "cache"),
                "PYTHONDONTWRITEBYTECODE": "1",
            },
        )
    finally:
        shutil.rmtree(site)
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout)
    assert seen["uid"] != 0
    assert "Name: locked" in seen["metadata"]  # the folder itself was readable
    if os.geteuid() == 0:
        assert seen["before"] == [["locked"], []]
    entry_points, problems = seen["after"]
    assert entry_points == []
    (problem,) = problems
    assert problem.startswith(f"distribution at {dist_info}: cannot read entry_points.txt: ")
    assert "PermissionError" in problem


def test_a_custom_distribution_that_raises_is_reported_and_the_rest_is_read(
    plugin_site: PluginSite,
) -> None:
    class Exploding(importlib_metadata.Distribution):
        def read_text(self, filename: str | os.PathLike[str]) -> str | None:
            raise RuntimeError("metadata server down")

        def locate_file(self, path: str | os.PathLike[str]) -> Path:
            raise NotImplementedError

    plugin_site.add("good", entry_points={GROUP: {"good": "good_mod"}})
    result = discover(GROUP, distributions=[Exploding(), *plugin_site.distributions()])
    assert [record.name for record in result.entry_points] == ["good"]
    assert "cannot read its metadata: RuntimeError: metadata server down" in str(result.problems[0])


def test_the_same_name_from_two_distributions_is_reported_naming_both(
    plugin_site: PluginSite,
) -> None:
    plugin_site.add("aaa-sms", entry_points={GROUP: {"SMS": "aaa_sms"}})
    plugin_site.add("zzz-sms", "3.0", entry_points={GROUP: {"sms": "zzz_sms"}})
    result = discover(GROUP, distributions=plugin_site.distributions())
    assert [record.distribution for record in result.entry_points] == ["aaa-sms"]
    (problem,) = result.problems
    assert isinstance(problem, DuplicatePluginError)
    assert problem.plugin == "sms"
    assert problem.distributions == ("aaa-sms", "zzz-sms")
    assert str(problem).startswith("plugin sms is offered twice: by aaa-sms 1.0 (")
    assert "and by zzz-sms 3.0 (" in str(problem)


def test_a_name_declared_twice_by_one_distribution_is_reported_and_the_first_kept(
    plugin_site: PluginSite,
) -> None:
    plugin_site.add(
        "doubled", entry_points_text=f"[{GROUP}]\nMy_Sms = first_mod\nmy-sms = second_mod\n"
    )
    result = discover(GROUP, distributions=plugin_site.distributions())
    assert [record.value for record in result.entry_points] == ["first_mod"]
    assert [str(problem) for problem in result.problems] == [
        "plugin my-sms: distribution doubled declares it twice in [demo.plugins] "
        "('first_mod' and 'second_mod'); using the first"
    ]


def test_one_distribution_installed_twice_on_the_path_is_reported_with_both_locations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKWIRE_NO_CACHE", "1")
    first, second = tmp_path / "first", tmp_path / "second"
    one = write_dist_info(first, "twin", "1.0", entry_points={GROUP: {"twin": "twin_mod"}})
    two = write_dist_info(second, "twin", "2.0", entry_points={GROUP: {"twin": "twin_mod"}})
    result = discover(GROUP, path=[str(first), str(second)])
    assert [(record.version, record.dist_path) for record in result.entry_points] == [
        ("1.0", str(one))
    ]
    assert [str(problem) for problem in result.problems] == [
        f"plugin twin: distribution twin is installed twice, 1.0 at {one} and 2.0 at {two}; "
        "using the first on the search path"
    ]


def test_a_folder_listed_twice_on_the_path_or_reached_through_a_link_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fedora-style venvs put lib64/.../site-packages (a symbolic link to lib/...) on sys.path
    # too, and PYTHONPATH often repeats a site folder: one installation, not a duplicate.
    monkeypatch.setenv("HOOKWIRE_NO_CACHE", "1")
    site = tmp_path / "lib" / "site-packages"
    write_dist_info(site, "once", entry_points={GROUP: {"once": "once_mod"}})
    (tmp_path / "lib64").symlink_to(tmp_path / "lib", target_is_directory=True)
    linked = tmp_path / "lib64" / "site-packages"
    result = discover(GROUP, path=[str(site), f"{site}{os.sep}", str(linked), str(site)])
    assert [record.name for record in result.entry_points] == ["once"]
    assert result.problems == ()  # nothing for a strict load to fail on


def test_hostile_metadata_is_kept_exactly_as_installed(plugin_site: PluginSite) -> None:
    hostile = "\x1b[2J\x1b[31mpwned"
    dist_info = plugin_site.add("hostile", entry_points={GROUP: {f"evil{hostile}": "evil_mod"}})
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: hostile{hostile}\nVersion: 1.0{hostile}\n",
        encoding="utf-8",
    )
    (record,) = discover(GROUP, distributions=plugin_site.distributions()).entry_points
    assert record.name == f"evil{hostile}"
    assert record.distribution == f"hostile{hostile}"
    assert record.version == f"1.0{hostile}"


def test_the_entry_point_parser_reads_importlib_metadata_s_format() -> None:
    text = (
        "# comment\norphan = before_any_section\n[demo.plugins]\n a = b:C [extra]\n; c\n[x]\nd=e\n"
    )
    assert parse_entry_points(text, GROUP) == ([("a", "b:C [extra]")], [])


def test_the_default_search_path_leaves_out_the_implicit_working_directory(tmp_path: Path) -> None:
    here = str(tmp_path / "project")
    site = str(tmp_path / "site")
    os.mkdir(here)
    assert default_search_path(["", site], cwd=here, environ={}) == [site]
    assert default_search_path([here, site], cwd=here, environ={}) == [site]
    assert default_search_path(["relative/dir", site], cwd=here, environ={}) == [site]
    # Python adds nothing under -P / PYTHONSAFEPATH, so a first entry is then the user's own.
    assert default_search_path([here, site], cwd=here, environ={}, safe_path=True) == [here, site]
    # Named in PYTHONPATH, or further down sys.path (a .pth file): the user chose it.
    assert default_search_path([here, site], cwd=here, environ={"PYTHONPATH": here}) == [
        here,
        site,
    ]
    assert default_search_path([site, here], cwd=here, environ={}) == [site, here]


# -- end to end -------------------------------------------------------------------------------

DISCOVER_AS_JSON = """
import json, sys
from hookwire._loading.discovery import discover
result = discover("shop.plugins", use_cache=False)
print(json.dumps({
    "entry_points": [record.to_json() for record in result.entry_points],
    "problems": [[type(problem).__name__, problem.plugin, str(problem)]
                 for problem in result.problems],
}))
"""


def run_discovery(venv: Venv, **kwargs: object) -> dict[str, list[object]]:
    result = venv.python_code(DISCOVER_AS_JSON, **kwargs)
    assert result.returncode == 0, result.stderr
    data: dict[str, list[object]] = json.loads(result.stdout)
    return data


@pytest.mark.e2e
def test_a_broken_environment_still_yields_every_good_plugin_where_importlib_metadata_fails(
    make_venv: Callable[..., Venv], tmp_path: Path
) -> None:
    venv = make_venv()
    venv.add_dist_info("shop-good", entry_points={"shop.plugins": {"good": "shop_good"}})
    venv.add_dist_info("unrelated-tool", entry_points_text="[console_scripts]\nbroken line\n")
    orphan = venv.add_dist_info("orphan", entry_points={"shop.plugins": {"orphan": "orphan"}})
    (orphan / "METADATA").unlink()
    venv.add_dist_info("shop-rival", entry_points={"shop.plugins": {"good": "shop_rival"}})
    other_site = tmp_path / "other-site"
    write_dist_info(other_site, "shop-good", "0.9", entry_points={"shop.plugins": {"good": "x"}})
    (venv.site_packages / "zz_other.pth").write_text(f"{other_site}\n", encoding="utf-8")

    # importlib.metadata gives up for every group because of one unrelated file.
    peers = venv.python_code(
        "from importlib.metadata import entry_points; entry_points(group='shop.plugins')"
    )
    assert peers.returncode != 0
    assert "TypeError" in peers.stderr

    found = run_discovery(venv)
    assert [(item["name"], item["distribution"]) for item in found["entry_points"]] == [  # type: ignore[index]
        ("good", "shop-good")
    ]
    problems = found["problems"]
    kinds = sorted(((kind, plugin) for kind, plugin, _ in problems), key=repr)  # type: ignore[misc]
    assert kinds == [
        ("DiscoveryError", "orphan"),
        ("DiscoveryError", None),
        ("DuplicatePluginError", "good"),
        ("DuplicatePluginError", "good"),
    ]
    text = "\n".join(message for _, _, message in problems)  # type: ignore[misc]
    assert "distribution unrelated-tool 1.0: malformed entry point on line 2" in text
    assert "plugin good is offered twice: by shop-good 1.0" in text
    assert "and by shop-rival 1.0" in text
    assert f"distribution shop-good is installed twice, 1.0 at {venv.site_packages}" in text
    assert f"and 0.9 at {other_site}" in text


@pytest.mark.e2e
def test_nothing_planted_in_the_working_directory_is_discovered_or_imported(
    make_venv: Callable[..., Venv], tmp_path: Path
) -> None:
    venv = make_venv()
    planted = tmp_path / "downloads"
    marker = tmp_path / "planted-code-ran"
    write_dist_info(
        planted,
        "evil",
        entry_points={"shop.plugins": {"evil": "evil_mod"}},
        modules={"evil_mod.py": f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n"},
    )
    venv.add_dist_info(
        "shop-runner",
        modules={
            "shop_runner.py": DISCOVER_AS_JSON + "\nfrom hookwire._loading.loader import Loader\n"
            "Loader('shop.plugins').load()\n"
        },
    )
    # python -c puts '' first on sys.path; python -m puts the working directory itself.
    assert run_discovery(venv, cwd=planted)["entry_points"] == []
    by_module = venv.run(str(venv.python), "-m", "shop_runner", cwd=planted)
    assert by_module.returncode == 0, by_module.stderr
    assert json.loads(by_module.stdout.splitlines()[0])["entry_points"] == []
    assert not marker.exists()

    # A planted file named like an installed plugin's module is not imported in its place.
    venv.add_dist_info(
        "shop-good",
        entry_points={"shop.plugins": {"good": "shop_good"}},
        modules={"shop_good.py": ""},
    )
    (planted / "shop_good.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n", encoding="utf-8"
    )
    loaded = venv.python_code(
        "from hookwire._loading.loader import Loader\n"
        "print(Loader('shop.plugins').load()['good'].error)\n",
        cwd=planted,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "module shop_good would be imported from the working directory" in loaded.stdout
    assert not marker.exists()

    # Putting it on the path deliberately is the user's choice.
    chosen = run_discovery(venv, cwd=planted, env={"PYTHONPATH": str(planted)})
    assert [item["name"] for item in chosen["entry_points"]] == ["evil", "good"]  # type: ignore[index]
