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
from zoofind.core.context import Context
from zoofind.core.errors import AccessDeniedError, NotFoundError, OfflineError, SourceError, TimedOutError
from zoofind.hubs import SearchQuery
from zoofind.hubs.hf.mapping import record_from_payload
from zoofind.hubs.hf.source import HfSource
from zoofind.hubs.ids import parse_id
from zoofind.ops.find import search

ESM = "facebook/esm2_t6_8M_UR50D"


def ctx(**kwargs):
    """The context of a call starting now (reads the environment as the test has set it)."""
    return Context.from_env(**kwargs)


def api_calls(hub: HubServer, path: str = "/api/models"):
    """Requests to the model API (huggingface_hub also fetches /api/agent-harnesses once)."""
    return [r for r in hub.log(path) if r.path != "/api/agent-harnesses"]


def by_id(answer):
    return {r.id: r for r in answer.records}


# -- query mapping and paging ------------------------------------------------------------


def test_search_maps_filters_to_query_params(hf_hub):
    HfSource().search(SearchQuery(text="esm", framework="pytorch", task="fill-mask", license="mit", sort="likes", limit=5), ctx())
    (req,) = api_calls(hf_hub)
    q = req.query
    assert q["search"] == ["esm"]
    assert q["filter"] == ["pytorch", "license:mit"]
    assert q["pipeline_tag"] == ["fill-mask"]
    assert q["sort"] == ["likes"]
    assert q["limit"] == ["20"]  # at least 20: the merged ranking needs candidates
    assert {"downloads", "likes", "lastModified", "pipeline_tag", "library_name", "tags", "cardData", "gated", "safetensors", "siblings"} <= set(q["expand[]"])
    assert q["direction"] == ["-1"]


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
    HfSource().search(query, ctx())
    (req,) = api_calls(hf_hub)
    for name, value in expected.items():
        assert req.query.get(name) == value, name


def test_paging_follows_link_header(hf_hub):
    hf_hub.page_size = 2
    answer = HfSource().search(SearchQuery(task="fill-mask", kind="model"), ctx())
    reqs = api_calls(hf_hub)
    assert len(reqs) == 3  # 5 public fill-mask models, 2 per page
    assert "cursor" not in reqs[0].query and all("cursor" in r.query for r in reqs[1:])
    assert all(r.query["pipeline_tag"] == ["fill-mask"] and r.query["expand[]"] == reqs[0].query["expand[]"] for r in reqs)
    ids = [r.id for r in answer.records]
    assert len(ids) == 5 and ids[0] == f"hf:{ESM}"  # the Hub's download order across pages


def test_paging_stops_at_the_limit(monkeypatch):
    models = [dict(default_models()[0], id=f"org/model-{i:02d}", _id=f"id{i}", downloads=1000 - i) for i in range(50)]
    with HubServer(models=models, page_size=10) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        answer = HfSource().search(SearchQuery(text="model", limit=5), ctx())
        assert len(answer.records) == 20 and len(api_calls(hub)) == 2


# -- records -------------------------------------------------------------------------------


def test_records_are_mapped(hf_hub):
    recs = by_id(HfSource().search(SearchQuery(limit=100), ctx()))
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
    assert "hf:zoofind-lab/private-protein-model" in by_id(HfSource().search(SearchQuery(text="private"), ctx()))


# -- failures ------------------------------------------------------------------------------


def test_server_error_is_retried_within_the_timeout_then_reported(hf_hub):
    hf_hub.fail_status = 500
    started = time.monotonic()
    with pytest.raises(SourceError, match="HTTP 500"):
        HfSource().search(SearchQuery(text="esm"), ctx(timeout=3))
    assert time.monotonic() - started < 3.5  # huggingface_hub alone would retry for ~23 s
    assert 2 <= len(api_calls(hf_hub)) <= 3  # the retry policy's attempts


def test_one_failure_is_retried_and_answers(hf_hub):
    hf_hub.fail_status, hf_hub.fail_times = 503, 1
    # Models alone: beside them the dataset listing would be asked too, and either could take the one failure.
    answer = HfSource().search(SearchQuery(text="esm", kind="model"), ctx())
    assert answer.origin == "live" and answer.records and len(api_calls(hf_hub)) == 2


def test_client_errors_are_not_retried(hf_hub):
    hf_hub.fail_status = 400
    with pytest.raises(SourceError, match="HTTP 400"):
        HfSource().search(SearchQuery(text="esm"), ctx())
    assert len(api_calls(hf_hub)) == 1


def test_rate_limit_is_reported_not_waited_for(hf_hub):
    hf_hub.fail_status, hf_hub.retry_after = 429, 30
    started = time.monotonic()
    with pytest.raises(SourceError, match="429.*retry after 30"):
        HfSource().search(SearchQuery(text="esm"), ctx())
    assert time.monotonic() - started < 5.0  # not Retry-After's 30 s


@pytest.mark.parametrize("status", [500, 429])
def test_failing_hub_does_not_sink_the_search(hf_hub, status):
    hf_hub.fail_status = status
    result = search(SearchQuery(text="esm2", sources=("catalog", "hf")), ctx())
    reports = {r.name: r for r in result.sources}
    assert reports["hf"].status == "error" and str(status) in reports["hf"].message
    assert reports["catalog"].status == "ok"
    assert not result.all_failed
    assert f"hf:{ESM}" in {r.id for r in result.records}  # the catalog's curated entry


def test_slow_hub_times_out_within_the_timeout(hf_hub):
    hf_hub.delay = 5.0
    started = time.monotonic()
    result = search(SearchQuery(text="esm2", sources=("catalog", "hf")), ctx(timeout=0.5))
    elapsed = time.monotonic() - started
    report = {r.name: r for r in result.sources}["hf"]
    assert report.status in ("timeout", "error") and elapsed < 3.0  # the Hub holds every answer 5 s
    assert result.records  # the catalog answered
    with pytest.raises(TimedOutError, match="within 0.5 s"):
        HfSource().search(SearchQuery(text="esm"), ctx(timeout=0.5))


def test_dropped_connection_is_reported(hf_hub):
    hf_hub.drop = True
    started = time.monotonic()
    with pytest.raises(SourceError, match="cannot reach"):
        HfSource().search(SearchQuery(text="esm"), ctx())
    assert time.monotonic() - started < 5.0  # huggingface_hub alone would retry for ~23 s


# -- cache, offline ----------------------------------------------------------------------------


def test_cache_hit_makes_no_request_and_refresh_bypasses_it(hf_hub):
    src = HfSource()
    q = SearchQuery(text="esm", limit=5)
    assert src.search(q, ctx()).origin == "live"
    n = len(hf_hub.log())
    again = src.search(q, ctx())
    assert again.origin == "cache" and again.records and len(hf_hub.log()) == n
    fresh = src.search(SearchQuery(text="esm", limit=5), ctx(refresh=True))
    assert fresh.origin == "live" and len(api_calls(hf_hub)) == 2


@pytest.mark.parametrize("outage", ["down", "500"])
def test_stale_cache_is_served_when_the_hub_is_down(hf_hub, monkeypatch, outage):
    src = HfSource()
    first = src.search(SearchQuery(text="esm"), ctx())
    if outage == "down":
        hf_hub.stop()  # the port now refuses connections
    else:
        hf_hub.fail_status = 503
    monkeypatch.setenv("ZOOFIND_CACHE_TTL", "0")
    stale = src.search(SearchQuery(text="esm"), ctx())
    assert stale.origin == "stale" and "cached" in stale.note
    assert [r.id for r in stale.records] == [r.id for r in first.records]
    with pytest.raises(SourceError, match="cannot reach" if outage == "down" else "HTTP 503"):
        src.search(SearchQuery(text="never asked before"), ctx())


@pytest.mark.parametrize("env", ["ZOOFIND_OFFLINE", "HF_HUB_OFFLINE"])
def test_offline_variables_make_no_request(hf_hub, monkeypatch, env):
    monkeypatch.setenv(env, "1")
    import zoofind

    result = zoofind.search("esm2", source=("catalog", "hf"))
    assert result.records and {r.name: r.status for r in result.sources}["hf"] == "offline"
    assert zoofind.info(f"hf:{ESM}").record.curated  # the catalog answers
    assert all(s.reachable is None for s in zoofind.list_sources() if s.network)
    # Even a source called directly cannot send anything under an offline context.
    src = HfSource()
    with pytest.raises(OfflineError):
        src.search(SearchQuery(text="esm2"), ctx())
    with pytest.raises(OfflineError):
        src.info(parse_id(f"hf:{ESM}"), ctx())
    assert src.status(ctx()).reachable is None
    assert hf_hub.log() == []


def test_offline_argument_makes_no_request(hf_hub):
    import zoofind

    assert {r.name: r.status for r in zoofind.search("esm2", offline=True).sources}["hf"] == "offline"
    with pytest.raises(OfflineError):
        HfSource().info(parse_id(f"hf:{ESM}"), ctx(offline=True))
    assert hf_hub.log() == []


# -- tokens --------------------------------------------------------------------------------


def test_token_is_sent_as_bearer(hf_hub, monkeypatch):
    HfSource().search(SearchQuery(text="esm"), ctx())
    assert "authorization" not in api_calls(hf_hub)[0].headers
    monkeypatch.setenv("HF_TOKEN", TEST_TOKEN)
    HfSource().search(SearchQuery(text="esm"), ctx(refresh=True))
    assert api_calls(hf_hub)[1].headers["authorization"] == f"Bearer {TEST_TOKEN}"


def test_token_file_is_used_and_reported_without_its_value(hf_hub, hermetic, tmp_path):
    (tmp_path / "hf-home").mkdir(exist_ok=True)
    (tmp_path / "hf-home" / "token").write_text(TEST_TOKEN + "\n")
    HfSource().search(SearchQuery(text="esm"), ctx())
    assert api_calls(hf_hub)[0].headers["authorization"] == f"Bearer {TEST_TOKEN}"
    status = HfSource().status(ctx())
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
    rec = HfSource().info(parse_id(f"hf:{ESM}"), ctx(timeout=2))
    assert rec.id == f"hf:{ESM}" and rec.params == 7_840_794 and rec.size_bytes == 31_375_104
    (req,) = api_calls(hf_hub, f"/api/models/{ESM}")
    assert req.query["blobs"] == ["true"]
    assert HfSource().info(parse_id(f"hf:{ESM}"), ctx()) == rec and len(api_calls(hf_hub)) == 1  # cached


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
        HfSource().info(parse_id("hf:nobody/no-such-model"), ctx())


def test_gated_model(hf_hub, monkeypatch, cli):
    src = HfSource()
    pid = parse_id("hf:meta-llama/Llama-3.2-1B")
    rec = src.info(pid, ctx())
    assert rec.gated and rec.extra["access"] == "no-token" and rec.extra["approval"] == "manual" and rec.license == "llama3.2"
    with pytest.raises(AccessDeniedError) as denied:
        src.files(pid, ctx())
    assert denied.value.exit_code == 4 and "no token" in denied.value.message
    monkeypatch.setenv("HF_TOKEN", TEST_TOKEN)
    hf_hub.granted["meta-llama/Llama-3.2-1B"] = {TEST_TOKEN}
    files = {f.path: f for f in src.files(pid, ctx())}
    weights = files["model.safetensors"]
    assert weights.size == 2_471_645_608 and len(weights.sha256) == 64
    assert weights.url == f"{hf_hub.url}/meta-llama/Llama-3.2-1B/resolve/4e20de362430cd3b72f300e6b0f18e50e7166e08/model.safetensors"
    # Where the Hub gates the metadata too (huggingface_hub's GatedRepoError example), info exits 4.
    hf_hub.gated_metadata = True
    ran = cli("info", "hf:meta-llama/Llama-3.2-1B", env={"HF_TOKEN": "", "ZOOFIND_CACHE_TTL": "0"})
    assert ran.code == 4 and "gated" in ran.stderr


def test_status(hf_hub, monkeypatch):
    src = HfSource()
    st = src.status(ctx(timeout=1))
    assert (st.name, st.endpoint, st.network, st.reachable, st.credentials) == ("hf", hf_hub.url, True, True, False)
    assert st.cache_age_seconds is None
    src.search(SearchQuery(text="esm"), ctx())
    monkeypatch.setenv("HF_TOKEN", TEST_TOKEN)
    st = src.status(ctx(timeout=1))
    assert st.credentials and st.cache_age_seconds is not None and ("credentials", "HF_TOKEN") in st.details
    hf_hub.stop()
    st = src.status(ctx(timeout=1))
    assert st.reachable is False and st.reason


def test_module_import_stays_light():
    code = "import sys, zoofind.hubs.hf; assert 'huggingface_hub' not in sys.modules and 'httpx2' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cache_hit_does_not_import_huggingface_hub(hf_hub):
    HfSource().search(SearchQuery(text="esm"), ctx())
    code = (
        "import sys; from zoofind.hubs import SearchQuery; from zoofind.hubs.hf.source import HfSource; "
        "a = HfSource().search(SearchQuery(text='esm'), __import__('zoofind.core.context').core.context.Context.from_env()); "
        "assert a.origin == 'cache' and a.records, a.origin; assert 'huggingface_hub' not in sys.modules and 'httpx' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


#: Underscored names the standard library documents as public: os._exit (end the process with no
#: clean-up, what a signal handler interrupting an import needs).
DOCUMENTED = {"os._exit"}


def test_no_private_interface_of_any_dependency_is_used():
    """No ``from dep._x import``, ``import dep._x``, ``from dep import _x`` or ``dep_module._x`` in src/."""
    import ast
    from pathlib import Path

    import zoofind

    offences = []
    for path in Path(zoofind.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        foreign: set[str] = set()  # local names bound to a dependency's module or object
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if not alias.name.startswith("zoofind"):
                        foreign.add((alias.asname or alias.name).split(".")[0])
                        if any(part.startswith("_") and not part.startswith("__") for part in alias.name.split(".")):
                            offences.append(f"{path.name}:{node.lineno} import {alias.name}")
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and not (node.module or "").startswith("zoofind"):
                if any(part.startswith("_") and not part.startswith("__") for part in (node.module or "").split(".")):
                    offences.append(f"{path.name}:{node.lineno} from {node.module} import ...")
                for alias in node.names:
                    foreign.add(alias.asname or alias.name)
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        offences.append(f"{path.name}:{node.lineno} from {node.module} import {alias.name}")
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in foreign
                    and f"{node.value.id}.{node.attr}" not in DOCUMENTED):
                offences.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
    assert not offences, offences


def test_environment_is_read_at_call_time_not_at_import(hf_hub, monkeypatch):
    # huggingface_hub imported while HF_HUB_OFFLINE=1 and HF_ENDPOINT elsewhere keeps those
    # values in its constants; zoofind must follow the environment of the call.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    code = (
        "import os, huggingface_hub.constants as c; assert c.HF_HUB_OFFLINE; "
        f"os.environ.pop('HF_HUB_OFFLINE'); os.environ['HF_ENDPOINT'] = {hf_hub.url!r}; "
        "from zoofind.hubs import SearchQuery; from zoofind.hubs.hf.source import HfSource; "
        "a = HfSource().search(SearchQuery(text='esm2'), __import__('zoofind.core.context').core.context.Context.from_env()); assert a.origin == 'live' and len(a.records) == 3, a"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert len(api_calls(hf_hub)) == 1


@pytest.mark.parametrize("setup", ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "both", "token file", "HF_TOKEN_PATH", "none"])
def test_token_lookup_agrees_with_huggingface_hub(tmp_path, setup):
    """huggingface_hub's public get_token() referees where zoofind finds the token."""
    import os

    from zoofind.hubs.hf.auth import find_token

    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH")}
    home = tmp_path / "referee-hf-home"
    home.mkdir()
    env["HF_HOME"] = str(home)
    if setup in ("HF_TOKEN", "both"):
        env["HF_TOKEN"] = TEST_TOKEN
    if setup in ("HUGGING_FACE_HUB_TOKEN", "both"):
        env["HUGGING_FACE_HUB_TOKEN"] = TEST_TOKEN + "-older-name"
    if setup == "token file":
        (home / "token").write_text(TEST_TOKEN + "-file\n")  # what `hf auth login` writes
    if setup == "HF_TOKEN_PATH":
        (tmp_path / "elsewhere").write_text(TEST_TOKEN + "-path")
        env["HF_TOKEN_PATH"] = str(tmp_path / "elsewhere")
    done = subprocess.run([sys.executable, "-c", "import huggingface_hub; print(huggingface_hub.get_token() or '')"],
                          capture_output=True, text=True, env=env, check=True)
    assert (find_token(env)[0] or "") == done.stdout.strip()
