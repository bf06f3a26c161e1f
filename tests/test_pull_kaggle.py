"""`zoofind pull kaggle:...` against a local Kaggle API and storage host (tests/servers/kaggle_server.py),
into kagglehub's own cache, refereed by kagglehub itself where it is installed."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from servers.kaggle_server import KaggleServer, bundle
from servers.tfhub_server import SAVED_MODEL

SECRET = "tok-good"
CREDS = {"KAGGLE_API_TOKEN": SECRET}
VARIATION = "google/yamnet/tensorFlow2/yamnet"
HANDLE = f"{VARIATION}/3"
#: A SavedModel folder (tfhub_server's): saved_model.pb, variables/..., assets/...
FILES = dict(SAVED_MODEL)
#: More files than one listing page (25): Kaggle sends these as one archive.
MANY = {f"shards/part-{i:03d}.bin": random.Random(i).randbytes(1000 + i) for i in range(30)}


@pytest.fixture
def kaggle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    with KaggleServer(token=SECRET) as srv:
        monkeypatch.setenv("ZOOFIND_KAGGLE_ENDPOINT", srv.url)
        monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
        yield srv


def variation_dir(ref: str = VARIATION) -> Path:
    # kagglehub's cache.py: models/<owner>/<model>/<framework>/<variation>/, as the handle spells them.
    return Path(os.environ["KAGGLEHUB_CACHE"]) / "models" / ref


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def api_calls(srv: KaggleServer, method: str) -> list[dict]:
    return [c["body"] for c in srv.calls(method)]


def test_a_fresh_pull_lands_where_kagglehub_looks_and_cache_ls_lists_it(kaggle, cli) -> None:
    kaggle.add_version(HANDLE, FILES)
    ran = cli("pull", f"kaggle:{HANDLE}", env=CREDS)
    assert ran.code == 0, ran.stderr
    folder = variation_dir() / "3"
    assert ran.stdout == f"kaggle:{HANDLE}\t{folder}\n"
    assert tree(folder) == FILES
    # The marker kagglehub writes (empty) beside the folder; nothing of zoofind's is left behind.
    assert (variation_dir() / "3.complete").read_bytes() == b""
    # kagglehub's per-file markers too: what model_download(handle, path) (keras_hub's from_preset) reads
    assert sorted(p.name for p in variation_dir().iterdir()) == [".complete", "3", "3.complete"]
    assert tree(variation_dir() / ".complete" / "3") == {f"{name}.complete": b"" for name in FILES}
    # The protocol as kagglehub 1.0 speaks it: a versioned handle needs no GetModelInstance.
    assert api_calls(kaggle, "GetModelInstance") == []
    body = {"ownerSlug": "google", "modelSlug": "yamnet", "framework": "MODEL_FRAMEWORK_TENSOR_FLOW_2", "instanceSlug": "yamnet"}
    assert api_calls(kaggle, "ListModelInstanceVersionFiles") == [{**body, "versionNumber": 3, "pageSize": 25}]
    downloads = api_calls(kaggle, "DownloadModelInstanceVersion")
    assert sorted(d.pop("path") for d in downloads) == sorted(FILES) and all(d == {**body, "versionNumber": 3} for d in downloads)
    assert all(c["headers"]["Authorization"] == f"Bearer {SECRET}" for c in kaggle.requests)
    # The bytes came from the storage host the API redirected to, without the credential.
    storage = kaggle.storage_requests()
    assert {r.host.split(":")[0] for r in storage} == {"localhost"} and len(storage) == len(FILES)
    assert kaggle.leaks() == []
    assert SECRET not in ran.stdout + ran.stderr

    ls = cli("cache", "ls", "--json", "-s", "kaggle")
    assert ls.code == 0, ls.stderr
    (entry,) = json.loads(ls.stdout)["results"]
    assert entry["id"] == f"kaggle:{HANDLE}" and entry["path"] == str(folder) and entry["size"] == sum(map(len, FILES.values()))


def test_a_handle_without_version_resolves_to_the_latest(kaggle, cli) -> None:
    kaggle.add_version(f"{VARIATION}/2", {"old.txt": b"version 2\n"})
    kaggle.add_version(HANDLE, FILES)
    ran = cli("pull", f"kaggle:{VARIATION}", "--json", env={"KAGGLE_USERNAME": "alice", "KAGGLE_KEY": "key-good"})
    assert ran.code == 0, ran.stderr
    (res,) = json.loads(ran.stdout)["results"]
    assert res["id"] == f"kaggle:{HANDLE}" and res["path"] == str(variation_dir() / "3")
    assert {f["path"]: f["status"] for f in res["files"]} == dict.fromkeys(FILES, "downloaded")
    assert res["total_bytes"] == res["fetched_bytes"] == sum(map(len, FILES.values()))
    (ask,) = api_calls(kaggle, "GetModelInstance")
    assert ask == {"ownerSlug": "google", "modelSlug": "yamnet", "framework": "MODEL_FRAMEWORK_TENSOR_FLOW_2", "instanceSlug": "yamnet"}
    assert kaggle.requests[0]["headers"]["Authorization"].startswith("Basic ")
    assert not (variation_dir() / "2").exists()


def test_a_version_already_complete_is_answered_with_no_request_and_no_credentials(kaggle, cli) -> None:
    kaggle.add_version(HANDLE, FILES)
    assert cli("pull", f"kaggle:{HANDLE}", env=CREDS).code == 0
    kaggle.clear()
    again = cli("pull", f"kaggle:{HANDLE}", "--json")  # as kagglehub: a cached version needs nothing
    assert again.code == 0, again.stderr
    (res,) = json.loads(again.stdout)["results"]
    assert {f["status"] for f in res["files"]} == {"cached"} and res["fetched_bytes"] == 0
    assert kaggle.count == 0 and kaggle.storage_requests() == []


def test_offline_answers_from_kagglehubs_cache_with_zero_requests(kaggle, cli) -> None:
    kaggle.add_version(f"{VARIATION}/2", {"old.txt": b"version 2\n"})
    assert cli("pull", f"kaggle:{VARIATION}/2", env=CREDS).code == 0
    kaggle.add_version(HANDLE, FILES)
    assert cli("pull", f"kaggle:{HANDLE}", env=CREDS).code == 0
    kaggle.clear()
    exact = cli("pull", f"kaggle:{VARIATION}/2", "--offline")
    assert exact.code == 0 and exact.stdout == f"kaggle:{VARIATION}/2\t{variation_dir() / '2'}\n", exact.stderr
    # Without a version: the newest complete version in the cache.
    newest = cli("pull", f"kaggle:{VARIATION}", "--offline")
    assert newest.code == 0 and newest.stdout == f"kaggle:{HANDLE}\t{variation_dir() / '3'}\n", newest.stderr
    # A folder without its marker does not count (kagglehub would not use it either).
    (variation_dir() / "3.complete").unlink()
    older = cli("pull", f"kaggle:{VARIATION}", "--offline")
    assert older.code == 0 and older.stdout.endswith(f"{variation_dir() / '2'}\n")
    assert kaggle.count == 0 and kaggle.storage_requests() == []


def test_offline_without_the_version_cached_fails_with_the_next_step(kaggle, cli) -> None:
    for ref in (HANDLE, VARIATION):
        ran = cli("pull", f"kaggle:{ref}", "--offline", env=CREDS)
        assert ran.code == 1, ran.stderr
        assert "kagglehub's cache" in ran.stderr and f"zoofind pull kaggle:{ref}" in ran.stderr
        assert "Traceback" not in ran.stderr
    assert kaggle.count == 0


def test_dry_run_lists_files_and_bytes_and_writes_nothing(kaggle, cli) -> None:
    kaggle.add_version(HANDLE, FILES)
    ran = cli("pull", f"kaggle:{VARIATION}", "--dry-run", "--json", env=CREDS)
    assert ran.code == 0, ran.stderr
    doc = json.loads(ran.stdout)
    (res,) = doc["results"]
    assert doc["dry_run"] is True and res["id"] == f"kaggle:{HANDLE}"
    assert {f["path"]: (f["status"], f["size"]) for f in res["files"]} == {p: ("planned", len(d)) for p, d in FILES.items()}
    assert res["total_bytes"] == sum(map(len, FILES.values())) and res["fetched_bytes"] == 0
    # Metadata only: no download link asked for, no body, nothing on disk.
    assert api_calls(kaggle, "DownloadModelInstanceVersion") == [] and kaggle.storage_requests() == []
    assert not Path(os.environ["KAGGLEHUB_CACHE"]).exists()


def test_many_files_come_as_one_archive_extracted_in_place(kaggle, cli) -> None:
    kaggle.add_version(HANDLE, MANY)
    ran = cli("pull", f"kaggle:{HANDLE}", "--json", env=CREDS)
    assert ran.code == 0, ran.stderr
    (res,) = json.loads(ran.stdout)["results"]
    assert [(f["path"], f["status"]) for f in res["files"]] == [("archive.tar.gz", "downloaded")]
    assert tree(variation_dir() / "3") == MANY
    assert sorted(p.name for p in variation_dir().iterdir()) == [".complete", "3", "3.complete"]
    (whole,) = api_calls(kaggle, "DownloadModelInstanceVersion")
    assert "path" not in whole  # the version as one archive
    (get,) = kaggle.storage_requests()
    assert get.path.endswith("/bundle/archive.tar.gz") and kaggle.leaks() == []


def test_a_zip_archive_is_extracted_too(kaggle, cli) -> None:
    kaggle.add_version(HANDLE, MANY, archive=bundle(MANY, "zip"))
    ran = cli("pull", f"kaggle:{HANDLE}", env=CREDS)
    assert ran.code == 0, ran.stderr
    assert tree(variation_dir() / "3") == MANY


@pytest.mark.parametrize("variant", ["tar_dotdot", "tar_absolute", "tar_symlink", "tar_device",
                                     "zip_dotdot", "zip_absolute", "zip_symlink"])
def test_a_hostile_archive_is_refused_and_nothing_is_installed(kaggle, cli, variant: str) -> None:
    kaggle.add_version(HANDLE, MANY, archive=bundle(MANY, variant))
    ran = cli("pull", f"kaggle:{HANDLE}", env=CREDS)
    assert ran.code == 1 and "refused" in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stderr
    assert not (variation_dir() / "3").exists() and not (variation_dir() / "3.complete").exists()
    assert not Path("/tmp/zoofind-escaped.txt").exists()
    assert not list(Path(os.environ["KAGGLEHUB_CACHE"]).parent.rglob("escaped.txt"))
    # The archive and the half-filled folder are gone: only lock files may remain.
    assert [p.name for p in variation_dir().iterdir() if not p.name.startswith(".zoofind-lock-")] == []


@pytest.mark.parametrize("variant", ["bad_crc", "truncated", "zip_bad_crc"])
def test_a_damaged_archive_is_deleted_and_nothing_is_installed(kaggle, cli, variant: str) -> None:
    kaggle.add_version(HANDLE, MANY, archive=bundle(MANY, variant))
    ran = cli("pull", f"kaggle:{HANDLE}", env=CREDS)
    assert ran.code == 1 and "damaged" in ran.stderr, ran.stderr
    assert not (variation_dir() / "3").exists() and not (variation_dir() / "3.complete").exists()
    assert [p.name for p in variation_dir().iterdir() if not p.name.startswith(".zoofind-lock-")] == []


def test_an_archive_of_other_files_than_listed_is_refused(kaggle, cli) -> None:
    kaggle.add_version(HANDLE, MANY, archive=bundle({**FILES}))
    ran = cli("pull", f"kaggle:{HANDLE}", env=CREDS)
    assert ran.code == 1 and "does not hold what Kaggle lists" in ran.stderr, ran.stderr
    assert not (variation_dir() / "3.complete").exists()


def test_a_short_file_fails_its_size_check_and_is_not_placed(kaggle, cli) -> None:
    version = kaggle.add_version(HANDLE, FILES)
    # The storage host serves fewer bytes than the listing says (a damaged upload).
    from servers.bodies import Body

    version.files["saved_model.pb"] = Body(FILES["saved_model.pb"][:-10])
    ran = cli("pull", f"kaggle:{HANDLE}", env=CREDS)
    assert ran.code == 1, ran.stderr
    assert "saved_model.pb" in ran.stderr and "Traceback" not in ran.stderr
    assert not (variation_dir() / "3.complete").exists() and not (variation_dir() / "3").exists()


def test_a_dropped_connection_is_resumed_with_a_range(kaggle, cli) -> None:
    big = {**FILES, "variables/variables.data-00000-of-00001": random.Random(1).randbytes(3 * 1024 * 1024)}
    kaggle.add_version(HANDLE, big)
    kaggle.faults_on = r"variables\.data"
    kaggle.drop_after, kaggle.drop_times = 1024 * 1024, 1
    ran = cli("pull", f"kaggle:{HANDLE}", env=CREDS)
    assert ran.code == 0, ran.stderr
    assert kaggle.drops == 1
    data = [r for r in kaggle.storage_requests() if "variables.data" in r.path]
    assert len(data) == 2 and data[1].range is not None and data[1].range.startswith("bytes=")
    size = len(big["variables/variables.data-00000-of-00001"])
    sent = sum(v for k, v in kaggle.bytes_by_key.items() if "variables.data" in k)
    assert sent <= size * 1.1
    assert tree(variation_dir() / "3") == big


def test_a_killed_pull_continues_with_a_new_signed_link(kaggle, cli) -> None:
    size = 4 * 1024 * 1024
    files = {"weights.bin": random.Random(2).randbytes(size), "config.json": b"{}\n"}
    kaggle.add_version(HANDLE, files)
    kaggle.rate_bps = 1024 * 1024
    script = Path(sys.executable).with_name("zoofind")
    proc = subprocess.Popen([str(script), "pull", f"kaggle:{HANDLE}", "-q"], env={**os.environ, **CREDS},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(v for k, v in kaggle.bytes_by_key.items() if k.endswith("weights.bin")) < size // 2:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    first = sum(v for k, v in kaggle.bytes_by_key.items() if k.endswith("weights.bin"))
    assert size // 4 < first < size, first
    assert not (variation_dir() / "3.complete").exists()
    kaggle.reset_faults()
    links_before = len(api_calls(kaggle, "DownloadModelInstanceVersion"))
    ran = cli("pull", f"kaggle:{HANDLE}", env=CREDS)
    assert ran.code == 0, ran.stderr
    # A new link (a new signature) for the same bytes: the partial is kept and continued.
    assert len(api_calls(kaggle, "DownloadModelInstanceVersion")) > links_before
    resumed = [r for r in kaggle.storage_requests() if r.path.endswith("weights.bin")][-1]
    assert resumed.range is not None and resumed.range != "bytes=0-"
    total = sum(v for k, v in kaggle.bytes_by_key.items() if k.endswith("weights.bin"))
    assert total <= size * 1.1, (first, total)
    assert tree(variation_dir() / "3") == files


def test_a_model_whose_terms_are_not_accepted_is_access_denied(kaggle, cli) -> None:
    kaggle.add_version(HANDLE, FILES)
    kaggle.forbidden.add(HANDLE)
    ran = cli("pull", f"kaggle:{HANDLE}", env=CREDS)
    assert ran.code == 4, ran.stderr
    assert "https://www.kaggle.com/models/google/yamnet" in ran.stderr and "KAGGLE_API_TOKEN" in ran.stderr
    assert "HTTP 403" in ran.stderr and SECRET not in ran.stderr
    assert kaggle.storage_requests() == [] and not variation_dir().joinpath("3").exists()


def test_rejected_credentials_are_access_denied(kaggle, cli) -> None:
    kaggle.add_version(HANDLE, FILES)
    ran = cli("pull", f"kaggle:{HANDLE}", env={"KAGGLE_API_TOKEN": "tok-wrong"})
    assert ran.code == 4 and "rejected" in ran.stderr and "tok-wrong" not in ran.stderr, ran.stderr


def test_a_public_model_pulls_without_credentials_as_kagglehub_asks_for_it(kaggle, cli) -> None:
    # kagglehub 1.0 builds an unauthenticated client when it finds no credentials and asks the same RPCs.
    kaggle.add_version(HANDLE, FILES)
    ran = cli("pull", f"kaggle:{VARIATION}")
    assert ran.code == 0, ran.stderr
    assert ran.stdout == f"kaggle:{HANDLE}\t{variation_dir() / '3'}\n"
    assert tree(variation_dir() / "3") == FILES
    made = [c["path"].rsplit("/", 1)[-1] for c in kaggle.requests]
    assert made[:2] == ["GetModelInstance", "ListModelInstanceVersionFiles"] and set(made[2:]) == {
        "DownloadModelInstanceVersion"}
    assert all("Authorization" not in c["headers"] for c in kaggle.requests) and kaggle.leaks() == []


def test_a_consent_gated_model_without_credentials_says_sign_in_and_accept_its_terms(kaggle, cli) -> None:
    kaggle.add_version(HANDLE, FILES)
    kaggle.forbidden.add(HANDLE)
    ran = cli("pull", f"kaggle:{HANDLE}")
    assert ran.code == 4, ran.stderr
    assert "without credentials" in ran.stderr and "HTTP 401" in ran.stderr, ran.stderr
    assert "accept them at https://www.kaggle.com/models/google/yamnet" in ran.stderr and "sign in" in ran.stderr
    assert "KAGGLE_API_TOKEN" in ran.stderr and "Traceback" not in ran.stderr
    assert kaggle.storage_requests() == [] and not variation_dir().exists()
    # signed in, the same model downloads (the server's account accepted nothing: the 403 of the terms)
    kaggle.forbidden.clear()
    assert cli("pull", f"kaggle:{HANDLE}", env=CREDS).code == 0


def test_a_private_model_without_credentials_is_access_denied_and_with_them_pulls(kaggle, cli) -> None:
    kaggle.add_version(HANDLE, FILES)
    kaggle.private.add("google/yamnet")
    ran = cli("pull", f"kaggle:{VARIATION}")
    assert ran.code == 4 and "HTTP 403" in ran.stderr and "private" in ran.stderr, ran.stderr
    assert "sign in" in ran.stderr and "KAGGLE_API_TOKEN" in ran.stderr
    assert not variation_dir().exists()
    assert cli("pull", f"kaggle:{VARIATION}", env=CREDS).code == 0


@pytest.mark.parametrize("ref, named", [
    ("google/no-such-model/tensorFlow2/x/1", "google/no-such-model/tensorFlow2/x"),
    (f"{VARIATION}/9", "version 9 of google/yamnet/tensorFlow2/yamnet"),
    ("google/no-such-model/tensorFlow2/x", "google/no-such-model/tensorFlow2/x"),
])
def test_an_unknown_model_or_version_is_not_found(kaggle, cli, ref: str, named: str) -> None:
    kaggle.add_version(HANDLE, FILES)
    ran = cli("pull", f"kaggle:{ref}", env=CREDS)
    assert ran.code == 3, ran.stderr
    assert named in ran.stderr and "Traceback" not in ran.stderr


def test_an_unknown_framework_and_file_choice_are_usage_errors(kaggle, cli) -> None:
    ran = cli("pull", "kaggle:google/yamnet/tensorFlow9/yamnet/1", env=CREDS)
    assert ran.code == 2 and "tensorFlow9" in ran.stderr
    ran = cli("pull", f"kaggle:{HANDLE}", "--include", "*.pb", env=CREDS)
    assert ran.code == 2 and "whole" in ran.stderr
    assert kaggle.count == 0


def test_the_version_may_be_given_as_a_revision(kaggle, cli) -> None:
    kaggle.add_version(f"{VARIATION}/2", {"old.txt": b"version 2\n"})
    kaggle.add_version(HANDLE, FILES)
    ran = cli("pull", f"kaggle:{VARIATION}@2", env=CREDS)
    assert ran.code == 0 and ran.stdout.startswith(f"kaggle:{VARIATION}/2\t"), ran.stderr
    assert cli("pull", f"kaggle:{HANDLE}@2", env=CREDS).code == 2


def test_the_default_cache_is_kagglehubs_not_xdg(kaggle, cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # kagglehub's config.py: ~/.cache/kagglehub whatever XDG_CACHE_HOME says.
    monkeypatch.delenv("KAGGLEHUB_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    kaggle.add_version(HANDLE, FILES)
    ran = cli("pull", f"kaggle:{HANDLE}", env=CREDS)
    assert ran.code == 0, ran.stderr
    assert ran.stdout.split("\t")[1].strip() == str(Path(os.environ["HOME"]) / ".cache" / "kagglehub" / "models" / HANDLE)


# -- kagglehub as the referee ---------------------------------------------------------------
def kagglehub_python() -> str:
    """An interpreter with kagglehub: this one (the test extra installs it), or ZOOFIND_TEST_KAGGLEHUB_PYTHON.
    Without one the referee is skipped locally and fails on CI."""
    for python in (sys.executable, os.environ.get("ZOOFIND_TEST_KAGGLEHUB_PYTHON")):
        if python and subprocess.run([python, "-c", "import kagglehub"], capture_output=True).returncode == 0:
            return python
    if os.environ.get("CI"):
        pytest.fail("kagglehub is not importable; CI must install the test extra (kagglehub is the referee)")
    pytest.skip("kagglehub is not installed (set ZOOFIND_TEST_KAGGLEHUB_PYTHON to an interpreter that has it)")


def referee(python: str, code: str) -> subprocess.CompletedProcess[str]:
    # kagglesdk's TEST environment points at localhost:7777, where nothing of this test listens, through a
    # proxy that is not there: any request kagglehub made would fail, so an answer proves it came from the cache.
    env = {**os.environ, "KAGGLE_API_ENVIRONMENT": "TEST", "KAGGLE_API_TOKEN": "unused", "DISABLE_COLAB_CACHE": "true",
           "DISABLE_KAGGLE_CACHE": "true", "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
    return subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("files", [FILES, MANY], ids=["one-by-one", "archive"])
def test_kagglehub_finds_the_pulled_version_without_a_request(kaggle, cli, files: dict[str, bytes]) -> None:
    python = kagglehub_python()
    kaggle.add_version(HANDLE, files)
    ran = cli("pull", f"kaggle:{HANDLE}", env=CREDS)
    assert ran.code == 0, ran.stderr
    kaggle.clear()
    seen = referee(python, f"import kagglehub; print(kagglehub.model_download({HANDLE!r}))")
    assert seen.returncode == 0, seen.stderr
    assert seen.stdout.strip().splitlines()[-1] == str(variation_dir() / "3")
    assert kaggle.count == 0 and kaggle.storage_requests() == []


def server_for_kagglehub() -> KaggleServer:
    """The local server on kagglesdk's fixed TEST endpoint (http://localhost:7777), where kagglehub reaches it."""
    try:
        return KaggleServer(token=SECRET, port=7777, storage_host="127.0.0.1")
    except OSError:
        pytest.skip("port 7777, kagglesdk's fixed TEST endpoint, is taken on this machine")


def kagglehub_env(cache: Path, *, anonymous: bool = False) -> dict[str, str]:
    """kagglehub's environment: kagglesdk's TEST endpoint, its cache, and the token (or, ``anonymous``,
    no credentials anywhere it looks)."""
    env = {k: v for k, v in os.environ.items() if k not in ("KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY")}
    env.update(KAGGLE_API_ENVIRONMENT="TEST", KAGGLEHUB_CACHE=str(cache), DISABLE_COLAB_CACHE="true",
               DISABLE_KAGGLE_CACHE="true")
    if anonymous:
        env["KAGGLE_CONFIG_DIR"] = str(cache.parent / "no-kaggle-config")
    else:
        env["KAGGLE_API_TOKEN"] = SECRET
    return env


@pytest.mark.parametrize("files", [FILES, MANY], ids=["one-by-one", "archive"])
def test_kagglehub_itself_fetches_from_the_local_server_what_zoofind_pulls(cli, tmp_path: Path, files: dict[str, bytes]) -> None:
    """The server's fidelity, refereed: kagglehub downloads through it (kagglesdk's TEST environment is
    http://localhost:7777), and its cache and zoofind's come out the same, byte for byte."""
    python = kagglehub_python()
    with server_for_kagglehub() as srv:
        srv.add_version(f"{VARIATION}/2", {"old.txt": b"version 2\n"})
        srv.add_version(HANDLE, files)
        ours, theirs = tmp_path / "zoofind-cache", tmp_path / "kagglehub-cache"
        ran = cli("pull", f"kaggle:{VARIATION}", env={**CREDS, "ZOOFIND_KAGGLE_ENDPOINT": "http://localhost:7777",
                                                      "KAGGLEHUB_CACHE": str(ours)})
        assert ran.code == 0, ran.stderr
        got = subprocess.run([python, "-c", f"import kagglehub; print(kagglehub.model_download({VARIATION!r}))"],
                             capture_output=True, text=True, errors="replace", env=kagglehub_env(theirs), timeout=120)
        assert got.returncode == 0, got.stdout + got.stderr[-3000:]
        assert got.stdout.strip().splitlines()[-1] == str(theirs / "models" / HANDLE)
        # the same, byte for byte, but for the per-file markers zoofind adds (kagglehub's own, for single files)
        mine = tree(ours)
        markers = {k for k in mine if f"{VARIATION}/.complete/" in k}
        assert markers == {f"models/{VARIATION}/.complete/3/{name}.complete" for name in files}
        assert {k: v for k, v in mine.items() if k not in markers} == tree(theirs)
        assert tree(ours / "models" / HANDLE) == files
        assert srv.leaks() == []  # neither sent the credential to the storage host


def test_kagglehub_without_credentials_and_zoofind_without_them_make_the_same_cache(cli, tmp_path: Path) -> None:
    """kagglehub's anonymous model_download (no token, no kaggle.json) through the local server and
    zoofind's anonymous pull: the same calls succeed, the same cache comes out, no Authorization sent."""
    python = kagglehub_python()
    with server_for_kagglehub() as srv:
        srv.add_version(HANDLE, FILES)
        ours, theirs = tmp_path / "zoofind-cache", tmp_path / "kagglehub-cache"
        ran = cli("pull", f"kaggle:{VARIATION}", env={"ZOOFIND_KAGGLE_ENDPOINT": "http://localhost:7777",
                                                      "KAGGLEHUB_CACHE": str(ours)})
        assert ran.code == 0, ran.stderr
        got = subprocess.run([python, "-c", "import kagglehub; from kagglehub.config import get_kaggle_credentials\n"
                              "assert get_kaggle_credentials() is None\n"
                              f"print(kagglehub.model_download({VARIATION!r}))"],
                             capture_output=True, text=True, errors="replace",
                             env=kagglehub_env(theirs, anonymous=True), timeout=120)
        assert got.returncode == 0, got.stdout + got.stderr[-3000:]
        assert got.stdout.strip().splitlines()[-1] == str(theirs / "models" / HANDLE)
        mine = tree(ours)
        markers = {k for k in mine if f"{VARIATION}/.complete/" in k}
        assert {k: v for k, v in mine.items() if k not in markers} == tree(theirs)
        assert all("Authorization" not in c["headers"] for c in srv.requests) and srv.leaks() == []
        # both asked the same calls: GetModelInstance, the listing, one download link per file
        assert sorted(c["path"] for c in srv.requests[: len(srv.requests) // 2]) == sorted(
            c["path"] for c in srv.requests[len(srv.requests) // 2:])


@pytest.mark.parametrize("files", [FILES, MANY], ids=["one-by-one", "archive"])
def test_three_processes_pulling_one_version_fetch_it_once_and_all_succeed(kaggle, files: dict[str, bytes]) -> None:
    version = kaggle.add_version(HANDLE, files)
    kaggle.rate_bps = max(version.archive.size, sum(map(len, files.values()))) * 2  # about half a second each
    script = Path(sys.executable).with_name("zoofind")
    procs = [subprocess.Popen([str(script), "pull", f"kaggle:{HANDLE}", "-q"], env={**os.environ, **CREDS},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert len({o[0] for o in outs}) == 1
    served = version.archive.size if files is MANY else sum(map(len, files.values()))
    assert kaggle.bytes_sent <= served * 1.1
    assert tree(variation_dir() / "3") == files
    assert sorted(p.name for p in variation_dir().iterdir() if not p.name.startswith(".zoofind-lock-")) == [".complete", "3", "3.complete"]


def test_dest_gets_the_files_too(kaggle, cli, tmp_path: Path) -> None:
    kaggle.add_version(HANDLE, FILES)
    ran = cli("pull", f"kaggle:{HANDLE}", "--dest", str(tmp_path / "out"), env=CREDS)
    assert ran.code == 0, ran.stderr
    assert tree(tmp_path / "out") == FILES


def test_a_listed_name_that_would_leave_the_folder_is_refused_before_any_download(kaggle, cli) -> None:
    kaggle.add_version(HANDLE, {"saved_model.pb": b"ok", "../../escaped.txt": b"evil\n"})
    ran = cli("pull", f"kaggle:{HANDLE}", env=CREDS)
    assert ran.code == 1 and "refused" in ran.stderr, ran.stderr
    assert api_calls(kaggle, "DownloadModelInstanceVersion") == [] and kaggle.storage_requests() == []
    assert not Path(os.environ["KAGGLEHUB_CACHE"]).exists()


def test_a_download_link_to_another_scheme_is_refused(kaggle, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    kaggle.add_version(HANDLE, FILES)
    monkeypatch.setattr(kaggle, "_sign", lambda path: f"file:///etc/passwd?{path}")
    ran = cli("pull", f"kaggle:{HANDLE}", env=CREDS)
    assert ran.code == 1 and "refused" in ran.stderr and "Traceback" not in ran.stderr, ran.stderr
    assert kaggle.storage_requests() == []


def test_an_incomplete_folder_from_an_earlier_download_is_replaced(kaggle, cli) -> None:
    kaggle.add_version(HANDLE, FILES)
    half = variation_dir() / "3"
    half.mkdir(parents=True)
    (half / "saved_model.pb").write_bytes(b"half of it")  # no marker: kagglehub would download over it too
    (half / "stray.tmp").write_bytes(b"x")
    ran = cli("pull", f"kaggle:{HANDLE}", env=CREDS)
    assert ran.code == 0, ran.stderr
    assert tree(half) == FILES and (variation_dir() / "3.complete").exists()
