#!/usr/bin/env python3
"""Ranking quality on the judged queries in tests/judged_queries.toml.

    python benchmarks/ranking.py [-v]

Prints hit@1, hit@5 and MRR@10 of `zoofind search QUERY --offline` and, with -v, each query.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
JUDGED = ROOT / "tests" / "judged_queries.toml"


def evaluate(verbose: bool = False) -> dict[str, float]:
    from zoofind.core.context import Context
    from zoofind.hubs import SearchQuery
    from zoofind.ops.find import search

    queries = tomllib.loads(JUDGED.read_text(encoding="utf-8"))["query"]
    hit1 = hit5 = rr = 0.0
    for q in queries:
        ids = [h.record.id for h in search(SearchQuery(text=q["text"], limit=10), Context.from_env(offline=True)).hits]
        ranks = [ids.index(g) + 1 for g in q["good"] if g in ids]
        best = min(ranks) if ranks else None
        hit1 += best == 1
        hit5 += bool(best and best <= 5)
        rr += 1 / best if best else 0
        if verbose:
            print(f"{best or '-':>3}  {q['text']}", file=sys.stderr)
    n = len(queries)
    return {"queries": n, "hit@1": hit1 / n, "hit@5": hit5 / n, "mrr@10": rr / n}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    r = evaluate(args.verbose)
    print(f"{r['queries']} judged queries: hit@1 {r['hit@1']:.2f}  hit@5 {r['hit@5']:.2f}  MRR@10 {r['mrr@10']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
