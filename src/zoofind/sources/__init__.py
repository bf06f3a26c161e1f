"""Model sources behind one interface, and the registry that finds them.

Each built-in source module exposes ``register(registry)``, exactly the hook a plugin
package would expose; the registry imports a module only when its source is asked
for, so the offline path never imports a networked one.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..errors import UsageError

if TYPE_CHECKING:
    from .base import Source, SourceAnswer  # noqa: F401 - SourceAnswer re-exported lazily below


def __getattr__(name: str) -> object:
    # SourceAnswer lives in .base, which the offline search path never imports.
    if name == "SourceAnswer":
        from .base import SourceAnswer

        return SourceAnswer
    raise AttributeError(name)


@dataclass(frozen=True)
class SearchQuery:
    """What the user asked for; every source maps it to its own vocabulary."""

    text: str = ""
    sources: tuple[str, ...] = ()
    task: str | None = None
    domain: str | None = None
    framework: str | None = None
    license: str | None = None
    kind: str | None = None
    sort: str = "relevance"
    limit: int = 20
    offline: bool = False
    timeout: float = 5.0
    refresh: bool = False
    # The query word a hub's id-substring search should use (set by search.py), else text.
    keyword: str | None = None


class Registry:
    """Source factories by name; instances are made on first use."""

    def __init__(self) -> None:
        self.factories: dict[str, Callable[[], Source]] = {}
        self.instances: dict[str, Source] = {}

    def register(self, name: str, factory: Callable[[], Source]) -> None:
        self.factories[name] = factory

    def get(self, name: str) -> Source:
        if name not in self.instances:
            if name not in self.factories and name in BUILTIN:
                importlib.import_module(BUILTIN[name]).register(self)
            if name not in self.factories:
                raise UsageError(f"unknown source {name!r}", hint=f"sources: {', '.join(BUILTIN)}")
            self.instances[name] = self.factories[name]()
        return self.instances[name]


#: Built-in sources, loaded on first use through the same ``register`` hook plugins use.
BUILTIN: dict[str, str] = {
    "catalog": "zoofind.sources.catalog",
    "hf": "zoofind.sources.hf",
    "torchvision": "zoofind.sources.torchvision",
    "tfhub": "zoofind.sources.tfhub",
    "kaggle": "zoofind.sources.kaggle",
}

registry = Registry()


def get(name: str) -> Source:
    return registry.get(name)


def statuses(*, probe: bool = True, timeout: float = 3.0) -> list:
    """Each built-in source's status (endpoint, reachability, credentials, cache age), probed concurrently."""
    from concurrent.futures import ThreadPoolExecutor

    from ..errors import describe
    from .base import SourceStatus

    def one(name: str) -> SourceStatus:
        try:
            return registry.get(name).status(probe=probe, timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - one broken source must not hide the others
            return SourceStatus(name, name, None, live=True, reachable=False, reason=describe(exc).message)

    with ThreadPoolExecutor(max_workers=len(BUILTIN)) as pool:
        return list(pool.map(one, BUILTIN))
