"""The network layer against hostile and failing local servers: one deadline, capped bodies, the retry policy."""

from __future__ import annotations

import logging
import time

import pytest

from servers.loopback import LoopbackServer, QuietHandler, refused_port
from zoofind.core.context import Context
from zoofind.core.errors import (
    AccessDeniedError,
    BadAnswerError,
    NotFoundError,
    OfflineError,
    RateLimitedError,
    ServerError,
    TimedOutError,
    UnreachableError,
)
from zoofind.net.http import Session


class Scripted(LoopbackServer):
    """Answers each request with the next step of ``script`` ("name|arg|arg"; the last one repeats)."""

    def __init__(self, *script: str) -> None:
        self.requests = []
        self.script = list(script)
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append((time.monotonic(), dict(self.headers)))
                    step = server.script[min(len(server.requests), len(server.script)) - 1]
                name, *args = step.split("|")
                getattr(server, f"_{name}")(self, *args)

        self._listen(Handler)

    @staticmethod
    def _ok(h: QuietHandler) -> None:
        body = b'{"ok": true}'
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    @staticmethod
    def _status(h: QuietHandler, code: str, retry_after: str = "") -> None:
        h.send_response(int(code))
        if retry_after:
            h.send_header("Retry-After", retry_after)
        h.send_header("Content-Length", "0")
        h.end_headers()

    @staticmethod
    def _drip(h: QuietHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        for _ in range(1000):
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(0.2)

    @staticmethod
    def _endless(h: QuietHandler) -> None:
        h.send_response(200)
        h.send_header("Connection", "close")  # no length: the body runs until the connection closes
        h.end_headers()
        h.close_connection = True
        chunk = b"x" * 65536
        try:
            while True:
                h.wfile.write(chunk)
        except OSError:
            pass

    @staticmethod
    def _drop(h: QuietHandler) -> None:
        h.close_connection = True  # the connection closes without an answer: a fault that heals

    @staticmethod
    def _redirect(h: QuietHandler, where: str) -> None:
        h.send_response(302)
        h.send_header("Location", where)
        h.send_header("Content-Length", "0")
        h.end_headers()


def session(timeout: float = 5.0, **kw) -> Session:
    return Session(Context.from_env(timeout=timeout, **kw), "the test server")


def test_a_transient_failure_is_retried_then_answers():
    with Scripted("status|503", "ok") as server:
        answer = session().request("GET", server.url)
    assert answer.status == 200 and answer.json() == {"ok": True} and server.count == 2


def test_retry_after_is_honoured_when_it_fits_the_deadline():
    with Scripted("status|429|1", "ok") as server:
        answer = session(timeout=5).request("GET", server.url)
        (first, _), (second, _) = server.requests
    assert answer.status == 200 and second - first >= 0.95


def test_a_retry_after_past_the_deadline_is_reported_not_waited_for():
    with Scripted("status|429|60") as server:
        started = time.monotonic()
        with pytest.raises(RateLimitedError, match="retry after 60 s") as err:
            session(timeout=3).request("GET", server.url)
    assert time.monotonic() - started < 1 and server.count == 1 and err.value.transient


def test_persistent_server_errors_end_within_the_deadline():
    with Scripted("status|500") as server:
        started = time.monotonic()
        with pytest.raises(ServerError):
            session(timeout=2).request("GET", server.url)
    assert time.monotonic() - started < 2.5 and 1 <= server.count <= 3


@pytest.mark.parametrize(("code", "error"), [("404", NotFoundError), ("401", AccessDeniedError), ("400", BadAnswerError)])
def test_client_errors_are_never_retried(code, error):
    with Scripted(f"status|{code}") as server:
        s = session()
        with pytest.raises(error):
            s.check(s.request("GET", server.url))
    assert server.count == 1


def test_a_dripping_body_meets_the_deadline():
    with Scripted("drip") as server:
        started = time.monotonic()
        with pytest.raises(TimedOutError, match="within 1 s"):
            session(timeout=1).request("GET", server.url, retry=False)
    assert time.monotonic() - started < 2.0


def test_an_endless_body_is_abandoned_at_the_cap():
    with Scripted("endless") as server:
        with pytest.raises(BadAnswerError, match="more than 1 MiB"):
            session().request("GET", server.url, max_bytes=1024 * 1024)


def test_a_redirect_to_another_host_drops_the_authorization_header():
    with Scripted("ok") as target, Scripted("redirect|" + target.url.replace("127.0.0.1", "localhost")) as hub:
        session().request("GET", hub.url, headers={"Authorization": "Bearer secret"})
        assert hub.requests[0][1].get("Authorization") == "Bearer secret"
        assert "Authorization" not in target.requests[0][1]


def test_unreachable_and_offline():
    with pytest.raises(UnreachableError, match="cannot reach"):
        session(timeout=2).request("GET", "http://127.0.0.1:9/")
    with pytest.raises(OfflineError):
        session(offline=True)



@pytest.fixture
def retries(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The retries stamina schedules (it logs each one on its "stamina" logger)."""
    caplog.set_level(logging.WARNING, logger="stamina")
    return caplog.records


@pytest.mark.parametrize("host", ["refused", "nonexistent.invalid"])
def test_a_host_that_cannot_be_reached_fails_at_once_without_retries(host, retries):
    with refused_port() as port:
        url = f"http://127.0.0.1:{port}/" if host == "refused" else f"http://{host}/"
        started = time.monotonic()
        with pytest.raises(UnreachableError) as err:
            session(timeout=10).request("GET", url)
    reason = "the connection was refused" if host == "refused" else "its name does not resolve"
    assert reason in err.value.message and "--offline" in (err.value.hint or "")
    # Still transient (a cached answer is served instead), but not worth a retry within the call.
    assert err.value.transient and not err.value.retryable
    assert not [r for r in retries if "retry" in r.getMessage()] and time.monotonic() - started < 1.0


def test_a_connection_dropped_without_an_answer_is_still_retried(retries):
    with Scripted("drop", "ok") as server:
        answer = session().request("GET", server.url)
    assert answer.status == 200 and server.count == 2


def test_a_redirect_to_a_file_address_is_refused_at_once_and_names_the_server(retries):
    with Scripted("redirect|file:///etc/passwd") as server:
        started = time.monotonic()
        with pytest.raises(BadAnswerError) as err:
            session(timeout=10).request("GET", server.url + "/api/x?token=secret")
        assert server.count == 1 and time.monotonic() - started < 1.0
    message = err.value.message
    assert "redirected to a file: address; refused" in message and f"127.0.0.1:{server.port}/api/x" in message
    assert "secret" not in message and "passwd" not in message
    assert "endpoint variable" not in (err.value.hint or "") and "misconfigured" in (err.value.hint or "")
    assert not err.value.transient
