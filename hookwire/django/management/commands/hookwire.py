"""``python manage.py hookwire ...``: the ``hookwire`` commands against the project's host."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    """Every argument goes to the ``hookwire`` command line; the host is
    ``settings.HOOKWIRE_HOST``, already loaded by the app."""

    help = (
        "Run a hookwire command against settings.HOOKWIRE_HOST: 'plugins list', "
        "'plugins check', 'plugins info NAME', 'signals' (--json for machines). "
        "'manage.py hookwire --help' lists them all."
    )

    def run_from_argv(self, argv: list[str]) -> None:
        """Hand the arguments over untouched (Django's parser would claim ``--help`` and
        options it does not know); exit with the command's status."""
        status = _run(argv[2:])
        if status:
            sys.exit(status)

    def add_arguments(self, parser: Any) -> None:
        """One catch-all argument, for ``call_command("hookwire", "plugins", "list")``."""
        parser.add_argument("arguments", nargs=argparse.REMAINDER)

    def handle(self, *args: Any, **options: Any) -> None:
        """What ``call_command`` runs: a non-zero status is a ``CommandError``."""
        arguments = [*args, *options.get("arguments", ())]
        status = _run(arguments)
        if status:
            command = " ".join(arguments)
            raise CommandError(f"hookwire {command} exited with {status}", returncode=status)


def _run(arguments: list[str]) -> int:
    from hookwire.cli import run_embedded

    from ..._embed import running_host

    return run_embedded(running_host(), arguments)
