"""Each locked file found in this machine's caches, for an export or a publish; the check of the
bytes read from there, and the report of what was written."""

from __future__ import annotations

import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ...fetch.integrity import Hasher
from ...models.bundle import BundledFile, BundledModel, ExportReport
from ...models.lock import Lock, LockedFile
from .manifest import BundleError, check_bytes, member_name
from .places import bundles


@dataclass(frozen=True)
class Found:
    model: int
    file: LockedFile
    path: Path
    model_path: Path


def locate(lock: Lock, env: Mapping[str, str]) -> list[Found]:
    """Each locked file in this machine's caches; ``BundleError`` listing every one that is
    missing or has another size (sizes from ``stat``: the hashes are checked while copying)."""
    found: list[Found] = []
    problems: list[str] = []
    for i, m in enumerate(lock.models):
        hub = bundles(m)
        tiers = hub.roots(env, shared=True)
        for f in m.files:
            wrong: str | None = None
            hit: Found | None = None
            for root in tiers:
                for candidate in hub.located(m, f, root):
                    try:
                        real = candidate.resolve(strict=True)
                        st = real.stat()
                    except (OSError, RuntimeError):
                        continue
                    if not stat.S_ISREG(st.st_mode):
                        continue
                    if st.st_size != f.size:
                        wrong = wrong or (f"{m.id}: {f.path} in {candidate} has {st.st_size} bytes, "
                                          f"the lock says {f.size}")
                        continue
                    hit = Found(i, f, real, hub.model_path(m, root))
                    break
                if hit:
                    break
            if hit:
                found.append(hit)
            else:
                where = "the caches" if len(tiers) > 1 else "the cache"
                problems.append(wrong or f"{m.id}: {f.path} is not in {where} "
                                f"({', '.join(str(r) for r in tiers)})")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        origin = lock.origin or "FILE"
        raise BundleError(
            f"{len(problems)} locked file(s) are not here as the lock says: " + "; ".join(problems[:5]) + more,
            hint=f"fetch them first with `zoofind pull --lock {origin}`",
        )
    return found


def check_read(h: Hasher, n: int, hit: Found, lock: Lock) -> None:
    """A cache file, as read into the bundle, against the lock."""
    what = f"{lock.models[hit.model].id}: {hit.file.path} ({hit.path})"
    if n != hit.file.size:
        raise BundleError(f"{what} shrank while it was read", hint="something is writing to the cache; export again")
    check_bytes(h, hit.file, what, "the cached bytes")


def report(lock: Lock, found: list[Found], members: Mapping[str, Found], statuses: Mapping[str, str], where: str,
           layout: str) -> ExportReport:
    """What an export or a publish did, model by model (``statuses``: each member's, by sha256)."""
    models = []
    for i, m in enumerate(lock.models):
        mine = [h for h in found if h.model == i]
        files = tuple(BundledFile(h.file.path, h.file.size, h.file.sha256, member_name(h.file.sha256),
                                  statuses[h.file.sha256], str(h.path))
                      for h in mine)
        models.append(BundledModel(m.id, str(mine[0].model_path) if mine else None, m.commit, files))
    count = {s: sum(1 for v in statuses.values() if v == s) for s in ("linked", "copied", "uploaded", "present")}
    return ExportReport(
        where, layout, tuple(models), len(members), sum(h.file.size for h in members.values()),
        linked=count["linked"], copied=count["copied"], uploaded=count["uploaded"], present=count["present"],
        sent=sum(members[sha].file.size for sha, s in statuses.items() if s == "uploaded"),
    )
