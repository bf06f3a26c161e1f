"""`zoofind pull hf:...` against a local Hub (tests/servers/hf_server.py), refereed by huggingface_hub itself."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from servers.hf_server import TEST_TOKEN

MB = 1024 * 1024
REPO = "zoofind-lab/protein-tiny"


def blob(size: int, seed: str) -> bytes:
    return hashlib.shake_256(seed.encode()).digest(size)


FILES = {
    "config.json": b'{"model_type": "esm", "hidden_size": 8}\n',
    "tokenizer/vocab.txt": b"<cls>\n<pad>\nA\nC\nD\n",
    "README.md": b"# protein-tiny\n",
    "model.safetensors": blob(3 * MB, "st"),
    "pytorch_model.bin": blob(3 * MB, "bin"),
}


@pytest.fixture
def hub(hf_hub):
    hf_hub.add_repo(REPO, FILES, library_name="transformers", pipeline_tag="fill-mask", tags=["transformers", "esm"])
    return hf_hub


def hub_cache() -> Path:
    return Path(os.environ["HF_HOME"]) / "hub"


def referee(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run huggingface_hub in a fresh interpreter (it reads HF_* variables at import time), offline."""
    full = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=120)


def test_pull_puts_the_repo_in_the_hugging_face_cache_where_huggingface_hub_finds_it(hub, cli) -> None:
    ran = cli("pull", f"hf:{REPO}")
    assert ran.code == 0, ran.stderr
    commit = hub.repo(REPO).branches["main"]
    rid, path = ran.stdout.strip().split("\t")
    assert rid == f"hf:{REPO}"
    snap = Path(path)
    assert snap.parent.name == "snapshots" and snap.parent.parent.name == "models--zoofind-lab--protein-tiny"
    assert snap.name == commit
    # Safetensors only: the pickle copy of the same weights is skipped and said so.
    assert sorted(p.relative_to(snap).as_posix() for p in snap.rglob("*") if p.is_file()) == [
        "README.md", "config.json", "model.safetensors", "tokenizer/vocab.txt"]
    assert "pytorch_model.bin" not in ran.stdout and "--all-files" in ran.stderr
    # Layout: relative symlinks into blobs named by ETag (sha256 for LFS, git blob id otherwise), refs/main.
    link = snap / "model.safetensors"
    assert link.is_symlink() and not os.path.isabs(os.readlink(link))
    assert Path(os.readlink(link)).name == hashlib.sha256(FILES["model.safetensors"]).hexdigest()
    cfg = FILES["config.json"]
    assert Path(os.readlink(snap / "config.json")).name == hashlib.sha1(b"blob %d\0" % len(cfg) + cfg).hexdigest()
    assert (snap.parent.parent / "refs" / "main").read_text() == snap.name
    for rel, data in FILES.items():
        if rel != "pytorch_model.bin":
            assert (snap / rel).read_bytes() == data

    check = referee(
        "import huggingface_hub as h, json\n"
        f"p = h.snapshot_download({REPO!r}, local_files_only=True)\n"
        f"f = h.hf_hub_download({REPO!r}, 'tokenizer/vocab.txt', local_files_only=True)\n"
        "info = h.scan_cache_dir()\n"
        f"repo = [r for r in info.repos if r.repo_id == {REPO!r}][0]\n"
        "print(json.dumps({'p': p, 'f': f, 'warnings': [str(w) for w in info.warnings], 'size': repo.size_on_disk,"
        " 'refs': sorted(r for rev in repo.revisions for r in rev.refs)}))"
    )
    assert check.returncode == 0, check.stderr
    seen = json.loads(check.stdout)
    assert seen["p"] == str(snap) and seen["f"] == str(snap / "tokenizer/vocab.txt")
    assert seen["warnings"] == [] and seen["refs"] == ["main"]
    assert seen["size"] == sum(len(d) for r, d in FILES.items() if r != "pytorch_model.bin")


def test_the_token_reaches_the_hub_and_never_the_storage_host(hub, cli) -> None:
    ran = cli("pull", f"hf:{REPO}", env={"HF_TOKEN": TEST_TOKEN})
    assert ran.code == 0, ran.stderr
    assert any(r.headers.get("authorization") for r in hub.requests if "/resolve/" in r.path)
    assert hub.leaks() == []
    assert TEST_TOKEN not in ran.stdout + ran.stderr


def test_a_pulled_model_is_found_offline_with_zero_requests(hub, cli) -> None:
    assert cli("pull", f"hf:{REPO}").code == 0
    hub.clear()
    ran = cli("pull", f"hf:{REPO}", "--offline")
    assert ran.code == 0, ran.stderr
    assert ran.stdout.strip().endswith(hub.repo(REPO).branches["main"])
    assert hub.requests == []
    again = cli("pull", f"hf:{REPO}")  # online, all cached: metadata only, no file body
    assert again.code == 0 and "already in the cache" in again.stderr
    assert not any("/resolve/" in r.path or r.path.startswith("/repos/") for r in hub.requests)


def test_an_uncached_model_offline_fails_with_the_next_step(hub, cli) -> None:
    ran = cli("pull", f"hf:{REPO}", "--offline")
    assert ran.code == 1
    assert "not in the Hugging Face cache" in ran.stderr and "zoofind pull" in ran.stderr
    assert hub.requests == [] and "Traceback" not in ran.stderr


def test_dry_run_lists_files_and_bytes_and_fetches_no_file(hub, cli) -> None:
    ran = cli("pull", f"hf:{REPO}", "--dry-run", "--json")
    assert ran.code == 0, ran.stderr
    (res,) = json.loads(ran.stdout)["results"]
    status = {f["path"]: f["status"] for f in res["files"]}
    assert status == {"config.json": "planned", "tokenizer/vocab.txt": "planned", "README.md": "planned",
                      "model.safetensors": "planned", "pytorch_model.bin": "skipped"}
    assert res["total_bytes"] == sum(len(d) for r, d in FILES.items() if r != "pytorch_model.bin")
    assert not any("/resolve/" in r.path for r in hub.requests)
    assert not hub_cache().joinpath("models--zoofind-lab--protein-tiny", "snapshots").exists()


def test_include_exclude_and_all_files_choose_the_files(hub, cli) -> None:
    ran = cli("pull", f"hf:{REPO}", "--include", "*.json", "--json")
    files = {f["path"]: f["status"] for f in json.loads(ran.stdout)["results"][0]["files"]}
    assert files["config.json"] == "downloaded" and files["model.safetensors"] == "skipped"
    ran = cli("pull", f"hf:{REPO}", "--all-files", "--exclude", "README.md", "--json")
    res = json.loads(ran.stdout)["results"][0]
    files = {f["path"]: f["status"] for f in res["files"]}
    assert files["pytorch_model.bin"] == "downloaded" and files["README.md"] == "skipped"
    assert res["flags"] == ["pickle: loading can run code; prefer safetensors (the Hub's security scan found nothing)"]
    bin_file = next(f for f in res["files"] if f["path"] == "pytorch_model.bin")
    assert bin_file["pickle"] is True and bin_file["scan"] == "safe"


def test_revisions_tags_and_commits(hub, cli) -> None:
    first = hub.add_repo(REPO, {"config.json": b'{"v": 1}\n'}, tags=["v1"])
    hub.add_repo(REPO, {"config.json": b'{"v": 2}\n'})
    ran = cli("pull", f"hf:{REPO}@v1", "--include", "config.json")
    assert ran.code == 0, ran.stderr
    snap = Path(ran.stdout.split("\t")[1].strip())
    assert snap.name == first and (snap / "config.json").read_bytes() == b'{"v": 1}\n'
    assert (snap.parent.parent / "refs" / "v1").read_text() == first
    by_commit = cli("pull", f"hf:{REPO}", "--revision", first, "--include", "config.json", "--offline")
    assert by_commit.code == 0 and by_commit.stdout.strip().endswith(first)
    missing = cli("pull", f"hf:{REPO}@no-such-branch")
    assert missing.code == 3 and "no-such-branch" in missing.stderr, missing.stderr


def test_unknown_gated_and_malformed_models_have_their_exit_codes(hub, cli) -> None:
    unknown = cli("pull", "hf:zoofind-lab/does-not-exist")
    assert unknown.code == 3, unknown.stderr
    hub.add_repo("zoofind-lab/gated-one", {"config.json": b"{}"}, gated="manual")
    gated = cli("pull", "hf:zoofind-lab/gated-one")
    assert gated.code == 4 and f"{hub.url}/zoofind-lab/gated-one" in gated.stderr and "HF_TOKEN" in gated.stderr
    bad = cli("pull", "hf:a/b.git")
    assert bad.code == 2
    # Several ids: the good one is pulled, each failure reported, the exit code is the first failure's.
    mixed = cli("pull", "hf:zoofind-lab/does-not-exist", f"hf:{REPO}")
    assert mixed.code == 3 and mixed.stdout.startswith(f"hf:{REPO}\t")
    assert "does-not-exist" in mixed.stderr
    for r in (unknown, gated, bad, mixed):
        assert "Traceback" not in r.stderr


def test_ids_from_stdin_take_the_first_column(hub, cli) -> None:
    ran = cli("pull", "-", "--include", "config.json", stdin=f"hf:{REPO}\thf\tfill-mask\tpytorch\tprotein-tiny\n\n")
    assert ran.code == 0, ran.stderr
    assert ran.stdout.startswith(f"hf:{REPO}\t")


def test_dest_gets_hard_links_to_the_cached_files(hub, cli, tmp_path: Path) -> None:
    dest = tmp_path / "here"
    ran = cli("pull", f"hf:{REPO}", "--dest", str(dest))
    assert ran.code == 0, ran.stderr
    snap = Path(ran.stdout.split("\t")[1].strip())
    assert (dest / "model.safetensors").read_bytes() == FILES["model.safetensors"]
    assert os.path.samefile(dest / "model.safetensors", snap / "model.safetensors")
    assert "hard links" in ran.stderr


def test_hostile_file_names_are_refused_and_nothing_lands_outside(hf_hub, cli, tmp_path: Path) -> None:
    hf_hub.add_repo("zoofind-lab/evil", {"config.json": b"{}", "../../../../escaped.txt": b"bad"})
    ran = cli("pull", "hf:zoofind-lab/evil")
    assert ran.code == 1 and "outside its folder" in ran.stderr
    assert not list(Path(os.environ["HF_HOME"]).parent.rglob("escaped.txt"))


def test_damaged_bytes_from_the_storage_host_fail_and_leave_nothing(hub, cli) -> None:
    hub.corrupt = {f"{REPO}/model.safetensors"}
    ran = cli("pull", f"hf:{REPO}")
    assert ran.code == 1 and "model.safetensors" in ran.stderr and "do not match" in ran.stderr
    blobs = hub_cache() / "models--zoofind-lab--protein-tiny" / "blobs"
    assert hashlib.sha256(FILES["model.safetensors"]).hexdigest() not in {p.name for p in blobs.iterdir()}
    assert not (hub_cache() / "models--zoofind-lab--protein-tiny" / "refs" / "main").exists()


def test_three_processes_pulling_one_model_download_it_once(hub, tmp_path: Path) -> None:
    big = {"model.safetensors": blob(24 * MB, "shared")}
    hub.add_repo("zoofind-lab/shared", big)
    hub.rate_bps = 16 * MB
    script = Path(sys.executable).with_name("zoofind")
    procs = [subprocess.Popen([str(script), "pull", "hf:zoofind-lab/shared", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert len({o[0] for o in outs}) == 1
    assert hub.bytes_by_key.get("zoofind-lab/shared/model.safetensors", 0) <= len(big["model.safetensors"]) * 1.02


def test_xet_files_come_over_the_hubs_http_redirect_and_are_verified_the_same_way(hf_hub, cli) -> None:
    data = blob(2 * MB, "xet")
    hf_hub.add_repo("zoofind-lab/on-xet", {"config.json": b"{}", "model.safetensors": data}, xet={"model.safetensors"})
    ran = cli("pull", "hf:zoofind-lab/on-xet")
    assert ran.code == 0, ran.stderr
    snap = Path(ran.stdout.split("\t")[1].strip())
    assert (snap / "model.safetensors").read_bytes() == data
    assert any("xet-bridge" in r.path for r in hf_hub.requests)


def test_the_hubs_security_scan_of_pickle_files_is_reported(hf_hub, cli) -> None:
    hf_hub.add_repo("zoofind-lab/pickled", {"config.json": b"{}", "pytorch_model.bin": blob(1000, "p")},
                    security={"pytorch_model.bin": {"status": "unsafe", "pickleImportScan": {"status": "dangerous"}}})
    ran = cli("pull", "hf:zoofind-lab/pickled", "--json")
    assert ran.code == 0, ran.stderr
    res = json.loads(ran.stdout)["results"][0]
    assert res["flags"] == ["pickle: loading can run code; prefer safetensors", "the Hub's security scan flags pytorch_model.bin (unsafe)"]
    assert "unsafe" in ran.stderr


def test_hostile_blob_ids_never_become_paths(hf_hub, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import servers.hf_server as hub_server

    victim = tmp_path / "victim_secret.txt"
    victim.write_text("secret")
    honest = hub_server._siblings

    def hostile(commit):  # the server, not zoofind, is made to lie: a blob id that is a path
        out = honest(commit)
        for s in out:
            s.update({"blobId": "../../../../" + str(victim)})
            s.pop("size", None)
            s.pop("lfs", None)
        return out

    monkeypatch.setattr(hub_server, "_siblings", hostile)
    hf_hub.add_repo("zoofind-lab/evil-ids", {"config.json": b"{}"})
    ran = cli("pull", "hf:zoofind-lab/evil-ids", "--dest", str(tmp_path / "out"))
    assert ran.code == 1 and "no usable content id" in ran.stderr, ran.stderr
    assert victim.read_text() == "secret" and not (tmp_path / "out").exists()


def test_an_expired_storage_link_is_asked_for_again(hf_hub, cli) -> None:
    data = blob(40 * MB, "exp")
    hf_hub.add_repo("zoofind-lab/slow-link", {"model.safetensors": data})
    hf_hub.lfs_url_ttl = 1
    hf_hub.rate_bps = 12 * MB
    ran = cli("pull", "hf:zoofind-lab/slow-link", "--jobs", "2")
    assert ran.code == 0, ran.stderr
    snap = Path(ran.stdout.split("\t")[1].strip())
    assert hashlib.sha256((snap / "model.safetensors").read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_failed_pull_leaves_a_cache_scan_cache_dir_reads_without_warnings(hub, cli) -> None:
    hub.corrupt = {f"{REPO}/model.safetensors"}
    assert cli("pull", f"hf:{REPO}").code == 1
    check = referee("import huggingface_hub as h; i = h.scan_cache_dir(); print(len(i.warnings), [str(w) for w in i.warnings])")
    assert check.stdout.startswith("0 "), check.stdout + check.stderr


def test_files_zoofind_writes_are_readable_by_the_rest_of_a_lab(hub, cli) -> None:
    """mkstemp makes 0600 files: a ref or a copied file others cannot read breaks a shared cache."""
    old = os.umask(0o002)
    try:
        assert cli("pull", f"hf:{REPO}").code == 0
    finally:
        os.umask(old)
    repo = hub_cache() / "models--zoofind-lab--protein-tiny"
    for path in (repo / "blobs").iterdir():
        assert path.stat().st_mode & 0o444 == 0o444, (path, oct(path.stat().st_mode))
    assert (repo / "refs" / "main").stat().st_mode & 0o777 == 0o664


def test_a_gated_repo_behind_a_mirror_without_auth_check_is_decided_by_the_download(hub, cli) -> None:
    """olah and Artifactory/Nexus Hugging Face remotes often lack /auth-check: their bare 404 (no
    X-Error-Code, so not the Hub's word) says nothing about access, and the download decides."""
    other = "hf_zoofindOTHERtoken9876543210fedcbaXYZ"
    hub.tokens = (TEST_TOKEN, other)
    hub.auth_check_route = False
    gated = "zoofind-lab/gated-mirror"
    hub.add_repo(gated, {"config.json": b"{}", "model.safetensors": blob(MB, "gated")}, gated="manual")
    hub.granted[gated] = {TEST_TOKEN}
    for env in ({"HF_TOKEN": other}, {}):  # a token without the grant, then none: the storage refuses
        denied = cli("pull", f"hf:{gated}", env=env)
        assert denied.code == 4, denied.stderr
        assert "refused the download (HTTP 40" in denied.stderr and f"request access at {hub.url}/{gated}" in denied.stderr
        assert "Traceback" not in denied.stderr and other not in denied.stderr
    info = cli("info", f"hf:{gated}", "--json", env={"HF_TOKEN": TEST_TOKEN})
    assert json.loads(info.stdout)["record"]["extra"]["access"] == "unknown", info.stdout
    ran = cli("pull", f"hf:{gated}", env={"HF_TOKEN": TEST_TOKEN})
    assert ran.code == 0, ran.stderr
    assert (Path(ran.stdout.split("\t")[1].strip()) / "model.safetensors").read_bytes() == blob(MB, "gated")
    assert any(r.path.endswith("/auth-check") and r.status == 404 for r in hub.requests)


def test_huggingface_hub_reads_the_tree_listing_and_the_cache_tag_zoofind_writes(hub, cli, tmp_path: Path) -> None:
    """huggingface_hub (1.33+ and 2.x) caches each commit's file listing in trees/<commit>.json
    and tags the cache with CACHEDIR.TAG: zoofind writes both as it does, byte for byte, but
    lists only the files it placed, so the skipped weight formats do not make the snapshot
    incomplete for an offline snapshot_download."""
    ran = cli("pull", f"hf:{REPO}")
    assert ran.code == 0, ran.stderr
    commit = hub.repo(REPO).branches["main"]
    folder = hub_cache() / "models--zoofind-lab--protein-tiny"
    # What huggingface_hub itself writes for the same repo, in a cache of its own.
    own = tmp_path / "hf-own"
    theirs = referee(f"import huggingface_hub as h; h.snapshot_download({REPO!r})", HF_HUB_OFFLINE="0", HF_HOME=str(own),
                     HF_ENDPOINT=hub.url, HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    assert theirs.returncode == 0, theirs.stderr
    listing = json.loads((own / "hub" / folder.name / "trees" / f"{commit}.json").read_text())
    assert set(listing["files"]) == set(FILES)  # huggingface_hub lists the whole repo
    del listing["files"]["pytorch_model.bin"]  # zoofind skipped it, and lists what it placed
    assert (folder / "trees" / f"{commit}.json").read_text() == json.dumps(listing, indent=1)
    assert (hub_cache() / "CACHEDIR.TAG").read_bytes() == (own / "hub" / "CACHEDIR.TAG").read_bytes()

    check = referee(
        "import huggingface_hub as h, json\n"
        f"files = h.get_cached_repo_tree({REPO!r})\n"
        f"p = h.snapshot_download({REPO!r}, local_files_only=True)\n"
        "print(json.dumps({'files': sorted((f.path, f.size, f.blob_id) for f in files), 'p': p,\n"
        "                  'warnings': [str(w) for w in h.scan_cache_dir().warnings]}))"
    )
    assert check.returncode == 0, check.stderr
    seen = json.loads(check.stdout)
    assert seen["p"] == ran.stdout.split("\t")[1].strip() and seen["warnings"] == []
    assert [f[0] for f in seen["files"]] == sorted(p for p in FILES if p != "pytorch_model.bin")
    assert ["config.json", len(FILES["config.json"]), hub.file(REPO, "config.json").oid] in seen["files"]

    # The listing is what huggingface_hub goes by: a file gone from the snapshot is now seen missing.
    (Path(seen["p"]) / "tokenizer" / "vocab.txt").unlink()
    gone = referee(f"import huggingface_hub as h; h.snapshot_download({REPO!r}, local_files_only=True)")
    assert gone.returncode != 0 and "IncompleteSnapshotError" in gone.stderr and "tokenizer/vocab.txt" in gone.stderr


def test_the_tree_listing_grows_with_each_pull_and_goes_with_its_revision(hub, cli) -> None:
    commit = hub.repo(REPO).branches["main"]
    tree = hub_cache() / "models--zoofind-lab--protein-tiny" / "trees" / f"{commit}.json"
    assert cli("pull", f"hf:{REPO}", "--include", "*.json").code == 0
    assert list(json.loads(tree.read_text())["files"]) == ["config.json"]
    assert cli("pull", f"hf:{REPO}", "--all-files").code == 0
    assert sorted(json.loads(tree.read_text())["files"]) == sorted(FILES)
    assert cli("pull", f"hf:{REPO}", "--offline").code == 0  # an offline pull knows no pointer ids: the listing stays
    assert sorted(json.loads(tree.read_text())["files"]) == sorted(FILES)
    # cache ls/verify read past trees/ and CACHEDIR.TAG; rm of the revision takes its listing with it.
    listed = cli("cache", "ls", "--json")
    assert listed.code == 0 and [m["id"] for m in json.loads(listed.stdout)["results"]] == [f"hf:{REPO}"]
    verified = cli("cache", "verify", f"hf:{REPO}")
    assert verified.code == 0, verified.stdout + verified.stderr
    removed = cli("cache", "rm", f"hf:{REPO}@{commit}", "--yes")
    assert removed.code == 0, removed.stderr
    assert not tree.exists() and (hub_cache() / "CACHEDIR.TAG").exists()
