"""A forward HTTP proxy on 127.0.0.1, the way squid or a cluster's egress proxy speaks:

* ``GET http://host:port/path HTTP/1.1`` (absolute form): the request is made to the origin
  (its ``Proxy-*`` headers removed, ``Connection: close``) and the answer relayed byte for byte;
  then the client's connection is closed (``Connection: close`` in the relayed head);
* ``CONNECT host:port``: ``200 Connection established``, then bytes both ways until either side
  closes (TLS to the origin passes through unread);
* ``credentials="user:pass"``: without ``Proxy-Authorization: Basic <that>`` every request is
  answered ``407 Proxy Authentication Required`` (with ``Proxy-Authenticate``).

``log`` records each request as ``(method, target, proxy_authorization or None)``; the bytes the
origin sent back through it are counted in ``relayed``.
"""

from __future__ import annotations

import base64
import select
import socket
import socketserver
import threading
from typing import Any
from urllib.parse import urlsplit


class ProxyServer:
    def __init__(self, *, credentials: str | None = None) -> None:
        self.credentials = credentials
        self.log: list[tuple[str, str, str | None]] = []
        self.relayed = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> ProxyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url_with(self, user: str, password: str) -> str:
        return self.url.replace("http://", f"http://{user}:{password}@")

    # -- one client connection ------------------------------------------------------------
    def _handle(self, client: socket.socket) -> None:
        head = _read_head(client)
        if head is None:
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if ":" in line]
        auth = next((v for k, v in headers if k.lower() == "proxy-authorization"), None)
        with self._lock:
            self.log.append((method, target, auth))
        if self.credentials is not None and auth != "Basic " + base64.b64encode(self.credentials.encode()).decode():
            client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n"
                           b"Content-Length: 0\r\nConnection: close\r\n\r\n")
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            try:
                upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
            except OSError:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._pump(client, upstream, origin=upstream)
            return
        parts = urlsplit(target)
        if parts.scheme != "http" or not parts.hostname:
            client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        kept = [(k, v) for k, v in headers if not k.lower().startswith("proxy-") and k.lower() != "connection"]
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept) + "Connection: close\r\n\r\n"
        upstream = socket.create_connection((parts.hostname, parts.port or 80), timeout=10)
        upstream.sendall(request.encode("latin-1"))
        answer = _read_head(upstream) or b""
        # The client's connection ends with this answer, whatever the origin would have kept.
        answer = b"\r\n".join(line for line in answer.split(b"\r\n") if not line.lower().startswith(b"connection:"))
        client.sendall(answer + b"\r\nConnection: close\r\n\r\n")
        self._pump(upstream, client, origin=upstream, one_way=True)

    def _pump(self, a: socket.socket, b: socket.socket, *, origin: socket.socket, one_way: bool = False) -> None:
        """Bytes from a to b (and b to a unless ``one_way``) until one side closes."""
        pairs = {a: b} if one_way else {a: b, b: a}
        try:
            while True:
                ready, _, _ = select.select(list(pairs), [], [], 30)
                if not ready:
                    return
                for src in ready:
                    data = src.recv(1 << 16)
                    if not data:
                        return
                    pairs[src].sendall(data)
                    if src is origin:
                        with self._lock:
                            self.relayed += len(data)
        except OSError:
            return
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()


def _read_head(sock: socket.socket) -> bytes | None:
    """The request or answer head, up to (not including) its blank line; None if it closed first.
    Reads one byte at a time past the blank line never: the body stays in the socket."""
    data = b""
    while not data.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        if not byte:
            return None
        data += byte
        if len(data) > 65536:
            return None
    return data[:-4]
