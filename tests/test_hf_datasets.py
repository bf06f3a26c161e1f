"""Hugging Face dataset repositories (`hf:datasets/owner/name`) against a local Hub
(tests/servers/hf_server.py): found, described, pulled into huggingface_hub's cache, pinned and
carried, refereed by huggingface_hub and datasets themselves."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tomllib

from servers.hf_server import TEST_TOKEN

DATASET = "cell-lab/stability"
CARD = b"""---
license: mit
pretty_name: Protein stability
task_categories:
- text-classification
size_categories:
- n<1K
---
# Protein stability

```bibtex
@article{rao2019tape,
  title={Evaluating Protein Transfer Learning with TAPE},
  author={Rao, Roshan and Bhattacharya, Nicholas},
  journal={NeurIPS},
  year={2019}
}
```
"""


def parquet(rows: dict[str, list]) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table(rows), out)
    return out.getvalue()


FILES = {
    "README.md": CARD,
    "data/train-00000-of-00001.parquet": parquet({"sequence": ["MKV", "MQIF", "MAL"], "stability": [0.1, 0.7, 1.3]}),
    "data/test-00000-of-00001.parquet": parquet({"sequence": ["MSS"], "stability": [0.4]}),
}


@pytest.fixture
def hub(hf_hub):
    hf_hub.add_repo(DATASET, FILES, repo_type="dataset", downloads=812, likes=9,
                    cardData={"license": "mit", "pretty_name": "Protein stability",
                              "task_categories": ["text-classification"], "size_categories": ["n<1K"]})
    return hf_hub


def hub_cache() -> Path:
    return Path(os.environ["HF_HOME"]) / "hub"


def referee(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """huggingface_hub / datasets in a fresh interpreter (they read HF_* at import), offline."""
    full = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_DATASETS_CACHE": str(Path(os.environ["HF_HOME"]).parent / "datasets-cache"), **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=180)


# -- search ---------------------------------------------------------------------------------
def test_search_kind_dataset_asks_the_hubs_dataset_listing_with_its_filters(hub, cli) -> None:
    ran = cli("search", "stability", "--kind", "dataset", "--task", "text-classification", "--license", "mit",
              "--size-category", "n<1K", "-s", "hf", "--json", "--timeout", "60")
    assert ran.code == 0, ran.stderr
    results = json.loads(ran.stdout)["results"]
    assert [r["id"] for r in results] == [f"hf:datasets/{DATASET}"]
    rec = results[0]
    assert rec["kind"] == "dataset" and rec["license"] == "mit" and rec["tasks"] == ["text-classification"]
    assert rec["name"] == "Protein stability" and rec["url"].endswith(f"/datasets/{DATASET}")
    assert "size_categories:n<1K" in rec["tags"] and rec["downloads"] == 812
    listed = [r for r in hub.requests if r.path == "/api/datasets"]
    assert listed and not any(r.path == "/api/models" for r in hub.requests)
    filters = listed[0].query["filter"]
    assert sorted(filters) == ["license:mit", "size_categories:n<1K", "task_categories:text-classification"]
    assert "cardData" in listed[0].query["expand[]"]


def test_a_size_category_alone_asks_only_the_hub_whose_datasets_have_one(hub, cli) -> None:
    from servers.hypha_server import HyphaServer
    from servers.kaggle_server import KaggleServer
    from servers.zenodo_server import ZenodoServer

    with KaggleServer() as kaggle, HyphaServer() as hypha, ZenodoServer() as zenodo:
        env = {"ZOOFIND_KAGGLE_ENDPOINT": kaggle.url, "KAGGLE_API_TOKEN": kaggle.token,
               "ZOOFIND_BIOIMAGEIO_ENDPOINT": hypha.url, "ZOOFIND_ZENODO_ENDPOINT": zenodo.url}
        ran = cli("search", "stability", "--size-category", "n<1K", "--json", "--timeout", "60", env=env)
        assert ran.code == 0, ran.stderr
        assert [r["id"] for r in json.loads(ran.stdout)["results"]] == [f"hf:datasets/{DATASET}"]
        # Every other source's records would all be filtered out: none of them is asked.
        assert kaggle.requests == [] and hypha.requests == [] and zenodo.requests == []
        reports = {r["name"]: r for r in json.loads(ran.stdout)["sources"]}
        assert {reports[n]["status"] for n in ("kaggle", "bioimageio", "zenodo")} == {"skipped"}
    assert [r.path for r in hub.requests] == ["/api/datasets"]


def test_default_search_marks_datasets_among_models(hub, cli) -> None:
    ran = cli("search", "stability", "-s", "hf", "--timeout", "60")
    assert ran.code == 0, ran.stderr
    rows = {line.split("\t")[0]: line.split("\t") for line in ran.stdout.splitlines()}
    # TSV: id, source, task, framework, name, kind (the kind column is the last).
    assert rows[f"hf:datasets/{DATASET}"][5] == "dataset"
    assert {r.path for r in hub.requests} >= {"/api/models", "/api/datasets"}


def test_dataset_listing_follows_link_pages(hub, cli) -> None:
    hub.page_size = 2
    ran = cli("search", "--kind", "dataset", "-s", "hf", "--format", "ids", "-n", "5", "--sort", "downloads",
              "--timeout", "60")
    assert ran.code == 0, ran.stderr
    assert len(ran.stdout.split()) == 5
    assert len([r for r in hub.requests if r.path == "/api/datasets"]) == 3


@pytest.mark.parametrize("args", [("--size-category", "huge"), ("--size-category", "n<1K", "--kind", "model")])
def test_a_size_category_the_hub_has_not_is_a_usage_error(hub, cli, args) -> None:
    ran = cli("search", "cells", *args)
    assert ran.code == 2 and "Traceback" not in ran.stderr and hub.requests == []


def test_a_failing_dataset_listing_leaves_the_models_and_says_so(hub, cli) -> None:
    hub.fail_status, hub.faults_on = 500, r"^GET /api/datasets"
    ran = cli("search", "esm2", "-s", "hf", "--format", "ids", "--timeout", "3")
    assert ran.code == 0, ran.stderr
    assert "hf:facebook/esm2_t6_8M_UR50D" in ran.stdout.split()
    assert "datasets were not searched" in ran.stderr


# -- info -----------------------------------------------------------------------------------
def test_info_shows_card_data_licence_size_and_the_cards_citation(hub, cli) -> None:
    ran = cli("info", f"hf:datasets/{DATASET}", "--json")
    assert ran.code == 0, ran.stderr
    rec = json.loads(ran.stdout)["record"]
    assert rec["kind"] == "dataset" and rec["license"] == "mit"
    assert rec["size_bytes"] == sum(len(b) for b in FILES.values())
    assert rec["extra"]["size_category"] == "n<1K" and rec["extra"]["files"] == 3
    assert any(r.path == f"/api/datasets/{DATASET}" for r in hub.requests)
    genomes = json.loads(cli("info", "https://huggingface.co/datasets/InstaDeepAI/multi_species_genomes",
                             "--json").stdout)["record"]
    assert genomes["extra"]["citation"].startswith("@article{dalla2023nucleotide")
    table = cli("info", f"hf:datasets/{DATASET}")
    assert "\tdataset" in table.stdout and "size category\tn<1K" in table.stdout


def test_a_gated_dataset_says_so_as_a_gated_model_does(hub, cli) -> None:
    info = json.loads(cli("info", "hf:datasets/clinic-lab/ward-notes", "--json").stdout)["record"]
    assert info["gated"] and info["extra"]["access"] == "no-token" and info["extra"]["approval"] == "manual"
    ran = cli("pull", "hf:datasets/clinic-lab/ward-notes")
    assert ran.code == 4
    assert "the dataset clinic-lab/ward-notes is gated" in ran.stderr
    assert "/datasets/clinic-lab/ward-notes" in ran.stderr  # where to ask for access
    assert not (hub_cache() / "datasets--clinic-lab--ward-notes" / "refs").exists()


def test_an_unknown_dataset_is_not_found(hub, cli) -> None:
    ran = cli("pull", "hf:datasets/cell-lab/nothing-here")
    assert ran.code == 3 and "no dataset 'cell-lab/nothing-here'" in ran.stderr


# -- pull -----------------------------------------------------------------------------------
def test_pull_lays_the_dataset_out_as_huggingface_hub_does_and_its_clients_load_it(hub, cli) -> None:
    ran = cli("pull", f"hf:datasets/{DATASET}")
    assert ran.code == 0, ran.stderr
    rid, path = ran.stdout.strip().split("\t")
    commit = hub.repo(f"datasets/{DATASET}").branches["main"]
    snap = Path(path)
    assert rid == f"hf:datasets/{DATASET}"
    assert snap == hub_cache() / "datasets--cell-lab--stability" / "snapshots" / commit
    assert (snap.parent.parent / "refs" / "main").read_text() == commit
    assert all((snap / p).is_symlink() and (snap / p).read_bytes() == b for p, b in FILES.items())
    # The parquet files are LFS files: fetched from the storage host, with no token sent there.
    assert any(r.path.startswith(f"/repos/datasets/{DATASET}/") for r in hub.storage_requests())
    assert hub.leaks() == []

    hub.requests.clear()
    check = referee(
        "import huggingface_hub as h, json, datasets\n"
        f"p = h.snapshot_download({DATASET!r}, repo_type='dataset', local_files_only=True)\n"
        "ds = datasets.load_dataset(p)\n"
        "info = h.scan_cache_dir()\n"
        f"repo = [r for r in info.repos if r.repo_id == {DATASET!r}][0]\n"
        "print(json.dumps({'p': p, 'train': list(ds['train']['sequence']), 'test': len(ds['test']),"
        " 'type': repo.repo_type, 'warnings': [str(w) for w in info.warnings]}))")
    assert check.returncode == 0, check.stderr
    seen = json.loads(check.stdout.strip().splitlines()[-1])
    assert seen == {"p": str(snap), "train": ["MKV", "MQIF", "MAL"], "test": 1, "type": "dataset", "warnings": []}
    assert hub.requests == []


def test_the_same_cache_as_huggingface_hubs_own_download(hub, cli, tmp_path) -> None:
    assert cli("pull", f"hf:datasets/{DATASET}").code == 0
    theirs = tmp_path / "theirs"
    done = referee(f"import huggingface_hub as h; h.snapshot_download({DATASET!r}, repo_type='dataset')",
                   HF_HUB_OFFLINE="0", HF_HOME=str(theirs), HF_HUB_DISABLE_XET="1")
    assert done.returncode == 0, done.stderr

    def layout(root: Path) -> list[tuple[str, str]]:
        folder = root / "datasets--cell-lab--stability"
        return sorted((p.relative_to(folder).as_posix(), os.readlink(p) if p.is_symlink() else "")
                      for p in folder.rglob("*") if p.is_file() and "trees" not in p.parts)

    assert layout(hub_cache()) == layout(theirs / "hub")


def test_include_picks_the_files_of_a_large_dataset(hub, cli) -> None:
    ran = cli("pull", f"hf:datasets/{DATASET}", "--include", "data/train-*", "--format", "json")
    assert ran.code == 0, ran.stderr
    files = {f["path"]: f["status"] for f in json.loads(ran.stdout)["results"][0]["files"]}
    assert files["data/train-00000-of-00001.parquet"] == "downloaded"
    assert files["data/test-00000-of-00001.parquet"] == "skipped" and files["README.md"] == "skipped"


def test_a_dropped_download_resumes_where_it_stopped(hub, cli) -> None:
    big = os.urandom(3 * 1024 * 1024)
    hub.add_repo("cell-lab/images", {"images.zip": big}, repo_type="dataset")
    hub.drop_after, hub.drop_times = 1024 * 1024, 1
    ran = cli("pull", "hf:datasets/cell-lab/images")
    assert ran.code == 0, ran.stderr
    assert (Path(ran.stdout.split("\t")[1].strip()) / "images.zip").read_bytes() == big
    assert any(r.headers.get("range", "").startswith("bytes=") for r in hub.storage_requests())


# -- lock, bundle, cache --------------------------------------------------------------------
def test_a_dataset_is_pinned_beside_a_model_and_carried_in_the_same_bundle(hub, cli, tmp_path) -> None:
    hub.add_repo("cell-lab/tiny-model", {"config.json": b"{}\n", "model.safetensors": os.urandom(4096)})
    lock = tmp_path / "study.lock"
    ran = cli("lock", "hf:cell-lab/tiny-model", f"hf:datasets/{DATASET}", "-o", str(lock))
    assert ran.code == 0, ran.stderr
    entries = {m["id"]: m for m in tomllib.loads(lock.read_text())["models"]}
    assert entries[f"hf:datasets/{DATASET}"]["kind"] == "dataset" and "kind" not in entries["hf:cell-lab/tiny-model"]
    assert entries[f"hf:datasets/{DATASET}"]["commit"] == hub.repo(f"datasets/{DATASET}").branches["main"]

    bundle = tmp_path / "study.tar"
    assert cli("export", "--lock", str(lock), str(bundle)).code == 0
    node = tmp_path / "node"
    env = {"HF_HOME": str(node / "hf"), "ZOOFIND_OFFLINE": "1"}
    imported = cli("import", str(bundle), env=env)
    assert imported.code == 0, imported.stderr
    again = cli("pull", "--lock", str(lock), "--offline", env=env)
    assert again.code == 0, again.stderr
    placed = node / "hf" / "hub" / "datasets--cell-lab--stability" / "snapshots"
    assert (next(placed.iterdir()) / "data/test-00000-of-00001.parquet").read_bytes() == FILES[
        "data/test-00000-of-00001.parquet"]
    listed = cli("cache", "ls", "--kind", "dataset", "--json", env=env)
    assert [(m["id"], m["kind"]) for m in json.loads(listed.stdout)["results"]] == [
        (f"hf:datasets/{DATASET}", "dataset")]


def test_cache_commands_treat_a_dataset_as_one_entry(hub, cli) -> None:
    assert cli("pull", f"hf:datasets/{DATASET}").code == 0
    ls = cli("cache", "ls")
    row = next(line.split("\t") for line in ls.stdout.splitlines() if line.startswith("hf:datasets/"))
    assert row[0] == f"hf:datasets/{DATASET}" and row[-1] == "dataset"
    assert cli("cache", "ls", "--kind", "model", "--format", "ids").stdout == ""
    assert cli("cache", "ls", "--kind", "weights").code == 2
    path = cli("cache", "path", f"hf:datasets/{DATASET}")
    assert path.code == 0 and path.stdout.strip().endswith(hub.repo(f"datasets/{DATASET}").branches["main"])
    assert cli("cache", "verify", f"hf:datasets/{DATASET}").code == 0
    blob = next((hub_cache() / "datasets--cell-lab--stability" / "blobs").iterdir())
    blob.chmod(0o644)
    blob.write_bytes(b"tampered")
    bad = cli("cache", "verify", f"hf:datasets/{DATASET}")
    assert bad.code == 1 and "mismatch" in bad.stdout
    gone = cli("cache", "rm", f"hf:datasets/{DATASET}", "--yes")
    assert gone.code == 0, gone.stderr
    assert not (hub_cache() / "datasets--cell-lab--stability").exists()


def test_cite_reads_the_bibtex_of_the_datasets_card(hub, cli) -> None:
    assert cli("pull", f"hf:datasets/{DATASET}").code == 0
    hub.requests.clear()
    ran = cli("cite", f"hf:datasets/{DATASET}", "--offline")
    assert ran.code == 0, ran.stderr
    assert ran.stdout.startswith("@article{rao2019") and "Evaluating Protein Transfer Learning" in ran.stdout
    assert "Source: the dataset's card" in " ".join(ran.stdout.split())
    assert hub.requests == []


def test_python_api_searches_pulls_and_lists_datasets(hub) -> None:
    import zoofind

    found = zoofind.search("stability", kind="dataset", size_category="n<1K", source="hf")
    assert [r.id for r in found.records] == [f"hf:datasets/{DATASET}"]
    result = zoofind.pull(f"hf:datasets/{DATASET}").results[0]
    assert result.ok and Path(result.path).parent.parent.name == "datasets--cell-lab--stability"
    assert [m.id for m in zoofind.cached(kind="dataset")] == [f"hf:datasets/{DATASET}"]
    assert zoofind.cached(kind="model") == []


def test_gated_dataset_with_a_grant_pulls(hub, cli) -> None:
    hub.add_repo("clinic-lab/trial", {"rows.csv": b"a,b\n1,2\n"}, repo_type="dataset", gated="auto")
    hub.granted["datasets/clinic-lab/trial"] = {TEST_TOKEN}
    ran = cli("pull", "hf:datasets/clinic-lab/trial", env={"HF_TOKEN": TEST_TOKEN})
    assert ran.code == 0, ran.stderr
    assert (Path(ran.stdout.split("\t")[1].strip()) / "rows.csv").read_bytes() == b"a,b\n1,2\n"


def test_cite_falls_back_to_the_citation_the_hubs_answer_gives(hub, cli) -> None:
    # The default dataset has no BibTeX in a README here; the Hub's answer carries its citation.
    ran = cli("cite", "hf:datasets/InstaDeepAI/multi_species_genomes")
    assert ran.code == 0, ran.stderr
    assert ran.stdout.startswith("@article{") and "title = {{The Nucleotide Transformer}}" in ran.stdout


def test_the_local_hub_speaks_the_dataset_routes_as_huggingface_hub_calls_them(hub, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    from huggingface_hub import HfApi, hf_hub_download

    api = HfApi(endpoint=hub.url)
    assert [d.id for d in api.list_datasets(filter="size_categories:n<1K", task_categories="text-classification")] \
        == [DATASET]
    assert {d.id for d in api.list_datasets(search="stab")} == {DATASET, "proteinea/stability"}
    info = api.dataset_info(DATASET, files_metadata=True)
    assert info.card_data["pretty_name"] == "Protein stability" and len(info.siblings) == 3
    tree = {f.path for f in api.list_repo_tree(DATASET, repo_type="dataset", recursive=True)}
    assert tree >= set(FILES) | {"data"}
    found = api.get_paths_info(DATASET, ["README.md", "data", "missing"], repo_type="dataset")
    assert sorted(p.path for p in found) == ["README.md", "data"]
    path = hf_hub_download(DATASET, "data/test-00000-of-00001.parquet", repo_type="dataset",
                           endpoint=hub.url, cache_dir=tmp_path / "hf")
    assert Path(path).read_bytes() == FILES["data/test-00000-of-00001.parquet"]
    assert "datasets--cell-lab--stability" in path and hub.leaks() == []


def test_completion_offers_the_kinds_and_the_size_categories(cli) -> None:
    from test_completion import bash_request

    assert bash_request(cli, "zoofind search --kind d") == ["dataset"]
    assert bash_request(cli, "zoofind search --size-category 1M") == ["1M<n<10M"]
    assert bash_request(cli, "zoofind cache ls --kind ") == ["model", "dataset"]
