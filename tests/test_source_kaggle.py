"""Kaggle Models: the listing called as kagglesdk calls it, against a local Kaggle API.

Configured only through the environment (ZOOFIND_KAGGLE_ENDPOINT, KAGGLE_* credentials,
KAGGLE_CONFIG_DIR, ZOOFIND_CACHE_DIR from conftest's hermetic fixture).
"""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pytest

from servers.kaggle_server import SERVICE, KaggleServer
from zoofind.core.context import Context
from zoofind.core.errors import (
    AccessDeniedError,
    NotFoundError,
    OfflineError,
    RateLimitedError,
    ServerError,
    SourceError,
    TimedOutError,
)
from zoofind.hubs import SearchQuery
from zoofind.hubs.ids import parse_id
from zoofind.hubs.kaggle import SPEC
from zoofind.hubs.kaggle.api import rpc_url
from zoofind.hubs.kaggle.auth import credentials
from zoofind.hubs.kaggle.mapping import FRAMEWORKS, OTHER_FRAMEWORKS
from zoofind.hubs.kaggle.source import NO_CREDENTIALS, KaggleSource

SECRET = "tok-good"


@pytest.fixture
def kaggle(monkeypatch):
    with KaggleServer(token=SECRET) as server:
        monkeypatch.setenv("ZOOFIND_KAGGLE_ENDPOINT", server.url)
        yield server


def ctx(**kw) -> Context:
    """The context of a call starting now (reads the environment as the test has set it)."""
    return Context.from_env(**{"timeout": 5, **kw})


def search(text: str, *, offline: bool = False, refresh: bool = False, **kw) -> object:
    return KaggleSource().search(SearchQuery(text=text, **kw), ctx(offline=offline, refresh=refresh))


def test_rpc_urls_follow_kagglesdk(monkeypatch) -> None:
    monkeypatch.delenv("ZOOFIND_KAGGLE_ENDPOINT", raising=False)
    assert rpc_url(ctx().endpoint(SPEC), "ListModels") == "https://api.kaggle.com/v1/models.ModelApiService/ListModels"
    monkeypatch.setenv("ZOOFIND_KAGGLE_ENDPOINT", "http://localhost:7777/")
    assert rpc_url(ctx().endpoint(SPEC), "ListModels") == "http://localhost:7777/api/v1/models.ModelApiService/ListModels"


def test_framework_keys_come_from_the_one_vocabulary() -> None:
    # Kaggle's spellings, with zoofind's keys as frameworks.py derives them.
    assert FRAMEWORKS == {
        "tensorflow1": ("tensorFlow1", "tensorflow"), "tensorflow2": ("tensorFlow2", "tensorflow"),
        "tflite": ("tfLite", "tflite"), "tfjs": ("tfJs", "tfjs"), "coral": ("coral", "tflite"),
    }
    assert {k: key for k, (_, key) in OTHER_FRAMEWORKS.items()} == {
        "pytorch": "pytorch", "jax": "jax", "flax": "jax", "keras": "keras", "onnx": "onnx",
        "scikitlearn": "scikit-learn", "mxnet": "mxnet", "transformers": "pytorch", "gguf": "", "ggml": "",
    }


def test_without_credentials_search_is_skipped_without_a_request(kaggle) -> None:
    ans = search("yamnet")
    assert ans.records == () and ans.origin == "skipped" and ans.note == NO_CREDENTIALS
    assert kaggle.count == 0


def test_bearer_token_search_maps_tensorflow_instances(kaggle, monkeypatch) -> None:
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    ans = search("yamnet")
    assert ans.origin == "live"
    (call,) = kaggle.calls("ListModels")
    assert call["method"] == "POST" and call["path"] == f"/api/v1/{SERVICE}/ListModels"
    assert call["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert call["headers"]["Content-Type"] == "application/json"
    assert call["body"] == {"search": "yamnet", "pageSize": 50}
    ids = {r.id for r in ans.records}
    # TensorFlow family only: the Keras and PyTorch models are left out.
    assert ids == {
        "kaggle:google/yamnet/tensorFlow2/yamnet",
        "kaggle:google/yamnet/tfLite/classification-tflite",  # from kagglesdk's enum spelling
        "kaggle:google/yamnet/tfJs/yamnet",
    }
    for rid in ids:
        assert str(parse_id(rid)) == rid  # valid ids for `zoofind info`
    rec = next(r for r in ans.records if r.id == "kaggle:google/yamnet/tensorFlow2/yamnet")
    assert rec.source == "kaggle" and rec.kind == "model"
    assert rec.name == "YAMNet (tensorFlow2/yamnet)"
    assert rec.description.startswith("An audio event classifier trained on the AudioSet dataset")
    assert rec.frameworks == ("tensorflow",) and rec.libraries == ("kagglehub",)
    assert rec.license == "apache-2.0" and rec.likes == 120 and rec.downloads is None
    assert rec.tasks == ("audio-classification",) and rec.updated == "2024-03-01T10:00:00.000Z"
    assert rec.url == "https://www.kaggle.com/models/google/yamnet/tensorFlow2/yamnet/1"
    assert rec.extra["handle"] == "google/yamnet/tensorFlow2/yamnet/1"
    tfjs = next(r for r in ans.records if r.id.endswith("/tfJs/yamnet"))
    assert tfjs.frameworks == ("tfjs",)


def test_basic_auth_from_username_and_key(kaggle, monkeypatch) -> None:
    monkeypatch.setenv("KAGGLE_USERNAME", "alice")
    monkeypatch.setenv("KAGGLE_KEY", "key-good")
    assert search("mobilenet").records
    header = kaggle.calls("ListModels")[0]["headers"]["Authorization"]
    assert header == "Basic " + base64.b64encode(b"alice:key-good").decode()


def test_kaggle_json_in_the_config_dir(kaggle) -> None:
    folder = Path(os.environ["KAGGLE_CONFIG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kaggle.json").write_text(json.dumps({"username": "alice", "key": "key-good"}))
    ans = search("mobilenet")
    assert {r.id for r in ans.records} == {
        "kaggle:google/mobilenet-v2/tensorFlow2/100-224-classification",
        "kaggle:google/mobilenet-v2/tensorFlow2/100-224-feature-vector",
        "kaggle:google/mobilenet-v2/tensorFlow1/035-128-classification",
    }
    assert credentials(os.environ).origin.endswith("kaggle.json")


def test_api_token_may_name_a_file(kaggle, monkeypatch, tmp_path: Path) -> None:
    path = tmp_path / "token.txt"
    path.write_text(SECRET + "\n")
    monkeypatch.setenv("KAGGLE_API_TOKEN", str(path))
    assert search("yamnet").records
    assert kaggle.calls("ListModels")[0]["headers"]["Authorization"] == f"Bearer {SECRET}"


def test_paging_follows_next_page_token(kaggle, monkeypatch) -> None:
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    ans = search("bird")
    first, second = kaggle.calls("ListModels")
    assert "pageToken" not in first["body"]
    assert second["body"]["pageToken"] == base64.b64encode(b"50").decode()
    assert [r.id for r in ans.records] == ["kaggle:google/bird-vocalization-classifier/tensorFlow2/bird-vocalization-classifier"]


def test_sort_maps_to_list_models_order_by(kaggle, monkeypatch) -> None:
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    search("audio", sort="likes")
    assert kaggle.calls("ListModels")[0]["body"]["sortBy"] == "LIST_MODELS_ORDER_BY_VOTE_COUNT"


def test_bad_credentials_are_access_denied_and_never_show_the_secret(kaggle, monkeypatch) -> None:
    monkeypatch.setenv("KAGGLE_API_TOKEN", "tok-WRONG-secret")
    with pytest.raises(AccessDeniedError) as err:
        search("yamnet")
    assert "401" in err.value.message and "KAGGLE_API_TOKEN" in err.value.message
    assert "tok-WRONG-secret" not in err.value.message + (err.value.hint or "")


def test_repeated_search_is_a_cache_hit_and_5xx_then_serves_stale(kaggle, monkeypatch) -> None:
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    fresh = search("yamnet")
    n = kaggle.count
    again = search("yamnet")
    assert kaggle.count == n and again.origin == "cache" and again.records == fresh.records
    kaggle.fail_with = 500
    with pytest.raises(SourceError) as err:  # nothing cached for this query
        search("mobilenet")
    assert "500" in err.value.message
    monkeypatch.setenv("ZOOFIND_CACHE_TTL", "0")
    stale = search("yamnet")
    assert stale.origin == "stale" and stale.records == fresh.records and "cached" in stale.note


def test_refresh_bypasses_the_cache(kaggle, monkeypatch) -> None:
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    search("yamnet")
    search("yamnet", refresh=True)
    assert len(kaggle.calls("ListModels")) == 2


def test_offline_sends_nothing(kaggle, monkeypatch) -> None:
    yamnet = parse_id("kaggle:google/yamnet/tensorFlow2/yamnet/1")
    # Without credentials: skipped before any request; offline, info has nothing to answer from.
    assert search("yamnet", offline=True).origin == "skipped"
    with pytest.raises(OfflineError):
        KaggleSource().info(yamnet, ctx(offline=True))
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    with pytest.raises(OfflineError):
        search("yamnet", offline=True)
    with pytest.raises(OfflineError):
        KaggleSource().info(yamnet, ctx(offline=True))
    st = KaggleSource().status(ctx(offline=True), probe=True)
    assert st.reachable is None and st.credentials is True
    assert kaggle.count == 0


def test_offline_serves_a_fresh_cached_answer_without_a_request(kaggle, monkeypatch) -> None:
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    live = search("yamnet")
    rec = KaggleSource().info(parse_id("kaggle:google/yamnet/tensorFlow2/yamnet/1"), ctx())
    n = kaggle.count
    cached = search("yamnet", offline=True)
    assert cached.origin == "cache" and cached.records == live.records
    assert KaggleSource().info(parse_id("kaggle:google/yamnet/tensorFlow2/yamnet"), ctx(offline=True)) == rec
    assert kaggle.count == n


def test_info_without_credentials_reads_the_variation_as_get_model_instance_answers_it(kaggle) -> None:
    # GetModelInstance is what kagglehub asks anonymously; GetModel (title, description) no client does
    kaggle.add_version("google/yamnet/tensorFlow2/yamnet/3", {"saved_model.pb": b"pb"})
    src = KaggleSource()
    rec = src.info(parse_id("kaggle:google/yamnet/tensorFlow2/yamnet/1"), ctx())
    assert rec.id == "kaggle:google/yamnet/tensorFlow2/yamnet" and rec.extra["version"] == 3
    assert rec.license == "apache-2.0" and rec.frameworks == ("tensorflow",) and "credentials" in (rec.notes or "")
    (call,) = kaggle.calls("GetModelInstance")
    assert call["body"] == {"ownerSlug": "google", "modelSlug": "yamnet", "framework": "MODEL_FRAMEWORK_TENSOR_FLOW_2",
                            "instanceSlug": "yamnet"}
    assert "Authorization" not in call["headers"] and kaggle.calls("GetModel") == []
    kaggle.private.add("google/yamnet")
    src.info(parse_id("kaggle:google/yamnet/tensorFlow2/yamnet"), ctx())  # answered from the answers cache
    with pytest.raises(AccessDeniedError, match="without credentials"):
        src.info(parse_id("kaggle:google/yamnet/tensorFlow2/yamnet"), ctx(refresh=True))
    with pytest.raises(NotFoundError, match="404"):
        src.info(parse_id("kaggle:nobody/nothing/tensorFlow2/x"), ctx())


def test_info_reads_one_model_with_get_model(kaggle, monkeypatch) -> None:
    src = KaggleSource()
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    rec = src.info(parse_id("kaggle:google/yamnet/tensorFlow2/yamnet/1"), ctx())
    assert rec.id == "kaggle:google/yamnet/tensorFlow2/yamnet"
    (call,) = kaggle.calls("GetModel")
    assert call["body"] == {"ownerSlug": "google", "modelSlug": "yamnet"}
    # any framework is described by info, not only TensorFlow
    assert src.info(parse_id("kaggle:keras/yamnet-keras/keras/yamnet_base"), ctx()).frameworks == ("keras",)
    with pytest.raises(NotFoundError, match="no variation"):
        src.info(parse_id("kaggle:google/yamnet/tensorFlow2/nope"), ctx())
    with pytest.raises(NotFoundError, match="404"):
        src.info(parse_id("kaggle:nobody/nothing/tensorFlow2/x"), ctx())


def test_an_error_in_the_body_counts_whatever_the_status_line_says(kaggle, monkeypatch) -> None:
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    kaggle.fail_in_body = 404
    with pytest.raises(NotFoundError, match="in the body"):
        KaggleSource().info(parse_id("kaggle:google/yamnet/tensorFlow2/yamnet"), ctx())
    kaggle.fail_in_body = 403
    with pytest.raises(AccessDeniedError, match="KAGGLE_API_TOKEN"):
        search("yamnet")
    kaggle.fail_in_body = 503
    with pytest.raises(ServerError) as err:  # transient: a cached answer would be served
        search("yamnet")
    assert err.value.transient and "503" in err.value.message and "in the body" in err.value.message


@pytest.mark.parametrize(("status", "kind"), [(503, ServerError), (429, RateLimitedError)])
def test_transient_failure_serves_the_stale_answer(kaggle, monkeypatch, status, kind) -> None:
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    fresh = search("yamnet")
    rec = KaggleSource().info(parse_id("kaggle:google/yamnet/tensorFlow2/yamnet"), ctx())
    kaggle.fail_with = status
    monkeypatch.setenv("ZOOFIND_CACHE_TTL", "0")  # expired: asked again, fails, the old answer is served
    n = kaggle.count
    stale = search("yamnet")
    assert kaggle.count > n
    assert stale.origin == "stale" and stale.records == fresh.records and "Kaggle" in stale.note and "cached" in stale.note
    assert KaggleSource().info(parse_id("kaggle:google/yamnet/tensorFlow2/yamnet"), ctx()) == rec
    with pytest.raises(kind) as err:  # nothing cached for this query: the transient kind itself
        search("mobilenet")
    assert err.value.transient and str(status) in err.value.message


def test_all_pages_of_a_search_share_one_deadline(monkeypatch) -> None:
    # "bird" needs two pages; each answer takes 0.6 s: only a deadline per page would let it finish.
    with KaggleServer(token=SECRET, delay=0.6) as slow:
        monkeypatch.setenv("ZOOFIND_KAGGLE_ENDPOINT", slow.url)
        monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
        started = time.monotonic()
        with pytest.raises(TimedOutError):
            KaggleSource().search(SearchQuery(text="bird"), Context.from_env(timeout=1.0))
        assert time.monotonic() - started < 3
        assert len(slow.calls("ListModels")) <= 2


def test_status_reports_credentials_and_reachability(kaggle, monkeypatch) -> None:
    st = KaggleSource().status(ctx(), probe=False)
    assert st.credentials is False and st.reachable is None and kaggle.count == 0 and st.endpoint == kaggle.url
    st = KaggleSource().status(ctx(timeout=2), probe=True)
    assert st.credentials is False and st.reachable is True and st.reason == "HTTP 401 (no credentials sent)"
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    st = KaggleSource().status(ctx(timeout=2), probe=True)
    assert st.credentials is True and st.reachable is True and st.reason == "credentials accepted"
    assert SECRET not in repr(st)
    monkeypatch.setenv("KAGGLE_API_TOKEN", "tok-WRONG-secret")
    st = KaggleSource().status(ctx(timeout=2), probe=True)
    assert st.reachable is True and "401" in st.reason and "tok-WRONG-secret" not in repr(st)
    monkeypatch.setenv("ZOOFIND_KAGGLE_ENDPOINT", "http://127.0.0.1:9")
    st = KaggleSource().status(ctx(timeout=2), probe=True)
    assert st.reachable is False


# -- through the command line: the merge with the other sources ------------------------


def test_cli_without_credentials_says_so_once(cli, kaggle) -> None:
    r = cli("search", "yamnet", "--source", "kaggle", "--source", "catalog", "--json", env={"ZOOFIND_KAGGLE_ENDPOINT": kaggle.url})
    assert r.code == 0, r.stderr
    assert r.stderr.count("no Kaggle credentials") == 1
    rep = {s["name"]: s for s in json.loads(r.stdout)["sources"]}["kaggle"]
    assert rep["status"] == "skipped" and kaggle.count == 0


def test_cli_merges_kaggle_hits_with_the_catalog(cli, kaggle) -> None:
    env = {"ZOOFIND_KAGGLE_ENDPOINT": kaggle.url, "KAGGLE_API_TOKEN": SECRET}
    r = cli("search", "yamnet", "--source", "kaggle", "--source", "tfhub", "--json", "-n", "50", env=env)
    assert r.code == 0, r.stderr
    body = json.loads(r.stdout)
    ids = [x["id"] for x in body["results"]]
    assert "kaggle:google/yamnet/tensorFlow2/yamnet" in ids and "tfhub:google/yamnet/1" in ids
    assert SECRET not in r.stdout + r.stderr
    for path in Path(os.environ["ZOOFIND_CACHE_DIR"]).rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace")


def test_cli_500_from_kaggle_while_the_catalog_answers(cli, kaggle) -> None:
    kaggle.fail_with = 500
    env = {"ZOOFIND_KAGGLE_ENDPOINT": kaggle.url, "KAGGLE_API_TOKEN": SECRET}
    r = cli("search", "yamnet", "--source", "kaggle", "--source", "tfhub", "--json", env=env)
    assert r.code == 0, r.stderr
    body = json.loads(r.stdout)
    assert "tfhub:google/yamnet/1" in [x["id"] for x in body["results"]]
    rep = {s["name"]: s for s in body["sources"]}["kaggle"]
    assert rep["status"] == "error" and "500" in rep["message"]
    assert "kaggle" in r.stderr and "500" in r.stderr


def test_cli_bad_credentials_alone_fail_the_search(cli, kaggle) -> None:
    env = {"ZOOFIND_KAGGLE_ENDPOINT": kaggle.url, "KAGGLE_API_TOKEN": "tok-WRONG-secret"}
    r = cli("search", "yamnet", "--source", "kaggle", env=env)
    assert r.code == 1
    assert "401" in r.stderr and "tok-WRONG-secret" not in r.stdout + r.stderr


def test_variations_of_one_model_are_one_family() -> None:
    from zoofind.hubs.ids import family

    assert family("kaggle:google/yamnet/tensorFlow2/yamnet") == family("kaggle:google/yamnet/tfLite/classification-tflite")
    assert family("kaggle:google/yamnet/tensorFlow2/yamnet") != family("kaggle:google/mobilenet-v2/tensorFlow2/100-224-classification")
