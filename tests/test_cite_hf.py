"""`zoofind cite hf:...` reading the BibTeX of a model's own README.md on a local Hub
(tests/servers/hf_server.py): several entries in a block, odd spacing, LaTeX accents, broken braces;
the Hub's arXiv tags as related works only; the card read from the hub cache after a pull with zero
requests (huggingface_hub referees which README that is); offline without it, gated, no card.
pybtex reads every entry back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pybtex.database import parse_string

from servers.hf_server import TEST_TOKEN
from zoofind.hubs.cardbib import arxiv_of, bibtex_blocks, doi_of, references_in, unicode_of
from zoofind.ops.citeformats import bibtex_entry

FOLD = "zoofind-lab/fold-card"
SENT = "zoofind-lab/minilm-card"
BROKEN = "zoofind-lab/broken-card"
BARE = "zoofind-lab/no-card"

# What real cards hold: a Python block with decorators (not BibTeX), a ```bibtex block with two
# entries, odd spacing and line breaks, LaTeX accents and a consortium; a plain ``` block with a
# Google Scholar export; an arXiv id written as a journal.
FOLD_CARD = r"""---
license: mit
tags:
- biology
---
# Fold card

```python
@torch.no_grad()
@dataclass(frozen=True)
def embed(x): ...
```

## Citation

If you use this model, please cite:

```bibtex
@article{ lin2023 ,
  title   = {Evolutionary-scale prediction of atomic-level protein structure
             with a language model},
  author = {Lin, Zeming and M{\"u}ller, J\'{e}r\^ome and {The UniProt Consortium} and others},
  journal={Science},volume={379}, number = 6637,
  pages={1123--1130}, year={2023}, doi={https://doi.org/10.1126/science.ade2574},
  publisher={American Association for the Advancement of Science}
}
@inproceedings{reimers-2019-sentence-bert,
    title = "Sentence-{BERT}: Sentence Embeddings using {S}iamese {BERT}-Networks",
    author = "Reimers, Nils  and
      Gurevych, Iryna",
    booktitle = "Proceedings of the 2019 Conference on Empirical Methods in Natural Language Processing",
    month = "11",
    year = "2019",
    publisher = "Association for Computational Linguistics",
    url = "https://arxiv.org/abs/1908.10084",
}
```

```
@article{wang2020minilm, title={MiniLM: Deep Self-Attention Distillation}, author={Wang, Wenhui and Wei, Furu},
journal={arXiv preprint arXiv:2002.10957}, year={2020}}
```
"""

# all-MiniLM-L6-v2's shape: a card that links dataset papers (the Hub tags them arxiv:) and cites none.
SENT_CARD = """---
language: en
tags:
- sentence-transformers
---
# MiniLM card

Trained on [S2ORC](https://arxiv.org/abs/1911.02782) and [PAQ](https://arxiv.org/abs/2102.07033) pairs.
"""

BROKEN_CARD = r"""# Broken card

```bibtex
@article{doe2021,
  title = {A title whose {brace never closes,
  author = {Doe, Jane},
  year = {2021}
```
"""


def parsed(bib: str):
    return parse_string(bib, "bibtex")


def card_requests(hub) -> list:
    return [r for r in hub.requests if "README.md" in r.path]


@pytest.fixture
def hub(hf_hub):
    hf_hub.add_repo(FOLD, {"config.json": b"{}\n", "README.md": FOLD_CARD.encode()},
                    hub_tags=["transformers", "arxiv:1908.10084", "arxiv:2104.08821"])
    hf_hub.add_repo(SENT, {"config.json": b"{}\n", "README.md": SENT_CARD.encode()},
                    hub_tags=["sentence-transformers", "arxiv:1911.02782", "arxiv:2102.07033", "license:apache-2.0"])
    hf_hub.add_repo(BROKEN, {"config.json": b"{}\n", "README.md": BROKEN_CARD.encode()})
    hf_hub.add_repo(BARE, {"config.json": b"{}\n"})
    return hf_hub


def test_several_entries_with_odd_spacing_and_accents_are_read_and_parse_back(hub, cli) -> None:
    r = cli("cite", f"hf:{FOLD}")
    assert r.code == 0, r.stderr
    db = parsed(r.stdout)
    # zoofind's keys, the card's own ones replaced; the Python block's decorators are no entry.
    assert sorted(db.entries) == ["lin2023evolutionary", "reimers2019sentence", "wang2020minilm"]
    lin = db.entries["lin2023evolutionary"]
    assert lin.type == "article"
    # The accents come back as the same Unicode; a consortium stays one name; "and others" stays.
    assert [str(p) for p in lin.persons["author"]] == ["Lin, Zeming", "Müller, Jérôme", "{The UniProt Consortium}",
                                                       "others"]
    assert lin.fields["title"] == "{Evolutionary-scale prediction of atomic-level protein structure with a language model}"
    assert lin.fields["doi"] == "10.1126/science.ade2574"  # the address form taken off, nothing else changed
    assert (lin.fields["journal"], lin.fields["volume"], lin.fields["number"], lin.fields["pages"], lin.fields["year"]) \
        == ("Science", "379", "6637", "1123--1130", "2023")
    assert "Source: the model's card" in lin.fields["note"]
    commit = hub.repo(FOLD).branches["main"]
    assert f"hf:{FOLD}@{commit}" in lin.fields["note"]  # the commit the card was read at (X-Repo-Commit)
    sbert = db.entries["reimers2019sentence"]
    assert sbert.type == "inproceedings" and sbert.fields["booktitle"].startswith("Proceedings of the 2019")
    assert sbert.fields["title"] == "{Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks}"
    assert sbert.fields["eprint"] == "1908.10084" and sbert.fields["month"] == "11"
    assert db.entries["wang2020minilm"].fields["eprint"] == "2002.10957"
    # arxiv:1908.10084 is a tag and a cited entry: one work, a reference; the other tag is only related.
    body = json.loads(cli("cite", f"hf:{FOLD}", "--format", "json").stdout)
    assert [x["key"] for x in body["related"]] == ["arxiv210408821"]
    assert body["citations"][0]["revision"] == commit
    assert "no paper known" not in r.stderr


def test_a_card_that_cites_nothing_gives_its_arxiv_tags_as_related_only(hub, cli) -> None:
    r = cli("cite", f"hf:{SENT}")
    assert r.code == 0, r.stderr
    commit = hub.repo(SENT).branches["main"]
    assert list(parsed(r.stdout).entries) == ["zoofind_lab_minilm_card"]  # cited as itself, at the commit read
    entry = parsed(r.stdout).entries["zoofind_lab_minilm_card"]
    assert entry.type == "misc" and entry.fields["version"] == commit
    assert "gives no BibTeX" in r.stderr and "no paper known" in r.stderr
    with_related = parsed(cli("cite", f"hf:{SENT}", "--related").stdout)
    assert set(with_related.entries) == {"zoofind_lab_minilm_card", "arxiv191102782", "arxiv210207033"}
    assert with_related.entries["arxiv191102782"].fields["eprint"] == "1911.02782"
    body = json.loads(cli("cite", f"hf:{SENT}", "--format", "json").stdout)
    assert body["citations"][0]["related"] == ["arxiv191102782", "arxiv210207033"]
    assert [x["key"] for x in body["references"]] == ["zoofind_lab_minilm_card"]


def test_a_block_that_does_not_parse_falls_back_to_misc_with_a_note(hub, cli) -> None:
    r = cli("cite", f"hf:{BROKEN}")
    assert r.code == 0, r.stderr
    db = parsed(r.stdout)
    assert list(db.entries) == ["zoofind_lab_broken_card"]
    entry = db.entries["zoofind_lab_broken_card"]
    assert entry.type == "misc" and entry.fields["version"] == hub.repo(BROKEN).branches["main"]
    assert "author" not in entry.persons and "year" not in entry.fields  # nothing guessed from the broken block
    assert f"hf:{BROKEN}" in r.stderr and "has a BibTeX block that does not parse" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_repo_without_a_card_says_so(hub, cli) -> None:
    r = cli("cite", f"hf:{BARE}")
    assert r.code == 0, r.stderr
    assert list(parsed(r.stdout).entries) == ["zoofind_lab_no_card"]
    assert "has no README.md" in r.stderr
    assert [x.status for x in card_requests(hub)] == [404]


def test_a_pinned_revision_reads_that_commits_card(hub, cli) -> None:
    first = hub.repo(BROKEN).branches["main"]
    hub.add_repo(BROKEN, {"README.md": FOLD_CARD.encode()})
    now = cli("cite", f"hf:{BROKEN}")
    assert "lin2023evolutionary" in parsed(now.stdout).entries
    then = cli("cite", f"hf:{BROKEN}@{first}")
    assert then.code == 0, then.stderr
    assert list(parsed(then.stdout).entries) == ["zoofind_lab_broken_card"]
    assert parsed(then.stdout).entries["zoofind_lab_broken_card"].fields["version"] == first
    assert any(f"/resolve/{first}/README.md" in r.path for r in card_requests(hub))


def test_two_works_that_share_a_key_stay_two_entries(hub, cli) -> None:
    own = '```bibtex\n@misc{{x, title={{Model {n}: weights}}, author={{G{{\\"o}}del, Kurt}}, year={{2024}}}}\n```\n'
    hub.add_repo("zoofind-lab/one", {"README.md": own.format(n="one").encode()})
    hub.add_repo("zoofind-lab/two", {"README.md": own.format(n="two").encode()})
    r = cli("cite", "hf:zoofind-lab/one", "hf:zoofind-lab/two", "hf:zoofind-lab/one")
    assert r.code == 0, r.stderr
    db = parsed(r.stdout)
    # No DOI or arXiv id: one work is what a reader sees (title, authors, year), not the key alone.
    assert {k: e.fields["title"] for k, e in db.entries.items()} == {
        "godel2024modela": "{Model one: weights}", "godel2024modelb": "{Model two: weights}"}


def test_a_card_read_once_is_not_fetched_again_while_fresh(hub, cli) -> None:
    assert cli("cite", f"hf:{FOLD}").code == 0
    hub.clear()
    again = cli("cite", f"hf:{FOLD}")
    assert again.code == 0 and "lin2023evolutionary" in parsed(again.stdout).entries
    assert hub.requests == []  # the card and the tags both from zoofind's answer cache


def test_a_pulled_card_is_cited_offline_with_zero_requests(hub, cli) -> None:
    assert cli("pull", f"hf:{FOLD}").code == 0
    hub.clear()
    r = cli("cite", f"hf:{FOLD}", "--offline", "--format", "json")
    assert r.code == 0, r.stderr
    assert hub.requests == []
    body = json.loads(r.stdout)
    commit = hub.repo(FOLD).branches["main"]
    assert body["citations"][0]["revision"] == commit
    assert {x["key"] for x in body["references"]} == {"lin2023evolutionary", "reimers2019sentence", "wang2020minilm"}
    # huggingface_hub, offline, resolves the card to the same commit's README, with the entries cite read.
    code = ("import huggingface_hub as h, json\n"
            f"print(json.dumps(h.hf_hub_download({FOLD!r}, 'README.md', local_files_only=True)))")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"})
    assert ran.returncode == 0, ran.stderr
    readme = Path(json.loads(ran.stdout))
    assert readme.parent.name == commit and readme.read_text(encoding="utf-8") == FOLD_CARD


def test_a_card_in_a_shared_root_is_read_offline_without_writing_there(hub, cli, tmp_path: Path) -> None:
    shared = tmp_path / "lab-models"
    assert cli("pull", f"hf:{FOLD}", env={"HF_HOME": str(shared / "huggingface")}).code == 0
    hub.clear()
    before = sorted(p for p in shared.rglob("*"))
    r = cli("cite", f"hf:{FOLD}", "--offline", env={"ZOOFIND_SHARED_CACHE": str(shared)})
    assert r.code == 0, r.stderr
    assert "lin2023evolutionary" in parsed(r.stdout).entries and hub.requests == []
    assert sorted(p for p in shared.rglob("*")) == before


def test_and_others_is_et_al_in_text_and_no_author_in_csl(hub, cli) -> None:
    text = cli("cite", f"hf:{FOLD}", "--format", "text").stdout
    assert "Lin Z, Müller J, The UniProt Consortium, et al. (2023). Evolutionary-scale" in text
    items = json.loads(cli("cite", f"hf:{FOLD}", "--format", "csl-json").stdout)
    lin = next(i for i in items if i["id"] == "lin2023evolutionary")
    assert lin["author"][-1] == {"literal": "The UniProt Consortium"} and lin["source"] == "card"


def test_an_uncached_card_offline_is_misc_with_a_note_and_no_request(hub, cli) -> None:
    r = cli("cite", f"hf:{FOLD}", "--offline")
    assert r.code == 0, r.stderr
    assert list(parsed(r.stdout).entries) == ["zoofind_lab_fold_card"]
    assert "not in this machine's Hugging Face cache" in r.stderr and f"zoofind pull hf:{FOLD}" in r.stderr
    assert hub.requests == []


def test_a_gated_card_without_a_token_is_refused_with_the_usual_hint(hub, cli) -> None:
    gated = "zoofind-lab/gated-card"
    hub.add_repo(gated, {"README.md": FOLD_CARD.encode()}, gated="manual")
    r = cli("cite", f"hf:{gated}")
    assert r.code == 4, (r.stdout, r.stderr)
    assert "gated" in r.stderr and "request access at" in r.stderr and "HF_TOKEN" in r.stderr
    assert r.stdout == "" and "Traceback" not in r.stderr
    hub.granted[gated] = {TEST_TOKEN}
    ok = cli("cite", f"hf:{gated}", env={"HF_TOKEN": TEST_TOKEN})
    assert ok.code == 0, ok.stderr
    assert "lin2023evolutionary" in parsed(ok.stdout).entries
    assert hub.leaks() == [] and TEST_TOKEN not in ok.stdout + ok.stderr


def test_cards_of_a_lock_are_read_from_the_cache_offline(hub, cli, tmp_path: Path) -> None:
    lock = tmp_path / "study.lock"
    ran = cli("lock", f"hf:{FOLD}", f"hf:{SENT}", "-o", str(lock))
    assert ran.code == 0, ran.stderr
    assert cli("pull", "--lock", str(lock)).code == 0
    hub.clear()
    r = cli("cite", "--lock", str(lock), "--offline")
    assert r.code == 0, r.stderr
    assert hub.requests == []
    assert {"lin2023evolutionary", "zoofind_lab_minilm_card"} <= set(parsed(r.stdout).entries)


# -- the card reader's pieces ---------------------------------------------------------------------

ENTRY = "@misc{k, title={T}}"


@pytest.mark.parametrize(("card", "blocks"), [
    (f"```bibtex\n{ENTRY}\n```", 1),
    (f"```BibTeX title=\"cite\"\n{ENTRY}\n```", 1),
    (f"~~~bib\n{ENTRY}\n~~~", 1),
    (f"   ```tex\n{ENTRY}\n   ```", 1),  # indented up to three spaces: still a fence
    (f"````\n```bibtex\n{ENTRY}\n```\n````", 1),  # a longer fence holds a shorter one whole
    (f"```latex\n{ENTRY}\n", 1),  # never closed: runs to the card's end
    (f"```\n{ENTRY}\n```\n\n```bibtex\n{ENTRY}\n```", 2),
    (f"```json\n{ENTRY}\n```", 0),  # another language
    (f"{ENTRY}\n", 0),  # not in a block
    ("```python\n@dataclass(frozen=True)\n@torch.no_grad()\ndef f(): ...\n```", 0),
    ("```\n@decorator(x={1: 2})\nclass A: ...\n```", 0),
    ("```\ncontact me @ home{, please}\n```", 0),
])
def test_bibtex_blocks_are_the_fenced_ones_that_open_an_entry(card: str, blocks: int) -> None:
    assert len(bibtex_blocks(card)) == blocks


@pytest.mark.parametrize(("latex", "text"), [
    (r"M{\"u}ller", "Müller"), (r"J\'{e}r\^ome", "Jérôme"), (r"Gr\"{o}\ss{}e", "Größe"), (r"\v{S}koda", "Škoda"),
    (r"Na\"{\i}ve", "Naïve"), (r"{\o}ystein", "øystein"), (r"Sentence-{BERT}", "Sentence-BERT"),
    (r"\emph{Deep} Learning \& Co", "Deep Learning & Co"), (r"50\% of   data", "50% of data"),
])
def test_latex_becomes_unicode(latex: str, text: str) -> None:
    assert unicode_of(latex) == text


@pytest.mark.parametrize(("value", "doi"), [
    ("10.1126/science.ade2574", "10.1126/science.ade2574"), ("https://doi.org/10.1038/x_1", "10.1038/x_1"),
    ("doi:10.1038/x", "10.1038/x"), (r"10.1000/a\_b", "10.1000/a_b"), ("not a doi", None), ("", None),
])
def test_a_doi_only_when_it_is_one(value: str, doi: str | None) -> None:
    assert doi_of(value) == doi


@pytest.mark.parametrize(("fields", "arxiv"), [
    ({"eprint": "2002.10957", "archiveprefix": "arXiv"}, "2002.10957"),
    ({"eprint": "arXiv:2002.10957v2"}, "2002.10957v2"),
    ({"eprint": "hep-th/9901001"}, "hep-th/9901001"),
    ({"eprint": "2002.10957", "archiveprefix": "HAL"}, None),
    ({"journal": "arXiv preprint arXiv:1908.10084"}, "1908.10084"),
    ({"url": "https://arxiv.org/pdf/2104.08821"}, "2104.08821"),
    ({"journal": "Science"}, None),
])
def test_an_arxiv_id_where_the_entry_gives_one(fields: dict, arxiv: str | None) -> None:
    assert arxiv_of(fields) == arxiv


def test_years_are_never_guessed_and_empty_entries_are_said() -> None:
    refs, notes = references_in("```bibtex\n@misc{a, title={A}, year={2023a}}\n@misc{b, title={B}, year = {c. 2020}}\n"
                                "@misc{c, title={C}, year = 2021}\n@misc{d, author={Nobody, N}}\n```")
    assert [(r.title, r.year) for r in refs] == [("A", None), ("B", None), ("C", 2021)]
    assert notes == ("its card's entry 'd' names no title, DOI or arXiv id: left out",)


def test_one_broken_block_among_good_ones_costs_only_itself() -> None:
    refs, notes = references_in(f"```bibtex\n{ENTRY}\n```\n```bib\n@misc{{x, title={{open}}\n```")
    assert [r.title for r in refs] == ["T"]
    assert len(notes) == 1 and notes[0].startswith("its card has BibTeX block 2 of 2 that does not parse: ")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["title", "author", "journal", "booktitle", "pages", "doi", "eprint", "year", "url"]),
       st.text(max_size=80))
def test_whatever_a_field_holds_the_entry_written_parses_back(field: str, value: str) -> None:
    for card in ("```bibtex\n@article{k, title={T}, " + field + "={" + value + "}}\n```",
                 "```bibtex\n@article{k, title={T}, " + field + '="' + value + '"}\n```'):
        refs, notes = references_in(card)  # never raises: a block pybtex refuses is a note
        assert len(refs) + len(notes) >= 1
        for ref in refs:
            (entry,) = parsed(bibtex_entry(ref)).entries.values()
            assert entry.fields["note"]
