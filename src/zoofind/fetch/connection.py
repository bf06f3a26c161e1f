"""The HTTP side of one engine run: its connections (``wire``), and how one GET is made.

Redirects are followed by hand so that headers meant for the hub (a token) never reach
another host, and so that ranges go straight to the storage host the hub pointed at; a
signed storage link that expired sends the next attempt back to the hub. Timeouts are per
request: ``stall`` seconds for connecting or for the next bytes of a body; a multi-GB file
has no total deadline. What a refused answer or a lost connection means is said here, in a
file's words. The answer's headers the transfer reads (ETag, lengths, ranges) are parsed here.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from ..core.errors import AccessDeniedError, NotFoundError, RateLimitedError, SourceError, ZoofindError
from ..core.redaction import redact_url
from ..net.errors import from_status, from_transport, refused_redirect
from ..net.http import USER_AGENT
from ..net.transport import Headers, TransportError
from ..net.wire import SocketTracker, Wire, WireResponse

if TYPE_CHECKING:
    from .job import Job

MAX_REDIRECTS = 10


#: A redirect's body read to its end (so its connection is reused) when it declares at most this many bytes.
REDIRECT_BODY_MAX = 64 * 1024


def _drain(resp: WireResponse) -> None:
    """Close a redirect, reading its short body first: a connection whose answer was not read to
    its end is not reused, and a new connection for every file of a many-small-files repo (the
    Hub answers each with a 307) cost a third of the pull's time. A body that declares no length,
    or more than ``REDIRECT_BODY_MAX``, is not read: the connection goes."""
    try:
        declared = int(resp.headers.get("content-length", ""))
    except ValueError:
        declared = -1
    try:
        if 0 <= declared <= REDIRECT_BODY_MAX:
            view = memoryview(bytearray(min(declared, REDIRECT_BODY_MAX) or 1))
            got = 0
            while got < declared and (n := resp.readinto(view[: declared - got])):
                got += n
    except TransportError:
        pass  # a redirect whose body broke still names where to go; its connection is dropped
    finally:
        resp.close()


class Connection:
    """The run's connections (``wire``: at most one per worker in use) and the hosts that answered in it."""

    def __init__(self, jobs: int, stall: float) -> None:
        self.tracker = SocketTracker()
        # TLS (the process's one verified context) is set up only if an https URL (or a
        # redirect to one) needs it: a plain-http mirror never pays the CA bundle's 70-130 ms.
        self.wire = Wire(stall=stall, connect=min(stall, 10.0), tracker=self.tracker, user_agent=USER_AGENT)
        #: hosts (name, port) that answered in this run: a connection one of them then refuses is a blip
        self.answered: set[tuple[str | None, int | None]] = set()

    def shut_all(self) -> None:
        """Close every socket under the workers blocked reading one (Ctrl-C)."""
        self.tracker.shut_all()

    def close(self) -> None:
        self.wire.close()

    @contextlib.contextmanager
    def open(self, job: Job, headers: Mapping[str, str]) -> Iterator[WireResponse]:
        """GET the job's URL, walking redirects; the hub's headers go to the hub's host only."""
        url = start = job.url
        origin = urlsplit(job.d.url).netloc
        for _ in range(MAX_REDIRECTS + 1):
            send = dict(headers)
            if urlsplit(url).netloc == origin:
                send.update(job.d.auth)
            resp = self.wire.send("GET", url, send)
            self.answered.add(_host(url))
            if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
                _drain(resp)
                nxt = urljoin(url, resp.headers["location"])
                refused = refused_redirect(job.d.label, url, nxt)
                if refused is not None:
                    raise refused  # the server's fault, and final: not retried
                if urlsplit(url).scheme == "https" and urlsplit(nxt).scheme != "https":
                    # Plain http only where an endpoint override asks for it, never by a redirect.
                    raise SourceError(f"{job.d.label}: {urlsplit(url).netloc} redirected to plain http "
                                      f"({urlsplit(nxt).netloc}); refused",
                                      hint="the server or a proxy is misconfigured")
                url = nxt
                continue
            try:
                if resp.status_code in (200, 206):
                    job.url = url
                elif start != job.d.url and resp.status_code in (401, 403, 404, 410):
                    # A signed storage URL expired: the next attempt asks the hub again.
                    job.url = job.d.url
                    resp.close()
                    err = SourceError(f"{job.d.label}: the storage link expired", hint="retry the pull")
                    err.transient = True  # the next attempt asks the hub for a fresh link
                    raise err
                yield resp
            finally:
                resp.close()
            return
        raise SourceError(f"{job.d.label}: more than {MAX_REDIRECTS} redirects",
                          hint="the server or a proxy is misconfigured")

    def lost(self, job: Job, exc: TransportError) -> SourceError:
        """A transport failure while fetching the job's file, as an error worth continuing from."""
        mapped = from_transport(exc, urlsplit(job.url).netloc)
        err = (mapped if isinstance(mapped, SourceError)
               else SourceError(f"{job.d.label}: {type(exc).__name__}: {exc}"))
        err.transient = True  # a lost connection mid-file is always worth continuing
        if not err.retryable and _host_of(exc) in self.answered:
            # No connection to a host that answered this run: a blip (a restart, a network
            # hiccup) worth riding out in a long pull. A host never reached fails at once.
            err.retryable = True
        return err


def status_error(job: Job, resp: WireResponse) -> ZoofindError:
    """What a refused download means: a file's words, not an API's (`from_status` for the rest)."""
    where = redact_url(f"{urlsplit(str(resp.url)).scheme}://{urlsplit(str(resp.url)).netloc}")
    if resp.status_code in (403, 429) and resp.headers.get("x-ratelimit-remaining") == "0":
        # A used-up rate limit (GitHub's and others' X-RateLimit-* headers), not a refusal: no
        # credential is wrong, and retrying within this run cannot help.
        reset = resp.headers.get("x-ratelimit-reset", "")
        when = (f"; it resets at {time.strftime('%H:%M:%S UTC', time.gmtime(int(reset)))}"
                if reset.isdigit() and len(reset) <= 12 else "")
        limited = RateLimitedError(
            f"{job.d.label}: {where} says its rate limit is used up (HTTP {resp.status_code}){when}",
            hint="wait until it resets" + (f" (credentials raise the limit: {job.d.denied_hint})"
                                           if job.d.denied_hint else ""), status=resp.status_code)
        limited.retryable = False
        return limited
    if resp.status_code in (401, 403):
        return AccessDeniedError(f"{job.d.label}: {where} refused the download (HTTP {resp.status_code})",
                                 hint=job.d.denied_hint or "the file may need credentials or may have moved")
    if resp.status_code in (404, 410):
        return NotFoundError(f"{job.d.label}: {where} has no such file (HTTP {resp.status_code})",
                             hint="the model's file list may be out of date; retry, "
                                  "or check the id with `zoofind info`")
    err = from_status(resp.status_code, str(resp.url), {k.lower(): v for k, v in resp.headers.items()}, job.d.label)
    return err if err is not None else SourceError(f"{job.d.label}: HTTP {resp.status_code} from {where}")


def cut_short(job: Job, pos: int) -> SourceError:
    """The body ended before the bytes asked for: worth continuing from ``pos``."""
    err = SourceError(f"{job.d.label}: the connection closed after {pos} bytes",
                      hint="retry the pull; it continues from here")
    err.transient = True
    return err


def _host(url: str) -> tuple[str | None, int | None]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


def _host_of(exc: TransportError) -> tuple[str | None, int | None] | None:
    """The host of the request a transport error was raised for (None when it carries none)."""
    try:
        return _host(exc.url) if exc.url else None
    except ValueError:
        return None


def etag(headers: Headers) -> str | None:
    raw = headers.get("etag")
    if not raw:
        return None
    return raw.removeprefix("W/").strip('"') or None


def content_length(headers: Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


def content_range_total(value: str | None) -> int | None:
    # "bytes 0-99/1000" -> 1000 ("*" when unknown)
    try:
        total = (value or "").rsplit("/", 1)[1]
        return int(total) if total.isdigit() else None
    except IndexError:
        return None


def content_range_start(value: str | None) -> int | None:
    # "bytes 100-199/1000"
    if not value or not value.startswith("bytes "):
        return None
    try:
        return int(value[6:].split("-", 1)[0])
    except ValueError:
        return None
