"""``HfSource``: search, info, files and status for the Hugging Face Hub, its models and its datasets.

A search asks ``/api/models`` and, unless it is for models only (``--kind model``, or a
framework, which datasets have none of), ``/api/datasets`` beside it (concurrently, each answer
cached on its own); ``--kind dataset`` or ``--size-category`` asks ``/api/datasets`` alone. The
datasets' failure beside answering models is a note, never the search's failure.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ...core.errors import AccessDeniedError, BadAnswerError, NotFoundError, OfflineError, SourceError
from ...core.redaction import redact_url
from ...models.files import FileEntry, FileSet
from ...models.records import ParsedId, Record
from ...net.answers import AnswerCache, cached, stale_note
from ...net.probe import probe as probe_endpoint
from .. import Repairs, SearchQuery
from ..base import SourceAnswer, SourceStatus
from . import SPEC, is_dataset
from .auth import find_token, fingerprint
from .datasets import dataset_record, trimmed_dataset
from .datasets import list_params as dataset_params
from .mapping import list_params, record_from_payload, records_from_payloads, screen, trimmed, wanted

if TYPE_CHECKING:
    from ...core.context import Context


_SHA256 = re.compile(r"[0-9a-f]{64}")
_SHA1 = re.compile(r"[0-9a-f]{40}")


class HfSource:
    spec = SPEC

    def search(self, query: SearchQuery, ctx: Context) -> SourceAnswer:
        if query.kind == "resource":
            return SourceAnswer((), origin="skipped", note="the Hub lists models and datasets, not resources")
        if query.kind == "dataset" or query.size_category:
            return self._search_datasets(query, ctx)
        if query.kind is None and query.framework is None:
            # lazy: a thread pool only when both listings are asked (a search of models alone has none)
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(1) as pool:
                pending = pool.submit(self._search_datasets, query, ctx)
                models = self._search_models(query, ctx)
                try:
                    data = pending.result()
                except (SourceError, AccessDeniedError, NotFoundError, BadAnswerError) as exc:
                    # The models answered: the datasets' failure is said, not made the whole search's.
                    note = f"Hugging Face datasets were not searched ({exc.message})"
                    return replace(models, note="; ".join(n for n in (models.note, note) if n))
            both = (models.origin, data.origin)
            return SourceAnswer(models.records + data.records,
                                origin=next((o for o in ("stale", "cache") if o in both), models.origin),
                                age_seconds=max(models.age_seconds or 0.0, data.age_seconds or 0.0) or None,
                                note="; ".join(n for n in (models.note, data.note) if n) or None)
        return self._search_models(query, ctx)

    def _search_datasets(self, query: SearchQuery, ctx: Context) -> SourceAnswer:
        return self._listing(query, ctx, "datasets")

    def _search_models(self, query: SearchQuery, ctx: Context) -> SourceAnswer:
        return self._listing(query, ctx, "models")

    def _listing(self, query: SearchQuery, ctx: Context, listing: str) -> SourceAnswer:
        """``GET /api/models`` or ``/api/datasets`` (``listing``), through the answer cache."""
        hub = ctx.endpoint(SPEC)
        token, _ = find_token(ctx.environ)
        datasets = listing == "datasets"
        params = dataset_params(query) if datasets else list_params(query)
        repairs = Repairs()

        def fetch() -> list[dict[str, Any]]:
            # lazy: httpx loads only when the cache cannot answer: a cached search stays as quick as an offline one.
            from ...net.http import Session
            from . import api

            with Session(ctx, api.SERVICE) as s:
                found = api.list_models(s, hub, params, wanted(query), token, repairs, listing=listing)
            return [trimmed_dataset(d, repairs) if datasets else trimmed(d, all_files=False, repairs=repairs)
                    for d in found if isinstance(d, dict) and isinstance(d.get("id"), str)]

        key = {"endpoint": hub, listing: params, "account": fingerprint(token)}
        value, origin, age = cached(ctx, "hf", key, fetch, valid=lambda v: isinstance(v, list))
        records = (tuple(dataset_record(d, hub, repairs) for d in screen(value, repairs)) if datasets
                   else records_from_payloads(value, hub, repairs))
        note = "; ".join(n for n in (stale_note("the Hub", origin, age), repairs.note("the Hub")) if n) or None
        return SourceAnswer(records, origin=origin, age_seconds=age, note=note)

    def model_answer(self, repo: str, ctx: Context) -> tuple[dict[str, Any], str, str | None]:
        """(the repo's trimmed ``/api/models/{repo}`` answer, the endpoint, the token), through the
        answer cache: ``info`` reads it, and ``cite`` its ``arxiv:`` tags."""
        hub = ctx.endpoint(SPEC)
        token, _ = find_token(ctx.environ)

        def fetch() -> dict[str, Any]:
            if ctx.offline:  # said before httpx loads (0.3 s): cite asks this for every model of a lock
                raise OfflineError(f"offline: the Hugging Face Hub not asked about {repo}",
                                   hint="drop --offline (and ZOOFIND_OFFLINE / HF_HUB_OFFLINE) to ask it")
            # lazy: httpx (~100 ms) only when the Hub is asked: off cached-answer search start-up
            from ...net.http import Session
            from . import api

            with Session(ctx, api.SERVICE) as s:
                data = api.model_info(s, hub, repo, token)
            return trimmed_dataset(data) if is_dataset(repo) else trimmed(data, all_files=True)

        key = {"endpoint": hub, "model": repo, "account": fingerprint(token)}
        value, _origin, _age = cached(ctx, "hf-info", key, fetch, valid=lambda v: isinstance(v, dict))
        return value, hub, token

    def _access(self, repo: str, ctx: Context, hub: str, token: str | None, session: Any = None) -> str:
        """For a gated repo, whether this token may download it (never cached): "granted",
        "no-token", "denied", or "unknown" (a mirror that cannot tell: the download decides).
        ``session``: an open one, whose deadline it then shares."""
        # lazy: httpx (~100 ms) only when the Hub is asked: off cached-answer search start-up
        from ...net.http import Session
        from . import api

        try:
            with contextlib.nullcontext(session) if session is not None else Session(ctx, api.SERVICE) as s:
                known = api.auth_check(s, hub, repo, token)
        except (AccessDeniedError, NotFoundError):
            return "denied" if token else "no-token"
        return "granted" if known else "unknown"

    def info(self, pid: ParsedId, ctx: Context) -> Record | None:
        data, hub, token = self.model_answer(pid.ref, ctx)
        rec = dataset_record(data, hub) if is_dataset(pid.ref) else record_from_payload(data, hub)
        if rec.gated:
            try:
                access = self._access(pid.ref, ctx, hub, token)
            except Exception:  # noqa: BLE001 - the metadata is still worth showing
                access = "unknown"
            rec = replace(rec, extra={**rec.extra, "access": access})
        return rec

    def files(self, pid: ParsedId, ctx: Context) -> Sequence[FileEntry]:
        return self.fileset(pid, ctx).files

    def fileset(self, pid: ParsedId, ctx: Context, *, revision: str | None = None) -> FileSet:
        """The repo's files at ``revision`` (default: main), never from the answer cache: a
        branch moves, and pull must fetch what the Hub holds now. Gated repos need access."""
        # lazy: httpx (~100 ms) only when the Hub is asked: off cached-answer search start-up
        from ...net.http import Session
        from . import api

        hub = ctx.endpoint(SPEC)
        token, _ = find_token(ctx.environ)
        shown = redact_url(hub)
        with Session(ctx, api.SERVICE) as s:  # one deadline for the metadata and the access check
            data = api.model_info(s, hub, pid.ref, token, revision)
            # The Hub's id (a rename answers with the new one), as zoofind names it: datasets/ for a dataset.
            repo = f"datasets/{data['id']}" if is_dataset(pid.ref) else str(data["id"])
            access = self._access(repo, ctx, hub, token, s) if data.get("gated") else "granted"
        if access in ("denied", "no-token"):  # "unknown": the downloads' own answers decide (401/403: exit 4)
            raise AccessDeniedError(
                f"{api.shown(repo)} is gated on the Hugging Face Hub and "
                + ("this token has no access" if access == "denied" else "no token is set"),
                hint=f"request access at {shown}/{repo}, then set HF_TOKEN (or run `hf auth login`)",
            )
        commit = data.get("sha")
        if not isinstance(commit, str) or not re.fullmatch(r"[0-9a-f]{40}", commit):
            raise BadAnswerError(f"the Hugging Face Hub at {shown} gave no commit for {api.shown(repo)}",
                                 hint="retry later")
        return FileSet(f"hf:{repo}", tuple(self._entries(data, hub, repo, commit)), revision or "main", commit,
                       f"{shown}/{repo}")

    @staticmethod
    def _entries(data: dict[str, Any], hub: str, repo: str, commit: str) -> Iterator[FileEntry]:
        siblings = data.get("siblings")
        for s in siblings if isinstance(siblings, list) else ():
            path = s.get("rfilename") if isinstance(s, dict) else None
            if not isinstance(path, str):
                continue
            lfs = s.get("lfs") if isinstance(s.get("lfs"), dict) else {}
            # These become file names in the cache (blobs/<id>): only the hex ids they are.
            sha256 = (lfs.get("sha256") if isinstance(lfs.get("sha256"), str) and _SHA256.fullmatch(lfs["sha256"])
                      else None)
            blob = s.get("blobId") if isinstance(s.get("blobId"), str) and _SHA1.fullmatch(s["blobId"]) else None
            if lfs and sha256 is None or not lfs and blob is None:
                raise BadAnswerError(f"the Hugging Face Hub at {redact_url(hub)} gave {path!r} of {repo} no usable "
                                     "content id; refused",
                                     hint="the server is misbehaving or hostile; nothing was written")
            size = lfs.get("size", s.get("size"))
            yield FileEntry(
                path=path,
                url=f"{hub}/{repo}/resolve/{commit}/{quote(path)}",
                size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
                sha256=sha256,
                # huggingface_hub names a blob by its ETag: the LFS sha256, else the git blob id.
                etag=sha256 or blob,
                git_sha1=None if sha256 else blob,
                blob_id=blob,
            )

    def status(self, ctx: Context, *, probe: bool = True) -> SourceStatus:
        hub = ctx.endpoint(SPEC)
        token, origin = find_token(ctx.environ)
        ages = [a for a in (AnswerCache(ctx, "hf").newest_age(),
                            AnswerCache(ctx, "hf-info").newest_age()) if a is not None]
        reachable, reason = probe_endpoint(ctx, "the Hugging Face Hub",
                                           f"{hub}/api/models?limit=1") if probe else (None, None)
        return SourceStatus(
            SPEC.name, SPEC.title, hub, network=True, reachable=reachable, reason=reason,
            credentials=token is not None, cache_age_seconds=min(ages) if ages else None,
            details=(("credentials", origin),) if origin else (),
        )
