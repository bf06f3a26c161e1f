"""tinyhub's pull and lock abilities: files verified by the fetch engine into ``<home>/<name>/``,
the ``.complete`` marker written last by ``place``."""

from __future__ import annotations

from pathlib import Path

from zoofind.core.atomic import replacing
from zoofind.core.errors import NotFoundError, OfflineError
from zoofind.hubs.pulling import choose, differs, file_label, locked_missing, offline_hint, sha256_of
from zoofind.models.files import FileEntry
from zoofind.models.lock import LockedFile, LockedModel
from zoofind.models.pull import ModelPlan, PlannedFile
from zoofind.models.transfer import Download, Expected

from . import SPEC
from .source import fileset, home

MARKER = ".complete"


def model_dir(name: str, ctx) -> Path:
    return home(ctx.environ) / name


def complete(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def on_disk(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != MARKER and not p.name.endswith((".part", ".lock"))}


def download(name: str, entry: FileEntry, target: Path, expected: Expected) -> Download:
    lock = target.parent.parent / ".locks" / name / (entry.path + ".lock")
    return Download(entry.url, target, lock, expected, file_label(name, entry.path))


class TinyPull:
    describes_uncurated = False

    def plan(self, pid, ctx, opts, *, revision, asked):
        folder = model_dir(pid.ref, ctx)
        if ctx.offline:
            if not complete(folder):
                raise OfflineError(f"{pid} is not in tinyhub's cache {folder.parent}", hint=offline_hint(asked))
            files = tuple(PlannedFile(FileEntry(rel, "", p.stat().st_size), target=p, present=True)
                          for rel, p in on_disk(folder).items())
            return ModelPlan(str(pid), SPEC.name, path=folder, files=files)
        fs = fileset(pid.ref, ctx)
        if not fs.files:
            raise NotFoundError(f"{pid} has no files on tinyhub")
        planned = []
        for entry, skip in choose(fs.files, opts):
            target = folder / entry.path
            present = complete(folder) and target.is_file() and target.stat().st_size == entry.size
            dl = None if skip or present else download(pid.ref, entry, target, Expected(entry.size, entry.sha256))
            planned.append(PlannedFile(entry, skip, target, present, download=dl))
        return ModelPlan(str(pid), SPEC.name, path=folder, files=tuple(planned))

    def place(self, plan, fetched, ctx):
        assert plan.path is not None
        if not complete(plan.path):
            with replacing(plan.path / MARKER, "w") as fh:  # last: the folder is a model from now on
                fh.write("")
        return plan.targets()


class TinyLock:
    def pin(self, result):
        folder = Path(result.path)
        files = tuple(LockedFile(f.path, (folder / f.path).stat().st_size,
                                 sha256_of(folder / f.path, f.sha256, f.status))
                      for f in result.files if f.status != "skipped")
        return LockedModel(result.id, None, None, files, None, result.framework)

    def problem(self, locked):
        return None

    def plan_locked(self, locked, ctx, opts):
        name = locked.id.partition(":")[2]
        folder = model_dir(name, ctx)
        planned = []
        for f in locked.files:
            entry = FileEntry(f.path, f"{ctx.endpoint(SPEC)}/files/{name}/{f.path}", f.size, f.sha256)
            target = folder / f.path
            if complete(folder) and target.is_file():
                differs(locked, f, target)
                planned.append(PlannedFile(entry, None, target, True))
                continue
            locked_missing(locked, ctx, f"tinyhub's cache {folder.parent}")
            planned.append(PlannedFile(entry, None, target,
                                       download=download(name, entry, target, Expected(f.size, f.sha256))))
        return ModelPlan(locked.id, SPEC.name, path=folder, files=tuple(planned), pinned=True)

    def check_placed(self, locked, result):
        return None
