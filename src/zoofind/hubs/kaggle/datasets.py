"""Kaggle datasets: the dataset service's RPCs as kagglesdk calls them, and ApiDataset JSON -> ``Record``.

Protocol (kagglesdk 0.1.38, ``datasets/services/dataset_api_service.py`` and
``datasets/types/dataset_api_service.py``), spoken through ``api.call`` (POST JSON to
``{api}/v1/datasets.DatasetApiService/<Method>``, Kaggle's error bodies read as for models):

* ``ListDatasets`` takes ``search``, ``sortBy`` (``DATASET_SORT_BY_*``), ``license``
  (``DATASET_LICENSE_GROUP_*``), ``pageSize``, ``pageToken``, and answers
  ``{"datasets": [ApiDataset...], "nextPageToken": "..."}``.
* ``GetDataset`` (``ownerSlug``, ``datasetSlug``) answers one ApiDataset: ``ref``
  ("owner/slug"), ``title``, ``subtitle``, ``description``, ``licenseName``, ``totalBytes``,
  ``downloadCount``, ``voteCount``, ``lastUpdated``, ``usabilityRating``, ``tags`` (ApiCategory
  objects), ``currentVersionNumber`` (what kagglehub's ``_get_current_version`` reads for a
  handle without a version).
* ``DownloadDataset`` (``ownerSlug``, ``datasetSlug``, ``datasetVersionNumber``) answers a
  redirect to a signed storage URL serving the version as one zip archive, whatever its files
  (kagglehub 1.0's ``DatasetHttpResolver``: downloaded to ``<version>.archive``, extracted,
  deleted). zoofind reads the ``Location`` without following it (``api.redirect_link``).

A record's id is ``kaggle:datasets/owner/slug``, kind ``dataset``; its current version is in
``extra``. An ApiDataset is validated where it enters (``trimmed_dataset``), as ApiModels are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...core.redaction import redact_url
from ...models.records import Record
from .. import FieldReader, Repairs, SearchQuery, json_date, json_int, json_text, read_fields
from . import DATASETS
from .mapping import WEB, license_key, plain_text, tag_names, tasks_of

if TYPE_CHECKING:
    from ...net.http import Session
    from .auth import Credentials

SERVICE = "datasets.DatasetApiService"
EVIDENCE = "Kaggle Datasets API (datasets.DatasetApiService)"
KIND = "dataset"
#: Datasets per ListDatasets page.
PAGE_SIZE = 50
NOT_FOUND_HINT = ("check the handle (datasets/owner/name[/version]) with `zoofind search --source kaggle` "
                  "or on kaggle.com/datasets")
_PART = r"[A-Za-z0-9_.-]+"

#: zoofind --sort -> DatasetSortBy (kagglesdk's datasets/types/dataset_enums.py); relevance: the server's own.
SORT_BY = {"likes": "DATASET_SORT_BY_VOTES", "updated": "DATASET_SORT_BY_UPDATED",
           "downloads": "DATASET_SORT_BY_HOTTEST"}
#: A licence key's start -> DatasetLicenseGroup (the only licence filter the listing has).
LICENSE_GROUP = {"cc": "DATASET_LICENSE_GROUP_CC", "gpl": "DATASET_LICENSE_GROUP_GPL",
                 "odb": "DATASET_LICENSE_GROUP_ODB"}


@dataclass(frozen=True)
class DatasetHandle:
    """``datasets/owner/name[/version]``, spelled as given: kagglehub names its folders after it."""

    owner: str
    name: str
    #: None: the current version (kagglehub: a version of 0 or none at all)
    version: int | None = None

    @classmethod
    def parse(cls, ref: str) -> DatasetHandle:
        _, owner, name, *rest = ref.split("/")  # ids.parse checked the shape
        version = int(rest[0]) if rest else 0
        return cls(owner, name, version or None)

    def at(self, version: int) -> DatasetHandle:
        return DatasetHandle(self.owner, self.name, version)

    @property
    def ref(self) -> str:
        return f"{self.owner}/{self.name}"

    def __str__(self) -> str:
        return f"{DATASETS}/{self.ref}" + (f"/{self.version}" if self.version else "")

    @property
    def kagglehub(self) -> str:
        """The handle as ``kagglehub.dataset_download`` takes it (``owner/name/versions/<n>``)."""
        return self.ref + (f"/versions/{self.version}" if self.version else "")

    @property
    def page(self) -> str:
        """The dataset's page on kaggle.com (where its terms are accepted)."""
        return f"{WEB}/{DATASETS}/{self.ref}"


def list_body(query: SearchQuery) -> dict[str, Any]:
    """The ListDatasets request for a query (its first page)."""
    body: dict[str, Any] = {"pageSize": PAGE_SIZE}
    if text := query.text.strip():
        body["search"] = text
    if query.sort in SORT_BY:
        body["sortBy"] = SORT_BY[query.sort]
    if query.license:
        group = next((g for key, g in LICENSE_GROUP.items() if query.license.lower().startswith(key)), None)
        if group is not None:
            body["license"] = group
    return body


def list_datasets(s: Session, endpoint: str, body: dict[str, Any], creds: Credentials) -> Iterator[list[Any]]:
    """The pages of a ListDatasets listing (each a list of raw ApiDatasets); stop iterating to stop asking."""
    from . import api  # lazy: the HTTP stack only when the answers cache cannot answer (search start-up)

    return api.pages(s, endpoint, "ListDatasets", "datasets", body, creds, SERVICE)


def get_dataset(s: Session, endpoint: str, h: DatasetHandle, creds: Credentials | None) -> dict[str, Any]:
    from . import api  # lazy: the HTTP stack only when the answers cache cannot answer (info start-up)

    return api.call(s, endpoint, "GetDataset", {"ownerSlug": h.owner, "datasetSlug": h.name}, creds,
                    what=f"dataset {h.ref}", page=h.page, service=SERVICE, hint=NOT_FOUND_HINT)


def download_link(s: Session, endpoint: str, h: DatasetHandle, version: int, creds: Credentials | None) -> str:
    """Where the version's zip is to be fetched from: DownloadDataset's redirect, not followed."""
    from . import api  # lazy: only when fetching: off pull --offline start-up

    request = {"ownerSlug": h.owner, "datasetSlug": h.name, "datasetVersionNumber": version}
    return api.redirect_link(s, api.rpc_url(endpoint, "DownloadDataset", SERVICE), request, creds,
                             what=f"version {version} of dataset {h.ref}", page=h.page, hint=NOT_FOUND_HINT)


#: The schema of what zoofind reads of an ApiDataset (``trimmed_dataset``): field -> reader.
_FIELDS: dict[str, FieldReader] = {
    **dict.fromkeys(("ref", "title", "ownerName", "creatorName", "licenseName"), json_text(300)),
    "subtitle": json_text(500), "url": json_text(1000), "description": json_text(2000),
    **dict.fromkeys(("id", "totalBytes", "downloadCount", "voteCount", "currentVersionNumber"), json_int),
    "lastUpdated": json_date,
    "usabilityRating": lambda value, repairs: (float(value) if isinstance(value, int | float)
                                              and not isinstance(value, bool) else None),
}


def trimmed_dataset(data: Mapping[str, Any], repairs: Repairs | None = None) -> dict[str, Any]:
    """What the answers cache keeps of an ApiDataset, each field checked for its type (idempotent)."""
    out = read_fields(data, _FIELDS, repairs)
    out["tags"] = tag_names(data.get("tags"), repairs)
    return out


def dataset_record(data: Mapping[str, Any], repairs: Repairs | None = None) -> Record | None:
    """The record of one ApiDataset, or None when its ref is not ``owner/slug``."""
    d = trimmed_dataset(data, repairs) if isinstance(data, Mapping) else {}
    owner, _, slug = str(d.get("ref", "")).partition("/")
    if not (re.fullmatch(_PART, owner) and re.fullmatch(_PART, slug)):
        if repairs is not None:
            repairs.records += 1
        return None
    h = DatasetHandle(owner, slug)
    tags: list[str] = d["tags"]
    url = d.get("url", "")
    url = redact_url(url) if url.startswith(("http://", "https://")) else h.page
    extra: dict[str, Any] = {"kaggle_ref": h.ref, "author": d.get("ownerName") or d.get("creatorName")}
    if version := d.get("currentVersionNumber"):
        extra["version"] = version
        extra["handle"] = str(h.at(version))
    if d.get("usabilityRating") is not None:
        extra["usability_rating"] = d["usabilityRating"]
    summary = plain_text(d.get("description") or "")
    return Record(
        id=f"kaggle:{h}", source="kaggle", kind=KIND, name=d.get("title") or slug,
        description=". ".join(x for x in (str(d.get("subtitle") or "").rstrip("."), summary) if x),
        url=url, tasks=tasks_of(tags), libraries=("kagglehub",), license=license_key(d.get("licenseName")),
        gated=False, tags=tuple(dict.fromkeys([*tags, owner, "kaggle", KIND])), size_bytes=d.get("totalBytes") or None,
        downloads=d.get("downloadCount"), likes=d.get("voteCount"), updated=d.get("lastUpdated"),
        reliability="generated", evidence=EVIDENCE, extra=extra,
    )
