"""``HfSource``: search, info, files and status for the Hugging Face Hub, its models and its datasets.

A search asks ``/api/models`` and, unless it is for models only (``--kind model``, or a
framework, which datasets have none of), ``/api/datasets`` beside it (concurrently, each answer
cached on its own); ``--kind dataset`` or ``--size-category`` asks ``/api/datasets`` alone. The
datasets' failure beside answering models is a note, never the search's failure.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ...catalog.frameworks import weights_format_of
from ...core.errors import AccessDeniedError, BadAnswerError, NotFoundError, OfflineError, SourceError
from ...core.redaction import redact_url
from ...models.files import FileEntry, FileSet
from ...models.records import ParsedId, Record
from ...net.answers import AnswerCache, cached, request_blob, request_key, stale_note
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
#: A path ``quote`` leaves as it is (its safe characters and ``/``): most of a large repo's.
_URL_PLAIN = re.compile(r"[A-Za-z0-9_.~/-]*").fullmatch


class HfSource:
    spec = SPEC

    def search(self, query: SearchQuery, ctx: Context) -> SourceAnswer:
        if query.kind == "resource":
            return SourceAnswer((), origin="skipped", note="the Hub lists models and datasets, not resources")
        if query.kind == "dataset" or query.size_category:
            return self._search_datasets(query, ctx)
        if query.kind is None and query.framework is None:
            # The dataset listing in a daemon thread beside the models' (a pool's threads are joined
            # at exit: a Ctrl-C would wait for a slow Hub's answer); each has its own deadline.
            box: dict[str, Any] = {}

            def datasets() -> None:
                try:
                    box["answer"] = self._search_datasets(query, ctx)
                except Exception as exc:  # noqa: BLE001 - handed to the caller's thread below
                    box["error"] = exc

            worker = threading.Thread(target=datasets, name="zoofind-hf-datasets", daemon=True)
            worker.start()
            models = self._search_models(query, ctx)
            worker.join()
            data = box.get("answer")
            if not isinstance(data, SourceAnswer):
                exc = box.get("error")
                if not isinstance(exc, (SourceError, AccessDeniedError, NotFoundError, BadAnswerError)):
                    raise exc if isinstance(exc, Exception) else RuntimeError("the dataset listing did not finish")
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
            # lazy: the HTTP stack loads only when the cache cannot answer (a cached search as quick as offline)
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
            if ctx.offline:  # said before the HTTP stack loads: cite asks this for every model of a lock
                raise OfflineError(f"offline: the Hugging Face Hub not asked about {repo}",
                                   hint="drop --offline (and ZOOFIND_OFFLINE / HF_HUB_OFFLINE) to ask it")
            # lazy: the HTTP stack only when the Hub is asked: off cached-answer search start-up
            from ...net.http import Session
            from . import api

            with Session(ctx, api.SERVICE) as s:
                data = api.model_info(s, hub, repo, token)
            return trimmed_dataset(data) if is_dataset(repo) else trimmed(data, all_files=True)

        value, _origin, _age = cached(ctx, "hf-info", _info_key(hub, repo, token), fetch,
                                      valid=lambda v: isinstance(v, dict))
        return value, hub, token

    def _access(self, repo: str, ctx: Context, hub: str, token: str | None, session: Any = None) -> str:
        """For a gated repo, whether this token may download it (never cached): "granted",
        "no-token", "denied", or "unknown" (a mirror that cannot tell: the download decides).
        ``session``: an open one, whose deadline it then shares."""
        # lazy: the HTTP stack only when the Hub is asked: off cached-answer search start-up
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
        return self.listing(pid, ctx, revision=revision)[0]

    def listing(self, pid: ParsedId, ctx: Context, *, revision: str | None = None) -> tuple[FileSet, Record]:
        """``fileset``, and the repo's record from the same answer (what a pull reads its needs
        from, without asking the Hub again). A repo of ``api.LARGE_REPO`` files or more is listed
        from the tree API, every page of it (the Hub may truncate ``siblings``)."""
        # lazy: the HTTP stack only when the Hub is asked: off cached-answer search start-up
        from ...net.http import Session
        from . import api

        hub = ctx.endpoint(SPEC)
        token, _ = find_token(ctx.environ)
        shown = redact_url(hub)
        with Session(ctx, api.SERVICE) as s:  # one deadline for the metadata, the access check and the tree
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
            siblings = data.get("siblings")
            siblings = siblings if isinstance(siblings, list) else []
            if is_dataset(pid.ref):
                record, kept = dataset_record(data, hub), trimmed_dataset(data)
            else:
                # The record needs only the weights files (formats, size): a large repo's other files stay out of it.
                described = {**data, "siblings": [
                    x for x in siblings
                    if isinstance(x, dict) and isinstance(x.get("rfilename"), str) and weights_format_of(x["rfilename"])
                ]}
                record, kept = record_from_payload(described, hub), trimmed(described, all_files=True)
            if revision in (None, "main"):
                # Kept as ``model_answer`` keeps it: ``info`` and ``cite`` of the repo just pulled
                # answer from it (offline too), and the same record comes out.
                request = request_blob("hf-info", _info_key(hub, pid.ref, token))
                AnswerCache(ctx, "hf-info").put(request_key(request), kept, request)
            if len(siblings) >= api.LARGE_REPO:
                del data, siblings  # a large answer's objects go before the tree's arrive
                files = tuple(f for page in api.tree_pages(s, hub, repo, commit, token)
                              for f in _tree_entries(page, hub, repo, commit))
            else:
                files = tuple(_sibling_entries(siblings, hub, repo, commit))
        return FileSet(f"hf:{repo}", files, revision or "main", commit, f"{shown}/{repo}"), record

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


def _info_key(hub: str, repo: str, token: str | None) -> dict[str, str | None]:
    """What a repo's answer is kept under in the answer cache (the account: whose view of it)."""
    return {"endpoint": hub, "model": repo, "account": fingerprint(token)}


def _sibling_entries(siblings: list[Any], hub: str, repo: str, commit: str) -> Iterator[FileEntry]:
    """The files of ``/api/models/{repo}?blobs=true``'s ``siblings``."""
    base = f"{hub}/{repo}/resolve/{commit}/"
    for s in siblings:
        path = s.get("rfilename") if isinstance(s, dict) else None
        if isinstance(path, str):
            lfs = s.get("lfs")
            lfs = lfs if isinstance(lfs, dict) else None
            yield _entry(base, hub, repo, path, s.get("size"), s.get("blobId"), lfs, lfs and lfs.get("sha256"))


def _tree_entries(page: list[Any], hub: str, repo: str, commit: str) -> Iterator[FileEntry]:
    """The files of one page of the tree listing (its folders left out); an LFS file's sha256 is
    its ``lfs.oid`` there."""
    base = f"{hub}/{repo}/resolve/{commit}/"
    for e in page:
        if not isinstance(e, dict) or e.get("type") != "file":
            continue
        path = e.get("path")
        if isinstance(path, str):
            lfs = e.get("lfs")
            lfs = lfs if isinstance(lfs, dict) else None
            yield _entry(base, hub, repo, path, e.get("size"), e.get("oid"), lfs, lfs and lfs.get("oid"))


def _entry(base: str, hub: str, repo: str, path: str, size: Any, blob: Any, lfs: dict[str, Any] | None,
           sha256: Any) -> FileEntry:
    """One listed file, checked: its ids become file names in the cache (``blobs/<id>``), so only
    the hex ids they are; an LFS file needs its sha256, any other its git blob id."""
    sha256 = sha256 if isinstance(sha256, str) and _SHA256.fullmatch(sha256) else None
    blob = blob if isinstance(blob, str) and _SHA1.fullmatch(blob) else None
    if lfs and sha256 is None or not lfs and blob is None:
        raise BadAnswerError(f"the Hugging Face Hub at {redact_url(hub)} gave {path!r} of {repo} no usable "
                             "content id; refused",
                             hint="the server is misbehaving or hostile; nothing was written")
    if lfs:
        size = lfs.get("size", size)
    return FileEntry(
        path=path,
        url=base + (path if _URL_PLAIN(path) else quote(path)),
        size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
        sha256=sha256,
        # huggingface_hub names a blob by its ETag: the LFS sha256, else the git blob id.
        etag=sha256 or blob,
        git_sha1=None if sha256 else blob,
        blob_id=blob,
    )
