"""zoofind's HTTP/1.1: the standard library's ``http.client``, for API calls (``net.http``) and
download bodies (``fetch``), a body read with ``readinto`` into the caller's buffer.

Chosen by measurement (benchmarks/datapath.py, README "Dependencies"): httpx's ``iter_raw``
hands over a fresh ``bytes`` per 64 KiB read (h11's copies, httpcore's layers), and cost 4.35 s
CPU per GiB on loopback; this path receives straight into one buffer that is written from and
hashed in place. For API calls, httpx's import alone (~220 ms CPU) was most of a live search's
budget. What httpx did is kept, each at its own place:

* connections kept alive and reused (one idle pool per origin and proxy), a pooled one checked
  for a server that closed it before it is used again, and one fresh try when a reused one
  turns out dead before its answer began;
* proxies from the environment as httpx reads them (``net.proxy``): ``http://`` URLs in absolute
  form through the proxy, ``https://`` ones tunnelled with ``CONNECT``; credentials in the proxy's
  URL go as ``Proxy-Authorization``;
* TLS verified with the process's one context (``net.transport.tls_context``: certifi, or
  ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), the host name checked;
* timeouts: ``connect`` for the connection (tunnel and handshake included), then ``stall`` for
  every read and write (a request may bring its own, an API call's time left); the socket of
  every connection is handed to a ``SocketTracker``, so Ctrl-C or a call's deadline wakes a
  thread blocked reading it;
* failures raised as ``net.transport``'s exceptions, named as httpx named them (``ConnectError``
  caused by the OS error, ``ConnectTimeout``, ``ReadTimeout``, ``RemoteProtocolError``,
  ``ReadError``, ``ProxyError``), so ``net.errors`` classifies and words them exactly as before.

Redirects, the token's host, content codings, ranges and caps stay the callers'.
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from .proxy import Rule, environment_rules, proxy_for
from .transport import (
    URL,
    ConnectError,
    ConnectTimeout,
    Headers,
    ProxyError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    UnsupportedProtocol,
    parse_url,
    tls_context,
)

#: Idle connections kept per origin (a worker takes one per request; ``jobs`` workers at most).
IDLE_PER_ORIGIN = 16
#: Statuses whose answers have no body whatever their headers say.
NO_BODY = frozenset({204, 304})

Key = tuple[str, str, int, str | None]  # scheme, host, port, proxy


class SocketTracker:
    """The sockets of the connections a ``Wire`` opens, so another thread can shut them all.

    Closing a connection does not wake a thread blocked reading it; ``shut_all`` shuts every
    socket, the blocked reads return, and the callers see a closed connection (Ctrl-C in a
    pull, a call's deadline in ``net.http``). A socket added after ``shut_all`` is shut at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.fired = False

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            late = self.fired
        if late:
            _shut(sock)

    def shut_all(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    # shutdown, not close: it wakes a thread blocked reading the socket; its owner closes it after.
    # The plain socket's shutdown even on a TLS one: ssl.SSLSocket's would drop the TLS state
    # under the thread still reading it.
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class WireResponse:
    """One answer: status, headers (case-insensitive), the URL asked, and its body read with
    ``readinto``. ``close`` gives the connection back to the pool when the body was read to its
    end, else closes it (an unread body cannot be skipped cheaply)."""

    def __init__(self, wire: Wire, key: Key, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse,
                 url: URL) -> None:
        self._wire, self._key, self._conn, self._resp = wire, key, conn, resp
        self.url = url
        self.status_code = resp.status
        self.headers = Headers(resp.getheaders())
        #: body bytes still to come when the length is known and the body plain (None: chunked,
        #: read through http.client's own ``readinto``, which undoes the chunks)
        self._left: int | None = None if resp.chunked else resp.length
        #: a plain body without a length: it ends when the server closes the connection
        self._to_close = not resp.chunked and resp.length is None
        if self.status_code in NO_BODY or resp.status < 200:
            self._left, self._to_close = 0, False
        self._fp = resp.fp
        self._done = self._left == 0
        self._closed = False

    def readinto(self, view: memoryview) -> int:
        """Up to ``len(view)`` body bytes into ``view``, as soon as some have arrived (0: the body
        ended, or the connection closed early: the caller compares with what it asked for)."""
        try:
            if self._fp is None:
                return 0
            if self._to_close:
                return self._fp.readinto1(view)  # 0 at the end; the connection is not reused
            if self._left is None:
                n = self._resp.readinto(view)
                self._done = n == 0 and self._resp.isclosed()
                return n
            if self._left <= 0:
                return 0
            # readinto1: at most one read of the socket, so bytes are written (and counted for a
            # resume) as they arrive, however slow the link; on a fast one a read brings what the
            # socket holds, up to the whole buffer.
            n = self._fp.readinto1(view[: self._left] if len(view) > self._left else view)
        except TimeoutError as exc:
            raise ReadTimeout(f"no bytes for a while: {exc}", self.url.text) from exc
        except http.client.HTTPException as exc:
            raise RemoteProtocolError(f"{type(exc).__name__}: {exc}", self.url.text) from exc
        except OSError as exc:
            raise ReadError(f"{type(exc).__name__}: {exc}", self.url.text) from exc
        if n == 0:
            self._left = -1  # closed before the length it announced: the connection is spent
            return 0
        self._left -= n
        self._done = self._left == 0
        return n

    def iter_raw(self, size: int = 64 * 1024) -> Iterator[bytes]:
        """The body as it arrives, in pieces of at most ``size`` bytes (an API answer's);
        ``RemoteProtocolError`` when the connection closed before the length it announced."""
        buf = bytearray(size)
        view = memoryview(buf)
        while n := self.readinto(view):
            yield bytes(view[:n])
        if self._left is not None and self._left < 0:
            raise RemoteProtocolError("peer closed connection without sending complete message body",
                                      self.url.text) from http.client.IncompleteRead(b"")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        reusable = self._done and not self._resp.will_close
        self._resp.close()  # closes the answer's file object only; the socket is the connection's
        self._wire.release(self._key, self._conn, reusable)


class Wire:
    """The engine run's connections: made on demand, kept alive, and closed together at its end."""

    def __init__(self, *, stall: float, connect: float, tracker: SocketTracker, user_agent: str) -> None:
        self.stall, self.connect_timeout = stall, connect
        self.tracker = tracker
        self.user_agent = user_agent
        self.rules: list[Rule] = environment_rules()  # read once per run, as an httpx Client reads them
        self._idle: dict[Key, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    # -- the pool ----------------------------------------------------------------------
    def _take(self, key: Key) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(key, [])
            while idle:
                conn = idle.pop()
                if conn.sock is not None and not _dropped(conn.sock):
                    return conn
                conn.close()  # the server closed it while it was idle (or sent what it should not)
        return None

    def release(self, key: Key, conn: http.client.HTTPConnection, reusable: bool) -> None:
        with self._lock:
            if reusable and not self._closed and conn.sock is not None:
                idle = self._idle.setdefault(key, [])
                if len(idle) < IDLE_PER_ORIGIN:
                    idle.append(conn)
                    return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()

    # -- one request -------------------------------------------------------------------
    def send(self, method: str, url: str | URL, headers: Mapping[str, str], body: bytes | None = None, *,
             stall: float | None = None, connect: float | None = None) -> WireResponse:
        """One request; its answer with status and headers read. ``stall`` and ``connect`` replace the
        wire's timeouts for this request (an API call's time left)."""
        target = url if isinstance(url, URL) else parse_url(url)
        if target.scheme not in ("http", "https"):
            raise UnsupportedProtocol(f"Request URL has an unsupported protocol '{target.scheme}://'.", target.text)
        port = target.origin[2]
        proxy = proxy_for(self.rules, target.scheme, target.host, target.port)
        key: Key = (target.scheme, target.host, port, proxy)
        path = target.target
        send = {"User-Agent": self.user_agent, "Accept-Encoding": "identity", **headers}
        if target.userinfo is not None and not any(k.lower() == "authorization" for k in send):
            send["Authorization"] = "Basic " + base64.b64encode(target.userinfo.encode()).decode("ascii")
        if proxy is not None and target.scheme == "http":
            path = target.text  # absolute form: the proxy makes the request
            send.update(_proxy_auth(proxy))
        stall = self.stall if stall is None else stall
        for attempt in range(2):
            conn = self._take(key)
            reused = conn is not None
            if conn is None:
                conn = self._connect(key, target, self.connect_timeout if connect is None else connect)
            try:
                assert conn.sock is not None
                conn.sock.settimeout(stall)
                conn.putrequest(method, path, skip_accept_encoding=True)
                for name, value in send.items():
                    conn.putheader(name, value)
                if body is not None:
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                answer = conn.getresponse()
            except Exception as exc:
                conn.close()
                stale = isinstance(exc, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError))
                if reused and stale and attempt == 0:
                    continue  # a kept-alive connection the server had dropped: once more on a fresh one
                raise _mapped(exc, target) from exc
            except BaseException:
                conn.close()  # Ctrl-C while waiting for the answer
                raise
            return WireResponse(self, key, conn, answer, target)
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _connect(self, key: Key, target: URL, timeout: float) -> http.client.HTTPConnection:
        scheme, host, port, proxy = key
        conn: http.client.HTTPConnection
        where_host, where_port = host, port
        if proxy is not None:
            p = urlsplit(proxy)
            if p.scheme != "http" or not p.hostname:
                raise ProxyError(f"the proxy {p.scheme}://{p.hostname or ''} is not an http:// proxy "
                                 "(zoofind goes through http:// proxies only)", target.text)
            where_host, where_port = p.hostname, p.port or 80
        if scheme == "https":
            conn = http.client.HTTPSConnection(where_host, where_port, timeout=timeout, context=tls_context())
            if proxy is not None:
                conn.set_tunnel(host, port, headers=_proxy_auth(proxy))
        else:
            conn = http.client.HTTPConnection(where_host, where_port, timeout=timeout)
        # The socket as soon as it exists (before a tunnel or a handshake), so Ctrl-C can shut it.
        conn._create_connection = self._tracked  # type: ignore[attr-defined]
        try:
            conn.connect()
        except BaseException as exc:
            conn.close()
            if proxy is not None and isinstance(exc, OSError) and str(exc).startswith("Tunnel connection failed"):
                raise ProxyError(str(exc), target.text) from exc
            if isinstance(exc, TimeoutError):
                raise ConnectTimeout(f"no connection within {timeout:g} s", target.text) from exc
            if isinstance(exc, OSError):
                raise ConnectError(f"{type(exc).__name__}: {exc}", target.text) from exc
            raise
        return conn

    def _tracked(self, address: tuple[str, int], timeout: float, source: Any = None) -> socket.socket:
        host, port = address
        # An ASCII name as bytes: a str one is encoded with the idna codec, whose import (with
        # stringprep and unicodedata, ~2 ms) a live search would pay for "127.0.0.1" or "huggingface.co".
        name = host.encode("ascii") if host.isascii() else host
        sock = socket.create_connection((name, port), timeout, source)  # type: ignore[arg-type]  # bytes: see above
        self.tracker.add(sock)
        return sock


def _dropped(sock: socket.socket) -> bool:
    """Whether an idle kept-alive socket was closed by the server (readable: EOF, or bytes it
    should not have sent)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _proxy_auth(proxy: str) -> dict[str, str]:
    """``Proxy-Authorization`` for credentials in the proxy's URL (as httpx sends them)."""
    p = urlsplit(proxy)
    if p.username is None:
        return {}
    raw = f"{unquote(p.username)}:{unquote(p.password or '')}".encode()
    return {"Proxy-Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


def _mapped(exc: Exception, target: URL) -> Exception:
    """A failure after the connection was made, as the exception httpx raised for it."""
    if isinstance(exc, TimeoutError):
        return ReadTimeout(f"no answer for a while: {exc}", target.text)
    if isinstance(exc, http.client.HTTPException):
        # RemoteDisconnected: "Server disconnected without sending a response", as httpx says it.
        return RemoteProtocolError(f"{type(exc).__name__}: {exc}", target.text)
    if isinstance(exc, OSError):
        return ReadError(f"{type(exc).__name__}: {exc}", target.text)
    return exc
