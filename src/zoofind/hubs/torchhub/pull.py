"""PyTorch Hub repositories into torch.hub's cache, with the checkpoints their ``hubconf.py`` names.

A pull resolves the ref to its commit (GitHub's API; no ref: the default branch, said in a note),
reads ``hubconf.py`` at that commit (from the cached folder, else the API) for the checkpoint
URLs written in it, and plans two kinds of download: the repository's archive (asked for
through the API, fetched from the codeload host it redirects to, without the token; at most
``ZOOFIND_MAX_REPO_ARCHIVE`` bytes), extracted into ``$TORCH_HOME/hub/<owner>_<repo>_<ref>/``
when placed, and each checkpoint into ``hub/checkpoints/`` (its name's hash prefix checked where
``check_hash=True`` asks torch.hub to; the shared tier looked in first). ``--trust`` adds
``owner_repo`` to torch.hub's ``trusted_list`` once the model is placed.

A model's files are named relative to ``$TORCH_HOME/hub``: ``<folder>/<path in the repository>``
and ``checkpoints/<name>``, in results and in locks alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...caches import safe_relpath, shared, torch_hub
from ...core.errors import OfflineError, UsageError
from ...core.paths import endpoint, inside_home, max_extract
from ...core.units import binary_size, parse_bytes
from ...models.files import FileEntry
from ...models.pull import ModelPlan, PlannedFile, PullOptions
from ...models.records import ParsedId
from ...net.github import GitHub, zipball_url
from ..pulling import differs, file_label, locked_missing, not_locked, offline_hint
from . import CODE_FLAG, SPEC, RepoRef, hubconf, read_ref, repo_cache

if TYPE_CHECKING:
    from ...core.context import Context
    from ...models.lock import LockedModel
    from ...models.transfer import Fetched

#: The largest repository archive fetched unless ``ZOOFIND_MAX_REPO_ARCHIVE`` says otherwise.
MAX_ARCHIVE = 1024**3
ENV_MAX_ARCHIVE = "ZOOFIND_MAX_REPO_ARCHIVE"
#: Checkpoints torchvision publishes, fetched through its mirror variable as torchvision's own are.
PYTORCH_MODELS = "https://download.pytorch.org/models"
MODELS_VARIABLE = "ZOOFIND_TORCHVISION_ENDPOINT"


@dataclass(frozen=True)
class RepoPlan(ModelPlan):
    """A pull's plan, with what placing it needs: the repository, its record and whether to trust it."""

    repo: RepoRef | None = None
    record: Mapping[str, Any] = field(default_factory=dict)
    trust: bool = False


def max_archive(env: Mapping[str, str]) -> int:
    return parse_bytes(env.get(ENV_MAX_ARCHIVE, "").strip() or "x") or MAX_ARCHIVE


def checkpoint_url(url: str, env: Mapping[str, str]) -> str:
    """``url``, from the torchvision mirror when it is one of download.pytorch.org/models."""
    if url.startswith(PYTORCH_MODELS + "/"):
        return endpoint(env, MODELS_VARIABLE, PYTORCH_MODELS).rstrip("/") + url[len(PYTORCH_MODELS):]
    return url


def _hubconf(folder: Path, s: GitHub | None, ctx: Context, r: RepoRef, commit: str | None) -> hubconf.Hubconf:
    """``hubconf.py`` of the cached folder, else at ``commit`` through the API (None offline: nothing)."""
    local = folder / "hubconf.py"
    if local.is_file():
        return hubconf.read(local.read_text(encoding="utf-8", errors="replace"))
    if s is None or commit is None:
        return hubconf.Hubconf()
    return hubconf.read(s.file_text(r.owner, r.repo, "hubconf.py", commit))


def _checkpoint(r: RepoRef, c: hubconf.Checkpoint, ctx: Context, *, size: int | None = None,
                sha: str | None = None) -> PlannedFile:
    """One checkpoint in torch.hub's folder: there (hashed against the lock when pinned), from the shared
    tier, or downloaded; offline and nowhere: ``OfflineError``."""
    from ...models.transfer import Expected  # lazy: pull --offline start-up (hashing code)

    if "/" in c.name:
        raise UsageError(f"{r.repo_id}: hubconf.py names a checkpoint file {c.name!r} with a folder in it; refused")
    safe_relpath(c.name, what=r.repo_id)
    folder = inside_home(torch_hub.checkpoints(ctx.environ), ctx.environ)
    target = folder / c.name
    expected = Expected(size, sha, None, c.hash_prefix)
    entry = FileEntry(f"checkpoints/{c.name}", c.url, size, sha, sha256_prefix=c.hash_prefix)
    if target.is_file():
        return PlannedFile(entry, None, target, present=True)
    if ctx.offline:
        got = shared.link_file(target, expected, ctx.environ, file_label(r.repo, c.name))
        if got.source is None:
            raise OfflineError(f"{r.repo_id}: the checkpoint {c.name} is not in torch.hub's folder {folder}"
                               + (" nor in the shared tier" if shared.roots(ctx.environ) else ""),
                               hint="on a machine with network run the same pull, or drop --offline")
        return PlannedFile(entry, None, target, present=True, shared=True)
    from ...models.transfer import Download  # lazy: pull --offline start-up (the engine)

    return PlannedFile(entry, None, target, download=Download(
        checkpoint_url(c.url, ctx.environ), target, torch_hub.lock_path(target), expected,
        file_label(r.repo, c.name, named=True)))


def _archive(r: RepoRef, folder: Path, ctx: Context, s: GitHub | None, commit: str, dry_run: bool) -> PlannedFile:
    from ...models.transfer import (
        Download,  # lazy: pull --offline start-up (the engine)
        Expected,  # lazy: pull --offline start-up (hashing code)
    )

    entry = FileEntry(f"{folder.name}.zip", zipball_url(ctx.endpoint(SPEC), r.owner, r.repo, commit))
    archive = repo_cache.archive_path(folder)
    if dry_run:
        return PlannedFile(entry, None, archive)
    # Asked through the API (the token goes there), fetched from where it redirects (no token).
    assert s is not None
    url = s.archive_location(r.owner, r.repo, commit)
    cap = max_archive(ctx.environ)
    return PlannedFile(entry, None, archive, download=Download(
        url, archive, repo_cache.lock_path(folder), Expected(), file_label(r.repo, entry.path, named=True),
        done=lambda: repo_cache.present(folder), limit=cap,
        limit_hint=f"a repository archive above {binary_size(cap)} is refused; if you want it, set "
                   f"{ENV_MAX_ARCHIVE} to more (e.g. {ENV_MAX_ARCHIVE}=4GiB) and pull again"))


def folder_files(folder: Path, shared_files: bool = False) -> list[PlannedFile]:
    """The repository's files as they are on disk, named ``<folder>/<path>``."""
    return [PlannedFile(FileEntry(f"{folder.name}/{p.relative_to(folder).as_posix()}", "", size=p.stat().st_size),
                        None, p, present=True, shared=shared_files)
            for p in sorted(folder.rglob("*")) if p.is_file()]


def notes_for(r: RepoRef, ref: str, commit: str | None, conf: hubconf.Hubconf, folder: Path) -> tuple[str, ...]:
    notes = []
    entry = r.entry or (conf.entries[0] if conf.entries else "ENTRY")
    notes.append(f"load it: torch.hub.load('{r.owner}/{r.repo}:{ref}', '{entry}', trust_repo=True) "
                 "(no request: the folder is in torch.hub's cache)")
    if r.ref is None:
        notes.append(f"no ref given: the default branch {ref!r}"
                     + (f" (commit {commit[:12]})" if commit else "") + "; torch.hub guesses main or master "
                     f"over the network, so pin it in scripts: '{r.owner}/{r.repo}:{ref}'")
    if r.entry and conf.entries and r.entry not in conf.entries:
        notes.append(f"hubconf.py defines no entry point {r.entry!r} (it has: {', '.join(conf.entries)})")
    if conf.problem:
        notes.append(f"{r.repo_id}: {conf.problem}; no checkpoint it names was fetched")
    notes.append(f"torch.hub counts every folder in its cache as trusted: {folder.name} now runs without asking")
    return tuple(notes)


class TorchhubPull:
    describes_uncurated = False

    def plan(self, pid: ParsedId, ctx: Context, opts: PullOptions, *, revision: str | None, asked: str) -> ModelPlan:
        r = read_ref(pid.ref, revision)
        if ctx.offline:
            return self._offline(pid, r, ctx, asked)
        with GitHub(ctx, ctx.endpoint(SPEC)) as s:
            ref = r.ref or s.default_branch(r.owner, r.repo)
            commit = s.commit_of(r.owner, r.repo, ref)
            folder = inside_home(repo_cache.repo_dir(ctx.environ, r.owner, r.repo, ref), ctx.environ)
            conf = _hubconf(folder, s, ctx, r, commit)
            notes = list(notes_for(r, ref, commit, conf, folder))
            had = repo_cache.read_record(folder).get("commit")
            if repo_cache.present(folder):
                files = folder_files(folder)
                if had and had != commit:
                    notes.append(f"the cached folder holds commit {str(had)[:12]}; {ref!r} now names {commit[:12]}. "
                                 f"torch.hub loads the folder as it is: `zoofind cache rm {r.repo_id}` and pull "
                                 "again to update it")
                    commit = str(had)
            else:
                files = [_archive(r, folder, ctx, s, commit, opts.dry_run)]
            files += [_checkpoint(r, c, ctx) for c in conf.wanted(r.entry)]
        record = _record(r, ref, commit, conf, r.entry)
        return RepoPlan(str(pid), pid.source, ref, commit, folder, tuple(files), tuple(notes), flags=(CODE_FLAG,),
                        repo=r, record=record, trust=opts.trust)

    def _offline(self, pid: ParsedId, r: RepoRef, ctx: Context, asked: str) -> ModelPlan:
        """The cached folder (the ref given, else the one a record or torch.hub's main/master guess names)."""
        hub = torch_hub.hub_dir(ctx.environ)
        refs = [r.ref] if r.ref else [str(rec["ref"]) for rec, _ in repo_cache.scan(hub)
                                      if rec.get("owner") == r.owner and rec.get("repo") == r.repo
                                      and rec.get("ref")] + ["main", "master"]
        folder = next((f for f in (repo_cache.repo_dir(ctx.environ, r.owner, r.repo, x) for x in refs)
                       if repo_cache.present(f)), None)
        if folder is None:
            raise OfflineError(f"{pid} is not in torch.hub's cache {hub}", hint=offline_hint(asked))
        record = repo_cache.read_record(folder)
        ref = str(record.get("ref") or folder.name[len(f"{r.owner}_{r.repo}_"):])
        conf = _hubconf(folder, None, ctx, r, None)
        files = folder_files(folder) + [_checkpoint(r, c, ctx) for c in conf.wanted(r.entry)]
        commit = record.get("commit")
        return RepoPlan(str(pid), pid.source, ref, str(commit) if commit else None, folder, tuple(files),
                        notes_for(r, ref, str(commit) if commit else None, conf, folder)[:1], flags=(CODE_FLAG,),
                        repo=r, record=record)

    def place(self, plan: ModelPlan, fetched: Mapping[str, Fetched], ctx: Context) -> Mapping[str, Path]:
        assert isinstance(plan, RepoPlan) and plan.path is not None and plan.repo is not None
        for f in plan.files:
            if f.path.endswith(".zip") and not f.present and f.target is not None and \
                    not repo_cache.present(plan.path):
                got = fetched.get(f.path)
                record = dict(plan.record)
                if got is not None and got.sha256:
                    record["archive"] = {"size": got.size, "sha256": got.sha256}
                repo_cache.install(f.target, plan.path, record, max_extract=max_extract(ctx.environ))
        if plan.trust:
            repo_cache.trust(ctx.environ, plan.repo.owner, plan.repo.repo)
        return placed_paths(plan.path, plan.files)


def placed_paths(folder: Path, files: tuple[PlannedFile, ...]) -> dict[str, Path]:
    """What torch.hub now sees: every file of the repository's folder and the checkpoints."""
    out = {f"{folder.name}/{p.relative_to(folder).as_posix()}": p for p in sorted(folder.rglob("*")) if p.is_file()}
    out.update({f.path: f.target for f in files if f.path.startswith("checkpoints/") and f.target is not None})
    return out


def _record(r: RepoRef, ref: str, commit: str, conf: hubconf.Hubconf, entry: str | None) -> dict[str, Any]:
    return repo_cache.new_record(r.owner, r.repo, ref, commit, [c.name for c in conf.wanted(entry)])


def plan_from_lock(locked: LockedModel, ctx: Context) -> ModelPlan:
    """A pinned plan (``TorchhubLock.plan_locked``): the folder and checkpoints hashed against the lock, or
    fetched at the locked commit; the checkpoints' URLs come from ``hubconf.py`` at that commit."""

    ref_text = locked.id.partition(":")[2]
    r = read_ref(ref_text, locked.revision)
    if r.ref is None or not locked.commit:
        raise UsageError(f"{locked.id}: the lock records no ref or commit", hint="lock it again with `zoofind lock`")
    folder = inside_home(repo_cache.repo_dir(ctx.environ, r.owner, r.repo, r.ref), ctx.environ)
    hub = folder.parent
    repo_files = [f for f in locked.files if f.path.startswith(folder.name + "/")]
    ckpts = {f.path.removeprefix("checkpoints/"): f for f in locked.files if f.path.startswith("checkpoints/")}
    files: list[PlannedFile] = []
    s = None
    try:
        if repo_cache.present(folder):
            for f in repo_files:
                if not (hub / f.path).is_file():
                    raise not_locked(locked, f"{f.path} is missing from the cached folder {folder}")
                differs(locked, f, hub / f.path)
                files.append(PlannedFile(FileEntry(f.path, "", f.size, f.sha256), None, hub / f.path, present=True))
        else:
            locked_missing(locked, ctx, f"torch.hub's cache {hub}")
            s = GitHub(ctx, ctx.endpoint(SPEC))
            files.append(_archive(r, folder, ctx, s, locked.commit, False))
        missing = {n: f for n, f in ckpts.items() if not (torch_hub.checkpoints(ctx.environ) / n).is_file()}
        urls: dict[str, str] = {}
        if missing and not ctx.offline:
            s = s or GitHub(ctx, ctx.endpoint(SPEC))
            urls = {c.name: c.url for c in _hubconf(folder, s, ctx, r, locked.commit).checkpoints}
        for name, f in ckpts.items():
            target = torch_hub.checkpoints(ctx.environ) / name
            if target.is_file():
                differs(locked, f, target)
            elif not ctx.offline and name not in urls:
                raise UsageError(f"{locked.id}: hubconf.py at {locked.commit[:12]} names no checkpoint {name}")
            c = hubconf.Checkpoint(urls.get(name, ""), name, None, ())
            files.append(_checkpoint(r, c, ctx, size=f.size, sha=f.sha256))
    finally:
        if s is not None:
            s.session.close()
    record = repo_cache.new_record(r.owner, r.repo, r.ref, locked.commit, sorted(ckpts),
                                   (locked.archive.size, locked.archive.sha256) if locked.archive else None)
    return RepoPlan(locked.id, SPEC.name, r.ref, locked.commit, folder, tuple(files), flags=(CODE_FLAG,),
                    pinned=True, repo=r, record=record)
