"""A local Hugging Face Hub for tests: the model API endpoints huggingface_hub calls, over real HTTP.

Routes (as huggingface_hub 2.x calls them):

* ``GET /api/models`` with ``search``, ``author``, ``filter`` (repeatable, all must be tags),
  ``pipeline_tag``, ``gated``, ``sort`` (downloads | likes | lastModified | createdAt |
  trendingScore), ``direction`` (-1 default, 1), ``limit``, ``expand`` / ``expand[]``
  (repeatable; only those fields plus ``_id`` and ``id`` are returned; an unknown one is a
  400), ``full``, ``cardData``, ``cursor``. Pages hold at most ``page_size`` items; a
  ``Link: <...>; rel="next"`` header (carrying every query parameter) points to the next.
* ``GET /api/models/{owner}/{name}[/revision/{rev}]`` with ``blobs=true`` (file sizes and LFS
  data) and ``expand``. Unknown or private repos: 401 without a token, 404 with one, both with
  ``X-Error-Code: RepoNotFound``, as the Hub answers.
* ``GET /api/models/{owner}/{name}/auth-check``: 200, or ``X-Error-Code: GatedRepo`` (401 without
  a token, 403 with one) for a gated repo the token was not granted.

Gated repos' metadata is public on today's Hub (only their files and auth-check are gated);
``gated_metadata=True`` makes ``/api/models/{id}`` itself answer GatedRepo, as in
huggingface_hub's GatedRepoError example. An invalid ``Authorization: Bearer`` token gets 401
with ``X-Error-Message: Invalid credentials in Authorization header``.

Failure modes (set attributes, or pass them to the constructor): ``fail_status`` (with
``retry_after`` for 429, and ``fail_times`` to recover after N failures), ``delay`` (seconds
before answering), ``drop`` (close the connection without answering). ``requests`` logs every
request: method, path, query (name -> values), headers (lower-case names).
"""

from __future__ import annotations

import base64
import copy
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

TEST_TOKEN = "hf_zoofindTESTtoken0123456789abcdefXYZ"

#: list_models' documented expand values (the Hub rejects others with 400).
LIST_EXPAND = frozenset({
    "author", "cardData", "config", "createdAt", "disabled", "downloads", "downloadsAllTime", "evalResults", "gated",
    "gguf", "inference", "inferenceProviderMapping", "lastModified", "library_name", "likes", "mask_token",
    "model-index", "pipeline_tag", "private", "safetensors", "sha", "siblings", "spaces", "tags",
    "transformersInfo", "trendingScore", "widgetData", "resourceGroup",
})
INFO_EXPAND = LIST_EXPAND | {"baseModels", "childrenModelCount", "usedStorage"}
#: What /api/models returns per item when neither expand nor full is given.
LIST_DEFAULT = ("_id", "id", "likes", "trendingScore", "private", "downloads", "tags", "pipeline_tag", "library_name", "createdAt", "modelId")
AGENT_HARNESSES = {"standardEnvVars": ["AI_AGENT", "AGENT"], "harnesses": {"claude-code": {"envVars": {"CLAUDECODE": "1"}}, "cursor": {"envVars": {"CURSOR_AGENT": "1"}}}}
SORT_FIELDS = {"downloads", "likes", "lastModified", "createdAt", "trendingScore"}


def _lfs(name: str, size: int, seed: str) -> dict[str, Any]:
    import hashlib

    return {"rfilename": name, "size": size, "blobId": hashlib.sha1(seed.encode()).hexdigest(),
            "lfs": {"size": size, "sha256": hashlib.sha256(seed.encode()).hexdigest(), "pointerSize": 135}}


def _small(name: str, size: int) -> dict[str, Any]:
    import hashlib

    return {"rfilename": name, "size": size, "blobId": hashlib.sha1(name.encode()).hexdigest()}


def _model(
    repo: str, *, oid: str, sha: str, pipeline: str | None, library: str | None, tags: list[str], downloads: int,
    likes: int, modified: str, created: str, files: list[dict[str, Any]], card: dict[str, Any] | None = None,
    safetensors: dict[str, Any] | None = None, gated: Any = False, private: bool = False, **more: Any,
) -> dict[str, Any]:
    m = {
        "_id": oid, "id": repo, "modelId": repo, "author": repo.split("/")[0], "sha": sha, "lastModified": modified,
        "createdAt": created, "private": private, "gated": gated, "disabled": False, "downloads": downloads,
        "downloadsAllTime": downloads * 9, "likes": likes, "trendingScore": likes // 10, "library_name": library,
        "pipeline_tag": pipeline, "tags": tags, "cardData": card, "siblings": files, "spaces": [],
        "safetensors": safetensors, "usedStorage": sum(f.get("size", 0) for f in files),
    }
    m.update(more)
    return {k: v for k, v in m.items() if v is not None}


def default_models() -> list[dict[str, Any]]:
    """A small realistic slice of the Hub: protein and genomics models, a gated, an ONNX, a GGUF, a Keras one."""
    esm_files = lambda repo, mb, st: [  # noqa: E731
        _small(".gitattributes", 1477), _small("README.md", 1071), _small("config.json", 775),
        _lfs("model.safetensors", st, repo + "st"), _lfs("pytorch_model.bin", mb, repo + "bin"),
        _small("special_tokens_map.json", 125), _lfs("tf_model.h5", mb + 2_000_000, repo + "h5"),
        _small("tokenizer_config.json", 95), _small("vocab.txt", 93),
    ]
    return [
        _model(
            "facebook/esm2_t6_8M_UR50D", oid="6331f7c1c3fa6a7d5c4a3b21", sha="c5a9c64a6dc0e063a708df7fa19cc795a6beddce",
            pipeline="fill-mask", library="transformers",
            tags=["transformers", "pytorch", "tf", "safetensors", "esm", "fill-mask", "license:mit", "autotrain_compatible", "endpoints_compatible", "region:us"],
            downloads=1_630_411, likes=25, modified="2023-03-21T15:05:12.000Z", created="2022-09-27T14:30:51.000Z",
            files=esm_files("facebook/esm2_t6_8M_UR50D", 31_394_761, 31_375_104),
            card={"license": "mit", "widget": [{"text": "MQIFVKTLTGKTITLEVEPS<mask>TIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"}]},
            safetensors={"parameters": {"F32": 7_840_794}, "total": 7_840_794},
            transformersInfo={"auto_model": "AutoModelForMaskedLM", "pipeline_tag": "fill-mask", "processor": "AutoTokenizer"},
        ),
        _model(
            "facebook/esm2_t12_35M_UR50D", oid="6331f8b6e8b3a5c2b9f0e111", sha="2f0ec4a3b9b4ff7ed9a5c3a2c5d1a0b1e2f3a4b5",
            pipeline="fill-mask", library="transformers",
            tags=["transformers", "pytorch", "tf", "safetensors", "esm", "fill-mask", "license:mit", "autotrain_compatible", "endpoints_compatible", "region:us"],
            downloads=402_118, likes=16, modified="2023-03-21T15:04:57.000Z", created="2022-09-27T14:36:16.000Z",
            files=esm_files("facebook/esm2_t12_35M_UR50D", 136_015_025, 135_986_520),
            card={"license": "mit"}, safetensors={"parameters": {"F32": 33_993_301}, "total": 33_993_301},
        ),
        _model(
            "Rostlab/prot_bert", oid="621ffdc136468d709f17e1b7", sha="7a894481acdc12202f0a415dd567475b00b4b7d5",
            pipeline="fill-mask", library="transformers",
            tags=["transformers", "pytorch", "fill-mask", "bert", "protein language model", "protein", "dataset:Uniref100", "autotrain_compatible", "endpoints_compatible", "region:us"],
            downloads=95_212, likes=118, modified="2020-12-11T21:30:31.000Z", created="2022-03-02T23:29:04.000Z",
            files=[_small(".gitattributes", 391), _small("README.md", 4_133), _small("config.json", 361),
                   _lfs("pytorch_model.bin", 1_684_958_343, "prot_bert"), _small("vocab.txt", 81)],
            card={"language": "protein", "tags": ["protein language model", "protein"], "datasets": ["Uniref100"]},
        ),
        _model(
            "InstaDeepAI/nucleotide-transformer-v2-50m-multi-species", oid="64f2b3f7a1c5d3e4f5a6b7c8",
            sha="3b4b0e1f2a9c7d5e6f708192a3b4c5d6e7f80912", pipeline="fill-mask", library="transformers",
            tags=["transformers", "pytorch", "safetensors", "esm", "fill-mask", "DNA", "biology", "genomics", "custom_code", "dataset:InstaDeepAI/multi_species_genomes", "license:cc-by-nc-sa-4.0", "autotrain_compatible", "region:us"],
            downloads=31_870, likes=9, modified="2024-01-10T09:12:44.000Z", created="2023-09-01T12:00:00.000Z",
            files=[_small("README.md", 6_201), _small("config.json", 845), _small("esm_config.py", 15_002), _small("modeling_esm.py", 55_440),
                   _lfs("model.safetensors", 223_600_000, "nt50"), _lfs("pytorch_model.bin", 223_700_000, "nt50bin")],
            card={"license": "cc-by-nc-sa-4.0", "tags": ["DNA", "biology", "genomics"], "datasets": ["InstaDeepAI/multi_species_genomes"]},
            safetensors={"parameters": {"F32": 55_900_000}, "total": 55_900_000},
        ),
        _model(
            "EvolutionaryScale/esm3-sm-open-v1", oid="66609c5f6b7d93a5b0c1d2e3", sha="2feb5be9d1b12a5a5a2e29d0e0a3b4c5d6e7f809",
            pipeline=None, library="esm",
            tags=["esm", "pytorch", "biology", "protein", "license:other", "region:us"],
            downloads=9_876, likes=321, modified="2024-07-02T18:00:00.000Z", created="2024-06-05T16:00:00.000Z",
            files=[_small("README.md", 9_000), _lfs("data/weights/esm3_sm_open_v1.pth", 2_800_000_000, "esm3")],
            card={"license": "other", "license_name": "esm3-community-license-agreement", "tags": ["biology", "protein"]},
            gated="auto",
        ),
        _model(
            "Xenova/esm2_t6_8M_UR50D", oid="65a1b2c3d4e5f60718293a4b", sha="9d8c7b6a5f4e3d2c1b0a99887766554433221100",
            pipeline="fill-mask", library="transformers.js",
            tags=["transformers.js", "onnx", "esm", "fill-mask", "base_model:facebook/esm2_t6_8M_UR50D", "base_model:quantized:facebook/esm2_t6_8M_UR50D", "region:us"],
            downloads=2_345, likes=1, modified="2024-10-08T13:40:00.000Z", created="2024-01-11T10:00:00.000Z",
            files=[_small("config.json", 700), _lfs("onnx/model.onnx", 31_500_000, "xenova-esm"), _lfs("onnx/model_quantized.onnx", 8_100_000, "xenova-esm-q")],
            card={"base_model": "facebook/esm2_t6_8M_UR50D", "library_name": "transformers.js"},
        ),
        _model(
            "MaziyarPanahi/BioMistral-7B-GGUF", oid="65d4c3b2a1f0e9d8c7b6a594", sha="0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
            pipeline="text-generation", library="gguf",
            tags=["gguf", "mistral", "quantized", "text-generation", "biology", "medical", "license:apache-2.0", "base_model:BioMistral/BioMistral-7B", "region:us", "conversational"],
            downloads=12_004, likes=12, modified="2024-02-20T08:00:00.000Z", created="2024-02-19T22:00:00.000Z",
            files=[_small("README.md", 3_000), _lfs("BioMistral-7B.Q4_K_M.gguf", 4_368_439_584, "bm-q4"), _lfs("BioMistral-7B.Q8_0.gguf", 7_695_857_952, "bm-q8")],
            card={"license": "apache-2.0", "base_model": "BioMistral/BioMistral-7B"},
            gguf={"total": 7_241_732_096, "architecture": "llama", "context_length": 32768},
        ),
        _model(
            "keras-io/timeseries-anomaly-detection", oid="61e0a1b2c3d4e5f607182930", sha="5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081",
            pipeline="time-series-forecasting", library="tf-keras",
            tags=["tf-keras", "time-series-forecasting", "anomaly-detection", "license:cc0-1.0", "region:us"],
            downloads=310, likes=54, modified="2022-06-20T10:00:00.000Z", created="2022-03-02T23:29:05.000Z",
            files=[_small("README.md", 1_500), _small("keras_metadata.pb", 12_000), _lfs("saved_model.pb", 160_000, "ts-pb"),
                   _lfs("variables/variables.data-00000-of-00001", 400_000, "ts-var"), _small("variables/variables.index", 1_300)],
            card={"license": "cc0-1.0", "library_name": "tf-keras"},
        ),
        _model(
            "dmis-lab/biobert-v1.1", oid="621ffdc136468d709f17d8a2", sha="551ca18efd7f052c8dfa0b01c94c2a8e68bc5488",
            pipeline="feature-extraction", library="transformers",
            tags=["transformers", "pytorch", "jax", "bert", "feature-extraction", "endpoints_compatible", "region:us"],
            downloads=601_515, likes=80, modified="2021-05-19T16:01:07.000Z", created="2022-03-02T23:29:05.000Z",
            files=[_small("config.json", 462), _lfs("flax_model.msgpack", 433_247_929, "biobert-flax"), _lfs("pytorch_model.bin", 435_779_157, "biobert"), _small("vocab.txt", 213_450)],
        ),
        _model(
            "meta-llama/Llama-3.2-1B", oid="66eaa0e2d1b2c3a4f5e6d7c8", sha="4e20de362430cd3b72f300e6b0f18e50e7166e08",
            pipeline="text-generation", library="transformers",
            tags=["transformers", "safetensors", "llama", "text-generation", "facebook", "meta", "pytorch", "llama-3", "en", "de", "license:llama3.2", "autotrain_compatible", "text-generation-inference", "endpoints_compatible", "region:us"],
            downloads=1_820_334, likes=2_012, modified="2024-10-24T15:08:03.000Z", created="2024-09-18T15:03:14.000Z",
            files=[_small("config.json", 843), _small("generation_config.json", 185), _lfs("model.safetensors", 2_471_645_608, "llama32-1b"),
                   _lfs("original/consolidated.00.pth", 2_471_677_246, "llama32-1b-orig"), _small("tokenizer.json", 9_085_657)],
            card={"license": "llama3.2", "language": ["en", "de"], "pipeline_tag": "text-generation", "library_name": "transformers"},
            safetensors={"parameters": {"BF16": 1_235_814_400}, "total": 1_235_814_400},
            gated="manual",
        ),
        _model(
            "zoofind-lab/private-protein-model", oid="67000000000000000000abcd", sha="ffffffffffffffffffffffffffffffffffffffff",
            pipeline="fill-mask", library="transformers", tags=["transformers", "safetensors", "esm", "fill-mask", "protein", "region:us"],
            downloads=3, likes=0, modified="2025-01-01T00:00:00.000Z", created="2025-01-01T00:00:00.000Z",
            files=[_lfs("model.safetensors", 1_000_000, "private")], private=True,
        ),
    ]


@dataclass
class Logged:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class HubServer:
    """``with HubServer() as hub: hub.url`` — a Hub on 127.0.0.1 on a free port."""

    models: list[dict[str, Any]] = field(default_factory=default_models)
    page_size: int = 1000
    tokens: tuple[str, ...] = (TEST_TOKEN,)
    granted: dict[str, set[str]] = field(default_factory=dict)  # repo -> tokens granted for gated repos
    gated_metadata: bool = False
    fail_status: int | None = None
    retry_after: int | None = None
    fail_times: int | None = None
    delay: float = 0.0
    drop: bool = False
    requests: list[Logged] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> "HubServer":
        server = self

        class Handler(_Handler):
            hub = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        # Keep-alive connections would otherwise go on being served by their handler threads.
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> "HubServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- inspection ------------------------------------------------------------------
    def log(self, path_prefix: str = "") -> list[Logged]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def _record(self, entry: Logged) -> None:
        with self._lock:
            self.requests.append(entry)

    def _should_fail(self) -> bool:
        with self._lock:
            if self.fail_status is None:
                return False
            if self.fail_times is None:
                return True
            if self.fail_times > 0:
                self.fail_times -= 1
                return True
            return False

    def model(self, repo: str) -> dict[str, Any] | None:
        return next((m for m in self.models if m["id"] == repo), None)


class _Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def _error(status: int, message: str, code: str | None = None) -> _Reply:
    headers = {"X-Error-Message": message}
    if code:
        headers["X-Error-Code"] = code
    return _Reply(status, {"error": message}, headers)


class _Handler(BaseHTTPRequestHandler):
    hub: HubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def setup(self) -> None:
        super().setup()
        with self.hub._lock:
            self.hub._connections.add(self.connection)

    def finish(self) -> None:
        with self.hub._lock:
            self.hub._connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle("HEAD")

    def _handle(self, method: str) -> None:
        hub = self.hub
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        hub._record(Logged(method, parts.path, query, {k.lower(): v for k, v in self.headers.items()}))
        if hub.delay:
            if hub._stopping.wait(hub.delay):
                return
        if hub.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        try:
            if hub._should_fail():
                headers = {"Retry-After": str(hub.retry_after)} if hub.retry_after is not None else {}
                message = "Too Many Requests" if hub.fail_status == 429 else "Internal Error - We're working hard to fix this as soon as possible!"
                raise _Reply(hub.fail_status or 500, {"error": message}, headers)
            user = self._user()
            path = parts.path.rstrip("/")
            if path == "/api/agent-harnesses":
                # huggingface_hub fetches this registry (for its user-agent) once a day per HF_HOME.
                raise _Reply(200, AGENT_HARNESSES)
            if path == "/api/models":
                raise self._list(query, user)
            if path.startswith("/api/models/"):
                rest = path[len("/api/models/"):].split("/")
                if len(rest) >= 2:
                    repo = "/".join(rest[:2])
                    tail = rest[2:]
                    if tail == ["auth-check"]:
                        raise self._auth_check(repo, user)
                    if not tail or (len(tail) == 2 and tail[0] == "revision"):
                        raise self._info(repo, query, user)
            raise _error(404, "Sorry, we can't find the page you are looking for.")
        except _Reply as reply:
            self._send(reply, head=method == "HEAD")

    # -- auth ------------------------------------------------------------------------
    def _user(self) -> str | None:
        auth = self.headers.get("Authorization")
        if auth is None:
            return None
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or value not in self.hub.tokens:
            raise _error(401, "Invalid credentials in Authorization header")
        return value

    def _visible(self, m: dict[str, Any], user: str | None) -> bool:
        return not m.get("private") or user is not None

    def _granted(self, m: dict[str, Any], user: str | None) -> bool:
        if not m.get("gated"):
            return True
        return user is not None and user in self.hub.granted.get(m["id"], set())

    def _not_found(self, user: str | None) -> _Reply:
        # Anonymous callers get 401 for unknown repos: the Hub does not say whether a private one exists.
        if user is None:
            return _error(401, "Invalid username or password.", "RepoNotFound")
        return _error(404, "Repository not found", "RepoNotFound")

    def _gated(self, repo: str, user: str | None) -> _Reply:
        status = 401 if user is None else 403
        message = (f"Access to model {repo} is restricted. You must have access to it and be authenticated to access it. Please log in."
                   if user is None else f"Access to model {repo} is restricted and you are not in the authorized list. Visit https://huggingface.co/{repo} to ask for access.")
        return _error(status, message, "GatedRepo")

    # -- routes ----------------------------------------------------------------------
    def _list(self, query: dict[str, list[str]], user: str | None) -> _Reply:
        def one(name: str) -> str | None:
            values = query.get(name)
            return values[-1] if values else None

        expand = query.get("expand", []) + query.get("expand[]", [])
        bad = [e for e in expand if e not in LIST_EXPAND]
        if bad:
            return _error(400, f'"expand" must be one of the allowed values, got {bad[0]!r}', "BadRequest")
        models = [m for m in self.hub.models if self._visible(m, user)]
        if (text := one("search")):
            models = [m for m in models if text.lower() in m["id"].lower()]
        if (author := one("author")):
            models = [m for m in models if m["id"].split("/")[0].lower() == author.lower()]
        filters = [f for value in query.get("filter", []) for f in value.split(",") if f]
        for f in filters:
            models = [m for m in models if f in m.get("tags", ())]
        if (tag := one("pipeline_tag")):
            models = [m for m in models if m.get("pipeline_tag") == tag]
        if (gated := one("gated")) is not None:
            want = gated.lower() == "true"
            models = [m for m in models if bool(m.get("gated")) == want]
        sort = one("sort")
        if sort:
            if sort not in SORT_FIELDS:
                return _error(400, f'"sort" must be one of {sorted(SORT_FIELDS)}', "BadRequest")
            ascending = one("direction") == "1"
            models = sorted(models, key=lambda m: m.get(sort) or 0, reverse=not ascending)
        limit_raw = one("limit")
        try:
            limit = min(int(limit_raw), 1000) if limit_raw else None
        except ValueError:
            return _error(400, '"limit" must be an integer', "BadRequest")
        cursor = one("cursor")
        start = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
        size = min(limit or self.hub.page_size, self.hub.page_size)
        page = models[start:start + size]
        headers = {}
        if start + size < len(models):
            params = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
            params.append(("cursor", base64.urlsafe_b64encode(str(start + size).encode()).decode()))
            host = self.headers.get("Host") or f"127.0.0.1:{self.hub.port}"
            headers["Link"] = f'<http://{host}/api/models?{urlencode(params)}>; rel="next"'
        full = one("full") in ("true", "True", "1")
        card = one("cardData") in ("true", "True", "1")
        return _Reply(200, [self._shape(m, expand, full=full, card=card, listing=True) for m in page], headers)

    def _shape(self, m: dict[str, Any], expand: list[str], *, full: bool = False, card: bool = False, listing: bool = False, blobs: bool = False) -> dict[str, Any]:
        m = copy.deepcopy(m)
        if not blobs:
            # Sizes and LFS data come only with blobs=true on one repo.
            m["siblings"] = [{"rfilename": s["rfilename"]} for s in m.get("siblings", [])]
        if expand:
            return {"_id": m["_id"], "id": m["id"], **{k: m[k] for k in expand if k in m}}
        if listing and not full:
            out = {k: m[k] for k in LIST_DEFAULT if k in m}
            if card and "cardData" in m:
                out["cardData"] = m["cardData"]
            return out
        m.pop("usedStorage", None) if listing else None
        return m

    def _info(self, repo: str, query: dict[str, list[str]], user: str | None) -> _Reply:
        m = self.hub.model(repo)
        if m is None or not self._visible(m, user):
            return self._not_found(user)
        if self.hub.gated_metadata and not self._granted(m, user):
            return self._gated(repo, user)
        expand = query.get("expand", []) + query.get("expand[]", [])
        bad = [e for e in expand if e not in INFO_EXPAND]
        if bad:
            return _error(400, f'"expand" must be one of the allowed values, got {bad[0]!r}', "BadRequest")
        blobs = (query.get("blobs") or ["false"])[-1] in ("true", "True", "1")
        return _Reply(200, self._shape(m, expand, blobs=blobs))

    def _auth_check(self, repo: str, user: str | None) -> _Reply:
        m = self.hub.model(repo)
        if m is None or not self._visible(m, user):
            return self._not_found(user)
        if not self._granted(m, user):
            return self._gated(repo, user)
        return _Reply(200, {})

    # -- wire ------------------------------------------------------------------------
    def _send(self, reply: _Reply, *, head: bool = False) -> None:
        body = json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Request-Id", f"Root=1-{int(time.time()):x}-test")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if not head:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
