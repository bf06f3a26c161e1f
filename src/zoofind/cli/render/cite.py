"""The output layer's part for ``cite``: BibTeX (the default), CSL-JSON, text, or zoofind's JSON."""

from __future__ import annotations

import json

from ...models.cite import CiteReport, Reference
from ...ops.citeformats import bibtex, csl_item, csl_json, text
from .output import SCHEMA_VERSION, Environment, dumps

#: What ``zoofind cite --format`` takes: the citation formats, and zoofind's own JSON envelope.
CITE_FORMATS = ("bibtex", "csl-json", "text", "json")


def render_cite(env: Environment, fmt: str, report: CiteReport, *, related: bool) -> None:
    for note in report.notes:
        env.note(note)
    if fmt == "bibtex":
        env.write(bibtex(report, related=related))
    elif fmt == "csl-json":
        # CSL-JSON is a bare array (what pandoc and Zotero read), not zoofind's envelope.
        env.write(json.dumps(csl_json(report, related=related), indent=2, ensure_ascii=False) + "\n")
    elif fmt == "text":
        env.write("".join(line + "\n" for line in text(report, related=related)))
    else:
        env.write(dumps({
            "schema_version": SCHEMA_VERSION, "command": "cite",
            "citations": [{"id": c.id, "revision": c.revision, "keys": list(c.keys), "related": list(c.related),
                           "notes": list(c.notes)} for c in report.citations],
            "references": [_json(r) for r in report.references],
            "related": [_json(r) for r in report.related],
            "software": [{"library": u.library, "name": u.name, "version": u.version, "key": u.key,
                          "used_for": list(u.used_for)} for u in report.software],
        }))


def render_methods(env: Environment, paragraph: str, report: CiteReport) -> None:
    for note in report.notes:
        env.note(note)
    env.write(paragraph + "\n")


def _json(ref: Reference) -> dict[str, object]:
    return {"key": ref.key, "source": ref.source, "cited_for": list(ref.cited_for), "csl": csl_item(ref)}
