"""torch.hub's repository folders as ``cache ls/verify/rm/prune/path`` see them (``protocol.Caches``).

A model is one folder ``$TORCH_HOME/hub/<owner>_<repo>_<ref>/``, listed by the id zoofind's record
beside it names (``torchhub:owner/repo:ref``, its commit as the revision), else as
``file:<folder>`` (placed by torch.hub itself, which records nothing). Checkpoints live in
``hub/checkpoints``, whose layout lists them. torch.hub records no hashes: verify checks that the
folder holds ``hubconf.py``. Repository folders have no shared tier: a branch's name does not
say which commit a folder holds.
"""

from __future__ import annotations

from pathlib import Path

from ...caches import layout
from ...caches.torch_hub import hub_dir
from ...core.context import Context
from ...core.errors import UsageError
from ...models.cache import CachedModel, Problem, Removal, Verified
from ..protocol import InShared
from . import SPEC, read_ref, repo_cache


class TorchhubCache(layout.PlainLayout):
    def scan(self, ctx: Context, tier: str, in_shared: InShared) -> list[CachedModel]:
        if tier != "local":
            return []
        root = hub_dir(ctx.environ)
        out = []
        for record, folder in repo_cache.scan(root):
            t = layout.tree(folder, in_shared)
            rid = str(record.get("id") or f"file:{folder}")
            used = max(t.used or 0.0, layout.placed(repo_cache.record_path(folder))) or None
            revisions = (f"{record['commit']} ({record.get('ref')})",) if record.get("commit") else ()
            out.append(CachedModel(rid, SPEC.name, revisions, t.size, used, str(folder), str(root), tier, t.linked))
        return out

    def matches(self, model: CachedModel, rid: str) -> bool:
        """``torchhub:owner/repo`` (any ref) and an entry point's id name the repository's folder."""
        head, _, ref = rid.partition(":")
        if head != SPEC.name or not model.id.startswith(f"{SPEC.name}:"):
            return False
        try:
            want, have = read_ref(ref), read_ref(model.id.partition(":")[2])
        except UsageError:
            return False
        return (want.owner, want.repo) == (have.owner, have.repo) and want.ref in (None, have.ref)

    def verify(self, model: CachedModel) -> Verified:
        t = layout.tree(Path(model.path))
        bad = () if (Path(model.path) / "hubconf.py").is_file() else (Problem(model.path + "/hubconf.py", "missing"),)
        return Verified(model.id, model.path, t.files, t.size, bad)

    def plan_removal(self, model: CachedModel, revision: str | None) -> Removal:
        p = Path(model.path)
        return layout.whole(model, revision, (p, repo_cache.record_path(p)), (repo_cache.lock_path(p),))

    def carry_out(self, removal: Removal, held: set[str]) -> None:
        layout.remove_folder(Path(removal.paths[0]), Path(removal.paths[1]))

    def stale_partials(self, ctx: Context, now: float) -> list[Removal]:
        # A partial's target is the folder's archive (<folder>.zoofind.zip); its lock is the folder's.
        return layout.partials(hub_dir(ctx.environ),
                               lambda t: repo_cache.lock_path(t.with_name(t.name.removesuffix(".zoofind.zip"))), now,
                               also=lambda name: repo_cache.STAGING.fullmatch(name) is not None)
