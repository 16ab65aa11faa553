"""hookwire for Django projects.

Add the app and name the project's host in the settings::

    INSTALLED_APPS = [..., "hookwire.django"]
    HOOKWIRE_HOST = "shop.plugins:host"     # "module:attribute", or the Host object itself

When Django is ready the app loads the host's plugins, once per process (not in the
autoreloader's watcher process of ``runserver``), and sends ``host_started``; ``host_stopping``
is sent at exit. A receiver a plugin connects to Django's own signals while it loads
(``request_finished``, ``post_save``, with Django's ``@receiver`` or hookwire's) belongs to
the plugin: ``plugins list`` counts it, ``hookwire signals`` lists it, and it is disconnected
if the plugin fails or the host unloads. ``python manage.py hookwire plugins list`` (or
``signals``, ``plugins check``, ...) runs the ``hookwire`` commands against that host.

:mod:`hookwire.django.dispatcher` goes further and makes hookwire Django's dispatcher.

Importing this package imports nothing of Django.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._host import Host

__all__ = ["get_host"]


def get_host() -> Host:
    """The project's :class:`~hookwire.Host`: the one the app started (``settings.HOOKWIRE_HOST``).

    :raises django.core.exceptions.ImproperlyConfigured: ``HOOKWIRE_HOST`` is missing or names
        no ``Host``.
    """
    from ._embed import running_host

    return running_host()
