"""Where each hub's locked files live and go (to be replaced by each hub's own bundle ability)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from ...errors import describe
from ...fetch.integrity import Hasher, IntegrityError
from ...lockfile import LockedFile, LockedModel
from ...models.bundle import BundledFile, BundledModel
from .manifest import BundleError, check_bytes, expected, file_label, member_name
from .pump import Progress, Pump, emit, read_fd, ticker

if TYPE_CHECKING:
    from ...caches.hf import RepoCache


@dataclass
class Slot:
    """One locked file of one model: where its bytes go and whether they are there."""

    file: LockedFile
    final: Path | None  # None for TF Hub until the model's temporary folder exists
    lock: Path | None
    status: str = "needed"  # needed | present | verified | placed | replaced | failed



@dataclass
class Model:
    locked: LockedModel
    path: Path
    root: Path
    slots: list[Slot] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: BaseException | None = None
    tmp: Path | None = None  # TF Hub: the folder the module is filled in
    done: bool = False
    repaired: set[str] = field(default_factory=set)



# -- where locked files live ------------------------------------------------------------------
def hub_ref(m: LockedModel) -> str:
    return m.id.split(":", 1)[1]


def repo_of(m: LockedModel, root: Path) -> RepoCache:
    from ...caches.hf import RepoCache

    return RepoCache(root, hub_ref(m))


def model_path(m: LockedModel, root: Path) -> Path:
    """What the framework loads, below one cache root of the model's source."""
    if m.source == "hf":
        assert m.commit is not None
        return repo_of(m, root).snapshot(m.commit)
    if m.source == "tfhub":
        from ...caches import tfhub

        return root / tfhub.module_name(hub_ref(m))
    return root / m.files[0].path


def roots(source: str, env: Mapping[str, str], *, shared_too: bool) -> list[Path]:
    """The cache roots of a source: this user's (first), then the shared tier's when asked."""
    from ...caches import shared

    if source == "hf":
        from ...caches.hf import hub_cache

        own, others = hub_cache(env), shared.hub_caches(env)
    elif source == "tfhub":
        from ...caches import tfhub

        own, others = tfhub.cache_dir(env)[0], shared.tfhub_dirs(env)
    else:
        from ...caches.torch import checkpoints

        own, others = checkpoints(env), shared.checkpoint_dirs(env)
    return [own, *others] if shared_too else [own]


def candidates(m: LockedModel, f: LockedFile, root: Path) -> list[Path]:
    """Where a locked file may sit below one cache root (Hugging Face: its snapshot path, then its blob)."""
    if m.source == "hf":
        repo = repo_of(m, root)
        assert m.commit is not None and f.blob is not None
        return [repo.snapshot(m.commit) / f.path, repo.blob(f.blob)]
    if m.source == "tfhub":
        return [model_path(m, root) / f.path]
    return [root / f.path]




def plan_model(m: LockedModel, env: Mapping[str, str]) -> Model:
    from ...paths import inside_home

    root = inside_home(roots(m.source, env, shared_too=False)[0], env)
    state = Model(m, model_path(m, root), root)
    if m.source == "hf":
        repo = repo_of(m, root)
        for f in m.files:
            assert f.blob is not None
            # Two paths with the same bytes share one blob: the second slot finds it written.
            state.slots.append(Slot(f, repo.blob(f.blob), repo.lock(f.blob)))
    elif m.source == "torchvision":
        from ...caches.torch import lock_path

        for f in m.files:
            state.slots.append(Slot(f, root / f.path, lock_path(root / f.path)))
    else:
        from ...caches import tfhub

        if not tfhub.cache_dir(env)[1]:
            state.notes.append(f"TF Hub modules are in {root}; for tensorflow_hub to find them there: export {tfhub.ENV}={root}")
        state.slots.extend(Slot(f, None, None) for f in m.files)
    return state


def existing(state: Model, slot: Slot) -> Path | None:
    """The file already in place for a slot (what the framework reads), if any, with the right size."""
    m, f = state.locked, slot.file
    if m.source == "hf":
        candidates = [state.path / f.path, slot.final]
    elif m.source == "tfhub":
        candidates = [state.path / f.path]
    else:
        candidates = [slot.final]
    for c in candidates:
        try:
            if c is not None and c.stat().st_size == f.size:
                return c
        except OSError:
            continue
    return None


def check_present(state: Model, pump: Pump, verify_existing: bool, progress: Progress | None) -> None:
    """Mark the files already in place (size; with ``verify_existing`` re-hashed)."""
    m = state.locked
    if m.source == "tfhub":
        from ...caches import tfhub

        if not tfhub.present(state.path):
            return  # filled in a temporary folder, renamed whole: nothing is half there
    bad: list[str] = []
    for slot in state.slots:
        there = existing(state, slot)
        if there is None:
            bad.append(f"{slot.file.path}: missing or another size")
            continue
        if not verify_existing:
            slot.status = "present"
            continue
        label = file_label(m.id, slot.file.path)
        h = Hasher(expected(slot.file), slot.file.size)
        emit(progress, label, "start", 0, slot.file.size)
        with read_fd(there) as fd:
            pump.hash(fd, slot.file.size, h, ticker(progress, label, slot.file.size))
        emit(progress, label, "done", slot.file.size, slot.file.size)
        try:
            check_bytes(h, slot.file, f"{m.id}: {slot.file.path} ({there})", "the bytes in place")
            slot.status = "verified"
        except IntegrityError:
            bad.append(f"{slot.file.path}: its bytes differ from the bundle's")
            state.repaired.add(slot.file.path)
    if m.source == "tfhub" and bad:
        state.error = BundleError(
            f"{m.id}: the module folder {state.path} is here already but differs from the bundle ({'; '.join(bad[:3])})",
            hint=f"remove it with `zoofind cache rm {m.id}`, then import again",
        )
        for slot in state.slots:
            slot.status = "failed"




def make_visible(state: Model) -> None:
    """The last step of a model: Hub snapshot links then its ref, a TF Hub folder renamed into place."""
    m = state.locked
    if m.source == "hf":
        repo = repo_of(m, state.root)
        assert m.commit is not None
        for slot in state.slots:
            f = slot.file
            assert f.blob is not None
            if slot.status in ("placed", "replaced") or not repo.present(m.commit, f.path, f.size):
                repo.link(m.commit, f.path, f.blob)
        if m.revision and m.revision != m.commit:
            ref = repo.root / "refs" / m.revision
            try:
                current: str | None = ref.read_text(encoding="utf-8").strip()
            except FileNotFoundError:
                current = None
            if current is None:
                repo.write_ref(m.revision, m.commit)
            elif current != m.commit:
                # Someone here pulled a newer revision: moving it back would change what every
                # other script on this machine loads. The locked commit stays loadable by its sha.
                state.notes.append(f"{m.id}: refs/{m.revision} here points at {current[:12]}, not the bundle's {m.commit[:12]}; "
                                   f"left as it is (load the bundle's with revision=\"{m.commit}\")")
    elif m.source == "tfhub" and state.tmp is not None:
        from ...caches import tfhub
        from ...fetch.locks import lock_for

        lock = lock_for(tfhub.lock_path(state.path))
        lock.acquire()
        try:
            # The descriptor as pull writes it: the locked archive's sha256 and size, for a lock written here later.
            if not tfhub.place(state.tmp, state.path, hub_ref(m), m.archive):
                shutil.rmtree(state.tmp, ignore_errors=True)  # another process installed it meanwhile
                state.notes.append(f"{m.id}: installed meanwhile by another process; kept that copy")
            state.tmp = None
        finally:
            lock.release()


def result(state: Model) -> BundledModel:
    m = state.locked
    files = []
    for slot in state.slots:
        # Where the framework reads it: the snapshot path, the module's file, the checkpoint.
        where = slot.final if m.source == "torchvision" else state.path / slot.file.path
        status = slot.status if slot.status != "needed" else "failed"
        files.append(BundledFile(slot.file.path, slot.file.size, slot.file.sha256, member_name(slot.file.sha256), status,
                                 str(where) if status != "failed" else None))
    base = BundledModel(m.id, str(state.path), m.commit, tuple(files), tuple(state.notes))
    if state.error is None:
        return base
    d = describe(state.error)
    from dataclasses import replace

    return replace(base, error=d.message, hint=d.hint, exit_code=d.exit_code)
