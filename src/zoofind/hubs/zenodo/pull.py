"""Zenodo records into zoofind's store (``layout``), and their locks.

A pull reads the record (one request, answer-cached), plans each file (``zenodo:<id>/<key>``: that
one; ``--include``/``--exclude`` globs over the keys), and hands the engine one ``Download`` each,
checked against Zenodo's size and MD5 while its SHA-256 is computed (what the lock records). Files
appear only verified (the engine renames them into place); the folder is a record only once
``place`` has written its manifest, last. ``@latest``: the latest version of the record's concept,
the only revision a Zenodo id takes (each version is a record of its own); the lock pins the exact
record id as its commit. Offline: the store alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ...caches import safe_relpath
from ...core.atomic import write_json
from ...core.errors import NotFoundError, OfflineError, UsageError
from ...fetch.locks import lock_for
from ...models.files import FileEntry
from ...models.pull import ModelPlan, PlannedFile, PullOptions, PullResult
from ...models.records import ParsedId
from .. import registry
from ..ids import parse_id
from ..pulling import (
    choose,
    differs,
    file_label,
    locked_missing,
    offline_hint,
    placed_sha256,
    sha256_of,
    skipped_note,
)
from . import SPEC, api, layout, record, record_of

if TYPE_CHECKING:
    from ...core.context import Context
    from ...models.lock import LockedModel
    from ...models.transfer import Download, Fetched
    from .source import ZenodoSource

NO_MD5_SKIP = "Zenodo gives no md5 for it: not fetched (nothing could check it)"
LATEST = "latest"


@dataclass(frozen=True)
class ZenodoPlan(ModelPlan):
    #: Each fetched file's MD5 as Zenodo gives it (the manifest keeps it for `cache verify`).
    md5s: Mapping[str, str] = field(default_factory=dict)
    #: The record's JSON as zoofind keeps it (stored with the files: offline info and cite read it).
    record: Mapping[str, Any] | None = None


def _source() -> ZenodoSource:
    return cast("ZenodoSource", registry.get(SPEC.name))


def _latest(pid: ParsedId, revision: str | None) -> bool:
    if revision is None:
        return False
    if revision.lower() == LATEST:
        return True
    raise UsageError(f"zenodo:{pid.ref}@{revision}: a Zenodo version is a record of its own",
                     hint=f"name the version's record id (zenodo:<id>), or zenodo:{record_of(pid.ref)}@latest")


def key_of(pid: ParsedId | str) -> str | None:
    """The file a ref names (``123/model.pth`` -> ``model.pth``), None for a whole record."""
    ref = pid.ref if isinstance(pid, ParsedId) else pid
    return ref.split("/", 1)[1] if "/" in ref else None


def _download(url: str, target: Path, folder: Path, key: str, size: int, *, md5: str | None = None,
              sha256: str | None = None) -> Download:
    from ...models.transfer import (
        Download,  # lazy: pull --offline start-up (the engine only when fetching)
        Expected,  # lazy: pull --offline start-up (hashing code)
    )

    return Download(url, target, layout.lock_path(folder, key), Expected(size, sha256, md5=md5),
                    file_label(folder.name, key, named=True))


def _path(folder: Path, key: str | None) -> Path:
    """What the user loads: the one file a ``zenodo:<id>/<key>`` names, else the record's folder."""
    return layout.where(folder, key) if key else folder


def plan_record(pid: ParsedId, data: Mapping[str, Any], ctx: Context, opts: PullOptions, *,
                revision: str | None) -> ZenodoPlan:
    """The plan of a record from its JSON."""
    endpoint = ctx.endpoint(SPEC)
    rid = record.record_id(data)
    zfiles = {z.key: z for z in record.files(data, endpoint)}
    key = key_of(pid)
    if key is not None and key not in zfiles:
        listed = ", ".join(list(zfiles)[:10]) or "none"
        raise NotFoundError(f"Zenodo record {rid} has no file {key!r}", hint=f"its files: {listed}")
    if not zfiles:
        raise NotFoundError(f"Zenodo record {rid} has no files to download (restricted or metadata only)",
                            hint=f"see {endpoint.rstrip('/')}/records/{rid}")
    folder = layout.folder(layout.store(ctx.environ), rid)
    entries = [FileEntry(z.key, z.url, z.size) for z in zfiles.values()]
    chosen = [(e, None) for e in entries if e.path == key] if key else choose(entries, opts)
    known = layout.marked(folder)
    files, md5s = [], {}
    for entry, skip in chosen:
        z = zfiles[entry.path]
        target = layout.where(folder, z.key)
        if skip is None and z.md5 is None:
            skip = NO_MD5_SKIP
        if skip is not None:
            files.append(PlannedFile(entry, skip, target))
            continue
        md5s[z.key] = z.md5 or ""
        mark = known.get(z.key) or {}
        if target.is_file() and mark.get("size") == z.size == target.stat().st_size and mark.get("md5") == z.md5:
            files.append(PlannedFile(entry, None, target, present=True))
        else:
            files.append(PlannedFile(entry, None, target, download=_download(z.url, target, folder, z.key, z.size,
                                                                               md5=z.md5)))
    notes = list(skipped_note(str(pid), chosen))
    if rid != record_of(pid.ref):
        why = "the latest version of its concept" if revision else "Zenodo answered it with that version"
        notes.append(f"zenodo:{record_of(pid.ref)} is record {rid} ({why}); a lock pins {rid}")
    return ZenodoPlan(str(pid), SPEC.name, revision=revision or rid, commit=rid, path=_path(folder, key),
                      files=tuple(files), notes=tuple(notes), md5s=md5s, record=data)


def _offline(pid: ParsedId, base: Path, latest: bool, asked: str) -> ZenodoPlan:
    rid = record_of(pid.ref)
    folder = layout.folder(base, rid)
    if latest:
        # The versions of one concept on this machine: by the concept a manifest records, or the
        # record ids a pull of @latest (or of a concept id) was asked with.
        concept = (layout.read_marker(folder) or {}).get("concept") or rid
        same = [f for f in layout.records(base) if f.name == rid or (m := layout.read_marker(f) or {}).get(
            "concept") in (concept, rid) or rid in (m.get("asked") or [])]
        folder = same[-1] if same else folder
    known = layout.marked(folder)
    if not known:
        raise OfflineError(f"zenodo:{rid}{'@latest' if latest else ''} is not in zoofind's Zenodo store {base}",
                           hint=offline_hint(asked))
    key = key_of(pid)
    if key is not None and key not in known:
        raise OfflineError(f"{pid}: {key} was not pulled with record {folder.name}", hint=offline_hint(asked))
    files = []
    for path, mark in sorted(known.items()):
        if key is not None and path != key:
            continue
        target = layout.where(folder, path)
        if not target.is_file():
            raise OfflineError(f"{pid}: {path} is missing from {folder}", hint=offline_hint(asked))
        files.append(PlannedFile(FileEntry(path, "", mark["size"], mark["sha256"]), None, target, present=True))
    return ZenodoPlan(str(pid), SPEC.name, revision=LATEST if latest else folder.name, commit=folder.name,
                      path=_path(folder, key), files=tuple(files))


def record_folder(result: PullResult) -> Path:
    """The record's folder from what a result loads (the folder itself, or the one file its id names)."""
    assert result.path is not None
    key = key_of(parse_id(result.id))
    path = Path(result.path)
    return path.parents[len(key.split("/")) - 1] if key else path


class ZenodoPull:
    describes_uncurated = True

    def plan(self, pid: ParsedId, ctx: Context, opts: PullOptions, *, revision: str | None, asked: str) -> ModelPlan:
        latest = _latest(pid, revision)
        if ctx.offline:
            return _offline(pid, layout.store(ctx.environ), latest, asked)
        data = _source().record_json(pid.ref, ctx, latest=latest)
        return plan_record(pid, data, ctx, opts, revision=LATEST if latest else None)

    def place(self, plan: ModelPlan, fetched: Mapping[str, Fetched], ctx: Context) -> Mapping[str, Path]:
        """Write the manifest (every file's size, md5 and sha256), last: from then on the folder is a record."""
        assert plan.commit is not None
        place_files(plan, layout.folder(layout.store(ctx.environ), plan.commit), fetched)
        return plan.targets()


def place_files(plan: ModelPlan, folder: Path, fetched: Mapping[str, Fetched]) -> None:
    md5s = plan.md5s if isinstance(plan, ZenodoPlan) else {}
    data = plan.record if isinstance(plan, ZenodoPlan) else None
    lock = lock_for(layout.place_lock(folder))
    lock.acquire()  # another process placing the same record: one manifest at a time
    try:
        old = layout.read_marker(folder) or {}
        files = {k: v for k, v in (old.get("files") or {}).items() if layout.where(folder, k).is_file()}
        for f in plan.files:
            if f.skip is not None or f.target is None:
                continue
            known = files.get(f.path, {})
            sha = placed_sha256(f, fetched.get(f.path), known.get("sha256"))
            mark = {"size": f.target.stat().st_size, "sha256": sha}
            if md5s.get(f.path) or known.get("md5"):
                mark["md5"] = md5s.get(f.path) or known["md5"]
            files[f.path] = mark
        kept = data if data is not None else old.get("record")
        concept = record.version_info(kept).get("concept") if isinstance(kept, dict) else old.get("concept")
        asked = list(dict.fromkeys([*(old.get("asked") or []), record_of(parse_id(plan.id).ref)]))
        write_json(folder / layout.MARKER, {"id": f"zenodo:{folder.name}", "concept": concept, "asked": asked,
                                            "files": files, **({"record": kept} if kept else {})})
    finally:
        lock.release()


class ZenodoLock:
    def pin(self, result: PullResult) -> LockedModel:
        from ...models.lock import LockedFile, LockedModel  # lazy: pull --offline start-up (lock records)

        folder = record_folder(result)
        files = tuple(LockedFile(f.path, layout.where(folder, f.path).stat().st_size,
                                 sha256_of(layout.where(folder, f.path), f.sha256, f.status))
                      for f in result.files if f.status != "skipped")
        return LockedModel(result.id, result.revision, result.commit, files, None, result.framework)

    def problem(self, locked: LockedModel) -> str | None:
        if not (locked.commit or "").isdigit():
            return f"{locked.id}: a Zenodo record's lock entry needs its record id (`commit`)"
        for f in locked.files:
            try:
                safe_relpath(f.path, what=locked.id)
            except Exception as exc:  # noqa: BLE001 - the refusal's words are the problem
                return str(exc)
            if f.path.split("/", 1)[0].startswith(layout.ZOOFIND_OWN):
                return f"{locked.id}: {f.path!r} is zoofind's own file in a Zenodo record, not a record file"
        return None

    def plan_locked(self, locked: LockedModel, ctx: Context, opts: PullOptions) -> ModelPlan:
        """Cached files hashed against the lock now; missing ones fetched from the record's file URLs
        against the lock's size and sha256 (no metadata request)."""
        rid = locked.commit or ""
        base = layout.store(ctx.environ)
        folder = layout.folder(base, rid)
        planned = []
        for f in locked.files:
            target = layout.where(folder, f.path)
            entry = FileEntry(f.path, api.file_url(ctx.endpoint(SPEC), rid, f.path), f.size, f.sha256)
            if target.is_file():
                differs(locked, f, target)
                planned.append(PlannedFile(entry, None, target, present=True))
                continue
            locked_missing(locked, ctx, f"zoofind's Zenodo store {base}")
            planned.append(PlannedFile(entry, None, target, download=_download(
                entry.url, target, folder, f.path, f.size, sha256=f.sha256)))
        return ZenodoPlan(locked.id, SPEC.name, revision=locked.revision, commit=rid,
                          path=_path(folder, key_of(parse_id(locked.id))), files=tuple(planned), pinned=True)

    def check_placed(self, locked: LockedModel, result: PullResult) -> None:
        return None  # every file was checked against the lock one by one by the engine
