#!/usr/bin/env python3
"""`zoofind cache ls` over a cache of 1,000 models, against huggingface_hub on the same Hub part.

    python benchmarks/cache_ls.py [--hf 600] [--torch 250] [--tfhub 150] [--runs 7] [--dir DIR]

Builds, in a temporary folder (--dir), a cache home laid out as each framework lays it out:
--hf Hugging Face repos (config.json, tokenizer.json, model.safetensors; every fifth repo
with a second revision sharing the weights; every tenth pair sharing its weights through
huggingface_hub's cache-wide Xet store), --torch torch.hub checkpoints (named as the
catalog's torchvision weights are) and --tfhub TF Hub module folders with descriptors.
Files are small: the listing's cost is in the files and folders, not their bytes.

Then times, warm (one run first, then the median of --runs), each as a fresh process:

* `zoofind cache ls` (the real CLI, TSV to a pipe) over everything. Target: under 1 s.
* `zoofind cache ls -s hf`, and its peers over the same hub cache: huggingface_hub's
  `hf cache ls` and `python -c "huggingface_hub.scan_cache_dir()"`.

Exit code 1 when the target is missed.
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

TARGET = 1.0


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def build_hf(hub: Path, count: int) -> None:
    store = hub / "blobs"
    store.mkdir(parents=True)
    (store / ".huggingface-shared-blobs").write_text("1\n")
    for i in range(count):
        folder = hub / f"models--bench--model-{i:04d}"
        blobs = folder / "blobs"
        blobs.mkdir(parents=True)
        weights = hashlib.shake_256(f"w{i // 2 if i % 10 < 2 else i}".encode()).digest(4096)
        files = {"config.json": f'{{"i": {i}}}'.encode(), "tokenizer.json": b'{"t": %d}' % i, "model.safetensors": weights}
        commits = [hashlib.sha1(f"c{i}".encode()).hexdigest()] + ([hashlib.sha1(f"d{i}".encode()).hexdigest()] if i % 5 == 0 else [])
        for n, commit in enumerate(commits):
            snap = folder / "snapshots" / commit
            snap.mkdir(parents=True)
            for name, data in files.items():
                if n:
                    data = data + b" "  # the second revision changes the small files, keeps the weights
                etag = hashlib.sha256(data).hexdigest() if name.endswith(".safetensors") else git_blob_id(data)
                blob = blobs / etag
                if not blob.exists() and not blob.is_symlink():
                    if name.endswith(".safetensors") and i % 10 < 2:
                        # Shared through the Xet store, as huggingface_hub 2.x lays it out (utils/_shared_blobs.py).
                        xet = hashlib.sha256(b"xet" + data).hexdigest()
                        payload = store / xet[:2] / xet
                        payload.parent.mkdir(exist_ok=True)
                        if not payload.exists():
                            payload.write_bytes(data)
                        with open(str(payload) + ".refs", "a") as fh:
                            fh.write(f"{folder.name}/blobs/{etag}\n")
                        os.symlink(os.path.relpath(payload, blobs), blob)
                    else:
                        blob.write_bytes(data)
                os.symlink(f"../../blobs/{etag}", snap / name)
        refs = folder / "refs"
        refs.mkdir()
        (refs / "main").write_text(commits[0])


def build_torch(checkpoints: Path, count: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from zoofind import catalog

    names = sorted({str(r.extra["url"]).rsplit("/", 1)[-1] for r in catalog.load().all_records()
                    if r.source == "torchvision" and isinstance(r.extra.get("url"), str)})
    names += [f"extra_{i:04d}-{hashlib.sha256(str(i).encode()).hexdigest()[:8]}.pth" for i in range(count)]
    checkpoints.mkdir(parents=True)
    for name in names[:count]:
        (checkpoints / name).write_bytes(hashlib.shake_256(name.encode()).digest(2048))


def build_tfhub(root: Path, count: int) -> None:
    root.mkdir(parents=True)
    for i in range(count):
        handle = f"bench/module-{i}/1"
        sha = hashlib.sha1(f"https://tfhub.dev/{handle}".encode()).hexdigest()
        module = root / sha
        (module / "variables").mkdir(parents=True)
        (module / "saved_model.pb").write_bytes(b"p" * 1000)
        (module / "variables" / "variables.index").write_bytes(b"i" * 100)
        (module / "variables" / "variables.data-00000-of-00001").write_bytes(b"d" * 3000)
        (root / f"{sha}.descriptor.txt").write_text(f"Module: https://tfhub.dev/{handle}\nDownload Time: now\nDownloader Hostname: bench (PID:1)")


def timed(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, str]:
    """Median wall seconds of ``runs`` fresh processes after one warm-up, and the last stdout."""
    out = ""
    samples = []
    for n in range(runs + 1):
        t = time.perf_counter()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - t
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")
        out = done.stdout
        if n:
            samples.append(elapsed)
    return statistics.median(samples), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hf", type=int, default=600)
    ap.add_argument("--torch", type=int, default=250)
    ap.add_argument("--tfhub", type=int, default=150)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--dir", type=Path)
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="zoofind-cache-ls-", dir=args.dir))
    try:
        home = base / "cache"
        t = time.perf_counter()
        build_hf(home / "huggingface" / "hub", args.hf)
        build_torch(home / "torch" / "hub" / "checkpoints", args.torch)
        build_tfhub(home / "tfhub_modules", args.tfhub)
        print(f"built {args.hf} Hub repos, {args.torch} checkpoints, {args.tfhub} TF Hub modules in {time.perf_counter() - t:.1f} s ({base})")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TORCH_", "TFHUB_", "ZOOFIND_", "KAGGLE"))}
        env |= {"XDG_CACHE_HOME": str(home), "HF_HOME": str(home / "huggingface"), "HOME": str(base),
                "ZOOFIND_CACHE_DIR": str(base / "zoofind"), "HF_HUB_DISABLE_TELEMETRY": "1"}
        bindir = Path(sys.executable).parent
        zoofind = [str(bindir / "zoofind")] if (bindir / "zoofind").exists() else [sys.executable, "-m", "zoofind"]
        everything, out = timed([*zoofind, "cache", "ls", "--format", "tsv"], env, args.runs)
        listed = out.count("\n")
        expected = args.hf + args.torch + args.tfhub
        hf_only, _ = timed([*zoofind, "cache", "ls", "-s", "hf", "--format", "tsv"], env, args.runs)
        scan, _ = timed([sys.executable, "-c", "import huggingface_hub as h; i = h.scan_cache_dir(); assert not i.warnings, i.warnings[:3]; print(len(i.repos))"], env, args.runs)
        hf_cli = bindir / "hf"
        peer = timed([str(hf_cli), "cache", "ls"], env, args.runs)[0] if hf_cli.exists() else None
        print(f"zoofind cache ls          {everything:6.3f} s  ({listed} models listed of {expected}; target < {TARGET:.1f} s)")
        print(f"zoofind cache ls -s hf    {hf_only:6.3f} s  ({args.hf} repos)")
        print(f"scan_cache_dir() (python) {scan:6.3f} s  (same {args.hf} repos)")
        if peer is not None:
            print(f"hf cache ls               {peer:6.3f} s  (same {args.hf} repos)")
        ok = everything < TARGET and listed == expected
        print("target met" if ok else "target missed")
        return 0 if ok else 1
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
