"""Model sources behind one interface, and the registry: the only list of sources.

Sources are found through the ``zoofind.hubs`` entry point group. Each entry point
names a ``register(registry)`` function, which calls ``registry.register(spec,
factory)``; the built-ins are declared in zoofind's own ``pyproject.toml`` and found the
same way a plugin package's are. Registering costs little: a source's module is only
imported for its ``SourceSpec``, and its factory runs the first time the source is used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.errors import UsageError

if TYPE_CHECKING:
    from ..core.context import Context
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


class Repairs:
    """What reading one answer from a hub dropped: wrong-typed fields and unreadable records.

    A hub's JSON is validated where it enters (each source's mapping, with the readers
    below): a field of the wrong type is dropped, or repaired when its meaning is plain
    (``12.0`` or ``"12"`` downloads, one tag sent as a string); a record without a usable
    id is skipped. Each is counted here, so the answer can say so (``note``) while its
    good records are kept.
    """

    __slots__ = ("fields", "records")

    def __init__(self) -> None:
        self.fields = 0
        self.records = 0

    def note(self, who: str) -> str | None:
        said = [f"{n} {what}" for n, what in ((self.records, "unreadable record(s) skipped"),
                                              (self.fields, "wrong-typed field(s) dropped")) if n]
        return f"{who} sent malformed data: {' and '.join(said)}" if said else None


def dropped(repairs: Repairs | None) -> None:
    """Count one wrong-typed field (``repairs`` may be None: nobody is counting)."""
    if repairs is not None:
        repairs.fields += 1


def json_int(value: Any, repairs: Repairs | None = None) -> int | None:
    """A count or a size: an int >= 0 (an integral float or a string of digits is repaired), else None."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:  # nan and inf are not integers
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value):
        return int(value)
    dropped(repairs)
    return None


def json_str(value: Any, repairs: Repairs | None = None, *, limit: int = 1000) -> str | None:
    """A text field: a string, at most ``limit`` characters (a hub's description is no place for 64 MB)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value[:limit]
    dropped(repairs)
    return None


def json_strs(value: Any, repairs: Repairs | None = None, *, limit: int = 200, chars: int = 200) -> tuple[str, ...]:
    """A list of words (tags, datasets, licences): its strings (one string alone is a list of one), at
    most ``limit`` of them, each at most ``chars`` long; anything else in it is dropped."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        dropped(repairs)
        return ()
    words = [v for v in value if isinstance(v, str) and len(v) <= chars]
    if len(words) != len(value):
        dropped(repairs)
    return tuple(w for w in words if w)[:limit]


def json_bool(value: Any, repairs: Repairs | None = None) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    dropped(repairs)
    return None


def json_object(value: Any, repairs: Repairs | None = None) -> Mapping[str, Any]:
    """A nested object ({} when absent or of another type)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    dropped(repairs)
    return {}


def json_list(value: Any, repairs: Repairs | None = None) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    dropped(repairs)
    return []


#: What ``read_fields`` reads one field with: (value, repairs) -> the cleaned value or None.
FieldReader = Callable[[Any, Repairs | None], Any]


def json_text(limit: int) -> Callable[[Any, Repairs | None], str | None]:
    """A ``json_str`` reader that keeps at most ``limit`` characters (for ``read_fields``)."""
    def read(value: Any, repairs: Repairs | None = None) -> str | None:
        return json_str(value, repairs, limit=limit)
    return read


def read_fields(data: Mapping[str, Any], schema: Mapping[str, FieldReader],
                repairs: Repairs | None = None) -> dict[str, Any]:
    """The fields ``schema`` names, each read by its reader; absent and dropped ones left out
    (lists of words become JSON lists)."""
    out: dict[str, Any] = {}
    for key, read in schema.items():
        value = read(data.get(key), repairs)
        if value is not None and value not in ("", ()):
            out[key] = list(value) if isinstance(value, tuple) else value
    return out


def json_date(value: Any, repairs: Repairs | None = None) -> str | None:
    """A time as hubs write it (ISO 8601, ``2023-03-21T15:05:12.000Z``): a string that starts with a date."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= 40 and re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:$|[T ])", value):
        return value
    dropped(repairs)
    return None


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
        from .abilities import ABILITIES

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
        from .abilities import ABILITIES

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


def statuses(ctx: Context, *, probe: bool = True) -> list[SourceStatus]:
    """Each source's status (endpoint, reachability, credentials, cache age), probed concurrently.

    Endpoints and reasons are shown redacted (``redaction``): credentials in an endpoint
    variable (``HF_ENDPOINT=http://user:pw@host``) never reach the output, whichever
    source (a plugin's too) reported them.
    """
    from concurrent.futures import ThreadPoolExecutor
    from dataclasses import replace

    from ..core.errors import describe
    from ..core.redaction import redact_text, redact_url
    from .base import SourceStatus

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
