#!/usr/bin/env python3
"""Large user catalogs (ZOOFIND_CATALOG_DIR): load and search time against parsing the TOML alone.

    python benchmarks/user_catalog.py [--sizes 10000 50000 100000] [--runs 3]

Writes catalogs of N entries (files of 10,000 entries each, models and resources with
descriptions, tags, domains and an ``extra`` table holding a TOML date) to a temporary
folder, then reports medians of:
- tomllib parsing those files and nothing else (the peer: no loader can skip it), and the parser
  zoofind reads them with (``core.tomlread.loads``: rtoml where installed);
- ``zoofind.catalog.load()`` in a fresh process with an empty cache (parse, validate, merge
  with the bundled catalog, compile postings, facets and the record store, write the cache);
- whole ``zoofind search QUERY --offline`` processes with ZOOFIND_CATALOG_DIR set: "cold" with
  an empty cache folder each run (what the first run after an edit costs), "warm" with the
  compiled cache the previous run left (every later run while the files are unchanged), and
  "warm, filter only" (``--domain zebrafish``: every entry passes through the filter).
Target: linear in N, 100k entries in a few seconds (warm: under 2 s); the ratios to tomllib
show what zoofind adds to the parse, and what the cache saves. Each figure is the median wall
time, with the median CPU time (user + system of the process) beside it: on a shared machine
CPU time is the steadier of the two. The load average is printed with each row.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PER_FILE = 10_000
DOMAINS = ("protein", "genomics", "chemistry", "materials", "medical imaging", "earth observation", "bioacoustics", "zebrafish")
TASKS = ("image-classification", "image-segmentation", "feature-extraction", "fill-mask", "object-detection")
WORDS = "cell nucleus segmentation embryo microscopy lineage tracking spectra lattice coral reef sediment".split()


def entry(i: int) -> str:
    """One catalog entry in the schema of catalog/README.md; every tenth is a resource."""
    domain, task = DOMAINS[i % len(DOMAINS)], TASKS[i % len(TASKS)]
    words = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(4))
    if i % 10 == 0:
        head = (f'id = "catalog:lab-tool-{i}"\nkind = "resource"\nresource_type = "code"\n'
                f'url = "https://example.org/tools/{i}"\n')
    else:
        head = f'id = "hf:lab{i % 97}/model-{i}"\nkind = "model"\ntasks = ["{task}"]\nframeworks = ["pytorch"]\n'
    return (
        f"[[entry]]\n{head}name = \"Lab model {i} ({words.split()[0]})\"\n"
        f'description = "A {domain} model for {words}, number {i}."\n'
        f'domains = ["{domain}"]\ntags = ["{WORDS[i % len(WORDS)]}", "lab-{i % 13}"]\nreliability = "inferred"\n'
        f"[entry.extra]\nadded = 2024-05-{1 + i % 28:02d}\nbatch = {i % 50}\n\n"
    )


def write_catalog(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for start in range(0, n, PER_FILE):
        path = folder / f"lab-{start // PER_FILE:03d}.toml"
        body = "".join(entry(i) for i in range(start, min(n, start + PER_FILE)))
        path.write_text('[meta]\nlayer = "curated"\ndescription = "benchmark entries"\n\n' + body, encoding="utf-8")
        paths.append(path)
    return paths


def timed(cmd: list[str], env: dict[str, str], runs: int, cold: bool = False) -> tuple[float, float]:
    """Median wall and CPU seconds of ``runs`` fresh processes."""
    wall, cpu = [], []
    for _ in range(runs):
        if cold:
            shutil.rmtree(env["ZOOFIND_CACHE_DIR"], ignore_errors=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0 or not done.stdout.strip():
            raise SystemExit(f"{' '.join(cmd)} failed (exit {done.returncode}, {len(done.stdout)} bytes out): {done.stderr.strip()}")
    return statistics.median(wall), statistics.median(cpu)


def cell(t: tuple[float, float], peer: tuple[float, float]) -> str:
    return f"{t[0]:6.2f} s ({t[0] / peer[0]:4.2f}x) cpu {t[1]:6.2f} s ({t[1] / peer[1]:4.2f}x)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--query", default="zebrafish embryo segmentation")
    args = parser.parse_args()
    zoofind = shutil.which("zoofind")
    base = [zoofind] if zoofind else [sys.executable, "-m", "zoofind"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HOME": tmp, "ZOOFIND_CACHE_DIR": os.path.join(tmp, "cache")}
        for name in ("ZOOFIND_DEBUG", "PYTHONDONTWRITEBYTECODE"):
            env.pop(name, None)
        for n in args.sizes:
            folder = Path(tmp) / f"catalog-{n}"
            write_catalog(folder, n)
            env["ZOOFIND_CATALOG_DIR"] = str(folder)
            parse = [sys.executable, "-c",
                     "import sys, tomllib, pathlib\n"
                     "for p in sorted(pathlib.Path(sys.argv[1]).glob('*.toml')):\n    tomllib.loads(p.read_text('utf-8'))\n"
                     "print('parsed')",
                     str(folder)]
            fast = [sys.executable, "-c",
                    "import sys, pathlib\nfrom zoofind.core.tomlread import loads\n"
                    "for p in sorted(pathlib.Path(sys.argv[1]).glob('*.toml')):\n    loads(p.read_text('utf-8'))\n"
                    "print('parsed')",
                    str(folder)]
            load = [sys.executable, "-c", "import zoofind.catalog as c; print(len(c.load()))"]
            search = [*base, "search", args.query, "--offline", "--format", "ids"]
            filtered = [*base, "search", "--domain", "zebrafish", "--offline", "--format", "ids"]
            load_before = os.getloadavg()[0]
            t_parse = timed(parse, env, args.runs)
            t_fast = timed(fast, env, args.runs)
            t_load = timed(load, env, args.runs, cold=True)
            t_cold = timed(search, env, args.runs, cold=True)
            t_warm = timed(search, env, args.runs)  # the cold runs left the cache behind
            t_filter = timed(filtered, env, args.runs)
            print(f"{n:,} entries (load average {load_before:.2f} -> {os.getloadavg()[0]:.2f})")
            print(f"  tomllib only            {t_parse[0]:6.2f} s          cpu {t_parse[1]:6.2f} s")
            for label, t in (("zoofind's parser only", t_fast),
                             ("load (no cache)", t_load), ("cold search", t_cold), ("warm search", t_warm),
                             ("warm, filter only", t_filter)):
                print(f"  {label:23} {cell(t, t_parse)}")
            shutil.rmtree(folder)
    print(f"medians of {args.runs} runs; each a fresh process (start-up included); ratios against tomllib")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
