"""The vocabulary of zoofind's own HTTP/1.1 (``net.wire``): addresses, headers, TLS, and the
failures of a transport, named as httpx names them.

zoofind used to speak HTTP through httpx; API calls and downloads now go through the standard
library's ``http.client`` (README "Dependencies": httpx's import alone cost ~220 ms of CPU, most
of a live search's budget, and its body path 4.35 s CPU per GiB). What httpx did at these
points is kept, each restated here:

* ``parse_url``: an address as httpx reads one: only ``http``/``https`` are sent; a bad port,
  a missing host or a control character is ``InvalidURL``; spaces and non-ASCII characters are
  percent-encoded (UTF-8), an existing ``%XX`` is left as it is; a non-ASCII host name goes out
  in its IDNA form.
* ``Headers``: names case-insensitive, a repeated header's values joined with ``", "``.
* ``tls_context``: certifi's CA bundle, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set
  (httpx's ``create_ssl_context``), host names checked.
* The exceptions: the same names and kinds as httpx's, so ``net.errors`` words them as before.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, unquote, urlencode, urljoin, urlsplit

if TYPE_CHECKING:
    import ssl

#: Characters sent as they are in a request's path and in its query: the WHATWG URL standard's
#: path and query percent-encode sets (printable ASCII but space, '"', '#', '<', '>', and in a
#: path also '?', '`', '{', '}'), as httpx applies them; '%' stays, so an escape is not escaped twice.
_PATH_SAFE = frozenset(chr(i) for i in range(0x21, 0x7F) if chr(i) not in '"#<>?`{}')
_QUERY_SAFE = frozenset(chr(i) for i in range(0x21, 0x7F) if chr(i) not in '"#<>')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TransportError(Exception):
    """No HTTP answer (or no whole one) came back from ``url``."""

    def __init__(self, message: str, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class TimeoutException(TransportError):
    """A connection or a read took longer than allowed."""


class ConnectTimeout(TimeoutException):
    """No connection within the connect timeout."""


class ReadTimeout(TimeoutException):
    """No bytes for longer than the read timeout."""


class NetworkError(TransportError):
    """The connection could not be made or broke."""


class ConnectError(NetworkError):
    """No connection (the OS error is the ``__cause__``)."""


class ReadError(NetworkError):
    """The connection broke while an answer was read."""


class RemoteProtocolError(TransportError):
    """The server broke HTTP/1.1 (or closed the connection before an answer)."""


class ProxyError(TransportError):
    """The proxy refused the tunnel, or is not one zoofind can use."""


class UnsupportedProtocol(TransportError):
    """An address of another scheme than http or https."""


class InvalidURL(Exception):
    """Text that is not an address (raised before any request exists)."""


@dataclass(frozen=True)
class URL:
    """An address, checked and encoded as it goes on the wire."""

    scheme: str
    host: str  # lower-case; IDNA-encoded when it was not ASCII
    port: int | None  # as written (None: the scheme's default)
    target: str  # the request target: percent-encoded path and query, never empty
    text: str  # the whole address, encoded (what the errors name and redirects resolve against)
    #: "user:password" from the address (sent as Basic ``Authorization``, as httpx sends it)
    userinfo: str | None = field(default=None, repr=False)

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port or (443 if self.scheme == "https" else 80)

    def __str__(self) -> str:
        return self.text


def parse_url(text: str, params: Mapping[str, str] | Iterable[tuple[str, str]] | None = None) -> URL:
    """``text`` as an address (``InvalidURL`` when it is none); ``params`` replace its query, as httpx's do."""
    if _CONTROL.search(text):
        raise InvalidURL("Invalid non-printable ASCII character in URL")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"Invalid URL: {exc}") from None
    scheme = parts.scheme.lower()
    host = _host(parts)
    if scheme in ("http", "https") and not host:
        raise InvalidURL("Invalid URL: no host")
    path = _quote(parts.path or "/", _PATH_SAFE)
    if params is not None:
        query = urlencode(list(params.items()) if isinstance(params, Mapping) else list(params))
        asked = bool(query)
    else:
        query = _quote(parts.query, _QUERY_SAFE)
        asked = "?" in text.split("#", 1)[0]  # "…/x?" keeps its "?", as httpx sends it
    target = path + (f"?{query}" if asked else "")
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    userinfo = None
    if parts.username is not None:
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
        userinfo = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return URL(scheme, host, port, target, f"{scheme}://{netloc}{target}", userinfo)


def join_url(base: URL | str, location: str) -> URL:
    """Where a ``Location`` relative to ``base`` points (``InvalidURL`` when it is no address)."""
    try:
        joined = urljoin(str(base), location)
    except ValueError as exc:
        raise InvalidURL(f"Invalid redirect address: {exc}") from None
    return parse_url(joined)


def _host(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if host.isascii():
        return host.lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidURL(f"Invalid host name: {host!r}") from None


def _quote(text: str, safe: frozenset[str]) -> str:
    """Percent-encode what may not go on the wire as it is (UTF-8 for non-ASCII)."""
    if all(c in safe for c in text):
        return text
    return "".join(c if c in safe else "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in text)


class Headers(Mapping[str, str]):
    """An answer's headers: names lower-case and case-insensitive, repeats joined with ``", "``."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        merged: dict[str, str] = {}
        for name, value in pairs:
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        self._merged = merged

    def __getitem__(self, name: str) -> str:
        return self._merged[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._merged

    def __iter__(self) -> Iterator[str]:
        return iter(self._merged)

    def __len__(self) -> int:
        return len(self._merged)

    def __repr__(self) -> str:
        return f"Headers({sorted(self._merged)})"  # names only: a value may be a credential


@functools.lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """One verified TLS context per process: building one loads the CA bundle (30-70 ms), which
    each connection would otherwise pay again."""
    import ssl  # lazy: off the search path (http.client loads it with the HTTP stack anyway)

    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi  # lazy: only an https address pays for finding the CA bundle

    return ssl.create_default_context(cafile=certifi.where())
