"""The dispatcher: ``Signal``, ``receiver`` and what they are made of.

Where things live:

``signal.py``        :class:`Signal` and :func:`receiver`: the public methods, ``send`` and
                     ``send_robust``.
``table.py``         :class:`ReceiverTable`, where a signal's state is kept and changed:
                     registrations, lock, per-sender plans and their version. Read this first.
``receivers.py``     receiver validation, the lookup key (computed there only), weak
                     references, registrations (``new_registration`` and their accessors),
                     safe names for any callable.
``asynchronous.py``  ``asend``/``asend_robust`` and the sync/async adaptation (asgiref).
``failures.py``      the note ``send`` adds, Django's log line for ``send_robust``.
``recursion.py``     runaway recursion through signals (on the stack, and nested across tasks).
``contracts.py``     declared arguments (``Signal(args=...)``): the send and connect checks.
``spec.py``          ``signal_spec``/``TypedSignal``: a contract from a typed signature.
``lazy.py``          ``"module:QualName"`` senders resolved when their module is imported.
``introspection.py`` :class:`ReceiverInfo`, what ``hookwire signals`` shows.
``observers.py``     the public observer API (``SendObserver``, ``add_observer``): what
                     ``muted()``, tracing, the test recorder and ``hookwire.otel`` attach.
``wrappers.py``      how observers reach the sends: ordering, notifications, method switch.
``observed.py``      the send methods while an observer is attached.
``tracing.py``       ``hookwire run --trace``: timed sends, an observer.
``attribution.py``   which plugin is connecting now (``plugin_scope``), module fallback.
"""

from __future__ import annotations

from .signal import Signal, all_signals, receiver

__all__ = ["Signal", "all_signals", "receiver"]
