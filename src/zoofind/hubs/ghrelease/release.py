"""A GitHub release's JSON read where it enters: its assets (checked names, sizes, digests) and the
record it makes.

Every field is type-checked (``hubs.jsonread``). An asset whose name would land outside the release's
folder or starts like zoofind's own files, or whose size is beyond what GitHub stores (2 GiB an
asset), refuses the release with nothing written. Assets not ``uploaded`` (an upload in progress)
are left out. A download address is built from the API endpoint and the asset's id
(``net.github.asset_url``), never taken from the answer's links.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...caches import OWN, safe_relpath
from ...catalog.frameworks import weights_format_of
from ...core.errors import BadAnswerError
from ...models.records import Record
from ...net.github import asset_url
from .. import Repairs, json_int, json_list, json_object, json_str
from . import SPEC, ReleaseRef

#: GitHub's limit for one release asset is 2 GiB; a claim beyond it is a damaged or hostile answer.
MAX_ASSET_BYTES = 2 << 30
_DIGEST = re.compile(r"sha256:([0-9a-fA-F]{64})")
#: Weights format -> the framework that loads it.
_FRAMEWORKS = {"pickle": "pytorch", "safetensors": "pytorch", "onnx": "onnx", "tf": "tensorflow",
               "keras": "keras", "tflite": "tensorflow", "flax": "jax", "gguf": "llama.cpp"}
HINT = "report it to the repository's owners; nothing was written"


@dataclass(frozen=True)
class Asset:
    name: str
    size: int
    sha256: str | None
    id: int
    url: str
    downloads: int | None = None


def release_id(data: Mapping[str, Any], r: ReleaseRef) -> str:
    rid = json_int(data.get("id"))
    if rid is None:
        raise BadAnswerError(f"GitHub answered release {r.tag!r} of {r.owner}/{r.repo} without its id",
                             hint="check ZOOFIND_GITHUB_ENDPOINT")
    return str(rid)


def assets(data: Mapping[str, Any], r: ReleaseRef, api: str) -> list[Asset]:
    what = f"release {r.tag!r} of {r.owner}/{r.repo}"
    out: dict[str, Asset] = {}
    for item in json_list(data.get("assets")):
        a = json_object(item)
        if (json_str(a.get("state"), limit=40) or "uploaded") != "uploaded":
            continue  # an upload in progress (``starter``) is not an asset yet
        name = json_str(a.get("name"), limit=1000)
        if not name:
            raise BadAnswerError(f"{what} lists an asset without a name", hint=HINT)
        safe_relpath(name, what=what)
        if "/" in name or name.startswith(OWN):
            raise BadAnswerError(f"{what} names an asset {name!r}, which no asset can be called; refused", hint=HINT)
        size, aid = json_int(a.get("size")), json_int(a.get("id"))
        if size is None or aid is None:
            raise BadAnswerError(f"{what}: asset {name} has no size or id", hint=HINT)
        if size > MAX_ASSET_BYTES:
            raise BadAnswerError(f"{what}: asset {name} claims {size} bytes, beyond GitHub's 2 GiB an asset; refused",
                                 hint="the answer is damaged or hostile; nothing was written")
        m = _DIGEST.fullmatch(json_str(a.get("digest"), limit=100) or "")
        out.setdefault(name, Asset(name, size, m[1].lower() if m else None, aid,
                                   asset_url(api, r.owner, r.repo, aid), json_int(a.get("download_count"))))
    return list(out.values())


def record(data: Mapping[str, Any], r: ReleaseRef, api: str, repairs: Repairs | None = None) -> Record:
    """The info record of a release, or of one of its assets (``r.asset``)."""
    listed = [a for a in assets(data, r, api) if r.asset in (None, a.name)]
    formats = tuple(dict.fromkeys(f for f in (weights_format_of(a.name) for a in listed) if f))
    page = f"https://github.com/{r.owner}/{r.repo}/releases/tag/{r.tag}"
    date = json_str(data.get("published_at"), repairs, limit=40)
    body = " ".join((json_str(data.get("body"), repairs, limit=20_000) or "").split())[:1000]
    downloads = [a.downloads for a in listed if a.downloads is not None]
    extra: dict[str, Any] = {
        "release": json_str(data.get("name"), repairs, limit=300), "tag": r.tag,
        "release_id": json_int(data.get("id")), "prerelease": data.get("prerelease") is True,
        "assets": [{"name": a.name, "size": a.size, "sha256": a.sha256} for a in listed],
        "publisher": "GitHub",
    }
    name = f"{r.owner}/{r.repo} {r.tag}" + (f": {r.asset}" if r.asset else "")
    return Record(
        id=f"{SPEC.name}:{r.owner}/{r.repo}/{r.tag}" + (f"/{r.asset}" if r.asset else ""), source=SPEC.name,
        kind="model", name=name, description=body, url=page,
        frameworks=tuple(dict.fromkeys(_FRAMEWORKS[f] for f in formats if f in _FRAMEWORKS)),
        size_bytes=sum(a.size for a in listed), downloads=sum(downloads) if downloads else None,
        updated=date[:10] if date else None, weights_format=formats, reliability="generated", evidence=page,
        extra={k: v for k, v in extra.items() if v not in (None, "", [], ())},
    )
