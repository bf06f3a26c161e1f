"""The registry: the only list of hubs, and for each the factory of every ability it has.

Hubs are found through the ``zoofind.sources`` entry point group (``discovery``). Each entry
point names a ``register(registry)`` function, which calls ``registry.register(spec, factory,
**abilities)``; the built-ins are declared in zoofind's own ``pyproject.toml`` and found the
same way a plugin package's are. Registering costs little: a hub's module is only imported for
its ``SourceSpec``, and each factory runs the first time its ability is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..core.errors import UsageError, describe
from .abilities import ABILITIES
from .base import SourceStatus

if TYPE_CHECKING:
    from ..core.context import Context
    from .base import Source
    from .spec import SourceSpec

ENTRY_POINT_GROUP = "zoofind.sources"


class Registry:
    """Specs and, per source, one factory for each ability it has; instances are made on first use.

    ``register(spec, search_factory, pull=..., lock=..., ...)``: the positional factory makes
    the ``Source`` (search, info, status); each keyword names one more ability of
    ``abilities.ABILITIES`` with the factory of the object implementing it.
    """

    def __init__(self, discover: Callable[[Registry], None] | None = None) -> None:
        self._specs: dict[str, SourceSpec] = {}
        self._factories: dict[str, dict[str, Callable[[], Any]]] = {}
        self._instances: dict[tuple[str, str], Any] = {}
        self._discover = discover
        #: Plugins that failed to load: (entry point, why). `zoofind sources` shows them.
        self.problems: list[tuple[str, str]] = []

    def _loaded(self) -> None:
        if self._discover is not None:
            discover, self._discover = self._discover, None
            discover(self)

    def register(self, spec: SourceSpec, factory: Callable[[], Source], /, **abilities: Callable[[], Any]) -> None:
        """Add a source; a later registration of the same name replaces the earlier one.

        An ability ``abilities.ABILITIES`` does not name is a plugin's mistake: ``TypeError``,
        which discovery records as that plugin's problem.
        """
        unknown = sorted(set(abilities) - set(ABILITIES))
        if unknown:
            raise TypeError(f"{spec.name}: unknown abilities {', '.join(unknown)} (known: {', '.join(ABILITIES)})")
        self._specs[spec.name] = spec
        self._factories[spec.name] = {"search": factory, **abilities}
        for ability in ABILITIES:
            self._instances.pop((spec.name, ability), None)

    def unregister(self, name: str) -> None:
        self._specs.pop(name, None)
        self._factories.pop(name, None)
        self._instances = {k: v for k, v in self._instances.items() if k[0] != name}

    def names(self) -> tuple[str, ...]:
        self._loaded()
        return tuple(self._specs)

    def specs(self) -> tuple[SourceSpec, ...]:
        self._loaded()
        return tuple(self._specs.values())

    def spec(self, name: str) -> SourceSpec:
        self._loaded()
        try:
            return self._specs[name]
        except KeyError:
            raise UsageError(f"unknown source {name!r}", hint=f"sources: {', '.join(self._specs)}") from None

    def can(self, name: str, ability: str) -> bool:
        """Whether source ``name`` registered ``ability`` (no import of its implementation)."""
        self.spec(name)
        return ability in self._factories[name]

    def able(self, ability: str) -> tuple[str, ...]:
        """The sources that have ``ability``, in registration order."""
        self._loaded()
        return tuple(name for name, made in self._factories.items() if ability in made)

    def ability(self, name: str, ability: str) -> Any:
        """The object implementing ``ability`` for source ``name``, made once; ``UsageError``
        (exit 2) naming the sources that have it when this one does not."""
        spec = self.spec(name)
        if ability not in self._factories[name]:
            able = ", ".join(f"{n}:" for n in self.able(ability)) or "none"
            raise UsageError(f"{spec.title} models cannot {ABILITIES[ability]} ({name}: has no {ability!r} ability)",
                             hint=f"sources that can: {able}")
        key = (name, ability)
        if key not in self._instances:
            self._instances[key] = self._factories[name][ability]()
        return self._instances[key]

    def get(self, name: str) -> Source:
        return self.ability(name, "search")


def lazy(module: str, name: str) -> Callable[[], Source]:
    """A factory that imports ``module`` and makes its ``name`` only when the source is first used,
    so that registering (on every start-up) costs no import of the implementation."""

    def make() -> Source:
        return getattr(importlib.import_module(module), name)()

    return make


def _discover(registry: Registry) -> None:
    from .discovery import loaders  # lazy: only when a hub is first asked for: off --help and bundle import

    for label, load in loaders(ENTRY_POINT_GROUP):
        try:
            load()(registry)
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not take zoofind down
            registry.problems.append((label, f"{type(exc).__name__}: {exc}"))


registry = Registry(_discover)


def get(name: str) -> Source:
    return registry.get(name)


def names() -> tuple[str, ...]:
    return registry.names()


def statuses(ctx: Context, *, probe: bool = True) -> list[SourceStatus]:
    """Each source's status (endpoint, reachability, credentials, cache age), probed concurrently.

    Endpoints and reasons are shown redacted (``redaction``): credentials in an endpoint
    variable (``HF_ENDPOINT=http://user:pw@host``) never reach the output, whichever
    source (a plugin's too) reported them.
    """
    # lazy: only for `sources`: off search, pull and cache start-up (concurrent.futures ~4 ms)
    from concurrent.futures import ThreadPoolExecutor

    from ..core.redaction import redact_text, redact_url  # lazy: as concurrent.futures above

    def one(spec: SourceSpec) -> SourceStatus:
        try:
            status = registry.get(spec.name).status(ctx, probe=probe)
        except Exception as exc:  # noqa: BLE001 - one broken source must not hide the others
            status = SourceStatus(spec.name, spec.title, None, network=spec.network, reachable=False,
                                  reason=describe(exc).message)
        return replace(
            status,
            endpoint=redact_url(status.endpoint) if status.endpoint else status.endpoint,
            reason=redact_text(status.reason) if status.reason else status.reason,
            details=tuple((k, redact_text(v) if isinstance(v, str) else v) for k, v in status.details),
        )

    specs = registry.specs()
    with ThreadPoolExecutor(max_workers=max(1, len(specs))) as pool:
        return list(pool.map(one, specs))
