"""Temporary virtual environments filled with hand-made installed distributions.

A bench venv is ``python -m venv --without-pip``. Its site-packages holds the synthetic
distributions being measured (``*.dist-info`` with METADATA, RECORD, INSTALLER, WHEEL and, for
most, ``entry_points.txt``, next to a tiny importable module), the way pip leaves them. The
tools being compared (hookwire and its runtime dependencies, pluggy, stevedore) are not copied:
a ``.pth`` file adds one *support* folder after site-packages, and that folder holds symbolic
links to exactly those packages and their ``*.dist-info`` from the running environment. So every
tool sees the same distributions: the synthetic ones plus the few support ones, and nothing else
from the developer's environment.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# Real METADATA files carry a long description; discovery that reads them pays for it.
_DESCRIPTION = (
    "A distribution generated for hookwire's benchmarks. It stands for the many packages a real\n"
    "environment holds: most declare entry points in groups nobody here asks about, some in the\n"
    "group being measured, and some declare none at all.\n\n"
) * 12


@dataclass
class BenchVenv:
    """A venv whose site-packages we fill, with the support packages linked after it."""

    root: Path
    python: Path
    site_packages: Path
    support: Path
    support_distributions: list[str] = field(default_factory=list)

    def environment(
        self, cache_home: Path, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """Environment for a child process: no PYTHON*/VIRTUAL_ENV/HOOKWIRE_* leaking in."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTHON", "VIRTUAL_ENV", "HOOKWIRE_", "COV_", "COVERAGE_"))
        }
        env["XDG_CACHE_HOME"] = str(cache_home)
        env["PATH"] = f"{self.python.parent}{os.pathsep}{env.get('PATH', '')}"
        if extra:
            env.update(extra)
        return env


def _record_line(relative: str, content: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
    return f"{relative},sha256={digest},{len(content)}"


def write_distribution(
    site: Path,
    name: str,
    version: str,
    *,
    entry_points: Mapping[str, Mapping[str, str]] | None = None,
    modules: Mapping[str, str] | None = None,
) -> Path:
    """Lay out one installed distribution in ``site`` as pip would; return its dist-info."""
    normalized = canonicalize_name(name).replace("-", "_")
    dist_info_name = f"{normalized}-{version}.dist-info"
    files: dict[str, bytes] = {}
    files[f"{dist_info_name}/METADATA"] = (
        "Metadata-Version: 2.1\n"
        f"Name: {name}\n"
        f"Version: {version}\n"
        "Summary: A generated distribution for hookwire's benchmarks\n"
        "License: MIT\n"
        "Requires-Python: >=3.11\n"
        "Description-Content-Type: text/markdown\n\n" + _DESCRIPTION
    ).encode()
    files[f"{dist_info_name}/INSTALLER"] = b"pip\n"
    files[f"{dist_info_name}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: hookwire-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    if entry_points:
        lines: list[str] = []
        for group, entries in entry_points.items():
            lines.append(f"[{group}]")
            lines.extend(f"{key} = {value}" for key, value in entries.items())
            lines.append("")
        files[f"{dist_info_name}/entry_points.txt"] = "\n".join(lines).encode()
    for relative, source in (modules or {}).items():
        files[relative] = source.encode()
    for relative, content in files.items():
        target = site / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    record = [_record_line(relative, content) for relative, content in files.items()]
    record.append(f"{dist_info_name}/RECORD,,")
    (site / dist_info_name / "RECORD").write_text("\n".join(record) + "\n", encoding="utf-8")
    return site / dist_info_name


def populate(site: Path, count: int, group: str, *, plugin_every: int = 10) -> list[str]:
    """Install ``count`` synthetic distributions; return the entry-point names in ``group``.

    One in ``plugin_every`` declares a plugin in ``group`` (and a console script); of the rest,
    two thirds declare entry points in other groups and one third declares none, the mix of a
    real site-packages.
    """
    plugins: list[str] = []
    for index in range(count):
        name = f"benchdist{index:04d}"
        module = f"{name}.py"
        source = f'"""Module of {name}, a generated distribution."""\n\n\ndef main() -> None:\n'
        source += "    pass\n"
        entry_points: dict[str, dict[str, str]] = {}
        if index % plugin_every == 0:
            entry_points[group] = {name: name}
            entry_points["console_scripts"] = {f"{name}-cli": f"{name}:main"}
            plugins.append(name)
        elif index % 3 != 0:
            entry_points["console_scripts"] = {f"{name}-cli": f"{name}:main"}
            entry_points[f"benchmark.other{index % 7}"] = {name: f"{name}:main"}
        write_distribution(
            site, name, f"1.{index}.0", entry_points=entry_points, modules={module: source}
        )
    return sorted(plugins)


def _requirement_closure(roots: Iterable[str]) -> list[metadata.Distribution]:
    """The installed distributions ``roots`` need at run time (markers evaluated, no extras)."""
    seen: dict[str, metadata.Distribution] = {}
    pending = list(roots)
    while pending:
        name = canonicalize_name(pending.pop())
        if name in seen:
            continue
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[name] = distribution
        for line in distribution.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return [seen[key] for key in sorted(seen)]


def _top_level_items(distribution: metadata.Distribution) -> list[Path]:
    """The top-level files and folders a distribution installed, and its dist-info."""
    items: set[Path] = set()
    for file in distribution.files or []:
        first = file.parts[0]
        if first == ".." or first.endswith(".pth") or first == "__pycache__":
            continue
        located = Path(str(distribution.locate_file(first)))
        if located.exists():
            items.add(located)
    return sorted(items)


def link_support(support: Path, roots: Sequence[str]) -> list[str]:
    """Link the runtime closure of ``roots`` into ``support``; return the distribution names."""
    support.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    for distribution in _requirement_closure(roots):
        names.append(distribution.metadata["Name"])
        for item in _top_level_items(distribution):
            link = support / item.name
            if not link.exists():
                link.symlink_to(item, target_is_directory=item.is_dir())
    # An editable hookwire lists no package files: link the package the interpreter imports.
    spec = importlib.util.find_spec("hookwire")
    if spec is not None and spec.submodule_search_locations:
        package = Path(next(iter(spec.submodule_search_locations)))
        link = support / "hookwire"
        if not link.exists():
            link.symlink_to(package, target_is_directory=True)
    return sorted(names, key=str.lower)


def create_bench_venv(root: Path, support_roots: Sequence[str]) -> BenchVenv:
    """A fresh venv under ``root`` that sees ``support_roots`` (and their dependencies)."""
    venv_dir = root / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv_dir)],
        check=True,
        capture_output=True,
    )
    python = venv_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    completed = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    )
    site_packages = Path(completed.stdout.strip())
    support = root / "support"
    support_distributions = link_support(support, support_roots)
    (site_packages / "_bench_support.pth").write_text(f"{support}\n", encoding="utf-8")
    return BenchVenv(root, python, site_packages, support, support_distributions)
