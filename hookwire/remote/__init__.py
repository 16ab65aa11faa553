"""Remote receivers: a plugin's receiver that runs on Celery workers (extra ``hookwire[celery]``).

::

    from hookwire.remote import remote_receiver

    @remote_receiver(pizza_done, sender="pizzeria.store:PizzaStore", queue="sms")
    def text_customer(sender, order_id, phone, **kwargs):  # runs on a worker
        ...

In the sending process the receiver publishes one message per send and returns a
:class:`Dispatched` at once; ``hookwire worker`` loads the host's plugins and runs the receivers
those plugins connected. See the how-to "Run receivers on workers" in the documentation.
"""

from __future__ import annotations

try:
    import celery as _celery  # noqa: F401 - only to tell whether the extra is installed
except ImportError as exc:  # pragma: no cover - exercised in a venv without the extra
    raise ImportError(
        "hookwire.remote needs Celery, which is not installed: pip install 'hookwire[celery]'"
    ) from exc

from ._delivery import Delivery, current_delivery
from ._receiver import Dispatched, RemoteReceiver, remote_receiver

__all__ = ["Delivery", "Dispatched", "RemoteReceiver", "current_delivery", "remote_receiver"]


def _listen_for_hosts() -> None:
    # Connected in an empty context: importing this module from a plugin's signals module
    # must not make hookwire's own receiver part of that plugin (nor undo it if it fails).
    from contextvars import Context

    from .. import signals as lifecycle
    from ._broker import remember_host

    Context().run(
        lifecycle.plugins_ready.connect,
        remember_host,
        weak=False,
        dispatch_uid="hookwire.remote:remember_host",
    )
    # A lazy plugin imports this module when its first signal is sent, after plugins_ready:
    # its host is learnt from the plugin_loaded its activation sends.
    Context().run(
        lifecycle.plugin_loaded.connect,
        remember_host,
        weak=False,
        dispatch_uid="hookwire.remote:remember_host",
    )


_listen_for_hosts()
