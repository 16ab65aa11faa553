"""Every error hookwire raises, in one place.

The hierarchy::

    HookwireError
    ├── ReceiverTypeError (also TypeError)        a receiver that cannot be connected
    ├── ReceiverSignatureError (also ValueError)  a receiver that does not take **kwargs,
    │                                             or names an argument its signal lacks
    ├── SignalArgumentsError (also TypeError)     a send that breaks its signal's contract
    ├── SyncSendInEventLoopError (also RuntimeError)
    ├── RecursiveSendError (also RecursionError)
    ├── DispatcherSwapError (also RuntimeError)   Django's signals exist before the swap
    ├── ReentrantLoadError (also RuntimeError)
    ├── ConfigError                               bad [tool.hookwire] / environment settings
    ├── PluginError                               one plugin, one phase, one cause
    │   ├── DiscoveryError                        a distribution's metadata is unusable
    │   ├── DuplicatePluginError                  one name offered twice
    │   ├── UnknownPluginError                    an allow- or deny-list name nobody offers
    │   ├── PluginImportError
    │   ├── PluginReadyError
    │   ├── PluginRequirementError                requires: absent, failed or cyclic
    │   └── HostVersionError                      requires_host: not satisfied
    ├── RemoteError                               a remote receiver's message was not published
    │   ├── RemoteSerializationError              a sender or argument that cannot travel
    │   └── RemoteDispatchError                   the broker did not take the message in time
    ├── LoadError                                 strict loading: every failure, listed
    └── HostError
        ├── HostNotFoundError                     a module:attribute that does not resolve
        └── HostImportError                       the host module raised on import

    WeakReceiverWarning (a UserWarning)           a weak receiver that would die at once
    HookwireDeprecationWarning (a DeprecationWarning)
                                                  a receiver naming a deprecated argument

Subclasses carry their context as attributes (``plugin``, ``distribution``, ``phase``,
``receiver``) so callers never have to parse a message. Messages are one line and name the
culprit first.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ConfigError",
    "DiscoveryError",
    "DispatcherSwapError",
    "DuplicatePluginError",
    "HookwireDeprecationWarning",
    "HookwireError",
    "HostError",
    "HostImportError",
    "HostNotFoundError",
    "HostVersionError",
    "LoadError",
    "PluginError",
    "PluginImportError",
    "PluginReadyError",
    "PluginRequirementError",
    "ReceiverSignatureError",
    "ReceiverTypeError",
    "RecursiveSendError",
    "ReentrantLoadError",
    "RemoteDispatchError",
    "RemoteError",
    "RemoteSerializationError",
    "SignalArgumentsError",
    "SyncSendInEventLoopError",
    "UnknownPluginError",
    "WeakReceiverWarning",
]


class HookwireError(Exception):
    """Base class of every error raised by hookwire itself."""


class ReceiverTypeError(HookwireError, TypeError):
    """A receiver cannot be connected: it is not callable, or cannot be weakly referenced.

    A ``TypeError`` too, as Django raises for a non-callable receiver.
    """

    def __init__(self, message: str, *, receiver: object = None) -> None:
        super().__init__(message)
        self.receiver = receiver


class ReceiverSignatureError(HookwireError, ValueError):
    """A receiver cannot be connected because of its parameters. A ``ValueError`` too, as in
    Django.

    Raised when the receiver does not accept ``**kwargs``, or, on a signal that declares its
    arguments, when it takes a parameter (other than ``signal`` and ``sender``) that is
    neither declared nor given a default. Then ``parameter`` is that name, ``declared`` the
    signal's declared arguments, ``suggestion`` the closest of them (or ``None``), and
    ``file``/``line`` where the receiver is defined.
    """

    def __init__(
        self,
        message: str,
        *,
        receiver: object = None,
        parameter: str | None = None,
        declared: Sequence[str] = (),
        suggestion: str | None = None,
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.receiver = receiver
        self.parameter = parameter
        self.declared = tuple(declared)
        self.suggestion = suggestion
        self.file = file
        self.line = line


class SignalArgumentsError(HookwireError, TypeError):
    """A send on a signal that declares its arguments passed an undeclared one or left out a
    declared one; raised before any receiver runs. A ``TypeError`` too, as calling a function
    with the wrong arguments is.

    ``signal`` is the signal's qualified name, ``argument`` the first argument at fault,
    ``missing``/``unexpected`` all of them, ``suggestion`` the closest declared name (or
    ``None``).
    """

    def __init__(
        self,
        message: str,
        *,
        signal: str,
        argument: str,
        missing: Sequence[str] = (),
        unexpected: Sequence[str] = (),
        suggestion: str | None = None,
    ) -> None:
        super().__init__(message)
        self.signal = signal
        self.argument = argument
        self.missing = tuple(missing)
        self.unexpected = tuple(unexpected)
        self.suggestion = suggestion


class SyncSendInEventLoopError(HookwireError, RuntimeError):
    """``send()`` was called from a running event loop while async receivers are connected.

    Raised before any receiver is called; ``receivers`` names the async ones.
    """

    def __init__(self, message: str, *, receivers: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.receivers = tuple(receivers)


class RecursiveSendError(HookwireError, RecursionError):
    """A signal was sent again and again from its own receivers; ``chain`` names the path."""

    def __init__(self, message: str, *, chain: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.chain = tuple(chain)


class DispatcherSwapError(HookwireError, RuntimeError):
    """hookwire cannot become Django's dispatcher: modules already use Django's own.

    ``modules`` names the modules that hold Django's ``Signal``, a subclass of it, or a
    signal made with it.
    """

    def __init__(self, message: str, *, modules: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.modules = tuple(modules)


class WeakReceiverWarning(UserWarning):
    """A receiver connected with ``weak=True`` is referenced only by the ``connect()`` call.

    Lambdas, closures and :func:`functools.partial` objects created inline would be garbage
    collected at once and never called; keep a reference to them or pass ``weak=False``.
    """


class HookwireDeprecationWarning(DeprecationWarning):
    """A receiver names an argument its signal has deprecated.

    The message names the receiver, its plugin, the argument and what to use instead; the
    warning is attributed to the receiver's definition (its file and line), so the usual
    filters for the plugin's module apply.
    """


class ReentrantLoadError(HookwireError, RuntimeError):
    """Plugin loading was started again from inside itself (e.g. ``ready()`` calling ``load()``)."""


class ConfigError(HookwireError):
    """Settings from arguments, environment variables or ``[tool.hookwire]`` are invalid."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(message)
        self.source = source


class PluginError(HookwireError):
    """One plugin failed in one phase.

    Attributes: ``plugin`` (its name), ``distribution`` (the distribution that offers it, or
    ``None``), ``phase`` (``"discover"``, ``"import"`` or ``"ready"``) and ``cause`` (the
    underlying exception, also chained as ``__cause__``).
    """

    def __init__(
        self,
        message: str,
        *,
        plugin: str | None = None,
        distribution: str | None = None,
        phase: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.plugin = plugin
        self.distribution = distribution
        self.phase = phase
        self.cause = cause

    @property
    def message(self) -> str:
        """The one-line description, as shown by ``hookwire plugins list``."""
        return str(self.args[0]) if self.args else ""


class DiscoveryError(PluginError):
    """A distribution's metadata or entry points could not be read."""


class DuplicatePluginError(PluginError):
    """The same plugin name is offered by two distributions (or one installed twice)."""

    def __init__(self, message: str, *, plugin: str, distributions: Sequence[str] = ()) -> None:
        super().__init__(message, plugin=plugin, phase="discover")
        self.distributions = tuple(distributions)


class UnknownPluginError(PluginError):
    """A name in the allow-list or the deny-list that no installed distribution offers.

    ``listed_in`` is ``"allow-list"`` or ``"deny-list"``; ``suggestion`` is the closest
    plugin name that is offered, or ``None``.
    """

    def __init__(
        self, message: str, *, plugin: str, listed_in: str, suggestion: str | None = None
    ) -> None:
        super().__init__(message, plugin=plugin, phase="discover")
        self.listed_in = listed_in
        self.suggestion = suggestion


class PluginImportError(PluginError):
    """Importing a plugin's module or object failed, or it is the wrong kind of object."""


class PluginReadyError(PluginError):
    """A plugin's signals module or ``ready()`` raised."""


class PluginRequirementError(PluginError):
    """A plugin named in ``requires`` is absent, failed, or part of a cycle."""

    def __init__(self, message: str, *, chain: Sequence[str] = (), **context: object) -> None:
        super().__init__(message, **context)  # type: ignore[arg-type]
        self.chain = tuple(chain)


class HostVersionError(PluginError):
    """The host's version does not satisfy the plugin's ``requires_host`` specifier."""


class LoadError(HookwireError):
    """Loading under ``strict``: every plugin failure, collected, then raised together."""

    def __init__(self, failures: Sequence[PluginError]) -> None:
        self.failures = tuple(failures)
        lines = "; ".join(str(failure) for failure in self.failures)
        count = len(self.failures)
        noun = "plugin failure" if count == 1 else "plugin failures"
        super().__init__(f"{count} {noun}: {lines}")


class HostError(HookwireError):
    """The host named on the command line or in settings cannot be used."""


class HostNotFoundError(HostError):
    """A ``module:attribute`` host reference does not resolve; ``suggestion`` may help."""

    def __init__(self, message: str, *, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.suggestion = suggestion


class HostImportError(HostError):
    """Importing the host's module raised; the original error is ``__cause__``."""


class RemoteError(HookwireError):
    """A remote receiver's message could not be published; nothing was sent to a worker.

    Attributes: ``signal`` (the :class:`~hookwire.Signal`), ``receiver`` (the remote receiver's
    ``"module.qualname"``) and ``cause`` (the underlying exception, also ``__cause__``, or
    ``None``).
    """

    def __init__(
        self,
        message: str,
        *,
        signal: object = None,
        receiver: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.signal = signal
        self.receiver = receiver
        self.cause = cause


class RemoteSerializationError(RemoteError):
    """The sender or a keyword argument of a send cannot travel to a worker.

    ``argument`` names it (``"sender"`` or the keyword). Raised in the sending process before
    anything is published.
    """

    def __init__(self, message: str, *, argument: str, **context: object) -> None:
        super().__init__(message, **context)  # type: ignore[arg-type]
        self.argument = argument


class RemoteDispatchError(RemoteError):
    """The broker could not be reached, or did not take the message within the time allowed."""
