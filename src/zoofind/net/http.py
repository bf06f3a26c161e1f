"""One source call's HTTP: zoofind's HTTP/1.1 (``net.wire``), one deadline, retries, capped bodies.

A ``Session`` is opened per source call (a search, an info lookup, a probe) from the
call's ``Context``:

* offline: opening one raises ``OfflineError``; nothing is ever sent.
* deadline: ``ctx.timeout`` seconds (or the session's own ``timeout``) for the whole
  call: connect, status line and headers, body, every redirect and every retry
  together. Each request's timeouts are the time left, the time is checked between hops
  and chunks, and a watchdog shuts the session's sockets when the deadline passes, so a
  server that drips its headers or its body one byte at a time cannot hold a call past it
  (a socket's timeout bounds each read, not their sum).
* caps: a body is read raw and inflated here, in steps of ``INFLATE_STEP`` bytes, and
  abandoned past ``max_bytes`` (``API_MAX_BYTES`` unless the caller says otherwise)
  received or inflated: memory stays bounded whatever a server sends, a gzip bomb
  included (inflating each raw chunk whole, as httpx did, reaches ~1000x its size). Only
  ``gzip``/``deflate`` are asked for and accepted.
* redirects: walked here, hop by hop (at most ``MAX_REDIRECTS``), each intermediate answer
  closed unread; ``Authorization`` is dropped when a hop leaves the origin, as httpx does.
  ``stream`` follows none unless asked.
"""

from __future__ import annotations

import contextlib
import json
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.errors import BadAnswerError, OfflineError, TimedOutError
from ..core.version import __version__
from . import retry as retry_policy
from .deadline import Deadline
from .errors import from_status, from_transport, refused_redirect, where
from .transport import URL, InvalidURL, TimeoutException, TransportError, join_url, parse_url
from .wire import SocketTracker, Wire, WireResponse

if TYPE_CHECKING:
    from ..core.context import Context

USER_AGENT = f"zoofind/{__version__} (+https://arxiv.org/abs/2003.11755)"
#: The largest API answer zoofind reads (a Hub listing of 100 models with files is ~2 MB).
API_MAX_BYTES = 32 * 1024 * 1024
CONNECT_TIMEOUT = 5.0
#: Statuses worth another attempt (with the transient error kinds they map to).
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
#: At most this many inflated bytes come out of one decompression step.
INFLATE_STEP = 256 * 1024
#: The content codings zoofind asks for (``Accept-Encoding``) and undoes itself.
ENCODINGS = ("gzip", "deflate")


@dataclass(frozen=True)
class Answer:
    """A whole HTTP answer: status, headers (lower-case names), final URL, body."""

    status: int
    url: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)

    def json(self) -> Any:
        return parse_json(self.body, self.url)


def parse_json(body: bytes, url: str) -> Any:
    """A body's JSON value; ``BadAnswerError`` when it is not JSON (or nests too deep to read)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise BadAnswerError(
            f"{where(url)} sent malformed JSON, not the answer its API promises ({why})",
            hint="the service may be failing or a proxy may be answering instead; retry later or use --offline",
        ) from None


class _Watchdog(SocketTracker):
    """Shuts every socket a session opened when its deadline passes (see ``SocketTracker``):
    a server that sends one byte a second cannot hold a call past it."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self._timer = threading.Timer(max(seconds, 0.0), self.shut_all)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()


class _Inflater:
    """One content coding undone in bounded steps: at most ``INFLATE_STEP`` bytes per step."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        # deflate is meant to be zlib-wrapped; some servers send it raw (httpx tries both too).
        self._may_be_raw = coding == "deflate"
        self._d = zlib.decompressobj(zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self._d.decompress(data, INFLATE_STEP)
        except zlib.error:
            if not self._may_be_raw:
                raise
            self._d = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._d.decompress(data, INFLATE_STEP)
        self._may_be_raw = False
        while True:
            if out:
                yield out
            tail = self._d.unconsumed_tail
            if not tail:
                return
            out = self._d.decompress(tail, INFLATE_STEP)

    def flush(self) -> bytes:
        return self._d.flush()


def _inflater(resp: WireResponse, service: str) -> _Inflater | None:
    coding = (resp.headers.get("content-encoding") or "identity").strip().lower()
    coding = "gzip" if coding == "x-gzip" else coding
    if coding == "identity":
        return None
    if coding not in ENCODINGS:
        raise BadAnswerError(f"{service} ({where(resp.url)}) sent its answer in an encoding zoofind did not ask for "
                             f"({coding})",
                             hint="a proxy may be answering instead; retry later")
    return _Inflater(coding)


class Session:
    """One source call's HTTP. ``timeout`` replaces the context's deadline for this session
    (a download may be given longer than an API call); headers go with every request."""

    def __init__(self, ctx: Context, service: str, *, headers: Mapping[str, str] | None = None,
                 timeout: float | None = None) -> None:
        if ctx.offline:
            raise OfflineError(f"offline: {service} not asked",
                               hint="drop --offline (and ZOOFIND_OFFLINE / HF_HUB_OFFLINE) to ask it")
        self.service = service
        self.deadline = Deadline(ctx.timeout if timeout is None else timeout)
        # Per request, not the client's: a redirect off the origin must be able to drop Authorization.
        self.headers = dict(headers or {})
        self._watchdog = _Watchdog(self.deadline.remaining())
        self.wire = Wire(stall=self.deadline.seconds, connect=CONNECT_TIMEOUT, tracker=self._watchdog,
                         user_agent=USER_AGENT)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._watchdog.cancel()
        self.wire.close()

    def _timed_out(self, url: str | URL) -> TimedOutError:
        return TimedOutError(f"{self.service} ({where(url)}) gave no answer within {self.deadline.seconds:g} s",
                             hint="retry, or raise --timeout")

    def _check_time(self, url: str | URL) -> None:
        if self.deadline.expired() or self._watchdog.fired:
            raise self._timed_out(url)

    def request(
        self, method: str, url: str, *, params: Any = None, headers: Mapping[str, str] | None = None,
        content: bytes | str | None = None, follow_redirects: bool = True, retry: bool = True,
        max_bytes: int = API_MAX_BYTES,
    ) -> Answer:
        """One request, retried per ``net.retry``; the whole answer, or a zoofind error.

        Transient statuses (408, 429, 5xx) raise after the last attempt; any other status
        is returned for the caller to read (``Answer.status``) or raise (``check``).
        """
        for attempt in retry_policy.attempts(self.deadline, retry=retry):
            with attempt:
                self._check_time(url)
                answer = self._once(method, url, params=params, headers=headers, content=content,
                                    follow_redirects=follow_redirects, max_bytes=max_bytes)
                if answer.status in RETRY_STATUSES:
                    raise from_status(answer.status, answer.url, answer.headers, self.service)  # type: ignore[misc]
                return answer
        raise AssertionError("unreachable: stamina re-raises the last error")

    def check(self, answer: Answer) -> Answer:
        """The answer when its status is a success, else the zoofind error the status means."""
        err = from_status(answer.status, answer.url, answer.headers, self.service)
        if err is not None:
            raise err
        return answer

    def _once(self, method: str, url: str, *, max_bytes: int, **kwargs: Any) -> Answer:
        with self.stream(method, url, **kwargs) as resp:
            body = b"".join(self.iter_body(resp, max_bytes=max_bytes))
            return Answer(resp.status_code, str(resp.url), dict(resp.headers), body)

    def iter_body(self, resp: WireResponse, *, max_bytes: int) -> Iterator[bytes]:
        """A streamed response's body, inflated in bounded steps; ``BadAnswerError`` past
        ``max_bytes`` received or inflated, ``TimedOutError`` past the deadline."""
        inflater = _inflater(resp, self.service)
        received = produced = 0

        def counted(piece: bytes) -> bytes:
            nonlocal produced
            produced += len(piece)
            if produced > max_bytes:
                raise self._too_big(resp, max_bytes)
            return piece

        try:
            for raw in resp.iter_raw():
                received += len(raw)
                if received > max_bytes:
                    raise self._too_big(resp, max_bytes)
                for piece in (inflater.feed(raw) if inflater else (raw,)):
                    yield counted(piece)
                self._check_time(resp.url)
            if inflater is not None:
                yield counted(inflater.flush())
        except zlib.error:
            raise BadAnswerError(f"{self.service} ({where(resp.url)}) sent a body that is not the "
                                 f"{inflater.coding if inflater else ''} "
                                 "it claims to be", hint="a proxy may be answering instead; retry later") from None
        except TransportError as exc:
            raise self._mapped(exc, resp.url) from None

    def _too_big(self, resp: WireResponse, max_bytes: int) -> BadAnswerError:
        return BadAnswerError(
            f"{self.service} ({where(resp.url)}) sent more than {max_bytes / (1024 * 1024):g} MiB; answer abandoned",
            hint="the service or a proxy is misbehaving; retry later",
        )

    def _mapped(self, exc: TransportError | InvalidURL, url: str | URL) -> Exception:
        if isinstance(exc, TimeoutException) or self._watchdog.fired or self.deadline.expired():
            # The call's deadline is what ran out, whichever httpx timeout (or the watchdog) noticed it.
            return self._timed_out(url)
        mapped = from_transport(exc, self.service)
        assert mapped is not None
        return mapped

    @contextlib.contextmanager
    def stream(
        self, method: str, url: str, *, params: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None, content: bytes | str | None = None, follow_redirects: bool = False,
    ) -> Iterator[WireResponse]:
        """The streamed response (status and headers read, body not; ``iter_body`` reads it).

        With ``follow_redirects`` the hops are walked here, each closed unread; without, a
        3xx is the response (redirect walks that record every hop, probes).
        """
        try:
            target = parse_url(url, params)
        except InvalidURL as exc:
            raise self._mapped(exc, "") from None
        sent = {**self.headers, **(headers or {}), "Accept-Encoding": ", ".join(ENCODINGS)}
        body = content.encode() if isinstance(content, str) else content
        for _ in range(MAX_REDIRECTS + 1):
            self._check_time(target)
            left = max(self.deadline.remaining(), 0.001)
            try:
                resp = self.wire.send(method, target, sent, body, stall=left, connect=min(left, CONNECT_TIMEOUT))
            except (TransportError, InvalidURL) as exc:
                raise self._mapped(exc, target) from None
            try:
                location = resp.headers.get("location")
                if not (follow_redirects and resp.status_code in REDIRECT_STATUSES and location):
                    yield resp
                    return
            finally:
                resp.close()
            here = target
            try:
                target = join_url(here, location)
            except InvalidURL:
                raise BadAnswerError(f"{self.service} ({where(here)}) redirects to an address that is not one",
                                     hint="the service or a proxy is misconfigured; retry later") from None
            refused = refused_redirect(self.service, str(here), str(target))
            if refused is not None:
                raise refused
            if target.origin != here.origin:
                sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
            if resp.status_code == 303 or (resp.status_code in (301, 302) and method not in ("GET", "HEAD")):
                method, body = "GET", None  # what browsers and httpx do
        raise BadAnswerError(f"{self.service} ({where(url)}) redirects in a loop or more than {MAX_REDIRECTS} times",
                             hint="the service or a proxy is misconfigured; retry later")
