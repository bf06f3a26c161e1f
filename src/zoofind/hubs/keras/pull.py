"""Keras applications' weights into Keras's own folder (``$KERAS_HOME/models``), and their locks.

Keras finds a weights file under the very name it asks ``get_file`` for and loads it with no
request when its hash (md5 or sha256, as Keras's tables give it) matches, or unchecked where the
tables give none. The engine checks that hash, the size and any lock's sha256 before the file
appears: a byte Keras would refuse (it would silently download the file again) is never placed.
A file already there is hashed against Keras's hash first: one that fails it (a download Keras
left cut short) is fetched again. Offline, the user's folder answers, then the shared tier's.

Weights with ImageNet's classifier bring ImageNet's class index too (``classindex``), planned,
checked, locked and carried the same way; offline, its absence is a note, not a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from ...caches import shared
from ...core.errors import OfflineError, UsageError
from ...models.files import FileEntry
from ...models.pull import ModelPlan, PlannedFile, PullOptions, PullResult
from ...models.records import ParsedId
from .. import registry
from ..ids import parse_id
from ..pulling import differs, file_label, locked_missing, offline_hint, sha256_of
from . import SPEC, classindex
from .home import lock_path, models_dir, writable_models_dir
from .source import delegated
from .variants import preset_name

if TYPE_CHECKING:
    from ...core.context import Context
    from ...models.lock import LockedModel
    from ...models.transfer import Expected, Fetched
    from .source import KerasSource, Weights


def _source() -> KerasSource:
    """This hub's Source, which also gives a model's weights file and Keras's hash of it."""
    return cast("KerasSource", registry.get(SPEC.name))


#: One file a pull places: its entry and the md5 Keras checks it against (None: its sha256, or nothing).
Needed = tuple[FileEntry, str | None]


def _needed(w: Weights) -> tuple[Needed, ...]:
    """The weights file, then ImageNet's class index where ``decode_predictions`` applies."""
    index = ((w.class_index, classindex.MD5),) if w.class_index is not None else ()
    return ((w.file, w.md5), *index)


def _expected(f: FileEntry, md5: str | None, size: int | None = None, sha256: str | None = None) -> Expected:
    from ...models.transfer import Expected  # lazy: pull --offline start-up (hashing code)

    return Expected(size if size is not None else f.size, sha256 or f.sha256, md5=md5)


def _keras_refuses(f: FileEntry, md5: str | None, target: Path) -> str | None:
    """Why Keras would not load the file at ``target`` (it would download it again), else None."""
    if not (md5 or f.sha256):
        return None
    from ...fetch.integrity import IntegrityError, hash_file, verify  # lazy: pull --offline start-up

    expected = _expected(f, md5)
    try:
        verify(hash_file(target, expected), expected, f.path)
    except IntegrityError:
        return f"its {'md5' if md5 else 'sha256'} is not the one Keras checks"
    return None


def _unhashed_note(w: Weights) -> tuple[str, ...]:
    if w.md5 or w.file.sha256:
        return ()
    return (f"{w.id}: Keras's tables have no hash for {w.file.path} (Keras loads it unchecked); zoofind checked the "
            "size the server announced; `zoofind lock` records its sha256, which `pull --lock` then checks",)


def _planned(pid: ParsedId, w: Weights, ctx: Context, opts: PullOptions, *,
             locked: LockedModel | None = None) -> tuple[tuple[PlannedFile, ...], tuple[str, ...]]:
    """Each file (the weights, the class index) present in Keras's folder (and passing Keras's hash
    and any lock) or to be downloaded there; the one planning of a normal and a locked pull."""
    folder = writable_models_dir(ctx.environ, create=not opts.dry_run)
    pins = {f.path: f for f in locked.files} if locked else {}
    files: list[PlannedFile] = []
    notes: list[str] = []
    for f, md5 in _needed(w):
        target, pin = folder / f.path, pins.get(f.path)
        if target.is_file():
            if locked is not None and pin is not None:
                differs(locked, pin, target)  # the lock's contract: a changed cached file fails, named
                files.append(PlannedFile(f, None, target, present=True))
                continue
            refused = _keras_refuses(f, md5, target)
            if refused is None:
                files.append(PlannedFile(f, None, target, present=True))
                continue
            notes.append(f"{w.id}: the cached {target} was fetched again: {refused} (Keras would download it again)")
            if not opts.dry_run:
                target.unlink(missing_ok=True)
        if locked is not None and pin is not None:
            locked_missing(locked, ctx, f"Keras's folder {folder}")
        from ...models.transfer import Download  # lazy: pull --offline start-up (the engine only when fetching)

        expected = _expected(f, md5, pin.size if pin else None, pin.sha256 if pin else None)
        files.append(PlannedFile(f, None, target, download=Download(
            f.url, target, lock_path(target), expected, file_label(pid.ref, f.path, named=True))))
    return tuple(files), (*notes, *_unhashed_note(w))


def _preset_plan(pid: ParsedId, ctx: Context, opts: PullOptions, *, revision: str | None, asked: str) -> ModelPlan:
    """A KerasHub preset is a model of the hub its handle names (Kaggle's, for every built-in one):
    that hub plans it, places it where ``from_preset`` reads it, and pins it in a lock."""
    rec = _source().info(pid, ctx)
    target = delegated(rec)
    if target is None:
        raise UsageError(f"{rec.id} names no handle", hint="rebuild the snapshot: scripts/build_keras_hub.py")
    if revision:
        raise UsageError(f"{rec.id}@{revision}: a preset is pinned to the version keras_hub names ({target})",
                         hint=f"pull another version as that hub's id: zoofind pull {target.source}:<handle>/<version>")
    plan = registry.ability(target.source, "pull").plan(target, ctx, opts, revision=None, asked=asked)
    said = f"{rec.id} is {plan.id} (keras_hub's handle {rec.extra.get('handle')}); from_preset reads it there"
    return replace(plan, notes=(said, *plan.notes))


class KerasPull:
    describes_uncurated = False

    def plan(self, pid: ParsedId, ctx: Context, opts: PullOptions, *, revision: str | None, asked: str) -> ModelPlan:
        if preset_name(pid.ref):
            return _preset_plan(pid, ctx, opts, revision=revision, asked=asked)
        if revision:
            _source().fileset(pid, ctx, revision=revision)  # says there are none
        w = _source().weights(pid, ctx)  # the bundled snapshot: no request
        if ctx.offline:
            return self._offline(w, ctx, asked)
        files, notes = _planned(parse_id(w.id), w, ctx, opts)
        return ModelPlan(w.id, SPEC.name, path=files[0].target, files=files, notes=notes)

    def _offline(self, w: Weights, ctx: Context, asked: str) -> ModelPlan:
        """The user's Keras folder, else the shared tier's copy (checked against Keras's hash, then linked);
        a class index in neither is only a note (the weights load; decoding would ask for it)."""
        folder = models_dir(ctx.environ)
        notes: list[str] = []
        files: list[PlannedFile] = []
        for f, md5 in _needed(w):
            target = folder / f.path
            linked = False
            if target.is_file():
                refused = _keras_refuses(f, md5, target)
                if refused and f is w.file:
                    raise OfflineError(f"{w.id}: the cached {target} cannot be used: {refused} (Keras would "
                                       "download it again)", hint=offline_hint(asked))
            else:
                got = shared.link_file(target, _expected(f, md5), ctx.environ, f.path)
                notes.extend(got.notes)
                refused = None if got.source is not None else "absent"
                linked = got.source is not None
            if refused and f is not w.file:
                notes.append(f"{w.id}: {f.path} is not usable in Keras's folder {folder} ({refused}): "
                             "decode_predictions would download it; pull it online to have it offline")
                continue
            if refused:
                raise OfflineError(f"{w.id} is not in Keras's folder {folder}"
                                   + (" nor in the shared tier" if shared.roots(ctx.environ) else ""),
                                   hint=offline_hint(asked))
            entry = FileEntry(f.path, f.url, size=target.stat().st_size)
            files.append(PlannedFile(entry, None, target, present=True, shared=linked))
        return ModelPlan(w.id, SPEC.name, path=files[0].target, notes=tuple(notes), files=tuple(files))

    def place(self, plan: ModelPlan, fetched: Mapping[str, Fetched], ctx: Context) -> Mapping[str, Path]:
        return plan.targets()  # a verified file is its own final path


class KerasLock:
    def pin(self, result: PullResult) -> LockedModel:
        from ...models.lock import LockedFile, LockedModel  # lazy: pull --offline start-up (lock records)

        assert result.path is not None
        folder = Path(result.path).parent  # the weights file's: the class index sits beside it
        files = tuple(LockedFile(f.path, (folder / f.path).stat().st_size,
                                 sha256_of(folder / f.path, f.sha256, f.status))
                      for f in result.files if f.status != "skipped")
        return LockedModel(result.id, None, None, files, None, result.framework)

    def problem(self, locked: LockedModel) -> str | None:
        extra = [f.path for f in locked.files[1:]]
        if not locked.files or extra not in ([], [classindex.NAME]):
            return (f"{locked.id}: a Keras application's weights are one file (and {classindex.NAME} beside it), "
                    f"the lock lists {len(locked.files)}")
        return None

    def plan_locked(self, locked: LockedModel, ctx: Context, opts: PullOptions) -> ModelPlan:
        w = _source().weights(parse_id(locked.id), ctx)  # the bundled snapshot: the URL and Keras's hash
        if locked.files[0].path != w.file.path:
            raise UsageError(f"{locked.id}: this zoofind's Keras snapshot names {w.file.path}, the lock "
                             f"{locked.files[0].path}",
                             hint="use the zoofind version that wrote the lock (`pip install zoofind==VERSION`)")
        if ctx.offline:
            folder = models_dir(ctx.environ)
            for pin in locked.files:
                if not (folder / pin.path).is_file():
                    locked_missing(locked, ctx, f"Keras's folder {folder}")
                differs(locked, pin, folder / pin.path)
            entries = {f.path: f for f, _md5 in _needed(w)}
            files: tuple[PlannedFile, ...] = tuple(
                PlannedFile(entries.get(pin.path, FileEntry(pin.path, "", size=pin.size)), None, folder / pin.path,
                            present=True) for pin in locked.files)
            return ModelPlan(locked.id, SPEC.name, path=folder / w.file.path, files=files, pinned=True)
        files, notes = _planned(parse_id(w.id), w, ctx, opts, locked=locked)
        return ModelPlan(locked.id, SPEC.name, path=files[0].target, files=files, notes=notes, pinned=True)

    def check_placed(self, locked: LockedModel, result: PullResult) -> None:
        return None  # the engine checked the file against the lock
