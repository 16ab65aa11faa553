"""The dispatcher: ``Signal``, ``receiver`` and what they are made of.

Where things live:

``signal.py``        :class:`Signal` and :func:`receiver`: the public methods, ``send`` and
                     ``send_robust``.
``table.py``         :class:`ReceiverTable`, the one owner of a signal's state: registrations,
                     lock, per-sender plans and their version. Read this first.
``receivers.py``     receiver validation, the lookup key (computed there only), weak
                     references, :class:`Registration` records, safe names for any callable.
``asynchronous.py``  ``asend``/``asend_robust`` and the sync/async adaptation (asgiref).
``failures.py``      the note ``send`` adds, Django's log line for ``send_robust``.
``recursion.py``     runaway recursion through signals (on the stack, and nested across tasks).
``contracts.py``     declared arguments (``Signal(args=...)``): the send and connect checks.
``spec.py``          ``signal_spec``/``TypedSignal``: a contract from a typed signature.
``lazy.py``          ``"module:QualName"`` senders resolved when their module is imported.
``introspection.py`` :class:`ReceiverInfo`, what ``hookwire signals`` shows.
``wrappers.py``      the one hook that ``muted()``, tracing and the test recorder attach to.
``observed.py``      the send methods while a wrapper is attached.
``tracing.py``       ``hookwire run --trace``: timed sends, a wrapper.
``attribution.py``   which plugin is connecting now (``plugin_scope``), module fallback.
"""

from __future__ import annotations

from .signal import Signal, all_signals, receiver

__all__ = ["Signal", "all_signals", "receiver"]
