#!/usr/bin/env python3
"""Start-up cost of `zoofind search QUERY --offline` against the floor of any Typer CLI.

    python benchmarks/startup.py [--runs 21] [--query "protein language model"]

Times whole processes (spawn to exit, stdout to a pipe) and reports the medians and
their ratio. Target: at most 1.5x `python -c "import typer"`.

zoofind freezes its objects before the interpreter exits (cli/app.py: the exit-time garbage
collections then skip them), which a plain `import typer` does not: the second floor does
the same, so its ratio is zoofind's own cost like for like.
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


def medians_ms(cmds: list[list[str]], runs: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Median wall and CPU (user+sys) time of each command; runs are interleaved so
    machine drift hits all alike. CPU time is the steadier figure on a busy machine."""
    for cmd in cmds:  # warm the page cache and the byte-code cache, and check it works
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0 or (cmd[-1] == "--offline" and not done.stdout.strip()):
            raise SystemExit(f"{' '.join(cmd)} failed (exit {done.returncode}): {done.stderr.strip()}")
    samples: list[list[float]] = [[] for _ in cmds]
    cpu: list[list[float]] = [[] for _ in cmds]
    for _ in range(runs):
        for i, cmd in enumerate(cmds):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, check=False)
            samples[i].append((time.perf_counter() - start) * 1000)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[i].append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return [statistics.median(s) for s in samples], [statistics.median(s) for s in cpu]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--query", action="append", help="query to time (repeatable)")
    args = parser.parse_args()
    queries = args.query or ["protein language model", "resnet", "bird vocalisation", "optical flow"]
    zoofind = shutil.which("zoofind") or ""
    base = [zoofind] if zoofind else [sys.executable, "-m", "zoofind"]
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "HOME": home, "ZOOFIND_CACHE_DIR": os.path.join(home, "cache")}
        env.pop("ZOOFIND_DEBUG", None)
        # Measure what users get: byte-code cached as pip and a normal Python leave it.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        floors = [[sys.executable, "-c", "import typer"], [sys.executable, "-c", "import gc, typer; gc.freeze()"]]
        cmds = [*floors, *([*base, "search", q, "--offline"] for q in queries)]
        (floor, frozen, *times), (cpu_floor, cpu_frozen, *cpus) = medians_ms(cmds, args.runs, env)
        print(f"load average {os.getloadavg()[0]:.1f}")
        print(f"{'command':52} {'wall ms':>8} {'ratio':>6} {'cpu ms':>8} {'ratio':>6}   like for like (wall, cpu)")
        for label, ms, c in (("python -c 'import typer'", floor, cpu_floor), ("python -c 'import gc, typer; gc.freeze()'", frozen, cpu_frozen)):
            print(f"{label:52} {ms:8.1f} {ms / floor:6.2f} {c:8.1f} {c / cpu_floor:6.2f}")
        worst = worst_alike = 0.0
        for q, ms, c in zip(queries, times, cpus):
            worst, worst_alike = max(worst, ms / floor), max(worst_alike, ms / frozen)
            print(f"{'zoofind search ' + repr(q) + ' --offline':52} {ms:8.1f} {ms / floor:6.2f} {c:8.1f} {c / cpu_floor:6.2f}"
                  f"   {ms / frozen:5.2f} {c / cpu_frozen:5.2f}")
    print(f"worst wall-time ratio: {worst:.2f}x (target <= 1.50x; like for like {worst_alike:.2f}x); median of {args.runs} runs each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
