"""The records every source returns, and the ids that name them.

Ids are ``source:ref`` (the grammar, built from each source's declaration, is in
``zoofind.hubs.ids``). A curated model's id is its source id, so results from several
sources merge on it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

KINDS = ("model", "resource", "dataset")
#: The size categories of datasets, as the Hugging Face Hub names them (the number of rows or
#: examples): ``search --size-category`` takes one; a record carries it as a tag ``size_categories:<it>``.
SIZE_CATEGORIES = ("n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B",
                   "1B<n<10B", "10B<n<100B", "100B<n<1T", "n>1T")


@dataclass(frozen=True)
class ParsedId:
    source: str
    ref: str

    def __str__(self) -> str:
        return f"{self.source}:{self.ref}"


@dataclass(frozen=True)
class Record:
    """One search result: a model or a resource, from any source."""

    id: str
    source: str
    kind: str
    name: str
    description: str = ""
    url: str | None = None
    resource_type: str | None = None
    tasks: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()
    libraries: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    license: str | None = None
    gated: bool = False
    remote_code: bool = False
    downloadable: bool = True
    architecture: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    params: int | None = None
    size_bytes: int | None = None
    downloads: int | None = None
    likes: int | None = None
    updated: str | None = None
    weights_format: tuple[str, ...] = ()
    reliability: str | None = None
    evidence: str | None = None
    notes: str | None = None
    curated: bool = False
    # Source-specific facts (torchvision metrics, TF Hub format...). Read-only by convention.
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def task(self) -> str:
        return self.tasks[0] if self.tasks else ""

    @property
    def framework(self) -> str:
        return self.frameworks[0] if self.frameworks else ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Record:
        kwargs: dict[str, Any] = {}
        # A class is hashable; mypy reads the frozen dataclass's instance __hash__ as the class's.
        for name in _field_names(cls):  # type: ignore[arg-type]
            if name in data:
                value = data[name]
                kwargs[name] = tuple(value) if isinstance(value, list) else value
        return cls(**kwargs)

    def merged_with(self, other: Record) -> Record:
        """Join two records of the same id: curated facts win, live numbers fill in."""
        first, second = (self, other) if self.curated or not other.curated else (other, self)
        changes: dict[str, Any] = {}
        for f in fields(Record):
            a, b = getattr(first, f.name), getattr(second, f.name)
            if isinstance(a, tuple):
                changes[f.name] = tuple(dict.fromkeys((*a, *b)))
            elif f.name == "extra":
                changes[f.name] = {**b, **a}
            elif f.name in ("downloads", "likes", "updated", "params", "size_bytes"):
                # Live numbers are fresher than anything curated.
                changes[f.name] = b if b is not None else a
            elif f.name in ("gated", "remote_code", "curated"):
                changes[f.name] = a or b
            elif f.name == "downloadable":
                changes[f.name] = a and b
            elif a in (None, ""):
                changes[f.name] = b
        return replace(first, **changes)


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    # dataclasses.fields() rebuilds its tuple on every call: 0.6 s over a 50k-entry user catalog.
    return tuple(f.name for f in fields(cls))
