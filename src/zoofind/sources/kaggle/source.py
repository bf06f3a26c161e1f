"""Kaggle Models: TensorFlow models from Kaggle's model listing, called as kagglesdk calls it.

Protocol (kagglesdk 0.1.38: ``kaggle_http_client.py``, ``models/services/model_api_service.py``,
``models/types/model_api_service.py``): every call is an HTTP ``POST`` of a JSON body to
``{api}/v1/models.ModelApiService/<Method>``, where ``{api}`` is ``https://api.kaggle.com``
in production and ``<endpoint>/api`` for any other endpoint. ``ListModels`` takes
``search``, ``sortBy`` (``LIST_MODELS_ORDER_BY_*``), ``owner``, ``pageSize``, ``pageToken``
and ``onlyVertexModels`` (camelCase, unset fields left out) and answers
``{"models": [ApiModel...], "nextPageToken": "...", "totalResults": n}``. An ApiModel has
``id, ref ("owner/slug"), title, subtitle, author, slug, description, instances, tags,
publishTime, url, voteCount, updateTime``; each instance has ``slug`` (the variation),
``framework`` (``tensorFlow2``..., or ``MODEL_FRAMEWORK_TENSOR_FLOW_2`` in kagglesdk's own
spelling), ``versionNumber``, ``url``, ``licenseName``, ``fineTunable``, ``trainingData``.
The listing has no framework filter: TensorFlow instances are picked client-side
(``FRAMEWORKS`` below). ``GetModel`` (``ownerSlug``, ``modelSlug``) answers one ApiModel.

Credentials, first found wins (the value is never printed or logged):
``KAGGLE_API_TOKEN`` (a token, or the path of a file holding one; ``Authorization: Bearer``),
``KAGGLE_USERNAME`` + ``KAGGLE_KEY`` (HTTP basic), then in the Kaggle config folder
(``KAGGLE_CONFIG_DIR``, else ``~/.kaggle``) ``access_token`` (bearer) and ``kaggle.json``
(``{"username", "key"}``, basic). ``ZOOFIND_KAGGLE_ENDPOINT`` replaces
``https://api.kaggle.com`` (kagglesdk's rule for the path applies).
"""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Any, Mapping, Sequence
from urllib.parse import urlsplit

from ...cache import AnswerCache, cached, stale_note
from ...errors import AccessDeniedError, BadAnswerError, NotFoundError
from ...paths import kaggle_config_dir
from ...records import ParsedId, Record
from .. import SearchQuery
from ..base import FileEntry, SourceAnswer, SourceStatus
from . import SPEC

if TYPE_CHECKING:
    from ...context import Context

SERVICE = "Kaggle's API"
WEB = "https://www.kaggle.com"
SERVICE = "models.ModelApiService"
PAGE_SIZE = 50
MAX_PAGES = 3
NO_CREDENTIALS = (
    "no Kaggle credentials: Kaggle Models search skipped "
    "(set KAGGLE_API_TOKEN or KAGGLE_USERNAME/KAGGLE_KEY)"
)

#: Kaggle framework (normalised: lower case, no "_", no MODEL_FRAMEWORK_ prefix) ->
#: (the spelling Kaggle handles and URLs use, zoofind's framework key). Only the TensorFlow
#: family is searched; ``info`` maps any framework it knows.
FRAMEWORKS: dict[str, tuple[str, str]] = {
    "tensorflow1": ("tensorFlow1", "tensorflow"),
    "tensorflow2": ("tensorFlow2", "tensorflow"),
    "tflite": ("tfLite", "tflite"),
    "tfjs": ("tfJs", "tfjs"),
    "coral": ("coral", "tflite"),  # Edge TPU-compiled TF Lite
}
OTHER_FRAMEWORKS: dict[str, tuple[str, str]] = {
    "pytorch": ("pyTorch", "pytorch"),
    "jax": ("jax", "jax"),
    "flax": ("flax", "jax"),
    "keras": ("keras", "keras"),
    "onnx": ("onnx", "onnx"),
    "scikitlearn": ("scikitLearn", "scikit-learn"),
    "mxnet": ("mxnet", "mxnet"),
    "transformers": ("transformers", "pytorch"),
    "gguf": ("gguf", ""),
    "ggml": ("ggml", ""),
}
#: zoofind --sort -> ListModelsOrderBy (relevance: the server's default order for a search)
SORT_BY = {
    "downloads": "LIST_MODELS_ORDER_BY_DOWNLOAD_COUNT",
    "likes": "LIST_MODELS_ORDER_BY_VOTE_COUNT",
    "updated": "LIST_MODELS_ORDER_BY_UPDATE_TIME",
}
_PART = r"^[A-Za-z0-9_.-]+$"


def rpc_url(ctx: "Context", method: str) -> str:
    """kagglesdk's ``_get_request_url``: production serves /v1, every other endpoint /api/v1."""
    ep = ctx.endpoint(SPEC)
    base = ep if urlsplit(ep).netloc == "api.kaggle.com" else f"{ep}/api"
    return f"{base}/v1/{SERVICE}/{method}"


def normalise_framework(value: Any) -> str:
    text = str(value or "")
    if text.upper().startswith("MODEL_FRAMEWORK_"):
        text = text[len("MODEL_FRAMEWORK_"):]
    return text.replace("_", "").replace("-", "").lower()


class Credentials:
    """An Authorization header and where it came from; repr and str never show the secret."""

    def __init__(self, header: str, origin: str) -> None:
        self._header = header
        self.origin = origin

    def headers(self) -> dict[str, str]:
        return {"Authorization": self._header}

    def fingerprint(self) -> str:
        # Cache answers per account (private models differ) without storing the secret.
        import hashlib

        return hashlib.sha256(self._header.encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"Credentials(origin={self.origin!r})"

    __str__ = __repr__


def _bearer(token: str, origin: str) -> Credentials:
    return Credentials(f"Bearer {token}", origin)


def _basic(user: str, key: str, origin: str) -> Credentials:
    import base64

    return Credentials("Basic " + base64.b64encode(f"{user}:{key}".encode()).decode(), origin)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def credentials(env: Mapping[str, str]) -> Credentials | None:
    token = env.get("KAGGLE_API_TOKEN", "").strip()
    if token:
        # kagglesdk: the variable may hold the token or the path of a file holding it.
        if os.path.isfile(os.path.expanduser(token)):
            token = _read(os.path.expanduser(token)) or ""
        if token:
            return _bearer(token, "KAGGLE_API_TOKEN")
    user, key = env.get("KAGGLE_USERNAME", "").strip(), env.get("KAGGLE_KEY", "").strip()
    if user and key:
        return _basic(user, key, "KAGGLE_USERNAME/KAGGLE_KEY")
    folder = kaggle_config_dir(env)
    for name in ("access_token", "access_token.txt"):
        token = _read(str(folder / name))
        if token:
            return _bearer(token, str(folder / name))
    text = _read(str(folder / "kaggle.json"))
    if text:
        try:
            data = json.loads(text)
            if data.get("username") and data.get("key"):
                return _basic(str(data["username"]), str(data["key"]), str(folder / "kaggle.json"))
        except (ValueError, AttributeError):
            pass
    return None


def _call(ctx: "Context", method: str, body: dict[str, Any], creds: Credentials) -> dict[str, Any]:
    """One kagglesdk-style RPC: POST JSON, raise on an error status or an error body."""
    from ...net.errors import from_status
    from ...net.http import Session

    url = rpc_url(ctx, method)
    # A read-only RPC despite the POST: retrying it is safe.
    with Session(ctx, SERVICE, headers={"Content-Type": "application/json", **creds.headers()}) as session:
        answer = session.request("POST", url, content=json.dumps(body))
    try:
        data = json.loads(answer.body)
    except ValueError:
        data = None
    # kagglesdk: a JSON body with "code" >= 400 is an error whatever the status line says.
    code = data.get("code") if isinstance(data, dict) and isinstance(data.get("code"), int) else None
    status = answer.status if answer.status >= 400 else (code if code and code >= 400 else answer.status)
    if status >= 400:
        message = str(data.get("message")) if isinstance(data, dict) and data.get("message") else f"HTTP {status}"
        if status in (401, 403):
            raise AccessDeniedError(
                f"Kaggle rejected the credentials from {creds.origin} (HTTP {status}: {message})",
                hint="check KAGGLE_API_TOKEN, or KAGGLE_USERNAME/KAGGLE_KEY, or kaggle.json (a new token: kaggle.com/settings)",
            )
        if status == 404:
            raise NotFoundError(f"Kaggle has no such model (HTTP 404: {message})")
        err = from_status(status, url, answer.headers, SERVICE)
        assert err is not None
        err.message = f"Kaggle API answered HTTP {status} ({message})"
        err.args = (err.message,)
        raise err
    if not isinstance(data, dict):
        raise BadAnswerError(f"Kaggle API answered something that is not JSON from {url}")
    return data


# -- records ------------------------------------------------------------------------

_MODEL_KEYS = ("id", "ref", "title", "subtitle", "author", "slug", "description", "url", "voteCount",
               "updateTime", "publishTime", "downloadCount", "isPrivate")
_INSTANCE_KEYS = ("slug", "framework", "versionNumber", "url", "licenseName", "fineTunable", "trainingData",
                  "overview", "totalUncompressedBytes")


def _trim(model: dict[str, Any]) -> dict[str, Any]:
    """What the cache keeps of an ApiModel (JSON, without long texts zoofind does not show)."""
    out = {k: model[k] for k in _MODEL_KEYS if k in model}
    if isinstance(out.get("description"), str):
        out["description"] = out["description"][:2000]
    out["tags"] = [t.get("name") or t.get("ref") for t in model.get("tags") or () if isinstance(t, dict)]
    out["instances"] = [
        {k: (i[k][:1000] if k == "overview" and isinstance(i.get(k), str) else i[k]) for k in _INSTANCE_KEYS if k in i}
        for i in model.get("instances") or () if isinstance(i, dict)
    ]
    if "instances" not in model:
        out["instances_unknown"] = True
    return out


def _plain(text: str, limit: int = 300) -> str:
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"^#+\s*.*$", "", text, flags=re.M)  # headings are section titles, not summary
    text = re.sub(r"[*_`>|]", "", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _license(name: Any) -> str | None:
    text = str(name or "").strip()
    return re.sub(r"\s+", "-", text.lower()) if text else None


def _tasks(tags: Sequence[str]) -> tuple[str, ...]:
    from ...tasks import ALIASES, canonical_task

    known = set(ALIASES.values())
    return tuple(dict.fromkeys(t for t in (canonical_task(x) for x in tags if x) if t in known))


def model_records(model: dict[str, Any], frameworks: dict[str, tuple[str, str]]) -> list[Record]:
    """One record per instance (framework + variation) whose framework is in ``frameworks``."""
    owner, _, slug = str(model.get("ref") or "").partition("/")
    slug = slug or str(model.get("slug") or "")
    if not (owner and slug and re.match(_PART, owner) and re.match(_PART, slug)):
        return []
    tags = [str(t) for t in model.get("tags") or () if t]
    title = str(model.get("title") or slug)
    subtitle = str(model.get("subtitle") or "")
    out: list[Record] = []
    for inst in model.get("instances") or ():
        fw = frameworks.get(normalise_framework(inst.get("framework")))
        variation = str(inst.get("slug") or "")
        if fw is None or not re.match(_PART, variation):
            continue
        fw_slug, fw_key = fw
        handle = f"{owner}/{slug}/{fw_slug}/{variation}"
        summary = _plain(str(inst.get("overview") or model.get("description") or ""))
        description = ". ".join(x for x in (subtitle.rstrip("."), summary) if x)
        url = str(inst.get("url") or "")
        if not url.startswith(("http://", "https://")):
            url = f"{WEB}/models/{handle}"
        extra: dict[str, Any] = {
            "kaggle_ref": f"{owner}/{slug}",
            "framework_slug": fw_slug,
            "variation": variation,
            "author": model.get("author"),
        }
        if inst.get("versionNumber"):
            extra["version"] = int(inst["versionNumber"])
            extra["handle"] = f"{handle}/{int(inst['versionNumber'])}"
        for src, dst in (("fineTunable", "fine_tunable"), ("trainingData", "training_data"),
                         ("totalUncompressedBytes", "uncompressed_bytes"), ("id", "kaggle_model_id")):
            value = inst.get(src) if src != "id" else model.get("id")
            if value not in (None, "", []):
                extra[dst] = value
        out.append(
            Record(
                id=f"kaggle:{handle}",
                source="kaggle",
                kind="model",
                name=f"{title} ({fw_slug}/{variation})",
                description=description,
                url=url,
                tasks=_tasks(tags),
                frameworks=(fw_key,) if fw_key else (),
                libraries=("kagglehub",),
                license=_license(inst.get("licenseName")),
                gated=False,
                tags=tuple(dict.fromkeys([*tags, owner, "kaggle"])),
                size_bytes=int(inst["totalUncompressedBytes"]) if inst.get("totalUncompressedBytes") else None,
                downloads=int(model["downloadCount"]) if isinstance(model.get("downloadCount"), int) else None,
                likes=int(model["voteCount"]) if isinstance(model.get("voteCount"), int) else None,
                updated=str(model.get("updateTime") or model.get("publishTime") or "") or None,
                reliability="generated",
                evidence=f"Kaggle Models API ({SERVICE})",
                extra=extra,
            )
        )
    return out


class KaggleSource:
    spec = SPEC

    def search(self, query: SearchQuery, ctx: "Context") -> SourceAnswer:
        creds = credentials(ctx.environ)
        if creds is None:
            return SourceAnswer((), origin="skipped", note=NO_CREDENTIALS)
        want = max(query.limit, 1)
        body: dict[str, Any] = {"pageSize": PAGE_SIZE}
        if query.text.strip():
            body["search"] = query.text.strip()
        if query.sort in SORT_BY:
            body["sortBy"] = SORT_BY[query.sort]
        params = {"op": "ListModels", "endpoint": ctx.endpoint(SPEC), "body": body, "want": want, "account": creds.fingerprint()}

        def fetch() -> list[dict[str, Any]]:
            models: list[dict[str, Any]] = []
            found = 0
            token = ""
            for _ in range(MAX_PAGES):
                page = dict(body, pageToken=token) if token else dict(body)
                data = _call(ctx, "ListModels", page, creds)
                batch = [_trim(m) for m in data.get("models") or () if isinstance(m, dict)]
                models += batch
                found += sum(len(model_records(m, FRAMEWORKS)) for m in batch)
                token = str(data.get("nextPageToken") or "")
                if not token or found >= want:
                    break
            return models

        models, origin, age = cached(ctx, SPEC.name, params, fetch)
        records: dict[str, Record] = {}
        for m in models:
            for rec in model_records(m, FRAMEWORKS):
                records.setdefault(rec.id, rec)
        note = stale_note("Kaggle", origin, age)
        return SourceAnswer(tuple(records.values()), origin=origin, age_seconds=age, note=note)

    def info(self, pid: ParsedId, ctx: "Context") -> Record | None:
        parts = pid.ref.split("/")
        owner, slug, framework, variation = parts[:4]
        creds = credentials(ctx.environ)
        if creds is None:
            raise AccessDeniedError(
                f"reading {pid} from Kaggle needs credentials",
                hint="set KAGGLE_API_TOKEN, or KAGGLE_USERNAME and KAGGLE_KEY, or ~/.kaggle/kaggle.json",
            )
        params = {"op": "GetModel", "endpoint": ctx.endpoint(SPEC), "ref": f"{owner}/{slug}", "account": creds.fingerprint()}
        model, _, _ = cached(ctx, SPEC.name, params, lambda: _trim(_call(ctx, "GetModel", {"ownerSlug": owner, "modelSlug": slug}, creds)))
        everything = {**FRAMEWORKS, **OTHER_FRAMEWORKS}
        wanted = f"kaggle:{owner}/{slug}/".lower(), f"/{framework}/{variation}".lower()
        for rec in model_records(model, everything):
            low = rec.id.lower()
            if low.startswith(wanted[0]) and low.endswith(wanted[1]):
                return rec
        names = [r.id for r in model_records(model, everything)]
        raise NotFoundError(
            f"Kaggle model {owner}/{slug} has no variation {framework}/{variation}",
            hint=("its variations: " + ", ".join(names[:8])) if names else None,
        )

    def files(self, pid: ParsedId, ctx: "Context") -> Sequence[FileEntry]:
        # Kaggle serves a variation's files through kagglehub's download route; `pull` uses kagglehub.
        return ()

    def status(self, ctx: "Context", *, probe: bool = True) -> SourceStatus:
        creds = credentials(ctx.environ)
        reachable, reason = self._probe(ctx, creds) if probe and not ctx.offline else (None, None)
        return SourceStatus(
            SPEC.name, SPEC.title, ctx.endpoint(SPEC), network=True, reachable=reachable, reason=reason,
            credentials=creds is not None, cache_age_seconds=AnswerCache(ctx, SPEC.name).newest_age(),
            details=(("credentials from", creds.origin if creds else "none"), ("searches", "TensorFlow models only")),
        )

    def _probe(self, ctx: "Context", creds: Credentials | None) -> tuple[bool, str | None]:
        from ...errors import SourceError, ZoofindError
        from ...net.http import Session

        try:
            if creds is None:
                with Session(ctx, SERVICE, headers={"Content-Type": "application/json"}) as session:
                    answer = session.request("POST", rpc_url(ctx, "ListModels"), content=json.dumps({"pageSize": 1}), retry=False)
                return True, f"HTTP {answer.status} (no credentials sent)"
            _call(ctx, "ListModels", {"pageSize": 1}, creds)
            return True, "credentials accepted"
        except SourceError as exc:
            if exc.status is not None:
                return True, exc.message  # it answered, with an error status
            return False, exc.message
        except ZoofindError as exc:  # denied, not found: the server answered
            return True, exc.message
