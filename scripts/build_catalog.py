#!/usr/bin/env python3
"""Compile catalog/*.toml into src/zoofind/_data/catalog.json (records + prebuilt text index).

    python scripts/build_catalog.py            # rebuild
    python scripts/build_catalog.py --check    # exit 1 if the committed file is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from zoofind.catalog import COMPILED_PATH, RECORDS_PATH  # noqa: E402
from zoofind.catalog.compile import compile_catalog, compile_dir  # noqa: E402
from zoofind.hubs.catalog import aliases  # noqa: E402


def render() -> dict[Path, str]:
    metas: dict[str, dict] = {}
    records = compile_dir(ROOT / "catalog", metas)
    index, lines = compile_catalog(records, metas, aliases(records))
    return {
        COMPILED_PATH: json.dumps(index, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
        RECORDS_PATH: "".join(lines),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if the compiled catalog is out of date")
    args = parser.parse_args()
    outputs = render()
    if args.check:
        stale = [p for p, text in outputs.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        for path in stale:
            print(f"{path} is out of date: run python scripts/build_catalog.py", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path} ({len(text.encode()) / 1e6:.2f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
