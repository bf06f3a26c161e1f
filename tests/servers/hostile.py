"""A hostile server: every source's routes on 127.0.0.1, answered the way an adversary would.

One server plays the Hugging Face Hub, Kaggle's API, tfhub.dev and the torchvision
checkpoint host at once (point HF_ENDPOINT, ZOOFIND_KAGGLE_ENDPOINT, ZOOFIND_TFHUB_ENDPOINT
and ZOOFIND_TORCHVISION_ENDPOINT at ``server.url``), and misbehaves as its ``mode`` says:

* ``"json"``: a normal-looking answer per route: ``payloads[route]`` (any JSON value, or
  raw ``bytes``) with ``headers[route]``, 404 without any service's error headers when the
  route has none;
* ``"drip"``: status and headers at once, then the body one byte every ``interval`` s;
* ``"drip_headers"``: the status line and headers themselves one byte every ``interval`` s;
* ``"stall"``: reads the request and never answers;
* ``"endless"``: 200 without a length, and a body that never ends;
* ``"bomb"``: 200 with ``Content-Encoding: gzip``, a valid gzip stream of ``bomb_gib`` GiB
  of zeros that is about 1 MB per GiB on the wire;
* ``"redirects"``: each request waits ``interval`` s, then 302s to the next hop
  (tfhub.dev-style chains), ``hops`` times, then answers ``payloads["final"]`` (default
  ``{}``); ``redirect_body="bomb"`` or ``"endless"`` gives every 302 that body as well,
  and ``location`` replaces the address each 302 points to (a malformed one, a credential);
* ``"status"``: ``status`` with a short HTML body and no service's error headers (a mirror's
  plain 404, a proxy's 502).

Routes (``route_of``): ``hf-list`` (GET /api/models), ``hf-info`` (/api/models/o/n),
``hf-auth`` (.../auth-check), ``hf-tree`` (.../tree/...), ``kaggle-list`` and ``kaggle-get`` (POST
/api/v1/models.ModelApiService/ListModels|GetModel), ``tfhub`` (any other path with a
``*-format=`` query), ``root`` (anything else, the probes' targets).

``requests`` logs (method, path, headers) of every request.
"""

from __future__ import annotations

import functools
import json
import struct
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from .loopback import LoopbackServer, QuietHandler

MODES = ("json", "drip", "drip_headers", "stall", "endless", "bomb", "redirects", "status")
KAGGLE_PREFIX = "/api/v1/models.ModelApiService/"


def route_of(method: str, target: str) -> str:
    parts = urlsplit(target)
    path = parts.path.rstrip("/")
    if path == "/api/models":
        return "hf-list"
    if path.startswith("/api/models/"):
        return "hf-auth" if path.endswith("/auth-check") else "hf-tree" if "/tree/" in path else "hf-info"
    if path.startswith(KAGGLE_PREFIX):
        return "kaggle-get" if path.endswith("/GetModel") else "kaggle-list"
    if "-format=" in parts.query:
        return "tfhub"
    return "root"


@functools.lru_cache(maxsize=1)
def _bomb_block() -> bytes:
    """1 MiB of zeros as raw deflate ending on a full flush: the compressor's state resets
    there, so the same bytes inflate to the next MiB as well (and repeat byte for byte)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    c.compress(bytes(1 << 20))
    c.flush(zlib.Z_FULL_FLUSH)
    return c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)


def gzip_bomb(gib: int) -> tuple[int, Iterator[bytes]]:
    """(compressed length, the pieces) of a gzip stream of ``gib`` GiB of zeros."""
    block = _bomb_block()
    mib = gib * 1024
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    length = len(header) + len(block) * mib + 10

    def pieces() -> Iterator[bytes]:
        yield header
        batch = block * 64
        for _ in range(mib // 64):
            yield batch
        yield block * (mib % 64)
        # The trailer's CRC-32 costs seconds over GiBs: only a client that swallowed them all gets here.
        crc, zero = 0, bytes(1 << 20)
        for _ in range(mib):
            crc = zlib.crc32(zero, crc)
        yield b"\x03\x00" + struct.pack("<II", crc, (mib << 20) & 0xFFFFFFFF)

    return length, pieces()


class HostileServer(LoopbackServer):
    def __init__(
        self, mode: str = "json", *, payloads: dict[str, Any] | None = None, interval: float = 0.5, hops: int = 10,
        bomb_gib: int = 4, status: int = 404, redirect_body: str | None = None, location: str | None = None,
        headers: dict[str, dict[str, str]] | None = None,
    ) -> None:
        assert mode in MODES, mode
        self.mode = mode
        self.payloads = dict(payloads or {})
        self.interval = interval
        self.hops = hops
        self.bomb_gib = bomb_gib
        self.status = status
        self.redirect_body = redirect_body
        self.location = location
        self.headers = dict(headers or {})
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._stopping = threading.Event()
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                server._handle(self)

            def do_POST(self) -> None:  # noqa: N802
                server._handle(self)

            def do_HEAD(self) -> None:  # noqa: N802
                server._handle(self)

        self._listen(Handler)

    def __exit__(self, *exc: Any) -> None:
        self._stopping.set()  # ends every dripping, stalling and endless handler
        super().__exit__(*exc)

    def paths(self, route: str | None = None) -> list[str]:
        with self._lock:
            return [p for m, p, _ in self.requests if route is None or route_of(m, p) == route]

    # -- dispatch ---------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        if length:
            h.rfile.read(length)
        with self._lock:
            self.requests.append((h.command, h.path, {k.lower(): v for k, v in h.headers.items()}))
        try:
            getattr(self, f"_{self.mode}")(h)
        except OSError:
            pass  # the client hung up: what a well-behaved client does to a hostile server
        h.close_connection = True

    def _json(self, h: BaseHTTPRequestHandler) -> None:
        route = route_of(h.command, h.path)
        if route not in self.payloads:
            return self._send(h, 404, b"<html><body>Not Found</body></html>", "text/html")
        value = self.payloads[route]
        body = value if isinstance(value, bytes) else json.dumps(value).encode()
        self._send(h, 200, body, "application/json", self.headers.get(route, {}))

    def _status(self, h: BaseHTTPRequestHandler) -> None:
        self._send(h, self.status, b"<html><body>Not Found</body></html>", "text/html")

    def _drip(self, h: BaseHTTPRequestHandler) -> None:
        body = b'{"id": "acme/x", "padding": "' + b"x" * 100_000 + b'"}'
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        self._trickle(h, body)

    def _drip_headers(self, h: BaseHTTPRequestHandler) -> None:
        self._trickle(h, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: " + b"y" * 10_000 + b"\r\n\r\n")

    def _trickle(self, h: BaseHTTPRequestHandler, data: bytes) -> None:
        h.wfile.flush()
        for i in range(len(data)):
            h.wfile.write(data[i:i + 1])
            h.wfile.flush()
            if self._stopping.wait(self.interval):
                return

    def _stall(self, h: BaseHTTPRequestHandler) -> None:
        self._stopping.wait(600)

    def _endless(self, h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Connection", "close")  # no length: the body runs until the connection closes
        h.end_headers()
        chunk = b"[" * 65536
        while not self._stopping.is_set():
            h.wfile.write(chunk)

    def _bomb(self, h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        self._bomb_body(h)

    def _bomb_body(self, h: BaseHTTPRequestHandler) -> None:
        length, pieces = gzip_bomb(self.bomb_gib)
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Content-Length", str(length))
        h.end_headers()
        for piece in pieces:
            if self._stopping.is_set():
                return
            h.wfile.write(piece)

    def _redirects(self, h: BaseHTTPRequestHandler) -> None:
        if self.interval and self._stopping.wait(self.interval):
            return
        parts = urlsplit(h.path)
        hop = int(parts.path.rsplit("/hop", 1)[1]) if "/hop" in parts.path else 0
        if hop >= self.hops:
            final = self.payloads.get("final", {})
            return self._send(h, 200, final if isinstance(final, bytes) else json.dumps(final).encode(), "application/json")
        h.send_response(302)
        h.send_header("Location", self.location or f"{self.url}/hop{hop + 1}?{parts.query}")
        if self.redirect_body == "bomb":
            self._bomb_body(h)
        elif self.redirect_body == "endless":
            h.send_header("Connection", "close")
            h.end_headers()
            while not self._stopping.is_set():
                h.wfile.write(b" " * 65536)
        else:
            h.send_header("Content-Length", "0")
            h.end_headers()

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, code: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

