"""Kaggle datasets (`kaggle:datasets/owner/name[/version]`): search, info, pull into kagglehub's own
dataset cache, lock, cache ls/verify/rm/path, against the local Kaggle server's dataset service
(tests/servers/kaggle_datasets.py), refereed by kagglehub itself."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tomllib
from hashlib import sha256
from pathlib import Path

import pytest

from servers.kaggle_server import KaggleServer, bundle
from test_pull_kaggle import (  # noqa: F401 - kaggle: the same server fixture
    kaggle, kagglehub_env, kagglehub_python, referee, server_for_kagglehub, tree)

SECRET = "tok-good"
CREDS = {"KAGGLE_API_TOKEN": SECRET}
REF = "ornith/bird-songs"
HANDLE = f"{REF}/3"
ID = f"kaggle:datasets/{HANDLE}"
FILES = {"train.csv": b"id,species\n1,robin\n2,wren\n", "audio/0001.wav": random.Random(7).randbytes(5000),
         "README.md": b"# Bird songs\n"}


def dataset_dir() -> Path:
    # kagglehub's cache.py: datasets/<owner>/<name>/versions/<n>, the marker <n>.complete beside versions/.
    return Path(os.environ["KAGGLEHUB_CACHE"]) / "datasets" / REF


def calls(srv: KaggleServer, method: str) -> list[dict]:
    return [c["body"] for c in srv.calls(method)]


def test_a_pull_without_version_lands_where_kagglehub_looks(kaggle, cli) -> None:
    kaggle.add_dataset(f"{REF}/2", {"old.csv": b"v2\n"})
    kaggle.add_dataset(HANDLE, FILES)
    ran = cli("pull", f"kaggle:datasets/{REF}", env=CREDS)
    assert ran.code == 0, ran.stderr
    folder = dataset_dir() / "versions" / "3"
    assert ran.stdout == f"{ID}\t{folder}\n"
    assert tree(folder) == FILES
    assert (dataset_dir() / "3.complete").read_bytes() == b""
    # Nothing of zoofind's is left behind, and no other version was fetched.
    assert sorted(p.name for p in dataset_dir().iterdir()) == ["3.complete", "versions"]
    assert sorted(p.name for p in (dataset_dir() / "versions").iterdir()) == ["3"]
    # kagglehub 1.0's calls: GetDataset for the current version, then DownloadDataset of that version.
    assert calls(kaggle, "GetDataset") == [{"ownerSlug": "ornith", "datasetSlug": "bird-songs"}]
    assert calls(kaggle, "DownloadDataset") == [{"ownerSlug": "ornith", "datasetSlug": "bird-songs",
                                                 "datasetVersionNumber": 3}]
    assert all(c["path"].startswith("/api/v1/datasets.DatasetApiService/") for c in kaggle.requests)
    (get,) = kaggle.storage_requests()
    assert get.path.endswith("/bundle/archive.zip") and kaggle.leaks() == []
    assert SECRET not in ran.stdout + ran.stderr


def test_a_versioned_handle_asks_no_version_and_a_cached_one_needs_nothing(kaggle, cli) -> None:
    kaggle.add_dataset(HANDLE, FILES)
    ran = cli("pull", ID, "--json", env=CREDS)
    assert ran.code == 0, ran.stderr
    (res,) = json.loads(ran.stdout)["results"]
    assert res["id"] == ID and res["path"] == str(dataset_dir() / "versions" / "3")
    assert calls(kaggle, "GetDataset") == []
    kaggle.clear()
    again = cli("pull", ID, "--json")  # no credentials: as kagglehub, a complete version needs nothing
    assert again.code == 0, again.stderr
    (res,) = json.loads(again.stdout)["results"]
    assert {f["path"]: f["status"] for f in res["files"]} == dict.fromkeys(FILES, "cached")
    assert kaggle.count == 0 and kaggle.storage_requests() == []


@pytest.mark.parametrize("spelling", [f"kaggle:datasets/{REF}/versions/3", f"https://www.kaggle.com/datasets/{REF}/versions/3",
                                      f"kaggle:datasets/{REF}@3"])
def test_kagglehubs_and_kaggle_coms_spellings_name_the_same_version(kaggle, cli, spelling: str) -> None:
    kaggle.add_dataset(HANDLE, FILES)
    ran = cli("pull", spelling, env=CREDS)
    assert ran.code == 0 and ran.stdout.startswith(f"{ID}\t"), ran.stderr


def test_offline_answers_from_the_cache_with_zero_requests(kaggle, cli) -> None:
    kaggle.add_dataset(f"{REF}/2", {"old.csv": b"v2\n"})
    assert cli("pull", f"kaggle:datasets/{REF}/2", env=CREDS).code == 0
    kaggle.add_dataset(HANDLE, FILES)
    assert cli("pull", ID, env=CREDS).code == 0
    kaggle.clear()
    newest = cli("pull", f"kaggle:datasets/{REF}", "--offline")
    assert newest.code == 0 and newest.stdout == f"{ID}\t{dataset_dir() / 'versions' / '3'}\n", newest.stderr
    (dataset_dir() / "3.complete").unlink()  # without its marker kagglehub would not use it either
    older = cli("pull", f"kaggle:datasets/{REF}", "--offline")
    assert older.code == 0 and older.stdout.endswith(f"{dataset_dir() / 'versions' / '2'}\n")
    missing = cli("pull", f"kaggle:datasets/{REF}/9", "--offline")
    assert missing.code == 1 and f"zoofind pull kaggle:datasets/{REF}/9" in missing.stderr
    assert kaggle.count == 0 and kaggle.storage_requests() == []


def test_dry_run_says_the_size_and_writes_nothing(kaggle, cli) -> None:
    kaggle.add_dataset(HANDLE, FILES)
    ran = cli("pull", f"kaggle:datasets/{REF}", "--dry-run", env=CREDS)
    assert ran.code == 0, ran.stderr
    assert f"{ID}" in ran.stdout and "one zip" in ran.stderr
    assert calls(kaggle, "DownloadDataset") == [] and kaggle.storage_requests() == []
    assert not Path(os.environ["KAGGLEHUB_CACHE"]).exists()


@pytest.mark.parametrize("variant", ["zip_dotdot", "zip_absolute", "zip_symlink"])
def test_a_hostile_zip_is_refused_and_nothing_is_installed(kaggle, cli, tmp_path: Path, variant: str) -> None:
    kaggle.add_dataset(HANDLE, FILES, archive=bundle(FILES, variant))
    ran = cli("pull", ID, env=CREDS)
    assert ran.code == 1 and "refused" in ran.stderr, ran.stderr
    assert not (dataset_dir() / "versions" / "3").exists() and not (dataset_dir() / "3.complete").exists()
    assert not (tmp_path / "kagglehub" / "datasets" / "ornith" / "escaped.txt").exists()
    assert list((dataset_dir() / "versions").iterdir()) == []  # the archive is deleted too


def test_a_damaged_zip_is_deleted_and_a_retry_gets_a_good_one(kaggle, cli) -> None:
    kaggle.add_dataset(HANDLE, FILES, archive=bundle(FILES, "zip_bad_crc"))
    bad = cli("pull", ID, env=CREDS)
    assert bad.code == 1 and "damaged" in bad.stderr, bad.stderr
    assert not (dataset_dir() / "3.complete").exists()
    kaggle.add_dataset(HANDLE, FILES)
    good = cli("pull", ID, env=CREDS)
    assert good.code == 0, good.stderr
    assert tree(dataset_dir() / "versions" / "3") == FILES


def test_a_dropped_connection_is_resumed_with_a_range(kaggle, cli) -> None:
    big = {**FILES, "audio/long.wav": random.Random(3).randbytes(3 * 1024 * 1024)}
    version = kaggle.add_dataset(HANDLE, big)
    kaggle.faults_on = r"archive\.zip"
    kaggle.drop_after, kaggle.drop_times = 1024 * 1024, 1
    ran = cli("pull", ID, env=CREDS)
    assert ran.code == 0, ran.stderr
    assert kaggle.drops == 1
    gets = kaggle.storage_requests()
    assert len(gets) == 2 and gets[1].range is not None and gets[1].range.startswith("bytes=")
    assert kaggle.bytes_sent <= version.archive.size * 1.1
    assert tree(dataset_dir() / "versions" / "3") == big


def test_kaggles_refusals_say_what_to_do(kaggle, cli) -> None:
    kaggle.add_dataset(HANDLE, FILES)
    kaggle.forbidden_datasets.add(REF)
    denied = cli("pull", ID, env=CREDS)
    assert denied.code == 4 and f"https://www.kaggle.com/datasets/{REF}" in denied.stderr, denied.stderr
    unknown = cli("pull", "kaggle:datasets/ornith/no-such-thing", env=CREDS)
    assert unknown.code == 3 and "datasets/owner/name" in unknown.stderr, unknown.stderr
    no_version = cli("pull", f"kaggle:datasets/{REF}/8", env=CREDS)
    assert no_version.code == 3, no_version.stderr
    wrong = cli("pull", ID, env={"KAGGLE_API_TOKEN": "tok-wrong"})
    assert wrong.code == 4 and "rejected" in wrong.stderr and "tok-wrong" not in wrong.stderr
    # without credentials the dataset is asked for anonymously, as kagglehub does: its rules need an account
    none = cli("pull", ID, env={"KAGGLE_API_TOKEN": "", "KAGGLE_CONFIG_DIR": str(Path(os.environ["HOME"]) / "nothing")})
    assert none.code == 4 and "without credentials" in none.stderr and "sign in" in none.stderr, none.stderr
    assert f"https://www.kaggle.com/datasets/{REF}" in none.stderr and "KAGGLE_API_TOKEN" in none.stderr
    whole = cli("pull", ID, "--include", "*.csv", env=CREDS)
    assert whole.code == 2 and "one zip" in whole.stderr
    for r in (denied, unknown, no_version, wrong, none, whole):
        assert "Traceback" not in r.stderr
    assert kaggle.storage_requests() == [] and not (dataset_dir() / "3.complete").exists()


def test_a_public_dataset_pulls_and_is_described_without_credentials(kaggle, cli) -> None:
    # kagglehub 1.0 asks GetDataset and DownloadDataset anonymously when it finds no credentials
    kaggle.add_dataset(HANDLE, FILES, title="Bird Songs of Europe")
    info = cli("info", f"kaggle:datasets/{REF}", "--json")
    assert info.code == 0, info.stderr
    assert json.loads(info.stdout)["record"]["name"] == "Bird Songs of Europe"
    ran = cli("pull", f"kaggle:datasets/{REF}")
    assert ran.code == 0, ran.stderr
    assert tree(dataset_dir() / "versions" / "3") == FILES
    assert [c["path"].rsplit("/", 1)[-1] for c in kaggle.requests] == ["GetDataset", "GetDataset", "DownloadDataset"]
    assert all("Authorization" not in c["headers"] for c in kaggle.requests) and kaggle.leaks() == []
    # the listing is still asked for signed in only (no Kaggle client lists anonymously): skipped, with its note
    found = cli("search", "bird songs", "-s", "kaggle")
    assert found.code == 0 and "no Kaggle credentials" in found.stderr, found.stderr


def test_search_and_info_give_datasets_as_datasets(kaggle, cli) -> None:
    kaggle.add_dataset(HANDLE, FILES, title="Bird Songs of Europe", subtitle="Field recordings of 40 species.",
                       description="Recorded **at dawn**.", license="CC BY-SA 4.0", votes=42, tags=["Biology", "Audio"])
    found = cli("search", "bird songs", "-s", "kaggle", "--json", env=CREDS)
    assert found.code == 0, found.stderr
    rec = next(r for r in json.loads(found.stdout)["results"] if r["id"] == f"kaggle:datasets/{REF}")
    assert rec["kind"] == "dataset" and rec["name"] == "Bird Songs of Europe" and rec["license"] == "cc-by-sa-4.0"
    assert rec["likes"] == 42 and "Field recordings" in rec["description"]
    assert calls(kaggle, "ListDatasets")[0]["search"] == "bird songs"
    info = cli("info", f"kaggle:datasets/{REF}", "--json", env=CREDS)
    assert info.code == 0, info.stderr
    data = json.loads(info.stdout)
    record = data.get("record", data)
    assert record["kind"] == "dataset" and record["extra"]["handle"] == f"datasets/{HANDLE}"
    assert calls(kaggle, "GetDataset") == [{"ownerSlug": "ornith", "datasetSlug": "bird-songs"}]


def test_a_failing_dataset_listing_leaves_the_models_answer_with_a_note(kaggle, cli) -> None:
    kaggle.add_dataset(HANDLE, FILES)
    # An address that serves ListModels but not the dataset service: a note, not a failed search.
    original = kaggle._dataset_call
    kaggle._dataset_call = lambda h, method, body: kaggle._error(h, 503, "datasets are down")  # type: ignore[method-assign]
    try:
        ran = cli("search", "yamnet", "-s", "kaggle", "--json", "--refresh", env=CREDS)
    finally:
        kaggle._dataset_call = original  # type: ignore[method-assign]
    assert ran.code == 0, ran.stderr
    assert any(r["id"].startswith("kaggle:google/yamnet/") for r in json.loads(ran.stdout)["results"])
    assert "Kaggle datasets were not searched" in ran.stdout + ran.stderr


def test_lock_pull_back_and_cache_commands(kaggle, cli, tmp_path: Path) -> None:
    kaggle.add_dataset(HANDLE, FILES)
    lock_file = tmp_path / "zoofind.lock"
    ran = cli("lock", f"kaggle:datasets/{REF}", "-o", str(lock_file), env=CREDS)
    assert ran.code == 0, ran.stderr
    (entry,) = tomllib.loads(lock_file.read_text())["models"]
    assert entry["id"] == ID and entry["kind"] == "dataset"
    assert {f["path"]: f["sha256"] for f in entry["files"]} == {p: sha256(d).hexdigest() for p, d in FILES.items()}
    folder = dataset_dir() / "versions" / "3"

    ls = cli("cache", "ls", "--json", "-s", "kaggle")
    (m,) = json.loads(ls.stdout)["results"]
    assert m["id"] == ID and m["kind"] == "dataset" and m["path"] == str(folder) and m["size"] == sum(map(len, FILES.values()))
    assert cli("cache", "path", ID).stdout.strip() == str(folder)
    ok = cli("cache", "verify", ID, "--json")
    assert ok.code == 0 and json.loads(ok.stdout)["ok"] is True, ok.stdout

    kaggle.clear()
    assert cli("pull", "--lock", str(lock_file), "--offline").code == 0 and kaggle.count == 0
    rm = cli("cache", "rm", ID, "--yes")
    assert rm.code == 0, rm.stderr
    assert not folder.exists() and not (dataset_dir() / "3.complete").exists()
    back = cli("pull", "--lock", str(lock_file), env=CREDS)
    assert back.code == 0, back.stderr
    assert tree(folder) == FILES
    # Bytes that are not the locked ones fail, and nothing stays where kagglehub loads.
    shutil.rmtree(Path(os.environ["KAGGLEHUB_CACHE"]))
    lock_file.write_text(lock_file.read_text().replace(sha256(FILES["train.csv"]).hexdigest(), "1" * 64))
    bad = cli("pull", "--lock", str(lock_file), env=CREDS)
    assert bad.code == 1 and "train.csv" in bad.stderr
    assert not folder.exists() and not (dataset_dir() / "3.complete").exists()


# -- kagglehub as the referee ---------------------------------------------------------------
def test_kagglehub_finds_the_pulled_version_without_a_request(kaggle, cli) -> None:
    python = kagglehub_python()
    kaggle.add_dataset(HANDLE, FILES)
    assert cli("pull", ID, env=CREDS).code == 0
    kaggle.clear()
    seen = referee(python, f"import kagglehub; print(kagglehub.dataset_download({REF + '/versions/3'!r}))")
    assert seen.returncode == 0, seen.stderr
    assert seen.stdout.strip().splitlines()[-1] == str(dataset_dir() / "versions" / "3")
    assert kaggle.count == 0 and kaggle.storage_requests() == []


def test_kagglehub_without_a_version_asks_only_which_version_is_current(cli, tmp_path: Path) -> None:
    """kagglehub 1.0 asks GetDataset for a handle without a version, whatever its cache holds (its
    ``_get_current_version``): one API call, and the files from zoofind's pull, with no download."""
    python = kagglehub_python()
    with server_for_kagglehub() as srv:
        srv.add_dataset(HANDLE, FILES)
        cache = tmp_path / "kagglehub"
        ran = cli("pull", f"kaggle:datasets/{REF}", env={**CREDS, "ZOOFIND_KAGGLE_ENDPOINT": "http://localhost:7777",
                                                      "KAGGLEHUB_CACHE": str(cache)})
        assert ran.code == 0, ran.stderr
        srv.clear()
        got = subprocess.run([python, "-c", f"import kagglehub; print(kagglehub.dataset_download({REF!r}))"],
                             capture_output=True, text=True, errors="replace", env=kagglehub_env(cache), timeout=120)
        assert got.returncode == 0, got.stdout + got.stderr[-3000:]
        assert got.stdout.strip().splitlines()[-1] == str(cache / "datasets" / REF / "versions" / "3")
        assert [c["path"].rsplit("/", 1)[-1] for c in srv.requests] == ["GetDataset"]
        assert srv.storage_requests() == []


@pytest.mark.parametrize("anonymous", [False, True], ids=["signed-in", "without-credentials"])
def test_kagglehub_itself_fetches_from_the_local_server_what_zoofind_pulls(cli, tmp_path: Path, anonymous: bool) -> None:
    """The server's fidelity, refereed: kagglehub downloads the same dataset through it, and its cache
    and zoofind's come out the same, byte for byte (markers included); without credentials both ask
    anonymously (kagglehub's unauthenticated client), and neither sends an Authorization header."""
    python = kagglehub_python()
    with server_for_kagglehub() as srv:
        srv.add_dataset(f"{REF}/2", {"old.csv": b"v2\n"})
        srv.add_dataset(HANDLE, FILES)
        ours, theirs = tmp_path / "zoofind-cache", tmp_path / "kagglehub-cache"
        ran = cli("pull", f"kaggle:datasets/{REF}", env={**({} if anonymous else CREDS), "KAGGLEHUB_CACHE": str(ours),
                                                      "ZOOFIND_KAGGLE_ENDPOINT": "http://localhost:7777"})
        assert ran.code == 0, ran.stderr
        got = subprocess.run([python, "-c", f"import kagglehub; print(kagglehub.dataset_download({REF!r}))"],
                             capture_output=True, text=True, errors="replace",
                             env=kagglehub_env(theirs, anonymous=anonymous), timeout=120)
        assert got.returncode == 0, got.stdout + got.stderr[-3000:]
        assert got.stdout.strip().splitlines()[-1] == str(theirs / "datasets" / REF / "versions" / "3")
        assert tree(ours) == tree(theirs) and tree(ours / "datasets" / REF / "versions" / "3") == FILES
        assert srv.leaks() == []
        assert all(("Authorization" in c["headers"]) is not anonymous for c in srv.requests)


def test_export_and_import_carry_a_dataset_and_a_model_to_where_kagglehub_looks(kaggle, cli, tmp_path: Path) -> None:
    python = kagglehub_python()
    model = "google/yamnet/tensorFlow2/yamnet/3"
    kaggle.add_dataset(HANDLE, FILES)
    kaggle.add_version(model, {"saved_model.pb": b"graph" * 100, "variables/variables.index": b"index"})
    lock_file, out = tmp_path / "study.lock", tmp_path / "study.tar"
    assert cli("lock", ID, f"kaggle:{model}", "-o", str(lock_file), env=CREDS).code == 0
    exported = cli("export", "--lock", str(lock_file), str(out))
    assert exported.code == 0, exported.stderr
    # On the offline node: an empty kagglehub cache, no credentials, no server.
    cache = Path(os.environ["KAGGLEHUB_CACHE"])
    shutil.rmtree(cache)
    kaggle.clear()
    imported = cli("import", str(out))
    assert imported.code == 0, imported.stderr
    assert tree(cache / "datasets" / REF / "versions" / "3") == FILES
    assert (cache / "datasets" / REF / "3.complete").exists() and (cache / "models" / "google/yamnet/tensorFlow2/yamnet/3.complete").exists()
    assert [p.name for p in (cache / "datasets" / REF / "versions").iterdir()] == ["3"]  # no staging left
    assert kaggle.count == 0 and kaggle.storage_requests() == []
    seen = referee(python, "import kagglehub; print(kagglehub.dataset_download('ornith/bird-songs/versions/3')); "
                           f"print(kagglehub.model_download({model!r}))")
    assert seen.returncode == 0, seen.stderr
    assert seen.stdout.strip().splitlines()[-2:] == [str(cache / "datasets" / REF / "versions" / "3"), str(cache / "models" / model)]
    again = cli("import", str(out), "--json")
    assert again.code == 0, again.stderr
    ls = cli("cache", "ls", "--json", "-s", "kaggle")
    assert sorted((m["id"], m["kind"]) for m in json.loads(ls.stdout)["results"]) == [(ID, "dataset"), (f"kaggle:{model}", "model")]


def test_the_python_api_pulls_lists_and_finds_a_dataset(kaggle, monkeypatch: pytest.MonkeyPatch) -> None:
    import zoofind

    monkeypatch.setenv("KAGGLE_API_TOKEN", SECRET)
    kaggle.add_dataset(HANDLE, FILES)
    report = zoofind.pull([f"kaggle:datasets/{REF}"])
    (r,) = report.results
    assert r.ok and r.id == ID and r.path == str(dataset_dir() / "versions" / "3"), r.error
    (m,) = [c for c in zoofind.cached(source="kaggle")]
    assert m.kind == "dataset" and m.id == ID
    assert zoofind.cache_path(ID) == str(dataset_dir() / "versions" / "3")


@pytest.mark.parametrize(("raw", "expected"), [
    ("kaggle:datasets/ornith/bird-songs", "kaggle:datasets/ornith/bird-songs"),
    ("kaggle:datasets/ornith/bird-songs/versions/3", "kaggle:datasets/ornith/bird-songs/3"),
    ("https://www.kaggle.com/datasets/ornith/bird-songs", "kaggle:datasets/ornith/bird-songs"),
    ("https://www.kaggle.com/datasets/ornith/bird-songs/versions/3", "kaggle:datasets/ornith/bird-songs/3"),
    ("https://www.kaggle.com/models/google/yamnet/tensorFlow2/yamnet/1", "kaggle:google/yamnet/tensorFlow2/yamnet/1"),
])
def test_dataset_ids_are_normalised(raw: str, expected: str) -> None:
    from zoofind.hubs.ids import parse_id

    assert str(parse_id(raw)) == expected


@pytest.mark.parametrize("typed", ["kaggle:datasets/ornith", "kaggle:datasets/ornith/bird-songs/v3", "kaggle:datasets/../x",
                                   "kaggle:datasets/ornith/..", "kaggle:../x/y/z", "kaggle:datasets/a/b/versions/x"])
def test_malformed_dataset_ids_exit_2_before_any_request(kaggle, cli, typed: str) -> None:
    r = cli("pull", typed, env=CREDS)
    assert r.code == 2 and r.stderr.startswith("zoofind: error:") and "Traceback" not in r.stderr, (typed, r.stderr)
    assert kaggle.count == 0 and not Path(os.environ["KAGGLEHUB_CACHE"]).exists()


def test_three_processes_pulling_one_version_fetch_it_once_and_all_succeed(kaggle) -> None:
    import sys

    version = kaggle.add_dataset(HANDLE, {**FILES, "audio/long.wav": random.Random(5).randbytes(400_000)})
    kaggle.rate_bps = version.archive.size * 2  # about half a second each
    script = Path(sys.executable).with_name("zoofind")
    procs = [subprocess.Popen([str(script), "pull", ID, "-q"], env={**os.environ, **CREDS},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert kaggle.bytes_sent <= version.archive.size * 1.1
    assert (dataset_dir() / "3.complete").exists() and len(tree(dataset_dir() / "versions" / "3")) == len(FILES) + 1
    assert sorted(p.name for p in (dataset_dir() / "versions").iterdir() if not p.name.startswith(".zoofind-lock-")) == ["3"]


def test_an_id_without_version_names_every_cached_version_newest_first(kaggle, cli) -> None:
    kaggle.add_dataset(f"{REF}/2", {"old.csv": b"v2\n"})
    assert cli("pull", f"kaggle:datasets/{REF}/2", env=CREDS).code == 0
    kaggle.add_dataset(f"{REF}/10", FILES)
    assert cli("pull", f"kaggle:datasets/{REF}/10", env=CREDS).code == 0
    path = cli("cache", "path", f"kaggle:datasets/{REF}")
    assert path.code == 0 and path.stdout.strip() == str(dataset_dir() / "versions" / "10"), path.stderr
    rm = cli("cache", "rm", f"kaggle:datasets/{REF}", "--yes")
    assert rm.code == 0, rm.stderr
    assert not any(dataset_dir().glob("*.complete")) and not any((dataset_dir() / "versions").glob("[0-9]*"))
    gone = cli("cache", "path", f"kaggle:datasets/{REF}")
    assert gone.code == 3 and f"zoofind pull kaggle:datasets/{REF}" in gone.stderr


def test_a_search_for_one_kind_asks_only_its_listing(kaggle, cli) -> None:
    kaggle.add_dataset(HANDLE, FILES, title="Yamnet audio clips")
    data = cli("search", "yamnet", "-s", "kaggle", "--kind", "dataset", "--json", env=CREDS)
    assert data.code == 0, data.stderr
    assert [r["id"] for r in json.loads(data.stdout)["results"]] == [f"kaggle:datasets/{REF}"]
    assert kaggle.calls("ListModels") == [] and len(kaggle.calls("ListDatasets")) == 1
    kaggle.clear()
    models = cli("search", "yamnet", "-s", "kaggle", "--kind", "model", "--json", env=CREDS)
    assert models.code == 0 and all(r["kind"] == "model" for r in json.loads(models.stdout)["results"])
    assert kaggle.calls("ListDatasets") == []
    unknown = cli("info", "kaggle:datasets/ornith/nothing-here", env=CREDS)
    assert unknown.code == 3 and "datasets/owner/name" in unknown.stderr and "Traceback" not in unknown.stderr
