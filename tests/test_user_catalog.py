"""Your own catalog entries (ZOOFIND_CATALOG_DIR), as the README and catalog/README.md describe them:
any valid TOML gets through to every output format, a broken file is named with its line,
and loading stays linear in the number of entries."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from user_catalog import write_catalog  # noqa: E402

ZEBRAFISH = """\
[meta]
layer = "curated"
description = "our lab's models"

[[entry]]
id = "hf:zlab/zebrafish-embryo-seg"
kind = "model"
name = "Zebrafish embryo segmenter"
description = "Segments zebrafish embryos in brightfield microscopy."
tasks = ["image-segmentation"]
domains = ["developmental biology"]
frameworks = ["pytorch"]
reliability = "inferred"

[entry.extra]
trained_on = 2024-03-05
checked_at = 2024-03-06T10:30:00Z
local_checked_at = 2024-03-06T10:30:00
daily_run = 07:45:00
best_loss = inf
drift = nan
runs = [{ date = 2024-01-02, loss = 0.5 }, { date = 2024-02-03, loss = 0.25 }]
"""


def strict_json(text: str):
    """json.loads that refuses NaN and Infinity, which are not JSON."""
    def refuse(name: str):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def user_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "my-catalog"
    folder.mkdir()
    (folder / "lab.toml").write_text(ZEBRAFISH, encoding="utf-8")
    monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(folder))
    return folder


# -- every TOML value type reaches JSON ------------------------------------------------------


def test_dates_times_and_infinities_in_extra_print_as_json(cli, user_catalog) -> None:
    r = cli("search", "zebrafish", "--offline", "--json")
    assert r.code == 0, r.stderr
    extra = strict_json(r.stdout)["results"][0]["extra"]
    assert extra["trained_on"] == "2024-03-05"
    assert extra["checked_at"] == "2024-03-06T10:30:00+00:00"
    assert extra["local_checked_at"] == "2024-03-06T10:30:00"
    assert extra["daily_run"] == "07:45:00"
    assert (extra["best_loss"], extra["drift"]) == ("inf", "nan")
    assert extra["runs"] == [{"date": "2024-01-02", "loss": 0.5}, {"date": "2024-02-03", "loss": 0.25}]


def test_jsonl_and_info_json_print_the_same_entry(cli, user_catalog) -> None:
    r = cli("search", "zebrafish", "--offline", "--format", "jsonl")
    assert r.code == 0, r.stderr
    assert strict_json(r.stdout.splitlines()[0])["id"] == "hf:zlab/zebrafish-embryo-seg"
    r = cli("info", "hf:zlab/zebrafish-embryo-seg", "--offline", "--json")
    assert r.code == 0, r.stderr
    assert strict_json(r.stdout)["record"]["extra"]["trained_on"] == "2024-03-05"
    r = cli("info", "hf:zlab/zebrafish-embryo-seg", "--offline", "--format", "tsv")
    assert r.code == 0 and "trained on\t2024-03-05" in r.stdout


# -- broken files: the file, the line, exit 1, no traceback --------------------------------------


def broken(cli, folder: Path, name: str, content: bytes):
    (folder / name).write_bytes(content)
    r = cli("search", "zebrafish", "--offline")
    assert r.code == 1, r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert str(folder / name) in r.stderr
    return r


def test_a_file_that_is_not_utf8_is_named_with_its_line(cli, user_catalog) -> None:
    latin1 = '[meta]\nlayer = "curated"\n\n[[entry]]\nid = "catalog:caf\xe9"\n'.encode("latin-1")
    r = broken(cli, user_catalog, "latin1.toml", latin1)
    assert "not UTF-8" in r.stderr and "byte 0xe9 at line 5, column 18" in r.stderr


def test_a_byte_order_mark_is_named(cli, user_catalog) -> None:
    r = broken(cli, user_catalog, "bom.toml", b"\xef\xbb\xbf" + ZEBRAFISH.replace("zebrafish-embryo-seg", "other").encode())
    assert "byte-order mark" in r.stderr and "without a BOM" in r.stderr


def test_invalid_toml_names_the_line(cli, user_catalog) -> None:
    r = broken(cli, user_catalog, "typo.toml", b'[meta]\nlayer = "curated"\n[[entry]]\nid = "catalog:x\n')
    assert "not valid TOML" in r.stderr and "line 4" in r.stderr


def test_nesting_too_deep_for_the_parser_is_an_error_not_a_crash(cli, user_catalog) -> None:
    deep = b'[meta]\nlayer = "curated"\n[[entry]]\nid = "catalog:deep"\nextra = { x = ' + b"[" * 5000 + b"]" * 5000 + b" }\n"
    r = broken(cli, user_catalog, "deep.toml", deep)
    assert "nest too deeply" in r.stderr


def test_nesting_that_parses_but_is_too_deep_to_print_is_refused(cli, user_catalog) -> None:
    entry = ZEBRAFISH.replace("zebrafish-embryo-seg", "deep").split("[[entry]]")[1].split("[entry.extra]")[0]
    deep = '[meta]\nlayer = "curated"\n[[entry]]' + entry + "extra = { x = " + "[" * 60 + "]" * 60 + " }\n"
    r = broken(cli, user_catalog, "deep.toml", deep.encode())
    assert "lab.toml" not in r.stderr and "deep.toml entry 1 (hf:zlab/deep): 'extra' nests tables or arrays more than 32" in r.stderr


def bundled_count() -> int:
    from zoofind import catalog

    return len(catalog.load())  # ZOOFIND_CATALOG_DIR is not set in this process


# -- size: linear, and the entries found by id --------------------------------------------------


def load_seconds(folder: Path, monkeypatch: pytest.MonkeyPatch) -> float:
    """One load of the files themselves: a fresh cache folder each time."""
    import tempfile

    from zoofind import catalog

    monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(folder))
    monkeypatch.setenv("ZOOFIND_CACHE_DIR", tempfile.mkdtemp(dir=folder.parent))
    catalog.reset()
    started = time.process_time()  # this process's CPU: steadier than wall time on a shared machine
    cat = catalog.load()
    for rec in cat.extras[:: max(1, len(cat.extras) // 500)]:
        assert cat.get(rec.id) is rec
    return time.process_time() - started


def test_loading_is_linear_in_the_number_of_entries(tmp_path, monkeypatch) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    write_catalog(small, 2_000)
    write_catalog(large, 8_000)
    load_seconds(small, monkeypatch)  # warm: imports, the bundled catalog
    # Best of two each: the second load of either finds its words' tokens remembered.
    t_small = min(load_seconds(small, monkeypatch) for _ in range(2))
    t_large = min(load_seconds(large, monkeypatch) for _ in range(2))
    # Linear: 4x the entries, ~4x the time (quadratic was 16x); the margin is for a busy machine.
    assert t_large < 8 * t_small, (t_small, t_large)


def test_a_big_user_catalog_searches_and_counts_every_entry(cli, tmp_path) -> None:
    folder = tmp_path / "big"
    write_catalog(folder, 3_000)
    env = {"ZOOFIND_CATALOG_DIR": str(folder)}
    r = cli("search", "zebrafish embryo", "--offline", "--json", "-n", "5", env=env)
    assert r.code == 0, r.stderr
    body = strict_json(r.stdout)
    assert body["results"] and all("zebrafish" in rec["description"] for rec in body["results"])
    sources = strict_json(cli("sources", "--offline", "--json", env=env).stdout)["sources"]
    details = {s["name"]: s["details"] for s in sources}["catalog"]
    assert int(details["your entries"]) == 3_000 and int(details["records"]) == bundled_count() + 3_000


def test_a_user_entry_with_a_bundled_id_merges_with_it(cli, tmp_path) -> None:
    folder = tmp_path / "override"
    folder.mkdir()
    (folder / "notes.toml").write_text(
        '[meta]\nlayer = "curated"\n\n[[entry]]\nid = "hf:facebook/esm2_t6_8M_UR50D"\nkind = "model"\n'
        'name = "ESM-2 8M, our fork notes"\ntags = ["zfavourite"]\nreliability = "inferred"\n', encoding="utf-8")
    env = {"ZOOFIND_CATALOG_DIR": str(folder)}
    record = strict_json(cli("info", "hf:facebook/esm2_t6_8M_UR50D", "--offline", "--json", env=env).stdout)["record"]
    assert record["name"] == "ESM-2 8M, our fork notes" and "zfavourite" in record["tags"] and "protein" in record["domains"]
    r = cli("search", "zfavourite", "--offline", "--format", "ids", env=env)
    assert r.stdout.split() == ["hf:facebook/esm2_t6_8M_UR50D"]
    details = {s["name"]: s["details"] for s in strict_json(cli("sources", "--offline", "--json", env=env).stdout)["sources"]}
    assert details["catalog"]["records"] == str(bundled_count())  # the same record, not a second one


# -- the compiled form in the cache ------------------------------------------------------------


def cache_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "zoofind-cache" / "user-catalogs").glob("*.jsonl"))


def loaded_without_parsing(monkeypatch: pytest.MonkeyPatch):
    """The catalog loaded again in this process, failing if any TOML file is parsed."""
    import tomllib

    from zoofind import catalog

    catalog.reset()
    with monkeypatch.context() as m:
        m.setattr(tomllib, "loads", lambda *a, **k: pytest.fail("parsed although no file changed"))
        return catalog.load()


def test_an_unchanged_user_catalog_is_read_from_the_cache(tmp_path, monkeypatch) -> None:
    from zoofind import catalog, search

    folder = tmp_path / "cached"
    write_catalog(folder, 2_000)
    monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(folder))
    first = [h.record.id for h in search("zebrafish embryo", offline=True, limit=5).hits]
    assert first and len(cache_files(tmp_path)) == 1
    cat = loaded_without_parsing(monkeypatch)
    assert [h.record.id for h in search("zebrafish embryo", offline=True, limit=5).hits] == first
    # Only what is shown is decoded: the compiled form's point.
    assert len(cat._records) <= 20, len(cat._records)
    assert cat.user_count == 2_000 and len(cat.extras) == 2_000
    catalog.reset()


def test_an_edited_user_catalog_file_is_read_again(cli, tmp_path) -> None:
    folder = tmp_path / "edited"
    folder.mkdir()
    path = folder / "lab.toml"
    path.write_text(ZEBRAFISH, encoding="utf-8")
    env = {"ZOOFIND_CATALOG_DIR": str(folder)}
    assert cli("search", "zebrafish", "--offline", "--format", "ids", env=env).stdout.split() == ["hf:zlab/zebrafish-embryo-seg"]
    [cached] = cache_files(tmp_path)
    before = cached.read_bytes()
    path.write_text(ZEBRAFISH.replace("zebrafish-embryo-seg", "zebrafish-v2"), encoding="utf-8")
    assert cli("search", "zebrafish", "--offline", "--format", "ids", env=env).stdout.split() == ["hf:zlab/zebrafish-v2"]
    assert cache_files(tmp_path) == [cached] and cached.read_bytes() != before  # rebuilt in place
    (folder / "more.toml").write_text(ZEBRAFISH.replace("zebrafish-embryo-seg", "zebrafish-v3"), encoding="utf-8")
    assert cli("search", "zebrafish", "--offline", "--format", "ids", env=env).stdout.split() == ["hf:zlab/zebrafish-v2", "hf:zlab/zebrafish-v3"]
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert cli("search", "zebrafish", "--offline", env=env).code == 1  # a broken file is never served from the cache


def _flip(offset_of: str):
    def damage(data: bytes) -> bytes:
        lines = data.split(b"\n")
        at = {"key": 0, "index": len(lines[0]) + 40, "record": len(data) - 30}[offset_of]
        return data[:at] + bytes([data[at] ^ 0x20]) + data[at + 1:]
    return damage


DAMAGE = {
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "a byte flipped in the key line": _flip("key"),
    "a byte flipped in the index": _flip("index"),
    "a byte flipped in a record": _flip("record"),
    "garbage": lambda data: bytes(range(256)) * 64,
    "another version's file": lambda data: data.replace(b'"version":2', b'"version":1', 1),
    "a JSON file of something else": lambda data: b'{"version": 2, "records": []}\n',
    "the first format's JSON": lambda data: json.dumps({"version": 1, "records": [], "terms": {}}).encode(),
    "nested deeper than JSON can decode": lambda data: b"[" * 100_000 + b"\n",
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_or_foreign_cache_is_a_miss(damage, tmp_path, monkeypatch) -> None:
    from zoofind import catalog, search

    folder = tmp_path / "lab"
    write_catalog(folder, 300)
    monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(folder))
    first = [(h.record.id, h.record.name, h.score) for h in search("zebrafish embryo", offline=True, limit=10).hits]
    [cached] = cache_files(tmp_path)
    good = cached.read_bytes()
    cached.write_bytes(DAMAGE[damage](good))
    catalog.reset()
    assert [(h.record.id, h.record.name, h.score) for h in search("zebrafish embryo", offline=True, limit=10).hits] == first
    assert cached.read_bytes() == good  # compiled again and written whole
    loaded_without_parsing(monkeypatch)
    catalog.reset()


def test_an_unusable_cache_folder_costs_the_compile_and_nothing_else(cli, tmp_path) -> None:
    folder = tmp_path / "lab"
    folder.mkdir()
    (folder / "lab.toml").write_text(ZEBRAFISH, encoding="utf-8")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    env = {"ZOOFIND_CATALOG_DIR": str(folder), "ZOOFIND_CACHE_DIR": str(blocker)}
    r = cli("search", "zebrafish", "--offline", "--format", "ids", env=env)
    assert (r.code, r.stdout.split(), r.stderr) == (0, ["hf:zlab/zebrafish-embryo-seg"], "")


def test_a_missing_home_is_never_created_and_the_search_still_answers(cli, tmp_path, monkeypatch) -> None:
    folder = tmp_path / "lab"
    folder.mkdir()
    (folder / "lab.toml").write_text(ZEBRAFISH, encoding="utf-8")
    home = tmp_path / "gone-home"
    monkeypatch.delenv("ZOOFIND_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    env = {"ZOOFIND_CATALOG_DIR": str(folder), "HOME": str(home)}
    for _ in range(2):
        r = cli("search", "zebrafish", "--offline", "--format", "ids", env=env)
        assert (r.code, r.stdout.split()) == (0, ["hf:zlab/zebrafish-embryo-seg"]), r.stderr
    assert not home.exists()


def test_processes_compiling_at_once_all_answer_and_leave_one_whole_cache(tmp_path, monkeypatch) -> None:
    import os
    import subprocess

    folder = tmp_path / "shared"
    write_catalog(folder, 3_000)
    env = {**os.environ, "ZOOFIND_CATALOG_DIR": str(folder)}
    code = "from zoofind import search; print(' '.join(h.record.id for h in search('coral reef', offline=True, limit=5).hits))"
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    assert len({out for out, _ in outs}) == 1 and outs[0][0].split()
    [cached] = cache_files(tmp_path)
    assert not [f for f in cached.parent.iterdir() if f != cached]  # no temporary file left behind
    monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(folder))
    assert loaded_without_parsing(monkeypatch).user_count == 3_000
    from zoofind import catalog

    catalog.reset()


# -- ranking: what every search computed when it tokenized each entry ----------------------------

OVERRIDES = """\
[meta]
layer = "curated"

[[entry]]
id = "hf:facebook/esm2_t6_8M_UR50D"
kind = "model"
name = "ESM-2 8M, our fork notes"
tags = ["zfavourite", "zebrafish"]
reliability = "inferred"

[[entry]]
id = "torchvision:resnet50.IMAGENET1K_V2"
kind = "model"
name = "ResNet-50 as our lab uses it"
description = "Coral reef segmentation backbone"
domains = ["earth observation"]
reliability = "inferred"

[[entry]]
id = "kaggle:google/gemma/transformers/2b"
kind = "model"
name = "Gemma zebrafish notes"
description = "Protéine language model tried on embryo data"
license = "apache-2.0"
params = 2000000000
reliability = "inferred"
"""

SNAPSHOT = """\
[meta]
layer = "snapshot"

[[entry]]
id = "kaggle:google/gemma/transformers/2b"
kind = "model"
name = "Gemma"
description = "Open weights language model"
tasks = ["text-generation"]
frameworks = ["jax"]
reliability = "generated"
downloadable = false
"""

QUERIES = [
    {"text": "zebrafish embryo segmentation"}, {"text": "coral reef"}, {"text": "protein language model"},
    {"text": "resnet"}, {"text": "segmentaton microscopy"}, {"text": "lab model 12"}, {"text": "esm2"},
    {"text": "zfavourite"}, {"text": "Gemma zebrafish notes"}, {"text": "proteine"}, {"text": "xyzzyq"},
    {"text": "", "domain": "protein"}, {"text": "", "task": "image-segmentation", "limit": 50},
    {"text": "cell", "kind": "resource"}, {"text": "embryo", "source": "catalog"}, {"text": "embryo", "source": "hf"},
    {"text": "model", "framework": "pytorch"}, {"text": "language", "license": "apache"},
    {"text": "zebrafish", "sort": "params"}, {"text": "lineage tracking", "limit": 60},
    {"text": "", "domain": "zebrafish", "sort": "updated", "limit": 30},
]


@pytest.fixture
def mixed_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Generated entries, three overriding bundled ones, and a snapshot layer under one of them."""
    folder = tmp_path / "mixed"
    write_catalog(folder, 1_500)
    (folder / "override.toml").write_text(OVERRIDES, encoding="utf-8")
    (folder / "snap.toml").write_text(SNAPSHOT, encoding="utf-8")
    monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(folder))
    return folder


def answers() -> list:
    from zoofind import catalog, search

    catalog.reset()
    out = []
    for q in QUERIES:
        r = search(offline=True, **q)
        out.append((r.total, [(h.record, h.score) for h in r.hits], r.unknown_words, r.readings))
    catalog.reset()
    return out


def test_results_are_identical_with_and_without_the_compiled_cache(mixed_catalog, tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "no-cache-here"
    blocker.write_text("")
    monkeypatch.setenv("ZOOFIND_CACHE_DIR", str(blocker))
    uncached = answers()  # compiled in memory on every load
    monkeypatch.setenv("ZOOFIND_CACHE_DIR", str(tmp_path / "zoofind-cache"))
    first = answers()  # compiled and written
    assert cache_files(tmp_path)
    from_cache = answers()  # read back
    assert uncached == first == from_cache
    found = {q["text"] or str(q): bool(hits) for q, (_, hits, _, _) in zip(QUERIES, from_cache)}
    assert found.pop("xyzzyq") is False and all(found.values()), found


def test_user_entries_score_as_each_search_scored_them_one_by_one(mixed_catalog) -> None:
    """The prebuilt postings give every user entry the score ``score_fields`` gives its merged
    record, against the bundled index, times its prior, plus the exact-match bonus."""
    from zoofind import catalog, search
    from zoofind.catalog.textindex import QueryTerm, TextIndex, prior
    from zoofind.ops.ranking import EXACT_BONUS, exact

    cat = catalog.load()
    index = TextIndex.from_compiled(cat.index_data)
    user = {rec.id: rec for rec in cat.extras}
    checked = 0
    for q in QUERIES:
        terms = index.parse(q["text"])
        # A word the bundled index does not know is read as itself first in user entries.
        literal = [QueryTerm(t.text, ((t.text, 1.0), *t.expansions)) if t.text not in index.postings and t.expansions[0][0] != t.text
                   else t for t in terms]
        for hit in search(offline=True, **q).hits:
            rec = user.get(hit.record.id)
            if rec is None:
                continue
            want = index.score_fields(vars(rec), literal) * prior(rec.curated, rec.downloadable, rec.extra) if terms else 0.0
            want += EXACT_BONUS if exact(q["text"], rec.id, rec.name) else 0.0
            assert hit.score == want, (q, rec.id)
            assert hit.record == rec
            checked += 1
    assert checked > 100


def test_a_user_entry_overriding_a_bundled_one_is_what_search_returns(mixed_catalog) -> None:
    from zoofind import catalog, search

    bundled = {}
    with pytest.MonkeyPatch.context() as m:
        m.delenv("ZOOFIND_CATALOG_DIR")
        catalog.reset()
        bundled = {rid: catalog.load().get(rid) for rid in ("hf:facebook/esm2_t6_8M_UR50D", "torchvision:resnet50.IMAGENET1K_V2")}
    catalog.reset()
    for rid, words in (("hf:facebook/esm2_t6_8M_UR50D", "esm2 protein"), ("torchvision:resnet50.IMAGENET1K_V2", "resnet50 imagenet")):
        hits = [h.record for h in search(words, offline=True, limit=50).hits if h.record.id == rid]
        assert len(hits) == 1, rid  # one record: the bundled entry is shadowed, not listed beside it
        [rec] = hits
        assert rec.name != bundled[rid].name and rec.name == catalog.load().get(rid).name  # the user's name wins ...
        assert set(bundled[rid].domains) <= set(rec.domains)  # ... over the bundled facts it merged with
    gemma = catalog.load().get("kaggle:google/gemma/transformers/2b")
    # Two layers of the user's own: the curated entry over the snapshot one.
    assert (gemma.name, gemma.tasks, gemma.frameworks, gemma.downloadable) == ("Gemma zebrafish notes", ("text-generation",), ("jax",), False)
    assert [h.record.id for h in search("zfavourite", offline=True).hits] == ["hf:facebook/esm2_t6_8M_UR50D"]
    cat = catalog.load()
    assert cat.total == cat.bundled + cat.user_count - 2


# -- the catalog a call sees is its context's ------------------------------------------------


def lab_entry(folder: Path, slug: str, words: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "lab.toml").write_text(
        f'[meta]\nlayer = "curated"\n\n[[entry]]\nid = "catalog:{slug}"\nkind = "resource"\nname = "{words}"\n'
        f'resource_type = "code"\nurl = "https://example.org/{slug}"\ntags = ["zqxfolder"]\n'
        'reliability = "inferred"\n', encoding="utf-8")


def test_contexts_naming_different_folders_in_one_process_each_see_their_own(tmp_path, monkeypatch) -> None:
    import os

    from zoofind.core.context import Context
    from zoofind.core.errors import NotFoundError
    from zoofind.hubs import SearchQuery
    from zoofind.ops.find import search
    from zoofind.ops.lookup import info

    lab_entry(tmp_path / "a", "lab-a", "Notes of lab A")
    lab_entry(tmp_path / "b", "lab-b", "Notes of lab B")
    monkeypatch.delenv("ZOOFIND_CATALOG_DIR", raising=False)

    def ctx(folder: str | None) -> Context:
        environ = {k: v for k, v in os.environ.items() if k != "ZOOFIND_CATALOG_DIR"}
        return Context.from_env(offline=True, environ={**environ, **({"ZOOFIND_CATALOG_DIR": folder} if folder else {})})

    def found(folder: str | None) -> list[str]:
        return [h.record.id for h in search(SearchQuery(text="zqxfolder"), ctx(folder)).hits]

    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    assert found(a) == ["catalog:lab-a"]
    assert found(b) == ["catalog:lab-b"]
    assert found(None) == []  # the process's own environment names no folder
    assert found(a) == ["catalog:lab-a"]  # the first folder's catalog is still its own
    assert info("catalog:lab-b", ctx(b)).record.name == "Notes of lab B"
    with pytest.raises(NotFoundError):
        info("catalog:lab-b", ctx(a))
    # An edit is seen by the next call in the same process (the files' state is part of the key).
    lab_entry(tmp_path / "a", "lab-a2", "Notes of lab A, second edition")
    assert found(a) == ["catalog:lab-a2"]


def test_the_api_sees_the_folder_set_when_each_call_starts(tmp_path, monkeypatch) -> None:
    import zoofind

    lab_entry(tmp_path / "a", "lab-a", "Notes of lab A")
    lab_entry(tmp_path / "b", "lab-b", "Notes of lab B")
    monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(tmp_path / "a"))
    assert [h.record.id for h in zoofind.search("zqxfolder", offline=True).hits] == ["catalog:lab-a"]
    monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(tmp_path / "b"))  # no reset between the calls
    assert [h.record.id for h in zoofind.search("zqxfolder", offline=True).hits] == ["catalog:lab-b"]


def test_more_folders_than_a_process_keeps_each_still_see_their_own(tmp_path) -> None:
    import os

    from zoofind import catalog
    from zoofind.core.context import Context

    folders = [tmp_path / f"lab{i}" for i in range(catalog.MAX_LAYERED + 2)]
    for i, folder in enumerate(folders):
        lab_entry(folder, f"lab-{i}", f"Notes of lab {i}")
    for folder in [*folders, folders[0]]:  # the first one was dropped meanwhile: loaded again
        cat = catalog.load(Context(environ={**os.environ, "ZOOFIND_CATALOG_DIR": str(folder)}))
        assert [r.id for r in cat.extras] == [f"catalog:lab-{folder.name[3:]}"]
    assert catalog.load(Context(environ={})).user is None  # no folder: the bundled catalog alone
