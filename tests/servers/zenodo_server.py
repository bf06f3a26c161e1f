"""A local Zenodo (InvenioRDM with zenodo-rdm's legacy JSON), as ``/api/records`` answers.

``ZenodoServer({123: Rec(123, files={"model.pth": b"..."}, title=...)})``. Versions of one concept
are records with the same ``concept`` (the highest id is the latest).

Routes (GET; HEAD too):

* ``/api/records?q=&size=&page=&sort=&type=``: the records whose title, description, keywords or
  creators hold every word of ``q`` (case-insensitive), latest versions only (as ``all_versions``
  unset), ``type`` compared with ``resource_type.type``; ``size`` 1..25 (the anonymous cap since
  November 2025; more answers 400 with Invenio's validation body); ``{"hits": {"hits": [...],
  "total": n}, "aggregations": {}, "links": {"self", "next"}}``. Each search counts against
  ``search_limit`` a window: past it, 429 with ``Retry-After`` and ``X-RateLimit-*`` as Zenodo sends.
* ``/api/records/<id>``: the record (``zenodojson.py``'s fields: ``id``, ``recid``, ``conceptrecid``,
  ``doi``, ``conceptdoi``, ``doi_url``, ``links``, ``metadata``, ``files`` with ``checksum``
  ``md5:<hex>`` and ``links.self``, ``stats``...); a concept id answers 301 to its latest version
  (Invenio's ``PIDRedirectedError``); an unknown id 404 ``{"status": 404, "message": "The
  persistent identifier does not exist."}``; a deleted one 410 ``{"status": 410, "message":
  "Record deleted", "tombstone": {...}}``.
* ``/api/records/<id>/versions/latest``: 302 to the latest version's record.
* ``/api/records/<id>/files/<key>/content``: 302 to the storage (``/storage/<uuid>/<key>``), which
  serves the bytes with Range, ETag and Last-Modified (``bodies.send_body``).

Faults as ``bodies.Faults``; ``md5s``/``sizes`` on a ``Rec`` override what the JSON claims (a wrong
md5, a size the bytes do not have).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from .bodies import Body, BodyHandler, Faults, send_body
from .loopback import LoopbackServer

NOT_FOUND = {"status": 404, "message": "The persistent identifier does not exist."}
PAGE_MAX = 25


@dataclass
class Rec:
    id: int
    files: dict[str, bytes]
    title: str = "A model"
    description: str = "<p>Pretrained weights.</p>"
    creators: list[dict[str, str]] = field(default_factory=lambda: [{"name": "Doe, Jane", "affiliation": "EMBL"}])
    keywords: list[str] = field(default_factory=list)
    license: str = "cc-by-4.0"
    resource_type: str = "software"
    version: str | None = "1.0"
    concept: int | None = None
    publication_date: str = "2024-03-01"
    related: list[dict[str, str]] = field(default_factory=list)
    deleted: bool = False
    #: key -> what the JSON claims instead of the truth
    md5s: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    bucket: str = field(default_factory=lambda: str(uuid.uuid4()))


class ZenodoServer(LoopbackServer, Faults):
    def __init__(self, records: dict[int, Rec] | None = None, *, search_limit: int | None = None,
                 **faults: Any) -> None:
        Faults.__init__(self, **faults)
        self._init_faults()
        self.records = dict(records or {})
        self.search_limit = search_limit
        self.searches = 0
        self._bodies: dict[tuple[str, str], Body] = {}
        server = self

        class Handler(BodyHandler):
            faults = server

            def do_GET(self) -> None:  # noqa: N802
                server._handle(self)

            do_HEAD = do_GET

        self._listen(Handler)

    # -- the record JSON ------------------------------------------------------------------------
    def concept_of(self, r: Rec) -> int:
        return r.concept if r.concept is not None else r.id - 1

    def versions(self, concept: int) -> list[Rec]:
        return sorted((r for r in self.records.values() if self.concept_of(r) == concept and not r.deleted),
                      key=lambda r: r.id)

    def record_json(self, r: Rec) -> dict[str, Any]:
        api = f"{self.url}/api/records/{r.id}"
        concept = self.concept_of(r)
        versions = self.versions(concept)
        index = next((i for i, v in enumerate(versions) if v.id == r.id), 0)
        files = []
        for key, data in r.files.items():
            body = Body(data)
            shown = r.keys.get(key, key)
            files.append({"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{r.id}/{key}")), "key": shown,
                          "size": r.sizes.get(key, len(data)), "checksum": "md5:" + r.md5s.get(key, body.md5),
                          "links": {"self": f"{api}/files/{quote(shown)}/content"}})
        meta: dict[str, Any] = {
            "title": r.title, "doi": f"10.5281/zenodo.{r.id}", "publication_date": r.publication_date,
            "description": r.description, "access_right": "open", "creators": r.creators,
            "resource_type": {"title": r.resource_type.title(), "type": r.resource_type},
            "license": {"id": r.license},
            "relations": {"version": [{"index": index, "is_last": index == len(versions) - 1,
                                       "parent": {"pid_type": "recid", "pid_value": str(concept)}}]},
        }
        for name, value in (("keywords", r.keywords), ("version", r.version), ("related_identifiers", r.related)):
            if value:
                meta[name] = value
        return {
            "created": "2024-03-01T10:00:00.000000+00:00", "modified": "2024-03-02T10:00:00.000000+00:00",
            "id": r.id, "conceptrecid": str(concept), "doi": f"10.5281/zenodo.{r.id}",
            "conceptdoi": f"10.5281/zenodo.{concept}", "doi_url": f"https://doi.org/10.5281/zenodo.{r.id}",
            "metadata": meta, "title": r.title,
            "links": {"self": api, "self_html": f"{self.url}/records/{r.id}", "doi": f"https://doi.org/10.5281/zenodo.{r.id}",
                      "files": f"{api}/files", "latest": f"{api}/versions/latest",
                      "latest_html": f"{self.url}/records/{r.id}/latest", "versions": f"{api}/versions"},
            "updated": "2024-03-02T10:00:00.000000+00:00", "recid": str(r.id), "revision": 3, "files": files,
            "swh": {}, "owners": [{"id": 1}], "status": "published",
            "stats": {"downloads": 10 * r.id % 997, "unique_downloads": 5, "views": 20, "unique_views": 9,
                      "version_downloads": 3, "version_unique_downloads": 2, "version_unique_views": 4,
                      "version_views": 6, "version_volume": 100, "volume": 1000},
            "state": "done", "submitted": True,
        }

    # -- routing ------------------------------------------------------------------------------------
    def _json(self, h: BodyHandler, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        limits = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "59", "X-RateLimit-Reset": str(int(time.time()) + 60)}
        h.send_plain(status, json.dumps(value).encode(), "application/json", {**limits, **(headers or {})})

    def _handle(self, h: BodyHandler) -> None:
        entry, path = h.begin()
        query = parse_qs(urlsplit(h.path).query, keep_blank_values=True)

        def fail(status: int, retry_after: int | None) -> None:
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            message = {429: "Too Many Requests"}.get(status, "Internal server error.")
            self._json(h, status, {"status": status, "message": message}, headers)

        if h.gate(path, fail):
            return
        if path.startswith("/storage/"):
            return self._storage(h, path)
        if path == "/api/records":
            return self._search(h, query)
        prefix = "/api/records/"
        if not path.startswith(prefix):
            return self._json(h, 404, {"status": 404, "message": "The requested URL was not found on the server."})
        rid, _, tail = path[len(prefix):].partition("/")
        r = self.records.get(int(rid)) if rid.isdigit() else None
        if r is None:
            concept = self.versions(int(rid)) if rid.isdigit() else []
            if concept and not tail:
                return self._json(h, 301, {}, {"Location": f"{self.url}/api/records/{concept[-1].id}"})
            return self._json(h, 404, NOT_FOUND)
        if r.deleted:
            return self._json(h, 410, {"status": 410, "message": "Record deleted", "tombstone": {
                "removal_reason": {"id": "spam", "title": {"en": "Spam"}}, "note": "", "citation_text": r.title,
                "is_visible": True, "removal_date": "2024-05-01T00:00:00"}})
        if not tail:
            return self._json(h, 200, self.record_json(r))
        if tail == "versions/latest":
            latest = self.versions(self.concept_of(r))[-1]
            return self._json(h, 302, {}, {"Location": f"{self.url}/api/records/{latest.id}"})
        if tail.startswith("files/") and tail.endswith("/content"):
            shown = unquote(tail[len("files/"):-len("/content")])
            key = next((k for k in r.files if r.keys.get(k, k) == shown), None)
            if key is None:
                return self._json(h, 404, {"status": 404, "message": "The requested file does not exist."})
            return h.send_plain(302, b"", "text/html; charset=utf-8",
                                {"Location": f"{self.url}/storage/{r.bucket}/{quote(key)}"})
        return self._json(h, 404, {"status": 404, "message": "The requested URL was not found on the server."})

    def _search(self, h: BodyHandler, query: dict[str, list[str]]) -> None:
        def one(name: str, default: str) -> str:
            return (query.get(name) or [default])[0]

        with self._lock:
            self.searches += 1
            over = self.search_limit is not None and self.searches > self.search_limit
        if over:
            return self._json(h, 429, {"status": 429, "message": "Too Many Requests"},
                              {"Retry-After": "1", "X-RateLimit-Limit": "30", "X-RateLimit-Remaining": "0"})
        try:
            size, page = int(one("size", "10")), int(one("page", "1"))
        except ValueError:
            size, page = 0, 0
        if not 1 <= size <= PAGE_MAX or page < 1:
            return self._json(h, 400, {"status": 400, "message": "A validation error occurred.", "errors": [
                {"field": "size", "messages": [f"Must be greater than or equal to 1 and less than or equal to {PAGE_MAX}."]}]})
        words = one("q", "").lower().split()
        kind = one("type", "")
        hits = []
        for r in sorted(self.records.values(), key=lambda r: r.id, reverse=True):
            if r.deleted or self.versions(self.concept_of(r))[-1].id != r.id or (kind and r.resource_type != kind):
                continue
            text = " ".join([r.title, r.description, *r.keywords, *(c["name"] for c in r.creators)]).lower()
            if all(w in text for w in words):
                hits.append(self.record_json(r))
        start = (page - 1) * size
        links = {"self": f"{self.url}/api/records?page={page}&size={size}"}
        if start + size < len(hits):
            links["next"] = f"{self.url}/api/records?page={page + 1}&size={size}"
        self._json(h, 200, {"hits": {"hits": hits[start:start + size], "total": len(hits)}, "aggregations": {},
                            "links": links})

    def _storage(self, h: BodyHandler, path: str) -> None:
        _, _, bucket, *rest = path.split("/")
        key = unquote("/".join(rest))
        r = next((r for r in self.records.values() if r.bucket == bucket), None)
        data = r.files.get(key) if r else None
        if data is None:
            return h.send_plain(404, b"Not Found", "text/plain")
        with self._lock:
            body = self._bodies.get((bucket, key))
            if body is None or body.data != data:
                body = self._bodies[(bucket, key)] = Body(data, time.time())
        send_body(h, body, key=key, etag=body.md5, ctype="application/octet-stream")
