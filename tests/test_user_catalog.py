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
    started = time.perf_counter()
    cat = catalog.load()
    for rec in cat.extras[:: max(1, len(cat.extras) // 500)]:
        assert cat.get(rec.id) is rec
    return time.perf_counter() - started


def test_loading_is_linear_in_the_number_of_entries(tmp_path, monkeypatch) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    write_catalog(small, 2_000)
    write_catalog(large, 8_000)
    load_seconds(small, monkeypatch)  # warm: imports, the bundled catalog
    t_small = min(load_seconds(small, monkeypatch) for _ in range(2))
    t_large = load_seconds(large, monkeypatch)
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


def test_an_unchanged_user_catalog_is_read_from_the_cache(tmp_path, monkeypatch) -> None:
    import tomllib

    from zoofind import catalog, search

    folder = tmp_path / "cached"
    write_catalog(folder, 2_000)
    monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(folder))
    first = [h.record.id for h in search("zebrafish embryo", offline=True, limit=5).hits]
    assert first and list((tmp_path / "zoofind-cache" / "user-catalogs").glob("*.json"))
    catalog.reset()
    monkeypatch.setattr(tomllib, "loads", lambda *a, **k: pytest.fail("parsed although no file changed"))
    assert [h.record.id for h in search("zebrafish embryo", offline=True, limit=5).hits] == first
    assert len(catalog.load().extras) == 2_000


def test_an_edited_user_catalog_file_is_read_again(cli, tmp_path) -> None:
    folder = tmp_path / "edited"
    folder.mkdir()
    path = folder / "lab.toml"
    path.write_text(ZEBRAFISH, encoding="utf-8")
    env = {"ZOOFIND_CATALOG_DIR": str(folder)}
    assert cli("search", "zebrafish", "--offline", "--format", "ids", env=env).stdout.split() == ["hf:zlab/zebrafish-embryo-seg"]
    path.write_text(ZEBRAFISH.replace("zebrafish-embryo-seg", "zebrafish-v2"), encoding="utf-8")
    assert cli("search", "zebrafish", "--offline", "--format", "ids", env=env).stdout.split() == ["hf:zlab/zebrafish-v2"]
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert cli("search", "zebrafish", "--offline", env=env).code == 1  # a broken file is never served from the cache
