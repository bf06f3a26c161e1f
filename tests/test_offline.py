"""Offline is decided once, where a library call starts: then no source sends a single request."""

from __future__ import annotations

import pytest

import zoofind
from servers.loopback import LoopbackServer, QuietHandler
from zoofind.hubs import registry

IDS = ("hf:facebook/esm2_t6_8M_UR50D", "tfhub:google/yamnet/1", "torchvision:resnet50",
       "kaggle:google/yamnet/tensorFlow2/yamnet/1", "hf:nobody/not-in-the-catalog")


class CountingServer(LoopbackServer):
    """Answers every request with 503 and counts them: the only thing a test here may see is zero."""

    def __init__(self) -> None:
        self.requests = []
        server = self

        class Handler(QuietHandler):
            def do_any(self) -> None:
                with server._lock:
                    server.requests.append((self.command, self.path))
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_HEAD = do_any

        self._listen(Handler)


@pytest.fixture
def every_endpoint(monkeypatch):
    with CountingServer() as server:
        for variable in ("HF_ENDPOINT", "ZOOFIND_TFHUB_ENDPOINT", "ZOOFIND_KAGGLE_ENDPOINT", "ZOOFIND_TORCHVISION_ENDPOINT"):
            monkeypatch.setenv(variable, server.url)
        monkeypatch.setenv("KAGGLE_API_TOKEN", "kaggle-test-token")
        yield server


def everything() -> None:
    """Every library call that could go online, with every source (failures are the server's 503s)."""
    calls = [lambda s=s: zoofind.search("yamnet protein resnet", source=s) for s in registry.names()]
    calls += [lambda: zoofind.search("protein language model"), zoofind.list_sources]
    calls += [lambda rid=rid: zoofind.info(rid) for rid in IDS]
    for call in calls:
        try:
            call()
        except zoofind.ZoofindError:
            pass  # offline: an id the catalog does not hold; online: the server's 503


@pytest.mark.parametrize("variable", ["ZOOFIND_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"])
def test_offline_variables_reach_every_source(every_endpoint, monkeypatch, variable):
    monkeypatch.setenv(variable, "1")
    everything()
    assert every_endpoint.count == 0


def test_offline_argument_reaches_every_source(every_endpoint):
    for source in registry.names():
        result = zoofind.search("yamnet protein resnet", source=source, offline=True)
        assert result.offline
    for rid in IDS:
        try:
            assert zoofind.info(rid, offline=True).record.id
        except zoofind.NotFoundError as exc:
            assert "drop --offline" in (exc.hint or "")  # not in the catalog, and not asked
    assert all(s.reachable is None for s in zoofind.list_sources(offline=True) if s.network)
    assert every_endpoint.count == 0


def test_the_same_calls_online_do_reach_the_server(every_endpoint):
    # The control: without offline, the very same calls send requests (so zero above means something).
    everything()
    assert every_endpoint.count > 0
