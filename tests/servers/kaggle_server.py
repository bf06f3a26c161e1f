"""A local Kaggle public API speaking kagglesdk's protocol for the models service.

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

``token`` and ``basic`` are the accepted credentials; ``fail_with`` forces an error status
on every call; ``fail_in_body`` answers every call HTTP 200 with that error code in the
body (kagglesdk reads the body's ``code``, whatever the status line says); ``delay`` holds
each answer back; ``requests`` logs method, path, headers and the decoded body of each call.
"""

from __future__ import annotations

import base64
import json
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from .loopback import LoopbackServer, QuietHandler

SERVICE = "models.ModelApiService"


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


class KaggleServer(LoopbackServer):
    def __init__(self, token: str = "tok-good", basic: tuple[str, str] = ("alice", "key-good"), delay: float = 0.0) -> None:
        self.token = token
        self.basic = basic
        self.delay = delay
        self.fail_with: int | None = None
        self.fail_in_body: int | None = None
        self.models = default_models()
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802
                server._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                server._handle(self)

        self._listen(Handler)

    def calls(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["path"].endswith(f"/{SERVICE}/{method}")]

    # -- protocol -----------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
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
        if h.command != "POST" or not h.path.startswith(prefix):
            return self._error(h, 404, f"No route for {h.command} {h.path}")
        if "application/json" not in (h.headers.get("Content-Type") or ""):
            return self._error(h, 400, "Content-Type must be application/json")
        if not isinstance(body, dict):
            return self._error(h, 400, "Invalid JSON body")
        if not self._authorised(h.headers.get("Authorization") or ""):
            return self._error(h, 401, "Unauthenticated")
        method = h.path[len(prefix):]
        if method == "ListModels":
            return self._send(h, 200, self._list(body))
        if method == "GetModel":
            ref = f"{body.get('ownerSlug')}/{body.get('modelSlug')}"
            for m in self.models:
                if m["ref"] == ref:
                    return self._send(h, 200, m)
            return self._error(h, 404, f"Model {ref} not found")
        return self._error(h, 404, f"Unknown method {method}")

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
