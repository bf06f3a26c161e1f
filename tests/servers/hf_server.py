"""A local Hugging Face Hub for tests: the API and download endpoints huggingface_hub calls, over real HTTP.

Search API (as huggingface_hub 2.x calls it):

* ``GET /api/models`` with ``search``, ``author``, ``filter`` (repeatable, all must be tags),
  ``pipeline_tag``, ``gated``, ``sort`` (downloads | likes | lastModified | createdAt |
  trendingScore), ``direction`` (-1 default, 1), ``limit``, ``expand`` / ``expand[]``
  (repeatable; only those fields plus ``_id`` and ``id`` are returned; an unknown one is a
  400), ``full``, ``cardData``, ``cursor``. Pages hold at most ``page_size`` items; a
  ``Link: <...>; rel="next"`` header (carrying every query parameter) points to the next.
* ``GET /api/models/{owner}/{name}[/revision/{rev}]`` with ``blobs=true`` (file sizes, ``blobId``
  and LFS data) and ``expand``: ``sha`` and ``siblings`` are those of the revision (branch, tag or
  full commit sha; another one is 404 ``RevisionNotFound``). Unknown or private repos: 401
  without a token, 404 with one, both with ``X-Error-Code: RepoNotFound``, as the Hub answers.
* ``GET /api/models/{owner}/{name}/auth-check``: 200, or ``X-Error-Code: GatedRepo`` (401 without
  a token, 403 with one) for a gated repo the token was not granted. ``auth_check_route=False``
  plays a lab mirror without that route (olah, an Artifactory or Nexus Hugging Face remote): a
  plain 404 ``{"detail": "Not Found"}`` (FastAPI's), no ``X-Error-Code``; everything else as the Hub.

Gated repos' metadata is public on today's Hub (only their files and auth-check are gated);
``gated_metadata=True`` makes ``/api/models/{id}`` itself answer GatedRepo, as in
huggingface_hub's GatedRepoError example. An invalid ``Authorization: Bearer`` token gets 401
with ``X-Error-Message: Invalid credentials in Authorization header``.

Repos with real bytes: ``sha = hub.add_repo(repo, {"config.json": b"...", "model.safetensors": data},
lfs=None, commit=None, branch="main", tags=(), gated=False, private=False, xet=frozenset(),
delete=(), message=None, hub_tags=None, **model_fields)``. Data is bytes or a Path (served from disk). Each call
is one commit on ``branch`` on top of its head (files given are added or replaced, ``delete``
removes some); the branch moves, older commits stay resolvable by sha, ``tags`` point at the new
commit. ``lfs=None`` stores in LFS what the Hub's default ``.gitattributes`` puts there
(``*.safetensors``, ``*.bin``, ``*.pt``, ``*.pth``, ``*.ckpt``, ``*.h5``, ``*.onnx``, ``*.msgpack``,
``*.gguf``, ``*.pb``, archives, ...) plus any file of 10 MiB or more; files in ``xet`` are LFS files
stored on Xet. ``commit=None`` makes a real git commit sha (from the real git tree of the files);
``blobId``/``oid`` is the git blob sha1 of the bytes, or for an LFS file of its pointer file, as in
git; ``lfs`` = {size, sha256, pointerSize}. ``model_fields`` (``pipeline_tag``, ``library_name``,
``downloads``, ``likes``, ``cardData``, ...) and ``hub_tags`` (the answer's ``tags``; ``tags`` are git
tags) go into the model's API answer; the repo is
listed by ``/api/models`` too. The repos of ``default_models()`` have metadata only (their files
answer HEAD and listings from the siblings; a body GET is 404 on the storage host).
``hub.rename(old, new)``: the old name answers a relative 307 to the new one (API and resolve).

Dataset repositories (``hub.add_repo(repo, files, repo_type="dataset", cardData=..., citation=...,
description=...)``; ``hub.repo("datasets/" + repo)``; ``hub.granted["datasets/" + repo]``): the
same routes under ``/api/datasets`` (the listing's ``filter`` values are the dataset's tags, which
``dataset_tags`` derives from its card as the Hub does: ``task_categories:...``,
``size_categories:...``, ``license:...``; its own expand values, ``DATASET_EXPAND``; ``search``
repeatable), ``/api/datasets/{id}[/revision/{rev}]`` (with ``citation``, ``description``,
``cardData``), ``/api/datasets/{id}/tree|paths-info|refs|auth-check``, and files at
``/datasets/{id}/resolve/{rev}/{path}`` (307 to ``/api/resolve-cache/datasets/...``; LFS to the
storage host as a model's). ``default_datasets()`` are metadata only.

File endpoints:

* ``GET /api/models/{repo}/tree/{rev}[/{path}]`` with ``recursive``, ``expand`` (adds
  ``lastCommit`` and ``securityFileStatus``): entries ``{"type": "file"|"directory", "oid",
  "size", "path", "lfs": {"oid", "size", "pointerSize"}, "xetHash"}``, folders first; pages of
  ``tree_page_size`` (1000; 50 with expand) linked by ``Link: <...cursor=...>; rel="next"``; a
  missing folder is 404 ``EntryNotFound``. ``siblings_limit=N`` cuts a repo's ``siblings`` to N, as
  the Hub may for a large repo (then only the tree lists every file).
* ``POST /api/models/{repo}/paths-info/{rev}``, form (``paths`` repeated, ``expand``) or JSON body:
  the entries of the paths that exist (others are left out).
* ``GET /api/models/{repo}/refs``: branches and tags with their target commits.
* ``HEAD``/``GET /{repo}/resolve/{rev}/{path}``:
  - a regular file of a public repo: 307 with a relative ``Location:
    /api/resolve-cache/models/{repo}/{commit}/{path}?...&etag=...`` and ``X-Repo-Commit`` (what
    the Hub answers today; ``resolve_cache=False`` serves it directly); that URL answers 200 with
    the bytes, ``ETag`` (the git blob sha1, quoted), ``X-Repo-Commit``, ``Content-Length``; a
    non-sha revision there is 400. Private and gated repos' regular files are served directly
    by ``resolve``.
  - an LFS file: 302 to the storage host ``http://{lfs_host}:{port}/repos/{repo}/{sha256}?...``
    (another host name than the API's 127.0.0.1, so a client that forwards ``Authorization``
    across hosts shows in ``hub.leaks()``), with ``X-Repo-Commit``, ``X-Linked-Etag`` (the
    sha256, quoted), ``X-Linked-Size``, ``ETag`` (the pointer's blob sha1) and ``Location``; Xet
    files add ``X-Xet-Hash`` and a ``Link: <...xet-read-token...>; rel="xet-auth"`` header and
    redirect to ``/xet-bridge-us/...`` on the storage host (plain HTTP; no Xet protocol here:
    run huggingface_hub with ``HF_HUB_DISABLE_XET=1``). The signed storage URL expires after
    ``lfs_url_ttl`` seconds (then 403 AccessDenied, as CloudFront answers an expired URL). The
    storage host answers with ``ETag`` = the md5 of the bytes (not the sha256: the sha256 is only
    in ``X-Linked-Etag``) and ``Content-Disposition``.
  - unknown file: 404 ``X-Error-Code: EntryNotFound`` (with ``X-Repo-Commit``); unknown revision:
    404 ``RevisionNotFound``; unknown/private repo and gated without a grant: as the API above.
  - text files (``.json``, ``.txt``, ``.md``, ...) that are not LFS are sent gzip-compressed (chunked,
    no Content-Length, weak ETag) when the GET's ``Accept-Encoding`` allows gzip and it has no
    Range, as CloudFront does in front of the Hub (``gzip_text=False`` turns that off);
    ``Accept-Encoding: identity`` (what huggingface_hub's HEAD sends) gets the bytes as they are.

Every byte route speaks ``Range`` (206, 416 with ``Content-Range: bytes */size``), ``If-Range``,
``If-None-Match`` and ``Accept-Ranges: bytes`` (see bodies.py).

Faults (attributes, settable while running; see bodies.py): ``fail_status`` (with
``retry_after`` for 429, and ``fail_times`` to recover after N failures), ``delay`` (seconds
before answering), ``drop`` (close the connection without answering), ``ignore_range``,
``rate_bps``, ``drop_after``/``drop_times``, ``corrupt`` (a set of ``"{repo}/{path}"`` keys) and
``faults_on`` (a regex on ``"METHOD /path"`` limiting all of them, e.g. ``r"^GET /repos/"`` for LFS
bodies only). Counters: ``bytes_sent``, ``bytes_by_key`` (``"{repo}/{path}"`` -> body bytes, on
every route serving that file), ``failures``, ``drops``; ``requests`` logs every request (method,
path, query, headers with lower-case names, host, status); ``hub.storage_requests()`` are those
made to the storage host and ``hub.leaks()`` those of them that carried ``Authorization``.
``hub.file(repo, path, rev="main")`` is a ``HubFile`` (size, oid, sha256, xet, body with its
md5/sha256/git_oid), ``hub.repo(repo)`` the ``Repo`` (commits, branches, tags),
``hub.storage_location(repo, file)`` a freshly signed storage URL, ``hub.storage_url`` its origin.
"""

from __future__ import annotations

import base64
import copy
import fnmatch
import hashlib
import hmac
import json
import re
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from .bodies import GZIP_SUFFIXES, Body, BodyHandler, Data, Faults, Logged, git_blob_oid, send_body

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
#: list_datasets' documented expand values (huggingface_hub's ExpandDatasetProperty_T; others are a 400).
DATASET_EXPAND = frozenset({
    "author", "cardData", "citation", "createdAt", "description", "disabled", "downloads", "downloadsAllTime", "gated",
    "lastModified", "likes", "mainSize", "paperswithcode_id", "private", "resourceGroup", "sha", "siblings", "tags",
    "trendingScore", "usedStorage",
})
#: What /api/datasets returns per item when neither expand nor full is given (as the Hub answers today).
DATASET_LIST_DEFAULT = ("_id", "id", "author", "disabled", "gated", "lastModified", "likes", "trendingScore", "private",
                        "sha", "description", "downloads", "tags", "createdAt", "key")
#: The Hub's size categories (the ``size_categories:`` tag of a dataset, from its card).
SIZE_CATEGORIES = ("n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B", "1B<n<10B",
                   "10B<n<100B", "100B<n<1T", "n>1T")


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




def dataset_tags(card: Mapping[str, Any] | None, more: Iterable[str] = ()) -> list[str]:
    """The Hub's tags of a dataset, derived from its card as the Hub derives them (task categories,
    size category, licence, languages), then the ones it adds (formats, libraries, region)."""
    card = card or {}
    tags: list[str] = []
    for key in ("task_categories", "task_ids", "language", "license", "size_categories", "source_datasets"):
        values = card.get(key) or []
        tags += [f"{key}:{v}" for v in ([values] if isinstance(values, str) else values)]
    tags += [t for t in card.get("tags") or () if isinstance(t, str)]
    return [*tags, *more, "region:us"]


def _dataset(
    repo: str, *, sha: str, tags: list[str], downloads: int, likes: int, modified: str, created: str,
    files: list[dict[str, Any]], card: dict[str, Any] | None = None, gated: Any = False, private: bool = False,
    citation: str | None = None, description: str | None = None, **more: Any,
) -> dict[str, Any]:
    d = {
        "_id": hashlib.sha1(("dataset:" + repo).encode()).hexdigest()[:24], "id": repo, "author": repo.split("/")[0],
        "sha": sha, "lastModified": modified, "createdAt": created, "private": private, "gated": gated,
        "disabled": False, "downloads": downloads, "downloadsAllTime": downloads * 7, "likes": likes,
        "trendingScore": likes // 10, "tags": tags, "cardData": card, "siblings": files, "citation": citation,
        "description": description, "key": "", "usedStorage": sum(f.get("size", 0) for f in files),
    }
    d.update(more)
    return {k: v for k, v in d.items() if v is not None}


def default_datasets() -> list[dict[str, Any]]:
    """A small slice of the Hub's datasets (metadata only): a protein benchmark, a gated clinical one,
    a large genomics corpus, an image set."""
    proteins = {"license": "mit", "task_categories": ["text-classification"], "size_categories": ["10K<n<100K"],
                "pretty_name": "Protein stability (TAPE)", "language": ["en"], "tags": ["biology", "protein"]}
    return [
        _dataset("proteinea/stability", sha="1f0c6b1f6c1e4d2a9b3c5d7e9f0a1b2c3d4e5f60", downloads=4_210, likes=12,
                 tags=dataset_tags(proteins, ["modality:tabular", "format:parquet", "library:datasets"]),
                 modified="2024-03-01T10:00:00.000Z", created="2023-05-01T10:00:00.000Z", card=proteins,
                 description="Protein stability regression from TAPE: 68,977 designed proteins.",
                 files=[_small(".gitattributes", 2_400), _small("README.md", 1_900),
                        _lfs("data/train-00000-of-00001.parquet", 2_900_000, "stab-train"),
                        _lfs("data/test-00000-of-00001.parquet", 400_000, "stab-test")]),
        _dataset("clinic-lab/ward-notes", sha="2a1b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d", downloads=310, likes=40,
                 tags=dataset_tags({"license": "other", "task_categories": ["text-generation"],
                                    "size_categories": ["1K<n<10K"]}, ["format:json"]),
                 modified="2024-06-01T10:00:00.000Z", created="2024-05-01T10:00:00.000Z", gated="manual",
                 card={"license": "other", "task_categories": ["text-generation"], "size_categories": ["1K<n<10K"]},
                 files=[_small("README.md", 3_000), _lfs("notes.jsonl.gz", 5_000_000, "ward")]),
        _dataset("InstaDeepAI/multi_species_genomes", sha="3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f", downloads=9_800,
                 likes=30, tags=dataset_tags({"license": "cc-by-nc-sa-4.0", "task_categories": ["fill-mask"],
                                              "size_categories": ["1M<n<10M"], "tags": ["DNA", "genomics"]}),
                 modified="2023-09-01T10:00:00.000Z", created="2023-08-01T10:00:00.000Z",
                 card={"license": "cc-by-nc-sa-4.0", "task_categories": ["fill-mask"],
                       "size_categories": ["1M<n<10M"], "tags": ["DNA", "genomics"]},
                 citation="@article{dalla2023nucleotide,\n  title={The Nucleotide Transformer},\n  year={2023}\n}",
                 files=[_small("README.md", 4_000), _lfs("train/chunk-000.parquet", 900_000_000, "msg-0")]),
        _dataset("plantlab/leaf-images", sha="4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70", downloads=120, likes=3,
                 tags=dataset_tags({"license": "cc-by-4.0", "task_categories": ["image-classification"],
                                    "size_categories": ["n<1K"]}, ["modality:image", "format:imagefolder"]),
                 modified="2025-01-10T10:00:00.000Z", created="2025-01-09T10:00:00.000Z",
                 card={"license": "cc-by-4.0", "task_categories": ["image-classification"],
                       "size_categories": ["n<1K"]},
                 files=[_small("README.md", 800), _lfs("images.zip", 48_000_000, "leaf")]),
    ]


# -- repos with bytes ------------------------------------------------------------------

#: What the Hub's default .gitattributes stores in LFS.
LFS_PATTERNS = (
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*", "*.mlmodel",
    "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt",
    "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*", "*.tar", "*.tflite", "*.tgz", "*.wasm",
    "*.xz", "*.zip", "*.zst", "*tfevents*", "*.gguf",
)
LFS_MIN_SIZE = 10 * 1024 * 1024
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
_SIGNING_KEY = b"zoofind-test-cdn"


def default_lfs(path: str, size: int) -> bool:
    name = PurePosixPath(path).name
    return size >= LFS_MIN_SIZE or any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in LFS_PATTERNS)


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass(frozen=True)
class HubFile:
    """One file of one commit. ``body`` is None for metadata-only repos (default_models)."""

    path: str
    size: int
    oid: str  # git blob sha1 (of the pointer for LFS files)
    sha256: str | None  # LFS files only
    body: Body | None
    xet: bool = False

    @property
    def lfs(self) -> bool:
        return self.sha256 is not None

    @property
    def pointer_size(self) -> int:
        return len(lfs_pointer(self.sha256 or "", self.size))

    @property
    def xet_hash(self) -> str:
        # A stand-in for the Xet merkle hash: 64 hex digits, stable, and not the sha256.
        return hashlib.sha256(b"xet:" + (self.sha256 or "").encode()).hexdigest()

    @classmethod
    def of(cls, path: str, data: Data, *, lfs: bool, xet: bool) -> HubFile:
        body = Body(data)
        if lfs or xet:
            return cls(path, body.size, git_blob_oid(lfs_pointer(body.sha256, body.size)), body.sha256, body, xet)
        return cls(path, body.size, body.git_oid, None, body)


@dataclass(frozen=True)
class Commit:
    sha: str
    files: Mapping[str, HubFile]
    parent: str | None
    title: str
    date: str
    trees: Mapping[str, str]  # folder path ("" = root) -> git tree sha1

    def folders(self) -> set[str]:
        return set(self.trees) - {""}


def git_trees(files: Mapping[str, HubFile]) -> dict[str, str]:
    """The git tree sha1 of every folder, as git computes them (entries sorted, folders as name + "/")."""
    children: dict[str, dict[str, tuple[str, str]]] = {"": {}}
    for path in files:
        parts = path.split("/")
        for i in range(1, len(parts)):
            children.setdefault("/".join(parts[:i]), {})
    trees: dict[str, str] = {}

    def tree(folder: str) -> str:
        prefix = f"{folder}/" if folder else ""
        entries: list[tuple[str, bytes, bytes]] = []
        for path, f in files.items():
            if path.startswith(prefix) and "/" not in path[len(prefix):]:
                name = path[len(prefix):]
                entries.append((name, b"100644", bytes.fromhex(f.oid)))
        for sub in children:
            if sub and sub.startswith(prefix) and "/" not in sub[len(prefix):]:
                name = sub[len(prefix):]
                entries.append((name + "/", b"40000", bytes.fromhex(tree(sub))))
        raw = b"".join(mode + b" " + name.rstrip("/").encode() + b"\0" + oid for name, mode, oid in sorted(entries, key=lambda e: e[0].encode()))
        trees[folder] = hashlib.sha1(b"tree %d\0" % len(raw) + raw).hexdigest()
        return trees[folder]
    tree("")
    return trees


@dataclass
class Repo:
    id: str
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    security: dict[str, dict[str, Any]] = field(default_factory=dict)

    def resolve(self, rev: str) -> Commit | None:
        sha = self.branches.get(rev) or self.tags.get(rev) or (rev if rev in self.commits else None)
        return self.commits.get(sha) if sha else None

    def last_change(self, commit: Commit, path: str) -> Commit:
        """The newest commit up to ``commit`` where ``path`` (a file or folder) got its current content."""
        def version(c: Commit) -> str | None:
            f = c.files.get(path)
            return f.oid if f else c.trees.get(path)
        mine, at = version(commit), commit
        while at.parent is not None and version(self.commits[at.parent]) == mine:
            at = self.commits[at.parent]
        return at


def _stub_repo(m: dict[str, Any], key: str | None = None) -> Repo:
    files = {}
    for s in m.get("siblings", []):
        lfs = s.get("lfs")
        files[s["rfilename"]] = HubFile(s["rfilename"], s.get("size", 0), s.get("blobId") or hashlib.sha1(s["rfilename"].encode()).hexdigest(),
                                        lfs["sha256"] if lfs else None, None)
    commit = Commit(m["sha"], files, None, "initial commit", m.get("lastModified", "2024-01-01T00:00:00.000Z"), git_trees(files))
    return Repo(key or m["id"], {commit.sha: commit}, {"main": commit.sha})


@dataclass
class HubServer(Faults):
    """``with HubServer() as hub: hub.url`` — a Hub on 127.0.0.1 on a free port."""

    models: list[dict[str, Any]] = field(default_factory=default_models)
    datasets: list[dict[str, Any]] = field(default_factory=default_datasets)
    page_size: int = 1000
    tokens: tuple[str, ...] = (TEST_TOKEN,)
    granted: dict[str, set[str]] = field(default_factory=dict)  # repo -> tokens granted for gated repos
    gated_metadata: bool = False
    tree_page_size: int = 1000
    resolve_cache: bool = True
    gzip_text: bool = True
    lfs_host: str = "localhost"
    lfs_url_ttl: float = 3600.0
    renamed: dict[str, str] = field(default_factory=dict)
    auth_check_route: bool = True
    #: the most ``siblings`` a repo's answer lists (None: all), as the Hub may truncate them for a
    #: large repo (huggingface_hub then lists the tree: its ``LARGE_REPO_THRESHOLD``)
    siblings_limit: int | None = None

    def __post_init__(self) -> None:
        self._init_faults()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[Any] = set()
        self._repos: dict[str, Repo] = {}
        self._blobs: dict[str, tuple[str, Body]] = {}  # sha256 -> (key, body) for the storage host
        self._clock = 0

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> HubServer:
        server = self

        class Handler(_Handler):
            hub = server
            faults = server

        self._stopping.clear()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.tracked = (self._lock, self._connections)  # type: ignore[attr-defined]
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
            connections = list(self._connections)
            self._connections.clear()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> HubServer:
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

    @property
    def storage_url(self) -> str:
        return f"http://{self.lfs_host}:{self.port}"

    # -- inspection ------------------------------------------------------------------
    def storage_requests(self) -> list[Logged]:
        """Requests made to the storage host (LFS and Xet bodies)."""
        host = f"{self.lfs_host}:{self.port}"
        with self._lock:
            return [r for r in self.requests if r.host == host]

    def leaks(self) -> list[Logged]:
        """Storage-host requests that carried an Authorization header: a token sent off the Hub."""
        return [r for r in self.storage_requests() if r.authorized]

    def model(self, repo: str) -> dict[str, Any] | None:
        return next((m for m in self.models if m["id"] == repo), None)

    def dataset(self, repo: str) -> dict[str, Any] | None:
        return next((d for d in self.datasets if d["id"] == repo), None)

    def entry(self, key: str) -> dict[str, Any] | None:
        """The API answer of a model (``owner/name``) or a dataset (``datasets/owner/name``)."""
        return self.dataset(key[len("datasets/"):]) if key.startswith("datasets/") else self.model(key)

    def repo(self, repo: str) -> Repo | None:
        """The repo's commits (a metadata-only one for repos without bytes), or None if unknown;
        ``repo`` is ``owner/name`` for a model, ``datasets/owner/name`` for a dataset."""
        with self._lock:
            if repo in self._repos:
                return self._repos[repo]
        m = self.entry(repo)
        return _stub_repo(m, repo) if m is not None else None

    def file(self, repo: str, path: str, rev: str = "main") -> HubFile:
        r = self.repo(repo)
        commit = r.resolve(rev) if r else None
        if commit is None or path not in commit.files:
            raise KeyError(f"{repo}@{rev}:{path}")
        return commit.files[path]

    # -- building repos ----------------------------------------------------------------
    def add_repo(
        self, repo: str, files: Mapping[str, Data], *, lfs: Iterable[str] | None = None, commit: str | None = None,
        branch: str = "main", tags: Iterable[str] = (), gated: Any = False, private: bool = False,
        xet: Iterable[str] = frozenset(), delete: Iterable[str] = (), message: str | None = None,
        security: Mapping[str, dict[str, Any]] | None = None, hub_tags: Iterable[str] | None = None,
        repo_type: str = "model", **model_fields: Any,
    ) -> str:
        """Commit ``files`` to ``branch`` of ``repo`` (created if new); return the commit sha.

        ``tags`` are git tags (refs); ``hub_tags`` the model's Hub tags in its API answer (``tags``
        there: ``transformers``, ``license:mit``, ``arxiv:1908.10084`` -- the Hub adds an ``arxiv:``
        tag for each arXiv paper the card links). ``repo_type="dataset"`` makes a dataset repo
        (``hub.repo("datasets/" + repo)``): its ``tags`` default to those its ``cardData`` gives
        (``dataset_tags``), and ``citation``/``description`` go into its API answer."""
        if repo_type == "dataset":
            return self._add_dataset(repo, files, lfs=lfs, commit=commit, branch=branch, tags=tags, gated=gated,
                                     private=private, xet=xet, delete=delete, message=message, hub_tags=hub_tags,
                                     **model_fields)
        return self._commit(repo, files, lfs=lfs, commit=commit, branch=branch, tags=tags, gated=gated,
                            private=private, xet=xet, delete=delete, message=message, security=security,
                            hub_tags=hub_tags, **model_fields)

    def _add_dataset(self, repo: str, files: Mapping[str, Data], *, gated: Any, private: bool,
                     hub_tags: Iterable[str] | None, **options: Any) -> str:
        dataset_fields = {k: options.pop(k) for k in ("downloads", "likes", "cardData", "citation", "description")
                          if k in options}
        key = f"datasets/{repo}"
        sha = self._commit(key, files, meta=False, **options)
        with self._lock:
            head = self._repos[key].commits[self._repos[key].branches.get("main", sha)]
            old = self.dataset(repo) or {}
            card = dataset_fields.get("cardData", old.get("cardData"))
            d = _dataset(repo, sha=head.sha, modified=head.date, created=old.get("createdAt", head.date),
                         files=_siblings(head), gated=gated, private=private,
                         tags=list(hub_tags) if hub_tags is not None else old.get("tags") or dataset_tags(card),
                         downloads=dataset_fields.get("downloads", old.get("downloads", 0)),
                         likes=dataset_fields.get("likes", old.get("likes", 0)), card=card,
                         citation=dataset_fields.get("citation", old.get("citation")),
                         description=dataset_fields.get("description", old.get("description")))
            self.datasets = [d if x["id"] == repo else x for x in self.datasets] if old else [*self.datasets, d]
        return sha

    def _commit(
        self, repo: str, files: Mapping[str, Data], *, lfs: Iterable[str] | None = None, commit: str | None = None,
        branch: str = "main", tags: Iterable[str] = (), gated: Any = False, private: bool = False,
        xet: Iterable[str] = frozenset(), delete: Iterable[str] = (), message: str | None = None,
        security: Mapping[str, dict[str, Any]] | None = None, hub_tags: Iterable[str] | None = None,
        meta: bool = True, **model_fields: Any,
    ) -> str:
        """One commit of ``repo`` (a model, or a dataset's ``datasets/...`` key with ``meta=False``:
        its API answer is the caller's)."""
        xet = set(xet)
        lfs_set = set(lfs) if lfs is not None else None
        with self._lock:
            r = self._repos.get(repo) or Repo(repo)
            parent = r.branches.get(branch) or r.branches.get("main")
            tree = dict(r.commits[parent].files) if parent else {}
            for path in delete:
                tree.pop(path, None)
            for path, data in files.items():
                size = len(data) if isinstance(data, bytes) else data.stat().st_size
                in_lfs = path in xet or (path in lfs_set if lfs_set is not None else default_lfs(path, size))
                f = HubFile.of(path, data, lfs=in_lfs, xet=path in xet)
                tree[path] = f
                if f.lfs and f.body is not None:
                    f.body.md5  # the storage host's ETag, computed now rather than on the first request
                    self._blobs.setdefault(f.sha256 or "", (f"{repo}/{path}", f.body))
            self._clock += 1
            stamp = 1735689600 + 60 * self._clock
            date = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(stamp))
            title = message or (f"Upload {len(files)} files" if parent else "initial commit")
            trees = git_trees(tree)
            if commit is None:
                raw = f"tree {trees['']}\n" + (f"parent {parent}\n" if parent else "") + (
                    f"author zoofind <test@zoofind.invalid> {stamp} +0000\ncommitter zoofind <test@zoofind.invalid> {stamp} +0000\n\n{title}\n")
                commit = hashlib.sha1(b"commit %d\0" % len(raw.encode()) + raw.encode()).hexdigest()
            r.commits[commit] = Commit(commit, tree, parent, title, date, trees)
            r.branches[branch] = commit
            for tag in tags:
                r.tags[tag] = commit
            r.security.update(security or {})
            self._repos[repo] = r
            if not meta:
                return commit
            head = r.commits[r.branches.get("main", commit)]
            old = next((m for m in self.models if m["id"] == repo), None)
            fields = {"pipeline": model_fields.pop("pipeline_tag", None), "library": model_fields.pop("library_name", None),
                      "tags": list(hub_tags or ()), "downloads": model_fields.pop("downloads", 0),
                      "likes": model_fields.pop("likes", 0), "card": model_fields.pop("cardData", None),
                      "safetensors": model_fields.pop("safetensors", None)}
            if old is not None:
                for key, name in (("pipeline", "pipeline_tag"), ("library", "library_name"), ("tags", "tags"),
                                  ("card", "cardData"), ("safetensors", "safetensors")):
                    if fields[key] in (None, []) and old.get(name) is not None:
                        fields[key] = old[name]
                fields["downloads"] = fields["downloads"] or old.get("downloads", 0)
                fields["likes"] = fields["likes"] or old.get("likes", 0)
            m = _model(repo, oid=hashlib.sha1(repo.encode()).hexdigest()[:24], sha=head.sha, modified=head.date,
                       created=(old or {}).get("createdAt", date), files=_siblings(head), gated=gated, private=private,
                       **fields, **model_fields)
            self.models = [m if x["id"] == repo else x for x in self.models] if old is not None else [*self.models, m]
            return commit

    def rename(self, old: str, new: str) -> None:
        """``old`` now answers a relative 307 to ``new`` on the API and resolve routes, as a renamed repo does."""
        self.renamed[old] = new

    def _sign(self, path: str, expires: int) -> str:
        return hmac.new(_SIGNING_KEY, f"{path}|{expires}".encode(), "sha256").hexdigest()[:32]

    def storage_location(self, repo: str, f: HubFile) -> str:
        """The signed storage-host URL the Hub redirects a download of ``f`` to."""
        expires = int(time.time() + self.lfs_url_ttl)
        path = f"/xet-bridge-us/{hashlib.sha1(repo.encode()).hexdigest()[:24]}/{f.sha256}" if f.xet else f"/repos/{repo}/{f.sha256}"
        name = PurePosixPath(f.path).name
        disposition = f"inline; filename*=UTF-8''{quote(name)}; filename=\"{name}\";"
        query = urlencode({"response-content-disposition": disposition, "Expires": expires,
                           "Signature": self._sign(path, expires), "Key-Pair-Id": "K3RPWS32NSSJCE"})
        return f"{self.storage_url}{path}?{query}"


def _siblings(commit: Commit) -> list[dict[str, Any]]:
    out = []
    for path in sorted(commit.files):
        f = commit.files[path]
        s: dict[str, Any] = {"rfilename": path, "size": f.size, "blobId": f.oid}
        if f.lfs:
            s["lfs"] = {"size": f.size, "sha256": f.sha256, "pointerSize": f.pointer_size}
        out.append(s)
    return out


class _Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def _error(status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None) -> _Reply:
    out = {"X-Error-Message": message, **(headers or {})}
    if code:
        out["X-Error-Code"] = code
    return _Reply(status, {"error": message}, out)


class _Handler(BodyHandler):
    hub: HubServer

    def do_GET(self) -> None:  # noqa: N802
        self._handle()

    do_HEAD = do_POST = do_GET

    def _handle(self) -> None:
        hub = self.hub
        entry, raw_path = self.begin()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if self.command == "POST" else b""

        def fail(status: int, retry_after: int | None) -> None:
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            message = "Too Many Requests" if status == 429 else "Internal Error - We're working hard to fix this as soon as possible!"
            self._send(_Reply(status, {"error": message}, headers))

        if self.gate(raw_path, fail):
            return
        try:
            segments = [unquote(s) for s in raw_path.strip("/").split("/")] if raw_path.strip("/") else []
            if segments[:1] in (["repos"], ["xet-bridge-us"]) and entry.host == f"{hub.lfs_host}:{hub.port}":
                return self._storage(raw_path, entry.query)
            user = self._user()
            path = "/" + "/".join(segments)
            if path == "/api/agent-harnesses":
                # huggingface_hub fetches this registry (for its user-agent) once a day per HF_HOME.
                raise _Reply(200, AGENT_HARNESSES)
            if path in ("/api/models", "/api/datasets"):
                raise self._list(entry.query, user, datasets=path == "/api/datasets")
            if segments[:3] in (["api", "resolve-cache", "models"], ["api", "resolve-cache", "datasets"]) \
                    and len(segments) >= 7:
                key = ("datasets/" if segments[2] == "datasets" else "") + "/".join(segments[3:5])
                return self._resolve(key, segments[5], "/".join(segments[6:]), user, cached=True)
            if segments[:2] in (["api", "models"], ["api", "datasets"]) and len(segments) >= 4:
                repo, tail = ("datasets/" if segments[1] == "datasets" else "") + "/".join(segments[2:4]), segments[4:]
                self._moved(repo, raw_path)
                if tail == ["auth-check"]:
                    if not hub.auth_check_route:
                        raise _Reply(404, {"detail": "Not Found"})
                    raise self._auth_check(repo, user)
                if not tail or (len(tail) >= 2 and tail[0] == "revision"):
                    raise self._info(repo, "/".join(tail[1:]) or None, entry.query, user)
                if tail == ["refs"]:
                    raise self._refs(repo, user)
                if len(tail) >= 2 and tail[0] == "tree":
                    raise self._tree(repo, tail[1], "/".join(tail[2:]).strip("/"), entry.query, user, raw_path)
                if len(tail) == 2 and tail[0] == "paths-info" and self.command == "POST":
                    raise self._paths_info(repo, tail[1], body, user)
            if segments[:1] == ["datasets"] and len(segments) >= 6 and segments[3] == "resolve":
                repo = "/".join(segments[:3])
                self._moved(repo, raw_path)
                return self._resolve(repo, segments[4], "/".join(segments[5:]), user, cached=False)
            if len(segments) >= 5 and segments[2] == "resolve" and segments[0] != "datasets":
                repo = "/".join(segments[:2])
                self._moved(repo, raw_path)
                return self._resolve(repo, segments[3], "/".join(segments[4:]), user, cached=False)
            raise _error(404, "Sorry, we can't find the page you are looking for.")
        except _Reply as reply:
            self._send(reply)

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

    def _granted(self, m: dict[str, Any], user: str | None, key: str) -> bool:
        if not m.get("gated"):
            return True
        # hub.granted is keyed as hub.repo is: owner/name for a model, datasets/owner/name for a dataset.
        return user is not None and user in self.hub.granted.get(key, set())

    def _not_found(self, user: str | None) -> _Reply:
        # Anonymous callers get 401 for unknown repos: the Hub does not say whether a private one exists.
        if user is None:
            return _error(401, "Invalid username or password.", "RepoNotFound")
        return _error(404, "Repository not found", "RepoNotFound")

    def _gated(self, repo: str, user: str | None) -> _Reply:
        status = 401 if user is None else 403
        kind, repo = ("dataset", repo[len("datasets/"):]) if repo.startswith("datasets/") else ("model", repo)
        message = (f"Access to {kind} {repo} is restricted. You must have access to it and be authenticated to access it. Please log in."
                   if user is None else f"Access to {kind} {repo} is restricted and you are not in the authorized list. Visit https://huggingface.co/{repo} to ask for access.")
        return _error(status, message, "GatedRepo")

    def _moved(self, repo: str, raw_path: str) -> None:
        new = self.hub.renamed.get(repo)
        if new is not None:
            target = (raw_path + "/").replace(f"/{repo}/", f"/{new}/", 1)[:-1]
            query = urlsplit(self.path).query
            raise _Reply(307, {"error": "Moved"}, {"Location": target + (f"?{query}" if query else "")})

    def _readable(self, repo: str, user: str | None, *, files: bool) -> tuple[dict[str, Any], Repo]:
        m = self.hub.entry(repo)
        r = self.hub.repo(repo)
        if m is None or r is None or not self._visible(m, user):
            raise self._not_found(user)
        if (files or self.hub.gated_metadata) and not self._granted(m, user, repo):
            raise self._gated(repo, user)
        return m, r

    @staticmethod
    def _revision(r: Repo, rev: str, headers: dict[str, str] | None = None) -> Commit:
        commit = r.resolve(rev)
        if commit is None:
            raise _error(404, f"Invalid rev id: {rev}", "RevisionNotFound", headers)
        return commit

    # -- search routes -----------------------------------------------------------------
    def _list(self, query: dict[str, list[str]], user: str | None, *, datasets: bool = False) -> _Reply:
        """``/api/models`` or ``/api/datasets``: the same parameters, each kind's own expand values;
        a dataset's ``filter`` values are tags too (``task_categories:...``, ``size_categories:...``,
        ``license:...``), and ``search`` may be repeated (every value must be in the id)."""
        def one(name: str) -> str | None:
            values = query.get(name)
            return values[-1] if values else None

        expand = query.get("expand", []) + query.get("expand[]", [])
        bad = [e for e in expand if e not in (DATASET_EXPAND if datasets else LIST_EXPAND)]
        if bad:
            return _error(400, f'"expand" must be one of the allowed values, got {bad[0]!r}', "BadRequest")
        models = [m for m in (self.hub.datasets if datasets else self.hub.models) if self._visible(m, user)]
        for text in query.get("search", []):
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
            headers["Link"] = self._next_link("/api/datasets" if datasets else "/api/models", query, start + size)
        full = one("full") in ("true", "True", "1")
        card = one("cardData") in ("true", "True", "1")
        default = DATASET_LIST_DEFAULT if datasets else LIST_DEFAULT
        return _Reply(200, [self._shape(m, expand, full=full, card=card, listing=True, default=default)
                            for m in page], headers)

    def _next_link(self, path: str, query: dict[str, list[str]], start: int) -> str:
        params = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
        params.append(("cursor", base64.urlsafe_b64encode(str(start).encode()).decode()))
        host = self.headers.get("Host") or f"127.0.0.1:{self.hub.port}"
        return f'<http://{host}{path}?{urlencode(params)}>; rel="next"'

    def _shape(self, m: dict[str, Any], expand: list[str], *, full: bool = False, card: bool = False, listing: bool = False, blobs: bool = False,
               default: tuple[str, ...] = LIST_DEFAULT) -> dict[str, Any]:
        m = copy.deepcopy(m)
        if not blobs:
            # Sizes and LFS data come only with blobs=true on one repo.
            m["siblings"] = [{"rfilename": s["rfilename"]} for s in m.get("siblings", [])]
        if expand:
            return {"_id": m["_id"], "id": m["id"], **{k: m[k] for k in expand if k in m}}
        if listing and not full:
            out = {k: m[k] for k in default if k in m}
            if card and "cardData" in m:
                out["cardData"] = m["cardData"]
            return out
        m.pop("usedStorage", None) if listing else None
        return m

    def _info(self, repo: str, rev: str | None, query: dict[str, list[str]], user: str | None) -> _Reply:
        m, r = self._readable(repo, user, files=False)
        expand = query.get("expand", []) + query.get("expand[]", [])
        bad = [e for e in expand if e not in (DATASET_EXPAND if repo.startswith("datasets/") else INFO_EXPAND)]
        if bad:
            return _error(400, f'"expand" must be one of the allowed values, got {bad[0]!r}', "BadRequest")
        commit = self._revision(r, rev or "main")
        if repo in self.hub._repos:
            m = {**m, "sha": commit.sha, "lastModified": commit.date,
                 "siblings": _siblings(commit)[:self.hub.siblings_limit],
                 "usedStorage": sum(f.size for f in commit.files.values())}
        blobs = (query.get("blobs") or ["false"])[-1] in ("true", "True", "1")
        return _Reply(200, self._shape(m, expand, blobs=blobs))

    def _auth_check(self, repo: str, user: str | None) -> _Reply:
        self._readable(repo, user, files=True)
        return _Reply(200, {})

    def _refs(self, repo: str, user: str | None) -> _Reply:
        _, r = self._readable(repo, user, files=False)
        ref = lambda kind, name, sha: {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": sha}  # noqa: E731
        return _Reply(200, {"branches": [ref("heads", n, s) for n, s in r.branches.items()],
                            "converts": [], "tags": [ref("tags", n, s) for n, s in r.tags.items()]})

    # -- file listings -----------------------------------------------------------------
    def _entry(self, r: Repo, commit: Commit, path: str, expand: bool) -> dict[str, Any]:
        f = commit.files.get(path)
        if f is None:
            out: dict[str, Any] = {"type": "directory", "oid": commit.trees[path], "size": 0, "path": path}
        else:
            out = {"type": "file", "oid": f.oid, "size": f.size, "path": path}
            if f.lfs:
                out["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": f.pointer_size}
            if f.xet:
                out["xetHash"] = f.xet_hash
        if expand:
            last = r.last_change(commit, path)
            out["lastCommit"] = {"id": last.sha, "title": last.title, "date": last.date}
            if f is not None:
                out["securityFileStatus"] = r.security.get(path) or _scan(path)
        return out

    def _tree(self, repo: str, rev: str, folder: str, query: dict[str, list[str]], user: str | None, raw_path: str) -> _Reply:
        _, r = self._readable(repo, user, files=False)
        commit = self._revision(r, rev)
        if folder and folder not in commit.trees:
            return _error(404, f"Entry not found: {folder}", "EntryNotFound")
        flag = lambda name: (query.get(name) or ["false"])[-1].lower() in ("true", "1")  # noqa: E731
        recursive, expand = flag("recursive"), flag("expand")
        prefix = f"{folder}/" if folder else ""
        paths: list[str] = []

        def walk(at: str) -> None:
            base = f"{at}/" if at else ""
            subs = sorted(d for d in commit.folders() if d.startswith(base) and "/" not in d[len(base):])
            files = sorted(p for p in commit.files if p.startswith(base) and "/" not in p[len(base):])
            for d in subs:
                paths.append(d)
                if recursive:
                    walk(d)
            paths.extend(files)

        walk(prefix.rstrip("/"))
        size = min(self.hub.tree_page_size, 50) if expand else self.hub.tree_page_size
        cursor = (query.get("cursor") or [None])[-1]
        start = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
        headers = {}
        if start + size < len(paths):
            headers["Link"] = self._next_link(raw_path, query, start + size)
        return _Reply(200, [self._entry(r, commit, p, expand) for p in paths[start:start + size]], headers)

    def _paths_info(self, repo: str, rev: str, body: bytes, user: str | None) -> _Reply:
        _, r = self._readable(repo, user, files=False)
        commit = self._revision(r, rev)
        if (self.headers.get("Content-Type") or "").startswith("application/json"):
            data = json.loads(body or b"{}")
            paths, expand = list(data.get("paths") or []), bool(data.get("expand"))
        else:
            form = parse_qs(body.decode(), keep_blank_values=True)
            paths = form.get("paths", []) + form.get("paths[]", [])
            expand = (form.get("expand") or ["false"])[-1].lower() in ("true", "1")
        wanted = [p.strip("/") for p in paths]
        found = [p for p in dict.fromkeys(wanted) if p in commit.files or p in commit.folders()]
        return _Reply(200, [self._entry(r, commit, p, expand) for p in found])

    # -- downloads ---------------------------------------------------------------------
    def _resolve(self, repo: str, rev: str, path: str, user: str | None, *, cached: bool) -> None:
        hub = self.hub
        m, r = self._readable(repo, user, files=True)
        if cached and not re.fullmatch(r"[0-9a-f]{40}", rev):
            raise _error(400, f"Invalid revision: {rev} is not a commit sha", "BadRequest")
        commit = self._revision(r, rev)
        at = {"X-Repo-Commit": commit.sha}
        f = commit.files.get(path)
        if f is None:
            raise _error(404, "Entry not found", "EntryNotFound", at)
        if f.lfs:
            location = hub.storage_location(repo, f)
            headers = {**at, "X-Linked-Etag": f'"{f.sha256}"', "X-Linked-Size": str(f.size), "ETag": f'"{f.oid}"',
                       "Location": location, "Access-Control-Expose-Headers": "X-Repo-Commit,X-Linked-Etag,X-Linked-Size,X-Xet-Hash,Link"}
            if f.xet:
                headers["X-Xet-Hash"] = f.xet_hash
                api = f"/api/{repo}" if repo.startswith("datasets/") else f"/api/models/{repo}"
                headers["Link"] = (f'<{hub.url}{api}/xet-read-token/{commit.sha}>; rel="xet-auth", '
                                   f'<{hub.storage_url}/reconstructions/{f.xet_hash}>; rel="xet-reconstruction-info"')
            return self.send_plain(302, f"Found. Redirecting to {location}".encode(), headers=headers)
        if not cached and hub.resolve_cache and not m.get("private") and not m.get("gated"):
            original = quote(f"/{repo}/resolve/{rev}/{path}", safe="")
            kind = "" if repo.startswith("datasets/") else "models/"
            location = f"/api/resolve-cache/{kind}{repo}/{commit.sha}/{quote(path)}?{original}=&etag=%22{f.oid}%22"
            return self.send_plain(307, f"Temporary Redirect. Redirecting to {location}".encode(), headers={**at, "Location": location})
        if f.body is None:
            raise _error(404, "Entry not found (this test Hub holds no bytes for it)", "EntryNotFound", at)
        gzip = hub.gzip_text and path.endswith(GZIP_SUFFIXES)
        send_body(self, f.body, key=f"{repo}/{path}", etag=f.oid, headers=at, ctype=_ctype(path), gzip=gzip)

    def _storage(self, raw_path: str, query: dict[str, list[str]]) -> None:
        from .files_server import s3_error

        hub = self.hub
        one = lambda name: (query.get(name) or [""])[-1]  # noqa: E731
        try:
            expires = int(one("Expires"))
        except ValueError:
            expires = 0
        if not hmac.compare_digest(one("Signature"), hub._sign(raw_path, expires)) or expires < time.time():
            return self.send_plain(403, s3_error(403), "application/xml")
        with hub._lock:
            found = hub._blobs.get(raw_path.rsplit("/", 1)[-1])
        if found is None:
            return self.send_plain(404, s3_error(404), "application/xml")
        key, body = found
        headers = {"X-Cache": "Miss from cloudfront"}
        if one("response-content-disposition"):
            headers["Content-Disposition"] = one("response-content-disposition")
        send_body(self, body, key=key, etag=body.md5, headers=headers, ctype="binary/octet-stream")

    # -- wire ------------------------------------------------------------------------
    def _send(self, reply: _Reply) -> None:
        body = json.dumps(reply.body).encode()
        headers = {"X-Request-Id": f"Root=1-{int(time.time()):x}-test", **reply.headers}
        self.send_plain(reply.status, body, "application/json; charset=utf-8", headers)


def _ctype(path: str) -> str:
    if path.endswith(".json"):
        return "application/json; charset=utf-8"
    if path.endswith(GZIP_SUFFIXES):
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


def _scan(path: str) -> dict[str, Any]:
    """The Hub's security scan answer for a file: pickle files list their imports."""
    pickle = None
    if path.endswith(PICKLE_SUFFIXES):
        pickle = {"status": "innocuous", "message": None, "version": "0.0.0", "pickleImports": [
            {"module": "torch._utils", "name": "_rebuild_tensor_v2", "safety": "innocuous"},
            {"module": "collections", "name": "OrderedDict", "safety": "innocuous"},
            {"module": "torch", "name": "FloatStorage", "safety": "innocuous"}]}
    return {"status": "safe", "protectAiScan": None, "avScan": {"status": "safe", "virusNames": None}, "pickleImportScan": pickle}
