"""A static file server speaking plain HTTP the way download.pytorch.org does (S3 behind CloudFront).

``FileServer(files={"/models/resnet18-f37072fd.pth": data, ...}, redirects={"/old": "/models/..."})``
where data is bytes or a Path (served from disk, for GB-sized benchmarks).

Routes: ``GET``/``HEAD`` of each file: 200 (or 206 for a ``Range``; 416 past the end) with
``Content-Type: binary/octet-stream``, ``Content-Length``, ``ETag`` (the quoted md5 of the bytes, as
S3 gives for a single-part upload: not a sha256), ``Last-Modified``, ``Accept-Ranges: bytes``,
``If-Range`` / ``If-None-Match`` honoured (see bodies.py). A path in ``redirects`` answers 301 with
that ``Location`` (absolute or relative). Any other path answers 403 with S3's ``AccessDenied`` XML
(what CloudFront in front of a private-listing bucket answers for a missing key), or
``missing_status`` if set to e.g. 404.

``set_file(path, data)`` replaces (or adds) a file at run time: new bytes, new ETag, new
Last-Modified, as a re-upload does. ``remove_file(path)`` deletes one.

Faults (attributes, settable while running; see bodies.py): ``fail_status``/``fail_times``/
``retry_after`` (answered as S3 XML: 500 InternalError, 503 SlowDown, 429 with ``Retry-After``),
``delay``, ``drop``, ``ignore_range``, ``rate_bps``, ``drop_after``/``drop_times`` (``drops``
counts), ``corrupt`` (a set of paths), ``faults_on``. Counters: ``bytes_sent``, ``bytes_by_key``
(keyed by path), ``failures``, ``requests`` (``Logged``: method, path, query, headers, host, status).
"""

from __future__ import annotations

import time
from typing import Any

from .bodies import Body, BodyHandler, Data, Faults, send_body
from .loopback import LoopbackServer

S3_ERRORS = {403: ("AccessDenied", "Access Denied"), 404: ("NoSuchKey", "The specified key does not exist."),
             500: ("InternalError", "We encountered an internal error. Please try again."),
             503: ("SlowDown", "Please reduce your request rate."), 429: ("SlowDown", "Please reduce your request rate.")}


def s3_error(status: int) -> bytes:
    code, message = S3_ERRORS.get(status, ("InternalError", "Error"))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>ZOOFINDTEST</RequestId><HostId>test</HostId></Error>").encode()


class FileServer(LoopbackServer, Faults):
    def __init__(self, files: dict[str, Data] | None = None, redirects: dict[str, str] | None = None,
                 *, missing_status: int = 403, **faults: Any) -> None:
        Faults.__init__(self, **faults)
        self._init_faults()
        self._bodies: dict[str, Body] = {}
        for path, data in (files or {}).items():
            self.set_file(path, data)
        self.redirects = dict(redirects or {})
        self.missing_status = missing_status
        server = self

        class Handler(BodyHandler):
            faults = server

            def do_GET(self) -> None:  # noqa: N802
                server._handle(self)

            do_HEAD = do_GET

        self._listen(Handler)

    @property
    def files(self) -> dict[str, Data]:
        with self._lock:
            return {p: b.data for p, b in self._bodies.items()}

    def set_file(self, path: str, data: Data) -> None:
        # A later Last-Modified even within the same second: S3's has one-second resolution.
        with self._lock:
            old = self._bodies.get(path)
        body = Body(data, max(time.time(), old.modified + 1) if old else time.time())
        body.md5  # the ETag, computed before it is served: a first request must not wait for it (it skews benchmarks)
        with self._lock:
            self._bodies[path] = body

    def remove_file(self, path: str) -> None:
        with self._lock:
            self._bodies.pop(path, None)

    def body(self, path: str) -> Body | None:
        with self._lock:
            return self._bodies.get(path)

    def _handle(self, h: BodyHandler) -> None:
        entry, path = h.begin()

        def fail(status: int, retry_after: int | None) -> None:
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            h.send_plain(status, s3_error(status), "application/xml", headers)

        if h.gate(path, fail):
            return
        if path in self.redirects:
            return h.send_plain(301, b"", "text/plain", {"Location": self.redirects[path]})
        body = self.body(path)
        if body is None:
            return h.send_plain(self.missing_status, s3_error(self.missing_status), "application/xml")
        send_body(h, body, key=path, etag=body.md5, ctype="binary/octet-stream",
                  headers={"x-amz-server-side-encryption": "AES256", "X-Cache": "Miss from cloudfront"})


