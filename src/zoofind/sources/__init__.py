"""Model sources behind one interface, and the registry: the only list of sources.

Sources are found through the ``zoofind.sources`` entry point group. Each entry point
names a ``register(registry)`` function, which calls ``registry.register(spec,
factory)``; the built-ins are declared in zoofind's own ``pyproject.toml`` and found the
same way a plugin package's are. Registering costs little: a source's module is only
imported for its ``SourceSpec``, and its factory runs the first time the source is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..errors import UsageError

if TYPE_CHECKING:
    from ..context import Context
    from .base import Source, SourceStatus
    from .spec import SourceSpec

ENTRY_POINT_GROUP = "zoofind.sources"


@dataclass(frozen=True)
class SearchQuery:
    """What the user asked for; every source maps it to its own vocabulary.

    How to ask (offline, timeout, refresh) is the call's ``Context``, not part of the query.
    """

    text: str = ""
    sources: tuple[str, ...] = ()
    task: str | None = None
    domain: str | None = None
    framework: str | None = None
    license: str | None = None
    kind: str | None = None
    sort: str = "relevance"
    limit: int = 20
    # The query word a hub's id-substring search should use (set by the search runner), else text.
    keyword: str | None = None


class Registry:
    """Specs and source factories by name; instances are made on first use."""

    def __init__(self, discover: Callable[["Registry"], None] | None = None) -> None:
        self._specs: dict[str, SourceSpec] = {}
        self._factories: dict[str, Callable[[], Source]] = {}
        self._instances: dict[str, Source] = {}
        self._discover = discover
        #: Plugins that failed to load: (entry point, why). `zoofind sources` shows them.
        self.problems: list[tuple[str, str]] = []

    def _loaded(self) -> None:
        if self._discover is not None:
            discover, self._discover = self._discover, None
            discover(self)

    def register(self, spec: SourceSpec, factory: Callable[[], Source]) -> None:
        """Add a source; a later registration of the same name replaces the earlier one."""
        self._specs[spec.name] = spec
        self._factories[spec.name] = factory
        self._instances.pop(spec.name, None)

    def unregister(self, name: str) -> None:
        for table in (self._specs, self._factories, self._instances):
            table.pop(name, None)  # type: ignore[attr-defined]

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

    def get(self, name: str) -> Source:
        self.spec(name)
        if name not in self._instances:
            self._instances[name] = self._factories[name]()
        return self._instances[name]


def lazy(module: str, name: str) -> Callable[[], "Source"]:
    """A factory that imports ``module`` and makes its ``name`` only when the source is first used,
    so that registering (on every start-up) costs no import of the implementation."""

    def make() -> "Source":
        import importlib

        return getattr(importlib.import_module(module), name)()

    return make


def _discover(registry: Registry) -> None:
    from .discovery import load_entry_points

    load_entry_points(registry, ENTRY_POINT_GROUP)


registry = Registry(_discover)


def get(name: str) -> Source:
    return registry.get(name)


def names() -> tuple[str, ...]:
    return registry.names()


def statuses(ctx: "Context", *, probe: bool = True) -> list["SourceStatus"]:
    """Each source's status (endpoint, reachability, credentials, cache age), probed concurrently."""
    from concurrent.futures import ThreadPoolExecutor

    from ..errors import describe
    from .base import SourceStatus

    def one(spec: "SourceSpec") -> SourceStatus:
        try:
            return registry.get(spec.name).status(ctx, probe=probe)
        except Exception as exc:  # noqa: BLE001 - one broken source must not hide the others
            return SourceStatus(spec.name, spec.title, None, network=spec.network, reachable=False, reason=describe(exc).message)

    specs = registry.specs()
    with ThreadPoolExecutor(max_workers=max(1, len(specs))) as pool:
        return list(pool.map(one, specs))
