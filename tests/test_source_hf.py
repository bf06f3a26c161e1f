"""The Hugging Face source against a local Hub: the real huggingface_hub client goes through the socket.

The ``hf_hub`` fixture (conftest.py) serves tests/servers/hf_server.py on 127.0.0.1 and points
HF_ENDPOINT at it; ``hermetic`` gives every test its own HOME, HF_HOME and zoofind cache.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from servers.hf_server import TEST_TOKEN, HubServer, default_models

from zoofind.errors import AccessDeniedError, NotFoundError, SourceError
from zoofind.records import parse_id
from zoofind.search import search
from zoofind.sources import SearchQuery
from zoofind.sources.hf import HfSource, HubTimeout, record_from_payload

ESM = "facebook/esm2_t6_8M_UR50D"


def api_calls(hub: HubServer, path: str = "/api/models"):
    """Requests to the model API (huggingface_hub also fetches /api/agent-harnesses once)."""
    return [r for r in hub.log(path) if r.path != "/api/agent-harnesses"]


def by_id(answer):
    return {r.id: r for r in answer.records}


# -- query mapping and paging ------------------------------------------------------------


def test_search_maps_filters_to_query_params(hf_hub):
    HfSource().search(SearchQuery(text="esm", framework="pytorch", task="fill-mask", license="mit", sort="likes", limit=5))
    (req,) = api_calls(hf_hub)
    q = req.query
    assert q["search"] == ["esm"]
    assert q["filter"] == ["pytorch", "license:mit"]
    assert q["pipeline_tag"] == ["fill-mask"]
    assert q["sort"] == ["likes"]
    assert q["limit"] == ["20"]  # at least 20: the merged ranking needs candidates
    assert {"downloads", "likes", "lastModified", "pipeline_tag", "library_name", "tags", "cardData", "gated", "safetensors", "siblings"} <= set(q["expand"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (SearchQuery(text="x", framework="tensorflow"), {"filter": ["tf"]}),
        (SearchQuery(text="x", framework="transformers", sort="updated"), {"filter": ["transformers"], "sort": ["lastModified"]}),
        (SearchQuery(text="x", task="optical-flow", limit=500), {"filter": None, "pipeline_tag": None, "limit": ["100"]}),
        (SearchQuery(text="x", task="embedding", license="cc-by"), {"pipeline_tag": ["feature-extraction"], "filter": None, "sort": ["downloads"]}),
    ],
)
def test_vocabulary_mapping(hf_hub, query, expected):
    HfSource().search(query)
    (req,) = api_calls(hf_hub)
    for name, value in expected.items():
        assert req.query.get(name) == value, name


def test_paging_follows_link_header(hf_hub):
    hf_hub.page_size = 2
    answer = HfSource().search(SearchQuery(task="fill-mask"))
    reqs = api_calls(hf_hub)
    assert len(reqs) == 3  # 5 public fill-mask models, 2 per page
    assert "cursor" not in reqs[0].query and all("cursor" in r.query for r in reqs[1:])
    assert all(r.query["pipeline_tag"] == ["fill-mask"] and r.query["expand"] == reqs[0].query["expand"] for r in reqs)
    ids = [r.id for r in answer.records]
    assert len(ids) == 5 and ids[0] == f"hf:{ESM}"  # the Hub's download order across pages


def test_paging_stops_at_the_limit(monkeypatch):
    models = [dict(default_models()[0], id=f"org/model-{i:02d}", _id=f"id{i}", downloads=1000 - i) for i in range(50)]
    with HubServer(models=models, page_size=10) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        answer = HfSource().search(SearchQuery(text="model", limit=5))
        assert len(answer.records) == 20 and len(api_calls(hub)) == 2


# -- records -------------------------------------------------------------------------------


def test_records_are_mapped(hf_hub):
    recs = by_id(HfSource().search(SearchQuery(limit=100)))
    esm = recs[f"hf:{ESM}"]
    assert esm.name == ESM and esm.kind == "model" and esm.source == "hf"
    assert esm.url == f"{hf_hub.url}/{ESM}"
    assert esm.tasks == ("fill-mask",)
    assert esm.frameworks == ("pytorch", "tensorflow")
    assert esm.libraries == ("transformers",)
    assert esm.license == "mit" and esm.params == 7_840_794
    assert esm.downloads == 1_630_411 and esm.likes == 25 and esm.updated == "2023-03-21T15:05:12Z"
    assert esm.weights_format == ("safetensors", "pickle", "tf")
    assert esm.tags == ("esm",)  # license:, region:, *_compatible and what other fields say are gone
    assert not esm.gated and not esm.remote_code

    onnx = recs["hf:Xenova/esm2_t6_8M_UR50D"]
    assert onnx.frameworks == ("onnx",) and onnx.weights_format == ("onnx",)
    assert onnx.libraries == () and "transformers.js" in onnx.tags  # not a library zoofind knows
    assert onnx.extra["base_model"] == ESM

    gguf = recs["hf:MaziyarPanahi/BioMistral-7B-GGUF"]
    assert gguf.weights_format == ("gguf",) and "gguf" in gguf.tags and gguf.frameworks == ()
    assert gguf.params == 7_241_732_096 and gguf.license == "apache-2.0"

    keras = recs["hf:keras-io/timeseries-anomaly-detection"]
    assert keras.frameworks == ("tensorflow", "keras") and keras.weights_format == ("tf",) and keras.license == "cc0-1.0"

    biobert = recs["hf:dmis-lab/biobert-v1.1"]
    assert biobert.frameworks == ("pytorch", "jax") and biobert.weights_format == ("pickle", "flax") and biobert.license is None

    nt = recs["hf:InstaDeepAI/nucleotide-transformer-v2-50m-multi-species"]
    assert nt.remote_code and nt.license == "cc-by-nc-sa-4.0" and nt.datasets == ("InstaDeepAI/multi_species_genomes",)
    assert {"DNA", "genomics"} <= set(nt.tags) and "custom_code" not in nt.tags

    esm3 = recs["hf:EvolutionaryScale/esm3-sm-open-v1"]
    assert esm3.gated and esm3.license == "esm3-community-license-agreement"
    assert esm3.libraries == ("esm",) and esm3.frameworks == ("pytorch",)
    assert recs["hf:meta-llama/Llama-3.2-1B"].gated

    assert "hf:zoofind-lab/private-protein-model" not in recs  # private: only with a token


@pytest.mark.parametrize(
    ("library", "tags", "files", "frameworks"),
    [
        ("transformers", ["transformers", "safetensors"], ["model.safetensors"], ("pytorch",)),  # library's base framework
        ("transformers", ["transformers", "tf"], ["tf_model.h5"], ("tensorflow",)),  # tf only: no PyTorch
        ("transformers", ["transformers", "jax"], ["flax_model.msgpack"], ("jax",)),
        ("transformers", ["transformers", "onnx"], ["model.safetensors", "onnx/model.onnx"], ("pytorch", "onnx")),  # export adds
        ("timm", ["timm", "pytorch"], ["pytorch_model.bin", "training_args.bin"], ("pytorch",)),
        (None, ["sklearn", "skops"], ["model.pkl"], ("scikit-learn",)),
    ],
)
def test_framework_inference(library, tags, files, frameworks):
    rec = record_from_payload({"id": "o/m", "library_name": library, "tags": tags, "siblings": [{"rfilename": f} for f in files]}, "http://hub")
    assert rec.frameworks == frameworks


def test_private_model_needs_token(hf_hub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TEST_TOKEN)
    assert "hf:zoofind-lab/private-protein-model" in by_id(HfSource().search(SearchQuery(text="private")))


# -- failures ------------------------------------------------------------------------------


def test_server_error_is_a_source_error_without_retries(hf_hub):
    hf_hub.fail_status = 500
    started = time.monotonic()
    with pytest.raises(SourceError, match="HTTP 500"):
        HfSource().search(SearchQuery(text="esm"))
    assert time.monotonic() - started < 5.0  # huggingface_hub alone would retry for ~23 s
    assert len(api_calls(hf_hub)) == 1


def test_rate_limit_is_reported_not_waited_for(hf_hub):
    hf_hub.fail_status, hf_hub.retry_after = 429, 30
    started = time.monotonic()
    with pytest.raises(SourceError, match="429.*retry after 30"):
        HfSource().search(SearchQuery(text="esm"))
    assert time.monotonic() - started < 5.0  # not Retry-After's 30 s


@pytest.mark.parametrize("status", [500, 429])
def test_failing_hub_does_not_sink_the_search(hf_hub, status):
    hf_hub.fail_status = status
    result = search(SearchQuery(text="esm2", sources=("catalog", "hf")))
    reports = {r.name: r for r in result.sources}
    assert reports["hf"].status == "error" and str(status) in reports["hf"].message
    assert reports["catalog"].status == "ok"
    assert not result.all_failed
    assert f"hf:{ESM}" in {r.id for r in result.records}  # the catalog's curated entry


def test_slow_hub_times_out_within_the_timeout(hf_hub):
    hf_hub.delay = 5.0
    started = time.monotonic()
    result = search(SearchQuery(text="esm2", sources=("catalog", "hf"), timeout=0.5))
    elapsed = time.monotonic() - started
    report = {r.name: r for r in result.sources}["hf"]
    assert report.status in ("timeout", "error") and elapsed < 3.0  # the Hub holds every answer 5 s
    assert result.records  # the catalog answered
    with pytest.raises(HubTimeout, match="within 0.5 s"):
        HfSource().search(SearchQuery(text="esm", timeout=0.5))


def test_dropped_connection_is_reported(hf_hub):
    hf_hub.drop = True
    started = time.monotonic()
    with pytest.raises(SourceError, match="cannot reach"):
        HfSource().search(SearchQuery(text="esm"))
    assert time.monotonic() - started < 5.0  # huggingface_hub alone would retry for ~23 s


# -- cache, offline ----------------------------------------------------------------------------


def test_cache_hit_makes_no_request_and_refresh_bypasses_it(hf_hub):
    src = HfSource()
    q = SearchQuery(text="esm", limit=5)
    assert src.search(q).origin == "live"
    n = len(hf_hub.log())
    again = src.search(q)
    assert again.origin == "cache" and again.records and len(hf_hub.log()) == n
    fresh = src.search(SearchQuery(text="esm", limit=5, refresh=True))
    assert fresh.origin == "live" and len(api_calls(hf_hub)) == 2


@pytest.mark.parametrize("outage", ["down", "500"])
def test_stale_cache_is_served_when_the_hub_is_down(hf_hub, monkeypatch, outage):
    src = HfSource()
    first = src.search(SearchQuery(text="esm"))
    if outage == "down":
        hf_hub.stop()  # the port now refuses connections
    else:
        hf_hub.fail_status = 503
    monkeypatch.setenv("ZOOFIND_CACHE_TTL", "0")
    stale = src.search(SearchQuery(text="esm"))
    assert stale.origin == "stale" and "cached" in stale.note
    assert [r.id for r in stale.records] == [r.id for r in first.records]
    with pytest.raises(SourceError, match="cannot reach" if outage == "down" else "HTTP 503"):
        src.search(SearchQuery(text="never asked before"))


@pytest.mark.parametrize("env", ["ZOOFIND_OFFLINE", "HF_HUB_OFFLINE"])
def test_offline_makes_no_request(hf_hub, monkeypatch, env):
    monkeypatch.setenv(env, "1")
    from zoofind.search import offline_requested

    result = search(SearchQuery(text="esm2", sources=("catalog", "hf"), offline=offline_requested(False)))
    assert result.records and {r.name: r.status for r in result.sources}["hf"] == "offline"
    src = HfSource()
    assert src.search(SearchQuery(text="esm2")).origin == "skipped"
    assert src.info(parse_id(f"hf:{ESM}")) is None
    assert src.status().reachable is None
    assert hf_hub.log() == []


def test_offline_query_makes_no_request(hf_hub):
    assert HfSource().search(SearchQuery(text="esm2", offline=True)).origin == "skipped"
    assert HfSource().info(parse_id(f"hf:{ESM}"), offline=True) is None
    assert hf_hub.log() == []


# -- tokens --------------------------------------------------------------------------------


def test_token_is_sent_as_bearer(hf_hub, monkeypatch):
    HfSource().search(SearchQuery(text="esm"))
    assert "authorization" not in api_calls(hf_hub)[0].headers
    monkeypatch.setenv("HF_TOKEN", TEST_TOKEN)
    HfSource().search(SearchQuery(text="esm", refresh=True))
    assert api_calls(hf_hub)[1].headers["authorization"] == f"Bearer {TEST_TOKEN}"


def test_token_file_is_used_and_reported_without_its_value(hf_hub, hermetic, tmp_path):
    (tmp_path / "hf-home").mkdir(exist_ok=True)
    (tmp_path / "hf-home" / "token").write_text(TEST_TOKEN + "\n")
    HfSource().search(SearchQuery(text="esm"))
    assert api_calls(hf_hub)[0].headers["authorization"] == f"Bearer {TEST_TOKEN}"
    status = HfSource().status()
    assert status.credentials is True and TEST_TOKEN not in repr(status)


def test_token_never_reaches_output_or_cache(hf_hub, cli, tmp_path):
    env = {"HF_TOKEN": TEST_TOKEN, "ZOOFIND_DEBUG": "1"}
    ok = cli("search", "esm2", "-s", "hf", "--format", "json", env=env)
    assert ok.code == 0, ok.stderr
    assert f"hf:{ESM}" in [r["id"] for r in json.loads(ok.stdout)["results"]]
    hf_hub.fail_status = 500
    failed = cli("search", "protein", "-s", "hf", "--refresh", env=env)
    assert failed.code == 1 and "HTTP 500" in failed.stderr
    hf_hub.fail_status = None
    rejected = cli("info", "hf:Xenova/esm2_t6_8M_UR50D", env={**env, "HF_TOKEN": TEST_TOKEN + "-revoked"})
    assert rejected.code == 4 and "rejected the token" in rejected.stderr
    for ran in (ok, failed, rejected):
        assert TEST_TOKEN not in ran.stdout + ran.stderr
    assert all(r.headers.get("authorization", "").startswith("Bearer hf_") for r in api_calls(hf_hub))
    for path in (tmp_path / "zoofind-cache").rglob("*"):
        if path.is_file():
            assert TEST_TOKEN not in path.read_text(errors="replace")


# -- info, files, status -------------------------------------------------------------------


def test_info_for_a_known_model(hf_hub):
    rec = HfSource().info(parse_id(f"hf:{ESM}"), timeout=2)
    assert rec.id == f"hf:{ESM}" and rec.params == 7_840_794 and rec.size_bytes == 31_375_104
    (req,) = api_calls(hf_hub, f"/api/models/{ESM}")
    assert req.query["blobs"] == ["true"]
    assert HfSource().info(parse_id(f"hf:{ESM}")) == rec and len(api_calls(hf_hub)) == 1  # cached


def test_info_cli_merges_live_numbers_into_the_curated_entry(hf_hub, cli):
    ran = cli("info", f"hf:{ESM}", "--json")
    assert ran.code == 0, ran.stderr
    record = json.loads(ran.stdout)["record"]
    assert record["curated"] and "protein" in record["domains"]  # from the catalog
    assert record["downloads"] == 1_630_411 and record["params"] == 7_840_794  # from the Hub


def test_unknown_model_exits_3(hf_hub, cli):
    ran = cli("info", "hf:nobody/no-such-model")
    assert ran.code == 3, ran.stderr
    assert "no model 'nobody/no-such-model'" in ran.stderr
    with pytest.raises(NotFoundError):
        HfSource().info(parse_id("hf:nobody/no-such-model"))


def test_gated_model(hf_hub, monkeypatch, cli):
    src = HfSource()
    pid = parse_id("hf:meta-llama/Llama-3.2-1B")
    rec = src.info(pid)
    assert rec.gated and rec.extra["access"] == "no-token" and rec.extra["approval"] == "manual" and rec.license == "llama3.2"
    with pytest.raises(AccessDeniedError) as denied:
        src.files(pid)
    assert denied.value.exit_code == 4 and "no token" in denied.value.message
    monkeypatch.setenv("HF_TOKEN", TEST_TOKEN)
    hf_hub.granted["meta-llama/Llama-3.2-1B"] = {TEST_TOKEN}
    files = {f.path: f for f in src.files(pid)}
    weights = files["model.safetensors"]
    assert weights.size == 2_471_645_608 and len(weights.sha256) == 64
    assert weights.url == f"{hf_hub.url}/meta-llama/Llama-3.2-1B/resolve/4e20de362430cd3b72f300e6b0f18e50e7166e08/model.safetensors"
    # Where the Hub gates the metadata too (huggingface_hub's GatedRepoError example), info exits 4.
    hf_hub.gated_metadata = True
    ran = cli("info", "hf:meta-llama/Llama-3.2-1B", env={"HF_TOKEN": "", "ZOOFIND_CACHE_TTL": "0"})
    assert ran.code == 4 and "gated" in ran.stderr


def test_status(hf_hub, monkeypatch):
    src = HfSource()
    st = src.status(timeout=1)
    assert (st.name, st.endpoint, st.live, st.reachable, st.credentials) == ("hf", hf_hub.url, True, True, False)
    assert st.cache_age_seconds is None
    src.search(SearchQuery(text="esm"))
    monkeypatch.setenv("HF_TOKEN", TEST_TOKEN)
    st = src.status(timeout=1)
    assert st.credentials and st.cache_age_seconds is not None and ("credentials", "HF_TOKEN") in st.details
    hf_hub.stop()
    st = src.status(timeout=1)
    assert st.reachable is False and st.reason


def test_module_import_stays_light():
    code = "import sys, zoofind.sources.hf; assert 'huggingface_hub' not in sys.modules and 'httpx2' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cache_hit_does_not_import_huggingface_hub(hf_hub):
    HfSource().search(SearchQuery(text="esm"))
    code = (
        "import sys; from zoofind.sources import SearchQuery; from zoofind.sources.hf import HfSource; "
        "a = HfSource().search(SearchQuery(text='esm')); "
        "assert a.origin == 'cache' and a.records, a.origin; assert 'huggingface_hub' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_other_huggingface_hub_calls_keep_their_behaviour(hf_hub):
    # The same failing call, in a process without zoofind and in one where zoofind's client
    # guard is installed, must end the same way (whatever this huggingface_hub's retry policy).
    code = (
        "import sys\n"
        "if sys.argv[1] == 'guard':\n"
        "    from zoofind.sources import SearchQuery; from zoofind.sources.hf import HfSource\n"
        "    HfSource().search(SearchQuery(text='esm'))\n"
        "from huggingface_hub import HfApi\n"
        "try:\n"
        f"    print(len(list(HfApi(endpoint={hf_hub.url!r}, token=False).list_models(search='esm2', limit=5))))\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__)\n"
    )
    outcomes = []
    for variant in ("plain", "guard"):
        hf_hub.clear()
        hf_hub.fail_status, hf_hub.fail_times = 503, 1
        done = subprocess.run([sys.executable, "-c", code, variant], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        outcomes.append((done.stdout.strip(), len([r for r in api_calls(hf_hub) if r.query.get("search") == ["esm2"]])))
    assert outcomes[0] == outcomes[1]


def test_environment_is_read_at_call_time_not_at_import(hf_hub, monkeypatch):
    # huggingface_hub imported while HF_HUB_OFFLINE=1 and HF_ENDPOINT elsewhere keeps those
    # values in its constants; zoofind must follow the environment of the call.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    code = (
        "import os, huggingface_hub.constants as c; assert c.HF_HUB_OFFLINE; "
        f"os.environ.pop('HF_HUB_OFFLINE'); os.environ['HF_ENDPOINT'] = {hf_hub.url!r}; "
        "from zoofind.sources import SearchQuery; from zoofind.sources.hf import HfSource; "
        "a = HfSource().search(SearchQuery(text='esm2')); assert a.origin == 'live' and len(a.records) == 3, a"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert len(api_calls(hf_hub)) == 1
