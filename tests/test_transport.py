"""zoofind's HTTP vocabulary (``net.transport``) held against httpx, which zoofind spoke before:
an address goes on the wire as httpx sent it (request target, host, port, credentials), what httpx
refused is refused, ``params`` replace a query as httpx's did, and a repeated header reads as
httpx joined it. Then the point of it: a search served from cached answers loads no HTTP stack."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoofind.net.transport import Headers, InvalidURL, join_url, parse_url

ADDRESSES = [
    "http://127.0.0.1:8080/api/models?search=protein&limit=20",
    "https://huggingface.co/api/models/facebook/esm2_t6_8M_UR50D/tree/main",
    "https://HuggingFace.CO/Path/With/Case?Q=Keep",
    "http://h/a b/c d?q=x y&z=1",
    "http://h/caf\u00e9/\u00fcber?name=\u00e9t\u00e9",
    "http://h/already%20escaped/%zz?x=%41",
    "http://h/p;params,commas@and:colons!$'()*+=~",
    "http://h",
    "http://h?only=query",
    "http://[::1]:9000/v6",
    "https://user:p%40ss@mirror.lab:8443/models",
    "http://xn--caf-dma.example/idna",
    "http://caf\u00e9.example/unicode-host",
    "https://zenodo.org/api/records/123/files/model%2Bweights.pt/content",
]


@pytest.mark.parametrize("url", ADDRESSES)
def test_an_address_goes_on_the_wire_as_httpx_sent_it(url: str) -> None:
    ours, theirs = parse_url(url), httpx.URL(url)
    assert ours.target == theirs.raw_path.decode("ascii"), url
    assert ours.host == theirs.raw_host.decode("ascii").strip("[]"), url
    assert ours.port == theirs.port and ours.scheme == theirs.scheme
    if theirs.username:
        assert ours.userinfo == f"{theirs.username}:{theirs.password}"


@pytest.mark.parametrize("url", ["http://h:abc/", "http://h/\x01", "http://h/\x7f", "http://[::1/x"])
def test_what_httpx_refused_is_refused(url: str) -> None:
    with pytest.raises(httpx.InvalidURL):
        httpx.URL(url)
    with pytest.raises(InvalidURL):
        parse_url(url)


def test_an_address_without_a_host_or_with_an_impossible_port_is_refused() -> None:
    with pytest.raises(InvalidURL, match="no host"):
        parse_url("http:///nowhere")
    with pytest.raises(InvalidURL):  # httpx let this through to fail at connect time
        parse_url("http://h:99999/")


def test_params_replace_the_query_as_httpx_did() -> None:
    params = [("search", "protein language"), ("filter", "pytorch"), ("filter", "ü/x"), ("expand[]", "cardData")]
    request = httpx.Request("GET", "http://h/api/models?old=1", params=params)
    assert parse_url("http://h/api/models?old=1", params).target == request.url.raw_path.decode("ascii")
    single = httpx.Request("GET", "http://h/api", params={"q": "a b"}).url.raw_path.decode("ascii")
    assert parse_url("http://h/api", {"q": "a b"}).target == single


@pytest.mark.parametrize(("base", "location"), [
    ("http://h/a/b?x=1", "../c?y=2"),
    ("http://h/a/b", "//other:81/z"),
    ("https://h/a", "/abs path"),
    ("https://h/a", "https://cdn.example/f?X-Amz-Signature=abc%2F"),
])
def test_a_redirect_resolves_as_httpx_resolved_it(base: str, location: str) -> None:
    ours, theirs = join_url(base, location), httpx.URL(base).join(location)
    assert (ours.scheme, ours.host, ours.port, ours.target) == (
        theirs.scheme, theirs.host, theirs.port, theirs.raw_path.decode("ascii"))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_characters="/?#\\"),
                        max_size=12), min_size=1, max_size=4),
       st.text(st.characters(min_codepoint=0x20, max_codepoint=0x2FF, exclude_characters="#\\"), max_size=20))
def test_any_printable_path_and_query_encode_as_httpx_encodes_them(segments: list[str], query: str) -> None:
    url = "http://h/" + "/".join(segments) + ("?" + query if query else "")
    try:
        theirs = httpx.URL(url).raw_path.decode("ascii")
    except httpx.InvalidURL:  # a control character: refused by both
        with pytest.raises(InvalidURL):
            parse_url(url)
        return
    assert parse_url(url).target == theirs


def test_a_repeated_header_reads_as_httpx_joined_it() -> None:
    pairs = [("Link", '<a>; rel="next"'), ("Content-Type", "application/json"), ("link", '<b>; rel="last"')]
    ours, theirs = Headers(pairs), httpx.Headers(pairs)
    assert ours["LINK"] == theirs["link"] and dict(ours) == {k: v for k, v in theirs.items()}
    assert "content-type" in ours and "Content-Type" in ours and "etag" not in ours
    assert "application/json" not in repr(ours)  # a value may be a credential: names only


def test_a_search_served_from_cached_answers_loads_no_http_stack(hf_hub) -> None:
    from zoofind.core.context import Context
    from zoofind.hubs import SearchQuery
    from zoofind.hubs.hf.source import HfSource

    assert HfSource().search(SearchQuery(text="esm"), Context.from_env()).origin == "live"
    code = ("import sys; from zoofind.hubs import SearchQuery; from zoofind.hubs.hf.source import HfSource; "
            "from zoofind.core.context import Context; "
            "a = HfSource().search(SearchQuery(text='esm'), Context.from_env()); assert a.origin == 'cache', a.origin; "
            "heavy = [m for m in ('http.client', 'ssl', 'stamina', 'httpx', 'zoofind.net.wire') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- API calls over TLS, end to end through `zoofind search` (a process of its own: SSL_CERT_FILE is read once) --
def _zenodo_over_tls(ca):
    from servers.tls import https
    from servers.zenodo_server import Rec, ZenodoServer

    records = {101: Rec(101, {"weights.pth": b"w" * 100}, title="Nuclei segmentation U-Net weights")}
    return https(ZenodoServer(records), ca)


def test_a_search_over_https_through_a_connect_tunnel_is_verified_against_the_lab_ca(cli, tmp_path) -> None:
    from servers.proxy_server import ProxyServer
    from servers.tls import make_ca

    ca, pem = make_ca(tmp_path)
    with _zenodo_over_tls(ca) as srv, ProxyServer(credentials="lab:s3cret") as proxy:
        env = {"ZOOFIND_ZENODO_ENDPOINT": f"https://localhost:{srv.port}", "SSL_CERT_FILE": str(pem),
               "HTTPS_PROXY": proxy.url_with("lab", "s3cret")}
        ran = cli("search", "nuclei segmentation", "--source", "zenodo", "--format", "ids", env=env)
        assert ran.code == 0, ran.stderr
        assert "zenodo:101" in ran.stdout
        assert ("CONNECT", f"localhost:{srv.port}", "Basic bGFiOnMzY3JldA==") in proxy.log
        assert all(method == "CONNECT" for method, _, _ in proxy.log)  # the query never went in the clear


def test_a_search_against_a_certificate_from_an_unknown_ca_fails_clearly(cli, tmp_path) -> None:
    from servers.tls import make_ca

    ca, _ = make_ca(tmp_path)
    with _zenodo_over_tls(ca) as srv:
        ran = cli("search", "nuclei", "--source", "zenodo", env={"ZOOFIND_ZENODO_ENDPOINT": f"https://localhost:{srv.port}"})
        assert ran.code == 1 and "Traceback" not in ran.stderr, ran.stderr
        assert "TLS certificate was refused" in ran.stderr, ran.stderr
        assert srv.requests == []


@pytest.mark.parametrize(("reply", "said"), [
    (b"", "closed the connection without answering"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[]", "closed the connection in the middle of its answer"),
    (b"[1, 2, 3]", "its answer was not valid HTTP/1.1"),
    (b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n", "not valid HTTP/1.1"),
])
def test_a_server_that_breaks_http_is_named_and_said_in_words(reply: bytes, said: str) -> None:
    import socket
    import threading

    from zoofind.core.context import Context
    from zoofind.core.errors import UnreachableError
    from zoofind.net.http import Session

    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    try:
        with Session(Context.from_env(timeout=5), "the test server") as s, pytest.raises(UnreachableError) as err:
            s.request("GET", f"http://127.0.0.1:{listener.getsockname()[1]}/api", retry=False)
    finally:
        listener.close()
    assert said in str(err.value) and "127.0.0.1" in str(err.value), err.value


def test_search_info_and_pull_run_where_httpx_cannot_be_imported(hf_hub, tmp_path) -> None:
    # zoofind no longer depends on httpx (huggingface_hub brings it, but zoofind must not need it).
    hf_hub.add_repo("zoofind-lab/plain-client", {"config.json": b"{}\n", "model.safetensors": bytes(4096)})
    model = "hf:zoofind-lab/plain-client"
    for args in (["search", "plain-client", "--source", "hf", "--format", "ids"], ["info", model],
                 ["pull", model, "--quiet"]):
        code = ("import sys; sys.modules['httpx'] = None; sys.argv = ['zoofind', *sys.argv[1:]]; "
                "from zoofind.cli.app import main; main()")
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (args, done.stderr)
        assert "Traceback" not in done.stderr and "unexpected error" not in done.stderr, done.stderr
