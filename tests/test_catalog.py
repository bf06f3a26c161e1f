"""The catalog's schema, its content, and the compiled form search loads."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import tomllib

from zoofind import catalog
from zoofind.catalog.compile import compile_dir, compile_files
from zoofind.catalog.schema import RELIABILITY
from zoofind.core.errors import CatalogError

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "catalog"

GOOD_RESOURCE = """
[[entry]]
id = "catalog:my-notes"
kind = "resource"
name = "My lab notes"
resource_type = "tutorial"
url = "https://example.org/notes"
reliability = "inferred"
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_catalog_is_valid() -> None:
    records = compile_dir(CATALOG)
    assert len(records) > 3000


def test_compiled_catalog_is_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("build_catalog", ROOT / "scripts" / "build_catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path, text in module.render().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run python scripts/build_catalog.py"


def test_every_survey_model_is_in_and_no_unverified_one() -> None:
    models = tomllib.loads((CATALOG / "models.toml").read_text(encoding="utf-8"))["entry"]
    assert len(models) == 73
    ids = {m["id"] for m in models}
    for unverified in ("hf:facebook/esm2_t48_15B_UR50D", "hf:Rostlab/ProstT5", "hf:arcinstitute/evo2_7b", "hf:allenai/specter"):
        assert unverified not in ids
    assert all(m["reliability"] in ("verified_primary", "verified_usage") for m in models)
    assert all(m.get("evidence") for m in models)


def test_survey_resources_carry_provenance_and_fixed_urls() -> None:
    resources = {r["id"]: r for r in tomllib.loads((CATALOG / "resources.toml").read_text(encoding="utf-8"))["entry"]}
    assert len(resources) >= 50
    assert all(r["reliability"] in RELIABILITY for r in resources.values())
    urls = {r["url"] for r in resources.values()}
    assert "https://pytorch.org/vision/stable/models.html" in urls
    assert "https://github.com/pyg-team/pytorch_geometric" in urls
    assert "https://pytorch.org/docs/stable/torchvision/models.html" not in urls
    for kind in ("library", "tutorial", "course", "code", "model_zoo", "labelling_tool", "visualization", "compute", "research_overview"):
        assert any(r["resource_type"] == kind for r in resources.values()), kind


def test_tfhub_snapshot_keeps_placeholders_findable_but_not_downloadable() -> None:
    cat = catalog.load()
    placeholder = cat.get("tfhub:google/universal-sentence-encoder-qa-ondevice/1")
    assert placeholder is not None and placeholder.downloadable is False
    assert cat.get("tfhub:google/bird-vocalization-classifier/4").downloadable
    tfhub = [doc for doc in range(len(cat)) if cat.facet(doc)[1:3] == ("tfhub", "model")]
    assert len(tfhub) == 2730


def test_curated_entry_merges_with_the_snapshot_entry_of_the_same_id() -> None:
    rec = catalog.load().get("torchvision:raft_large.C_T_SKHT_V2")
    assert rec.curated and rec.extra.get("default") is True and rec.extra.get("tv_task") == "optical_flow"
    assert catalog.load().get("torchvision:raft_large").id == "torchvision:raft_large.C_T_SKHT_V2"  # DEFAULT alias


def test_aliases_are_what_the_hubs_declare() -> None:
    # A model's own id names its default variant where its hub's ids name variants (torchvision's
    # weights); the compiled catalog holds what the hubs' declarations give, and only that.
    from zoofind.hubs import registry
    from zoofind.hubs.catalog import aliases

    cat = catalog.load()
    assert aliases(cat.all_records()) == cat.aliases
    assert cat.aliases["torchvision:resnet50"] == "torchvision:resnet50.IMAGENET1K_V2"
    assert {alias.partition(":")[0] for alias in cat.aliases} == {
        s.name for s in registry.specs() if s.variant_of} == {"torchvision"}


BUILT_IN_HUBS = ("hf", "torchvision", "tfhub", "kaggle")


@pytest.mark.parametrize("package", ["catalog", "ops"])
def test_no_built_in_hub_is_named_by_the_catalog_or_the_operations(package: str) -> None:
    """What one hub's ids mean is that hub's declaration (issue 16, "the hub is the unit"):
    no string in the code of these floors is a hub's name or an id of one (docstrings aside).
    ``catalog/frameworks.py`` names the torchvision *library* (a pip package), not the hub."""
    import ast

    found = []
    for path in sorted((ROOT / "src" / "zoofind" / package).rglob("*.py")):
        if path.name == "frameworks.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if node.value in BUILT_IN_HUBS or node.value.startswith(tuple(f"{h}:" for h in BUILT_IN_HUBS)):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert found == []


@pytest.mark.parametrize(
    "text, message",
    [
        (GOOD_RESOURCE.replace('reliability = "inferred"', 'reliability = "inferred"\ncolour = "red"'), "unknown key 'colour'"),
        (GOOD_RESOURCE.replace('name = "My lab notes"\n', ""), "missing required field 'name'"),
        (GOOD_RESOURCE + GOOD_RESOURCE, "duplicate id 'catalog:my-notes'"),
        (GOOD_RESOURCE.replace("https://example.org/notes", "ftp://example.org/notes"), "bad url"),
        (GOOD_RESOURCE.replace('"tutorial"', '"blogpost"'), "unknown resource_type 'blogpost'"),
        (GOOD_RESOURCE.replace('"inferred"', '"rumour"'), "unknown reliability 'rumour'"),
        (GOOD_RESOURCE.replace('kind = "resource"', 'kind = "notebook"'), "unknown kind 'notebook'"),
        (GOOD_RESOURCE.replace("catalog:my-notes", "catalog:My Notes"), "malformed catalog id"),
        (GOOD_RESOURCE + 'frameworks = ["pytorch", "caffe"]\n', "unknown framework 'caffe'"),
        (GOOD_RESOURCE + 'libraries = ["nope"]\n', "unknown library 'nope'"),
        (GOOD_RESOURCE + 'tags = "not-a-list"\n', "'tags' must be a list of strings"),
        ("[[entry]\nid = ", "not valid TOML"),
        (GOOD_RESOURCE + 'paper = { doi = "doi:10.1038/x" }\n', "bad paper.doi 'doi:10.1038/x'"),
        (GOOD_RESOURCE + 'paper = { arxiv = "arXiv:2401.00096" }\n', "bad paper.arxiv 'arXiv:2401.00096'"),
        (GOOD_RESOURCE + 'paper = { doi = "10.1/x", journal = "Nature" }\n', "unknown key 'journal' in 'paper'"),
        (GOOD_RESOURCE + 'paper = { title = "A title" }\n', "'paper' needs a 'doi' or an 'arxiv' id"),
        (GOOD_RESOURCE + 'paper = { arxiv = "2401.00096", year = "2024" }\n', "'paper.year' must be a integer"),
        (GOOD_RESOURCE + 'paper = { arxiv = "2401.00096", authors = "A. Person" }\n', "'paper.authors' must be a list"),
        (GOOD_RESOURCE + 'paper = "10.1038/x"\n', "'paper' must be a table"),
        (GOOD_RESOURCE + 'paper = { none = "a course", doi = "10.1/x" }\n', "'paper.none' says no paper is published: drop doi"),
        (GOOD_RESOURCE + 'paper = { none = true }\n', "'paper.none' must be a string"),
    ],
)
def test_validator_names_file_and_entry(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "mine.toml", text)
    with pytest.raises(CatalogError) as exc:
        compile_dir(tmp_path)
    assert message in exc.value.message
    assert "mine.toml" in exc.value.message
    if "TOML" not in message:
        assert "entry 1" in exc.value.message or "entry 2" in exc.value.message


def test_user_catalog_dir_adds_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "extra", "lab.toml", GOOD_RESOURCE.replace("My lab notes", "Cryo-EM denoising notes") + 'tags = ["cryo-em"]\n')
    monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(tmp_path / "extra"))
    catalog.reset()
    from zoofind.core.context import Context
    from zoofind.hubs import SearchQuery
    from zoofind.ops.find import search

    assert [h.record.id for h in search(SearchQuery(text="cryo-em"), Context.from_env(offline=True)).hits][:1] == ["catalog:my-notes"]


def test_damaged_compiled_catalog_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "catalog.json"
    broken.write_text("{not json", encoding="utf-8")
    from zoofind.catalog import store

    monkeypatch.setattr(store, "COMPILED_PATH", broken)
    catalog.reset()
    with pytest.raises(CatalogError) as exc:
        catalog.load()
    assert "damaged" in exc.value.message and "reinstall" in (exc.value.hint or "")


def test_records_round_trip_through_json() -> None:
    rec = catalog.load().get("hf:facebook/esm2_t6_8M_UR50D")
    data = json.loads(json.dumps(rec.to_dict()))
    assert type(rec).from_dict(data) == rec


SCIENCE_FIELDS = {
    "microscopy": 4, "medical imaging": 4, "materials": 8, "weather & climate": 2, "astronomy": 3,
    "single-cell biology": 1, "neuroscience": 1, "particle physics": 1,
}


def test_science_entries_carry_evidence_a_library_and_a_paper() -> None:
    meta: dict = {}
    records = {r.id: r for r in compile_files([CATALOG / "science.toml"], metas=meta)}
    assert meta["science"]["layer"] == "curated"
    models = [r for r in records.values() if r.kind == "model"]
    for field, least in SCIENCE_FIELDS.items():
        assert sum(field in r.domains for r in models) >= least, field
    for r in records.values():
        assert r.reliability in ("verified_primary", "verified_usage") and r.evidence, r.id
        assert r.notes and (r.libraries or "Library" in r.notes), r.id  # the loading library, or why not
        paper = r.extra.get("paper")
        # The MONAI bundles name no paper of their own; every other entry says what to cite.
        assert paper and (paper.get("doi") or paper.get("arxiv")) or r.id.startswith("hf:MONAI/"), r.id
        if r.id.startswith("catalog:") and r.kind == "model":
            # Not pullable by zoofind: the notes must say how the weights are obtained.
            assert any(w in r.notes for w in ("download", "fetched", "ship", "Drive", "bucket", "Files in")), r.id


def test_a_science_id_that_merges_with_the_tfhub_snapshot_keeps_both_sides() -> None:
    enformer = catalog.load().get("tfhub:deepmind/enformer/1")
    assert enformer is not None and enformer.curated
    assert "genomics" in enformer.domains and "text-language-model" in enformer.tasks  # curated + snapshot
    assert enformer.extra["paper"]["doi"] == "10.1038/s41592-021-01252-x"


def test_info_shows_the_paper_in_text_and_json(cli) -> None:
    ran = cli("info", "catalog:chgnet", "--offline", "-f", "tsv")
    assert ran.code == 0, ran.stderr
    # Said once, as the citation (key and one line), not also as the raw table.
    assert not any(x.startswith("paper\t") for x in ran.stdout.splitlines())
    line = next(x for x in ran.stdout.splitlines() if x.startswith("cite as\t"))
    assert line.startswith("cite as\tdeng2023chgnet: Deng B,")
    assert "https://doi.org/10.1038/s42256-023-00716-3" in line and "Nature Machine Intelligence" in line
    ran = cli("info", "hf:mouseland/cellpose-sam", "--offline", "--json")
    assert ran.code == 0, ran.stderr
    paper = json.loads(ran.stdout)["record"]["extra"]["paper"]
    assert paper["doi"] == "10.1101/2025.04.28.651001" and paper["authors"][0] == "Marius Pachitariu"
    assert ran.stderr == ""


# -- papers: every curated entry says what to cite, or that nothing is published ------------------

MARKED = GOOD_RESOURCE + 'paper = { none = "a lab wiki, never published", evidence = "https://example.org/notes/about" }\n'
CITED = GOOD_RESOURCE.replace("catalog:my-notes", "catalog:my-method") + (
    'paper = { doi = "10.1038/s41592-020-01018-x", title = "Cellpose: a generalist algorithm for cellular segmentation", '
    'authors = ["Carsen Stringer", "Tim Wang"], venue = "Nature Methods", year = 2021, '
    'evidence = "https://github.com/MouseLand/cellpose (README, citation)" }\n')


@pytest.fixture
def marked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "lab"
    write(folder, "lab.toml", MARKED + CITED)
    monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(folder))
    return folder


def test_the_none_marker_and_a_papers_evidence_are_valid(tmp_path: Path) -> None:
    write(tmp_path, "lab.toml", MARKED + CITED)
    records = {r.id: r for r in compile_dir(tmp_path)}
    assert records["catalog:my-notes"].extra["paper"]["none"] == "a lab wiki, never published"
    assert records["catalog:my-method"].extra["paper"]["evidence"].startswith("https://github.com/MouseLand")


def test_info_shows_the_catalogs_citation_in_text_and_json(cli, marked) -> None:
    r = cli("info", "catalog:my-method", "--offline")
    assert r.code == 0, r.stderr
    line = "stringer2021cellpose: Stringer C, Wang T (2021). Cellpose: a generalist algorithm for cellular segmentation."
    assert line in " ".join(r.stdout.split())
    body = json.loads(cli("info", "catalog:my-method", "--offline", "--format", "json").stdout)
    assert body["citation"] == {"key": "stringer2021cellpose", "text": (
        "Stringer C, Wang T (2021). Cellpose: a generalist algorithm for cellular segmentation. Nature Methods. "
        "https://doi.org/10.1038/s41592-020-01018-x")}
    # The key is the one `cite` gives.
    assert "@article{stringer2021cellpose," in cli("cite", "catalog:my-method", "--offline").stdout


def test_info_of_an_entry_with_no_published_paper_has_no_citation(cli, marked) -> None:
    body = json.loads(cli("info", "catalog:my-notes", "--offline", "--format", "json").stdout)
    assert body["citation"] is None
    assert body["record"]["extra"]["paper"]["none"] == "a lab wiki, never published"


def test_cite_of_a_marked_entry_says_the_catalog_records_none(cli, marked) -> None:
    r = cli("cite", "catalog:my-notes", "--offline")
    assert r.code == 0, r.stderr
    assert "@misc{my_notes," in r.stdout and "author" not in r.stdout
    assert "the catalog records that no paper is published (a lab wiki, never published)" in r.stderr
    assert "no paper known" not in r.stderr


#: Curated entries whose paper (or "none published" marker) is not yet checked and recorded. This list
#: only shrinks: an entry given its paper must leave it (the test below fails both ways), and a new
#: curated entry must come with its paper or the marker.
PAPERS_TO_CHECK: frozenset[str] = frozenset()


def test_every_curated_entry_has_a_paper_or_the_none_marker() -> None:
    lacking = set()
    for name in ("models.toml", "resources.toml", "science.toml", "datasets.toml"):
        meta: dict = {}
        for r in compile_files([CATALOG / name], metas=meta):
            paper = r.extra.get("paper")
            assert paper is None or paper.get("none") or paper.get("doi") or paper.get("arxiv"), r.id
            if paper is None:
                lacking.add(r.id)
    layers = {n: tomllib.loads((CATALOG / n).read_text(encoding="utf-8"))["meta"]["layer"] for n in
              ("models.toml", "resources.toml", "science.toml", "datasets.toml")}
    assert set(layers.values()) == {"curated"}
    assert lacking - PAPERS_TO_CHECK == set(), "curated entries with neither a paper nor paper = { none = ... }"
    assert PAPERS_TO_CHECK - lacking == set(), "these now have a paper or the marker: take them off PAPERS_TO_CHECK"


def test_no_other_catalog_file_is_curated() -> None:
    curated = {p.name for p in CATALOG.glob("*.toml")
               if tomllib.loads(p.read_text(encoding="utf-8"))["meta"]["layer"] == "curated"}
    assert curated == {"models.toml", "resources.toml", "science.toml", "datasets.toml"}
