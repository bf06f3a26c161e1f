"""The Hugging Face Hub as a live source, through huggingface_hub's ``HfApi``.

Environment, read at call time (huggingface_hub reads its own copies once, at import,
so zoofind passes everything explicitly):

* ``HF_ENDPOINT`` (default https://huggingface.co): passed as ``HfApi(endpoint=...)``.
* ``HF_TOKEN`` (else the token file ``$HF_TOKEN_PATH`` or ``$HF_HOME/token``): passed as
  ``HfApi(token=...)``, or ``token=False`` when there is none so huggingface_hub never
  falls back to a path it computed at import. The token is never printed, logged,
  put in a cache key or in an error message.
* ``HF_HUB_OFFLINE`` / ``ZOOFIND_OFFLINE``: no request at all.

Timeouts. ``list_models`` takes no timeout: it pages through ``http_backoff``, which
sends ``timeout=None`` (no limit) and retries timeouts, connection errors, 408, 429 and
5xx five times with 1-8 s sleeps (about 23 s before an error surfaces). A search must
answer within ``--timeout``, so the first use of this module wraps the transports of
huggingface_hub's shared HTTP client (``set_client_factory``, wrapping whatever factory
was installed). The wrapper does nothing unless the current thread is inside one of
this module's calls (a context variable): there it applies the remaining time of the
call's deadline to every request and turns a timeout, a network error, 408, 429 or a
5xx into an exception ``http_backoff`` does not retry; the call then re-raises the
original error (an httpx transport error, or ``HfHubHTTPError`` for a status), which
the answer cache recognises as transient and may answer with a stale copy. Other users
of huggingface_hub in the same process see the client unchanged.

One request is not zoofind's: to build its user agent, huggingface_hub (1.33 and 2.x) fetches
``<endpoint it read at import>/api/agent-harnesses`` (3 s timeout) once a process when
``$HF_HOME/.agent_harnesses.json`` is missing or a day old. Inside zoofind's calls it shares
the deadline, and huggingface_hub ignores its failure; HF_HUB_DISABLE_TELEMETRY=1 turns it off.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping, NoReturn, Sequence
from urllib.parse import quote

from ..errors import AccessDeniedError, NotFoundError, SourceError
from ..paths import hf_home, offline_requested
from ..frameworks import LIBRARIES
from ..frameworks import canonical as canonical_library
from ..records import ParsedId, Record
from ..tasks import canonical_task
from . import Registry, SearchQuery
from .base import SourceAnswer

if TYPE_CHECKING:
    from .base import FileEntry, SourceStatus

DEFAULT_ENDPOINT = "https://huggingface.co"

#: Fields asked of ``list_models(expand=...)``: every one a documented list expand value.
LIST_EXPAND = (
    "author", "cardData", "createdAt", "downloads", "gated", "gguf", "lastModified", "library_name",
    "likes", "pipeline_tag", "private", "safetensors", "sha", "siblings", "tags",
)

#: zoofind ``--sort`` -> list_models ``sort`` (sent as downloads / likes / lastModified).
#: The Hub has no relevance order for the API: downloads is its most useful default.
HUB_SORT = {"relevance": "downloads", "downloads": "downloads", "likes": "likes", "updated": "last_modified"}

#: zoofind framework or library key -> the Hub tag ``--framework`` filters on.
HUB_FILTER_TAG = {
    "pytorch": "pytorch", "tensorflow": "tf", "jax": "jax", "flax": "jax", "onnx": "onnx", "keras": "keras",
    "tflite": "tflite", "tfjs": "tfjs", "scikit-learn": "scikit-learn", "transformers": "transformers",
    "timm": "timm", "diffusers": "diffusers", "sentence-transformers": "sentence-transformers",
    "open_clip": "open_clip", "peft": "peft", "speechbrain": "speechbrain", "nemo": "nemo",
    "fastai": "fastai", "gguf": "gguf", "esm": "esm",
}

#: Hub licence ids ``--license`` may name exactly; a prefix (``cc-by``) is filtered locally only.
HUB_LICENSES = frozenset({
    "apache-2.0", "mit", "openrail", "bigscience-openrail-m", "creativeml-openrail-m", "bigscience-bloom-rail-1.0",
    "bigcode-openrail-m", "afl-3.0", "artistic-2.0", "bsl-1.0", "bsd", "bsd-2-clause", "bsd-3-clause",
    "bsd-3-clause-clear", "c-uda", "cc", "cc0-1.0", "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0",
    "cc-by-sa-3.0", "cc-by-sa-4.0", "cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0", "cc-by-nd-4.0",
    "cc-by-nc-nd-3.0", "cc-by-nc-nd-4.0", "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0", "cdla-permissive-1.0", "cdla-permissive-2.0", "wtfpl", "ecl-2.0", "epl-1.0",
    "epl-2.0", "etalab-2.0", "eupl-1.1", "eupl-1.2", "agpl-3.0", "gfdl", "gpl", "gpl-2.0", "gpl-3.0",
    "lgpl", "lgpl-2.1", "lgpl-3.0", "isc", "h-research", "intel-research", "lppl-1.3c", "ms-pl", "apple-ascl",
    "apple-amlr", "mpl-2.0", "odc-by", "odbl", "openrail++", "osl-3.0", "postgresql", "ofl-1.1", "ncsa",
    "unlicense", "zlib", "pddl", "lgpl-lr", "deepfloyd-if-license", "fair-noncommercial-research-license",
    "llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4", "gemma", "unknown", "other",
})

#: The Hub's pipeline tags (huggingface.js packages/tasks pipelines.ts): ``--task`` is sent
#: as ``pipeline_tag`` only when its canonical name is one of these.
PIPELINE_TAGS = frozenset({
    "text-classification", "token-classification", "table-question-answering", "question-answering",
    "zero-shot-classification", "translation", "summarization", "feature-extraction", "text-generation",
    "fill-mask", "sentence-similarity", "text-to-speech", "text-to-audio", "automatic-speech-recognition",
    "audio-to-audio", "audio-classification", "audio-text-to-text", "voice-activity-detection",
    "depth-estimation", "image-classification", "object-detection", "image-segmentation", "text-to-image",
    "image-to-text", "image-to-image", "image-to-video", "unconditional-image-generation",
    "video-classification", "reinforcement-learning", "robotics", "tabular-classification",
    "tabular-regression", "tabular-to-text", "table-to-text", "multiple-choice", "text-ranking",
    "text-retrieval", "time-series-forecasting", "text-to-video", "image-text-to-text", "image-text-to-image",
    "image-text-to-video", "visual-question-answering", "document-question-answering",
    "zero-shot-image-classification", "graph-ml", "mask-generation", "zero-shot-object-detection",
    "text-to-3d", "image-to-3d", "image-feature-extraction", "video-text-to-text", "keypoint-detection",
    "visual-document-retrieval", "any-to-any", "video-to-video", "other",
})

#: THE framework-inference table: a Hub tag, a ``library_name`` or a weights format (the
#: names in WEIGHT_SUFFIXES: tf, flax, onnx, keras, tflite) -> the framework it shows. A library with no such tag falls back to its base framework
#: in ``frameworks.LIBRARIES`` (transformers, timm, diffusers... -> pytorch), unless a tag
#: already names a main framework (pytorch, tensorflow, jax, keras): a transformers repo
#: tagged only ``tf`` is TensorFlow-only. Export formats (onnx, tflite, tfjs) add to it.
FRAMEWORK_OF = {
    "pytorch": "pytorch", "torch": "pytorch",
    "tf": "tensorflow", "tensorflow": "tensorflow",
    "jax": "jax", "flax": "jax",
    "keras": "keras", "tf-keras": "keras",
    "onnx": "onnx", "onnxruntime": "onnx",
    "tflite": "tflite", "litert": "tflite",
    "tfjs": "tfjs", "tensorflowjs": "tfjs",
    "scikit-learn": "scikit-learn", "sklearn": "scikit-learn",
    "mxnet": "mxnet", "chainer": "chainer",
}
#: Hub tags that name a library unambiguously (unlike e.g. "esm", also a transformers model type).
TAG_LIBRARIES = frozenset({"transformers", "timm", "diffusers", "sentence-transformers", "open_clip", "peft",
                           "speechbrain", "nemo", "fastai"})
MAIN_FRAMEWORKS = ("pytorch", "tensorflow", "jax", "keras")
FRAMEWORK_ORDER = ("pytorch", "tensorflow", "jax", "keras", "onnx", "tflite", "tfjs", "scikit-learn", "mxnet", "chainer")

#: File name endings -> weights format. Pickle covers PyTorch's .bin/.pt/.pth and Lightning's .ckpt.
WEIGHT_SUFFIXES = (
    (".safetensors", "safetensors"), (".gguf", "gguf"), (".onnx", "onnx"), (".onnx_data", "onnx"),
    (".msgpack", "flax"), (".h5", "tf"), (".keras", "keras"), (".tflite", "tflite"),
    (".bin", "pickle"), (".pt", "pickle"), (".pth", "pickle"), (".ckpt", "pickle"),
)
#: Pickles that are training state, not weights.
_NOT_WEIGHTS = ("training_args.bin", "optimizer.pt", "optimizer.bin", "scheduler.pt", "scaler.pt", "rng_state")
#: Preference when one repo ships several formats (for the download size).
FORMAT_ORDER = ("safetensors", "pickle", "tf", "flax", "onnx", "gguf", "keras", "tflite")

#: Hub-computed tags that say nothing about the model.
_NOISE_PREFIXES = ("license:", "region:", "base_model:", "deploy:", "endpoints_compatible", "autotrain_compatible",
                   "text-generation-inference", "has_space", "inference:", "eval-results", "model-index")


# ---------------------------------------------------------------------------------------
# Environment, read at call time


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).strip().rstrip("/")


def token_path() -> Path:
    """Where huggingface_hub stores the login token (``hf auth login``), as it computes it."""
    override = os.environ.get("HF_TOKEN_PATH")
    if override:
        return Path(os.path.expandvars(override)).expanduser()
    return hf_home() / "token"


def _token_and_origin() -> tuple[str | None, str | None]:
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        value = (os.environ.get(name) or "").strip()
        if value:
            return value, name
    try:
        value = token_path().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None, None
    return (value, "token file") if value else (None, None)


def token() -> str | None:
    return _token_and_origin()[0]


# ---------------------------------------------------------------------------------------
# Deadlines for huggingface_hub's shared client (see the module docstring)


@dataclass(frozen=True)
class _Limit:
    timeout: float
    deadline: float  # time.monotonic()


_LIMIT: contextvars.ContextVar[_Limit | None] = contextvars.ContextVar("zoofind_hf_limit", default=None)
_INSTALL_LOCK = threading.Lock()
_installed = False
_GUARD_STATUSES = frozenset({408, 429})


class _Abort(Exception):
    """Raised inside huggingface_hub's retry loop to leave it; never escapes this module."""

    def __init__(self, error: BaseException | None = None, response: Any = None) -> None:
        super().__init__("aborted by zoofind's deadline")
        self.error = error
        self.response = response


def _http_lib() -> Any:
    """The HTTP library huggingface_hub's client is built on (httpx for 1.x, httpx2 for 2.x)."""
    from huggingface_hub.utils import _http

    return getattr(_http, "httpx", None) or getattr(_http, "httpx2")


@functools.lru_cache(maxsize=None)
def _guarded_transport_class() -> type:
    http = _http_lib()

    class GuardedTransport(http.BaseTransport):
        """Passes requests through, except inside zoofind's calls (see the module docstring)."""

        def __init__(self, wrapped: Any) -> None:
            self.wrapped = wrapped

        def handle_request(self, request: Any) -> Any:
            limit = _LIMIT.get()
            if limit is None:
                return self.wrapped.handle_request(request)
            remaining = limit.deadline - time.monotonic()
            if remaining <= 0.01:
                raise _Abort(http.ReadTimeout(f"no answer within {limit.timeout:g} s", request=request))
            seconds = min(limit.timeout, remaining)
            # A shorter timeout the caller set (huggingface_hub's own 3 s for its agent registry) stays.
            own = request.extensions.get("timeout") or {}
            request.extensions = {**request.extensions, "timeout": {
                key: min(seconds, own[key]) if own.get(key) is not None else seconds
                for key in ("connect", "read", "write", "pool")
            }}
            try:
                response = self.wrapped.handle_request(request)
            except http.TransportError as exc:
                exc.request = request
                raise _Abort(exc) from None
            try:
                # API answers are small: read them here, where a slow body still meets the deadline.
                response.read()
            except http.TransportError as exc:
                response.close()
                exc.request = request
                raise _Abort(exc) from None
            if response.status_code in _GUARD_STATUSES or response.status_code >= 500:
                response.request = request
                raise _Abort(response=response)
            return response

        def close(self) -> None:
            self.wrapped.close()

        def __enter__(self) -> Any:
            self.wrapped.__enter__()
            return self

        def __exit__(self, *args: Any) -> None:
            self.wrapped.__exit__(*args)

    return GuardedTransport


def _guarded_transport(inner: Any) -> Any:
    return _guarded_transport_class()(inner)


def _guard_client(client: Any) -> Any:
    from huggingface_hub.utils._http import hf_request_event_hook

    def guarded_hook(hook: Any) -> Any:
        if hook is not hf_request_event_hook:
            return hook

        def hook_outside_zoofind(request: Any) -> Any:
            # Inside zoofind's calls the offline decision was made from the environment of
            # now; huggingface_hub's hook would use the one it read at import.
            return None if _LIMIT.get() is not None else hook(request)

        return hook_outside_zoofind

    try:
        hooks = client.event_hooks
        client.event_hooks = {"request": [guarded_hook(h) for h in hooks.get("request", ())], "response": list(hooks.get("response", ()))}
        client._transport = _guarded_transport(client._transport)
        client._mounts = {pattern: (t if t is None else _guarded_transport(t)) for pattern, t in client._mounts.items()}
    except AttributeError:
        # A future httpx without these attributes: calls still end, only later (model_info's
        # own timeout and search's wait stay in force).
        pass
    return client


def _install_guard() -> None:
    global _installed
    if _installed:
        return
    with _INSTALL_LOCK:
        if _installed:
            return
        from huggingface_hub import set_client_factory
        from huggingface_hub.utils import _http

        previous = getattr(_http, "_GLOBAL_CLIENT_FACTORY", _http.default_client_factory)

        def factory() -> Any:
            return _guard_client(previous())

        set_client_factory(factory)
        _installed = True


@contextlib.contextmanager
def _deadline(timeout: float) -> Iterator[None]:
    """Requests made by huggingface_hub in this block share one deadline and are not retried."""
    _install_guard()
    reset = _LIMIT.set(_Limit(timeout, time.monotonic() + timeout))
    try:
        yield
    except _Abort as abort:
        if abort.response is not None:
            from huggingface_hub.utils import hf_raise_for_status

            hf_raise_for_status(abort.response)
        if abort.error is not None:
            raise abort.error from None
        raise
    finally:
        _LIMIT.reset(reset)


def _api(endpoint_url: str, tok: str | None) -> Any:
    from huggingface_hub import HfApi

    from .. import __version__

    # token=False, not None: None would make huggingface_hub read its import-time token path.
    return HfApi(endpoint=endpoint_url, token=tok or False, library_name="zoofind", library_version=__version__)


# ---------------------------------------------------------------------------------------
# Errors


class HubTimeout(SourceError):
    """The Hub did not answer within the timeout."""

    timed_out = True


def _status(exc: BaseException) -> int | None:
    return getattr(getattr(exc, "response", None), "status_code", None)


def translate(exc: BaseException, *, where: str, timeout: float, repo: str | None = None) -> BaseException:
    """A huggingface_hub or network error -> zoofind's error with a helpful message.

    Messages name the endpoint or repo, never a header: the token cannot leak through them.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    status = _status(exc)
    if "GatedRepoError" in names:
        return AccessDeniedError(
            f"{repo or 'this model'} is gated on the Hugging Face Hub and this token has no access",
            hint=f"request access at {where}/{repo}, then set HF_TOKEN (or run `hf auth login`)" if repo else "request access on the model page, then set HF_TOKEN",
        )
    if "RepositoryNotFoundError" in names or "RevisionNotFoundError" in names:
        return NotFoundError(
            f"no model {repo!r} on the Hugging Face Hub at {where} (or it is private)",
            hint="check the id (owner/name, case-sensitive) with `zoofind search`; for a private repo set HF_TOKEN",
        )
    if "OfflineModeIsEnabled" in names:
        return SourceError("huggingface_hub is in offline mode", hint="unset HF_HUB_OFFLINE to ask the Hub")
    if names & {"TimeoutException"} or status == 408:
        return HubTimeout(f"the Hugging Face Hub ({where}) gave no answer within {timeout:g} s", hint="retry, or raise --timeout")
    if names & {"TransportError", "ConnectionError"}:
        return SourceError(f"cannot reach the Hugging Face Hub at {where}", hint="check your connection or HF_ENDPOINT, or use --offline")
    if status == 401:
        if token() is None:
            return AccessDeniedError(f"the Hugging Face Hub at {where} asks for a token (HTTP 401)", hint="set HF_TOKEN (or run `hf auth login`)")
        return AccessDeniedError(
            "the Hugging Face Hub rejected the token (HTTP 401)",
            hint="check HF_TOKEN (or `hf auth login`); unset it to search anonymously",
        )
    if status == 403:
        return AccessDeniedError("the Hugging Face Hub refused access (HTTP 403)", hint="check the token's permissions")
    if status == 429:
        retry = getattr(getattr(exc, "response", None), "headers", {}).get("Retry-After")
        return SourceError(
            "the Hugging Face Hub is rate-limiting requests (HTTP 429)" + (f"; retry after {retry} s" if retry else ""),
            hint="wait a little; a logged-in token (HF_TOKEN) has a higher limit",
        )
    if status and status >= 500:
        return SourceError(f"the Hugging Face Hub answered HTTP {status}", hint="retry later; cached answers are used when present")
    if status == 400:
        return SourceError("the Hugging Face Hub rejected the query (HTTP 400)", hint="simplify the query or its filters")
    return exc


def _reraise(exc: BaseException, **how: Any) -> NoReturn:
    err = translate(exc, **how)
    if err is exc:
        raise exc
    raise err from exc


# ---------------------------------------------------------------------------------------
# Payloads: JSON-able dicts in the Hub's own field names, cached and turned into Records


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    from datetime import timezone

    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


_CARD_KEYS = ("license", "license_name", "license_link", "datasets", "language", "tags", "base_model",
              "model_name", "pipeline_tag", "library_name", "description", "summary", "thumbnail")


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def payload_of(info: Any, *, all_files: bool = True) -> dict[str, Any]:
    """The fields zoofind uses from a huggingface_hub ``ModelInfo``, as plain JSON.

    Search results keep only a few weight files per format (``all_files=False``): enough for
    ``weights_format``, and the cached answer stays small and quick to read back.
    """
    card = info.card_data.to_dict() if info.card_data is not None and hasattr(info.card_data, "to_dict") else info.card_data
    siblings = None
    if info.siblings is not None:
        siblings = []
        per_format: dict[str, int] = {}
        for s in info.siblings:
            if not all_files:
                fmt = weights_format_of(s.rfilename)
                if fmt is None or per_format.get(fmt, 0) >= 3:
                    continue
                per_format[fmt] = per_format.get(fmt, 0) + 1
            entry: dict[str, Any] = {"rfilename": s.rfilename}
            if s.size is not None:
                entry["size"] = s.size
            if s.lfs is not None:
                entry["lfs"] = {"size": s.lfs.size, "sha256": s.lfs.sha256}
            siblings.append(entry)
    data = {
        "id": info.id,
        "author": info.author,
        "sha": info.sha,
        "private": info.private,
        "gated": info.gated,
        "downloads": info.downloads,
        "likes": info.likes,
        "lastModified": _iso(info.last_modified),
        "createdAt": _iso(info.created_at),
        "pipeline_tag": info.pipeline_tag,
        "library_name": info.library_name,
        "tags": list(info.tags or ()),
        "cardData": {k: card[k] for k in _CARD_KEYS if k in card} if isinstance(card, Mapping) else None,
        "safetensors": {"total": info.safetensors.total} if info.safetensors else None,
        "gguf": {k: info.gguf[k] for k in ("total", "architecture", "context_length") if k in info.gguf} if isinstance(info.gguf, Mapping) else None,
        "siblings": siblings,
    }
    return _jsonable({k: v for k, v in data.items() if v is not None})


def weights_formats(filenames: Sequence[str]) -> tuple[str, ...]:
    found = {fmt for name in filenames if (fmt := weights_format_of(name))}
    return tuple(f for f in FORMAT_ORDER if f in found)


def weights_format_of(path: str) -> str | None:
    name = path.rsplit("/", 1)[-1].lower()
    if name == "saved_model.pb":
        return "tf"
    if name.startswith(_NOT_WEIGHTS) or name.startswith("openvino"):
        return None
    for suffix, fmt in WEIGHT_SUFFIXES:
        if name.endswith(suffix):
            return fmt
    return None


def infer_frameworks(library: str | None, tags: Sequence[str], formats: Sequence[str] = ()) -> tuple[str, ...]:
    """Frameworks from the library name, tags and weights formats, through FRAMEWORK_OF."""
    found = {FRAMEWORK_OF[t] for t in (*(x.lower() for x in tags), *formats) if t in FRAMEWORK_OF}
    if library:
        low = library.lower()
        if low in FRAMEWORK_OF:
            found.add(FRAMEWORK_OF[low])
        elif not found & set(MAIN_FRAMEWORKS):
            base = LIBRARIES.get(canonical_library(low))
            if base is not None and base.framework:
                found.add(base.framework)
    return tuple(f for f in FRAMEWORK_ORDER if f in found)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value if v is not None]


def record_from_payload(data: Mapping[str, Any], hub: str) -> Record:
    repo = str(data["id"])
    tags = [str(t) for t in data.get("tags") or ()]
    card = data.get("cardData") or {}
    library = data.get("library_name")
    pipeline = data.get("pipeline_tag")
    siblings = data.get("siblings") or []
    formats = weights_formats([s["rfilename"] for s in siblings])

    libraries: list[str] = []
    extra_tags: list[str] = []
    if library:
        key = canonical_library(library)
        (libraries if key in LIBRARIES else extra_tags).append(key if key in LIBRARIES else library)
    for t in tags:
        key = canonical_library(t)
        if key in TAG_LIBRARIES and key not in libraries:
            libraries.append(key)

    license_ = next((t.split(":", 1)[1] for t in tags if t.startswith("license:")), None)
    if license_ is None:
        license_ = next(iter(_as_list(card.get("license"))), None)
    if license_ == "other" and card.get("license_name"):
        license_ = str(card["license_name"])

    datasets = [t.split(":", 1)[1] for t in tags if t.startswith("dataset:")]
    datasets += [d for d in _as_list(card.get("datasets")) if d not in datasets]

    frameworks = infer_frameworks(library, tags, formats)
    # Tags said elsewhere in the record (frameworks, libraries, task, formats) are dropped;
    # "gguf" stays a tag: it names a format and a runtime, not a framework.
    dropped = {*FRAMEWORK_OF, *libraries, "safetensors", "custom_code", (library or "").lower(), (pipeline or "").lower()} - {"gguf"}
    kept = [t for t in tags if not t.startswith(_NOISE_PREFIXES) and not t.startswith("dataset:") and t.lower() not in dropped]
    kept += [t for t in extra_tags if t not in kept]

    params = (data.get("safetensors") or {}).get("total") or (data.get("gguf") or {}).get("total")
    sizes: dict[str, int] = {}
    for s in siblings:
        fmt = weights_format_of(s["rfilename"])
        size = (s.get("lfs") or {}).get("size") or s.get("size")
        if fmt and isinstance(size, int):
            sizes[fmt] = sizes.get(fmt, 0) + size
    size_bytes = next((sizes[f] for f in FORMAT_ORDER if f in sizes), None)

    gated = data.get("gated")
    description = next((str(card[k]) for k in ("summary", "description") if isinstance(card.get(k), str) and card[k].strip()), "")
    extra: dict[str, Any] = {k: v for k, v in (
        ("sha", data.get("sha")),
        ("created", data.get("createdAt")),
        ("base_model", card.get("base_model")),
        ("approval", gated if isinstance(gated, str) else None),  # gated: "auto" or "manual" approval
        ("private", True if data.get("private") else None),
    ) if v}
    return Record(
        id=f"hf:{repo}",
        source="hf",
        kind="model",
        name=repo,
        description=description,
        url=f"{hub}/{repo}",
        tasks=(pipeline,) if pipeline else (),
        frameworks=frameworks,
        libraries=tuple(libraries),
        license=license_,
        gated=bool(gated) and gated not in ("false", "False"),
        remote_code="custom_code" in tags,
        datasets=tuple(datasets),
        tags=tuple(dict.fromkeys(kept)),
        params=params if isinstance(params, int) else None,
        size_bytes=size_bytes,
        downloads=data.get("downloads"),
        likes=data.get("likes"),
        updated=data.get("lastModified"),
        weights_format=formats,
        extra=extra,
    )


def list_kwargs(query: SearchQuery) -> dict[str, Any]:
    """SearchQuery -> ``HfApi.list_models`` keyword arguments (JSON-able: part of the cache key)."""
    kwargs: dict[str, Any] = {}
    text = (query.keyword or query.text).strip()
    if text:
        kwargs["search"] = text
    filters: list[str] = []
    if query.framework:
        tag = HUB_FILTER_TAG.get(canonical_library(query.framework))
        if tag:
            filters.append(tag)
    if query.license and query.license.strip().lower() in HUB_LICENSES:
        filters.append(f"license:{query.license.strip().lower()}")
    if filters:
        kwargs["filter"] = filters
    if query.task:
        task = canonical_task(query.task)
        if task in PIPELINE_TAGS:
            kwargs["pipeline_tag"] = task
    kwargs["sort"] = HUB_SORT.get(query.sort, "downloads")
    kwargs["limit"] = min(max(query.limit, 20), 100)
    kwargs["expand"] = list(LIST_EXPAND)
    return kwargs


# ---------------------------------------------------------------------------------------
# The source


class HfSource:
    name = "hf"
    title = "Hugging Face Hub"
    live = True

    def search(self, query: SearchQuery) -> SourceAnswer:
        if query.offline or offline_requested():
            return SourceAnswer((), origin="skipped", note="offline")
        if query.kind == "resource":
            return SourceAnswer((), origin="skipped", note="the Hub lists models, not resources")
        hub, tok = endpoint(), token()
        kwargs = list_kwargs(query)

        def fetch() -> list[dict[str, Any]]:
            with _deadline(query.timeout):
                return [payload_of(m, all_files=False) for m in _api(hub, tok).list_models(**kwargs)]

        from ..cache import cached

        params = {"endpoint": hub, "list_models": kwargs, "authenticated": bool(tok)}
        try:
            value, origin, age = cached("hf", params, fetch, refresh=query.refresh)
        except Exception as exc:
            _reraise(exc, where=hub, timeout=query.timeout)
        records = tuple(record_from_payload(p, hub) for p in value)
        note = None
        if origin == "stale":
            note = f"the Hub did not answer; showing the answer cached {_age(age)} ago"
        return SourceAnswer(records, origin=origin, age_seconds=age, note=note)

    def _repo_payload(self, repo: str, timeout: float, *, refresh: bool = False) -> tuple[dict[str, Any], str]:
        hub, tok = endpoint(), token()

        def fetch() -> dict[str, Any]:
            with _deadline(timeout):
                info = _api(hub, tok).model_info(repo, files_metadata=True, timeout=timeout)
            return payload_of(info)

        from ..cache import cached

        params = {"endpoint": hub, "model_info": repo, "files_metadata": True, "authenticated": bool(tok)}
        try:
            value, _origin, _age = cached("hf-info", params, fetch, refresh=refresh)
        except Exception as exc:
            _reraise(exc, where=hub, timeout=timeout, repo=repo)
        return value, hub

    def _access(self, repo: str, timeout: float) -> str:
        """For a gated repo, whether this token may download it (auth-check, never cached):
        "granted", "no-token" or "denied"."""
        hub, tok = endpoint(), token()
        try:
            with _deadline(timeout):
                _api(hub, tok).auth_check(repo)
        except Exception as exc:  # noqa: BLE001
            err = translate(exc, where=hub, timeout=timeout, repo=repo)
            if isinstance(err, (AccessDeniedError, NotFoundError)):
                return "denied" if tok else "no-token"
            _reraise(exc, where=hub, timeout=timeout, repo=repo)
        return "granted"

    def info(self, pid: ParsedId, *, offline: bool = False, timeout: float = 8.0) -> Record | None:
        if offline or offline_requested():
            return None  # the catalog answers
        data, hub = self._repo_payload(pid.ref, timeout)
        rec = record_from_payload(data, hub)
        if rec.gated:
            from dataclasses import replace

            try:
                access = self._access(pid.ref, timeout)
            except Exception:  # noqa: BLE001 - the metadata is still worth showing
                access = "unknown"
            rec = replace(rec, extra={**rec.extra, "access": access})
        return rec

    def files(self, pid: ParsedId, *, timeout: float = 8.0) -> Sequence[FileEntry]:
        if offline_requested():
            raise SourceError("offline: the Hub's file list needs the network", hint="unset ZOOFIND_OFFLINE / HF_HUB_OFFLINE")
        data, hub = self._repo_payload(pid.ref, timeout)
        repo = str(data["id"])
        access = self._access(repo, timeout) if data.get("gated") else "granted"
        if access != "granted":
            raise AccessDeniedError(
                f"{repo} is gated on the Hugging Face Hub and " + ("this token has no access" if access == "denied" else "no token is set"),
                hint=f"request access at {hub}/{repo}, then set HF_TOKEN (or run `hf auth login`)",
            )
        from .base import FileEntry

        revision = data.get("sha") or "main"
        out = []
        for s in data.get("siblings") or ():
            lfs = s.get("lfs") or {}
            out.append(FileEntry(
                path=s["rfilename"],
                url=f"{hub}/{repo}/resolve/{revision}/{quote(s['rfilename'])}",
                size=lfs.get("size") or s.get("size"),
                sha256=lfs.get("sha256"),
            ))
        return tuple(out)

    def status(self, *, probe: bool = True, timeout: float = 3.0) -> SourceStatus:
        from ..cache import AnswerCache
        from .base import SourceStatus

        hub = endpoint()
        tok, origin = _token_and_origin()
        ages = [a for a in (AnswerCache("hf").newest_age(), AnswerCache("hf-info").newest_age()) if a is not None]
        reachable: bool | None = None
        reason: str | None = None
        if offline_requested():
            reason = "offline (ZOOFIND_OFFLINE or HF_HUB_OFFLINE)"
        elif probe:
            reachable, reason = _probe(hub, timeout)
        details = (("credentials", origin),) if origin else ()
        return SourceStatus(
            self.name, self.title, hub, live=True, reachable=reachable, reason=reason,
            credentials=tok is not None, cache_age_seconds=min(ages) if ages else None, details=details,
        )


def _probe(hub: str, timeout: float) -> tuple[bool, str | None]:
    """A cheap anonymous GET of one model: is the Hub there and answering?"""
    import httpx

    from ..http import client

    try:
        with client(timeout) as c:
            r = c.get(f"{hub}/api/models", params={"limit": 1})
    except httpx.TimeoutException:
        return False, f"no answer within {timeout:g} s"
    except httpx.HTTPError as exc:
        return False, f"cannot connect ({type(exc).__name__})"
    if r.status_code >= 400:
        return False, f"HTTP {r.status_code}"
    return True, None


def _age(seconds: float | None) -> str:
    s = seconds or 0.0
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    if s < 172800:
        return f"{s / 3600:.0f} h"
    return f"{s / 86400:.0f} days"


def register(registry: Registry) -> None:
    registry.register("hf", HfSource)
