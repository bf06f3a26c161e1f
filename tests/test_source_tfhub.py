"""TF Hub: `info` follows a handle's download redirects live (against a local tfhub.dev).

The source is configured only through ZOOFIND_TFHUB_ENDPOINT; nothing in zoofind is patched.
"""

from __future__ import annotations

import json
import time

import pytest

from servers.tfhub_server import TfhubServer
from zoofind.core.context import Context
from zoofind.core.errors import NotFoundError, OfflineError, ServerError, TimedOutError, UsageError
from zoofind.hubs import SearchQuery
from zoofind.hubs.ids import parse_id
from zoofind.hubs.tfhub import SPEC
from zoofind.hubs.tfhub.source import MAX_REDIRECTS, TfhubSource, kaggle_page, resolve


@pytest.fixture
def tfhub(monkeypatch):
    with TfhubServer() as server:
        monkeypatch.setenv("ZOOFIND_TFHUB_ENDPOINT", server.url)
        yield server


def info(handle: str, **kw):
    return TfhubSource().info(parse_id(f"tfhub:{handle}"), Context.from_env(timeout=5, **kw))


def test_migrated_handle_resolves_to_its_kaggle_page_without_reading_the_tarball(tfhub) -> None:
    started = time.perf_counter()
    rec = info("google/yamnet/1")
    assert time.perf_counter() - started < 3  # the 2 GB tarball trickles: it was not read
    x = rec.extra
    assert x["resolves"] is True and x["http_status"] == 200 and x["gone"] is False
    assert x["redirects_to"] == f"{tfhub.url}/models/google/yamnet/tensorFlow2/yamnet/1"
    assert x["kaggle_id"] == "kaggle:google/yamnet/tensorFlow2/yamnet/1"
    assert parse_id(x["kaggle_id"]).source == "kaggle"  # a valid id for `zoofind info`
    assert len(x["redirect_chain"]) == 2 and x["redirect_chain"][-1].startswith(f"{tfhub.url}/storage/")
    assert rec.downloadable is True and "kaggle:google/yamnet/tensorFlow2/yamnet/1" in (rec.notes or "")
    # The catalog's facts stay: this is the bundled record plus the live check.
    assert rec.id == "tfhub:google/yamnet/1" and rec.extra["type"] == "Module" and rec.tasks
    first = tfhub.requests[0]
    assert first["method"] == "GET" and first["path"] == "/google/yamnet/1?tf-hub-format=compressed"
    assert first["headers"]["User-Agent"].startswith("zoofind/")
    assert len(tfhub.requests) == 3


def test_deleted_handle_is_gone_and_not_downloadable(tfhub) -> None:
    rec = info("captain-pool/esrgan-tf2/1")
    x = rec.extra
    assert x["http_status"] == 404 and x["gone"] is True and x["resolves"] is False
    assert rec.downloadable is False and "no longer serves" in rec.notes


def test_unmigrated_handle_redirecting_to_the_kaggle_index_is_gone(tfhub) -> None:
    rec = info("google/universal-sentence-encoder-qa-ondevice/1")
    x = rec.extra
    assert x["http_status"] == 200 and x["gone"] is True and x["resolves"] is False
    assert x["redirects_to"] == f"{tfhub.url}/models?tfhub-redirect=true" and "kaggle_id" not in x
    assert "not migrated" in x["resolve_error"] and rec.downloadable is False


def test_redirect_loop_stops_and_reports(tfhub) -> None:
    facts = resolve(Context.from_env(timeout=5), "loop/a/1")
    assert facts["resolves"] is False and facts["gone"] is False
    assert "loop" in facts["resolve_error"]
    assert len(tfhub.requests) <= MAX_REDIRECTS + 1
    with pytest.raises(NotFoundError):  # not in the index and not resolving
        info("loop/a/1")


def test_lite_pages_are_resolved_with_their_own_format(tfhub) -> None:
    rec = info("google/lite-model/aiy/vision/classifier/birds_V1/3")
    assert tfhub.requests[0]["path"] == "/google/lite-model/aiy/vision/classifier/birds_V1/3?lite-format=tflite"
    assert rec.extra["resolves"] is True and rec.extra["kaggle_id"] == "kaggle:google/aiy/tfLite/vision-classifier-birds-v1/3"


def test_handle_outside_the_index_that_resolves_gets_a_minimal_record(tfhub) -> None:
    # Migrated handles the bundled index lacks still answer: tfhub.dev knows them.
    from servers import tfhub_server

    tfhub_server.MIGRATED["someone/new-model/1"] = "someone/new-model/tensorFlow2/default/1"
    try:
        rec = info("someone/new-model/1")
    finally:
        del tfhub_server.MIGRATED["someone/new-model/1"]
    assert rec.id == "tfhub:someone/new-model/1" and rec.extra["resolves"] is True
    assert rec.extra["kaggle_id"] == "kaggle:someone/new-model/tensorFlow2/default/1"


def test_offline_makes_no_request(tfhub) -> None:
    src = TfhubSource()
    offline = Context.from_env(timeout=5, offline=True)
    # A live check would need the network: refused before anything is sent.
    with pytest.raises(OfflineError):
        src.info(parse_id("tfhub:google/yamnet/1"), offline)
    # What needs no request still answers.
    assert src.search(SearchQuery(text="yamnet"), offline).origin == "bundled"
    assert src.files(parse_id("tfhub:google/yamnet/1"), offline)
    collection = src.info(parse_id("tfhub:adityakane2001/collections/regnety/1"), offline)
    assert collection is not None and collection.kind == "resource"
    st = src.status(offline, probe=True)
    assert st.reachable is None and st.network is True
    assert tfhub.count == 0


def test_offline_serves_a_fresh_cached_check_without_a_request(tfhub) -> None:
    live = info("google/yamnet/1")
    n = tfhub.count
    rec = info("google/yamnet/1", offline=True)
    assert rec.extra["resolves"] is True and rec.extra["checked"].startswith("cache")
    assert rec.extra["kaggle_id"] == live.extra["kaggle_id"] and tfhub.count == n


def test_library_info_offline_keeps_the_catalog_entry(tfhub) -> None:
    # Through the Python API (lookup): offline, the source is not even asked.
    import zoofind

    rec = zoofind.info("tfhub:google/yamnet/1", offline=True).record
    assert rec is not None and "resolves" not in rec.extra
    assert tfhub.count == 0


def test_the_redirect_walk_shares_one_deadline(monkeypatch) -> None:
    # Three hops of 0.6 s each: 1.8 s in all, so only a deadline per hop would let the walk finish.
    with TfhubServer(delay=0.6) as slow:
        monkeypatch.setenv("ZOOFIND_TFHUB_ENDPOINT", slow.url)
        ctx = Context.from_env(timeout=1.0)
        started = time.monotonic()
        with pytest.raises(TimedOutError):
            TfhubSource().info(parse_id("tfhub:google/yamnet/1"), ctx)
        assert time.monotonic() - started < 3
        assert 1 <= slow.count <= 2


def test_repeated_check_is_served_from_the_cache(tfhub) -> None:
    info("google/yamnet/1")
    n = tfhub.count
    rec = info("google/yamnet/1")
    assert tfhub.count == n and rec.extra["checked"].startswith("cache")


def test_5xx_is_a_source_error_then_a_stale_answer_when_one_is_cached(tfhub, monkeypatch) -> None:
    tfhub.fail_with = 503
    with pytest.raises(ServerError) as err:  # the transient kind, not "gone": 503 says nothing about the handle
        info("google/yamnet/1")
    assert "503" in err.value.message and err.value.transient
    tfhub.fail_with = None
    assert info("google/yamnet/1").extra["resolves"] is True
    monkeypatch.setenv("ZOOFIND_CACHE_TTL", "0")  # expired: asks again, gets 503, serves the old answer
    tfhub.fail_with = 503
    before = tfhub.count
    rec = info("google/yamnet/1")
    assert tfhub.count > before and rec.extra["resolves"] is True and rec.extra["checked"].startswith("stale")


def test_unreachable_endpoint_is_a_network_error(monkeypatch) -> None:
    monkeypatch.setenv("ZOOFIND_TFHUB_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(Exception) as err:
        info("google/yamnet/1")
    from zoofind.core.errors import describe

    assert "cannot reach" in describe(err.value).message


def test_files_point_at_the_download_tfhub_serves(tfhub) -> None:
    src = TfhubSource()
    (f,) = src.files(parse_id("tfhub:google/yamnet/1"), Context.from_env())
    assert f.url == f"{tfhub.url}/google/yamnet/1?tf-hub-format=compressed" and f.path == "google_yamnet_1.tar.gz"
    (f,) = src.files(parse_id("tfhub:google/lite-model/aiy/vision/classifier/birds_V1/3"), Context.from_env())
    assert f.url.endswith("?lite-format=tflite") and f.path.endswith(".tflite")
    assert src.files(parse_id("tfhub:adityakane2001/collections/regnety/1"), Context.from_env()) == ()
    assert tfhub.count == 0


def test_status_probes_only_when_asked(tfhub) -> None:
    src = TfhubSource()
    st = src.status(Context.from_env(), probe=False)
    assert st.reachable is None and st.endpoint == tfhub.url and tfhub.count == 0
    st = src.status(Context.from_env(timeout=2), probe=True)
    assert st.reachable is True and st.reason.startswith("HTTP 301")


def test_spec_ids_and_families() -> None:
    assert SPEC.family("google/yamnet/1") == "google/yamnet"
    assert SPEC.family("google/imagenet/mobilenet_v2_100_224/classification/5") == "google/imagenet/mobilenet_v2_100_224/classification"
    assert SPEC.family("google/yamnet") == "google/yamnet"
    assert str(parse_id("tfhub.dev/google/yamnet/1")) == "tfhub:google/yamnet/1"
    for bad in ("tfhub:google/../etc/1", "tfhub:yamnet"):
        with pytest.raises(UsageError):
            parse_id(bad)


def test_kaggle_page_forms() -> None:
    assert kaggle_page("https://www.kaggle.com/models/google/yamnet/TensorFlow2/yamnet/1?tfhub-redirect=true") == (
        "https://www.kaggle.com/models/google/yamnet/TensorFlow2/yamnet/1", "kaggle:google/yamnet/TensorFlow2/yamnet/1")
    assert kaggle_page("https://www.kaggle.com/models/google/yamnet/frameworks/tensorFlow2/variations/yamnet/versions/1")[1] == (
        "kaggle:google/yamnet/tensorFlow2/yamnet/1")
    assert kaggle_page("https://www.kaggle.com/models?tfhub-redirect=true") is None
    assert kaggle_page("https://storage.googleapis.com/kaggle-models-data/1/2/model.tar.gz") is None


# -- through the command line --------------------------------------------------------


def test_cli_info_reports_where_the_handle_went(cli, tfhub) -> None:
    r = cli("info", "https://tfhub.dev/google/yamnet/1", "--json", env={"ZOOFIND_TFHUB_ENDPOINT": tfhub.url})
    assert r.code == 0, r.stderr
    rec = json.loads(r.stdout)["record"]
    assert rec["id"] == "tfhub:google/yamnet/1"
    assert rec["extra"]["resolves"] is True and rec["extra"]["kaggle_id"] == "kaggle:google/yamnet/tensorFlow2/yamnet/1"


def test_cli_info_keeps_the_catalog_answer_when_tfhub_fails(cli, tfhub) -> None:
    tfhub.fail_with = 503
    r = cli("info", "tfhub:google/yamnet/1", "--json", env={"ZOOFIND_TFHUB_ENDPOINT": tfhub.url})
    assert r.code == 0, r.stderr
    body = json.loads(r.stdout)
    assert body["record"]["id"] == "tfhub:google/yamnet/1" and "503" in body["warnings"][0]
    assert "warning: tfhub did not answer" in r.stderr and "503" in r.stderr


def test_cli_info_offline_sends_nothing(cli, tfhub) -> None:
    r = cli("info", "tfhub:google/yamnet/1", "--offline", "--json", env={"ZOOFIND_TFHUB_ENDPOINT": tfhub.url})
    assert r.code == 0, r.stderr
    assert tfhub.count == 0
