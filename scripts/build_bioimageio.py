"""Build catalog/bioimageio.toml (a snapshot layer) from the BioImage Model Zoo's collection.

    python scripts/build_bioimageio.py                       # the live collection (Hypha)
    python scripts/build_bioimageio.py --listing pages.json  # a saved listing (a page or a list of pages)
    python scripts/build_bioimageio.py --legacy collection.json   # the pre-Hypha collection (see below)
    python scripts/build_bioimageio.py --check               # exit 1 if the file differs from a rebuild

The live collection is read as bioimage.io's website reads it, through zoofind's own hub code
(``GET {ZOOFIND_BIOIMAGEIO_ENDPOINT or https://hypha.aicell.io}/bioimage-io/artifacts/bioimage.io/children
?pagination=true&filters={"type":"model"}``, 1000 a page), hidden models (draft, in review) left out;
each entry is the record zoofind's search makes of the model (``hubs.bioimageio.rdf.record``).

Without network, ``--legacy`` reads the collection bioimage.io published before its Hypha
artifact manager: ``collection.json`` of github.com/bioimage-io/collection-bioimage-io (gh-pages),
whose models carry the ``nickname`` that is their id in today's collection (``affable-shark`` is
Zenodo concept DOI 10.5281/zenodo.5764892 in both), their name, description, tags, licence,
authors and Zenodo DOI, but no weights: each becomes a description without ``weights`` (so no
frameworks are claimed), its DOI as its citation.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from zoofind.hubs.bioimageio import rdf  # noqa: E402

OUT = ROOT / "catalog" / "bioimageio.toml"


def live_items() -> tuple[list[dict[str, Any]], str]:
    import os

    from zoofind.core.context import Context
    from zoofind.hubs.bioimageio import SPEC, api

    ctx = Context(environ=dict(os.environ), timeout=120.0)
    endpoint = ctx.endpoint(SPEC)
    api.PAGE, api.MAX_PAGES = 1000, 50
    items: list[dict[str, Any]] = []
    with api.session(ctx) as s:
        for page in api.list_models(s, endpoint, [], order_by="created_at>"):
            items += [i for i in page if isinstance(i, dict)]
    return items, f"{endpoint}/bioimage-io/artifacts/bioimage.io/children (live)"


def saved_items(path: Path) -> tuple[list[dict[str, Any]], str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    pages = data if isinstance(data, list) and data and isinstance(data[0], dict) and "items" in data[0] else [data]
    items = [i for p in pages for i in (p.get("items", []) if isinstance(p, dict) else p)]
    source = data[0].get("_source") if isinstance(data, list) and isinstance(data[0], dict) else None
    return items, source or str(path)


def legacy_items(path: Path, commit: str | None) -> tuple[list[dict[str, Any]], str]:
    """The models of the pre-Hypha ``collection.json``, as Hypha children (``id``, ``type``, ``manifest``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    items = []
    for m in data.get("collection", []):
        if not isinstance(m, dict) or m.get("type") != "model" or not m.get("nickname"):
            continue
        doi = str(m.get("id") or "")
        manifest = {k: m[k] for k in ("name", "description", "tags", "license", "authors") if k in m}
        manifest["type"] = "model"
        if doi.startswith("10.5281/zenodo."):
            manifest["cite"] = [{"text": "Zenodo deposit of the model (concept DOI)", "doi": doi}]
        items.append({"id": f"bioimage-io/{m['nickname']}", "type": "model", "manifest": manifest,
                      "_evidence": f"https://github.com/bioimage-io/collection-bioimage-io/blob/{commit or 'gh-pages'}"
                                   f"/collection.json ({m['nickname']}: {doi})"})
    at = f" at {commit}" if commit else ""
    return items, (f"{len(items)} models of bioimage.io's pre-Hypha collection (bioimage-io/collection-bioimage-io "
                   f"gh-pages collection.json{at}), read without network: ids, names, descriptions, tags, licences, "
                   "authors and Zenodo DOIs, no weights")


def entry(item: dict[str, Any]) -> dict[str, Any] | None:
    alias = str(item.get("id", "")).split("/", 1)[-1]
    manifest = item.get("manifest")
    if item.get("type") != "model" or not isinstance(manifest, dict) or rdf.hidden(manifest):
        return None
    rec = rdf.record(alias, manifest, item).to_dict()
    keep = ("id", "kind", "name", "description", "url", "tasks", "domains", "frameworks", "packages", "license",
            "tags", "weights_format", "reliability", "evidence", "extra")
    out = {k: rec[k] for k in keep if rec.get(k) not in (None, "", [], {}, ())}
    if item.get("_evidence"):
        out["evidence"] = item["_evidence"]  # where the entry was read, when not the live collection
    extra = {k: v for k, v in out.pop("extra", {}).items() if k in ("weights", "authors", "citations")}
    if extra:
        out["extra"] = extra
    return out


def render(entries: list[dict[str, Any]], source: str, note: str) -> str:
    import tomli_w

    header = (f"# Generated by scripts/build_bioimageio.py from {source}; do not edit by hand.\n"
              "# Regenerate: python scripts/build_bioimageio.py\n\n")
    meta = {"layer": "snapshot", "generated_by": "scripts/build_bioimageio.py", "source": source,
            "count": len(entries),
            "description": "Models of the BioImage Model Zoo (bioimage.io), for offline search. " + note}
    return header + tomli_w.dumps({"meta": meta, "entry": entries})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listing", type=Path, help="a saved children listing (JSON) instead of the live one")
    parser.add_argument("--legacy", type=Path, help="the pre-Hypha collection.json (collection-bioimage-io gh-pages)")
    parser.add_argument("--legacy-commit", help="the commit --legacy was read at (said in the file's source)")
    parser.add_argument("--note", default="", help="what the meta description should add (how it was made)")
    parser.add_argument("--check", action="store_true", help="fail if catalog/bioimageio.toml differs")
    args = parser.parse_args(argv)
    if args.legacy:
        items, source = legacy_items(args.legacy, args.legacy_commit)
    else:
        items, source = saved_items(args.listing) if args.listing else live_items()
    entries = sorted((e for e in map(entry, items) if e), key=lambda e: e["id"])
    text = render(entries, source, args.note)
    if args.check:
        same = OUT.is_file() and OUT.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{OUT} differs from a rebuild", file=sys.stderr)
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(entries)} models to {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
