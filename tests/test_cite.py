"""`zoofind cite`, as the README's "Citing what you used" shows it: the papers of the models a study
used (from the catalog's checked `paper` tables), de-duplicated, with stable keys; a model with no
known paper cited as itself, never with an invented author or year. pybtex, a real BibTeX parser,
reads every entry back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pybtex.database import parse_string

from zoofind.models.cite import FROM_CATALOG, FROM_NOTHING, Author
from zoofind.models.records import Record
from zoofind.ops.cite import author_of, from_paper, key_for
from zoofind.ops.citeformats import bibtex_entry, escape

PAPERS = """
[meta]
layer = "curated"
description = "two sizes of one model family, a preprint, and a title that tries to break BibTeX"

[[entry]]
id = "hf:lab/fold-small"
kind = "model"
name = "Fold small"
reliability = "verified_primary"
paper = { doi = "10.1126/science.ade2574", title = "Evolutionary-scale prediction of atomic-level protein structure with a language model", authors = ["Zeming Lin", "Halil Akin", "Roshan Rao"], venue = "Science", year = 2023 }

[[entry]]
id = "hf:lab/fold-large"
kind = "model"
name = "Fold large"
reliability = "verified_primary"
paper = { doi = "10.1126/SCIENCE.ADE2574", title = "Evolutionary-scale prediction of atomic-level protein structure with a language model", authors = ["Zeming Lin"], venue = "Science", year = 2023 }

[[entry]]
id = "hf:lab/odd"
kind = "model"
name = "Odd"
reliability = "verified_primary"
paper = { arxiv = "2401.00096v2", title = "100% {unbalanced} & co_author's $model\\\\ #1 ~ ^x", authors = ["Müller, Jürgen", "{The Odd Consortium}"], year = 2024 }
"""


@pytest.fixture
def papers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "papers.toml").write_text(PAPERS, encoding="utf-8")
    monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(folder))
    return folder


def parsed(bib: str):
    return parse_string(bib, "bibtex")


def test_two_models_of_one_paper_give_one_entry_cited_for_both(cli, papers) -> None:
    r = cli("cite", "hf:lab/fold-small", "hf:lab/fold-large", "--offline")
    assert r.code == 0, r.stderr
    db = parsed(r.stdout)
    assert list(db.entries) == ["lin2023evolutionary"]
    entry = db.entries["lin2023evolutionary"]
    assert entry.type == "article"
    assert entry.fields["doi"] == "10.1126/science.ade2574" and entry.fields["journal"] == "Science"
    assert [str(p) for p in entry.persons["author"]] == ["Lin, Zeming", "Akin, Halil", "Rao, Roshan"]
    assert "hf:lab/fold-small" in entry.fields["note"] and "hf:lab/fold-large" in entry.fields["note"]
    assert r.stderr == ""


def test_keys_and_output_are_the_same_on_every_run_and_in_any_order(cli, papers) -> None:
    first = cli("cite", "hf:lab/odd", "hf:lab/fold-small", "--offline").stdout
    again = cli("cite", "hf:lab/odd", "hf:lab/fold-small", "--offline").stdout
    reversed_ = cli("cite", "hf:lab/fold-small", "hf:lab/odd", "--offline").stdout
    assert first == again
    assert set(parsed(first).entries) == set(parsed(reversed_).entries) == {"lin2023evolutionary", "muller2024100"}


def test_latex_specials_and_unbalanced_braces_in_a_title_still_parse(cli, papers) -> None:
    r = cli("cite", "hf:lab/odd", "--offline")
    assert r.code == 0, r.stderr
    entry = parsed(r.stdout).entries["muller2024100"]
    assert entry.type == "misc"  # a preprint with no venue
    assert entry.fields["eprint"] == "2401.00096v2" and entry.fields["archiveprefix"] == "arXiv"
    title = entry.fields["title"]
    for escaped in (r"\%", r"\textbraceleft{}", r"\textbraceright{}", r"\&", r"\_", r"\$", r"\#", r"\textbackslash{}"):
        assert escaped in title
    # A consortium stays one name (braced), a "Family, Given" name keeps its parts.
    assert [str(p) for p in entry.persons["author"]] == ["Müller, Jürgen", "{The Odd Consortium}"]


def test_a_model_with_no_known_paper_is_cited_as_itself_and_says_so(cli, papers) -> None:
    r = cli("cite", "hf:someone/unknown@0123456789abcdef0123456789abcdef01234567", "--offline")
    assert r.code == 0, r.stderr
    entry = parsed(r.stdout).entries["someone_unknown"]
    assert entry.type == "misc"
    assert entry.fields["url"] == "https://huggingface.co/someone/unknown"
    assert entry.fields["version"] == "0123456789abcdef0123456789abcdef01234567"
    assert "urldate" in entry.fields
    # Nothing invented.
    assert "author" not in entry.persons and "year" not in entry.fields
    assert "no paper known" in r.stderr and r.stderr.startswith("zoofind: ")


def test_csl_json_is_an_array_with_each_references_source(cli, papers) -> None:
    r = cli("cite", "hf:lab/fold-small", "hf:someone/unknown", "--offline", "--format", "csl-json")
    assert r.code == 0, r.stderr
    items = json.loads(r.stdout)
    assert [(i["id"], i["source"], i["type"]) for i in items] == [
        ("lin2023evolutionary", FROM_CATALOG, "article-journal"), ("someone_unknown", FROM_NOTHING, "software")]
    assert items[0]["DOI"] == "10.1126/science.ade2574" and items[0]["issued"] == {"date-parts": [[2023]]}
    assert items[0]["author"][0] == {"family": "Lin", "given": "Zeming"}


def test_json_says_which_keys_cite_which_id(cli, papers) -> None:
    r = cli("cite", "hf:lab/fold-small", "hf:lab/fold-large", "--offline", "--format", "json")
    body = json.loads(r.stdout)
    assert body["command"] == "cite" and body["schema_version"] == 1
    assert [(c["id"], c["keys"]) for c in body["citations"]] == [
        ("hf:lab/fold-small", ["lin2023evolutionary"]), ("hf:lab/fold-large", ["lin2023evolutionary"])]
    assert len(body["references"]) == 1


def test_text_is_one_reference_a_line(cli, papers) -> None:
    r = cli("cite", "hf:lab/fold-small", "hf:lab/odd", "--offline", "--format", "text")
    lines = r.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Lin Z, Akin H, Rao R (2023). Evolutionary-scale prediction")
    assert lines[0].endswith("https://doi.org/10.1126/science.ade2574")


def test_a_lock_is_cited_at_its_pinned_revisions(cli, papers, tmp_path: Path) -> None:
    lock = tmp_path / "study.lock"
    lock.write_text(
        'schema = 1\nzoofind = "0"\ncreated = 2025-03-04T05:06:07Z\n\n'
        '[[models]]\nid = "hf:someone/unknown"\ncommit = "0123456789abcdef0123456789abcdef01234567"\n'
        '[[models.files]]\npath = "config.json"\nsize = 2\nsha256 = "' + "a" * 64 + '"\nblob = "' + "d" * 40 + '"\n', encoding="utf-8")
    r = cli("cite", "--lock", str(lock), "--offline")
    assert r.code == 0, r.stderr
    entry = parsed(r.stdout).entries["someone_unknown"]
    assert entry.fields["version"] == "0123456789abcdef0123456789abcdef01234567"
    assert entry.fields["urldate"] == "2025-03-04"  # the day the lock was written, not today


def test_methods_names_revisions_and_main_files_and_cites_them(cli, papers, tmp_path: Path) -> None:
    lock = tmp_path / "study.lock"
    lock.write_text(
        'schema = 1\nzoofind = "9.9"\ncreated = 2025-03-04T05:06:07Z\n\n'
        '[[models]]\nid = "hf:lab/fold-small"\ncommit = "' + "c" * 40 + '"\n'
        '[[models.files]]\npath = "config.json"\nsize = 2\nsha256 = "' + "a" * 64 + '"\nblob = "' + "d" * 40 + '"\n'
        '[[models.files]]\npath = "model.safetensors"\nsize = 900\nsha256 = "' + "b" * 64 + '"\nblob = "' + "b" * 64 + '"\n', encoding="utf-8")
    latex = cli("cite", "--lock", str(lock), "--methods", "--offline")
    assert latex.code == 0, latex.stderr
    para = latex.stdout
    assert para.startswith("We used the pretrained model Fold small (hf:lab/fold-small; Hugging Face Hub; revision "
                           + "c" * 40 + "; model.safetensors, SHA-256 " + "b" * 64 + ")~\\cite{lin2023evolutionary}")
    assert "obtained on 2025-03-04 with zoofind 9.9~\\cite{zoofind}" in para
    pandoc = cli("cite", "--lock", str(lock), "--methods", "--offline", "--format", "csl-json").stdout
    assert "[@lin2023evolutionary]" in pandoc and "[@zoofind]" in pandoc
    text = cli("cite", "--lock", str(lock), "--methods", "--offline", "--format", "text").stdout
    assert "(Lin et al. 2023)" in text
    # The references it cites, zoofind's own among them, come from the same call without --methods.
    import zoofind

    report = zoofind.cite(lock=lock, offline=True, with_tool=True)
    assert [r.key for r in report.references] == ["lin2023evolutionary", "zoofind"]
    assert "--methods" not in cli("cite", "hf:lab/odd", "--methods", "--offline").stdout


@pytest.mark.parametrize(("args", "code", "says"), [
    ((), 2, "give ids to cite"),
    (("nope:thing",), 2, "unknown source"),
    (("hf:lab/fold-small", "--format", "ris"), 2, "is not one of"),
    (("--lock", "/nonexistent/study.lock"), 2, "no lock file"),
    (("hf:lab/odd", "--methods"), 2, "--methods describes the models of a lock file"),
    (("--lock", "EMPTY"), 2, "records no models"),
    (("--lock", "MISSPELT"), 2, "unknown key(s) 'model'"),
])
def test_bad_input_says_what_to_do_with_no_traceback(cli, papers, tmp_path: Path, args, code, says) -> None:
    (tmp_path / "EMPTY").write_text("schema = 1\n", encoding="utf-8")
    (tmp_path / "MISSPELT").write_text('schema = 1\n[[model]]\nid = "hf:a/b"\n', encoding="utf-8")
    args = tuple(str(tmp_path / a) if a in ("EMPTY", "MISSPELT") else a for a in args)
    r = cli("cite", *args, "--offline")
    assert r.code == code, (r.stdout, r.stderr)
    assert says in r.stderr and "Traceback" not in r.stderr and r.stdout == ""


# -- the pieces ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "author"), [
    ("Zeming Lin", Author("Lin", "Zeming")),
    ("Lin, Zeming", Author("Lin", "Zeming")),
    ("  Carsen   Stringer ", Author("Stringer", "Carsen")),
    ("UniProt", Author("UniProt", "")),
    ("{The UniProt Consortium}", Author("The UniProt Consortium", "")),
])
def test_author_names_in_either_order(name: str, author: Author) -> None:
    assert author_of(name) == author


def test_keys_fold_accents_and_skip_small_words() -> None:
    assert key_for([Author("Weigert", "Martin")], 2018, "Content-aware image restoration", fallback="x") == \
        "weigert2018content"
    assert key_for([Author("Müller")], 2020, "The ÉLAN of cells", fallback="x") == "muller2020elan"
    assert key_for([], None, None, fallback="hf:Org/Model-1") == "hf_org_model_1"


def test_arxiv_versions_are_one_work() -> None:
    a = from_paper({"arxiv": "2401.00096v1", "title": "T"}, cited_for="a")
    b = from_paper({"arxiv": "2401.00096v3", "title": "T"}, cited_for="b")
    assert a.identity == b.identity


@pytest.mark.parametrize("title", ["}{", "\\", "a}b{c", "{{{", "x\ny\tz\x00"])
def test_any_title_gives_a_parseable_entry(title: str) -> None:
    ref = from_paper({"doi": "10.1000/x{y}", "title": title, "authors": ["A B"], "year": 2000}, cited_for="hf:a/b")
    db = parsed(bibtex_entry(ref))
    (entry,) = db.entries.values()
    assert entry.fields["doi"] == "10.1000/x%7By%7D"  # a brace in a verbatim field is percent-encoded
    assert "\n" not in escape(title)


# -- a hub's own cards, through the protocol: a plugin hub cites as a built-in would ------------


@pytest.fixture
def tinyhub_cards(tmp_path: Path, hermetic):
    from servers.files_server import FileServer
    from test_plugin_pull import install

    index = {"models": [
        {"name": "axolotl", "description": "Axolotl stages", "files": [], "links": ["1706.03762", "2401.00096"],
         "citation": {"key": "ignored", "title": "Axolotl limb atlas", "authors": [["Tanaka", "Elly"]], "year": 2021,
                      "venue": "Nature", "doi": "10.1038/axolotl", "volume": "590"}},
        {"name": "newt", "description": "Newt stages", "files": [], "links": ["2401.00096"]},
    ]}
    with FileServer({"/index.json": json.dumps(index).encode()}, missing_status=404) as srv:
        yield srv, {"PYTHONPATH": install(tmp_path), "TINYHUB_ENDPOINT": srv.url}


def test_a_plugin_hubs_card_is_cited_and_its_links_are_only_related(cli, tinyhub_cards) -> None:
    srv, env = tinyhub_cards
    r = cli("cite", "tinyhub:axolotl", "tinyhub:newt", env=env)
    assert r.code == 0, r.stderr
    db = parsed(r.stdout)
    # The card's entry, re-keyed zoofind's way, its own fields kept; newt's card names no paper.
    assert sorted(db.entries) == ["newt", "tanaka2021axolotl"]
    card = db.entries["tanaka2021axolotl"]
    assert card.fields["volume"] == "590" and card.fields["doi"] == "10.1038/axolotl"
    assert "Source: the model's card" in card.fields["note"]
    assert "tinyhub:axolotl@v1" in card.fields["note"]  # the revision the card was read at
    assert "no paper known" in r.stderr and "tinyhub:newt" in r.stderr
    # Linked papers are not the models' references: only with --related, and once each.
    with_related = parsed(cli("cite", "tinyhub:axolotl", "tinyhub:newt", "--related", env=env).stdout)
    assert set(with_related.entries) == {"tanaka2021axolotl", "newt", "arxiv170603762", "arxiv240100096"}
    body = json.loads(cli("cite", "tinyhub:axolotl", "tinyhub:newt", "--format", "json", env=env).stdout)
    assert [c["related"] for c in body["citations"]] == [["arxiv170603762", "arxiv240100096"], ["arxiv240100096"]]
    assert [r["key"] for r in body["related"]] == ["arxiv170603762", "arxiv240100096"]


def test_offline_a_hubs_card_is_not_asked_and_the_note_says_so(cli, tinyhub_cards) -> None:
    srv, env = tinyhub_cards
    r = cli("cite", "tinyhub:axolotl", "--offline", env=env)
    assert r.code == 0, r.stderr
    assert list(parsed(r.stdout).entries) == ["axolotl"]
    assert "not read offline" in r.stderr and "no paper known" in r.stderr
    assert srv.requests == []


# -- what the note says about a catalog paper, and the entry type its venue gives --------------------

NATURE = {"doi": "10.1038/s41592-020-01018-x", "title": "Cellpose", "authors": ["Carsen Stringer"], "venue": "Nature Methods",
          "year": 2021}


def note_of(ref) -> str:
    return " ".join(parsed(bibtex_entry(ref)).entries[ref.key].fields["note"].split())


def test_the_note_says_where_a_papers_own_evidence_read_it() -> None:
    ref = from_paper({**NATURE, "evidence": "references citing it by DOI; not read on the authors' page"}, cited_for="x")
    assert note_of(ref).endswith("Source: the zoofind catalog, read in references citing it by DOI; not read on the "
                                 "authors' page")


@pytest.mark.parametrize(("label", "said"), [
    ("verified_primary", "checked on the owner's page (https://github.com/MouseLand/cellpose)"),
    ("verified_usage", "seen in others' use of the model, not on the owner's page (https://github.com/MouseLand/cellpose)"),
    ("secondary_notes", "from secondary notes, not checked on the owner's page (https://github.com/MouseLand/cellpose)"),
])
def test_without_its_own_evidence_the_note_says_what_the_entrys_label_means(label: str, said: str) -> None:
    record = Record(id="catalog:cellpose", source="catalog", name="Cellpose", kind="model", reliability=label,
                    evidence="https://github.com/MouseLand/cellpose")
    ref = from_paper(NATURE, cited_for="catalog:cellpose", record=record)
    assert note_of(ref) == f"Cited for catalog:cellpose. Source: the zoofind catalog, {said}"
    assert "authors' page" not in note_of(ref)


def test_a_paper_with_no_evidence_and_no_entry_claims_no_check() -> None:
    assert note_of(from_paper(NATURE, cited_for="x")) == "Cited for x. Source: the zoofind catalog"


@pytest.mark.parametrize(("venue", "kind", "field"), [
    ("Nature Methods", "article", "journal"),
    ("EMNLP 2022", "inproceedings", "booktitle"),
    ("ASPLOS '24: 29th ACM International Conference on Architectural Support", "inproceedings", "booktitle"),
    ("Proceedings of the IEEE/CVF Conference on Computer Vision", "inproceedings", "booktitle"),
    ("Zenodo", "misc", "howpublished"),  # its DOI prefix, 10.5281, below
    ("bioRxiv", "misc", "howpublished"),
])
def test_the_venue_gives_the_entry_type(venue: str, kind: str, field: str) -> None:
    doi = "10.5281/zenodo.3828935" if venue == "Zenodo" else NATURE["doi"]
    ref = from_paper({**NATURE, "venue": venue, "doi": doi}, cited_for="x")
    entry = parsed(bibtex_entry(ref)).entries[ref.key]
    assert (ref.kind, entry.type, entry.fields[field]) == (kind, kind, venue)
