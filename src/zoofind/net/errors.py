"""Transport exceptions and HTTP statuses -> zoofind's error kinds (``zoofind.core.errors``).

One table for every source: the kinds carry ``transient`` (retry, serve a stale
answer), ``timed_out`` and ``retry_after``, so nothing downstream matches on class
names. Messages name the service and the URL's host and path, never a header: a token
cannot leak through them.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from ..core.errors import (
    TRANSLATORS,
    AccessDeniedError,
    BadAnswerError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    SourceError,
    TimedOutError,
    UnreachableError,
    ZoofindError,
)
from ..core.redaction import redact_text
from .transport import (
    URL,
    ConnectError,
    InvalidURL,
    ProxyError,
    ReadError,
    RemoteProtocolError,
    TimeoutException,
    TransportError,
    UnsupportedProtocol,
)


def where(url: str | URL) -> str:
    """host/path of a URL, without credentials or query (which may carry secrets)."""
    try:
        parts = urlsplit(str(url))
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:  # a malformed address (a bad port, an open IPv6 bracket): say no more than its path
        return redact_text(str(url)).split("?", 1)[0]
    return f"{host}{parts.path}"


UNREACHABLE_HINT = "check your connection or the endpoint variable, or use --offline"
#: Redirects zoofind follows: to another web address, never to a file or another protocol.
WEB_SCHEMES = ("http", "https")


def _connect_failure(exc: BaseException) -> str:
    """Why a connection could not be made, in words (the OS error under a ConnectError)."""
    # lazy: socket and ssl (~10 ms) only to word a failed connection: hubs import this module on search
    import socket
    import ssl

    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        if isinstance(seen, socket.gaierror):
            return "its name does not resolve (no network, or a wrong host name)"
        if isinstance(seen, ConnectionRefusedError):
            return "the connection was refused (nothing listens there)"
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"its TLS certificate was refused ({seen.verify_message or 'not verified'})"
        if isinstance(seen, ssl.SSLError):
            return "the TLS handshake failed"
        if isinstance(seen, OSError) and seen.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "no route to it (the network is down)"
        seen = seen.__cause__ or seen.__context__
    return "no connection (ConnectError)"


def refused_redirect(service: str, here: str, target: str) -> BadAnswerError | None:
    """The error for a redirect from ``here`` to ``target`` when ``target`` is no web address
    (``file:``, ``ftp:``, ...): the server's fault, final, and never followed; None otherwise."""
    try:
        scheme = urlsplit(target).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme in WEB_SCHEMES:
        return None
    kind = f"a {scheme}: address" if scheme else "an address without a scheme"
    host = where(here).split("/", 1)[0] or "the server"
    return BadAnswerError(f"{service} ({where(here)}) redirected to {kind}; refused (zoofind follows http and https "
                          "only)",
                          hint=f"the server at {host} (or a proxy in front of it) is misconfigured or hostile; "
                               "retrying will not help: tell whoever runs it")


def from_transport(exc: BaseException, service: str | None = None) -> ZoofindError | None:
    """A transport failure (``net.transport``) as a zoofind error; None for anything else."""
    name = service or "the server"
    if isinstance(exc, InvalidURL):  # raised before any request exists
        return SourceError(f"cannot use the address of {name}: {redact_text(str(exc))}",
                           hint="check the endpoint variable (HF_ENDPOINT, ZOOFIND_*_ENDPOINT)")
    if not isinstance(exc, TransportError):
        return None
    url = where(exc.url) if exc.url else ""
    at = f" ({url})" if url else ""
    if isinstance(exc, TimeoutException):
        return TimedOutError(f"{name}{at} gave no answer in time", hint="retry, or raise --timeout")
    if isinstance(exc, UnsupportedProtocol):
        return SourceError(f"cannot use the address of {name}{at}: {redact_text(str(exc))}",
                           hint="check the endpoint variable (HF_ENDPOINT, ZOOFIND_*_ENDPOINT)")
    if isinstance(exc, ProxyError):
        # The proxy from HTTPS_PROXY / HTTP_PROXY refused the tunnel (a 407: credentials) or is
        # not one zoofind can use; say so, or the user looks for the fault at the hub.
        err = UnreachableError(f"cannot reach {name}{at} through the proxy: {redact_text(str(exc))}",
                               hint="check HTTPS_PROXY / HTTP_PROXY (credentials go in the proxy's URL) and NO_PROXY")
        err.retryable = False
        return err
    if isinstance(exc, ConnectError):
        # No connection at all: no retry within this call heals that (the network is down,
        # the name is wrong, nothing listens), so the call fails at once; a stale answer may serve.
        err = UnreachableError(f"cannot reach {name}{at}: {_connect_failure(exc)}", hint=UNREACHABLE_HINT)
        err.retryable = False
        return err
    return UnreachableError(f"cannot reach {name}{at}: {_lost(exc)}", hint=UNREACHABLE_HINT)


def _lost(exc: TransportError) -> str:
    """What went wrong after the connection was made, in words (the cause ``net.wire`` chained)."""
    cause = type(exc.__cause__).__name__
    if cause == "RemoteDisconnected":
        return "it closed the connection without answering"
    if cause == "IncompleteRead":
        return "it closed the connection in the middle of its answer"
    if isinstance(exc, RemoteProtocolError):
        return "its answer was not valid HTTP/1.1"
    if isinstance(exc, ReadError):
        return f"the connection broke ({cause})" if exc.__cause__ is not None else "the connection broke"
    return type(exc).__name__


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    raw = (headers.get("retry-after") or "").strip()
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass

    # lazy: the email package (~15 ms) only for a Retry-After given as a date
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(raw).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def from_status(status: int, url: str, headers: Mapping[str, str], service: str) -> ZoofindError | None:
    """The error an HTTP status means (None for 1xx-3xx success statuses the caller handles).

    Sources with a richer protocol (the Hub's X-Error-Code) check it first and fall back here.
    """
    if status < 400:
        return None
    at = f"{service} ({where(url)})"
    if status == 429:
        after = _retry_after(headers)
        return RateLimitedError(
            f"{at} is rate-limiting requests (HTTP 429)" + (f"; retry after {after:g} s" if after is not None else ""),
            hint="wait a little and retry", status=status, retry_after=after,
        )
    if status >= 500 or status == 408:
        return ServerError(f"{at} answered HTTP {status}", hint="retry later; cached answers are used when present",
                           status=status, retry_after=_retry_after(headers))
    if status in (401, 403):
        return AccessDeniedError(f"{at} refused access (HTTP {status})", hint="check the credentials for this service")
    if status in (404, 410):
        return NotFoundError(f"{at} has nothing there (HTTP {status})", hint="check the id with `zoofind search`")
    return BadAnswerError(f"{at} rejected the request (HTTP {status})", hint="simplify the query or its filters",
                          status=status)


TRANSLATORS.append(from_transport)
