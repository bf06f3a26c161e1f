"""The output layer's part for ``zoofind cache``: cached models in every format of the contract."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict, fields
from typing import TYPE_CHECKING, Any

from ...core.units import counted, human_age, human_bytes
from ...ops.inventory import total
from .output import SCHEMA_VERSION, Environment, dumps, json_text, tsv_lines

if TYPE_CHECKING:
    from ...models.cache import CachedModel, Removal, Removed

#: Library-side detail JSON leaves out (the Xet store blobs behind ``total_bytes``).
_INTERNAL = ("store_blobs",)


def model_json(m: CachedModel) -> dict[str, Any]:
    out = {f.name: getattr(m, f.name) for f in fields(m) if f.name not in _INTERNAL}
    return out | {"revisions": list(m.revisions)}


def render_cache_ls(env: Environment, fmt: str, models: Sequence[CachedModel], *, filtered: bool = True) -> None:
    """The cached models (``filtered``: the user narrowed the list, so an empty one means "none of those")."""
    whole = total(models)
    if fmt == "json":
        env.write(dumps({"schema_version": SCHEMA_VERSION, "command": "cache ls", "total_bytes": whole,
                         "results": [model_json(m) for m in models]}))
    elif fmt == "jsonl":
        env.write("".join(json_text(model_json(m)) for m in models))
    elif fmt == "ids":
        env.write(tsv_lines((m.id,) for m in models))
    elif fmt == "tsv":
        # The tier, then the kind, go last: the first five columns are those of schema 1's first release.
        env.write(tsv_lines((m.id, ",".join(r.split(" ", 1)[0] for r in m.revisions), m.size,
                             int(m.last_used) if m.last_used else "", m.path, m.tier, m.kind) for m in models))
    elif models:
        now = time.time()
        tiers = any(m.tier != "local" or m.linked_size for m in models)

        def size(m: CachedModel) -> str:
            return human_bytes(m.size) + (f" (+{human_bytes(m.linked_size)} shared)" if m.linked_size else "")

        # A table is for reading (TSV and JSON carry every digit and the whole path): a commit as
        # its first 8 hex digits and ref, the path under the id, from ~, cut in the middle if need be.
        rows = [((m.id, _home_short(m.path)), ", ".join(r[:8] + r[40:] for r in m.revisions) or "-", size(m),
                 *((m.tier,) if tiers else ()), human_age(now - m.last_used) + " ago" if m.last_used else "?")
                for m in models]
        env.table(("id, path", "revisions", "size", *(("tier",) if tiers else ()), "last used"), rows,
                  short=("revisions", "size", "tier", "last used"), clip=("id, path",))
    if not models:
        env.note("no cached models match" if filtered else
                 "no model is cached yet (the Hugging Face, torch.hub, TF Hub and kagglehub caches and any "
                 "shared tier hold none); `zoofind pull ID` fills them")
        return
    note = f"{counted(m.id for m in models)}, {human_bytes(whole)} on disk"
    shared = [m for m in models if m.tier == "shared"]
    if shared:
        note += (f": {human_bytes(total([m for m in models if m.tier == 'local']))} in your caches, "
                 f"{human_bytes(total(shared))} in the shared tier")
    if whole < sum(m.size for m in models):
        note += " (a blob several repos share counted once)"
    linked = sum(m.linked_size for m in models)
    if linked:
        note += f"; local models also link to {human_bytes(linked)} in the shared tier"
    env.note(note)


def _home_short(path: str) -> str:
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if home not in ("", "/", "~") and path.startswith(home + os.sep) else path


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
    env.note(f"checked {files} file(s), {human_bytes(sum(r.bytes for r in results))}, "
             f"of {counted(r.id for r in results)}: "
             + (f"{sum(len(r.problems) for r in bad)} problem(s) in {len(bad)}" if bad else "all good"))


def _named(r: Removal) -> str:
    return f"{r.id}{'@' + r.revision[:12] if r.revision else ''}"


def render_removal_plan(env: Environment, plan: Sequence[Removal], *, dry_run: bool) -> None:
    """stderr: each removal and its bytes; with ``dry_run`` stdout gets every path that would go."""
    for r in plan:
        env.note(f"{'would remove' if dry_run else 'removing'} {_named(r)}: {human_bytes(r.bytes)}")
    if dry_run:
        env.write("".join(f"{p}\n" for r in plan for p in r.paths))
        env.note(f"{len(plan)} removal(s) would free {human_bytes(sum(r.bytes for r in plan))}")
    elif not plan:
        env.note("nothing to remove")


def render_removed(env: Environment, removed: Removed) -> None:
    for s in removed.skipped:
        env.warn(f"kept {_named(s.removal)}: {s.reason}; run the removal again once it is done")
    env.note(f"freed {human_bytes(removed.freed)}"
             + (f"; {len(removed.skipped)} removal(s) skipped" if removed.skipped else ""))
