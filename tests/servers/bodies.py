"""Serving file bytes the way CDNs and object stores do, with fault injection: shared by every test server.

``send_body(handler, body, key=..., faults=..., headers=...)`` answers a GET or HEAD for one
resource:

* ``Range: bytes=a-b`` / ``a-`` / ``-n`` gives 206 with ``Content-Range: bytes a-b/size``; a range
  starting at or past the end (or ``-0``) gives 416 with ``Content-Range: bytes */size``; a
  malformed or multi-range header is ignored (200, the whole body), as RFC 9110 allows and S3 does.
* ``If-Range`` holding another ETag (or date) than the current one makes the range ignored (200);
  ``If-None-Match`` matching the ETag gives 304. ``Accept-Ranges: bytes``, ``Content-Length``,
  ``ETag``, ``Last-Modified`` on every answer.
* ``gzip=True`` (a compressible file on a CDN that compresses) answers a request whose
  ``Accept-Encoding`` allows gzip, and that has no ``Range``, with ``Content-Encoding: gzip``,
  ``Transfer-Encoding: chunked``, no ``Content-Length`` and a weak ``ETag: W/"..."``, as CloudFront
  does in front of the Hub; ``Accept-Encoding: identity`` always gets the bytes as they are.

``Faults`` holds the knobs (plain attributes, settable while the server runs) and the counters. A
server mixes it in; its handler calls ``gate`` before routing (``delay``, ``drop``,
``fail_status``/``fail_times``/``retry_after``) and ``send_body`` applies the body knobs:

* ``ignore_range``: answer a ranged request 200 with the whole body;
* ``rate_bps``: pace each response body at that many bytes per second (one connection = one
  stream, so N connections get N times the rate, like a long network path);
* ``drop_after`` (bytes) with ``drop_times`` (None = every time): close the connection after that
  many body bytes of a response; ``drops`` counts how often it happened;
* ``corrupt``: keys whose served bytes get the middle byte flipped (every range sees the same
  damaged file);
* ``faults_on``: a regular expression searched in ``"METHOD /path"``; when set, only matching
  requests get any fault (e.g. ``r"^GET /repos/"`` for LFS bodies only). None = every request.

Counters: ``bytes_sent`` (body bytes handed to the socket, all keys; counted as each piece is
written and taken back if the write fails; gzip answers count the compressed bytes),
``bytes_by_key`` (key -> bytes),
``failures`` (fail_status answers sent), ``drops``; ``requests`` logs every request as a
``Logged`` (method, path, query, headers with lower-case names, host, status; ``.range`` and
``.authorized`` read the headers). ``clear()`` empties the log and zeroes the counters;
``reset_faults()`` puts every knob back.
"""

from __future__ import annotations

import email.utils
import gzip as gziplib
import hashlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .loopback import QuietHandler

CHUNK = 256 * 1024
#: Served files are immutable once made; their hashes are computed once, when first asked for.
Data = bytes | Path


@dataclass
class Logged:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    host: str = ""
    status: int | None = None

    @property
    def range(self) -> str | None:
        return self.headers.get("range")

    @property
    def authorized(self) -> bool:
        return "authorization" in self.headers


@dataclass(frozen=True)
class Body:
    """The bytes of one resource, in memory or in a file (for GB-sized benchmarks), with their validators."""

    data: Data
    modified: float = field(default_factory=time.time)

    @cached_property
    def size(self) -> int:
        return len(self.data) if isinstance(self.data, bytes) else self.data.stat().st_size

    def chunks(self, start: int, end: int, size: int = CHUNK) -> Iterator[bytes | memoryview]:
        """Bytes start..end (inclusive) in pieces of at most ``size``."""
        if isinstance(self.data, bytes):
            view = memoryview(self.data)
            for at in range(start, end + 1, size):
                yield view[at:min(at + size, end + 1)]
            return
        with self.data.open("rb") as f:
            f.seek(start)
            left = end + 1 - start
            while left > 0:
                piece = f.read(min(size, left))
                if not piece:
                    return
                left -= len(piece)
                yield piece

    def _hash(self, name: str, prefix: bytes = b"") -> str:
        h = hashlib.new(name, prefix)
        for piece in self.chunks(0, self.size - 1, 4 * 1024 * 1024):
            h.update(piece)
        return h.hexdigest()

    @cached_property
    def sha256(self) -> str:
        return self._hash("sha256")

    @cached_property
    def md5(self) -> str:
        return self._hash("md5")

    @cached_property
    def git_oid(self) -> str:
        """The git blob sha1 of the bytes (what ``git hash-object`` prints)."""
        return self._hash("sha1", b"blob %d\0" % self.size)

    @property
    def last_modified(self) -> str:
        return email.utils.formatdate(self.modified, usegmt=True)

    def read_all(self) -> bytes:
        return self.data if isinstance(self.data, bytes) else self.data.read_bytes()


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(kw_only=True)
class Faults:
    """Fault knobs and byte counters; see the module docstring."""

    fail_status: int | None = None
    retry_after: int | None = None
    fail_times: int | None = None
    delay: float = 0.0
    drop: bool = False
    faults_on: str | None = None
    ignore_range: bool = False
    rate_bps: float | None = None
    drop_after: int | None = None
    drop_times: int | None = None
    corrupt: set[str] = field(default_factory=set)
    requests: list[Logged] = field(default_factory=list)
    bytes_sent: int = 0
    bytes_by_key: dict[str, int] = field(default_factory=dict)
    failures: int = 0
    drops: int = 0

    def _init_faults(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    # -- inspection ------------------------------------------------------------------
    def log(self, path_prefix: str = "") -> list[Logged]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    def clear(self) -> None:
        """Forget the request log and zero the counters (the knobs stay)."""
        with self._lock:
            self.requests.clear()
            self.bytes_by_key.clear()
            self.bytes_sent = self.failures = self.drops = 0

    def reset_faults(self) -> None:
        """Every knob back to its default (the log and counters stay)."""
        with self._lock:
            self.fail_status = self.retry_after = self.fail_times = self.faults_on = None
            self.rate_bps = self.drop_after = self.drop_times = None
            self.delay, self.drop, self.ignore_range = 0.0, False, False
            self.corrupt = set()

    # -- used by handlers --------------------------------------------------------------
    def _record(self, entry: Logged) -> None:
        with self._lock:
            self.requests.append(entry)

    def _faulty(self, method: str, path: str) -> bool:
        pattern = self.faults_on
        return pattern is None or re.search(pattern, f"{method} {path}") is not None

    def _spend(self, knob: str, times: str, counter: str) -> bool:
        """Whether the fault ``knob`` strikes now: it is set and its ``times`` budget (None = endless) is not spent."""
        with self._lock:
            if getattr(self, knob) is None:
                return False
            left = getattr(self, times)
            if left is not None:
                if left <= 0:
                    return False
                setattr(self, times, left - 1)
            setattr(self, counter, getattr(self, counter) + 1)
            return True

    def _should_fail(self) -> bool:
        return self._spend("fail_status", "fail_times", "failures")

    def _take_drop(self) -> int | None:
        """The byte count after which this response is cut, or None."""
        return self.drop_after if self._spend("drop_after", "drop_times", "drops") else None

    def _count(self, key: str, n: int) -> None:
        with self._lock:
            self.bytes_sent += n
            self.bytes_by_key[key] = self.bytes_by_key.get(key, 0) + n


class BodyHandler(QuietHandler):
    """A handler that logs each request with the status it got, and serves bodies with the server's faults."""

    faults: Faults
    logged: Logged | None = None

    def send_response(self, code: int, message: str | None = None) -> None:
        if self.logged is not None:
            self.logged.status = code
        super().send_response(code, message)

    def begin(self) -> tuple[Logged, str]:
        """Log this request; return the entry and the path without its query."""
        parts = urlsplit(self.path)
        entry = Logged(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                       {k.lower(): v for k, v in self.headers.items()}, self.headers.get("Host", ""))
        self.logged = entry
        self.faults._record(entry)
        return entry, parts.path

    def gate(self, path: str, fail: Any) -> bool:
        """Apply delay, drop and failure bursts; True when the request has been answered (or hung up on).

        ``fail(status, retry_after)`` answers a failure in the server's own error format."""
        f = self.faults
        if not f._faulty(self.command, path):
            return False
        if f.delay and f._stopping.wait(f.delay):
            return True
        if f.drop:
            self.hang_up()
            return True
        if f._should_fail():
            fail(f.fail_status or 500, f.retry_after)
            return True
        return False

    def hang_up(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def send_plain(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8",
                   headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            self.close_connection = True


def parse_range(value: str | None, size: int) -> tuple[int, int] | str | None:
    """(first, last) inclusive, "unsatisfiable", or None when the header is absent or to be ignored."""
    if not value:
        return None
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value)
    if not m or (not m[1] and not m[2]):
        return None  # malformed or several ranges: ignored, the whole body is sent
    if not m[1]:
        n = int(m[2])
        if n == 0 or size == 0:
            return "unsatisfiable"
        return max(size - n, 0), size - 1
    first = int(m[1])
    last = int(m[2]) if m[2] else size - 1
    if m[2] and last < first:
        return None
    if first >= size:
        return "unsatisfiable"
    return first, min(last, size - 1)


GZIP_SUFFIXES = (".json", ".txt", ".md", ".py", ".yaml", ".yml", ".csv", ".jsonl", ".tsv", ".xml", ".html")


def wants_gzip(accept_encoding: str | None) -> bool:
    if not accept_encoding:
        return False
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*") and params.replace(" ", "") not in ("q=0", "q=0.0"):
            return True
    return False


def send_body(
    h: BodyHandler, body: Body, *, key: str, etag: str, headers: dict[str, str] | None = None,
    ctype: str = "application/octet-stream", gzip: bool = False,
) -> None:
    """Answer h's GET or HEAD with ``body`` (see the module docstring). ``etag`` is sent quoted."""
    f = h.faults
    head = h.command == "HEAD"
    faulty = f._faulty(h.command, urlsplit(h.path).path)
    quoted = f'"{etag}"'
    base = {"Content-Type": ctype, "Accept-Ranges": "bytes", "ETag": quoted, "Last-Modified": body.last_modified,
            **(headers or {})}
    inm = h.headers.get("If-None-Match")
    if inm and (inm.strip() == "*" or quoted in [t.strip().removeprefix("W/") for t in inm.split(",")]):
        return _headers_only(h, 304, {k: v for k, v in base.items() if k != "Content-Type"})
    size = body.size
    wanted = parse_range(h.headers.get("Range"), size)
    if_range = h.headers.get("If-Range")
    if wanted is not None and if_range is not None and if_range.strip() not in (quoted, body.last_modified):
        wanted = None  # the client's copy is of another version: it gets the whole new one
    if wanted is not None and faulty and f.ignore_range:
        wanted = None
    if wanted == "unsatisfiable":
        return _headers_only(h, 416, {**base, "Content-Range": f"bytes */{size}", "Content-Length": "0"})
    if gzip and wanted is None and wants_gzip(h.headers.get("Accept-Encoding")):
        return _send_gzip(h, body, key=key, headers={**base, "ETag": f"W/{quoted}", "Vary": "Accept-Encoding"}, head=head)
    if wanted is None:
        status, first, last = 200, 0, size - 1
    else:
        status, (first, last) = 206, wanted  # type: ignore[misc]
        base["Content-Range"] = f"bytes {first}-{last}/{size}"
    length = last - first + 1 if size else 0
    try:
        h.send_response(status)
        for name, value in {**base, "Content-Length": str(length)}.items():
            h.send_header(name, value)
        h.end_headers()
        if head or length == 0:
            return
        _stream(h, body, first, last, key=key, faulty=faulty)
    except OSError:
        h.close_connection = True  # the client went away


def _headers_only(h: BodyHandler, status: int, headers: dict[str, str]) -> None:
    try:
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        if "Content-Length" not in headers and status != 304:
            h.send_header("Content-Length", "0")
        h.end_headers()
    except OSError:
        h.close_connection = True


def _stream(h: BodyHandler, body: Body, first: int, last: int, *, key: str, faulty: bool) -> None:
    f = h.faults
    rate = f.rate_bps if faulty else None
    cut = f._take_drop() if faulty else None
    flip = body.size // 2 if key in f.corrupt else None
    piece = CHUNK if not rate else int(min(CHUNK, max(1024, rate / 50)))
    started, sent, at = time.monotonic(), 0, first
    for chunk in body.chunks(first, last, piece):
        if flip is not None and at <= flip < at + len(chunk):
            damaged = bytearray(chunk)
            damaged[flip - at] ^= 0xFF
            chunk = bytes(damaged)
        if cut is not None and sent + len(chunk) >= cut:
            chunk = chunk[:max(cut - sent, 0)]
            if chunk:
                _write(h, key, chunk)
            h.wfile.flush()
            h.hang_up()
            return
        _write(h, key, chunk)
        sent += len(chunk)
        at += len(chunk)
        if rate:
            # Pace against the start, not per chunk: sleep overshoots then do not add up.
            ahead = started + sent / rate - time.monotonic()
            if ahead > 0 and f._stopping.wait(ahead):
                h.hang_up()
                return


def _write(h: BodyHandler, key: str, chunk: bytes | memoryview, counted: int | None = None) -> None:
    """Write one piece of a body and count it: before the write, so that a client that has read everything finds
    it counted, and taken back when the write fails (a killed client's unsent bytes are not counted as sent)."""
    n = len(chunk) if counted is None else counted
    h.faults._count(key, n)
    try:
        h.wfile.write(chunk)
    except OSError:
        h.faults._count(key, -n)
        raise


def _send_gzip(h: BodyHandler, body: Body, *, key: str, headers: dict[str, str], head: bool) -> None:
    data = body.read_all()
    if key in h.faults.corrupt and data:
        damaged = bytearray(data)
        damaged[len(data) // 2] ^= 0xFF
        data = bytes(damaged)
    packed = gziplib.compress(data, mtime=0)
    try:
        h.send_response(200)
        for name, value in {**headers, "Content-Encoding": "gzip", "Transfer-Encoding": "chunked"}.items():
            h.send_header(name, value)
        h.end_headers()
        if head:
            return
        for at in range(0, len(packed), CHUNK):
            part = packed[at:at + CHUNK]
            _write(h, key, b"%x\r\n%s\r\n" % (len(part), part), counted=len(part))
        h.wfile.write(b"0\r\n\r\n")
    except OSError:
        h.close_connection = True
