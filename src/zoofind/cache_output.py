"""The output layer's part for ``zoofind cache``: cached models in every format of the contract."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Sequence

from .output import SCHEMA_VERSION, Environment, dumps, json_text, tsv_lines
from .units import human_age, human_bytes

if TYPE_CHECKING:
    from .inventory import CachedModel


def model_json(m: "CachedModel") -> dict[str, Any]:
    return asdict(m) | {"revisions": list(m.revisions)}


def render_cache_ls(env: Environment, fmt: str, models: Sequence["CachedModel"]) -> None:
    total = sum(m.size for m in models)
    if fmt == "json":
        env.write(dumps({"schema_version": SCHEMA_VERSION, "command": "cache ls", "total_bytes": total,
                         "results": [model_json(m) for m in models]}))
    elif fmt == "jsonl":
        env.write("".join(json_text(model_json(m)) for m in models))
    elif fmt == "ids":
        env.write(tsv_lines((m.id,) for m in models))
    elif fmt == "tsv":
        env.write(tsv_lines((m.id, ",".join(r.split(" ", 1)[0] for r in m.revisions), m.size,
                             int(m.last_used) if m.last_used else "", m.path) for m in models))
    elif models:
        now = time.time()
        rows = [(m.id, ", ".join(r[:12] + r[40:] for r in m.revisions) or "-", human_bytes(m.size),
                 human_age(now - m.last_used) + " ago" if m.last_used else "?", m.path) for m in models]
        env.table(("id", "revisions", "size", "last used", "path"), rows)
    if models:
        env.note(f"{len(models)} model(s), {human_bytes(total)} on disk")
    else:
        env.note("no cached models match")


def render_cache_verify(env: Environment, fmt: str, results: Sequence[Any]) -> None:
    """stdout: one line a bad or missing file (``id<TAB>path<TAB>problem``), or the records."""
    if fmt == "json":
        env.write(dumps({"schema_version": SCHEMA_VERSION, "command": "cache verify",
                         "ok": all(r.ok for r in results), "results": [asdict(r) | {"ok": r.ok} for r in results]}))
    elif fmt == "jsonl":
        env.write("".join(json_text(asdict(r) | {"ok": r.ok}) for r in results))
    elif fmt == "ids":
        env.write(tsv_lines((r.id,) for r in results if not r.ok))
    else:
        env.write(tsv_lines((r.id, p.path, p.problem) for r in results for p in r.problems))
    bad = [r for r in results if not r.ok]
    files = sum(r.files for r in results)
    env.note(f"checked {files} file(s), {human_bytes(sum(r.bytes for r in results))}, of {len(results)} model(s): "
             + (f"{sum(len(r.problems) for r in bad)} problem(s) in {len(bad)}" if bad else "all good"))
