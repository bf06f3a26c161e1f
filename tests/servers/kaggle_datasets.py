"""Kaggle's dataset service for the local Kaggle server (``kaggle_server.KaggleServer`` mixes it in).

kagglesdk 0.1.38 (``datasets/services/dataset_api_service.py``) calls ``POST
{endpoint}/api/v1/datasets.DatasetApiService/<Method>`` with camelCase JSON, as for models:

* ``ListDatasets`` (``search``, ``sortBy`` ``DATASET_SORT_BY_*``, ``license``
  ``DATASET_LICENSE_GROUP_*``, ``pageSize``, ``pageToken``): ``{"datasets": [ApiDataset...],
  "nextPageToken": "..."}`` (the token left out on the last page).
* ``GetDataset`` (``ownerSlug``, ``datasetSlug``): one ApiDataset (``ref``, ``title``,
  ``subtitle``, ``description``, ``licenseName``, ``totalBytes``, ``currentVersionNumber``,
  ``tags`` as ApiCategory objects, ``versions``...).
* ``ListDatasetFiles`` (+ ``datasetVersionNumber``, ``pageSize``, ``pageToken``):
  ``{"datasetFiles": [{"ref", "name", "totalBytes", "creationDate"}], "nextPageToken"}``.
* ``DownloadDataset`` (+ ``datasetVersionNumber``; ``fileName`` for one file): 302 to a
  signed storage URL, ``/kaggle-data-sets/<dataset id>/<version id>/bundle/archive.zip`` for the
  whole version (a zip, whatever the files: Kaggle zips even a single-file dataset), the file
  itself for ``fileName``.

Unknown dataset or version: 404 with Kaggle's error body; a dataset in ``forbidden_datasets``
(``owner/name``: its rules not accepted, or private to another account): 403.
"""

from __future__ import annotations

import base64
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from .bodies import Body

DATASET_SERVICE = "datasets.DatasetApiService"
DATASET_BUCKET = "kaggle-data-sets"
ARCHIVE = "bundle/archive.zip"


def zipped(files: dict[str, bytes]) -> bytes:
    """The whole-version download of ``files``, as Kaggle sends it: one zip, deflated."""
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data)
    return raw.getvalue()


@dataclass
class DatasetVersion:
    files: dict[str, Body]
    archive: Body
    dataset_id: int
    version_id: int
    sizes: dict[str, int]


def api_dataset(did: int, owner: str, name: str, version: int, size: int, **meta: Any) -> dict[str, Any]:
    """An ApiDataset as GetDataset and ListDatasets answer it."""
    tags = meta.get("tags", ["Biology"])
    return {
        "id": did, "ref": f"{owner}/{name}", "title": meta.get("title", name.replace("-", " ").title()),
        "subtitle": meta.get("subtitle", ""), "creatorName": owner.title(), "creatorUrl": owner,
        "totalBytes": size, "url": f"https://www.kaggle.com/datasets/{owner}/{name}",
        "lastUpdated": "2024-03-01T10:00:00.000Z", "downloadCount": meta.get("downloads", 10), "isPrivate": False,
        "isFeatured": False, "licenseName": meta.get("license", "CC0: Public Domain"),
        "description": meta.get("description", ""), "ownerName": owner.title(), "ownerRef": owner, "kernelCount": 0,
        "topicCount": 0, "viewCount": 100, "voteCount": meta.get("votes", 1), "currentVersionNumber": version,
        "usabilityRating": 0.875,
        "tags": [{"ref": t.lower().replace(" ", "-"), "name": t, "fullPath": f"subject > {t.lower()}"} for t in tags],
        "files": [], "versions": [], "thumbnailImageUrl": "",
    }


class DatasetRoutes:
    """The dataset service's state and routes; the host class supplies ``_lock``, ``_next_id``, ``_send``,
    ``_error``, ``_redirect`` and ``_sign``."""

    def _init_datasets(self) -> None:
        #: (owner, name) -> {version: DatasetVersion}
        self.datasets: dict[tuple[str, str], dict[int, DatasetVersion]] = {}
        #: (owner, name) -> its ApiDataset
        self.dataset_meta: dict[tuple[str, str], dict[str, Any]] = {}
        #: "owner/name" whose downloads are refused (403)
        self.forbidden_datasets: set[str] = set()

    def add_dataset(self, handle: str, files: dict[str, bytes], archive: bytes | None = None, **meta: Any) -> DatasetVersion:
        """Serve ``owner/name/version`` and make it the current version (``meta``: title, subtitle,
        description, license, tags, votes, downloads of its ApiDataset)."""
        owner, name, number = handle.split("/")
        with self._lock:  # type: ignore[attr-defined]
            self._next_id += 1  # type: ignore[attr-defined]
            did = self._next_id  # type: ignore[attr-defined]
            known = self.dataset_meta.get((owner, name))
            entry = DatasetVersion({n: Body(d) for n, d in files.items()}, Body(archive if archive is not None else zipped(files)),
                                   known["id"] if known else did, did * 10 + int(number), {n: len(d) for n, d in files.items()})
            self.datasets.setdefault((owner, name), {})[int(number)] = entry
            current = max(self.datasets[(owner, name)])
            size = sum(self.datasets[(owner, name)][current].sizes.values())
            merged = {**({} if known is None else {"title": known["title"], "subtitle": known["subtitle"],
                                                   "description": known["description"]}), **meta}
            self.dataset_meta[(owner, name)] = api_dataset(entry.dataset_id, owner, name, current, size, **merged)
        return entry

    def _dataset_call(self, h: Any, method: str, body: dict[str, Any]) -> None:
        if method == "ListDatasets":
            return self._send(h, 200, self._list_datasets(body))  # type: ignore[attr-defined]
        key = (str(body.get("ownerSlug")), str(body.get("datasetSlug")))
        name = "/".join(key)
        with self._lock:  # type: ignore[attr-defined]
            meta = self.dataset_meta.get(key)
            versions = dict(self.datasets.get(key, {}))
        if meta is None:
            return self._error(h, 404, f"Dataset {name} not found")  # type: ignore[attr-defined]
        if method == "GetDataset":
            return self._send(h, 200, meta)  # type: ignore[attr-defined]
        number = body.get("datasetVersionNumber")
        if number is None:
            number = max(versions)  # optional: the current version
        if not isinstance(number, int) or number not in versions:
            return self._error(h, 404, f"Dataset version {name}/{number} not found")  # type: ignore[attr-defined]
        version = versions[number]
        if method == "ListDatasetFiles":
            names = sorted(version.sizes)
            size = int(body.get("pageSize") or 20)
            start = int(base64.b64decode(body["pageToken"]).decode()) if body.get("pageToken") else 0
            page = [{"ref": n, "name": n, "totalBytes": version.sizes[n], "creationDate": "2024-03-01T10:00:00.000Z"}
                    for n in names[start:start + size]]
            out: dict[str, Any] = {"datasetFiles": page}
            if start + size < len(names):
                out["nextPageToken"] = base64.b64encode(str(start + size).encode()).decode()
            return self._send(h, 200, out)  # type: ignore[attr-defined]
        if method != "DownloadDataset":
            return self._error(h, 404, f"Unknown method {method}")  # type: ignore[attr-defined]
        if name in self.forbidden_datasets:
            return self._error(h, 403, "You must accept this dataset's rules before downloading it")  # type: ignore[attr-defined]
        path = body.get("fileName")
        if path is not None and path not in version.files:
            return self._error(h, 404, f"File {path} not found in {name}/{number}")  # type: ignore[attr-defined]
        base = f"/{DATASET_BUCKET}/{version.dataset_id}/{version.version_id}/"
        return self._redirect(h, self._sign(base + (path if path is not None else ARCHIVE)))  # type: ignore[attr-defined]

    def _dataset_body(self, path: str) -> Body | None:
        with self._lock:  # type: ignore[attr-defined]
            versions = [v for by in self.datasets.values() for v in by.values()]
        for v in versions:
            base = f"/{DATASET_BUCKET}/{v.dataset_id}/{v.version_id}/"
            if path.startswith(base):
                rest = path[len(base):]
                return v.archive if rest == ARCHIVE else v.files.get(rest)
        return None

    def _list_datasets(self, body: dict[str, Any]) -> dict[str, Any]:
        words = str(body.get("search") or "").lower().split()
        with self._lock:  # type: ignore[attr-defined]
            every = list(self.dataset_meta.values())
        hits = [d for d in every if all(w in " ".join((d["title"], d["subtitle"], d["ref"], d["description"])).lower()
                                        for w in words)]
        if body.get("sortBy") == "DATASET_SORT_BY_VOTES":
            hits.sort(key=lambda d: -d["voteCount"])
        size = int(body.get("pageSize") or 20)
        start = int(base64.b64decode(body["pageToken"]).decode()) if body.get("pageToken") else 0
        out: dict[str, Any] = {"datasets": hits[start:start + size]}
        if start + size < len(hits):
            out["nextPageToken"] = base64.b64encode(str(start + size).encode()).decode()
        return out
