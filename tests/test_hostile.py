"""zoofind against a hostile server (tests/servers/hostile.py), through the real CLI.

Every command a person runs (`info`, `sources`, `search`) pointed at a server that drips,
stalls, streams forever, sends gzip bombs, slow redirect chains, plain 404s, wrong types
and credentials in its address: each ends within `--timeout` plus start-up, stays within
a memory bound, exits with the documented code and message, and prints no traceback
and no secret.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from servers.hf_server import TEST_TOKEN, HubServer
from servers.hostile import HostileServer
from zoofind.core.context import Context
from zoofind.core.errors import BadAnswerError
from zoofind.core.redaction import keyed_url, redact_text, redact_url
from zoofind.net.answers import AnswerCache
from zoofind.net.http import API_MAX_BYTES, Session

#: What a process may take beyond --timeout: interpreter start-up, imports, printing, on a
#: shared 2-core machine (~0.4 s alone; seen up to 1.5 s under other suites' load).
MARGIN = 2.0
#: The most a zoofind process may grow to whatever a server sends: the interpreter, httpx
#: and the catalog (~40 MB), one capped answer held, and room for the machine's variance.
#: Inflating a bomb's raw chunks whole (httpx's own decoder) reaches ~160 MB; an uncapped
#: body, gigabytes.
RSS_LIMIT = 2 * API_MAX_BYTES + 64 * 1024 * 1024
ENDPOINTS = ("HF_ENDPOINT", "ZOOFIND_KAGGLE_ENDPOINT", "ZOOFIND_TFHUB_ENDPOINT", "ZOOFIND_TORCHVISION_ENDPOINT",
             "ZOOFIND_BIOIMAGEIO_ENDPOINT", "ZOOFIND_GITHUB_ENDPOINT",
             "ZOOFIND_ZENODO_ENDPOINT")


@dataclass
class Measured:
    code: int
    stdout: str
    stderr: str
    seconds: float
    max_rss: int  # bytes

    @property
    def clean(self) -> bool:
        """No traceback and no "report this bug" message: every failure was one zoofind knows."""
        text = self.stdout + self.stderr
        return "Traceback" not in text and "unexpected error" not in text and "please report" not in text


#: Runs a command and writes its peak memory: a child's ru_maxrss counts the memory of the
#: process it was forked from, so it is forked from this small one, not from pytest. The
#: address-space limit stops a regression from taking the machine down with it.
_MEASURE = """
import os, resource, subprocess, sys
resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))
proc = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
proc.returncode = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w") as fh:
    fh.write(str(usage.ru_maxrss * 1024))
sys.exit(proc.returncode if proc.returncode >= 0 else 128 - proc.returncode)
"""


def zoofind(*args: str, env: dict[str, str]) -> Measured:
    """Run the real entry point: exit code, output, wall time and peak memory (bytes)."""
    script = Path(sys.executable).with_name("zoofind")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "zoofind"]
    with tempfile.TemporaryDirectory() as tmp:
        rss = Path(tmp) / "rss"
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-c", _MEASURE, str(rss), *command, *args], capture_output=True,
                              text=True, env={**os.environ, **env}, timeout=60)
        seconds = time.monotonic() - started
        return Measured(done.returncode, done.stdout, done.stderr, seconds, int(rss.read_text()))


def everything_at(url: str) -> dict[str, str]:
    return {name: url for name in ENDPOINTS} | {"KAGGLE_API_TOKEN": "tok-hostile"}


@pytest.fixture
def hostile():
    """hostile(mode, **options): a started HostileServer, stopped after the test."""
    servers: list[HostileServer] = []

    def make(mode: str, **options) -> HostileServer:
        server = HostileServer(mode, **options).__enter__()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.__exit__(None, None, None)


# -- one deadline, bounded memory --------------------------------------------------------

TIMED_OUT = "gave no answer within {} s"
TOO_BIG = f"sent more than {API_MAX_BYTES // 2**20} MiB; answer abandoned"
HOSTILE_HUBS = {
    "drip": TIMED_OUT,  # the body at 1 byte per 0.5 s
    "drip_headers": TIMED_OUT,  # the status line and headers at 1 byte per 0.5 s
    "stall": TIMED_OUT,  # never a byte
    "endless": TOO_BIG,  # a body without end
    "bomb": TOO_BIG,  # 4 MB of gzip that inflates to 4 GiB
}


@pytest.mark.parametrize("mode", HOSTILE_HUBS)
def test_info_ends_within_its_timeout_and_memory_bound_whatever_the_hub_sends(hostile, mode):
    """`zoofind info hf:acme/x --timeout 1` against a Hub that drips, stalls or floods: exit 1 within 1 s (plus start-up)."""
    r = zoofind("info", "hf:acme/x", "--timeout", "1", env={"HF_ENDPOINT": hostile(mode).url})
    assert r.code == 1 and r.clean, r.stderr
    assert HOSTILE_HUBS[mode].format(1) in r.stderr, r.stderr
    assert r.seconds < 1 + MARGIN and r.max_rss < RSS_LIMIT


@pytest.mark.parametrize("mode", ["drip_headers", "stall"])
def test_sources_probes_end_within_their_timeout(hostile, mode):
    """`zoofind sources --timeout 2` with every endpoint at a server that drips its headers or never answers."""
    r = zoofind("sources", "--timeout", "2", "--json", env=everything_at(hostile(mode).url))
    assert r.code == 0 and r.clean, r.stderr
    assert r.seconds < 2 + MARGIN
    rows = {row["name"]: row for row in json.loads(r.stdout)["sources"]}
    for name in ("hf", "kaggle", "tfhub", "torchvision", "bioimageio", "torchhub", "zenodo"):
        assert rows[name]["reachable"] is False, rows[name]
        assert TIMED_OUT.format(2) in rows[name]["reason"], rows[name]


def test_search_keeps_the_catalog_when_every_live_source_is_hostile(hostile):
    """`zoofind search protein --timeout 2` with every live hub dripping its headers: the catalog still answers."""
    r = zoofind("search", "protein", "--timeout", "2", "--json", env=everything_at(hostile("drip_headers").url))
    assert r.code == 0 and r.clean, r.stderr
    assert r.seconds < 2 + MARGIN and r.max_rss < RSS_LIMIT
    body = json.loads(r.stdout)
    status = {s["name"]: s["status"] for s in body["sources"]}
    assert status["catalog"] == "ok" and status["hf"] in ("timeout", "error") and status["kaggle"] in ("timeout", "error")
    assert any(rec["curated"] for rec in body["results"])
    assert "sources bioimageio, hf, kaggle, zenodo failed" in r.stderr and r.stderr.count("failed") == 1  # one line for all


def test_a_slow_tfhub_redirect_chain_shares_one_deadline(hostile):
    """tfhub.dev-style hops of 1.5 s each under `--timeout 2`: the walk stops at 2 s, not at 15."""
    server = hostile("redirects", interval=1.5, hops=10)
    r = zoofind("info", "tfhub:google/yamnet/1", "--timeout", "2", env={"ZOOFIND_TFHUB_ENDPOINT": server.url})
    assert r.code == 0 and r.clean, r.stderr  # the bundled entry, with a warning
    assert r.seconds < 2 + MARGIN
    assert "tfhub did not answer" in r.stderr and TIMED_OUT.format(2) in r.stderr
    assert len(server.requests) == 2


def test_a_malformed_redirect_address_is_a_bad_answer(hostile):
    server = hostile("redirects", interval=0, location="http://[::1/models/x")
    r = zoofind("info", "tfhub:google/yamnet/1", env={"ZOOFIND_TFHUB_ENDPOINT": server.url})
    assert r.code == 0 and r.clean, r.stderr  # the bundled entry, with a warning
    assert "to an address that is not one" in r.stderr


@pytest.mark.parametrize("body", ["bomb", "endless"])
def test_a_redirect_body_is_never_read(hostile, body):
    """A 302 that carries a gzip bomb or an endless body: zoofind follows the Location without reading it."""
    model = {"id": "acme/x", "likes": 3, "pipeline_tag": "fill-mask", "tags": ["pytorch"]}
    server = hostile("redirects", interval=0, hops=2, redirect_body=body, payloads={"final": model})
    r = zoofind("info", "hf:acme/x", "--json", "--timeout", "5", env={"HF_ENDPOINT": server.url})
    assert r.code == 0 and r.clean, r.stderr
    assert json.loads(r.stdout)["record"]["likes"] == 3
    assert r.seconds < 5 and r.max_rss < RSS_LIMIT


def test_json_nested_too_deeply_is_a_bad_answer(hostile):
    server = hostile("json", payloads={"hf-info": b"[" * 200_000 + b"]" * 200_000})
    with Session(Context.from_env(timeout=5), "the Hub") as s, pytest.raises(BadAnswerError, match="nested too deeply"):
        s.request("GET", f"{server.url}/api/models/acme/x").json()


# -- the network layer itself (in-process) -----------------------------------------------

def session(timeout: float = 5) -> Session:
    return Session(Context.from_env(timeout=timeout), "the test server")


def test_a_gzip_bomb_is_inflated_in_bounded_steps(hostile):
    """4 GiB of zeros in 4 MB of gzip, read with a 1 MiB cap: abandoned after about one step past it."""
    server = hostile("bomb")
    tracemalloc.start()
    try:
        with session() as s, pytest.raises(BadAnswerError, match="more than 1 MiB"):
            s.request("GET", server.url, max_bytes=2**20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, peak


@pytest.mark.parametrize(("encoding", "pack"), [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),  # zlib-wrapped, as the RFC says
    ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw, as some servers send it
    ("identity", lambda b: b),
])
def test_bodies_are_inflated_here(hostile, encoding, pack):
    body = json.dumps({"models": list(range(1000))}).encode()
    server = hostile("json", payloads={"root": pack(body)}, headers={"root": {"Content-Encoding": encoding}})
    with session() as s:
        assert s.request("GET", server.url).json() == {"models": list(range(1000))}
    assert server.requests[0][2]["accept-encoding"] == "gzip, deflate"


@pytest.mark.parametrize(("encoding", "body", "said"), [
    ("br", b"\x1b\x00", "an encoding zoofind did not ask for (br)"),
    ("gzip", b"not gzip at all", "not the gzip it claims to be"),
])
def test_a_body_in_the_wrong_encoding_is_a_bad_answer(hostile, encoding, body, said):
    server = hostile("json", payloads={"root": body}, headers={"root": {"Content-Encoding": encoding}})
    with session() as s, pytest.raises(BadAnswerError, match=re.escape(said)):
        s.request("GET", server.url)


def test_a_redirect_chain_longer_than_ten_hops_is_abandoned(hostile):
    server = hostile("redirects", interval=0, hops=50)
    with session() as s, pytest.raises(BadAnswerError, match="redirects in a loop or more than 10 times"):
        s.request("GET", server.url)
    assert len(server.requests) == 11


# -- a plain 404 from a mirror -----------------------------------------------------------

def test_a_mirror_without_the_hub_api_says_the_endpoint_may_be_wrong(hostile):
    """HF_ENDPOINT at a server that answers 404 without the Hub's X-Error-Code."""
    env = {"HF_ENDPOINT": hostile("status", status=404).url}
    search = zoofind("search", "protein", "-s", "hf", "--json", env=env)
    assert search.clean, search.stderr
    hf = next(s for s in json.loads(search.stdout)["sources"] if s["name"] == "hf")
    assert hf["status"] == "error" and "cannot list models" in hf["message"], hf
    assert "HF_ENDPOINT may not point at a Hub" in hf["message"] and "HF_ENDPOINT may not point at a Hub" in search.stderr
    info = zoofind("info", "hf:acme/x", env=env)
    assert info.code == 3 and info.clean, info.stderr
    assert "no model 'acme/x'" in info.stderr and "plain HTTP 404" in info.stderr and "check HF_ENDPOINT" in info.stderr


def test_a_kaggle_endpoint_without_kaggles_api_says_so(hostile):
    env = {"ZOOFIND_KAGGLE_ENDPOINT": hostile("status", status=404).url, "KAGGLE_API_TOKEN": "tok"}
    search = zoofind("search", "bird", "-s", "kaggle", "--json", env=env)
    assert search.clean, search.stderr
    kaggle = next(s for s in json.loads(search.stdout)["sources"] if s["name"] == "kaggle")
    assert kaggle["status"] == "error" and "has no ListModels" in kaggle["message"], kaggle
    assert "ZOOFIND_KAGGLE_ENDPOINT may not point at Kaggle's API" in kaggle["message"]
    assert "no such model" not in search.stderr  # a listing is not a model
    info = zoofind("info", "kaggle:google/yamnet/tensorFlow2/yamnet", env=env)
    assert info.code == 3 and info.clean and "plain HTTP 404" in info.stderr, info.stderr


# -- escape codes in what servers say ----------------------------------------------------

CLEAR, TITLE, LINK = "\x1b[2J\x1b[H", "\x1b]0;pwned\x07", "\x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\"
ESCAPED_MODEL = {"id": "acme/x", "likes": 1, "tags": ["pytorch", f"tag{CLEAR}"], "pipeline_tag": f"fill-mask{TITLE}",
                 "cardData": {"summary": f"A model {LINK} {CLEAR}red\x1b[31m", "license": f"mit{TITLE}"}}


def test_escape_codes_from_a_hub_never_reach_the_terminal(hostile):
    """Descriptions, licences, tags and tasks with clear-screen, title and hyperlink codes: printed clean,
    kept as they are (escaped) in JSON."""
    server = hostile("json", payloads={"hf-list": [ESCAPED_MODEL], "hf-info": ESCAPED_MODEL})
    env = {"HF_ENDPOINT": server.url}
    for args in (("search", "acme", "-s", "hf"), ("search", "acme", "-s", "hf", "-f", "table"), ("info", "hf:acme/x")):
        r = zoofind(*args, env=env)
        assert r.code == 0 and r.clean, r.stderr
        assert "\x1b" not in r.stdout + r.stderr and "\x07" not in r.stdout, (args, r.stdout)
    as_json = zoofind("info", "hf:acme/x", "--json", env=env)
    assert "\x1b" not in as_json.stdout
    assert json.loads(as_json.stdout)["record"]["description"] == ESCAPED_MODEL["cardData"]["summary"]


def test_escape_codes_in_a_kaggle_error_message_never_reach_the_terminal(hostile):
    server = hostile("json", payloads={"kaggle-list": {"code": 500, "message": f"boom{CLEAR}{TITLE}"}})
    r = zoofind("search", "yamnet", "-s", "kaggle", env={"ZOOFIND_KAGGLE_ENDPOINT": server.url, "KAGGLE_API_TOKEN": "t"})
    assert "boom" in r.stderr and r.clean, r.stderr
    assert "\x1b" not in r.stdout + r.stderr and "\x07" not in r.stderr


# -- secrets in endpoint addresses -------------------------------------------------------

PASSWORD = "hunter2-s3cret"
HUB_MODEL = {"id": "acme/x", "likes": 3, "downloads": 10, "pipeline_tag": "fill-mask", "tags": ["pytorch"]}


def with_password(url: str) -> str:
    return url.replace("http://", f"http://alice:{PASSWORD}@")


@pytest.mark.parametrize(("url", "shown"), [
    ("http://alice:pw@mirror:8080/hub", "http://***@mirror:8080/hub"),
    ("https://tok@mirror", "https://***@mirror"),
    ("http://a:p@ss@mirror/x?y=1", "http://***@mirror/x?y=1"),  # an unescaped @ in the password
    ("https://storage.example/f?X-Goog-Signature=abc&X-Goog-Credential=me&alt=media",
     "https://storage.example/f?X-Goog-Signature=***&X-Goog-Credential=***&alt=media"),
    ("https://hub/api/models?author=google&token=s3", "https://hub/api/models?author=google&token=***"),
    ("http://[::1", "http://[::1"),  # malformed, still no exception
    ("/a/local/path", "/a/local/path"),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_redact_text_and_cache_keys():
    assert redact_text("cannot reach http://u:pw@h/x (ftp://v:pw2@g)") == "cannot reach http://***@h/x (ftp://***@g)"
    keyed = keyed_url("http://u:pw@h/x")
    assert "pw" not in keyed and keyed == keyed_url("http://u:pw@h/x") != keyed_url("http://u:other@h/x")
    assert keyed_url("http://h/x") == "http://h/x"


def test_credentials_in_endpoint_urls_are_never_shown(hostile, tmp_path):
    """HF_ENDPOINT=http://alice:pw@host (and the other endpoint variables): `sources`, records and errors say http://***@host."""
    server = hostile("json", payloads={"hf-list": [HUB_MODEL], "hf-info": HUB_MODEL, "root": {}})
    env = {name: with_password(server.url) for name in ENDPOINTS} | {"KAGGLE_API_TOKEN": "tok"}
    masked = server.url.replace("http://", "http://***@")
    text = zoofind("sources", "--timeout", "3", env=env)
    as_json = zoofind("sources", "--timeout", "3", "--json", env=env)
    search = zoofind("search", "acme", "-s", "hf", "--json", env=env)
    info = zoofind("info", "hf:acme/x", "--json", env=env)
    missing = hostile("status", status=404)
    failing = zoofind("info", "hf:acme/x", env={"HF_ENDPOINT": with_password(missing.url)})  # an error naming the endpoint
    for r in (text, as_json, search, info, failing):
        assert PASSWORD not in r.stdout + r.stderr and r.clean, r.stdout + r.stderr
    rows = {row["name"]: row for row in json.loads(as_json.stdout)["sources"]}
    for name in ("hf", "kaggle", "tfhub"):
        assert rows[name]["endpoint"].startswith(masked), rows[name]
    assert masked in text.stdout
    assert json.loads(info.stdout)["record"]["url"] == f"{masked}/acme/x"
    assert [r["url"] for r in json.loads(search.stdout)["results"]] == [f"{masked}/acme/x"]
    assert failing.code == 3 and missing.url.replace("http://", "http://***@") in failing.stderr
    # The credentials did reach the server (as HTTP basic auth): only their display is redacted.
    assert any(h.get("authorization", "").startswith("Basic ") for _, _, h in server.requests)
    for path in (tmp_path / "zoofind-cache").rglob("*"):
        if path.is_file():
            assert PASSWORD not in path.read_text(errors="replace"), path


def test_other_endpoint_credentials_are_another_cache_entry(hostile):
    """The same mirror with other credentials in HF_ENDPOINT is asked again, never served the first account's answer."""
    server = hostile("json", payloads={"hf-list": [HUB_MODEL]})
    first = zoofind("search", "acme", "-s", "hf", env={"HF_ENDPOINT": with_password(server.url)})
    again = zoofind("search", "acme", "-s", "hf", env={"HF_ENDPOINT": with_password(server.url)})
    other = zoofind("search", "acme", "-s", "hf", env={"HF_ENDPOINT": server.url.replace("http://", "http://bob:pw@")})
    assert first.code == again.code == other.code == 0
    assert len(server.paths("hf-list")) == 2  # the repeat came from the cache; bob's search did not


def test_a_next_page_on_another_host_is_not_followed_with_the_token(hostile):
    """A Hub whose Link header sends the next page elsewhere: zoofind keeps its first page and sends the token nowhere else."""
    elsewhere = hostile("json", payloads={"hf-list": [HUB_MODEL]})
    hub = hostile("json", payloads={"hf-list": [{**HUB_MODEL, "id": "acme/first"}]},
                  headers={"hf-list": {"Link": f'<{elsewhere.url}/api/models?cursor=2>; rel="next"'}})
    r = zoofind("search", "acme", "-s", "hf", "-n", "50", "--format", "ids", env={"HF_ENDPOINT": hub.url, "HF_TOKEN": TEST_TOKEN})
    assert r.code == 0 and r.stdout.split() == ["hf:acme/first"], r.stderr
    assert elsewhere.requests == []


@pytest.mark.parametrize("damage", [b"[1, 2]", b"[" * 100_000, b'{"saved_at": "NaN", "value": []}', b"\xff\xfe", b"null"])
def test_a_damaged_cache_entry_is_a_miss(damage):
    """Whatever is in an answer file (another program's, a half-written one), it is a cache miss, never an error."""
    ctx = Context.from_env()
    cache = AnswerCache(ctx, "hf")
    cache.put("k", [1], "req")
    (cache.folder / "k.json").write_bytes(damage)
    assert cache.get("k", "req") is None and cache.get("k") is None


def test_a_cached_answer_of_the_wrong_shape_is_asked_again(hostile, tmp_path):
    """A cached tfhub.dev walk whose value is not what zoofind wrote: `info` asks again instead of failing."""
    server = hostile("redirects", interval=0, hops=1)
    env = {"ZOOFIND_TFHUB_ENDPOINT": server.url}
    assert zoofind("info", "tfhub:google/yamnet/1", env=env).code == 0
    (entry,) = (tmp_path / "zoofind-cache" / "answers" / "tfhub").glob("*.json")
    data = json.loads(entry.read_text())
    entry.write_text(json.dumps({**data, "value": {"resolves": "yes", "gone": None}}))
    again = zoofind("info", "tfhub:google/yamnet/1", "--json", env=env)
    assert again.code == 0 and again.clean, again.stderr
    assert json.loads(again.stdout)["record"]["extra"]["resolves"] is True
    assert len(server.requests) == 4  # two hops, twice


def test_switching_hf_token_never_serves_another_accounts_private_results():
    """Private results fetched with one HF_TOKEN are not served to another token, nor to no token."""
    other = TEST_TOKEN[:-3] + "ABC"
    with HubServer(tokens=(TEST_TOKEN, other)) as hub:
        env = {"HF_ENDPOINT": hub.url}

        def private_ids(token: str | None) -> set[str]:
            run_env = {**env, "HF_TOKEN": token} if token else env
            r = zoofind("search", "private", "-s", "hf", "--format", "ids", env=run_env)
            assert r.code in (0, 1) and r.clean, r.stderr
            return {line for line in r.stdout.split() if any(line == f"hf:{m['id']}" for m in hub.models if m.get("private"))}

        assert private_ids(TEST_TOKEN), "the test Hub should show a private model to a token"
        listings = len(hub.log("/api/models"))
        private_ids(other)
        assert len(hub.log("/api/models")) == listings + 1  # asked again: another account
        assert private_ids(None) == set()  # anonymous: the Hub hides them, and so does the cache
        assert TEST_TOKEN not in "".join(p.read_text(errors="replace") for p in Path(os.environ["ZOOFIND_CACHE_DIR"]).rglob("*.json"))
