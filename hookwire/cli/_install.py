"""``hookwire plugins install`` and ``hookwire plugins uninstall``.

Both change the environment hookwire runs in — the interpreter of ``sys.executable`` — with its
own pip, or with ``uv pip --python sys.executable`` where that environment has no pip (a
``uv venv``). The installer's progress is shown as it runs. The host's plugins are compared
before and after in fresh interpreters (:mod:`._probe`), because what an install adds (an
editable project's ``.pth`` file, a new version of an imported module) is only seen by a new
process; the "after" one loads the plugins, so a new plugin's state is reported as ``run``
would find it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .._loading.names import normalize_name
from .._text import escape
from ._output import PROG, render_table, write_lines
from ._params import HostOption
from ._policy import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, output_guard, show_failed_plugin

__all__ = ["Installer", "installer", "plugins_install", "plugins_uninstall"]


class _Failed(Exception):
    """A one-line failure of these commands; the exit status travels with it."""

    def __init__(self, message: str, status: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.status = status


def _error(message: str) -> None:
    sys.stderr.write(f"{PROG}: error: {escape(message)}\n")


def _note(message: str) -> None:
    sys.stderr.write(f"{PROG}: {escape(message)}\n")


# -- the installer -------------------------------------------------------------------------


@dataclass(frozen=True)
class Installer:
    """A pip for the interpreter hookwire runs in: its own, or uv's aimed at it."""

    name: str  # "pip" or "uv pip", as shown in messages
    argv: tuple[str, ...]

    def command(self, action: str, arguments: Sequence[str]) -> list[str]:
        """The argv of ``pip ACTION ARGUMENTS...`` for this interpreter."""
        if self.name == "uv pip":
            # Without --python, uv pip changes the activated virtual environment, or refuses.
            return [*self.argv, action, "--python", sys.executable, *arguments]
        return [*self.argv, action, *arguments]


def installer() -> Installer | None:
    """``python -m pip`` when pip is importable here, else ``uv pip`` (uv from ``PATH`` or from
    the ``uv`` package) aimed at ``sys.executable``; ``None`` when there is neither."""
    import importlib.util

    if importlib.util.find_spec("pip") is not None:
        return Installer("pip", (sys.executable, "-m", "pip"))
    uv = shutil.which("uv")
    if uv is None:
        try:
            from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]

            uv = str(find_uv_bin())
        except Exception:  # not installed, or installed without its binary
            uv = None
    return None if uv is None else Installer("uv pip", (uv, "pip"))


def _run_installer(action: str, arguments: Sequence[str]) -> None:
    found = installer()
    if found is None:
        raise _Failed(
            f"cannot {action}: the environment of {sys.executable} has neither pip nor uv; "
            f"install one of them ('{sys.executable} -m ensurepip', or uv from "
            "https://docs.astral.sh/uv/) and try again"
        )
    sys.stdout.flush()
    # Inherited streams: the installer's own progress is shown as it happens.
    status = run_in_own_group(found.command(action, arguments))
    if status != 0:
        raise _Failed(f"{found.name} {action} failed (exit status {status})")


#: How long the installer and what it started (a build backend) get to stop after SIGTERM or
#: Ctrl-C before they are killed.
STOP_GRACE_SECONDS = 5.0


def run_in_own_group(argv: Sequence[str]) -> int:
    """Run ``argv`` in a process group of its own and return its exit status.

    When this process is stopped meanwhile (SIGTERM, Ctrl-C), the whole group — the installer
    and whatever it started, such as a build backend — gets the same signal, then SIGKILL if it
    is still there after :data:`STOP_GRACE_SECONDS`; then the interruption goes on. In its own
    group the installer no longer receives a terminal's Ctrl-C itself: it is passed on here.
    """
    import os

    own_group = os.name == "posix"
    process = subprocess.Popen(list(argv), process_group=0 if own_group else None)
    try:
        return process.wait()
    except BaseException as exc:
        if own_group:
            import signal

            interrupt = isinstance(exc, KeyboardInterrupt)
            stop_group(process, signal.SIGINT if interrupt else signal.SIGTERM)
        else:  # pragma: no cover - no process groups to stop
            process.kill()
            process.wait()
        raise


def stop_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Send ``signum`` to the process group led by ``process``, wait for the group to be gone
    (at most :data:`STOP_GRACE_SECONDS`), then kill what is left of it."""
    import os
    import signal
    import time

    group = process.pid
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    try:
        os.killpg(group, signum)
        while time.monotonic() < deadline:
            process.poll()  # reaped, the leader no longer counts as a member
            os.killpg(group, 0)  # ProcessLookupError once every member is gone
            time.sleep(0.02)
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass
    except PermissionError:  # pragma: no cover - a member changed its user: not ours to stop
        pass
    process.wait()


def _probe(host: str | None, *, load: bool, distributions: Sequence[str] = ()) -> dict[str, Any]:
    request = json.dumps({"host": host, "load": load, "distributions": list(distributions)})
    result = subprocess.run(
        [sys.executable, "-m", "hookwire.cli._probe", request],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        message = lines[-1] if lines else f"reading the host's plugins failed ({result.returncode})"
        prefix = f"{PROG}: error: "
        raise _Failed(message.removeprefix(prefix), result.returncode)
    document: dict[str, Any] = json.loads(result.stdout)
    return document


# -- what was asked for --------------------------------------------------------------------


def _looks_like_path(target: str) -> bool:
    return (
        "/" in target
        or "\\" in target
        or target.startswith(".")
        or target.endswith((".whl", ".tar.gz", ".zip"))
    )


def requested_distribution(target: str) -> str | None:
    """The distribution name that installing ``target`` installs, when it can be told before:
    a requirement (``name[extra]>=1``), a wheel or sdist file name, a project folder's
    ``[project] name``."""
    if not _looks_like_path(target) and not Path(target).exists():
        from packaging.requirements import InvalidRequirement, Requirement

        try:
            return Requirement(target).name
        except InvalidRequirement:
            return None
    path = Path(target)
    if path.is_dir():
        pyproject = path / "pyproject.toml"
        try:
            import tomllib

            name = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"]
        except (OSError, KeyError, TypeError, ValueError):
            return None
        return str(name) if isinstance(name, str) else None
    if path.name.endswith(".whl"):
        return path.name.split("-", 1)[0]
    for suffix in (".tar.gz", ".zip"):
        if path.name.endswith(suffix):
            return path.name.removesuffix(suffix).rpartition("-")[0] or None
    return None


# -- install -------------------------------------------------------------------------------


def plugins_install(
    targets: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Argument(
            metavar="NAME_OR_PATH",
            help=(
                "Requirements ('name', 'name>=1.2') or paths to project folders, wheels, sdists; "
                "never installer options (an argument starting with '-' is refused)."
            ),
            show_default=False,
        ),
    ] = None,
    host: HostOption = None,
    upgrade: Annotated[
        bool, typer.Option("--upgrade", "-U", help="Upgrade what is already installed.")
    ] = False,
    editable: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--editable",
            "-e",
            metavar="PATH",
            help="Install this project folder in editable mode; repeat for several.",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help=(
                "Show the installer's whole output as it runs (by default only its warnings "
                "and errors are shown, then the summary)."
            ),
        ),
    ] = False,
) -> int:
    """Install plugins into the environment hookwire runs in, then report what the host gained.

    Runs this interpreter's pip (or 'uv pip' where the environment has no pip), quietly unless
    --verbose is given, then lists the plugins the installation added or upgraded and loads them
    in a fresh process to show their state. Exit status 1 when an installed distribution offers
    the host no plugin (it stays installed; the message says how to remove it) or when a new
    plugin fails to load.
    """
    names = list(targets or [])
    editables = list(editable or [])
    if not names and not editables:
        raise typer.BadParameter("name what to install (NAME_OR_PATH... or --editable PATH)")
    for target in [*names, *editables]:
        if target.startswith("-"):
            _error(_not_an_option(target))
            return EXIT_USAGE
    try:
        with output_guard():
            return _install(names, editables, host, upgrade, verbose=verbose)
    except _Failed as failure:
        _error(str(failure))
        return failure.status


def _not_an_option(target: str) -> str:
    """Why ``target`` is refused: what is installed is named, never given as pip options."""
    return (
        f"{target!r} is not a requirement or a path: what to install is never passed to the "
        f"installer as an option; a file or folder of that name is './{target}'"
    )


def _install(
    names: list[str], editables: list[str], host: str | None, upgrade: bool, *, verbose: bool
) -> int:
    requested = [requested_distribution(target) for target in [*names, *editables]]
    wanted = [name for name in requested if name is not None]
    before = _probe(host, load=False)
    # Quiet unless asked: pip's 30 lines of "Requirement already satisfied" would bury the
    # summary; its warnings and errors are still shown.
    arguments = [] if verbose else ["--quiet"]
    if upgrade:
        arguments.append("--upgrade")
    for path in editables:
        arguments += ["--editable", path]
    # After "--" the installer reads every argument as a requirement or a path, never an option.
    arguments += ["--", *names]
    _run_installer("install", arguments)
    after = _probe(host, load=True, distributions=wanted)
    return _report_install(before, after, wanted)


def _report_install(before: dict[str, Any], after: dict[str, Any], wanted: list[str]) -> int:
    host, group = after["host"], after["group"]
    old = {normalize_name(entry["name"]): entry for entry in before["plugins"]}
    changed = []
    for entry in after["plugins"]:
        previous = old.get(normalize_name(entry["name"]))
        if previous is None:
            changed.append(("added", entry))
        elif (previous["distribution"], previous["version"]) != (
            entry["distribution"],
            entry["version"],
        ):
            changed.append((_change(previous["version"], entry["version"]), entry))
    status = EXIT_OK
    if changed:
        print(f"Plugins of host {escape(host)} ({escape(group)}) changed by this installation:")
        rows = [
            (
                entry["name"],
                what,
                entry["state"],
                entry["distribution"],
                entry["version"],
                entry["receivers"],
            )
            for what, entry in changed
        ]
        headers = ("PLUGIN", "CHANGE", "STATE", "DISTRIBUTION", "VERSION", "RECEIVERS")
        write_lines("  " + line for line in render_table(headers, rows))
        for _, entry in changed:
            if entry["state"] == "failed":
                status = EXIT_FAILURE
                show_failed_plugin(
                    f"plugin {entry['name']} fails to load: {entry['error']}",
                    entry.get("traceback"),
                    level="error",
                )
    else:
        print(f"No plugin of host {escape(host)} ({escape(group)}) was added or upgraded.")
    for name in wanted:
        found = after["distributions"].get(name)
        if found is None:
            _note(f"warning: distribution {name} is not found after installing; not checked")
            continue
        if found["plugins"]:
            continue
        status = EXIT_FAILURE
        offers = (
            f"it offers entry points in: {', '.join(found['groups'])}"
            if found["groups"]
            else "it declares no entry points at all"
        )
        _error(
            f"distribution {found['name']} {found['version']} offers host {host} no plugin: "
            f"nothing in entry-point group {group!r}; {offers}. It stays installed; "
            f"remove it with '{PROG} plugins uninstall {found['name']}'"
        )
    return status


def _change(old: str | None, new: str | None) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        newer = Version(new or "") > Version(old or "")
        older = Version(new or "") < Version(old or "")
    except InvalidVersion:
        newer = older = False
    word = "upgraded" if newer else "downgraded" if older else "replaced"
    return f"{word} from {old}"


# -- uninstall -----------------------------------------------------------------------------


def plugins_uninstall(
    names: Annotated[
        list[str],
        typer.Argument(
            metavar="NAME",
            help="Plugin names (mapped to the distribution offering them) or distribution names.",
            show_default=False,
        ),
    ],
    host: HostOption = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="Remove without asking (required when not run from a terminal)."
        ),
    ] = False,
) -> int:
    """Remove plugins from the environment hookwire runs in.

    Each NAME is a plugin of the host (its distribution is removed) or a distribution name.
    Asks before removing unless --yes is given. Refuses to remove hookwire itself, the
    distribution of the host, and whatever hookwire, the host or its other plugins need to run
    (their requirements, read from the installed metadata, transitively). Then lists the
    plugins the host lost.
    """
    try:
        with output_guard():
            return _uninstall(names, host, yes)
    except _Failed as failure:
        _error(str(failure))
        return failure.status


def _uninstall(names: list[str], host: str | None, yes: bool) -> int:
    before = _probe(host, load=False, distributions=names)
    plugins = {normalize_name(entry["name"]): entry for entry in before["plugins"]}
    chosen: dict[str, str] = {}  # normalised distribution name -> as installed
    for name in names:
        entry = plugins.get(normalize_name(name))
        if entry is not None and entry["distribution"]:
            chosen[normalize_name(entry["distribution"])] = entry["distribution"]
            continue
        found = before["distributions"].get(name)
        if found is not None:
            chosen[normalize_name(found["name"])] = found["name"]
            continue
        raise _Failed(_unknown(name, before))
    host_distribution = before["distribution"]
    for key, dist in chosen.items():
        if key == "hookwire":
            raise _Failed(
                f"refusing to uninstall {dist}: it is hookwire itself (use pip to remove it)"
            )
        if host_distribution and key == normalize_name(host_distribution):
            raise _Failed(
                f"refusing to uninstall {dist}: it is the distribution of host "
                f"{before['host']} (use pip to remove it)"
            )
    _refuse_what_is_needed(chosen, before)
    losing = {
        key: [
            entry["name"]
            for entry in before["plugins"]
            if normalize_name(entry["distribution"] or "") == key
        ]
        for key in chosen
    }
    for key, dist in chosen.items():
        offered = ", ".join(losing[key]) or f"no plugin of host {before['host']}"
        print(f"Will remove {escape(dist)} ({escape(offered)})")
    if not yes:
        if not sys.stdin.isatty():
            raise _Failed("not removing anything without --yes: no terminal to ask", EXIT_USAGE)
        if not typer.confirm("Proceed?", default=False):
            _note("nothing removed")
            return EXIT_FAILURE
    _run_installer("uninstall", ["--yes", "--", *chosen.values()])
    after = _probe(host, load=True)
    remaining = {normalize_name(entry["name"]): entry for entry in after["plugins"]}
    gone = [entry for key, entry in plugins.items() if key not in remaining]
    if gone:
        print(f"Plugins removed from host {escape(before['host'])}:")
        write_lines(
            f"  {escape(entry['name'])} ({escape(entry['distribution'])} "
            f"{escape(entry['version'])})"
            for entry in gone
        )
    else:
        print(f"No plugin of host {escape(before['host'])} was removed.")
    for entry in after["plugins"]:
        if entry["state"] == "failed":
            show_failed_plugin(
                f"plugin {entry['name']} now fails to load: {entry['error']}",
                entry.get("traceback"),
            )
    return EXIT_OK


def requirement_chains(roots: Sequence[tuple[str, str]]) -> dict[str, tuple[str, list[str]]]:
    """What the installed distributions ``roots`` need to run, transitively, from their
    metadata: normalised distribution name → who needs it and the shortest chain of
    requirements leading to it (``["hookwire", "importlib-metadata", "zipp"]``).

    Each root is ``(requirement, who)``: a requirement such as ``hookwire[celery]`` (its
    extras count) and how the one who needs it is named. Requirements whose markers do not
    hold here are left out; a distribution that is not installed ends its chain.
    """
    from collections import deque

    import importlib_metadata
    from packaging.requirements import InvalidRequirement, Requirement

    chains: dict[str, tuple[str, list[str]]] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    pending: deque[tuple[Requirement, str, list[str]]] = deque()
    for text, who in roots:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue  # a distribution name no requirement can spell (forged metadata)
        pending.append((requirement, who, [_shown(requirement)]))
    while pending:
        requirement, who, chain = pending.popleft()
        extras = frozenset(requirement.extras)
        state = (normalize_name(requirement.name), extras)
        if state in seen:
            continue
        seen.add(state)
        try:
            dist = importlib_metadata.distribution(requirement.name)
        except importlib_metadata.PackageNotFoundError:
            continue
        for line in dist.requires or ():
            try:
                needed = Requirement(line)
            except InvalidRequirement:
                continue  # malformed metadata of someone else: not ours to judge here
            marker = needed.marker
            if marker is not None and not any(
                marker.evaluate({"extra": extra}) for extra in ("", *sorted(extras))
            ):
                continue
            longer = [*chain, _shown(needed)]
            chains.setdefault(normalize_name(needed.name), (who, longer))
            pending.append((needed, who, longer))
    return chains


def _shown(requirement: Any) -> str:
    extras = sorted(requirement.extras)
    return str(requirement.name) + (f"[{','.join(extras)}]" if extras else "")


def _refuse_what_is_needed(chosen: dict[str, str], before: dict[str, Any]) -> None:
    """Refuse to remove what hookwire, the host or the host's other plugins need to run."""
    roots = [("hookwire", "hookwire")]
    if before.get("celery_app"):
        roots.append(("hookwire[celery]", f"host {before['host']} (it has a Celery app)"))
    if before["distribution"]:
        roots.append((before["distribution"], f"host {before['host']}"))
    for entry in before["plugins"]:
        dist = entry["distribution"]
        if dist and normalize_name(dist) not in chosen:
            roots.append((dist, f"plugin {entry['name']}"))
    chains = requirement_chains(roots)
    for key, dist in chosen.items():
        if key in chains:
            who, chain = chains[key]
            raise _Failed(
                f"refusing to uninstall {dist}: {who} needs it ({' -> '.join(chain)}); "
                "remove what needs it first"
            )


def _unknown(name: str, before: dict[str, Any]) -> str:
    import difflib

    candidates = sorted({entry["name"] for entry in before["plugins"]})
    message = f"no plugin of host {before['host']} and no installed distribution is named {name!r}"
    close = difflib.get_close_matches(name, candidates, n=1)
    if close:
        return f"{message} (did you mean {close[0]!r}?)"
    return f"{message} (plugins: {', '.join(candidates) or 'none'})"
