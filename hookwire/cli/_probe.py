"""What a fresh interpreter sees of a host: ``python -m hookwire.cli._probe REQUEST``.

``plugins install`` and ``plugins uninstall`` change the environment under the running
process: an editable install adds a ``.pth`` file that only a new interpreter reads, and a
plugin module imported before the change would stay imported. So each "before" and "after"
view of the host's plugins is taken by this module in a new process, which prints one JSON
document on stdout:

``{"host", "group", "distribution", "plugins": [plugins list --json with disabled ones, each
with its "traceback"],
"distributions": {requested name: {"name", "version", "groups", "plugins"} or null},
"celery_app": whether the host was given a Celery application}``

``REQUEST`` is a JSON object: ``host`` (the reference or ``null``), ``load`` (``false`` lists
the plugins without importing any plugin code) and ``distributions`` (names to look up).
Whatever the host or its plugins write to stdout goes to stderr, at the file-descriptor level
and for the whole life of the process (subprocesses and exit handlers included): the JSON is
written to a descriptor of the original stdout that nothing else holds. A host that cannot be
found or imported is one line on stderr and exit status 2 (not found) or 1 (import failed).
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import redirect_stdout
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._host import Host

__all__ = ["distribution_of_module", "probe"]


def distribution_of_module(module_name: str) -> str | None:
    """The installed distribution that provides the top-level package of ``module_name``."""
    import importlib_metadata

    top = module_name.partition(".")[0]
    names = importlib_metadata.packages_distributions().get(top) or []
    return names[0] if names else None


def _describe_distribution(name: str, group: str) -> dict[str, Any] | None:
    import importlib_metadata

    try:
        dist = importlib_metadata.distribution(name)
    except importlib_metadata.PackageNotFoundError:
        return None
    entry_points = list(dist.entry_points)
    return {
        "name": dist.metadata["Name"],
        "version": dist.version,
        "groups": sorted({entry_point.group for entry_point in entry_points}),
        "plugins": sorted(ep.name for ep in entry_points if ep.group == group),
    }


def probe(host_reference: str | None, *, load: bool, distributions: list[str]) -> dict[str, Any]:
    """The JSON document described in the module docstring.

    :raises HostNotFoundError: no host under ``host_reference``.
    :raises HostImportError: the host's module failed to import.
    """
    from ._resolve import find_host_reference, import_host

    reference = find_host_reference(host_reference)
    with redirect_stdout(sys.stderr):
        host: Host = import_host(reference)
        # A loading probe activates lazy plugins too: it reports whether they load.
        registry = host.load(autoload=None if load else False, lazy=False if load else None)
        found = {
            name: _describe_distribution(name, host.entry_point_group) for name in distributions
        }
    return {
        "host": host.name,
        "group": host.entry_point_group,
        "distribution": distribution_of_module(reference.text.partition(":")[0]),
        # The traceback too: the command shows a failed plugin's under --traceback.
        "plugins": [{**record.to_json(), "traceback": record.traceback} for record in registry],
        "distributions": found,
        "celery_app": getattr(host, "celery", None) is not None,
    }


def _main(argv: list[str]) -> int:
    from .._text import escape
    from ..exceptions import HookwireError, HostNotFoundError
    from ._output import PROG
    from ._streams import data_descriptor

    request = json.loads(argv[0])
    data = data_descriptor()
    try:
        document = probe(
            request.get("host"),
            load=bool(request.get("load")),
            distributions=list(request.get("distributions") or []),
        )
    except HookwireError as exc:
        sys.stderr.write(f"{PROG}: error: {escape(exc)}\n")
        return 2 if isinstance(exc, HostNotFoundError) else 1
    text = json.dumps(document) + "\n"
    if data is None:  # pragma: no cover - started without descriptors 1 and 2
        sys.stdout.write(text)
    else:
        with os.fdopen(data, "w", encoding="utf-8") as out:
            out.write(text)
    return 0


if __name__ == "__main__":
    # As for the ``hookwire`` console script, nothing in the working directory is importable.
    if sys.path and not sys.flags.safe_path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    sys.exit(_main(sys.argv[1:]))
