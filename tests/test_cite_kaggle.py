"""`zoofind cite` of a Kaggle model: the BibTeX of its card (the model's description, and the cited
variation's overview and usage, as ``GetModel`` answers them), read from the local Kaggle API
(tests/servers/kaggle_server.py), answer-cached, offline from that cache, with notes when there is
nothing to read. pybtex reads every entry back."""

from __future__ import annotations

import copy
import json

import pytest
from pybtex.database import parse_string
from servers.kaggle_server import KaggleServer

from zoofind.hubs.kaggle.cite import card_of, card_text

SECRET = "tok-good"

DESCRIPTION = """## Overview

A bird classifier. Cite the **paper** below.

## References

```bibtex
@article{ghani2023global,
  title   = {Global birdsong embeddings enable superior transfer learning for bioacoustic classification},
  author  = {Ghani, Burooj and Denton, Tom and Kahl, Stefan and Klinck, Holger},
  journal = {Scientific Reports},
  volume  = {13},
  pages   = {22876},
  year    = {2023},
  doi     = {10.1038/s41598-023-49989-z}
}
```
"""

OVERVIEW = """This variation is the TF2 SavedModel.

```
@inproceedings{hamer2023birb,
  title={{BIRB}: A Generalization Benchmark for Information Retrieval in Bioacoustics},
  author={Hamer, Jenny and Triantafillou, Eleni and van Merri{\\"e}nboer, Bart},
  booktitle={arXiv preprint},
  year={2023},
  eprint={2312.07439},
  archivePrefix={arXiv}
}
```
"""


@pytest.fixture
def kaggle(monkeypatch):
    with KaggleServer(token=SECRET) as server:
        base = next(m for m in server.models if m["slug"] == "bird-vocalization-classifier")
        cited = copy.deepcopy(base)
        cited["description"] = DESCRIPTION
        cited["instances"][0]["overview"] = OVERVIEW
        broken = copy.deepcopy(base)
        broken.update(ref="google/broken-card", slug="broken-card", description="```bibtex\n@article{x,\n  title = {Open\n```\n")
        bare = copy.deepcopy(base)
        bare.update(ref="google/bare-card", slug="bare-card", description="Just text, no BibTeX.")
        server.models[:] = [cited, broken, bare]
        monkeypatch.setenv("ZOOFIND_KAGGLE_ENDPOINT", server.url)
        monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
        yield server


ID = "kaggle:google/bird-vocalization-classifier/tensorFlow2/bird-vocalization-classifier"


def test_the_cards_bibtex_blocks_are_the_models_references(cli, kaggle) -> None:
    r = cli("cite", ID)
    assert r.code == 0, r.stderr
    entries = parse_string(r.stdout, "bibtex").entries
    assert set(entries) == {"ghani2023global", "hamer2023birb"}
    ghani = entries["ghani2023global"]
    assert (ghani.type, ghani.fields["doi"], ghani.fields["journal"]) == (
        "article", "10.1038/s41598-023-49989-z", "Scientific Reports")
    assert "Source: the model's card" in " ".join(ghani.fields["note"].split())
    assert entries["hamer2023birb"].fields["eprint"] == "2312.07439"
    assert "Merriënboer" in r.stdout  # the card's LaTeX accent, read as the letter it is
    body = json.loads(cli("cite", ID, "--format", "json").stdout)
    assert {ref["source"] for ref in body["references"]} == {"card"}
    assert [c["id"] for c in body["citations"]] == [ID]  # the card is the model's: no revision is added
    assert len(kaggle.calls("GetModel")) == 1  # the second cite was answered by zoofind's answer cache


def test_offline_the_card_comes_from_the_answer_cache_else_a_note(cli, kaggle) -> None:
    first = cli("cite", ID, "--offline")
    assert first.code == 0, first.stderr
    assert "its Kaggle model card is not in zoofind's answer cache, so it was not read offline: drop --offline" \
        in first.stderr
    assert "@misc{" in first.stdout  # cited as the model itself
    assert cli("cite", ID).code == 0
    asked = len(kaggle.requests)
    again = cli("cite", ID, "--offline")
    assert again.code == 0 and "ghani2023global" in again.stdout
    assert len(kaggle.requests) == asked  # zero requests


def test_a_broken_block_or_none_is_a_note_and_the_model_is_cited_as_itself(cli, kaggle) -> None:
    broken = cli("cite", "kaggle:google/broken-card/tensorFlow2/bird-vocalization-classifier")
    assert broken.code == 0, broken.stderr
    assert "does not parse" in broken.stderr and "@misc{" in broken.stdout
    bare = cli("cite", "kaggle:google/bare-card/tensorFlow2/bird-vocalization-classifier")
    assert "its Kaggle model card gives no BibTeX" in bare.stderr


def test_without_credentials_nothing_is_asked_and_the_note_says_what_to_set(cli, kaggle, monkeypatch) -> None:
    monkeypatch.delenv("KAGGLE_API_TOKEN")
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", "/nonexistent")
    r = cli("cite", ID)
    assert r.code == 0, r.stderr
    assert "set KAGGLE_API_TOKEN or KAGGLE_USERNAME/KAGGLE_KEY" in r.stderr
    assert kaggle.requests == []


def test_an_unknown_model_is_not_found_with_no_traceback(cli, kaggle) -> None:
    r = cli("cite", "kaggle:google/nope/tensorFlow2/x")
    assert r.code == 3, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_the_cited_variations_text_comes_first_and_others_are_left_out() -> None:
    card = card_of({"description": "model", "instances": [
        {"framework": "tensorFlow2", "slug": "a", "overview": "mine", "usage": "how"},
        {"framework": "tfLite", "slug": "a", "overview": "not mine"}, "junk"]})
    assert card_text(card, "TensorFlow2", "A") == "mine\n\nhow\n\nmodel"
