#!/usr/bin/env python3
"""`zoofind cite --lock` of 100 locked models, offline: whole processes, median of --runs.

    python benchmarks/cite.py [--runs 7] [--models 100]

Two locks of --models models each, in a temporary home (no network: the Hub is never asked):

1. **catalog**: Hugging Face and torchvision ids of the bundled catalog (its papers where it has
   them; the others go to their hub's cite ability, which offline finds no card and says so).
2. **cards**: Hugging Face models outside the catalog, pulled (their README.md in the hub cache,
   laid out as `zoofind pull` lays it out), each card a ```bibtex block of two entries with LaTeX
   accents; the first entry is the same paper in every card (one reference, cited for all), the
   second each model's own.

Target (issue 18): each under 1 s. Exit code 1 when one is missed. Beside wall time: CPU seconds
(user + system of the child), the steadier figure on a shared machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

TARGET = 1.0
_SCRIPT = Path(sys.executable).with_name("zoofind")
ZOOFIND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "zoofind"]

CARD = """---
license: mit
---
# {name}

## Citation

```bibtex
@article{{lin2023,
  title = {{Evolutionary-scale prediction of atomic-level protein structure with a language model}},
  author = {{Lin, Zeming and M{{\\"u}}ller, J\\'{{e}}r\\^ome and {{The UniProt Consortium}}}},
  journal = {{Science}}, volume = {{379}}, number = {{6637}}, pages = {{1123--1130}}, year = {{2023}},
  doi = {{10.1126/science.ade2574}}
}}
@inproceedings{{own{n},
  title = "{name}: a {{BERT}}-style model number {n}",
  author = "G{{\\"o}}del, Kurt  and  Noether, Emmy",
  booktitle = "Proceedings of Benchmarks", year = "2024", pages = "{n}--{m}"
}}
```
"""


def catalog_lock(n: int):
    from zoofind import catalog
    from zoofind.models.lock import Lock, LockedFile, LockedModel

    ids = sorted(i for i in catalog.load().ids if i.startswith("hf:"))
    ids += sorted(i for i in catalog.load().ids if i.startswith("torchvision:"))
    models = []
    for k, ident in enumerate(ids[:n]):
        digest = hashlib.sha256(ident.encode()).hexdigest()
        if ident.startswith("hf:"):
            models.append(LockedModel(ident, "main", hashlib.sha1(ident.encode()).hexdigest(),
                                      (LockedFile("model.safetensors", 1000 + k, digest, digest),)))
        else:
            models.append(LockedModel(ident, None, None, (LockedFile(f"{ident[12:]}-{digest[:8]}.pth", 1000 + k,
                                                                     digest),)))
    return Lock(tuple(models), "bench")


def cards_lock(n: int, hub_cache: Path):
    """--models repos in the hub cache, each with its card, and their lock."""
    from zoofind.hubs.hf.repo_cache import RepoCache
    from zoofind.models.lock import Lock, LockedFile, LockedModel

    models = []
    for k in range(n):
        repo = f"bench-lab/model-{k:03d}"
        card = CARD.format(name=f"Model {k}", n=k, m=k + 10).encode()
        commit = hashlib.sha1(repo.encode()).hexdigest()
        etag = hashlib.sha1(b"blob %d\0" % len(card) + card).hexdigest()
        rc = RepoCache(hub_cache, repo)
        rc.blob(etag).parent.mkdir(parents=True, exist_ok=True)
        rc.blob(etag).write_bytes(card)
        rc.link(commit, "README.md", etag)
        rc.write_ref("main", commit)
        models.append(LockedModel(f"hf:{repo}", "main", commit,
                                  (LockedFile("README.md", len(card), hashlib.sha256(card).hexdigest(), etag),)))
    return Lock(tuple(models), "bench")


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--models", type=int, default=100)
    opts = ap.parse_args()
    from zoofind.ops import lockfile

    with tempfile.TemporaryDirectory(prefix="zoofind-cite-bench-") as tmp:
        home = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "ZOOFIND_", "XDG_"))}
        env.update(HOME=str(home), XDG_CACHE_HOME=str(home / "cache"), HF_HOME=str(home / "hf"),
                   ZOOFIND_CACHE_DIR=str(home / "zoofind"), HF_ENDPOINT="http://127.0.0.1:9")  # nothing answers there
        locks = {"catalog": home / "catalog.lock", "cards": home / "cards.lock"}
        lockfile.write(catalog_lock(opts.models), locks["catalog"])
        lockfile.write(cards_lock(opts.models, home / "hf" / "hub"), locks["cards"])
        failed = False
        print(f"zoofind cite --lock L --offline, {opts.models} models, median of {opts.runs} runs")
        print("| lock | wall | CPU | references | target |\n|---|---|---|---|---|")
        for name, path in locks.items():
            runs = [timed([*ZOOFIND, "cite", "--lock", str(path), "--offline"], env) for _ in range(opts.runs)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            entries = runs[0][2].count("\n@") + runs[0][2].startswith("@")
            ok = wall < TARGET
            failed |= not ok
            print(f"| {name} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms | {entries} | "
                  f"{'ok' if ok else 'MISSED'} (< {TARGET:g} s) |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
