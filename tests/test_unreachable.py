"""No network, a wrong endpoint, a server that redirects off the web: the CLI fails at once,
says why and what to do, and never waits out retries that cannot help.

Hub hosts do not resolve here (nor in CI), so the faults are real ones on this machine: a port
on 127.0.0.1 that refuses connections, and a name under ``.invalid`` (never resolvable, RFC 6761).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest

from servers.files_server import FileServer
from servers.loopback import LoopbackServer, QuietHandler, refused_port

#: Generous: the fix makes these ~0.5 s (the interpreter's start-up included); before it, 13 s.
QUICK = 3.0


@contextlib.contextmanager
def endpoint(kind: str) -> Iterator[str]:
    with refused_port() as port:
        yield f"http://127.0.0.1:{port}" if kind == "refused" else "http://nonexistent.invalid"


REASONS = {"refused": "the connection was refused", "unresolvable": "its name does not resolve"}


def timed(cli, *args: str, env: dict[str, str]):
    started = time.monotonic()
    ran = cli(*args, env=env)
    return ran, time.monotonic() - started


@pytest.mark.parametrize("kind", ["refused", "unresolvable"])
def test_pull_without_a_reachable_host_fails_at_once_with_the_hint(cli, kind) -> None:
    with endpoint(kind) as url:
        ran, took = timed(cli, "pull", "torchvision:resnet18", env={"ZOOFIND_TORCHVISION_ENDPOINT": url + "/models"})
    assert ran.code == 1 and ran.stdout == "" and took < QUICK, (took, ran.stderr)
    assert "cannot reach" in ran.stderr and REASONS[kind] in ran.stderr
    assert "hint: check your connection or the endpoint variable, or use --offline" in ran.stderr
    assert "Traceback" not in ran.stderr


@pytest.mark.parametrize("kind", ["refused", "unresolvable"])
def test_pull_from_an_unreachable_hub_fails_at_once(cli, kind) -> None:
    with endpoint(kind) as url:
        ran, took = timed(cli, "pull", "hf:zoofind-lab/protein-tiny", env={"HF_ENDPOINT": url})
    assert ran.code == 1 and took < QUICK, (took, ran.stderr)
    assert "cannot reach the Hugging Face Hub" in ran.stderr and REASONS[kind] in ran.stderr and "--offline" in ran.stderr


@pytest.mark.parametrize("kind", ["refused", "unresolvable"])
def test_search_and_info_with_an_unreachable_source_fail_at_once(cli, kind) -> None:
    with endpoint(kind) as url:
        search, took = timed(cli, "search", "qqqqxz", "-s", "hf", "--timeout", "30", env={"HF_ENDPOINT": url})
        info, info_took = timed(cli, "info", "hf:zoofind-lab/protein-tiny", env={"HF_ENDPOINT": url})
    assert search.code == 1 and took < QUICK, (took, search.stderr)
    assert "every requested source failed (hf: cannot reach" in search.stderr and REASONS[kind] in search.stderr
    assert "--offline" in search.stderr
    assert info.code == 1 and info_took < QUICK and "cannot reach" in info.stderr and "--offline" in info.stderr


def test_search_of_every_live_source_without_a_network_waits_for_none_of_them(cli) -> None:
    with endpoint("refused") as url:
        env = {"HF_ENDPOINT": url, "ZOOFIND_TFHUB_ENDPOINT": url, "ZOOFIND_KAGGLE_ENDPOINT": url,
               "ZOOFIND_TORCHVISION_ENDPOINT": url, "KAGGLE_API_TOKEN": "KGAT_0123456789abcdef0123456789abcdef"}
        ran, took = timed(cli, "search", "resnet", "--timeout", "30", env=env)
    assert took < QUICK, (took, ran.stderr)
    assert "cannot reach" in ran.stderr and "Traceback" not in ran.stderr


class FileRedirect(LoopbackServer):
    """Answers every GET with a 302 to ``file:///etc/passwd``."""

    def __init__(self) -> None:
        self.requests = []
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(self.path)
                self.send_response(302)
                self.send_header("Location", "file:///etc/passwd")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._listen(Handler)


def test_a_download_redirected_to_a_file_address_is_refused_at_once_naming_the_server(cli) -> None:
    with FileRedirect() as server:
        ran, took = timed(cli, "pull", "torchvision:resnet18", env={"ZOOFIND_TORCHVISION_ENDPOINT": server.url + "/models"})
        asked = server.count
    assert ran.code == 1 and took < 2.0 and asked == 1, (took, asked, ran.stderr)
    assert f"(127.0.0.1:{server.port}/models/resnet18-f37072fd.pth) redirected to a file: address; refused" in ran.stderr
    assert f"the server at 127.0.0.1:{server.port}" in ran.stderr and "retrying will not help" in ran.stderr
    assert "endpoint variable" not in ran.stderr and "passwd" not in ran.stderr and "Traceback" not in ran.stderr


def test_a_reachable_server_that_fails_is_still_retried(cli, tmp_path) -> None:
    """Faults that heal keep their retries: a 503, then the file."""
    with FileServer({"/models/resnet18-f37072fd.pth": b"x" * 1000}) as srv:
        srv.fail_status, srv.fail_times = 503, 1
        ran = cli("pull", "torchvision:resnet18", env={"ZOOFIND_TORCHVISION_ENDPOINT": srv.url + "/models",
                                                       "TORCH_HOME": str(tmp_path / "torch")})
    # The bytes are not the real checkpoint's (its name's hash prefix fails), but they were asked for twice.
    assert srv.failures == 1 and len(srv.requests) >= 2, ran.stderr


class Rebound(FileServer):
    """A file server on a given port: the same host, back after a restart."""

    def __init__(self, port: int, files: dict[str, bytes]) -> None:
        self.bind_port = port
        super().__init__(files)


def test_a_host_that_answered_then_refuses_mid_pull_is_waited_for(tmp_path) -> None:
    """Only a host never reached fails at once: one that served this pull and then refuses
    (a restart, a network blip) is retried with backoff, as a lost connection is."""
    import hashlib
    import threading

    from zoofind.fetch.scheduler import Engine
    from zoofind.models.transfer import Download, Expected, Fetched

    data = hashlib.shake_256(b"restart").digest(4 * 1024 * 1024)
    target = tmp_path / "f.bin"
    out: list[object] = []
    first = FileServer({"/f.bin": data}, rate_bps=2 * 1024 * 1024)
    d = Download(first.url + "/f.bin", target, tmp_path / "f.lock", Expected(len(data), hashlib.sha256(data).hexdigest()), "f.bin")
    worker = threading.Thread(target=lambda: out.extend(Engine().run([d])))
    with first:
        worker.start()
        until = time.monotonic() + 10
        while first.bytes_sent < 512 * 1024 and time.monotonic() < until:
            time.sleep(0.02)
    time.sleep(0.6)  # down: the reconnections are refused meanwhile
    with Rebound(first.port, {"/f.bin": data}) as second:
        worker.join(timeout=60)
        resumed = [r.headers.get("range") for r in second.requests]
    assert isinstance(out[0], Fetched), out
    assert target.read_bytes() == data and resumed and resumed[0] != "bytes=0-"
