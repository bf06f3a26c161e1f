"""``KaggleSource``: search, info, files and status for Kaggle Models and Kaggle datasets.

A search asks ``ListModels`` and, unless the query is for models only (``kind`` model, or a
framework, which datasets have none of), ``ListDatasets``: datasets come back as records of kind
``dataset``. ``info`` of ``kaggle:datasets/...`` asks ``GetDataset``.

Without credentials a search is skipped (``origin="skipped"``, with ``NO_CREDENTIALS`` as
its note) before any request, and ``info`` of a model asks ``GetModelInstance`` (anonymous in
kagglehub) rather than ``GetModel``: no Kaggle client calls
``ListModels``, ``ListDatasets`` or ``GetModel`` anonymously (kagglehub 1.0 calls ``GetModel`` only
to upload; the ``kaggle`` CLI runs only ``datasets download``, ``datasets files`` and ``auth login``
without credentials: ``kaggle_api_extended.py``, ``command_prefixes_allowing_anonymous_access``),
so nothing shows Kaggle answering them. ``info`` of a dataset asks ``GetDataset`` anonymously, as
kagglehub 1.0 does for a public dataset without a version (``DatasetHttpResolver``; its
integration test ``test_public_dataset_with_unauthenticated_succeeds``). Answers are cached per
endpoint, request and account (``cache.cached``): a fresh one is served without the network, a
stale one when Kaggle fails transiently.
The network layer is imported only when the cache cannot answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ...core.errors import AccessDeniedError, BadAnswerError, NotFoundError, SourceError, UsageError
from ...models.files import FileEntry
from ...models.records import ParsedId, Record
from ...net.answers import AnswerCache, cached, stale_note
from .. import Repairs, SearchQuery
from ..base import SourceAnswer, SourceStatus
from . import SPEC, is_dataset
from .auth import Credentials, credentials
from .datasets import DatasetHandle, dataset_record, get_dataset, list_datasets, trimmed_dataset
from .datasets import list_body as dataset_list_body
from .mapping import ALL_FRAMEWORKS, FRAMEWORKS, Handle, framework_enum, list_body, model_records, trimmed

if TYPE_CHECKING:
    from ...core.context import Context

NO_CREDENTIALS = ("no Kaggle credentials, so Kaggle Models were not searched (public models and datasets still "
                  "pull without them): set KAGGLE_API_TOKEN or KAGGLE_USERNAME/KAGGLE_KEY")


class KaggleSource:
    spec = SPEC

    def search(self, query: SearchQuery, ctx: Context) -> SourceAnswer:
        creds = credentials(ctx.environ)
        if creds is None:
            return SourceAnswer((), origin="skipped", note=NO_CREDENTIALS)
        if query.size_category:
            # Kaggle's datasets carry no size category (the Hub's number-of-rows tags): every one
            # would be filtered out, so nothing is asked.
            return SourceAnswer((), origin="skipped", note="Kaggle's datasets have no size category (the Hub's)")
        endpoint = ctx.endpoint(SPEC)
        want = max(query.limit, 1)
        body = list_body(query)
        repairs = Repairs()
        if query.kind == "dataset":
            return self._search_datasets(query, ctx, creds, repairs)

        def fetch() -> list[dict[str, Any]]:
            from . import api  # lazy: the HTTP stack only when the answers cache cannot answer (search start-up)

            models: list[dict[str, Any]] = []
            found = 0
            # One session for every page: the whole search shares the call's deadline.
            with api.session(ctx, creds) as s:
                for page in api.list_models(s, endpoint, body, creds):
                    batch = [trimmed(m, repairs) for m in page if isinstance(m, dict)]
                    repairs.records += len(page) - len(batch)
                    models += batch
                    # The listing cannot filter by framework: read on until enough TensorFlow instances.
                    found += sum(len(model_records(m, FRAMEWORKS)) for m in batch)
                    if found >= want:
                        break
            return models

        params = {"op": "ListModels", "endpoint": endpoint, "body": body, "want": want, "account": creds.fingerprint()}
        models, origin, age = cached(ctx, SPEC.name, params, fetch, valid=lambda v: isinstance(v, list))
        records: dict[str, Record] = {}
        for m in models:
            for rec in model_records(m, FRAMEWORKS, repairs):
                records.setdefault(rec.id, rec)
        answer = SourceAnswer(tuple(records.values()), origin=origin, age_seconds=age)
        failed = None
        if query.kind is None and query.framework is None:
            try:
                data = self._search_datasets(query, ctx, creds, repairs)
            except (SourceError, AccessDeniedError, NotFoundError) as exc:
                # The models answered: the datasets' failure is said, not made the whole search's.
                data, failed = SourceAnswer(()), f"Kaggle datasets were not searched ({exc.message})"
            # The older of the two answers says how old the whole one is.
            both = (origin, data.origin)
            answer = SourceAnswer(answer.records + data.records,
                                  origin=next((o for o in ("stale", "cache") if o in both), origin),
                                  age_seconds=max(age or 0.0, data.age_seconds or 0.0) or None)
        notes = [n for n in (stale_note("Kaggle", answer.origin, answer.age_seconds), repairs.note("Kaggle"), failed)
                 if n]
        return SourceAnswer(answer.records, origin=answer.origin, age_seconds=answer.age_seconds,
                            note="; ".join(notes) or None)

    def _search_datasets(self, query: SearchQuery, ctx: Context, creds: Credentials, repairs: Repairs) -> SourceAnswer:
        """ListDatasets, from the answers cache when it can answer; its note only when asked for datasets alone."""
        endpoint = ctx.endpoint(SPEC)
        want = max(query.limit, 1)
        body = dataset_list_body(query)

        def fetch() -> list[dict[str, Any]]:
            from . import api  # lazy: the HTTP stack only when the answers cache cannot answer (search start-up)

            found: list[dict[str, Any]] = []
            with api.session(ctx, creds) as s:
                for page in list_datasets(s, endpoint, body, creds):
                    batch = [trimmed_dataset(d, repairs) for d in page if isinstance(d, dict)]
                    repairs.records += len(page) - len(batch)
                    found += batch
                    if len(found) >= want:
                        break
            return found

        params = {"op": "ListDatasets", "endpoint": endpoint, "body": body, "want": want,
                  "account": creds.fingerprint()}
        found, origin, age = cached(ctx, SPEC.name, params, fetch, valid=lambda v: isinstance(v, list))
        records = {r.id: r for r in (dataset_record(d, repairs) for d in found) if r is not None}
        notes = [n for n in (stale_note("Kaggle", origin, age), repairs.note("Kaggle")) if n]
        return SourceAnswer(tuple(records.values()), origin=origin, age_seconds=age, note="; ".join(notes) or None)

    def info(self, pid: ParsedId, ctx: Context) -> Record | None:
        creds = credentials(ctx.environ)
        if is_dataset(pid.ref):
            return self._dataset_info(DatasetHandle.parse(pid.ref), ctx, creds)
        if creds is None:
            return self._variation_info(pid, ctx)
        endpoint = ctx.endpoint(SPEC)
        owner, slug, framework, variation = pid.ref.split("/")[:4]

        def fetch() -> dict[str, Any]:
            from . import api  # lazy: the HTTP stack only when the answers cache cannot answer (search start-up)

            with api.session(ctx, creds) as s:
                return trimmed(api.get_model(s, endpoint, owner, slug, creds))

        params = {"op": "GetModel", "endpoint": endpoint, "ref": f"{owner}/{slug}", "account": creds.fingerprint()}
        model, _origin, _age = cached(ctx, SPEC.name, params, fetch, valid=lambda v: isinstance(v, dict))
        return _variation(model, pid)

    def _variation_info(self, pid: ParsedId, ctx: Context) -> Record:
        """Without credentials: the variation as ``GetModelInstance`` answers it anonymously (the call
        kagglehub makes first for a handle without a version); the model's title and description come
        with ``GetModel``, which no client makes without credentials."""
        h = Handle.parse(pid.ref)
        enum = framework_enum(h.framework)
        if enum is None:
            raise UsageError(f"{pid}: {h.framework!r} is not a Kaggle Models framework",
                             hint="use the framework as the model's Kaggle address spells it: tensorFlow2, tfLite, "
                                  "pyTorch, jax, keras, transformers, gguf, ...")
        endpoint = ctx.endpoint(SPEC)

        def fetch() -> dict[str, Any]:
            from . import api  # lazy: the HTTP stack only when the answers cache cannot answer (info start-up)

            body = api.instance_body(h.owner, h.model, enum, h.variation)
            with api.session(ctx, None) as s:
                inst = api.get_model_instance(s, endpoint, body, None, what=f"model {h.variation_ref}", page=h.page)
            return trimmed({"ref": f"{h.owner}/{h.model}", "instances": [inst]})

        params = {"op": "GetModelInstance", "endpoint": endpoint, "ref": h.variation_ref, "account": "anonymous"}
        model, _origin, _age = cached(ctx, SPEC.name, params, fetch, valid=lambda v: isinstance(v, dict))
        rec = _variation(model, pid)
        return replace(rec, notes=f"described from its variation alone ({SERVICE_NOTE}); Kaggle credentials give "
                                  "the model's title and description too")

    def _dataset_info(self, h: DatasetHandle, ctx: Context, creds: Credentials | None) -> Record:
        endpoint = ctx.endpoint(SPEC)

        def fetch() -> dict[str, Any]:
            from . import api  # lazy: the HTTP stack only when the answers cache cannot answer (info start-up)

            with api.session(ctx, creds) as s:
                return trimmed_dataset(get_dataset(s, endpoint, h, creds))

        params = {"op": "GetDataset", "endpoint": endpoint, "ref": h.ref,
                  "account": creds.fingerprint() if creds else "anonymous"}
        data, _origin, _age = cached(ctx, SPEC.name, params, fetch, valid=lambda v: isinstance(v, dict))
        rec = dataset_record(data)
        if rec is None:
            raise BadAnswerError(f"Kaggle's API answered GetDataset for {h.ref} without the dataset's owner/name",
                                 hint="retry later")
        return rec

    def files(self, pid: ParsedId, ctx: Context) -> Sequence[FileEntry]:
        # A version's files come with per-file download calls that answer signed links: `pull`
        # plans them itself (hubs.kaggle.pull, over api.list_version_files and api.download_link).
        return ()

    def status(self, ctx: Context, *, probe: bool = True) -> SourceStatus:
        creds = credentials(ctx.environ)
        reachable: bool | None = None
        reason: str | None = None
        if probe:
            reachable, reason = (None, "offline: not probed") if ctx.offline else self._probe(ctx, creds)
        return SourceStatus(
            SPEC.name, SPEC.title, ctx.endpoint(SPEC), network=True, reachable=reachable, reason=reason,
            credentials=creds is not None, cache_age_seconds=AnswerCache(ctx, SPEC.name).newest_age(),
            details=(("credentials from", creds.origin if creds else "none"),
                     ("searches", "TensorFlow models and datasets")),
        )

    def _probe(self, ctx: Context, creds: Credentials | None) -> tuple[bool, str | None]:
        """One ListModels call of one model, not retried: with credentials it also checks them."""
        from . import api  # lazy: the HTTP stack only for a probe: off sources --offline and search start-up

        endpoint = ctx.endpoint(SPEC)
        try:
            with api.session(ctx, creds) as s:
                if creds is None:
                    answer = s.request("POST", api.rpc_url(endpoint, "ListModels"), content='{"pageSize": 1}',
                                       retry=False)
                    return True, f"HTTP {answer.status} (no credentials sent)"
                api.call(s, endpoint, "ListModels", {"pageSize": 1}, creds, retry=False)
            return True, "credentials accepted"
        except (AccessDeniedError, NotFoundError) as exc:
            return True, exc.message  # it answered: the credentials or the route are wrong, not the network
        except SourceError as exc:
            # An error status or a malformed answer still came from a server; timeouts and
            # lost connections (no status) did not.
            return exc.status is not None or isinstance(exc, BadAnswerError), exc.message


#: What an anonymous model ``info`` asked (its record's note).
SERVICE_NOTE = "Kaggle's GetModelInstance, asked without credentials"


def _variation(model: dict[str, Any], pid: ParsedId) -> Record:
    """The record of the variation ``pid`` names among a model's (any framework, not only the
    TensorFlow family searches keep), else ``NotFoundError`` naming the ones it has."""
    owner, slug, framework, variation = pid.ref.split("/")[:4]
    candidates = model_records(model, ALL_FRAMEWORKS)
    # Kaggle's slugs are case-insensitive (tensorflow2 and tensorFlow2 name one page).
    head, tail = f"kaggle:{owner}/{slug}/".lower(), f"/{framework}/{variation}".lower()
    for rec in candidates:
        low = rec.id.lower()
        if low.startswith(head) and low.endswith(tail):
            return rec
    raise NotFoundError(
        f"Kaggle model {owner}/{slug} has no variation {framework}/{variation}",
        hint=("its variations: " + ", ".join(r.id for r in candidates[:8])) if candidates else None,
    )
