"""A plugin owns exactly what it connected: attribution and rollback with installed packages.

Ownership is recorded on each registration when the receiver is connected (the plugin's
scope, which belongs to the loader's record of that plugin), and the fallback for modules the
host imported itself claims only the plugin's own modules. So a failing plugin takes back its
own receivers and nothing else: not its host's, and not those of another host's plugin that
happens to have the same name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from venvtools import Venv

pytestmark = pytest.mark.e2e

VAT = {
    "vat/__init__.py": "",
    "vat/signals.py": """
        from hookwire import Signal

        book_sold = Signal(name="book_sold")
    """,
    "vat/store.py": """
        from hookwire import receiver
        from vat.signals import book_sold


        @receiver(book_sold)
        def host_books(sender, **kwargs):
            return "booked"
    """,
    "vat/courier.py": """
        from hookwire import Plugin
        from vat.signals import book_sold


        def deliver(sender, **kwargs):
            return "delivered"


        class Courier(Plugin):
            def ready(self):
                book_sold.connect(deliver)
                raise RuntimeError("courier cannot start")
    """,
    "vat/app.py": """
        from hookwire import Host
        from vat import signals, store


        def main():
            print(sorted(response for _, response in signals.book_sold.send(sender=None)))


        host = Host("vat", signals=[signals], main=main)
    """,
}


def _host_package(name: str) -> dict[str, str]:
    return {
        f"{name}/__init__.py": "",
        f"{name}/signals.py": 'from hookwire import Signal\n\nping = Signal(name="ping")\n',
        f"{name}/app.py": (
            f"from hookwire import Host\nfrom {name} import signals\n\n"
            f'host = Host("{name}", signals=[signals])\n'
        ),
    }


AUDIT_A = """
    from hookwire import receiver
    from hosta.signals import ping


    @receiver(ping)
    def audit_a(sender, **kwargs):
        return "a"
"""

AUDIT_B = """
    from hookwire import Plugin, receiver
    from hostb.signals import ping


    @receiver(ping)
    def audit_b(sender, **kwargs):
        return "b"


    class Audit(Plugin):
        def ready(self):
            raise RuntimeError("audit b cannot start")
"""


def _dedented(modules: dict[str, str]) -> dict[str, str]:
    import textwrap

    return {path: textwrap.dedent(source).lstrip() for path, source in modules.items()}


@pytest.fixture
def vat_venv(make_venv: Callable[[], Venv]) -> Venv:
    venv = make_venv()
    venv.add_dist_info(
        "vat",
        entry_points={"vat.plugins": {"courier": "vat.courier:Courier"}},
        modules=_dedented(VAT),
    )
    return venv


def _receivers_of(payload: list[dict[str, Any]], signal: str) -> list[tuple[str, str | None]]:
    [entry] = [item for item in payload if item["signal"] == signal]
    return [(row["receiver"], row["plugin"]) for row in entry["receivers"]]


def test_a_plugin_inside_its_hosts_package_owns_only_its_own_module(vat_venv: Venv) -> None:
    """``courier = "vat.courier:Courier"`` claims ``vat.courier``, never the host's ``vat``:
    the host's own receiver belongs to no plugin and survives the courier's rollback."""
    result = vat_venv.run("hookwire", "signals", "vat.app:host", "--json")
    assert result.returncode == 0, result.stderr
    assert _receivers_of(json.loads(result.stdout), "vat.signals.book_sold") == [
        ("vat.store.host_books", None)
    ]

    run = vat_venv.run("hookwire", "run", "vat.app:host")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["['booked']"]
    [warning] = run.stderr.splitlines()
    assert warning.startswith("hookwire: warning: plugin courier (vat 1.0)")
    assert "ready() raised RuntimeError: courier cannot start" in warning


def test_two_hosts_with_a_plugin_of_the_same_name_do_not_interfere(
    make_venv: Callable[[], Venv],
) -> None:
    """Host B's ``audit`` fails; host A's ``audit`` keeps its receiver and stays ready."""
    venv = make_venv()
    venv.add_dist_info("hosta", modules=_host_package("hosta"))
    venv.add_dist_info("hostb", modules=_host_package("hostb"))
    venv.add_dist_info(
        "hosta-audit",
        entry_points={"hosta.plugins": {"audit": "hosta_audit"}},
        modules=_dedented({"hosta_audit/__init__.py": AUDIT_A}),
    )
    venv.add_dist_info(
        "hostb-audit",
        entry_points={"hostb.plugins": {"audit": "hostb_audit:Audit"}},
        modules=_dedented({"hostb_audit/__init__.py": AUDIT_B}),
    )
    result = venv.python_code(
        """
        import json
        import logging

        logging.disable(logging.CRITICAL)
        from hosta import signals as a_signals
        from hosta.app import host as host_a
        from hostb import signals as b_signals
        from hostb.app import host as host_b

        a = host_a.load()
        b = host_b.load()
        print(json.dumps({
            "a": a["audit"].state.value,
            "b": b["audit"].state.value,
            "a_ping": [response for _, response in a_signals.ping.send(sender=None)],
            "b_ping": [response for _, response in b_signals.ping.send(sender=None)],
            "a_receivers": [info.name for info in a["audit"].receivers()],
        }))
        """
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "a": "ready",
        "b": "failed",
        "a_ping": ["a"],
        "b_ping": [],
        "a_receivers": ["hosta_audit.audit_a"],
    }
