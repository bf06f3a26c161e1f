"""PyTorch Hub: the bundled pytorch.org/hub snapshot answers searches; ``info`` reads the repository live.

``info torchhub:owner/repo[:ref][/entry]`` asks GitHub's API for the ref's commit (the default
branch when none is given) and for ``hubconf.py`` at that commit, and reads it as text
(``hubconf``): its entry points, ``dependencies`` and the checkpoints it names. Answers are
cached like every live answer. Every record says that loading runs the repository's code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ... import catalog as catalog_mod
from ...models.files import FileEntry
from ...models.records import ParsedId, Record
from ...net import github
from ...net.answers import AnswerCache, cached
from ...net.github import GitHub
from ...net.probe import probe as probe_endpoint
from .. import SearchQuery
from ..base import SourceAnswer, SourceStatus
from . import CODE_FLAG, SPEC, hubconf, read_ref

if TYPE_CHECKING:
    from ...core.context import Context


def facts(ctx: Context, owner: str, repo: str, ref: str | None) -> dict[str, Any]:
    """JSON-serialisable facts about the repository at ``ref`` (None: its default branch)."""
    with GitHub(ctx, ctx.endpoint(SPEC)) as s:
        branch = ref or s.default_branch(owner, repo)
        commit = s.commit_of(owner, repo, branch)
        conf = hubconf.read(s.file_text(owner, repo, "hubconf.py", commit))
    return {"ref": branch, "default_branch": ref is None, "commit": commit, "entrypoints": list(conf.entries),
            "dependencies": list(conf.dependencies), "hubconf_problem": conf.problem,
            "checkpoints": [{"name": c.name, "url": c.url, "entrypoints": list(c.entries),
                             "hash_prefix": c.hash_prefix} for c in conf.checkpoints]}


def _facts_shape(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("ref"), str) and isinstance(value.get("commit"), str)
            and isinstance(value.get("entrypoints"), list) and isinstance(value.get("checkpoints"), list))


class TorchhubSource:
    spec = SPEC

    def search(self, query: SearchQuery, ctx: Context) -> SourceAnswer:
        return SourceAnswer((), origin="bundled")  # the snapshot (in the catalog) answers

    def info(self, pid: ParsedId, ctx: Context) -> Record | None:
        r = read_ref(pid.ref)
        params = {"op": "hubconf", "endpoint": ctx.endpoint(SPEC).rstrip("/"), "repo": f"{r.owner}/{r.repo}",
                  "ref": r.ref}
        got, origin, age = cached(ctx, SPEC.name, params, lambda: facts(ctx, r.owner, r.repo, r.ref),
                                  valid=_facts_shape)
        ref = got["ref"]
        pin = (f"no ref given: the default branch {ref!r}; torch.hub guesses main or master over the network, so "
               f"scripts should pin it: torch.hub.load('{r.owner}/{r.repo}:{ref}', ...)") if r.ref is None else ""
        entries = got["entrypoints"]
        missing = f"hubconf.py defines no entry point {r.entry!r}. " if r.entry and r.entry not in entries else ""
        extra = {"code": "torch.hub.load runs this repository's hubconf.py", "ref": ref, "commit": got["commit"],
                 "entrypoints": entries, "dependencies": got["dependencies"],
                 "checkpoints": [c["name"] for c in got["checkpoints"]
                                 if not r.entry or not c["entrypoints"] or r.entry in c["entrypoints"]],
                 "checked": origin if age is None else f"{origin}, {age:.0f} s old"}
        if got.get("hubconf_problem"):
            extra["hubconf_problem"] = got["hubconf_problem"]
        notes = " ".join(x for x in (f"{CODE_FLAG}.", missing, pin) if x)
        base = catalog_mod.load(ctx).get(str(pid))
        if base is None:
            base = Record(id=str(pid), source=SPEC.name, kind="model", name=r.entry or f"{r.owner}/{r.repo}",
                          url=f"https://github.com/{r.owner}/{r.repo}", frameworks=("pytorch",),
                          libraries=("pytorch",), reliability="generated",
                          evidence=f"https://github.com/{r.owner}/{r.repo}/blob/{got['commit']}/hubconf.py")
        return replace(base, remote_code=True, extra={**base.extra, **extra},
                       notes=f"{base.notes} {notes}".strip() if base.notes else notes)

    def files(self, pid: ParsedId, ctx: Context) -> Sequence[FileEntry]:
        return ()  # a pull plans the repository's archive and checkpoints itself

    def status(self, ctx: Context, *, probe: bool = True) -> SourceStatus:
        api = ctx.endpoint(SPEC).rstrip("/")
        reachable, reason = probe_endpoint(ctx, github.SERVICE, api + "/") if probe else (None, None)
        return SourceStatus(
            SPEC.name, SPEC.title, api, network=True, reachable=reachable, reason=reason,
            credentials=bool(ctx.environ.get(github.TOKEN_VARIABLE, "").strip()),
            cache_age_seconds=AnswerCache(ctx, SPEC.name).newest_age(),
            details=(("search", "bundled pytorch.org/hub snapshot"), ("info", "hubconf.py read live, never run")),
        )
