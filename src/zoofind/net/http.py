"""One source call's HTTP: an httpx client, one deadline, retries, capped bodies.

A ``Session`` is opened per source call (a search, an info lookup, a probe) from the
call's ``Context``:

* offline: opening one raises ``OfflineError``; nothing is ever sent.
* deadline: ``ctx.timeout`` seconds for the whole call, connect, answer, every
  redirect and every retry together; each request's httpx timeouts are the time left,
  and a body read between chunks past the deadline is abandoned.
* body cap: an answer is read in chunks, after decompression, and abandoned past
  ``max_bytes`` (``API_MAX_BYTES`` unless the caller says otherwise): memory stays
  bounded whatever a server sends.
* redirects: followed for API calls (httpx drops ``Authorization`` when a redirect
  leaves the origin); ``stream`` leaves them to the caller.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import httpx

from .. import __version__
from ..errors import BadAnswerError, OfflineError, TimedOutError
from . import retry as retry_policy
from .errors import from_status, from_transport, where

if TYPE_CHECKING:
    import ssl

    from ..context import Context

USER_AGENT = f"zoofind/{__version__} (+https://arxiv.org/abs/2003.11755)"
#: The largest API answer zoofind reads (a Hub listing of 100 models with files is ~2 MB).
API_MAX_BYTES = 32 * 1024 * 1024
CONNECT_TIMEOUT = 5.0
#: Statuses worth another attempt (with the transient error kinds they map to).
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class Deadline:
    """A point in time (monotonic clock) a call must finish by."""

    __slots__ = ("seconds", "end")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0


@dataclass(frozen=True)
class Answer:
    """A whole HTTP answer: status, headers (lower-case names), final URL, body."""

    status: int
    url: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise BadAnswerError(
                f"{where(self.url)} sent malformed JSON, not the answer its API promises ({exc})",
                hint="the service may be failing or a proxy may be answering instead; retry later or use --offline",
            ) from None


@functools.lru_cache(maxsize=1)
def tls_context() -> "ssl.SSLContext":
    """One verified TLS context per process (httpx's own defaults: certifi, or SSL_CERT_FILE /
    SSL_CERT_DIR): building one loads the CA bundle, 30-70 ms, which a Client of its own
    would pay again in every source call."""
    return httpx.create_ssl_context()


class _Transport(httpx.BaseTransport):
    """httpx's transport, with TLS set up only when an https URL first needs it.

    Plain http (a local mirror, the tests' servers) never pays for the CA bundle; https
    uses the process's one verified context. Proxies from the environment are untouched:
    httpx mounts those beside this default transport.
    """

    def __init__(self) -> None:
        self._plain: httpx.HTTPTransport | None = None
        self._tls: httpx.HTTPTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            if self._tls is None:
                self._tls = httpx.HTTPTransport(verify=tls_context())
            return self._tls.handle_request(request)
        if self._plain is None:
            # Only http:// URLs reach this transport, so its TLS settings are never used.
            self._plain = httpx.HTTPTransport(verify=False)
        return self._plain.handle_request(request)

    def close(self) -> None:
        for transport in (self._plain, self._tls):
            if transport is not None:
                transport.close()


class Session:
    def __init__(self, ctx: "Context", service: str, *, headers: Mapping[str, str] | None = None) -> None:
        if ctx.offline:
            raise OfflineError(f"offline: {service} not asked", hint="drop --offline (and ZOOFIND_OFFLINE / HF_HUB_OFFLINE) to ask it")
        self.service = service
        self.deadline = Deadline(ctx.timeout)
        self.client = httpx.Client(headers={"User-Agent": USER_AGENT, **(headers or {})}, timeout=self._timeout(),
                                   transport=_Transport())

    def _timeout(self) -> httpx.Timeout:
        left = max(self.deadline.remaining(), 0.001)
        return httpx.Timeout(left, connect=min(left, CONNECT_TIMEOUT))

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def _check_time(self, url: str) -> None:
        if self.deadline.expired():
            raise TimedOutError(f"{self.service} ({where(url)}) gave no answer within {self.deadline.seconds:g} s",
                                hint="retry, or raise --timeout")

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
        try:
            with self.client.stream(method, url, timeout=self._timeout(), **kwargs) as resp:
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise BadAnswerError(
                            f"{self.service} ({where(resp.url)}) sent more than {max_bytes // (1024 * 1024)} MiB; answer abandoned",
                            hint="the service or a proxy is misbehaving; retry later",
                        )
                    chunks.append(chunk)
                    self._check_time(url)
                return Answer(resp.status_code, str(resp.url), _lower(resp.headers), b"".join(chunks))
        except httpx.HTTPError as exc:
            raise self._mapped(exc, url) from None

    def _mapped(self, exc: httpx.HTTPError, url: str) -> Exception:
        if isinstance(exc, httpx.TimeoutException):
            # The call's deadline is what ran out, whichever httpx timeout noticed it.
            return TimedOutError(f"{self.service} ({where(url)}) gave no answer within {self.deadline.seconds:g} s",
                                 hint="retry, or raise --timeout")
        mapped = from_transport(exc, self.service)
        assert mapped is not None
        return mapped

    @contextlib.contextmanager
    def stream(self, method: str, url: str, *, follow_redirects: bool = False, **kwargs: Any) -> Iterator[httpx.Response]:
        """The raw streamed response (status and headers read, body not), for redirect walks and downloads."""
        self._check_time(url)
        try:
            with self.client.stream(method, url, timeout=self._timeout(), follow_redirects=follow_redirects, **kwargs) as resp:
                yield resp
        except httpx.HTTPError as exc:
            raise self._mapped(exc, url) from None


def _lower(headers: httpx.Headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}
