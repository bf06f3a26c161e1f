"""The test servers speak the real protocols: the real clients (huggingface_hub, torch.hub, httpx,
tarfile) download from them and get what the servers claim to serve.

huggingface_hub reads HF_ENDPOINT, HF_HOME and HF_HUB_DISABLE_XET when it is imported, so it runs
in a subprocess with those set; the servers' logs and counters are read here. To check another
huggingface_hub (e.g. 1.x: ``pip install --target DIR "huggingface_hub<2"``), set
``ZOOFIND_TEST_HF_PATH=DIR``: the subprocess then imports it from there.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from servers.bodies import parse_range
from servers.files_server import FileServer
from servers.hf_server import TEST_TOKEN, HubServer
from servers.tfhub_server import DAMAGED, HOSTILE, SAVED_MODEL, TfhubServer, saved_model_archive

REPO = "zoofind-lab/tiny-protein-model"
WEIGHTS = hashlib.sha256(b"weights").digest() * 40_000  # 1.28 MB: LFS by its suffix
FILES = {
    "config.json": b'{"model_type": "esm", "hidden_size": 8}\n' * 20,
    "README.md": b"# tiny\n",
    "tokenizer/vocab.txt": b"A\nC\nD\nE\n",
    "model.safetensors": WEIGHTS,
    "pytorch_model.bin": WEIGHTS[:300_000],
    "onnx/model.onnx": b"onnx" * 1000,  # on Xet
}


def run_hf(hub: HubServer, home: Path, code: str, *, token: bool = True) -> dict:
    """Run ``code`` (which prints one JSON line last) with huggingface_hub pointed at ``hub``."""
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HOME": str(home), "HF_HUB_DISABLE_XET": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    env.pop("HF_TOKEN", None)
    if os.environ.get("ZOOFIND_TEST_HF_PATH"):
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.environ["ZOOFIND_TEST_HF_PATH"], env.get("PYTHONPATH")]))
    if token:
        env["HF_TOKEN"] = TEST_TOKEN
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def hub():
    with HubServer() as server:
        yield server


def test_huggingface_hub_downloads_regular_lfs_and_xet_files_byte_identical(hub: HubServer, tmp_path: Path) -> None:
    first = hub.add_repo(REPO, FILES, xet={"onnx/model.onnx"}, tags=["v1"])
    second = hub.add_repo(REPO, {"model.safetensors": WEIGHTS[::-1]}, message="new weights")
    out = run_hf(hub, tmp_path, f"""
import json, huggingface_hub as h
from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_url
api = HfApi()
snap = h.snapshot_download({REPO!r})
old = h.hf_hub_download({REPO!r}, "model.safetensors", revision="v1")
info = api.model_info({REPO!r}, files_metadata=True)
old_info = api.model_info({REPO!r}, revision={first!r}, files_metadata=True)
lfs = get_hf_file_metadata(hf_hub_url({REPO!r}, "model.safetensors"))
small = get_hf_file_metadata(hf_hub_url({REPO!r}, "config.json"))
tree = [(f.path, getattr(f, "size", None), getattr(f, "blob_id", None), f.lfs.sha256 if getattr(f, "lfs", None) else None)
        for f in api.list_repo_tree({REPO!r}, recursive=True)]
paths = [p.path for p in api.get_paths_info({REPO!r}, ["config.json", "tokenizer", "missing.txt"])]
refs = api.list_repo_refs({REPO!r})
print(json.dumps({{"version": h.__version__, "snap": snap, "old": old, "sha": info.sha, "old_sha": old_info.sha,
    "siblings": {{s.rfilename: [s.size, s.blob_id, s.lfs.sha256 if s.lfs else None] for s in info.siblings}},
    "lfs": [lfs.etag, lfs.size, lfs.commit_hash, lfs.location], "small": [small.etag, small.size, small.location],
    "tree": tree, "paths": paths, "branches": {{b.name: b.target_commit for b in refs.branches}},
    "tags": {{t.name: t.target_commit for t in refs.tags}}}}))
""")
    snap = Path(out["snap"])
    assert snap.name == second and out["sha"] == second and out["old_sha"] == first
    expected = {**FILES, "model.safetensors": WEIGHTS[::-1]}
    for path, data in expected.items():
        assert (snap / path).read_bytes() == data, path
        assert (snap / path).is_symlink()  # the standard cache layout: snapshots link to blobs
    assert Path(out["old"]).read_bytes() == WEIGHTS and f"/snapshots/{first}/" in out["old"]
    # The metadata agrees with the bytes everywhere.
    new_sha256 = hashlib.sha256(WEIGHTS[::-1]).hexdigest()
    assert out["siblings"]["model.safetensors"][0] == len(WEIGHTS) and out["siblings"]["model.safetensors"][2] == new_sha256
    assert out["siblings"]["config.json"][1] == hub.file(REPO, "config.json").body.git_oid  # type: ignore[union-attr]
    assert out["lfs"][:3] == [new_sha256, len(WEIGHTS), second] and out["lfs"][3].startswith(hub.storage_url + "/repos/")
    assert out["small"][0] == hub.file(REPO, "config.json").oid and out["small"][1] == len(FILES["config.json"])
    tree = {p: (size, sha) for p, size, _, sha in out["tree"]}
    assert set(expected) <= set(tree) and "tokenizer" in tree and tree["model.safetensors"] == (len(WEIGHTS), new_sha256)
    assert out["paths"] == ["config.json", "tokenizer"]
    assert out["branches"] == {"main": second} and out["tags"] == {"v1": first}
    # The token went to the Hub but never to the storage host.
    assert hub.storage_requests() and hub.leaks() == []
    assert all(r.authorized for r in hub.log(f"/{REPO}/resolve/"))
    assert {r.path.split("/")[1] for r in hub.storage_requests()} == {"repos", "xet-bridge-us"}

    # Offline: the cache alone answers, and the Hub hears nothing.
    hub.clear()
    again = run_hf(hub, tmp_path, f"""
import json, huggingface_hub as h
snap = h.snapshot_download({REPO!r}, local_files_only=True)
one = h.hf_hub_download({REPO!r}, "pytorch_model.bin", local_files_only=True)
report = h.scan_cache_dir()
print(json.dumps({{"snap": snap, "one": one, "warnings": [str(w) for w in report.warnings],
                   "repos": [r.repo_id for r in report.repos]}}))
""")
    assert again["snap"] == out["snap"] and Path(again["one"]).read_bytes() == FILES["pytorch_model.bin"]
    assert again["warnings"] == [] and again["repos"] == [REPO]
    assert [r for r in hub.requests if r.path != "/api/agent-harnesses"] == []


def test_huggingface_hub_errors_match_the_hub(hub: HubServer, tmp_path: Path) -> None:
    hub.add_repo(REPO, {"config.json": b"{}"})
    hub.add_repo("zoofind-lab/gated", {"model.safetensors": b"w" * 100}, gated="manual")
    hub.add_repo("zoofind-lab/private", {"model.safetensors": b"p" * 100}, private=True)
    hub.add_repo("zoofind-lab/new-name", {"config.json": b'{"renamed": true}'})
    hub.rename("zoofind-lab/old-name", "zoofind-lab/new-name")
    out = run_hf(hub, tmp_path, f"""
import json, huggingface_hub as h
def kind(**kw):
    try:
        h.hf_hub_download(**kw)
        return "ok"
    except Exception as e:
        return type(e).__name__
renamed = open(h.hf_hub_download("zoofind-lab/old-name", "config.json")).read()
print(json.dumps({{"entry": kind(repo_id={REPO!r}, filename="nope.json"),
    "revision": kind(repo_id={REPO!r}, filename="config.json", revision="no-such-branch"),
    "gated": kind(repo_id="zoofind-lab/gated", filename="model.safetensors"),
    "private": kind(repo_id="zoofind-lab/private", filename="model.safetensors", token=False),
    "repo": kind(repo_id="zoofind-lab/absent", filename="config.json"),
    "renamed": renamed}}))
""")
    assert out == {"entry": "RemoteEntryNotFoundError", "revision": "RevisionNotFoundError", "gated": "GatedRepoError",
                   "private": "RepositoryNotFoundError", "repo": "RepositoryNotFoundError", "renamed": '{"renamed": true}'}
    moved = [r for r in hub.requests if r.path.startswith("/zoofind-lab/old-name/")]
    assert moved and moved[0].status == 307


def test_tree_pages_and_paths_info_over_plain_http(hub: HubServer) -> None:
    sha = hub.add_repo(REPO, FILES)
    hub.tree_page_size = 2
    seen, url = [], f"{hub.url}/api/models/{REPO}/tree/main?recursive=true"
    with httpx.Client() as client:
        while url:
            r = client.get(url)
            assert r.status_code == 200
            seen += r.json()
            url = r.links.get("next", {}).get("url")
        assert {e["path"] for e in seen if e["type"] == "file"} == set(FILES)
        assert {e["path"] for e in seen if e["type"] == "directory"} == {"tokenizer", "onnx"}
        r = client.get(f"{hub.url}/api/models/{REPO}/tree/{sha}/tokenizer", params={"expand": "true"})
        (vocab,) = r.json()
        assert vocab["path"] == "tokenizer/vocab.txt" and vocab["lastCommit"]["id"] == sha and vocab["securityFileStatus"]["status"] == "safe"
        assert client.get(f"{hub.url}/api/models/{REPO}/tree/main/nowhere").headers["x-error-code"] == "EntryNotFound"
        r = client.post(f"{hub.url}/api/models/{REPO}/paths-info/main", json={"paths": ["model.safetensors", "x"], "expand": True})
        (st,) = r.json()
        assert st["lfs"] == {"oid": hashlib.sha256(WEIGHTS).hexdigest(), "size": len(WEIGHTS), "pointerSize": st["lfs"]["pointerSize"]}
        assert st["securityFileStatus"]["pickleImportScan"] is None
        bin_scan = client.post(f"{hub.url}/api/models/{REPO}/paths-info/main", data={"paths": ["pytorch_model.bin"], "expand": "True"}).json()
        assert bin_scan[0]["securityFileStatus"]["pickleImportScan"]["pickleImports"]
        assert client.get(f"{hub.url}/api/models/{REPO}/revision/nope").headers["x-error-code"] == "RevisionNotFound"


def test_resolve_headers_redirects_gzip_and_expiry(hub: HubServer) -> None:
    sha = hub.add_repo(REPO, FILES)
    with httpx.Client() as client:
        head = client.head(f"{hub.url}/{REPO}/resolve/main/model.safetensors")
        assert head.status_code == 302 and head.headers["x-repo-commit"] == sha
        assert head.headers["x-linked-etag"] == f'"{hashlib.sha256(WEIGHTS).hexdigest()}"'
        assert head.headers["x-linked-size"] == str(len(WEIGHTS))
        location = head.headers["location"]
        assert location.startswith(f"http://localhost:{hub.port}/repos/")
        body = client.get(location)
        assert body.content == WEIGHTS and body.headers["etag"] == f'"{hashlib.md5(WEIGHTS).hexdigest()}"'
        assert "model.safetensors" in body.headers["content-disposition"]
        xet = client.head(f"{hub.url}/{REPO}/resolve/main/onnx/model.onnx")
        assert xet.status_code == 302 and "x-xet-hash" not in xet.headers  # not on Xet unless added so
        small = client.head(f"{hub.url}/{REPO}/resolve/main/config.json", headers={"Accept-Encoding": "identity"})
        assert small.status_code == 307 and small.headers["location"].startswith(f"/api/resolve-cache/models/{REPO}/{sha}/config.json?")
        cached = f"{hub.url}{small.headers['location']}"
        plain = client.get(cached, headers={"Accept-Encoding": "identity"})
        assert plain.content == FILES["config.json"] and plain.headers["content-length"] == str(len(FILES["config.json"]))
        packed = client.get(cached, headers={"Accept-Encoding": "gzip"})
        assert packed.headers["content-encoding"] == "gzip" and "content-length" not in packed.headers
        assert packed.content == FILES["config.json"] and packed.headers["etag"].startswith('W/"')
        assert client.get(cached.replace(sha, "main")).status_code == 400
        hub.lfs_url_ttl = -1
        assert client.get(client.head(f"{hub.url}/{REPO}/resolve/main/model.safetensors").headers["location"]).status_code == 403
    hub.add_repo("zoofind-lab/xet", {"w.safetensors": b"x" * 1000}, xet={"w.safetensors"})
    xet = httpx.head(f"{hub.url}/zoofind-lab/xet/resolve/main/w.safetensors")
    assert len(xet.headers["x-xet-hash"]) == 64 and 'rel="xet-auth"' in xet.headers["link"]
    assert "/xet-bridge-us/" in xet.headers["location"]


def test_default_models_answer_metadata_routes_without_bytes(hub: HubServer) -> None:
    esm = "facebook/esm2_t6_8M_UR50D"
    head = httpx.head(f"{hub.url}/{esm}/resolve/main/model.safetensors")
    assert head.status_code == 302 and head.headers["x-linked-size"] == "31375104"
    tree = httpx.get(f"{hub.url}/api/models/{esm}/tree/main").json()
    assert {e["path"] for e in tree} >= {"config.json", "model.safetensors"}
    assert httpx.get(head.headers["location"]).status_code == 404


# -- bytes: Range and the fault knobs (the same code serves the Hub's storage host and FileServer) ------


BLOB = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture
def files():
    with FileServer({"/models/blob.bin": BLOB}, {"/old/blob.bin": "/models/blob.bin"}) as server:
        yield server


def test_ranges_206_416_and_validators(files: FileServer) -> None:
    url = f"{files.url}/models/blob.bin"
    with httpx.Client() as c:
        whole = c.get(url)
        assert whole.status_code == 200 and whole.content == BLOB and whole.headers["accept-ranges"] == "bytes"
        etag, modified = whole.headers["etag"], whole.headers["last-modified"]
        assert etag == f'"{hashlib.md5(BLOB).hexdigest()}"'
        for spec, (first, last) in {"bytes=10-19": (10, 19), "bytes=1048000-": (1048000, len(BLOB) - 1),
                                    "bytes=-100": (len(BLOB) - 100, len(BLOB) - 1), "bytes=5-99999999": (5, len(BLOB) - 1)}.items():
            r = c.get(url, headers={"Range": spec})
            assert r.status_code == 206 and r.content == BLOB[first:last + 1], spec
            assert r.headers["content-range"] == f"bytes {first}-{last}/{len(BLOB)}"
        for spec in ("bytes=1048576-", "bytes=-0"):
            r = c.get(url, headers={"Range": spec})
            assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(BLOB)}"
        assert c.get(url, headers={"Range": "bytes=0-1,5-6"}).status_code == 200  # multi-range: ignored, as S3 does
        assert c.get(url, headers={"Range": "bytes=0-9", "If-Range": etag}).status_code == 206
        assert c.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'}).status_code == 200
        assert c.get(url, headers={"If-None-Match": etag}).status_code == 304
        head = c.head(url, headers={"Range": "bytes=0-9"})
        assert head.status_code == 206 and head.headers["content-length"] == "10"
        files.set_file("/models/blob.bin", BLOB[::-1])  # a re-upload: new ETag, new Last-Modified
        changed = c.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
        assert changed.status_code == 200 and changed.content == BLOB[::-1] and changed.headers["etag"] != etag
        assert changed.headers["last-modified"] != modified
        assert c.get(f"{files.url}/models/none.pth").status_code == 403  # S3 behind CloudFront: AccessDenied
        moved = c.get(f"{files.url}/old/blob.bin", follow_redirects=True)
        assert moved.content == BLOB[::-1] and moved.history[0].status_code == 301
    assert parse_range("bytes=9-3", 100) is None and parse_range("items=0-1", 100) is None


def test_fault_knobs(files: FileServer) -> None:
    url = f"{files.url}/models/blob.bin"
    with httpx.Client() as c:
        files.ignore_range = True
        r = c.get(url, headers={"Range": "bytes=100-"})
        assert r.status_code == 200 and r.content == BLOB
        files.ignore_range = False

        files.clear()
        files.drop_after, files.drop_times = 300_000, 2
        for _ in range(2):
            with pytest.raises(httpx.RemoteProtocolError):
                c.get(url)
        assert c.get(url).content == BLOB  # the third answer is whole
        assert files.drops == 2 and files.bytes_sent == 2 * 300_000 + len(BLOB)
        assert files.bytes_by_key == {"/models/blob.bin": files.bytes_sent}
        files.drop_after = None

        files.corrupt = {"/models/blob.bin"}
        bad = c.get(url).content
        assert len(bad) == len(BLOB) and sum(a != b for a, b in zip(bad, BLOB)) == 1
        assert c.get(url, headers={"Range": f"bytes={len(BLOB) // 2}-{len(BLOB) // 2}"}).content != BLOB[len(BLOB) // 2:len(BLOB) // 2 + 1]
        files.corrupt = set()

        files.fail_status, files.fail_times, files.retry_after = 429, 2, 7
        answers = [c.get(url) for _ in range(3)]
        assert [a.status_code for a in answers] == [429, 429, 200] and answers[0].headers["retry-after"] == "7"
        assert b"SlowDown" in answers[0].content and files.failures == 2
        files.fail_status, files.fail_times = 500, None
        files.faults_on = r"^HEAD "
        assert c.head(url).status_code == 500 and c.get(url).status_code == 200  # only what faults_on matches
        files.reset_faults()
        files.delay = 0.3
        started = time.monotonic()
        assert c.get(url).status_code == 200 and time.monotonic() - started >= 0.3
        files.delay = 0.0
    logged = [(r.method, r.status, r.range) for r in files.requests]
    assert logged[-6:] == [("GET", 429, None), ("GET", 429, None), ("GET", 200, None), ("HEAD", 500, None),
                           ("GET", 200, None), ("GET", 200, None)]
    files.clear()
    httpx.get(url, headers={"Range": "bytes=0-0"})
    assert [(r.method, r.status, r.range, r.headers["host"]) for r in files.requests] == [("GET", 206, "bytes=0-0", f"127.0.0.1:{files.port}")]


def test_rate_cap_is_per_connection(files: FileServer) -> None:
    files.set_file("/models/big.bin", BLOB * 2)  # 2 MiB
    files.rate_bps = 2 * 1024 * 1024
    url, size = f"{files.url}/models/big.bin", 2 * len(BLOB)
    with httpx.Client(limits=httpx.Limits(max_connections=8)) as client:
        client.head(url)
        started = time.monotonic()
        assert len(client.get(url).content) == size
        one = time.monotonic() - started
        assert 0.95 <= one <= 1.3  # 2 MiB at 2 MiB/s: 1 s

        def part(i: int) -> bytes:
            step = size // 8
            return client.get(url, headers={"Range": f"bytes={i * step}-{(i + 1) * step - 1}"}).content

        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            parts = list(pool.map(part, range(8)))
        eight = time.monotonic() - started
    assert b"".join(parts) == BLOB * 2
    assert one / eight >= 3, (one, eight)  # each connection gets the rate: 8 of them, ~8x


def test_hub_storage_host_serves_ranges_with_the_same_knobs(hub: HubServer) -> None:
    hub.add_repo(REPO, {"model.safetensors": WEIGHTS})
    location = httpx.head(f"{hub.url}/{REPO}/resolve/main/model.safetensors").headers["location"]
    r = httpx.get(location, headers={"Range": "bytes=1000-1999"})
    assert r.status_code == 206 and r.content == WEIGHTS[1000:2000] and r.headers["etag"]
    assert httpx.get(location, headers={"Range": f"bytes={len(WEIGHTS)}-"}).status_code == 416
    hub.faults_on, hub.fail_status = r"^GET /repos/", 503
    assert httpx.head(f"{hub.url}/{REPO}/resolve/main/model.safetensors").status_code == 302  # metadata unharmed
    assert httpx.get(location).status_code == 503
    hub.reset_faults()
    hub.corrupt = {f"{REPO}/model.safetensors"}
    assert hashlib.sha256(httpx.get(location).content).hexdigest() != hashlib.sha256(WEIGHTS).hexdigest()
    assert hub.bytes_by_key[f"{REPO}/model.safetensors"] == 1000 + len(WEIGHTS)


# -- torch.hub -----------------------------------------------------------------------------


def test_torch_hub_downloads_and_checks_the_hash_prefix(files: FileServer, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")  # the torchvision extra; CI installs it
    torch.manual_seed(0)
    buffer = io.BytesIO()
    torch.save(torch.nn.Linear(4, 2).state_dict(), buffer)
    data = buffer.getvalue()
    name = f"tiny-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    files.set_file(f"/models/{name}", data)
    url = f"{files.url}/models/{name}"
    state = torch.hub.load_state_dict_from_url(url, model_dir=str(tmp_path / "checkpoints"), check_hash=True, progress=False)
    assert set(state) == {"weight", "bias"} and (tmp_path / "checkpoints" / name).read_bytes() == data
    torch.hub.download_url_to_file(url, str(tmp_path / "copy.pth"), hash_prefix=name[5:13], progress=False)
    assert (tmp_path / "copy.pth").read_bytes() == data
    assert [r.headers["user-agent"] for r in files.log(f"/models/{name}")] == ["torch.hub", "torch.hub"]
    files.corrupt = {f"/models/{name}"}
    with pytest.raises(RuntimeError, match="invalid hash value"):
        torch.hub.download_url_to_file(url, str(tmp_path / "bad.pth"), hash_prefix=name[5:13], progress=False)
    assert not (tmp_path / "bad.pth").exists()


# -- TF Hub ----------------------------------------------------------------------------------


def test_tfhub_archive_behind_two_redirects_extracts(tmp_path: Path) -> None:
    with TfhubServer() as tfhub:
        archive = tfhub.add_model("zoofind/tiny-saved-model/1")
        r = httpx.get(f"{tfhub.url}/zoofind/tiny-saved-model/1", params={"tf-hub-format": "compressed"}, follow_redirects=True)
        assert r.status_code == 200 and r.content == archive and len(r.history) == 2
        assert "/models/zoofind/tiny-saved-model/tensorFlow2/default/1" in str(r.history[1].url)
        assert r.headers["etag"] == f'"{hashlib.md5(archive).hexdigest()}"' and r.headers["x-goog-hash"].startswith("md5=")
        assert httpx.get(str(r.url), headers={"Range": "bytes=0-1"}).content == b"\x1f\x8b"
        with tarfile.open(fileobj=io.BytesIO(r.content), mode="r:gz") as tar:
            tar.extractall(tmp_path / "model", filter="data")
        for name, data in SAVED_MODEL.items():
            assert (tmp_path / "model" / name).read_bytes() == data
        assert [e.status for e in tfhub.entries] == [302, 302, 200, 206]


ESCAPES = {"dotdot": tarfile.OutsideDestinationError,
           "symlink": tarfile.LinkOutsideDestinationError, "abs_symlink": tarfile.AbsoluteLinkError,
           "hardlink": tarfile.LinkOutsideDestinationError, "device": tarfile.SpecialFileError, "fifo": tarfile.SpecialFileError}


@pytest.mark.parametrize("variant", HOSTILE)
def test_hostile_archives_hold_what_they_claim(variant: str, tmp_path: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(saved_model_archive(variant)), mode="r:gz") as tar:
        assert set(SAVED_MODEL) <= {m.name for m in tar.getmembers()}  # a real model around the defect
        if variant == "absolute":
            # The data filter does not refuse an absolute name: it strips the leading "/" and keeps it inside.
            assert "/tmp/zoofind-escaped.txt" in tar.getnames()
            tar.extractall(tmp_path / "out", filter="data")
            assert (tmp_path / "out" / "tmp" / "zoofind-escaped.txt").exists()
            return
        with pytest.raises(ESCAPES[variant]):
            tar.extractall(tmp_path / "out", filter="data")
    assert not (tmp_path / "escaped.txt").exists()


def test_damaged_archives(tmp_path: Path) -> None:
    assert set(DAMAGED) == {"bad_crc", "truncated"}
    bad = saved_model_archive("bad_crc")
    with tarfile.open(fileobj=io.BytesIO(bad), mode="r:gz") as tar:  # tarfile alone does not notice...
        assert set(SAVED_MODEL) <= set(tar.getnames())
    with pytest.raises(gzip.BadGzipFile, match="CRC"):  # ...reading the gzip stream to its end does
        gzip.decompress(bad)
    with pytest.raises((EOFError, tarfile.ReadError)):
        with tarfile.open(fileobj=io.BytesIO(saved_model_archive("truncated")), mode="r:gz") as tar:
            tar.extractall(tmp_path / "t", filter="data")


def test_torchvision_checkpoint_with_its_real_name_loads_through_torchvision(files: FileServer, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    torchvision = pytest.importorskip("torchvision")
    from servers.torch_fixture import checkpoint

    name, data = checkpoint("squeezenet1_1")
    weights = torchvision.models.get_model_weights("squeezenet1_1").DEFAULT
    assert weights.url.endswith("/" + name) and hashlib.sha256(data).hexdigest().startswith(name[-12:-4])
    files.set_file(f"/models/{name}", data)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    # torch.hub checks the hash prefix of the real name on download...
    state = torch.hub.load_state_dict_from_url(f"{files.url}/models/{name}", check_hash=True, progress=False)
    assert (tmp_path / "torch" / "hub" / "checkpoints" / name).read_bytes() == data
    # ...and torchvision then loads the cached file under its real URL with no request.
    files.clear()
    model = torchvision.models.get_model("squeezenet1_1", weights="DEFAULT")
    assert files.requests == [] and torch.equal(model.state_dict()["classifier.1.bias"], state["classifier.1.bias"])
