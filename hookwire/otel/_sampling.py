"""Which sends provably make no span: what the tracer's sampler decides for every trace.

A send whose span the sampler drops still costs the SDK a non-recording span made current
and ended (a few microseconds, more than the send itself). When the sampler is known to drop
that span *and* every span that could be started under it, the send can make none at all:
nothing would be exported either way, and whatever runs inside its receivers is dropped by
the same sampler. Only OpenTelemetry's own samplers are read, and only where their decision
is fixed (``ALWAYS_OFF``, a ratio of 0, ``ParentBased`` of those); any other sampler, or
one of theirs subclassed with a ``should_sample`` of its own, is asked for every span by the
SDK as usual.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import ProxyTracer, Tracer

__all__ = ["Shortcuts", "shortcuts"]

# Nested ParentBased samplers deeper than this are not read (no real configuration has more
# than two levels; the bound keeps a sampler that refers to itself from looping).
_DEPTH = 8


class Shortcuts:
    """Where a send may make no span, by what is current when it starts.

    :ivar root: no valid span is current, and the sampler drops a root span and the children
        of an unsampled local parent.
    :ivar local: an unsampled local span is current, and the sampler drops its children.
    :ivar remote: an unsampled remote span is current (a context extracted from a message or
        a request), and the sampler drops the children of both an unsampled remote and an
        unsampled local parent.
    :ivar any: whether any of them holds.
    """

    __slots__ = ("any", "local", "remote", "root")

    def __init__(self, root: bool, local: bool, remote: bool) -> None:
        self.root = root
        self.local = local
        self.remote = remote
        #: Whether any send may make no span (read at every send: a plain attribute).
        self.any = root or local or remote

    def __repr__(self) -> str:
        return f"Shortcuts(root={self.root}, local={self.local}, remote={self.remote})"


NONE = Shortcuts(False, False, False)


def _drops(sampler: Any, parent: str, depth: int = 0) -> bool:
    """Whether ``sampler`` drops every span whose parent is ``parent``: ``"root"`` (no valid
    parent), ``"local"`` or ``"remote"`` (an unsampled parent of that origin)."""
    from opentelemetry.sdk.trace.sampling import (
        Decision,
        ParentBased,
        StaticSampler,
        TraceIdRatioBased,
    )

    if depth > _DEPTH:
        return False
    should_sample = type(sampler).should_sample
    if should_sample is StaticSampler.should_sample:
        # One decision for every span: asked once.
        return bool(sampler.should_sample(None, 0, "hookwire").decision is Decision.DROP)
    if should_sample is TraceIdRatioBased.should_sample:
        # Samples the trace ids below the bound: none for a ratio of 0.
        return bool(sampler.bound <= 0)
    if should_sample is ParentBased.should_sample:
        # The delegates are only readable as the SDK's own attributes: if they moved, the
        # send simply asks the SDK as usual.
        name = {
            "root": "_root",
            "local": "_local_parent_not_sampled",
            "remote": "_remote_parent_not_sampled",
        }[parent]
        delegate = getattr(sampler, name, None)
        # The delegate sees the same parent: a root stays a root, an unsampled parent stays
        # one.
        return delegate is not None and _drops(delegate, parent, depth + 1)
    return False


def shortcuts(tracer: Tracer) -> Shortcuts | None:
    """The :class:`Shortcuts` of ``tracer``, or ``None`` while it is OpenTelemetry's proxy
    for a global tracer provider not set yet (ask again later)."""
    if isinstance(tracer, ProxyTracer):
        return None
    sampler = getattr(tracer, "sampler", None)
    if sampler is None:
        return NONE  # not the SDK's tracer: its sampling is its own business
    try:
        from opentelemetry.sdk.trace import Tracer as SdkTracer
    except ImportError:  # pragma: no cover - a tracer with a sampler comes from the SDK
        return NONE
    if not isinstance(tracer, SdkTracer):
        return NONE
    local = _drops(sampler, "local")
    return Shortcuts(
        root=local and _drops(sampler, "root"),
        local=local,
        remote=local and _drops(sampler, "remote"),
    )
