#!/usr/bin/env python3
"""`zoofind export` / `zoofind import` of a 1 GiB bundle against `tar` on the same files.

    python benchmarks/bundle.py [--mib 1024] [--shards 4] [--runs 3] [--dir DIR]

A Hugging Face repo of --shards safetensors shards (--mib in all, random bytes) plus a few
small files is laid out in a hub cache as `zoofind pull` lays it out, and locked. Each run
(interleaved, medians of --runs) times whole processes; before each timed command, untimed:
`sync` (no run pays for the previous one's writeback) and a read of its input files (both
sides start from the page cache: on a machine whose cache is small next to the bundles the
side that happens to read from disk would lose by seconds):

1. `tar -cf peer.tar <the cache's blob files>` against `zoofind export --lock L out.tar`
   (zoofind also hashes every byte against the lock while it copies).
2. `tar -xf peer.tar -C <empty folder>` against `zoofind import out.tar` into empty caches
   (zoofind also hashes every byte, renames each file into place, links the snapshot).
3. For information: `zoofind export` to a folder (hard links: it only reads and hashes).

Target (issue 9): each zoofind figure within 1.2x of tar's. Exit code 1 when one is missed.
Files go to a temporary folder (--dir; at most 3x --mib on disk at once). Beside wall time the report
gives CPU seconds (user + system, from the child's rusage): on a busy machine with few cores
a side's wall time follows the CPU it needs, and zoofind's includes a SHA-256 of every byte.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

MiB = 1024 * 1024
REPO = "bench-lab/sharded"
COMMIT = "b" * 40
TARGET = 1.2
#: The console script beside this Python (the one `pip install` made), else `python -m zoofind`.
_SCRIPT = Path(sys.executable).with_name("zoofind")
ZOOFIND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "zoofind"]


def seed(home: Path, mib: int, shards: int) -> tuple[Path, list[Path]]:
    """The repo in a hub cache under ``home``; returns the lock and the blob files."""
    from zoofind.hubs.hf.repo_cache import RepoCache
    from zoofind.ops import lockfile
    from zoofind.ops.lockfile import Lock, LockedFile, LockedModel

    rc = RepoCache(home / "hf" / "hub", REPO)
    files: dict[str, bytes | Path] = {"config.json": b'{"model_type": "bench"}\n', "README.md": b"# bench\n",
                                      "tokenizer.json": os.urandom(200_000)}
    shard = mib * MiB // shards
    locked = []
    for i in range(shards):
        files[f"model-{i + 1:05d}-of-{shards:05d}.safetensors"] = shard  # type: ignore[assignment]
    for path, data in files.items():
        if isinstance(data, int):
            h = hashlib.sha256()
            tmp = rc.root / "blobs" / f".tmp-{path}"
            tmp.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as out:
                for _ in range(data // (8 * MiB)):
                    block = os.urandom(8 * MiB)
                    h.update(block)
                    out.write(block)
            size, digest = data, h.hexdigest()
            etag = digest
            tmp.rename(rc.blob(etag))
        else:
            assert isinstance(data, bytes)
            size, digest = len(data), hashlib.sha256(data).hexdigest()
            etag = hashlib.sha1(b"blob %d\0" % size + data).hexdigest()
            rc.blob(etag).parent.mkdir(parents=True, exist_ok=True)
            rc.blob(etag).write_bytes(data)
        rc.link(COMMIT, path, etag)
        locked.append(LockedFile(path, size, digest, etag))
    rc.write_ref("main", COMMIT)
    lock = home / "zoofind.lock"
    lockfile.write(Lock((LockedModel(f"hf:{REPO}", "main", COMMIT, tuple(locked)),), "bench"), lock)
    return lock, sorted((rc.root / "blobs").iterdir())


#: What users run with: byte-code cached as pip and a normal Python leave it.
BASE_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def warm(paths: list[Path]) -> None:
    for p in paths:
        with p.open("rb") as fh:
            while fh.read(8 * MiB):
                pass


def timed(argv: list[str], inputs: list[Path], env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole process."""
    subprocess.run(["sync"], check=True)
    warm(inputs)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env={**BASE_ENV, **(env or {})}, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    err = proc.stderr.read() if proc.stderr else b""
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{argv[:4]} failed: {err.decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="zoofind-bench-bundle-", dir=args.dir))
    try:
        source = base / "source"
        lock, blobs = seed(source, args.mib, args.shards)
        total = sum(p.stat().st_size for p in blobs)
        src_env = {"HF_HOME": str(source / "hf"), "TORCH_HOME": str(source / "torch"), "TFHUB_CACHE_DIR": str(source / "tfhub")}
        zoofind = ZOOFIND
        rel = [str(p.relative_to(blobs[0].parent)) for p in blobs]
        for command in ("export", "import"):  # write the byte-code caches (each fails at once: no such file)
            subprocess.run([*zoofind, command, *(["--lock", str(base / "none.lock")] if command == "export" else []), str(base / "none.tar")],
                           env=BASE_ENV, capture_output=True)
        figures: dict[str, list[tuple[float, float]]] = {k: [] for k in ("tar -cf", "export", "tar -xf", "import", "export folder")}
        out_tar, peer_tar, peer_dir, folder, target = (base / n for n in ("out.tar", "peer.tar", "peer", "folder", "target"))
        dst_env = {"HF_HOME": str(target / "hf"), "TORCH_HOME": str(target / "torch"), "TFHUB_CACHE_DIR": str(target / "tfhub")}

        def clean() -> None:  # at most two bundle-sized copies beside the source at any time
            for p in (out_tar, peer_tar):
                p.unlink(missing_ok=True)
            for d in (peer_dir, folder, target):
                shutil.rmtree(d, ignore_errors=True)

        for run in range(args.runs):
            clean()
            figures["tar -cf"].append(timed(["tar", "-cf", str(peer_tar), *rel], blobs, cwd=blobs[0].parent))
            peer_dir.mkdir()
            figures["tar -xf"].append(timed(["tar", "-xf", str(peer_tar), "-C", str(peer_dir)], [peer_tar]))
            clean()
            figures["export"].append(timed([*zoofind, "export", "--lock", str(lock), str(out_tar), "-q"], blobs, src_env))
            figures["import"].append(timed([*zoofind, "import", str(out_tar), "-q"], [out_tar], dst_env))
            clean()
            figures["export folder"].append(timed([*zoofind, "export", "--lock", str(lock), str(folder) + "/", "-q"], blobs, src_env))
            print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1][0]:.2f} s" for k, v in figures.items()), file=sys.stderr)
        med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in figures.items()}
        rows = [("export (tar)", med["export"], "tar -cf", med["tar -cf"]), ("import (tar)", med["import"], "tar -xf", med["tar -xf"])]
        print(f"\n{total / MiB:.0f} MiB in {len(blobs)} files, medians of {args.runs} interleaved runs\n")
        print("| step | zoofind | tar | ratio (wall) | target | met |")
        print("|---|---|---|---|---|---|")
        missed = False
        for name, (mine, mine_cpu), peer_name, (peer, peer_cpu) in rows:
            ratio = mine / peer
            ok = ratio <= TARGET
            missed |= not ok
            print(f"| {name} | {mine:.2f} s, {total / mine / 1e6:.0f} MB/s (CPU {mine_cpu:.2f} s) | `{peer_name}` {peer:.2f} s, "
                  f"{total / peer / 1e6:.0f} MB/s (CPU {peer_cpu:.2f} s) | {ratio:.2f}x | <= {TARGET}x | {'yes' if ok else '**no**'} |")
        folder_wall, folder_cpu = med["export folder"]
        print(f"| export (folder, hard links) | {folder_wall:.2f} s, {total / folder_wall / 1e6:.0f} MB/s (CPU {folder_cpu:.2f} s) | | | | |")
        return 1 if missed else 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
