"""The Django app of hookwire: ``INSTALLED_APPS = [..., "hookwire.django"]``."""

from __future__ import annotations

from django.apps import AppConfig


class HookwireConfig(AppConfig):
    """Loads the plugins of ``settings.HOOKWIRE_HOST`` when Django is ready.

    ``ready()`` loads them once per process (calling it again does nothing; the autoreloader's
    watcher process of ``runserver`` loads none) and sends ``host_started``; ``host_stopping``
    is sent when the process exits. Receivers plugins connect to Django's own signals while
    they load are theirs: counted, listed by ``hookwire signals``, removed if they fail.
    """

    name = "hookwire.django"
    label = "hookwire"
    verbose_name = "hookwire"

    def ready(self) -> None:
        """Start the configured host (see :func:`hookwire.django.start`)."""
        from ._embed import start

        start()
