#!/usr/bin/env python3
"""Hugging Face datasets: the two figures of the datasets issue.

    python benchmarks/datasets.py [--files 2000] [--runs 3] [--models 1000] [--datasets 200]
                                  [--ls-runs 7] [--only 1,2] [--dir DIR]

1. A dataset of --files small files (JSON lines of 0.5-2 kB in 20 folders, plus a README and
   a .gitattributes: the many-small-files case) on the local Hub (tests/servers/hf_server.py):
   `zoofind pull hf:datasets/...` against huggingface_hub's
   `snapshot_download(repo_id, repo_type="dataset")` in a fresh process (HF_HUB_DISABLE_XET=1),
   each into an empty HF_HOME, runs interleaved after one warm-up round, medians of --runs.
   Target: zoofind at most 1.0x its time.
2. `zoofind cache ls` (the real CLI, TSV to a pipe, a fresh process) over a hub cache holding
   --models model repos (benchmarks/cache_ls.py's, with revisions and Xet-store links) and
   --datasets dataset repos (six files each, every fourth with a second revision), warm, median
   of --ls-runs. Target: under 1 s.

Exit code 1 when a target is missed. About two minutes with the defaults.
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from cache_ls import build_hf, git_blob_id, timed  # noqa: E402
from servers.hf_server import HubServer  # noqa: E402

DATASET = "bench-lab/many-small-files"


def small_files(count: int) -> dict[str, bytes]:
    files = {"README.md": b"---\nlicense: mit\n---\n# many small files\n", ".gitattributes": b"*.parquet filter=lfs\n"}
    for i in range(count - len(files)):
        row = b'{"id": %d, "text": "%s"}\n' % (i, hashlib.sha256(str(i).encode()).hexdigest().encode())
        files[f"data/part-{i % 20:02d}/rows-{i:05d}.jsonl"] = row * (6 + i % 24)
    return files


def env_for(home: Path, endpoint: str) -> dict[str, str]:
    # Byte-code cached as pip leaves it, for both clients (PYTHONPYCACHEPREFIX keeps a work tree's clean).
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "ZOOFIND_")) and k != "PYTHONDONTWRITEBYTECODE"}
    return env | {"HF_HOME": str(home), "HF_ENDPOINT": endpoint, "HF_HUB_DISABLE_XET": "1",
                  "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
                  "ZOOFIND_CACHE_DIR": str(home / "zoofind")}


def zoofind_cmd() -> list[str]:
    bindir = Path(sys.executable).parent
    return [str(bindir / "zoofind")] if (bindir / "zoofind").exists() else [sys.executable, "-m", "zoofind"]


def run(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def pull_figure(args: argparse.Namespace, base: Path) -> bool:
    files = small_files(args.files)
    size = sum(len(b) for b in files.values())
    snapshot = f"import huggingface_hub as h\nh.snapshot_download({DATASET!r}, repo_type='dataset')\n"
    with HubServer() as hub:
        hub.add_repo(DATASET, files, repo_type="dataset")
        zf_runs, hh_runs = [], []
        for i in range(args.runs + 1):  # the first round warms up
            zf_home, hh_home = base / f"zf-{i}", base / f"hh-{i}"
            h = run([sys.executable, "-c", snapshot], env_for(hh_home, hub.url))
            z = run([*zoofind_cmd(), "pull", f"hf:datasets/{DATASET}", "--quiet"], env_for(zf_home, hub.url))
            placed = sum(1 for p in (zf_home / "hub").glob("datasets--*/snapshots/*/**/*") if p.is_file())
            got = sum(1 for p in (hh_home / "hub").glob("datasets--*/snapshots/*/**/*") if p.is_file())
            if placed != len(files) or got != len(files):
                raise SystemExit(f"expected {len(files)} files from each, got zoofind {placed}, huggingface_hub {got}")
            shutil.rmtree(zf_home, ignore_errors=True)
            shutil.rmtree(hh_home, ignore_errors=True)
            if i:
                zf_runs.append(z)
                hh_runs.append(h)
    z_s, h_s = statistics.median(zf_runs), statistics.median(hh_runs)
    ratio = z_s / h_s
    print(f"1. {len(files)}-file dataset ({size / 1e6:.1f} MB) on the local Hub, median of {args.runs} runs")
    print(f"   snapshot_download(repo_type='dataset') {h_s:6.2f} s   zoofind pull {z_s:6.2f} s   "
          f"= {ratio:.2f}x its time (target <= 1.00x)   runs: zoofind {[round(x, 2) for x in zf_runs]}, "
          f"huggingface_hub {[round(x, 2) for x in hh_runs]}")
    return ratio <= 1.0


def build_datasets(hub: Path, count: int) -> None:
    for i in range(count):
        folder = hub / f"datasets--bench--data-{i:04d}"
        blobs = folder / "blobs"
        blobs.mkdir(parents=True)
        files = {"README.md": b"# data %d\n" % i, ".gitattributes": b"*.parquet filter=lfs\n",
                 **{f"data/train-{k:05d}-of-00004.parquet": hashlib.shake_256(f"d{i}-{k}".encode()).digest(2048)
                    for k in range(4)}}
        commits = [hashlib.sha1(f"dc{i}".encode()).hexdigest()]
        commits += [hashlib.sha1(f"dd{i}".encode()).hexdigest()] if i % 4 == 0 else []
        for n, commit in enumerate(commits):
            snap = folder / "snapshots" / commit
            for name, data in files.items():
                data = data + (b" " if n and name == "README.md" else b"")
                etag = hashlib.sha256(data).hexdigest() if name.endswith(".parquet") else git_blob_id(data)
                if not (blobs / etag).exists():
                    (blobs / etag).write_bytes(data)
                link = snap / name
                link.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(os.path.relpath(blobs / etag, link.parent), link)
        (folder / "refs").mkdir()
        (folder / "refs" / "main").write_text(commits[0])


def ls_figure(args: argparse.Namespace, base: Path) -> bool:
    home = base / "cache"
    hub = home / "huggingface" / "hub"
    t = time.perf_counter()
    build_hf(hub, args.models)
    build_datasets(hub, args.datasets)
    print(f"   built {args.models} model repos and {args.datasets} dataset repos in {time.perf_counter() - t:.1f} s")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TORCH_", "TFHUB_", "ZOOFIND_", "KAGGLE"))
           and k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"XDG_CACHE_HOME": str(home), "HF_HOME": str(home / "huggingface"), "HOME": str(base),
            "ZOOFIND_CACHE_DIR": str(base / "zoofind"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    seconds, out = timed([*zoofind_cmd(), "cache", "ls", "--format", "tsv"], env, args.ls_runs)
    rows = [line.split("\t") for line in out.splitlines()]
    data = sum(1 for r in rows if r[-1] == "dataset")
    only, _ = timed([*zoofind_cmd(), "cache", "ls", "--kind", "dataset", "--format", "tsv"], env, args.ls_runs)
    print(f"2. zoofind cache ls over {args.models} models and {args.datasets} datasets: {seconds:.3f} s "
          f"({len(rows)} listed, {data} datasets; target < 1 s); --kind dataset {only:.3f} s")
    return seconds < 1.0 and len(rows) == args.models + args.datasets and data == args.datasets


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--datasets", type=int, default=200)
    ap.add_argument("--ls-runs", type=int, default=7)
    ap.add_argument("--only", default="1,2")
    ap.add_argument("--dir", type=Path)
    args = ap.parse_args()
    steps = {int(s) for s in args.only.split(",") if s.strip()}
    base = Path(tempfile.mkdtemp(prefix="zoofind-datasets-", dir=args.dir))
    ok = True
    try:
        if 1 in steps:
            ok &= pull_figure(args, base)
        if 2 in steps:
            ok &= ls_figure(args, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print("targets met" if ok else "target missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
