"""All sources at once, as `zoofind search` asks them: concurrently, merged, offline-safe.

The Hub and Kaggle are local protocol servers (tests/servers); nothing in zoofind is patched.
"""

from __future__ import annotations

import json
import time

import pytest

from servers.github_server import GitHubServer
from servers.hf_server import HubServer
from servers.hypha_server import HyphaServer
from servers.kaggle_server import KaggleServer
from servers.zenodo_server import ZenodoServer

SECRET = "tok-good"


@pytest.fixture
def hubs():
    # Every live hub at a local server (bioimage.io's and Zenodo's empty): none is asked on the internet.
    with HubServer() as hub, KaggleServer(token=SECRET) as kaggle, HyphaServer({}) as hypha, GitHubServer() as gh, \
            ZenodoServer({}) as zen:
        env = {"HF_ENDPOINT": hub.url, "ZOOFIND_KAGGLE_ENDPOINT": kaggle.url, "KAGGLE_API_TOKEN": SECRET,
               "HF_HUB_DISABLE_TELEMETRY": "1", "ZOOFIND_BIOIMAGEIO_ENDPOINT": hypha.url,
               "ZOOFIND_GITHUB_ENDPOINT": gh.url, "ZOOFIND_ZENODO_ENDPOINT": zen.url}
        yield hub, kaggle, env


def statuses(body: dict) -> dict[str, dict]:
    return {s["name"]: s for s in body["sources"]}


def test_every_source_answers_and_results_merge_on_id(cli, hubs) -> None:
    hub, kaggle, env = hubs
    r = cli("search", "esm2", "--json", "-n", "50", env=env)
    assert r.code == 0, r.stderr
    body = json.loads(r.stdout)
    st = statuses(body)
    assert st["catalog"]["status"] == st["hf"]["status"] == st["kaggle"]["status"] == "ok"
    assert st["hf"]["origin"] == "live" and st["hf"]["count"] >= 1
    ids = [x["id"] for x in body["results"]]
    assert len(ids) == len(set(ids))  # one record per id
    esm = next(x for x in body["results"] if x["id"] == "hf:facebook/esm2_t6_8M_UR50D")
    assert esm["curated"] and esm["domains"] == ["protein"]  # from the catalog
    assert esm["downloads"] and esm["likes"]  # from the live Hub


def test_a_failing_source_does_not_sink_the_search(cli, hubs) -> None:
    hub, kaggle, env = hubs
    hub.fail_status = 500
    r = cli("search", "yamnet", "--json", env=env)
    assert r.code == 0, r.stderr
    body = json.loads(r.stdout)
    st = statuses(body)
    assert st["hf"]["status"] == "error" and st["kaggle"]["status"] == "ok"
    assert "tfhub:google/yamnet/1" in [x["id"] for x in body["results"]]
    assert "source hf failed" in r.stderr and "Traceback" not in r.stderr


def test_every_requested_source_failing_exits_1(cli, hubs) -> None:
    hub, kaggle, env = hubs
    hub.fail_status = 503
    r = cli("search", "esm2", "--source", "hf", env=env)
    assert r.code == 1 and "every requested source failed" in r.stderr


def test_slow_source_is_cut_at_the_timeout(cli, hubs) -> None:
    hub, kaggle, env = hubs
    hub.delay = 10
    started = time.monotonic()
    r = cli("search", "yamnet", "--timeout", "2", "--json", env=env)
    assert time.monotonic() - started < 7  # not the Hub's 10 s
    body = json.loads(r.stdout)
    assert r.code == 0 and statuses(body)["hf"]["status"] == "timeout"
    assert statuses(body)["kaggle"]["status"] == "ok"


@pytest.mark.parametrize("how", [("--offline",), (), ()], ids=["flag", "ZOOFIND_OFFLINE", "HF_HUB_OFFLINE"])
def test_offline_sends_no_request_to_any_source(cli, hubs, how, request) -> None:
    hub, kaggle, env = hubs
    extra = {"flag": {}, "ZOOFIND_OFFLINE": {"ZOOFIND_OFFLINE": "1"}, "HF_HUB_OFFLINE": {"HF_HUB_OFFLINE": "1"}}[request.node.callspec.id]
    r = cli("search", "protein language model", *how, "--json", env={**env, **extra})
    assert r.code == 0 and json.loads(r.stdout)["results"]
    assert hub.log() == [] and kaggle.count == 0
    r = cli("info", "hf:facebook/esm2_t6_8M_UR50D", *how, env={**env, **extra})
    assert r.code == 0 and hub.log() == []


def test_repeated_query_within_the_ttl_makes_no_request(cli, hubs) -> None:
    hub, kaggle, env = hubs
    assert cli("search", "esm2", env=env).code == 0
    before = (len(hub.log()), kaggle.count)
    r = cli("search", "esm2", "--json", env=env)
    assert (len(hub.log()), kaggle.count) == before
    assert statuses(json.loads(r.stdout))["hf"]["origin"] == "cache"


def test_sources_command_reports_without_secrets(cli, hubs) -> None:
    hub, kaggle, env = hubs
    r = cli("sources", "--json", env={**env, "HF_TOKEN": "hf_secret_value"})
    assert r.code == 0, r.stderr
    rows = {s["name"]: s for s in json.loads(r.stdout)["sources"]}
    assert set(rows) == {"catalog", "hf", "torchvision", "tfhub", "kaggle", "bioimageio", "keras", "torchhub", "zenodo", "ghrelease"}
    assert rows["torchhub"]["reachable"] is True
    assert rows["hf"]["endpoint"] == hub.url and rows["hf"]["reachable"] is True and rows["hf"]["credentials"] is True
    assert rows["kaggle"]["credentials"] is True and rows["kaggle"]["reachable"] is True
    assert "hf_secret_value" not in r.stdout + r.stderr and SECRET not in r.stdout + r.stderr
    hub.clear()
    seen = kaggle.count
    offline = cli("sources", "--offline", "--json", env=env)
    assert {s["name"]: s["reachable"] for s in json.loads(offline.stdout)["sources"]}["hf"] is None  # not probed
    assert hub.log() == [] and kaggle.count == seen


def test_sources_table_on_a_pipe_is_tsv(cli, hubs) -> None:
    hub, kaggle, env = hubs
    r = cli("sources", "--offline", env=env)
    assert r.code == 0 and all(len(line.split("\t")) == 6 for line in r.stdout.splitlines())


def test_ctrl_c_during_a_live_search_exits_130_without_a_traceback(hubs) -> None:
    import os
    import signal
    import subprocess
    import sys

    hub, kaggle, env = hubs
    hub.delay = 20
    proc = subprocess.Popen(
        [sys.executable, "-m", "zoofind", "search", "esm2", "--timeout", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env},
    )
    deadline = time.monotonic() + 20
    while not hub.log() and time.monotonic() < deadline:  # wait until the Hub has been asked
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err and out == ""


def test_malformed_answer_from_a_hub_is_a_readable_source_error(cli, hubs, tmp_path) -> None:
    import http.server
    import threading

    class Garbage(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = b"<html>not json</html>"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Garbage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hub, kaggle, env = hubs
        r = cli("search", "esm2", "--json", env={**env, "HF_ENDPOINT": f"http://127.0.0.1:{server.server_port}"})
    finally:
        server.shutdown()
    assert r.code == 0 and "Traceback" not in r.stderr
    rep = statuses(json.loads(r.stdout))["hf"]
    assert rep["status"] == "error" and "malformed" in rep["message"]
