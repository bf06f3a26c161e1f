"""What zoofind prints agrees with what happened: a repo the Hub no longer has is said to be gone,
a word a user entry contains is not called unknown, `-s catalog` means what `sources` counts,
and `-s hf` with the Hub down says where its rows come from. All through the real CLI, against
a local Hub (tests/servers/hf_server.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from servers.hf_server import HubServer

ESM = "hf:facebook/esm2_t6_8M_UR50D"


@pytest.fixture
def empty_hub(monkeypatch: pytest.MonkeyPatch):
    """A Hub that holds no model at all: every catalog model's repo 'no longer exists' there."""
    with HubServer(models=[]) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        yield hub


# -- info: a deleted repo is news, not silence -------------------------------------------------------


def test_info_on_a_catalog_model_the_hub_no_longer_has_warns(cli, empty_hub) -> None:
    r = cli("info", ESM)
    assert r.code == 0, r.stderr  # the catalog entry is still worth showing
    assert "warning:" in r.stderr and f"says {ESM} does not exist" in r.stderr and "may be out of date" in r.stderr
    assert r.stdout.startswith(f"id\t{ESM}\n")


def test_info_json_carries_the_same_warning(cli, empty_hub) -> None:
    body = json.loads(cli("info", ESM, "--json").stdout)
    assert body["record"]["id"] == ESM
    assert len(body["warnings"]) == 1 and "does not exist" in body["warnings"][0]


def test_info_on_a_model_the_hub_has_does_not_warn(cli, hf_hub) -> None:
    r = cli("info", ESM, "--json")
    assert r.code == 0 and r.stderr == "" and json.loads(r.stdout)["warnings"] == []


# -- words only your catalog knows -----------------------------------------------------------------


@pytest.fixture
def zebrafish_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "lab"
    folder.mkdir()
    (folder / "lab.toml").write_text(
        '[meta]\nlayer = "curated"\n\n[[entry]]\nid = "hf:zlab/zebrafish-embryo-seg"\nkind = "model"\n'
        'name = "Zebrafish embryo segmenter"\ndomains = ["developmental biology"]\nreliability = "inferred"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(folder))
    return folder


def test_a_word_only_a_user_entry_has_is_not_called_unknown(cli, zebrafish_catalog) -> None:
    r = cli("search", "zebrafish", "--offline")
    assert r.code == 0 and r.stdout.split("\t")[0] == "hf:zlab/zebrafish-embryo-seg"
    assert "nothing in the catalog mentions" not in r.stderr and "read 'zebrafish' as" not in r.stderr


def test_json_agrees_no_unknown_words_no_readings(cli, zebrafish_catalog) -> None:
    body = json.loads(cli("search", "zebrafish embryo", "--offline", "--json").stdout)
    assert body["results"][0]["id"] == "hf:zlab/zebrafish-embryo-seg"
    assert body["query"]["unknown_words"] == [] and "zebrafish" not in body["query"]["read_as"]


def test_a_user_entry_that_does_not_say_the_word_is_not_a_match(cli, zebrafish_catalog) -> None:
    r = cli("search", "optical flow", "--offline", "--format", "ids", "-n", "500")
    assert r.code == 0 and "hf:zlab/zebrafish-embryo-seg" not in r.stdout.split()


def test_a_word_nothing_has_is_still_reported(cli, zebrafish_catalog) -> None:
    body = json.loads(cli("search", "zebrafish qqqqxz", "--offline", "--json").stdout)
    assert body["query"]["unknown_words"] == ["qqqqxz"]


# -- -s catalog: every catalog entry, as `sources` counts them -----------------------------------


def test_source_catalog_is_every_record_sources_counts(cli) -> None:
    sources = json.loads(cli("sources", "--offline", "--json").stdout)["sources"]
    counted = int({s["name"]: s for s in sources}["catalog"]["details"]["records"])
    r = cli("search", "--source", "catalog", "--offline", "--format", "ids", "-n", "100000")
    ids = r.stdout.split()
    assert r.code == 0 and len(ids) == counted
    assert {i.partition(":")[0] for i in ids} >= {"catalog", "hf", "torchvision", "tfhub"}


def test_source_catalog_with_a_query_ranks_every_kind_of_entry(cli) -> None:
    r = cli("search", "optical flow", "-s", "catalog", "--offline", "-n", "1")
    assert r.stdout.startswith("torchvision:raft_large.C_T_SKHT_V2\t")


def test_help_and_sources_say_what_catalog_means(cli) -> None:
    shown = cli("search", "--help", env={"COLUMNS": "400"}).stdout.replace("│", " ")  # the help is drawn in boxes
    assert "or catalog (every catalog entry, whatever its id, without the network)" in " ".join(shown.split())
    title = {s["name"]: s for s in json.loads(cli("sources", "--offline", "--json").stdout)["sources"]}["catalog"]["title"]
    assert "every entry it holds, any id prefix" in title


def test_source_hf_offline_is_the_catalogs_hf_entries(cli) -> None:
    ids = cli("search", "esm2", "-s", "hf", "--offline", "--format", "ids").stdout.split()
    assert ids and all(i.startswith("hf:") for i in ids)


# -- -s hf with the Hub down ----------------------------------------------------------------------------


def test_source_hf_with_the_hub_down_prints_no_rows_and_fails(cli, hf_hub) -> None:
    hf_hub.fail_status = 503
    r = cli("search", "esm2", "-s", "hf")
    assert r.code == 1 and r.stdout == ""  # no catalog rows passed off as the Hub's answer
    assert "every requested source failed (hf: " in r.stderr and "HTTP 503" in r.stderr
    assert "use --offline to see the catalog's 5 matching entries" in r.stderr and "Traceback" not in r.stderr


def test_source_hf_with_the_hub_down_json_has_the_statuses_and_no_results(cli, hf_hub) -> None:
    hf_hub.fail_status = 503
    r = cli("search", "esm2", "-s", "hf", "--json")
    body = json.loads(r.stdout)
    status = {s["name"]: s for s in body["sources"]}
    assert r.code == 1 and body["results"] == [] and body["total"] == 0
    assert status["hf"]["status"] == "error" and "503" in status["hf"]["message"]


def test_source_hf_with_the_hub_down_and_nothing_in_the_catalog_fails_the_same(cli, hf_hub) -> None:
    hf_hub.fail_status = 503
    r = cli("search", "qqqqxz", "-s", "hf")
    assert r.code == 1 and r.stdout == ""
    assert "every requested source failed (hf:" in r.stderr and "hint: retry, raise --timeout, or use --offline\n" in r.stderr


def test_the_catalog_with_the_hub_down_still_answers(cli, hf_hub) -> None:
    hf_hub.fail_status = 503
    r = cli("search", "esm2", "-s", "catalog", "-s", "hf")
    # the bundled catalog's ESM-2 entries (KerasHub's ESM-2 presets score a hair above the curated hf: ones)
    assert r.code == 0 and "\nhf:facebook/esm2_t6_8M_UR50D\t" in r.stdout
    assert "source hf failed" in r.stderr
