"""A local Hypha artifact manager serving a bioimage.io collection, as ``hypha/artifact.py`` answers.

``HyphaServer(models={"affable-shark": Model(files={"v0": {"rdf.yaml": b"...", "weights.pt": b"..."}},
manifest={...})})``. ``extra_files`` are served as plain files at their own paths (another host's
URL in an rdf: ``{server.url}/elsewhere/w.pt``).

Routes (GET; HEAD too for files):

* ``/bioimage-io/artifacts/bioimage.io/children``: ``offset``, ``limit`` (1..1000, else 422 with
  FastAPI's validation body), ``pagination`` (true: ``{"items", "total", "offset", "limit"}``, else
  a bare list), ``keywords`` (comma-separated; each matched case-insensitively anywhere in the
  manifest's JSON text), ``mode`` (AND/OR), ``filters`` (JSON; ``type`` compared), ``stage``,
  ``order_by`` (``created_at>``; default id ascending). Each item: ``id`` (``bioimage-io/<alias>``),
  ``type``, ``manifest``, ``versions``, ``download_count``, ``view_count``, ``created_at``,
  ``last_modified``, ``parent_id``, ``workspace``, ``alias``. Any other collection: 404
  ``{"detail": "Parent artifact not found"}``.
* ``/bioimage-io/artifacts/<alias>``: the artifact; unknown: 404 ``{"detail": "Artifact not found"}``.
* ``/bioimage-io/artifacts/<alias>/files/<path>?version=<v>``: 307 to a presigned URL on the
  same server (``/s3/hypha/<uuid>/v<index>/<path>?X-Amz-...``) that serves the bytes with
  Range, ETag and Last-Modified (``bodies.send_body``); an unknown version answers 500 with
  Hypha's "Internal server error: Artifact version ... does not exist." body; an unknown file,
  the storage's 404.

Faults as ``bodies.Faults`` (``fail_status``, ``drop``, ``corrupt``...). ``requests`` logs each.
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

WORKSPACE = "bioimage-io"
COLLECTION = "bioimage.io"


@dataclass
class Model:
    #: version name -> path -> bytes (versions in order: the last is the latest)
    files: dict[str, dict[str, bytes]]
    manifest: dict[str, Any] = field(default_factory=dict)
    type: str = "model"
    created_at: int = 1700000000
    download_count: float = 0.0
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


class HyphaServer(LoopbackServer, Faults):
    def __init__(self, models: dict[str, Model] | None = None, *, extra_files: dict[str, bytes] | None = None,
                 **faults: Any) -> None:
        Faults.__init__(self, **faults)
        self._init_faults()
        self.models = dict(models or {})
        self.extra = {p: Body(b, time.time()) for p, b in (extra_files or {}).items()}
        self._bodies: dict[tuple[str, str, str], Body] = {}
        server = self

        class Handler(BodyHandler):
            faults = server

            def do_GET(self) -> None:  # noqa: N802
                server._handle(self)

            do_HEAD = do_GET

        self._listen(Handler)

    # -- the artifact JSON ---------------------------------------------------------------------
    def artifact(self, alias: str) -> dict[str, Any]:
        m = self.models[alias]
        versions = [{"version": v, "comment": None, "created_at": m.created_at + i} for i, v in enumerate(m.files)]
        return {"id": f"{WORKSPACE}/{alias}", "_id": m.id, "type": m.type, "workspace": WORKSPACE,
                "parent_id": f"{WORKSPACE}/{COLLECTION}", "alias": alias, "manifest": m.manifest,
                "staging": None, "download_count": m.download_count, "view_count": 3.0, "file_count": 0,
                "created_at": m.created_at, "created_by": "github|1", "last_modified": m.created_at + 86400,
                "versions": versions, "config": {"permissions": {"*": "r"}}, "_permissions": {}}

    def _json(self, h: BodyHandler, status: int, value: Any) -> None:
        h.send_plain(status, json.dumps(value).encode(), "application/json")

    def _handle(self, h: BodyHandler) -> None:
        entry, path = h.begin()
        query = parse_qs(urlsplit(h.path).query, keep_blank_values=True)

        def fail(status: int, retry_after: int | None) -> None:
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            h.send_plain(status, json.dumps({"detail": "Internal server error."}).encode(), "application/json",
                         headers)

        if h.gate(path, fail):
            return
        if path in self.extra:
            return send_body(h, self.extra[path], key=path, etag=self.extra[path].md5)
        if path.startswith("/s3/hypha/"):
            return self._storage(h, path)
        prefix = f"/{WORKSPACE}/artifacts/"
        if not path.startswith(prefix):
            return self._json(h, 404, {"detail": "Not Found"})
        rest = unquote(path[len(prefix):])
        alias, _, tail = rest.partition("/")
        if tail == "children":
            if alias != COLLECTION:
                return self._json(h, 404, {"detail": "Parent artifact not found"})
            return self._children(h, query)
        if alias not in self.models:
            return self._json(h, 404, {"detail": "Artifact not found"})
        if not tail:
            return self._json(h, 200, self.artifact(alias))
        if tail.startswith("files/"):
            return self._file(h, alias, tail[len("files/"):], (query.get("version") or [None])[0])
        return self._json(h, 404, {"detail": "Not Found"})

    def _children(self, h: BodyHandler, query: dict[str, list[str]]) -> None:
        def one(name: str, default: str) -> str:
            return (query.get(name) or [default])[0]

        try:
            offset, limit = int(one("offset", "0")), int(one("limit", "100"))
        except ValueError:
            return self._json(h, 422, {"detail": [{"type": "int_parsing", "loc": ["query", "limit"]}]})
        if not 1 <= limit <= 1000 or offset < 0:
            return self._json(h, 422, {"detail": [{"type": "less_than_equal", "loc": ["query", "limit"],
                                                    "msg": "Input should be less than or equal to 1000"}]})
        words = [w for w in one("keywords", "").split(",") if w]
        filters = json.loads(one("filters", "{}") or "{}")
        conditions = []
        for alias in self.models:
            text = json.dumps(self.models[alias].manifest).lower()
            conditions.append((alias, [w.lower() in text for w in words]
                               + ([self.models[alias].type == filters["type"]] if "type" in filters else [])))
        mode = one("mode", "AND")
        chosen = [a for a, c in conditions if not c or (any(c) if mode == "OR" else all(c))]
        order = one("order_by", "id")
        if order.startswith("created_at"):
            chosen.sort(key=lambda a: self.models[a].created_at, reverse=order.endswith(">"))
        else:
            chosen.sort()
        page = [self.artifact(a) for a in chosen[offset:offset + limit]]
        if one("pagination", "false").lower() == "true":
            return self._json(h, 200, {"items": page, "total": len(chosen), "offset": offset, "limit": limit})
        return self._json(h, 200, page)

    def _file(self, h: BodyHandler, alias: str, path: str, version: str | None) -> None:
        m = self.models[alias]
        names = list(m.files)
        if version is not None and version not in names:
            return self._json(h, 500, {"detail": f"Internal server error: Artifact version '{version}' does not exist."})
        index = names.index(version) if version is not None else len(names) - 1
        location = f"/s3/hypha/{m.id}/v{index}/{quote(path)}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600"
        h.send_plain(307, b"", "text/plain", {"Location": f"{self.url}{location}"})

    def _storage(self, h: BodyHandler, path: str) -> None:
        _, _, _, ident, vdir, *rel = path.split("/")
        name = unquote("/".join(rel))
        model = next((m for m in self.models.values() if m.id == ident), None)
        version = list(model.files)[int(vdir[1:])] if model and vdir[1:].isdigit() and int(vdir[1:]) < len(
            model.files) else None
        data = model.files[version].get(name) if model and version else None
        if data is None:
            return h.send_plain(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
        key = (ident, vdir, name)
        with self._lock:
            body = self._bodies.get(key)
            if body is None or body.data != data:
                body = self._bodies[key] = Body(data, time.time())
        send_body(h, body, key=name, etag=body.md5, ctype="application/octet-stream")
