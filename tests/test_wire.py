"""zoofind's own HTTP/1.1 (``net.wire``) where httpx used to carry API calls and downloads: proxies from
the environment read as httpx reads them (httpx itself the referee), a real forward proxy on
127.0.0.1 (tests/servers/proxy_server.py: absolute-form GET and CONNECT tunnels, 407 without
credentials), and TLS verified against a test CA (trustme), end to end through `zoofind pull`."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from servers.files_server import FileServer
from servers.loopback import LoopbackServer, QuietHandler
from servers.proxy_server import ProxyServer
from servers.tls import https, make_ca
from zoofind.fetch.scheduler import Engine
from zoofind.models.transfer import Download, Expected, Fetched
from zoofind.net.proxy import environment_rules, proxy_for

MODEL = "torchvision:quantized_resnet18.IMAGENET1K_FBGEMM_V1"
#: Its checkpoint name has no ``-<hash>.`` part, so any bytes pass torch.hub's hash-prefix check.
CHECKPOINT = "/models/quantized/resnet18_fbgemm_16fa66dd.pth"
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
              "NO_PROXY", "REQUEST_METHOD")


@pytest.fixture
def clean_proxies(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def httpx_choice(url: str) -> str | None:
    """The proxy httpx's Client would use for ``url`` (its own mounts, sorted and matched as it does)."""
    import httpx
    from httpx._utils import URLPattern, get_environment_proxies

    mounts = sorted((URLPattern(key), proxy) for key, proxy in get_environment_proxies().items())
    target = httpx.URL(url)
    return next((proxy for pattern, proxy in mounts if pattern.matches(target)), None)


ENVIRONMENTS = [
    {"HTTP_PROXY": "http://p1:3128"},
    {"HTTPS_PROXY": "p2:8080"},
    {"ALL_PROXY": "http://all:1", "HTTPS_PROXY": "http://tls:2"},
    {"ALL_PROXY": "http://all:1", "NO_PROXY": "example.com"},
    {"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".example.com,localhost"},
    {"HTTPS_PROXY": "http://p:1", "HTTP_PROXY": "http://q:2", "NO_PROXY": "127.0.0.1,::1,10.0.0.0/8"},
    {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "https://hub.example.org,http://mirror.lab:8080"},
    {"https_proxy": "http://lower:1", "no_proxy": "*"},
    {"HTTPS_PROXY": "http://p:1", "NO_PROXY": " a.org , b.org "},
]
URLS = ["http://example.com/f", "https://example.com/f", "https://www.example.com/f", "https://wwwexample.com/f",
        "http://localhost:8000/f", "https://LOCALHOST/f", "http://127.0.0.1:9/f", "https://[::1]:8443/f",
        "http://10.0.0.1/f", "https://hub.example.org/api", "https://hub.example.org:444/api",
        "http://mirror.lab:8080/x", "http://mirror.lab/x", "https://a.org/x", "https://sub.b.org/x"]


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items()))
def test_a_download_takes_the_proxy_httpx_would_take(env: dict[str, str], clean_proxies: pytest.MonkeyPatch) -> None:
    import httpx

    for name, value in env.items():
        clean_proxies.setenv(name, value)
    rules = environment_rules()
    for url in URLS:
        u = httpx.URL(url)
        assert proxy_for(rules, u.scheme, u.host, u.port) == httpx_choice(url), (env, url)


def fetch(url: str, data: bytes, folder: Path, **auth: str) -> Fetched | BaseException:
    target = folder / "f.bin"
    exp = Expected(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    d = Download(url, target, target.with_name("f.bin.lock"), exp, "f.bin", auth=auth)
    (out,) = Engine(jobs=2).run([d])
    return out


def test_http_downloads_go_through_http_proxy_in_absolute_form_and_the_token_with_them(
        tmp_path: Path, clean_proxies: pytest.MonkeyPatch) -> None:
    data = os.urandom(3_000_000)
    with FileServer({"/f.bin": data}) as srv, ProxyServer() as proxy:
        clean_proxies.setenv("HTTP_PROXY", proxy.url_with("lab", "s3cret"))
        out = fetch(srv.url + "/f.bin", data, tmp_path, Authorization="Bearer hf_abc")
        assert isinstance(out, Fetched), out
        assert (tmp_path / "f.bin").read_bytes() == data
        assert proxy.log == [("GET", srv.url + "/f.bin", "Basic bGFiOnMzY3JldA==")]
        # The origin gets the hub's token (it is the hub's host) and never the proxy's credentials.
        (seen,) = srv.requests
        assert seen.headers.get("authorization") == "Bearer hf_abc" and "proxy-authorization" not in seen.headers


def test_no_proxy_sends_a_download_direct(tmp_path: Path, clean_proxies: pytest.MonkeyPatch) -> None:
    data = os.urandom(100_000)
    with FileServer({"/f.bin": data}) as srv, ProxyServer() as proxy:
        clean_proxies.setenv("HTTP_PROXY", proxy.url)
        clean_proxies.setenv("NO_PROXY", "127.0.0.1")
        assert isinstance(fetch(srv.url + "/f.bin", data, tmp_path), Fetched)
        assert proxy.log == [] and len(srv.requests) == 1


def test_a_proxy_that_wants_credentials_is_a_clear_failure(tmp_path: Path, clean_proxies: pytest.MonkeyPatch) -> None:
    data = os.urandom(100_000)
    with FileServer({"/f.bin": data}) as srv, ProxyServer(credentials="lab:s3cret") as proxy:
        clean_proxies.setenv("HTTP_PROXY", proxy.url)
        out = fetch(srv.url + "/f.bin", data, tmp_path)
        assert not isinstance(out, Fetched) and "407" in str(out), out
        assert srv.requests == [] and not (tmp_path / "f.bin").exists()


# -- TLS, end to end through `zoofind pull` (a process of its own: SSL_CERT_FILE is read once) ----------
@pytest.fixture
def tls_ca(tmp_path: Path):
    return make_ca(tmp_path)


def pull_env(srv: FileServer, home: Path, **more: str) -> dict[str, str]:
    # (The environment has no proxy set: an empty lower-case one would switch off an upper-case one.)
    return {"ZOOFIND_TORCHVISION_ENDPOINT": f"https://localhost:{srv.port}/models",
            "TORCH_HOME": str(home), **more}


def test_https_through_a_connect_tunnel_is_verified_against_the_lab_ca(tls_ca, cli, tmp_path: Path) -> None:
    ca, pem = tls_ca
    data = os.urandom(5_000_000)
    with https(FileServer({CHECKPOINT: data}), ca) as srv, ProxyServer(credentials="lab:s3cret") as proxy:
        env = pull_env(srv, tmp_path / "torch", SSL_CERT_FILE=str(pem), HTTPS_PROXY=proxy.url_with("lab", "s3cret"))
        ran = cli("pull", MODEL, env=env)
        assert ran.code == 0, ran.stderr
        target = tmp_path / "torch" / "hub" / "checkpoints" / Path(CHECKPOINT).name
        assert target.read_bytes() == data
        assert ("CONNECT", f"localhost:{srv.port}", "Basic bGFiOnMzY3JldA==") in proxy.log
        assert all(method == "CONNECT" for method, _, _ in proxy.log)  # nothing sent in the clear
        assert proxy.relayed > len(data)  # the bytes came through the tunnel


def test_a_certificate_from_an_unknown_ca_is_refused_with_nothing_written(tls_ca, cli, tmp_path: Path) -> None:
    ca, _ = tls_ca
    data = os.urandom(200_000)
    with https(FileServer({CHECKPOINT: data}), ca) as srv:
        ran = cli("pull", MODEL, env=pull_env(srv, tmp_path / "torch"))
        assert ran.code == 1, ran.stderr
        assert "TLS certificate was refused" in ran.stderr and "Traceback" not in ran.stderr, ran.stderr
        assert srv.requests == []
        # Nothing where torch.hub would load it (an empty partial, kept for a retry, is all there is).
        folder = tmp_path / "torch" / "hub" / "checkpoints"
        assert [p.name for p in folder.iterdir() if not p.name.startswith(".zoofind-partial-")] == []


def test_a_tunnel_the_proxy_refuses_is_a_clear_failure(tls_ca, cli, tmp_path: Path) -> None:
    ca, pem = tls_ca
    with https(FileServer({CHECKPOINT: b"x" * 1000}), ca) as srv, ProxyServer(credentials="lab:s3cret") as proxy:
        ran = cli("pull", MODEL, env=pull_env(srv, tmp_path / "torch", SSL_CERT_FILE=str(pem), HTTPS_PROXY=proxy.url))
        assert ran.code != 0 and "Traceback" not in ran.stderr
        assert "proxy" in ran.stderr.lower() and "407" in ran.stderr, ran.stderr
        assert srv.requests == []


# -- connections: kept alive, dropped while idle, bodies without a length ----------------------------
class Counting(LoopbackServer):
    """Files over HTTP/1.1, counting the connections made. ``drop_idle``: each connection is closed
    right after its answer without saying so (a keep-alive timeout on the server's side);
    ``no_length``: bodies sent without Content-Length, ended by closing the connection."""

    def __init__(self, files: dict[str, bytes], *, drop_idle: bool = False, no_length: bool = False) -> None:
        self.requests: list[str] = []
        self.connections = 0
        server = self

        class Handler(QuietHandler):
            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server.connections += 1

            def do_GET(self) -> None:  # noqa: N802
                with server._lock:
                    server.requests.append(self.path)
                data = files[self.path]
                self.send_response(200)
                if not no_length:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = drop_idle or no_length

        self._listen(Handler)


def many(srv: LoopbackServer, files: dict[str, bytes], folder: Path) -> list[Fetched | BaseException]:
    downloads = [Download(srv.url + path, folder / path[1:], folder / f"{path[1:]}.lock",
                          Expected(size=len(data), sha256=hashlib.sha256(data).hexdigest()), path)
                 for path, data in files.items()]
    return Engine(jobs=1).run(downloads)


def test_one_connection_carries_a_run_of_files(tmp_path: Path) -> None:
    files = {f"/f{i}.bin": os.urandom(50_000 + i) for i in range(5)}
    with Counting(files) as srv:
        assert all(isinstance(out, Fetched) for out in many(srv, files, tmp_path))
        assert srv.connections == 1 and len(srv.requests) == 5


def test_a_kept_alive_connection_the_server_dropped_is_replaced_unnoticed(tmp_path: Path) -> None:
    files = {f"/f{i}.bin": os.urandom(50_000 + i) for i in range(5)}
    with Counting(files, drop_idle=True) as srv:
        outs = many(srv, files, tmp_path)
        assert all(isinstance(out, Fetched) for out in outs), outs
        assert srv.connections == 5 and len(srv.requests) == 5  # no request was lost or sent twice
    assert all((tmp_path / path[1:]).read_bytes() == data for path, data in files.items())


def test_a_body_without_a_length_ends_with_the_connection(tmp_path: Path) -> None:
    files = {"/a.bin": os.urandom(3_000_000), "/b.bin": os.urandom(10)}
    with Counting(files, no_length=True) as srv:
        outs = many(srv, files, tmp_path)
        assert all(isinstance(out, Fetched) for out in outs), outs
        assert srv.connections == 2
    assert (tmp_path / "a.bin").read_bytes() == files["/a.bin"]
