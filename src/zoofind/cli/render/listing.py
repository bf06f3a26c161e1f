"""The output layer's part for one entry and the short listings: `info`, `list-frameworks`,
`sources` (as `pull_output.py` is for `pull`; the shared formats are `output.py`'s)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from ...core.units import human_age, human_bytes, human_count
from ...ops.citeformats import text_line
from .output import SCHEMA_VERSION, Environment, dumps, json_text, tsv_lines


def _human_value(value: Any, depth: int = 0) -> str:
    """Extra facts for people: yes/no, "ImageNet-1K: acc@1 80.858, acc@5 95.434"."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        parts = (f"{k}: {_human_value(v, depth + 1)}" if isinstance(v, dict) else f"{k} {_human_value(v, depth + 1)}"
                 for k, v in value.items())
        return ("; " if depth == 0 else ", ").join(parts)
    if isinstance(value, (list, tuple)):
        return ", ".join(_human_value(v, depth + 1) for v in value)
    return "" if value is None else str(value)


def render_info(env: Environment, fmt: str, result: Any) -> None:
    r = result.record
    reqs = [{"package": q.package, "installed": q.installed} for q in result.requirements]
    ref = result.citation
    citation = {"key": ref.key, "text": text_line(ref)} if ref is not None else None
    if fmt in ("json", "jsonl"):
        body = {"schema_version": SCHEMA_VERSION, "command": "info", "record": r.to_dict(), "requirements": reqs,
                "install": result.install, "warnings": list(result.warnings), "citation": citation}
        env.write(dumps(body) if fmt == "json" else json_text(body))
        return
    if fmt == "ids":
        env.write(tsv_lines([(r.id,)]))
        return
    pairs: list[tuple[str, str]] = [
        ("id", r.id), ("name", r.name), ("kind", r.kind if r.kind != "resource" else f"resource ({r.resource_type})"),
        ("source", r.source), ("description", r.description), ("url", r.url or ""),
        ("tasks", ", ".join(r.tasks)), ("domains", ", ".join(r.domains)),
        ("frameworks", ", ".join(r.frameworks)), ("loads with", r.libraries[0] if r.libraries else ""),
        ("alternatives", ", ".join(r.libraries[1:])),
        ("architecture", ", ".join(r.architecture)), ("datasets", ", ".join(r.datasets)),
        ("license", r.license or ""), ("gated", "yes" if r.gated else ""),
        ("remote code", "yes (trust_remote_code=True)" if r.remote_code else ""),
        ("downloadable", "" if r.downloadable else "no"),
        ("parameters", human_count(r.params)), ("size", human_bytes(r.size_bytes)),
        ("downloads", human_count(r.downloads)), ("likes", human_count(r.likes)), ("updated", r.updated or ""),
        ("weights format", ", ".join(r.weights_format)),
        ("reliability", r.reliability or ""), ("evidence", r.evidence or ""), ("notes", r.notes or ""),
    ]
    for key, value in sorted(r.extra.items()):
        if key == "paper" and citation is not None:
            continue  # said once, as the citation line below
        pairs.append((key.replace("_", " "), _human_value(value)))
    if citation is not None:
        pairs.append(("cite as", f"{citation['key']}: {citation['text']}"))
    for q in result.requirements:
        pairs.append((f"needs {q.package}", q.installed or "not installed"))
    pairs.append(("install", result.install or "everything needed is installed"))
    pairs = [(k, v) for k, v in pairs if v]
    if fmt == "tsv":
        env.write(tsv_lines(pairs))
    else:
        env.table(("field", "value"), pairs, title=r.id)


def _render_listing(
    env: Environment, fmt: str, command: str, key: str, data: Sequence[dict[str, Any]],
    tsv: Callable[[dict[str, Any]], Sequence[Any]], columns: Sequence[str],
    row: Callable[[dict[str, Any]], Sequence[str]],
    short: Collection[str] = (),
) -> None:
    """The formats every listing command shares; ``key`` names the JSON list and the id field is its first."""
    if fmt == "json":
        env.write(dumps({"schema_version": SCHEMA_VERSION, "command": command, key: list(data)}))
    elif fmt == "jsonl":
        env.write("".join(json_text(d) for d in data))
    elif fmt == "ids":
        env.write(tsv_lines((next(iter(d.values())),) for d in data))
    elif fmt == "tsv":
        env.write(tsv_lines(tsv(d) for d in data))
    else:
        env.table(columns, [row(d) for d in data], short=short)


def render_frameworks(env: Environment, fmt: str, rows: Sequence[Any]) -> None:
    data = [
        {"key": row.library.key, "name": row.library.name, "pip": list(row.library.pip), "module": row.library.module,
         "runs_on": row.library.framework, "is_framework": row.library.is_framework,
         "installed": row.installed, "catalog_models": row.models, "url": row.library.url}
        for row in rows
    ]
    # The table and TSV show the same columns, in the same order (TSV's first five as before).
    _render_listing(
        env, fmt, "list-frameworks", "frameworks", data,
        tsv=lambda d: (d["key"], d["name"], " ".join(d["pip"]), d["installed"] or "", d["catalog_models"],
                       d["runs_on"] or ""),
        columns=("framework", "name", "pip install", "installed", "catalog models", "runs on"),
        row=lambda d: (d["key"], d["name"], " ".join(d["pip"]), d["installed"] or "-", str(d["catalog_models"]),
                       d["runs_on"] or ""),
        short=("installed",),
    )
    unused = [d["key"] for d in data if not d["catalog_models"]]
    if unused:
        env.note(f"no catalog model needs {len(unused)} of these ({', '.join(unused)}: catalog models 0); "
                 "zoofind knows them to read hub tags and what a live model needs")


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def render_sources(env: Environment, fmt: str, rows: Sequence[Any]) -> None:
    data = [
        {"name": s.name, "title": s.title, "endpoint": s.endpoint, "network": s.network, "reachable": s.reachable,
         "reason": s.reason, "credentials": s.credentials, "cache_age_seconds": s.cache_age_seconds,
         "details": dict(s.details)}
        for s in rows
    ]
    _render_listing(
        env, fmt, "sources", "sources", data,
        tsv=lambda d: (d["name"], d["endpoint"], _yes_no(d["reachable"]), _yes_no(d["credentials"]),
                       human_age(d["cache_age_seconds"]), d["reason"]),
        columns=("source", "endpoint", "reachable", "credentials", "cache age", "notes"),
        short=("source", "reachable", "credentials", "cache age"),
        row=lambda d: (
            d["name"], d["endpoint"] or "", _yes_no(d["reachable"]) or "not probed", _yes_no(d["credentials"]) or "-",
            human_age(d["cache_age_seconds"]) or "-",
            "; ".join(filter(None, [d["reason"], *(f"{k}: {v}" for k, v in d["details"].items())])),
        ),
    )
