"""What a library call runs under: offline or not, the time each source may take, and a
snapshot of the environment, decided once where the call starts and passed down.

Sources and the network layer read settings from here, never from ``os.environ``: a
Python caller's ``offline=True`` (or ``ZOOFIND_OFFLINE=1`` when the call began) reaches
every source the same way, and the network layer refuses to send anything offline.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from . import paths
from .errors import UsageError, ZoofindWarning

if TYPE_CHECKING:  # a Protocol class costs ~1.5 ms to define, on every start-up

    class Endpointed(Protocol):
        """What ``Context.endpoint`` reads of a hub's declaration (``hubs.spec.SourceSpec`` has both),
        named here so this floor needs nothing from the hubs'."""

        @property
        def endpoint_variable(self) -> str | None: ...

        @property
        def default_endpoint(self) -> str | None: ...


DEFAULT_TIMEOUT = 5.0
#: The longest --timeout accepted: a day. Beyond it the deadline arithmetic of threads and
#: sockets overflows (``--timeout inf`` used to end in OverflowError).
MAX_TIMEOUT = 86400.0


def check_timeout(value: float) -> float:
    """``value`` if it is a usable timeout (finite, above 0, at most a day), else ``UsageError``.

    The one rule for every timeout: the CLI's ``--timeout`` option and every Context
    (so the Python API's ``timeout=`` too) apply it.
    """
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT):
        raise UsageError(
            f"timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT:.0f} (a day), not {value!r}",
            hint="e.g. --timeout 10",
        )
    return seconds


@dataclass(frozen=True)
class Context:
    offline: bool = False
    #: Seconds each source may take for one call (connect, answer and retries together).
    timeout: float = DEFAULT_TIMEOUT
    #: Ask again instead of serving a fresh cached answer.
    refresh: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), repr=False, compare=False)

    def __post_init__(self) -> None:
        check_timeout(self.timeout)

    @classmethod
    def from_env(
        cls, *, offline: bool = False, timeout: float = DEFAULT_TIMEOUT, refresh: bool = False,
        environ: Mapping[str, str] | None = None,
    ) -> Context:
        """The context for a call starting now: ``offline`` or any offline variable means offline."""
        env = MappingProxyType(dict(os.environ if environ is None else environ))
        ctx = cls(offline=bool(offline) or paths.offline_in(env), timeout=timeout, refresh=refresh, environ=env)
        problems = paths.problems(env)
        if problems:
            for message in problems:
                # stacklevel 3: the warning points at whoever called the API function.
                warnings.warn(message, ZoofindWarning, stacklevel=3)
        return ctx

    def endpoint(self, spec: Endpointed) -> str:
        """The source's base URL, with its override variable (HF_ENDPOINT, ZOOFIND_*_ENDPOINT) applied."""
        return paths.endpoint(self.environ, spec.endpoint_variable, spec.default_endpoint or "")

    @property
    def cache_dir(self) -> Path:
        """zoofind's cache folder; raises ``MissingHomeError`` rather than create a missing home."""
        return paths.cache_dir(self.environ)

    @property
    def ttl(self) -> float:
        return paths.ttl_seconds(self.environ)
