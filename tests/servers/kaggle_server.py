"""A local Kaggle public API speaking kagglesdk's protocol for the models service (and, from
``kaggle_datasets``, the datasets service: ``add_dataset``).

kagglesdk (0.1.38, ``kaggle_http_client.py``) sends every call as ``POST
{endpoint}/api/v1/models.ModelApiService/<Method>`` (``/v1/...`` on api.kaggle.com) with a
JSON body in camelCase and ``Content-Type: application/json``, authenticated by
``Authorization: Bearer <token>`` or HTTP basic ``username:key``. Errors come back as
``{"code": <status>, "message": "..."}``.

Served: ``ListModels`` (``search``, ``sortBy``, ``owner``, ``pageSize``, ``pageToken``;
answers ``models``, ``nextPageToken``, ``totalResults``) and ``GetModel`` (``ownerSlug``,
``modelSlug``). Model bodies follow ``ApiModel`` / ``ApiModelInstance``; frameworks are
spelled as the live API spells them (``tensorFlow2``) except one in kagglesdk's enum
spelling (``MODEL_FRAMEWORK_TF_LITE``), which clients must read too.

What ``kagglehub.model_download`` calls (kagglehub 1.0, ``http_resolver.ModelHttpResolver``), each with
``ownerSlug``, ``modelSlug``, ``framework`` (the ``ModelFramework`` enum's name, e.g.
``MODEL_FRAMEWORK_TENSOR_FLOW_2``; any other spelling is a 400, as kagglesdk's enum parsing
refuses it) and ``instanceSlug``:

* ``GetModelInstance``: the ApiModelInstance, ``versionNumber`` the latest version;
* ``ListModelInstanceVersionFiles`` (+ ``versionNumber``, ``pageSize``, ``pageToken``):
  ``{"files": [{"name", "size", "creationDate"}], "nextPageToken"}``;
* ``DownloadModelInstanceVersion`` (+ ``versionNumber``, optional ``path``): 302 to a signed
  storage URL on another host name (``storage_host``, ``localhost``, while the API is
  ``127.0.0.1``; as Kaggle sends ``storage.googleapis.com``): ``/kaggle-models-data/<model id>/<version id>/<path>`` for a
  file, ``.../bundle/archive.tar.gz`` for the whole version, with ``GoogleAccessId``,
  ``Expires`` and ``Signature`` query parameters.

Unknown model, variation or version: 404 with Kaggle's error body; a version in ``forbidden``
(its terms not accepted): 403. The storage host (``storage`` logs its requests as ``Logged``)
answers as Cloud Storage does: 200/206/416 with ``Range``, ``ETag`` (md5), ``x-goog-hash:
crc32c=...,md5=<base64>``, ``x-goog-stored-content-length``; a link it did not sign, or one
past ``Expires``, gets 403 ``SignatureDoesNotMatch``/``ExpiredToken`` XML; a request that also
carries ``Authorization`` gets 400 (Cloud Storage refuses two kinds of authentication), and
``leaks()`` lists such requests. It has every fault knob of bodies.py (``drop_after``,
``corrupt`` (keys: the storage paths), ``ignore_range``, ``rate_bps``, ``fail_status``...,
applied to storage requests only) and the counters ``bytes_sent``/``bytes_by_key``.

``add_version(handle, files, archive=None)`` serves ``owner/model/framework/variation/version``
(``files``: path -> bytes; ``archive``: the bytes of the whole-version download, else a
tar.gz of ``files``, see ``bundle``) and makes it the latest; ``bundle(files, variant)`` builds
archives, good or with one defect (``tar_dotdot``, ``tar_absolute``, ``tar_symlink``,
``tar_device``, ``zip_dotdot``, ``zip_absolute``, ``zip_symlink``, ``bad_crc``, ``truncated``,
``zip_bad_crc``, ``zip``: a good zip).

Without credentials (no ``Authorization`` header) the server answers as Kaggle does kagglehub 1.0's
anonymous calls (kagglehub's README: "Authenticating is only needed to access public resources
requiring user consent or private resources"; its integration tests download the public
``keras/bert/keras/bert_tiny_en_uncased`` and an unversioned public dataset ``unauthenticated()``):
the calls in ``ANONYMOUS`` are served for public models and datasets. A version in ``forbidden``
(consent-gated) answers an anonymous download 401 (Kaggle must know who accepted its terms), a
model in ``private`` (``owner/model``) answers anonymous calls 403, a dataset in
``forbidden_datasets`` 403. The listings and ``GetModel`` answer anonymous calls 401: no client
makes them so (kagglehub only calls ``GetModel`` to upload; the ``kaggle`` CLI lets only
``datasets download``, ``datasets files`` and ``auth login`` run anonymously,
``kaggle_api_extended.py``), so nothing shows Kaggle serving them, and a stricter server cannot
make a client look better than it is. A wrong credential is a 401 on every call.

``token`` and ``basic`` are the accepted credentials; ``fail_with`` forces an error status
on every call; ``fail_in_body`` answers every call HTTP 200 with that error code in the
body (kagglesdk reads the body's ``code``, whatever the status line says); ``delay`` holds
each answer back; ``requests`` logs method, path, headers and the decoded body of each call.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import secrets
import stat
import struct
import tarfile
import threading
import time
import zipfile
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .bodies import Body, BodyHandler, Faults, Logged, send_body
from .kaggle_datasets import DATASET_SERVICE, DatasetRoutes
from .loopback import LoopbackServer
from .tfhub_server import _info

SERVICE = "models.ModelApiService"
#: The calls served without credentials (what kagglehub 1.0 makes anonymously: http_resolver.py).
ANONYMOUS = frozenset({"GetModelInstance", "ListModelInstanceVersionFiles", "DownloadModelInstanceVersion",
                       "GetDataset", "DownloadDataset"})
STORAGE_BUCKET = "kaggle-models-data"
#: kagglesdk 0.1.38's ModelFramework names (models/types/model_enums.py) -> the spelling the web uses.
FRAMEWORK_ENUM = {
    "MODEL_FRAMEWORK_TENSOR_FLOW_1": "tensorFlow1", "MODEL_FRAMEWORK_TENSOR_FLOW_2": "tensorFlow2",
    "MODEL_FRAMEWORK_TF_LITE": "tfLite", "MODEL_FRAMEWORK_TF_JS": "tfJs", "MODEL_FRAMEWORK_PY_TORCH": "pyTorch",
    "MODEL_FRAMEWORK_JAX": "jax", "MODEL_FRAMEWORK_FLAX": "flax", "MODEL_FRAMEWORK_CORAL": "coral",
    "MODEL_FRAMEWORK_SCIKIT_LEARN": "scikitLearn", "MODEL_FRAMEWORK_MXNET": "mxnet", "MODEL_FRAMEWORK_ONNX": "onnx",
    "MODEL_FRAMEWORK_KERAS": "keras", "MODEL_FRAMEWORK_TRANSFORMERS": "transformers", "MODEL_FRAMEWORK_GGUF": "gguf",
    "MODEL_FRAMEWORK_GGML": "ggml", "MODEL_FRAMEWORK_OTHER": "other",
}
_BY_SPELLING = {v.lower(): k for k, v in FRAMEWORK_ENUM.items()}


def _instance(slug: str, framework: str, version: int, owner: str, model: str, license_name: str = "Apache 2.0", **kw: Any) -> dict[str, Any]:
    return {
        "id": abs(hash((owner, model, slug, framework))) % 10**6,
        "slug": slug,
        "framework": framework,
        "fineTunable": kw.get("fine_tunable", False),
        "overview": kw.get("overview", ""),
        "usage": "",
        "downloadUrl": "",
        "versionId": version * 1000,
        "versionNumber": version,
        "trainingData": kw.get("training_data", []),
        "url": f"https://www.kaggle.com/models/{owner}/{model}/{framework}/{slug}/{version}",
        "licenseName": license_name,
        "modelInstanceType": "baseModel",
        "externalBaseModelUrl": "",
        "totalUncompressedBytes": kw.get("size", 0),
    }


def _model(mid: int, owner: str, slug: str, title: str, subtitle: str, description: str, instances: list[dict[str, Any]],
           tags: list[str], votes: int) -> dict[str, Any]:
    return {
        "id": mid,
        "ref": f"{owner}/{slug}",
        "title": title,
        "subtitle": subtitle,
        "author": owner.title(),
        "slug": slug,
        "isPrivate": False,
        "description": description,
        "instances": instances,
        "tags": [{"ref": t.lower().replace(" ", "-"), "name": t, "fullPath": f"task > {t.lower()}"} for t in tags],
        "publishTime": "2023-11-07T18:20:05.933Z",
        "provenanceSources": "",
        "url": f"https://www.kaggle.com/models/{owner}/{slug}",
        "modelVersionLinks": [],
        "voteCount": votes,
        "authorImageUrl": "https://storage.googleapis.com/kaggle-organizations/1/thumbnail.png",
        "updateTime": "2024-03-01T10:00:00.000Z",
    }


def default_models() -> list[dict[str, Any]]:
    g = "google"
    models = [
        _model(1, g, "yamnet", "YAMNet", "An audio event classifier trained on the AudioSet dataset.",
               "## Overview\n\nYAMNet predicts **521 audio event** classes from the [AudioSet](https://research.google.com/audioset/) ontology.",
               [_instance("yamnet", "tensorFlow2", 1, g, "yamnet", overview="YAMNet audio event classifier, TF2 SavedModel."),
                _instance("classification-tflite", "MODEL_FRAMEWORK_TF_LITE", 1, g, "yamnet"),
                _instance("yamnet", "tfJs", 1, g, "yamnet")],
               ["Audio Classification", "Audio"], 120),
        _model(2, g, "mobilenet-v2", "MobileNet V2", "Image classification and feature vectors for ImageNet.",
               "MobileNet V2 trained on ImageNet (ILSVRC-2012-CLS).",
               [_instance("100-224-classification", "tensorFlow2", 2, g, "mobilenet-v2", size=14_000_000),
                _instance("100-224-feature-vector", "tensorFlow2", 2, g, "mobilenet-v2"),
                _instance("035-128-classification", "tensorFlow1", 2, g, "mobilenet-v2")],
               ["Image Classification"], 300),
        _model(3, "keras", "yamnet-keras", "YAMNet (Keras)", "YAMNet for Keras 3.", "Keras port.",
               [_instance("yamnet_base", "keras", 1, "keras", "yamnet-keras")], ["Audio Classification"], 40),
        _model(4, "metaresearch", "audio-pytorch", "Audio model (PyTorch)", "A PyTorch audio tagger.", "PyTorch only.",
               [_instance("default", "pyTorch", 1, "metaresearch", "audio-pytorch", license_name="MIT")], ["Audio"], 10),
    ]
    # Many PyTorch bird models rank first for "bird": the TensorFlow one is on page two.
    for i in range(60):
        models.append(_model(100 + i, "acme", f"bird-net-{i}", f"Bird net {i}", "A PyTorch bird classifier.", "Birds.",
                             [_instance("default", "pyTorch", 1, "acme", f"bird-net-{i}")], ["Audio Classification"], 5))
    models.append(_model(7, g, "bird-vocalization-classifier", "Bird Vocalization Classifier",
                         "Perch: a global bird embedding and classification model.",
                         "Trained on Xeno-Canto recordings of 10,000+ bird species.",
                         [_instance("bird-vocalization-classifier", "tensorFlow2", 8, g, "bird-vocalization-classifier",
                                    training_data=["xeno-canto"])],
                         ["Audio Classification", "Bioacoustics"], 90))
    return models


@dataclass
class Version:
    """One served model version: its files (what storage serves), the sizes its listing gives
    (those of the files it was added with: change ``files`` to serve something else), its archive, its ids."""

    files: dict[str, Body]
    archive: Body
    model_id: int
    version_id: int
    sizes: dict[str, int]


def bundle(files: dict[str, bytes], variant: str = "good") -> bytes:
    """The whole-version archive of ``files`` (a tar.gz, or a zip for ``zip*``), good or with one defect."""
    evil = b"escaped\n"
    if variant.startswith("zip"):
        raw = io.BytesIO()
        with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in files.items():
                zf.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data)
            if variant in ("zip_dotdot", "zip_absolute", "zip_symlink"):
                name = {"zip_dotdot": "../escaped.txt", "zip_absolute": "/tmp/zoofind-escaped.txt", "zip_symlink": "link"}[variant]
                info = zipfile.ZipInfo("placeholder", (2024, 1, 1, 0, 0, 0))
                info.filename = name  # ZipInfo() itself would rewrite a hostile name
                if variant == "zip_symlink":
                    info.create_system, info.external_attr = 3, (stat.S_IFLNK | 0o777) << 16
                    zf.writestr(info, b"../../../../etc/passwd")
                else:
                    zf.writestr(info, evil)
            elif variant not in ("zip", "zip_bad_crc"):
                raise ValueError(f"unknown archive variant {variant!r}")
        packed = raw.getvalue()
        if variant == "zip_bad_crc":
            # The first member's CRC-32 in its local header and in the central directory, both flipped.
            crc_local = 14
            damaged = bytearray(packed)
            damaged[crc_local] ^= 0xFF
            central = packed.index(b"PK\x01\x02")
            damaged[central + 16] ^= 0xFF
            packed = bytes(damaged)
        return packed
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        folders = sorted({"/".join(n.split("/")[:i]) for n in files for i in range(1, n.count("/") + 1)})
        for name in folders:
            tar.addfile(_info(name, tarfile.DIRTYPE))
        for name, data in files.items():
            tar.addfile(_info(name, size=len(data)), io.BytesIO(data))
        extra = {
            "tar_dotdot": [(_info("../escaped.txt", size=len(evil)), evil)],
            "tar_absolute": [(_info("/tmp/zoofind-escaped.txt", size=len(evil)), evil)],
            "tar_symlink": [(_info("link", tarfile.SYMTYPE, linkname="../../../../../../etc/passwd"), None)],
            "tar_device": [(_info("dev/zero", tarfile.CHRTYPE, devmajor=1, devminor=5), None)],
        }
        if variant not in ("good", "bad_crc", "truncated", *extra):
            raise ValueError(f"unknown archive variant {variant!r}")
        for info, data in extra.get(variant, []):
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    packed = gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)
    if variant == "bad_crc":
        crc = struct.unpack("<I", packed[-8:-4])[0] ^ 0xFFFFFFFF
        packed = packed[:-8] + struct.pack("<I", crc) + packed[-4:]
    elif variant == "truncated":
        packed = packed[: len(packed) // 2]
    return packed


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        crc = n
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return table


_CRC32C = _crc32c_table()


def crc32c_b64(data: bytes) -> str:
    """Cloud Storage's crc32c (Castagnoli), base64 of the big-endian value, as x-goog-hash carries it."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return base64.b64encode(struct.pack(">I", crc ^ 0xFFFFFFFF)).decode()


class KaggleServer(LoopbackServer, Faults, DatasetRoutes):
    def __init__(self, token: str = "tok-good", basic: tuple[str, str] = ("alice", "key-good"), delay: float = 0.0,
                 *, port: int = 0, storage_host: str = "localhost") -> None:
        Faults.__init__(self)
        self._port = port
        #: the storage host's name: requests naming it (Host) are storage's, every other one the API's
        self.storage_host = storage_host
        self._init_faults()
        self._init_datasets()
        self.token = token
        self.basic = basic
        self.delay = delay
        self.fail_with: int | None = None
        self.fail_in_body: int | None = None
        self.models = default_models()
        self.requests: list[dict[str, Any]] = []  # type: ignore[assignment]  # API calls (storage requests: ``storage``)
        self.storage: list[Logged] = []
        #: (owner, model, framework enum, variation) -> {version: Version}
        self.versions: dict[tuple[str, str, str, str], dict[int, Version]] = {}
        #: "owner/model/framework/variation/version" handles whose download is refused (403: terms not accepted)
        self.forbidden: set[str] = set()
        #: "owner/model" refs private to the account of ``token``/``basic``: anonymous calls get 403
        self.private: set[str] = set()
        #: seconds a signed link stays valid
        self.link_ttl = 3600.0
        self._signed: dict[str, float] = {}  # signature -> expiry
        self._crc: dict[str, str] = {}  # storage path -> its crc32c, computed once
        self._next_id = 1000
        server = self

        class Handler(BodyHandler):
            faults = server

            def do_POST(self) -> None:  # noqa: N802
                server._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                server._handle(self)

            do_HEAD = do_GET

        self._listen(Handler)
        if port:
            # kagglesdk's TEST environment is http://localhost:7777, fixed: for kagglehub itself as a client.
            from http.server import ThreadingHTTPServer

            self.httpd.server_close()
            self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
            self.httpd.daemon_threads = True
            self.httpd.tracked = (self._lock, self._connections)  # type: ignore[attr-defined]
            self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            self.url = f"http://127.0.0.1:{port}"

    @property
    def storage_url(self) -> str:
        """The storage host: the same server under another name, so a credential sent there shows."""
        return f"http://{self.storage_host}:{self.port}"

    # -- served versions -------------------------------------------------------------
    def add_version(self, handle: str, files: dict[str, bytes], archive: bytes | None = None) -> Version:
        """Serve ``owner/model/framework/variation/version`` and make it the latest version."""
        owner, model, framework, variation, number = handle.split("/")
        enum = _BY_SPELLING[framework.lower()]
        with self._lock:
            self._next_id += 1
            entry = Version({n: Body(d) for n, d in files.items()}, Body(archive if archive is not None else bundle(files)),
                            self._next_id, self._next_id * 10 + int(number), {n: len(d) for n, d in files.items()})
            self.versions.setdefault((owner, model, enum, variation), {})[int(number)] = entry
        self._ensure_instance(owner, model, framework, variation, int(number), sum(len(d) for d in files.values()))
        return entry

    def _ensure_instance(self, owner: str, model: str, framework: str, variation: str, version: int, size: int) -> None:
        with self._lock:
            found = next((m for m in self.models if m["ref"] == f"{owner}/{model}"), None)
            if found is None:
                found = _model(len(self.models) + 5000, owner, model, model.title(), "", "", [], [], 0)
                self.models.append(found)
            inst = next((i for i in found["instances"] if i["slug"] == variation and
                         _BY_SPELLING.get(str(i["framework"]).lower(), i["framework"]) == _BY_SPELLING[framework.lower()]), None)
            if inst is None:
                inst = _instance(variation, framework, version, owner, model, size=size)
                found["instances"].append(inst)
            if version >= inst["versionNumber"]:
                inst.update(versionNumber=version, versionId=version * 1000, totalUncompressedBytes=size,
                            url=f"https://www.kaggle.com/models/{owner}/{model}/{framework}/{variation}/{version}")

    def storage_requests(self) -> list[Logged]:
        with self._lock:
            return list(self.storage)

    def leaks(self) -> list[Logged]:
        """Storage requests that carried an Authorization header: a Kaggle credential sent off the API."""
        return [r for r in self.storage_requests() if r.authorized]

    def clear(self) -> None:
        """Forget both request logs and zero the counters (the knobs stay)."""
        super().clear()
        with self._lock:
            self.requests.clear()
            self.storage.clear()

    def _record(self, entry: Logged) -> None:  # the bodies.py log: storage requests only
        with self._lock:
            self.storage.append(entry)

    def calls(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["path"].rsplit("/", 1)[-1] == method]

    # -- protocol -----------------------------------------------------------------
    def _handle(self, h: BodyHandler) -> None:
        if h.headers.get("Host", "").rsplit(":", 1)[0] == self.storage_host:
            return self._storage(h)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        with self._lock:
            self.requests.append({"method": h.command, "path": h.path, "headers": dict(h.headers), "body": body})
        if self.delay:
            time.sleep(self.delay)
        if self.fail_with:
            return self._error(h, self.fail_with, "Internal error" if self.fail_with >= 500 else "Failing on purpose")
        if self.fail_in_body:
            return self._send(h, 200, {"code": self.fail_in_body, "message": "Failing on purpose, in the body"})
        prefix = f"/api/v1/{SERVICE}/"
        datasets = f"/api/v1/{DATASET_SERVICE}/"
        if h.command == "POST" and h.path.startswith(datasets):
            prefix = datasets
        if h.command != "POST" or not h.path.startswith(prefix):
            return self._error(h, 404, f"No route for {h.command} {h.path}")
        if "application/json" not in (h.headers.get("Content-Type") or ""):
            return self._error(h, 400, "Content-Type must be application/json")
        if not isinstance(body, dict):
            return self._error(h, 400, "Invalid JSON body")
        header = h.headers.get("Authorization") or ""
        if header and not self._authorised(header):
            return self._error(h, 401, "Unauthenticated")
        method = h.path[len(prefix):]
        anonymous = not header
        if anonymous and method not in ANONYMOUS:
            return self._error(h, 401, "Unauthenticated")
        if prefix == datasets:
            if anonymous and f"{body.get('ownerSlug')}/{body.get('datasetSlug')}" in self.forbidden_datasets:
                return self._error(h, 403, "Permission 'datasets.get' was denied")
            return self._dataset_call(h, method, body)
        if method == "ListModels":
            return self._send(h, 200, self._list(body))
        if method == "GetModel":
            ref = f"{body.get('ownerSlug')}/{body.get('modelSlug')}"
            for m in self.models:
                if m["ref"] == ref:
                    return self._send(h, 200, m)
            return self._error(h, 404, f"Model {ref} not found")
        if method in ("GetModelInstance", "ListModelInstanceVersionFiles", "DownloadModelInstanceVersion"):
            return self._instance_call(h, method, body, anonymous=anonymous)
        return self._error(h, 404, f"Unknown method {method}")

    def _instance_call(self, h: BaseHTTPRequestHandler, method: str, body: dict[str, Any], *,
                       anonymous: bool = False) -> None:
        if anonymous and f"{body.get('ownerSlug')}/{body.get('modelSlug')}" in self.private:
            return self._error(h, 403, "Permission 'models.get' was denied")
        enum = body.get("framework")
        if enum not in FRAMEWORK_ENUM:
            return self._error(h, 400, f"Invalid value for field 'framework': {enum!r}")
        key = (body.get("ownerSlug"), body.get("modelSlug"), enum, body.get("instanceSlug"))
        name = f"{key[0]}/{key[1]}/{FRAMEWORK_ENUM[enum]}/{key[3]}"
        with self._lock:
            versions = dict(self.versions.get(key, {}))  # type: ignore[arg-type]
        if not versions:
            return self._error(h, 404, f"Model instance {name} not found")
        if method == "GetModelInstance":
            latest = max(versions)
            owner, model = key[0], key[1]
            inst = _instance(str(key[3]), FRAMEWORK_ENUM[enum], latest, str(owner), str(model),
                             size=sum(versions[latest].sizes.values()))
            inst["framework"] = enum  # kagglesdk serializes the enum by its name
            return self._send(h, 200, inst)
        number = body.get("versionNumber")
        if method == "ListModelInstanceVersionFiles" and number is None:
            number = max(versions)  # optional there: the current version
        if not isinstance(number, int) or number not in versions:
            return self._error(h, 404, f"Model instance version {name}/{number} not found")
        version = versions[number]
        if method == "ListModelInstanceVersionFiles":
            names = sorted(version.sizes)
            size = int(body.get("pageSize") or 20)
            start = int(base64.b64decode(body["pageToken"]).decode()) if body.get("pageToken") else 0
            page = [{"name": n, "size": version.sizes[n], "creationDate": "2024-03-01T10:00:00.000Z"}
                    for n in names[start:start + size]]
            token = base64.b64encode(str(start + size).encode()).decode() if start + size < len(names) else ""
            return self._send(h, 200, {"files": page, "nextPageToken": token})
        if f"{name}/{number}" in self.forbidden:
            if anonymous:
                return self._error(h, 401, "Unauthenticated: sign in to accept this model's license terms")
            return self._error(h, 403, "You must accept this model's license terms before downloading it")
        path = body.get("path")
        if path is not None and path not in version.files:
            return self._error(h, 404, f"File {path} not found in {name}/{number}")
        return self._redirect(h, self._sign(f"/{STORAGE_BUCKET}/{version.model_id}/{version.version_id}/"
                                            + (path if path is not None else "bundle/archive.tar.gz")))

    def _sign(self, path: str) -> str:
        signature = secrets.token_urlsafe(24)
        expires = time.time() + self.link_ttl
        with self._lock:
            self._signed[signature] = expires
        query = urlencode({"GoogleAccessId": "web-data@kaggle-161607.iam.gserviceaccount.com",
                           "Expires": str(int(expires)), "Signature": signature})
        return f"{self.storage_url}{path}?{query}"

    def _redirect(self, h: BaseHTTPRequestHandler, location: str) -> None:
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    # -- the storage host --------------------------------------------------------------
    def _storage(self, h: BodyHandler) -> None:
        entry, path = h.begin()

        def xml(status: int, code: str, message: str) -> None:
            h.send_plain(status, (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                                  f"<Message>{message}</Message></Error>").encode(), "application/xml; charset=UTF-8")

        if h.gate(path, lambda status, retry_after: xml(status, "InternalError", "We encountered an internal error.")):
            return
        if entry.authorized:
            return xml(400, "InvalidArgument", "Cannot use multiple authentication mechanisms (a signed URL and Authorization)")
        signature = (parse_qs(urlsplit(h.path).query).get("Signature") or [""])[0]
        with self._lock:
            expires = self._signed.get(signature)
        if expires is None:
            return xml(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
        if time.time() > expires:
            return xml(400, "ExpiredToken", "The provided token has expired.")
        body = self._storage_body(path) or self._dataset_body(path)
        if body is None:
            return xml(404, "NoSuchKey", "The specified key does not exist.")
        md5 = base64.b64encode(bytes.fromhex(body.md5)).decode()
        with self._lock:
            crc = self._crc.get(path)
        if crc is None:
            crc = crc32c_b64(body.read_all())
            with self._lock:
                self._crc[path] = crc
        ctype = ("application/x-gzip" if path.endswith(".tar.gz") else "application/zip" if path.endswith(".zip")
                 else "application/octet-stream")
        send_body(h, body, key=path, etag=body.md5, ctype=ctype, headers={
            "x-goog-hash": f"crc32c={crc},md5={md5}",
            "x-goog-stored-content-length": str(body.size), "x-goog-storage-class": "STANDARD",
            "x-goog-generation": "1709287200000000", "Cache-Control": "private, max-age=0"})

    def _storage_body(self, path: str) -> Body | None:
        with self._lock:
            versions = [v for by in self.versions.values() for v in by.values()]
        for v in versions:
            base = f"/{STORAGE_BUCKET}/{v.model_id}/{v.version_id}/"
            if path.startswith(base):
                rest = path[len(base):]
                return v.archive if rest == "bundle/archive.tar.gz" else v.files.get(rest)
        return None

    def _authorised(self, header: str) -> bool:
        if header == f"Bearer {self.token}":
            return True
        if header.startswith("Basic "):
            try:
                user, _, key = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return False
            return (user, key) == self.basic
        return False

    def _list(self, body: dict[str, Any]) -> dict[str, Any]:
        words = str(body.get("search") or "").lower().split()
        hits = [m for m in self.models if all(w in " ".join((m["title"], m["subtitle"], m["ref"], m["description"])).lower() for w in words)]
        if body.get("owner"):
            hits = [m for m in hits if m["ref"].split("/")[0] == body["owner"]]
        if body.get("sortBy") == "LIST_MODELS_ORDER_BY_VOTE_COUNT":
            hits.sort(key=lambda m: -m["voteCount"])
        size = int(body.get("pageSize") or 20)
        start = int(base64.b64decode(body["pageToken"]).decode()) if body.get("pageToken") else 0
        page = hits[start : start + size]
        out: dict[str, Any] = {"models": page, "totalResults": len(hits)}
        if start + size < len(hits):
            out["nextPageToken"] = base64.b64encode(str(start + size).encode()).decode()
        return out

    def _send(self, h: BaseHTTPRequestHandler, code: int, data: Any) -> None:
        blob = json.dumps(data).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(blob)))
        h.end_headers()
        h.wfile.write(blob)

    def _error(self, h: BaseHTTPRequestHandler, code: int, message: str) -> None:
        self._send(h, code, {"code": code, "message": message})
