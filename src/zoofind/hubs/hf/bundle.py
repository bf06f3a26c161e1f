"""The Hugging Face hub cache for bundles: a locked file sits at its snapshot path or as its blob
(named by the Hub's ETag); import writes the blob under the lock ``pull`` takes, then the
snapshot links and ``refs/<revision>``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...caches import safe_relpath
from ...core.errors import BadAnswerError
from ...models.bundle import FileSlot, Placement
from ...models.lock import LockedFile, LockedModel
from ..ids import parse_id
from .repo_cache import PLACE, RepoCache, hub_cache


def _repo(model: LockedModel, root: Path) -> RepoCache:
    return RepoCache(root, parse_id(model.id).ref)


def _commit(model: LockedModel) -> str:
    assert model.commit is not None  # the lock reader requires one of every Hub model
    return model.commit


def _blob(file: LockedFile) -> str:
    assert file.blob is not None  # the lock reader requires one of every Hub file
    return file.blob


class HfBundles:
    def roots(self, environ: Mapping[str, str], *, shared: bool) -> tuple[Path, ...]:
        own = hub_cache(environ)
        return (own, *PLACE.shared(environ)) if shared else (own,)

    def model_path(self, model: LockedModel, root: Path) -> Path:
        return _repo(model, root).snapshot(_commit(model))

    def located(self, model: LockedModel, file: LockedFile, root: Path) -> tuple[Path, ...]:
        repo = _repo(model, root)
        return repo.snapshot(_commit(model)) / file.path, repo.blob(_blob(file))

    def problem(self, model: LockedModel) -> str | None:
        if model.revision:
            try:
                safe_relpath(model.revision, what=model.id)
            except BadAnswerError:
                return f"{model.id}: revision {model.revision!r} cannot name a ref file"
        for f in model.files:
            if f.blob is not None and len(f.blob) == 64 and f.blob != f.sha256:
                return f"{model.id}: {f.path}: `blob` names an LFS sha256 other than the file's"
        return None

    def placement(self, model: LockedModel, root: Path, environ: Mapping[str, str]) -> Placement:
        repo = _repo(model, root)
        path = repo.snapshot(_commit(model))
        # Two paths with the same bytes share one blob: the second slot finds it written.
        slots = tuple(FileSlot(f, repo.blob(_blob(f)), repo.lock(_blob(f)), (path / f.path, repo.blob(_blob(f))))
                      for f in model.files)
        # huggingface_hub's scan warns about a repo folder without snapshots/ (a kill before
        # the first link); the commit's own folder waits for the links.
        return Placement(model, root, path, slots, folders=(repo.root / "snapshots",))

    def in_place(self, placement: Placement) -> bool:
        return True

    def make_visible(self, placement: Placement, placed: frozenset[str]) -> tuple[str, ...]:
        m = placement.model
        repo, commit = _repo(m, placement.root), _commit(m)
        repo.link_all(commit, [(f.path, _blob(f)) for f in m.files
                               if f.path in placed or not repo.present(commit, f.path, f.size)])
        if not m.revision or m.revision == commit:
            return ()
        ref = repo.root / "refs" / m.revision
        try:
            current: str | None = ref.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            current = None
        if current is None:
            repo.write_ref(m.revision, commit)
        elif current != commit:
            # Someone here pulled a newer revision: moving it back would change what every
            # other script on this machine loads. The locked commit stays loadable by its sha.
            return (f"{m.id}: refs/{m.revision} here points at {current[:12]}, not the bundle's {commit[:12]}; "
                    f"left as it is (load the bundle's with revision=\"{commit}\")",)
        return ()

