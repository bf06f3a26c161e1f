"""TF Hub: the bundled tfhub.dev index answers searches; ``info`` checks a handle live.

tfhub.dev now redirects to Kaggle Models, and models that were not migrated are gone.
``tensorflow_hub`` loads ``https://tfhub.dev/<handle>`` by GETting
``<handle>?tf-hub-format=compressed`` and following the redirects to the tarball; ``info``
makes the same request, hop by hop (at most ``MAX_REDIRECTS``), records every
``Location`` and closes each response without reading its body (the tarball can be
gigabytes). It reports in the record's ``extra``:

* ``resolves``: the chain ends in a 2xx answer (something downloadable is there);
* ``http_status``: the status of the last hop;
* ``redirects_to``: the Kaggle Models page the handle moved to (when the chain passes
  one), else the last URL;
* ``kaggle_id``: ``kaggle:owner/model/framework/variation/version`` of that page;
* ``gone``: 404/410, or a redirect to Kaggle's model index instead of a model (what
  tfhub.dev does for handles that were not migrated); the record is then not
  downloadable and says so in ``notes``;
* ``redirect_chain``: every URL requested after the first.

The URLs reported are redacted (``redaction.redact_url``): credentials and signatures a
hop's ``Location`` carries (pre-signed storage URLs) are neither shown nor cached.

The whole walk is one network-layer ``Session``: one deadline for every hop. Answers are
cached like every live answer (``cache.cached``). ``ZOOFIND_TFHUB_ENDPOINT`` replaces
``https://tfhub.dev`` (a mirror, or a local test server).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from ... import catalog as catalog_mod
from ...core.errors import BadAnswerError, NotFoundError
from ...core.redaction import redact_url
from ...models.files import FileEntry
from ...models.records import ParsedId, Record
from ...net.answers import AnswerCache, cached
from ...net.errors import from_status
from ...net.http import Session
from ...net.probe import probe as probe_endpoint
from .. import SearchQuery
from ..base import SourceAnswer, SourceStatus
from . import DEFAULT_ENDPOINT, SPEC

if TYPE_CHECKING:
    from ...core.context import Context

SERVICE = "tfhub.dev"
MAX_REDIRECTS = 10
KAGGLE_WEB = "https://www.kaggle.com"

# Kaggle Models pages: /models/o/m/f/v[/ver] and the older /models/o/m/frameworks/f/variations/v[/versions/ver].
_KAGGLE_PAGE_RES = (
    r"^/models/(?P<o>[^/]+)/(?P<m>[^/]+)/frameworks/(?P<f>[^/]+)/variations/(?P<v>[^/]+)(?:/versions/(?P<ver>\d+))?/?$",
    r"^/models/(?P<o>[^/]+)/(?P<m>[^/]+)/(?P<f>[^/]+)/(?P<v>[^/]+)(?:/(?P<ver>\d+))?/?$",
    # kagglehub's download route: /api/v1/models/o/m/f/v/ver/download
    r"^/api/v1/models/(?P<o>[^/]+)/(?P<m>[^/]+)/(?P<f>[^/]+)/(?P<v>[^/]+)/(?P<ver>\d+)/download/?$",
)
_KAGGLE_INDEX_RE = r"^/models/?$"

#: tfhub.dev page type -> the query tfhub.dev served that type's download with
_FORMAT_QUERY = {
    "Module": "tf-hub-format=compressed",
    "Lite": "lite-format=tflite",
    "Tfjs": "tfjs-format=compressed",
    "Coral": "coral-format=tflite",
}
_SUFFIX = {"Module": ".tar.gz", "Lite": ".tflite", "Tfjs": ".tar.gz", "Coral": ".tflite"}


def compressed_url(ctx: Context, handle: str, page_type: str | None = None) -> str:
    return f"{ctx.endpoint(SPEC)}/{handle}?{_FORMAT_QUERY.get(page_type or 'Module', _FORMAT_QUERY['Module'])}"


def kaggle_page(url: str) -> tuple[str, str] | None:
    """(Kaggle Models page URL, kaggle: id) when ``url`` names a model variation on Kaggle."""
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed address (an open IPv6 bracket) is no Kaggle page
        return None
    for pattern in _KAGGLE_PAGE_RES:
        m = re.match(pattern, parts.path)
        if m:
            ref = "/".join(x for x in (m["o"], m["m"], m["f"], m["v"], m["ver"]) if x)
            origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else KAGGLE_WEB
            return f"{origin}/models/{ref}", f"kaggle:{ref}"
    return None


def _is_kaggle_index(url: str) -> bool:
    try:
        return bool(re.match(_KAGGLE_INDEX_RE, urlsplit(url).path))
    except ValueError:
        return False


def resolve(ctx: Context, handle: str, page_type: str | None = None) -> dict[str, Any]:
    """Follow ``handle``'s download redirects; JSON-serialisable facts about where it leads."""
    url = compressed_url(ctx, handle, page_type)
    chain: list[str] = []
    seen = {url}
    status: int | None = None
    loop = False
    headers: Any = {}
    # One session for the whole walk: every hop shares the call's one deadline.
    with Session(ctx, SERVICE) as session:
        for _ in range(MAX_REDIRECTS + 1):
            # stream + close: the status line and headers only, never the (huge) body.
            with session.stream("GET", url, follow_redirects=False) as resp:
                status = resp.status_code
                headers = resp.headers
                location = resp.headers.get("location")
            if status in (301, 302, 303, 307, 308) and location:
                try:
                    url = urljoin(url, location)
                except ValueError:
                    raise BadAnswerError(f"{SERVICE} redirects tfhub:{handle} to an address that is not one",
                                         hint="the service or a proxy is misconfigured; retry later") from None
                chain.append(url)
                if url in seen:
                    loop = True
                    break
                seen.add(url)
                continue
            break
        else:
            loop = True
    if status is not None and (status >= 500 or status in (408, 429)):
        # A failing hop says nothing about the handle: raise the transient kind (the answer
        # cache then serves the last known facts) instead of reporting it as gone.
        who = SERVICE if not chain else f"the download tfhub:{handle} redirects to"
        err = from_status(status, url, {k.lower(): v for k, v in headers.items()}, who)
        assert err is not None
        raise err

    page = next((p for p in (kaggle_page(u) for u in chain) if p), None)
    not_migrated = bool(chain) and _is_kaggle_index(chain[-1]) and page is None
    gone = status in (404, 410) or not_migrated
    resolves = not loop and not gone and status is not None and 200 <= status < 300
    last = page[0] if page else (chain[-1] if chain else None)
    facts: dict[str, Any] = {
        "resolves": resolves,
        "http_status": status,
        "redirects_to": redact_url(last) if last else None,
        "gone": gone,
        "redirect_chain": [redact_url(u) for u in chain],
    }
    if page:
        facts["kaggle_id"] = page[1]
    if loop:
        facts["resolve_error"] = f"more than {MAX_REDIRECTS} redirects or a redirect loop"
    elif not_migrated:
        facts["resolve_error"] = "tfhub.dev redirects to Kaggle's model index: the model was not migrated"
    elif gone:
        facts["resolve_error"] = f"HTTP {status}: the asset is gone"
    elif not resolves:
        facts["resolve_error"] = f"HTTP {status}"
    return facts


def resolved(ctx: Context, handle: str, page_type: str | None) -> tuple[dict[str, Any], str, float | None]:
    """``resolve``'s facts through zoofind's answer cache: (facts, origin, age) as ``cached`` gives them."""
    params = {"op": "resolve", "endpoint": ctx.endpoint(SPEC), "handle": handle, "type": page_type}
    facts, origin, age = cached(ctx, SPEC.name, params, lambda: resolve(ctx, handle, page_type), valid=_facts_shape)
    return dict(facts), origin, age


def _facts_shape(value: Any) -> bool:
    """Whether a cached value is what ``resolve`` returns (what ``info`` reads of it)."""
    return (isinstance(value, dict) and isinstance(value.get("resolves"), bool) and isinstance(value.get("gone"), bool)
            and all(isinstance(value.get(k), (str, type(None)))
                    for k in ("redirects_to", "kaggle_id", "resolve_error")))


class TfhubSource:
    spec = SPEC

    def search(self, query: SearchQuery, ctx: Context) -> SourceAnswer:
        # The bundled index (in the catalog) answers; nothing live to add.
        return SourceAnswer((), origin="bundled")

    def info(self, pid: ParsedId, ctx: Context) -> Record | None:
        base = catalog_mod.load(ctx).get(str(pid))
        if base is not None and base.kind == "resource":
            return base  # collections have no asset to resolve
        page_type = str(base.extra.get("type")) if base is not None else None
        facts, origin, age = resolved(ctx, pid.ref, page_type)
        facts = {**facts, "checked": origin if age is None else f"{origin}, {age:.0f} s old"}
        if base is None:
            if not facts["resolves"]:
                raise NotFoundError(
                    f"tfhub:{pid.ref} is not in the tfhub.dev index and does not resolve "
                    f"({facts.get('resolve_error')})",
                    hint="search the index with `zoofind search --source tfhub <words>`",
                )
            base = Record(
                id=str(pid), source="tfhub", kind="model", name=pid.ref, url=f"{DEFAULT_ENDPOINT}/{pid.ref}",
                frameworks=("tensorflow",), libraries=("tensorflow_hub",), reliability="generated",
                evidence=f"{DEFAULT_ENDPOINT}/{pid.ref}",
            )
        changes: dict[str, Any] = {"extra": {**base.extra, **facts}}
        if facts["gone"]:
            why = facts.get("resolve_error") or "gone"
            note = f"tfhub.dev no longer serves this handle ({why}); it cannot be downloaded."
            changes["downloadable"] = False
            changes["notes"] = f"{base.notes} {note}".strip() if base.notes else note
        elif facts.get("kaggle_id"):
            note = f"Now on Kaggle Models as {facts['kaggle_id']} ({facts['redirects_to']})."
            changes["notes"] = f"{base.notes} {note}".strip() if base.notes else note
        return replace(base, **changes)

    def files(self, pid: ParsedId, ctx: Context) -> Sequence[FileEntry]:
        base = catalog_mod.load(ctx).get(str(pid))
        page_type = str(base.extra.get("type", "Module")) if base is not None else "Module"
        if page_type not in _FORMAT_QUERY:
            return ()  # collections and placeholder pages have no asset
        name = pid.ref.replace("/", "_") + _SUFFIX[page_type]
        return (FileEntry(path=name, url=compressed_url(ctx, pid.ref, page_type)),)

    def status(self, ctx: Context, *, probe: bool = True) -> SourceStatus:
        hub = ctx.endpoint(SPEC)
        reachable, reason = probe_endpoint(ctx, SERVICE, hub + "/") if probe else (None, None)
        return SourceStatus(
            SPEC.name, SPEC.title, hub, network=True, reachable=reachable, reason=reason,
            cache_age_seconds=AnswerCache(ctx, SPEC.name).newest_age(),
            details=(("search", "bundled tfhub.dev index"), ("info", "live check of the handle's redirects")),
        )
