"""Records every source returns, and the id grammar that names them.

Ids are ``source:ref``. A curated model's id is its source id, so results from
several sources merge on it:

* ``hf:owner/name``
* ``torchvision:resnet50`` (DEFAULT weights) or ``torchvision:resnet50.IMAGENET1K_V1``
* ``tfhub:google/imagenet/mobilenet_v2_100_224/classification/5`` (the tfhub.dev path)
* ``kaggle:owner/model/framework/variation[/version]``
* ``catalog:<slug>`` for resources
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Mapping

from .errors import UsageError

SOURCES = ("catalog", "hf", "torchvision", "tfhub", "kaggle")
KINDS = ("model", "resource")

_HF_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?"
# Patterns stay strings: re compiles (and caches) them on first use, so importing this
# module on the search path costs nothing for them.
_HF_RE = rf"^(?:{_HF_PART}/)?{_HF_PART}$"
_TV_RE = r"^(?P<builder>[a-z][a-z0-9_]*)(?:[.:](?P<weights>[A-Z0-9][A-Za-z0-9_]*))?$"
_TFHUB_RE = r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+$"
_KAGGLE_RE = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/\d+)?$"
_SLUG_RE = r"^[a-z0-9][a-z0-9-]*$"

ID_HELP = (
    "ids look like hf:owner/name, torchvision:resnet50[.IMAGENET1K_V2], "
    "tfhub:google/yamnet/1, kaggle:owner/model/framework/variation or catalog:<slug>"
)


@dataclass(frozen=True)
class ParsedId:
    source: str
    ref: str

    def __str__(self) -> str:
        return f"{self.source}:{self.ref}"


def _strip_url(text: str, prefixes: tuple[str, ...]) -> str | None:
    low = text.lower()
    for prefix in prefixes:
        if low.startswith(prefix):
            return text[len(prefix):].split("?", 1)[0].split("#", 1)[0].strip("/")
    return None


def parse_id(text: str) -> ParsedId:
    """Parse and normalise a user-given id or hub URL; raise UsageError if malformed."""
    raw = text.strip()
    if not raw:
        raise UsageError("empty id", hint=ID_HELP)

    hf_path = _strip_url(raw, ("https://huggingface.co/", "http://huggingface.co/", "huggingface.co/", "hf.co/", "https://hf.co/"))
    if hf_path is not None:
        parts = hf_path.split("/")
        if parts and parts[0] in ("models",):
            parts = parts[1:]
        if parts and parts[0] in ("datasets", "spaces"):
            raise UsageError(f"{raw!r} is a Hugging Face {parts[0][:-1]}, not a model", hint=ID_HELP)
        # /owner/name/tree/main/... or /resolve/... are file views of the same repo.
        return _checked("hf", "/".join(parts[:2]), raw)
    tf_path = _strip_url(raw, ("https://tfhub.dev/", "http://tfhub.dev/", "tfhub.dev/"))
    if tf_path is not None:
        return _checked("tfhub", tf_path, raw)
    kg_path = _strip_url(raw, ("https://www.kaggle.com/models/", "https://kaggle.com/models/", "www.kaggle.com/models/"))
    if kg_path is not None:
        return _checked("kaggle", kg_path, raw)

    source, sep, ref = raw.partition(":")
    if sep and source.lower() in SOURCES:
        return _checked(source.lower(), ref.strip(), raw)
    if sep and "/" not in source and not raw.lower().startswith(("http:", "https:")):
        raise UsageError(f"unknown source {source!r} in id {raw!r}", hint=ID_HELP)
    if not sep and re.match(_HF_RE, raw) and "/" in raw:
        # A bare owner/name is what people copy from the Hub.
        return ParsedId("hf", raw)
    raise UsageError(f"malformed id {raw!r}", hint=ID_HELP)


def _checked(source: str, ref: str, raw: str) -> ParsedId:
    ok = {
        "hf": lambda r: bool(re.match(_HF_RE, r)) and ".." not in r and "--" not in r,
        "torchvision": lambda r: bool(re.match(_TV_RE, r)),
        "tfhub": lambda r: bool(re.match(_TFHUB_RE, r)) and ".." not in r,
        "kaggle": lambda r: bool(re.match(_KAGGLE_RE, r)),
        "catalog": lambda r: bool(re.match(_SLUG_RE, r)),
    }[source](ref)
    if not ok:
        raise UsageError(f"malformed {source} id {raw!r}", hint=ID_HELP)
    if source == "torchvision":
        m = re.match(_TV_RE, ref)
        assert m
        ref = m["builder"] + (f".{m['weights']}" if m["weights"] else "")
    return ParsedId(source, ref)


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
    def from_dict(cls, data: Mapping[str, Any]) -> "Record":
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in data:
                value = data[f.name]
                kwargs[f.name] = tuple(value) if isinstance(value, list) else value
        return cls(**kwargs)

    def merged_with(self, other: "Record") -> "Record":
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
