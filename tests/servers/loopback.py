"""What every local protocol server shares: a threaded HTTP server on 127.0.0.1, a free
port, a request log, and `with` to start and stop it.

Stopping also closes the keep-alive connections still open (and wakes handlers waiting on
``_stopping``), so a paced or stalled body does not outlive its test."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive, as the real services speak it), without access logs on stderr."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        tracked = getattr(self.server, "tracked", None)
        if tracked is not None:
            lock, connections = tracked
            with lock:
                connections.add(self.connection)

    def finish(self) -> None:
        tracked = getattr(self.server, "tracked", None)
        if tracked is not None:
            lock, connections = tracked
            with lock:
                connections.discard(self.connection)
        super().finish()


class LoopbackServer:
    requests: list[Any]

    def _listen(self, handler: type[BaseHTTPRequestHandler]) -> None:
        if not hasattr(self, "_lock"):
            self._lock = threading.Lock()
        if not hasattr(self, "_stopping"):
            self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        # ``bind_port`` (set before _listen): a given port, e.g. to bring a stopped server back where it was.
        self.httpd = ThreadingHTTPServer(("127.0.0.1", getattr(self, "bind_port", 0)), handler)
        self.httpd.daemon_threads = True
        self.httpd.tracked = (self._lock, self._connections)  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_port

    def __enter__(self) -> Any:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses every connection: bound (so no one else takes it), not listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
