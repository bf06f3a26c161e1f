"""The Hugging Face hub cache as ``cache ls/verify/rm/prune/path`` see it (``protocol.Caches``).

Repos are ``models--owner--name`` folders (``datasets--owner--name`` for datasets, kind
``dataset``) (``repo_cache``), in the user's hub cache and in
each shared root's ``huggingface/hub``. A revision is a snapshot; a blob several revisions
link to is kept until the last goes; blobs in huggingface_hub's cache-wide Xet store go
through huggingface_hub, which knows which other repos link to them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ...caches import layout
from ...core.context import Context
from ...core.errors import NotFoundError
from ...fetch.integrity import hash_file
from ...fetch.partial import PREFIX
from ...models.cache import CachedModel, Problem, Removal, RemovalLocks, Verified
from ...models.transfer import Expected
from ..protocol import InShared
from . import is_dataset
from .repo_cache import PLACE, REPO_LOCK, RepoCache, hub_cache
from .repo_scan import first_hop, is_store_payload, read_refs, scan, snapshot_entries, store_dir, store_references


@dataclass(frozen=True)
class HfRemoval(Removal):
    """A repo's (or a revision's) removal, with what huggingface_hub's Xet store needs."""

    #: repo blob entries that link into huggingface_hub's Xet store (huggingface_hub removes those)
    store_links: tuple[str, ...] = ()
    #: Xet store blobs no other repo links to once this removal (and those before it) ran
    store_payloads: tuple[str, ...] = ()


class HfCache:
    def scan(self, ctx: Context, tier: str, in_shared: InShared) -> list[CachedModel]:
        out = []
        for cache in PLACE.tiered(ctx.environ, tier):
            for repo in scan(cache, other_tier=in_shared if tier == "local" else None):
                main = next((c for c, refs in repo.revisions if "main" in refs), None)
                shown = main or max(repo.revisions, key=lambda r: layout.mtime(repo.folder / "snapshots" / r[0]))[0]
                revisions = tuple(f"{c}" + (f" ({', '.join(refs)})" if refs else "") for c, refs in repo.revisions)
                out.append(CachedModel(f"hf:{repo.repo}", "hf", revisions, repo.size, repo.last_used,
                                       str(repo.folder / "snapshots" / shown), str(cache), tier, repo.linked_size,
                                       repo.store_blobs, kind="dataset" if is_dataset(repo.repo) else "model"))
        return out

    def matches(self, model: CachedModel, rid: str) -> bool:
        return False

    def verify(self, model: CachedModel) -> Verified:
        problems: list[Problem] = []
        files = size = 0
        snapshots = Path(model.path).parent
        blobs = str(snapshots.parent / "blobs")
        checked: dict[str, str | None] = {}
        for snap in sorted(snapshots.iterdir()):
            for f in sorted(snapshot_entries(str(snap))):
                real = os.path.realpath(f)
                if not os.path.isfile(real):
                    problems.append(Problem(f, "missing"))
                    continue
                files += 1
                hop = first_hop(f)
                # The name is the repo's blobs/<etag> entry's, wherever its bytes are (the Xet store, the shared tier).
                name = os.path.basename(hop) if os.path.dirname(hop) == blobs else ""
                if real not in checked:
                    size += os.stat(real).st_size
                    checked[real] = _check_named(Path(real), name)
                if checked[real]:
                    problems.append(Problem(f, checked[real] or ""))
        return Verified(model.id, model.path, files, size, tuple(problems))

    def revision_path(self, ctx: Context, ref: str, revision: str) -> str | None:
        for cache in (PLACE.own(ctx.environ), *PLACE.shared(ctx.environ)):
            repo = RepoCache(cache, ref)
            commit = repo.commit_of(revision)
            if commit is not None:
                return str(repo.snapshot(commit))
        raise NotFoundError(f"hf:{ref}@{revision} is not in the Hugging Face cache",
                            hint=f"zoofind pull hf:{ref}@{revision}")

    def plan_removal(self, model: CachedModel, revision: str | None) -> Removal:
        repo = _repo(model.cache, model.id)
        folder = str(repo.root)
        blobs_dir = os.path.join(folder, "blobs")
        store = store_dir(repo.cache)
        if revision is None:
            entries = layout.listdir(blobs_dir)
            links = [p for p in (os.path.join(blobs_dir, n) for n in entries) if _store_link(p, store)]
            return HfRemoval(model.id, None, (folder,), layout.regular_bytes(folder), "hf", model.cache,
                             store_links=tuple(links))
        commit = repo.commit_of(revision)
        if commit is None:
            raise NotFoundError(f"{model.id}@{revision} is not in the Hugging Face cache",
                                hint="`zoofind cache ls` lists the cached revisions")
        snapshot = str(repo.snapshot(commit))
        snapshots = os.path.join(folder, "snapshots")

        def hops(snap: str) -> set[str]:
            return {first_hop(f) for f in snapshot_entries(snap)}

        mine = hops(snapshot)
        others = set().union(*(hops(os.path.join(snapshots, s)) for s in layout.listdir(snapshots) if s != commit))
        going = sorted(h for h in mine - others if os.path.dirname(h) == blobs_dir and os.path.lexists(h))
        links = [h for h in going if _store_link(h, store)]
        plain = [h for h in going if h not in links]
        refs = [os.path.join(folder, "refs", name) for name in read_refs(repo.root).get(commit, ())]
        trees = os.path.join(folder, "trees", f"{commit}.json")  # huggingface_hub's listing of that commit
        size = layout.regular_bytes(snapshot) + sum(layout.regular_bytes(h) for h in plain)
        paths = (*refs, snapshot, *plain, *links, *([trees] if os.path.lexists(trees) else []))
        return HfRemoval(model.id, commit, paths, size, "hf", model.cache, store_links=tuple(links))

    def settle(self, removals: Sequence[Removal]) -> list[Removal]:
        """Credit each Xet store blob to the last removal that unlinks a reference to it, when
        every reference its manifest lists (and the disk confirms) is among those going."""
        mine = [_own(r) for r in removals]
        if not any(r.store_links for r in mine):
            return list(mine)
        going = {link for r in mine for link in r.store_links}
        last: dict[str, int] = {}
        for i, r in enumerate(mine):
            for link in r.store_links:
                last[first_hop(link)] = i
        credited: dict[int, list[str]] = {}
        for payload, i in last.items():
            refs = store_references(payload, Path(mine[i].cache))
            if refs and refs <= going:
                credited.setdefault(i, []).append(payload)
        out: list[Removal] = []
        for i, r in enumerate(mine):
            payloads = tuple(sorted(credited.get(i, ())))
            freed = sum(layout.regular_bytes(p) for p in payloads)
            out.append(replace(r, paths=(*r.paths, *payloads), bytes=r.bytes + freed, store_payloads=payloads))
        return out

    def locks(self, removal: Removal) -> RemovalLocks:
        """The repo's lease, then every download lock beside it now."""
        repo = _repo(removal.cache, removal.id)
        folder = repo.repo_lock().parent
        downloads = [str(folder / n) for n in layout.listdir(str(folder))
                     if n.endswith(".zoofind.lock") and n != REPO_LOCK]
        return RemovalLocks((str(repo.repo_lock()),), tuple(downloads))

    def carry_out(self, removal: Removal, held: set[str]) -> None:
        r = _own(removal)
        if r.revision is not None:
            _remove_revision(r)
        else:
            _remove_repo(r, held)

    def stale_partials(self, ctx: Context, now: float) -> list[Removal]:
        hub = hub_cache(ctx.environ)
        out = []
        for b in (*hub.glob("models--*/blobs"), *hub.glob("datasets--*/blobs")):
            out += layout.partials(b, lambda t: hub / ".locks" / t.parent.parent.name / f"{t.name}.zoofind.lock", now,
                                   # huggingface_hub 2.x's own leftovers are process-unique: <etag>.<8 hex>.incomplete
                                   also=lambda name: name.endswith(".incomplete"))
        for d in (*hub.glob(".locks/models--*"), *hub.glob(".locks/datasets--*")):
            out += layout.partials(d, lambda t: t, now)
        return out


def _own(r: Removal) -> HfRemoval:
    """This layout's removal (one built by hand as a plain ``Removal`` has no store links)."""
    return r if isinstance(r, HfRemoval) else HfRemoval(**vars(r))


def _repo(cache: str, rid: str) -> RepoCache:
    return RepoCache(Path(cache), rid.removeprefix("hf:"))


def _check_named(blob: Path, name: str) -> str | None:
    """A Hub blob named by a sha256 or a git blob id holds exactly those bytes; other names are not checked."""
    if re.fullmatch(r"[0-9a-f]{64}", name):
        return None if hash_file(blob, Expected()).sha256.hexdigest() == name else "sha256 mismatch"
    if re.fullmatch(r"[0-9a-f]{40}", name):
        h = hash_file(blob, Expected(git_sha1=name))
        return None if h.git is not None and h.git.hexdigest() == name else "git blob id mismatch"
    return None


def _store_link(path: str, store: str | None) -> bool:
    return store is not None and os.path.islink(path) and is_store_payload(first_hop(path), store)


def _remove_revision(r: HfRemoval) -> None:
    refs_dir = str(_repo(r.cache, r.id).root / "refs")
    for p in r.paths:
        if p in r.store_links or p in r.store_payloads:
            continue
        if p.startswith(refs_dir + os.sep):
            if _read(p) != r.revision:
                continue  # a pull pointed it at another commit since the plan: it stays
            os.unlink(p)
            _prune_empty(os.path.dirname(p), refs_dir)
        else:
            layout.delete(p)
    _collect_store(list(r.store_links), r.cache)


def _remove_repo(r: HfRemoval, held: set[str]) -> None:
    repo = _repo(r.cache, r.id)
    folder = str(repo.root)
    # Refs first (no ref ever names a missing snapshot), then snapshots (no link ever points at a missing blob),
    # then blobs.
    refs_dir = os.path.join(folder, "refs")
    for dirpath, _, names in os.walk(refs_dir):
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(dirpath, name))
    snapshots = os.path.join(folder, "snapshots")
    for name in layout.listdir(snapshots):
        layout.delete(os.path.join(snapshots, name))
    blobs_dir = os.path.join(folder, "blobs")
    store = store_dir(repo.cache)
    links = []
    for name in layout.listdir(blobs_dir):
        p = os.path.join(blobs_dir, name)
        if name.startswith(PREFIX):
            lock = str(repo.lock(name[len(PREFIX):].removesuffix(".json")))
            if lock not in held and os.path.lexists(lock):
                continue  # a download a pull began after the locks were taken: its bytes stay
        if _store_link(p, store):
            links.append(p)
        else:
            layout.delete(p)
    _collect_store(links, r.cache)
    for name in layout.listdir(folder):
        if name not in ("snapshots", "refs", "blobs"):
            layout.delete(os.path.join(folder, name))
    for name in ("refs", "blobs"):
        _remove_empty(os.path.join(folder, name))  # empty now, unless a pull has just begun: its files stay
    if layout.listdir(folder) == ["snapshots"] and not layout.listdir(snapshots):
        # The empty folder goes in one step: huggingface_hub counts a repo folder without
        # snapshots/ as corrupted, so there is never one, even for an instant. It is renamed
        # below .locks/ (which scans skip) and deleted there.
        trash = repo.repo_lock().parent / f"{layout.TRASH_PREFIX}{uuid.uuid4().hex}"
        with contextlib.suppress(OSError):
            os.rename(folder, trash)
            shutil.rmtree(trash, ignore_errors=True)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _remove_empty(top: str) -> None:
    """The folders below ``top`` and ``top`` itself, those that are empty (deepest first)."""
    for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
        with contextlib.suppress(OSError):
            os.rmdir(dirpath)


def _prune_empty(folder: str, stop: str) -> None:
    while folder.startswith(stop + os.sep):
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = os.path.dirname(folder)


def _collect_store(links: list[str], cache: str) -> None:
    """Remove repo blob links into huggingface_hub's Xet store through huggingface_hub, which
    then deletes each store blob whose manifest names no other link, under its own lock for
    that blob (the only lock huggingface_hub processes linking the same blob respect)."""
    if not links:
        return
    try:
        from huggingface_hub import DeleteCacheStrategy  # lazy: ~220 ms, only a removal with store links: off cache ls

        strategy = DeleteCacheStrategy(expected_freed_size=0, blobs=frozenset(map(Path, links)), refs=frozenset(),
                                       repos=frozenset(), snapshots=frozenset(), cache_dir=Path(cache))
    except (ImportError, TypeError):
        # A huggingface_hub without the store (1.x): the links go, the store blobs stay for one that knows them.
        for link in links:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(link)
        return
    strategy.execute()
