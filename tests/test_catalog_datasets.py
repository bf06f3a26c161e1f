"""The bundled catalog's datasets (catalog/datasets.toml): where each lives, how its id was checked,
what to cite, and that search, info and cite treat them as datasets."""

from __future__ import annotations

import json
from pathlib import Path

from zoofind import catalog
from zoofind.catalog.compile import compile_files
from zoofind.hubs.ids import parse_id

CATALOG = Path(__file__).resolve().parents[1] / "catalog"

#: Fields the survey's readers work in, and how many datasets each has at least.
DATASET_FIELDS = {
    "computer vision": 6, "chemistry": 3, "materials": 2, "protein": 2, "genomics": 2,
    "single-cell biology": 1, "medical imaging": 5, "earth observation": 1, "weather & climate": 2,
    "astronomy": 2, "particle physics": 2, "bioacoustics": 1,
}


def _datasets() -> dict:
    meta: dict = {}
    records = {r.id: r for r in compile_files([CATALOG / "datasets.toml"], metas=meta)}
    assert meta["datasets"]["layer"] == "curated"
    return records


def test_every_dataset_says_where_it_lives_how_it_was_checked_and_what_to_cite() -> None:
    records = _datasets()
    assert len(records) >= 30
    for r in records.values():
        assert r.kind == "dataset", r.id
        assert r.reliability in ("verified_primary", "verified_usage") and r.evidence, r.id
        assert r.notes and r.description and r.tasks and r.domains, r.id
        pid = parse_id(r.id)
        # A Hugging Face dataset is named with the Hub's datasets/ prefix, a Kaggle one likewise.
        assert pid.source in ("hf", "kaggle", "zenodo", "catalog"), r.id
        if pid.source in ("hf", "kaggle"):
            assert r.id.startswith(f"{pid.source}:datasets/"), r.id
        if pid.source == "catalog":
            # Not on a hub zoofind pulls: the notes say where the data is and how to read it.
            assert r.downloadable is False and "Not on a hub" in r.notes, r.id
        paper = r.extra["paper"]
        assert paper.get("doi") or paper.get("arxiv") or (paper.get("none") and paper.get("evidence")), r.id
        if "licen" not in r.notes.lower():
            assert r.license, f"{r.id}: a licence as seen, or notes saying it was not read"
    for field, least in DATASET_FIELDS.items():
        assert sum(field in r.domains for r in records.values()) >= least, field


def test_the_compiled_catalog_keeps_a_dataset_a_dataset() -> None:
    cat = catalog.load()
    for rid in ("hf:datasets/yairschiff/qm9", "kaggle:datasets/nih-chest-xrays/data", "zenodo:6619768",
                "catalog:weatherbench2"):
        doc = cat.doc_of(rid)
        assert doc is not None, rid
        assert cat.facet(doc)[2] == "dataset" and cat.record(doc).kind == "dataset", rid
    assert cat.facet(cat.doc_of("catalog:pytorch-geometric"))[2] == "resource"


def test_search_kind_dataset_finds_the_benchmarks(cli) -> None:
    ran = cli("search", "molecular property benchmark", "--kind", "dataset", "--offline", "--json")
    assert ran.code == 0, ran.stderr
    results = json.loads(ran.stdout)["results"]
    assert results and all(r["kind"] == "dataset" for r in results)
    assert "hf:datasets/katielink/moleculenet-benchmark" in [r["id"] for r in results[:3]]
    ran = cli("search", "imagenet", "--kind", "dataset", "--offline", "-f", "tsv")
    assert ran.code == 0, ran.stderr
    assert ran.stdout.splitlines()[0].split("\t")[0] == "hf:datasets/ILSVRC/imagenet-1k"


def test_info_and_cite_read_a_dataset_entry(cli) -> None:
    ran = cli("info", "hf:datasets/ILSVRC/imagenet-1k", "--offline", "-f", "tsv")
    assert ran.code == 0, ran.stderr
    lines = dict(x.split("\t", 1) for x in ran.stdout.splitlines() if "\t" in x)
    assert lines["kind"] == "dataset" and lines["gated"] == "yes"
    assert lines["cite as"].startswith("russakovsky2015imagenet: Russakovsky O,")
    ran = cli("cite", "zenodo:6619768", "--offline")
    assert ran.code == 0, ran.stderr
    assert "Particle Transformer for Jet Tagging" in ran.stdout and "2202.03772" in ran.stdout
    assert "Cited for zenodo:6619768" in ran.stdout
    # CIFAR's report has no DOI or arXiv id: cited as itself, the note says why.
    ran = cli("cite", "hf:datasets/uoft-cs/cifar10", "--offline")
    assert ran.code == 0, ran.stderr
    assert "@misc{" in ran.stdout and "huggingface.co/datasets/uoft-cs/cifar10" in ran.stdout
    assert "Learning Multiple Layers of Features from Tiny Images" in ran.stderr


def test_a_task_search_shows_models_first_and_a_data_word_brings_the_datasets(cli) -> None:
    def top(*query: str, n: int = 5) -> list[dict]:
        ran = cli("search", *query, "--offline", "--json")
        assert ran.code == 0, ran.stderr
        return json.loads(ran.stdout)["results"][:n]

    # A task's words name its models and its benchmarks alike: the models come first.
    assert all(r["kind"] != "dataset" for r in top("image classification"))
    assert top("object detection", n=1)[0]["kind"] == "model"
    assert top("chest x-ray", n=1)[0]["id"] == "hf:microsoft/rad-dino"
    # A data word, the dataset's own name, or --kind dataset bring it up.
    assert top("chest x-ray dataset", n=1)[0]["kind"] == "dataset"
    assert top("coco", n=1)[0]["id"] == "hf:datasets/detection-datasets/coco"
    assert top("object detection", "--kind", "dataset", n=1)[0]["id"] == "hf:datasets/detection-datasets/coco"
