"""Kaggle Models: the listing called as kagglesdk calls it, against a local Kaggle API.

Configured only through the environment (ZOOFIND_KAGGLE_ENDPOINT, KAGGLE_* credentials,
KAGGLE_CONFIG_DIR, ZOOFIND_CACHE_DIR from conftest's hermetic fixture).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from servers.kaggle_server import SERVICE, KaggleServer

from zoofind.errors import AccessDeniedError, SourceError
from zoofind.context import Context
from zoofind.errors import OfflineError
from zoofind.ids import parse_id
from zoofind.sources import SearchQuery
from zoofind.sources.kaggle.source import NO_CREDENTIALS, KaggleSource, credentials, rpc_url

SECRET = "tok-good"


@pytest.fixture
def kaggle(monkeypatch):
    with KaggleServer(token=SECRET) as server:
        monkeypatch.setenv("ZOOFIND_KAGGLE_ENDPOINT", server.url)
        yield server


def search(text: str, *, offline: bool = False, refresh: bool = False, **kw) -> object:
    return KaggleSource().search(SearchQuery(text=text, **kw), Context.from_env(timeout=5, offline=offline, refresh=refresh))


def test_rpc_urls_follow_kagglesdk(monkeypatch) -> None:
    monkeypatch.delenv("ZOOFIND_KAGGLE_ENDPOINT", raising=False)
    assert rpc_url(Context.from_env(), "ListModels") == "https://api.kaggle.com/v1/models.ModelApiService/ListModels"
    monkeypatch.setenv("ZOOFIND_KAGGLE_ENDPOINT", "http://localhost:7777/")
    assert rpc_url(Context.from_env(), "ListModels") == "http://localhost:7777/api/v1/models.ModelApiService/ListModels"


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
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    with pytest.raises(OfflineError):
        search("yamnet", offline=True)
    with pytest.raises(OfflineError):
        KaggleSource().info(parse_id("kaggle:google/yamnet/tensorFlow2/yamnet/1"), Context.from_env(offline=True))
    assert KaggleSource().status(Context.from_env(offline=True)).reachable is None
    assert kaggle.count == 0


def test_info_reads_one_model_with_get_model(kaggle, monkeypatch) -> None:
    src = KaggleSource()
    with pytest.raises(AccessDeniedError):
        src.info(parse_id("kaggle:google/yamnet/tensorFlow2/yamnet/1"), Context.from_env())
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    rec = src.info(parse_id("kaggle:google/yamnet/tensorFlow2/yamnet/1"), Context.from_env(timeout=5))
    assert rec.id == "kaggle:google/yamnet/tensorFlow2/yamnet"
    (call,) = kaggle.calls("GetModel")
    assert call["body"] == {"ownerSlug": "google", "modelSlug": "yamnet"}
    # any framework is described by info, not only TensorFlow
    assert src.info(parse_id("kaggle:keras/yamnet-keras/keras/yamnet_base"), Context.from_env()).frameworks == ("keras",)


def test_status_reports_credentials_and_reachability(kaggle, monkeypatch) -> None:
    st = KaggleSource().status(Context.from_env(), probe=False)
    assert st.credentials is False and st.reachable is None and kaggle.count == 0 and st.endpoint == kaggle.url
    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    st = KaggleSource().status(Context.from_env(timeout=2), probe=True)
    assert st.credentials is True and st.reachable is True and st.reason == "credentials accepted"
    assert SECRET not in repr(st)
    monkeypatch.setenv("ZOOFIND_KAGGLE_ENDPOINT", "http://127.0.0.1:9")
    st = KaggleSource().status(Context.from_env(timeout=2), probe=True)
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
