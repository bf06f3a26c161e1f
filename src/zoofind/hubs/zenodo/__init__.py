"""Zenodo records as a source: ``zenodo:<record>[/<file key>]``, the science community's DOI-backed repository.

What was read to build it (the service itself was not reachable here; sources as stored):

* Zenodo runs InvenioRDM (``zenodo/zenodo-rdm``); ``GET /api/records/{id}`` answers the "legacy"
  Zenodo JSON (``site/zenodo_rdm/legacy/serializers/schemas/zenodojson.py``, ``common.py``):
  ``id``, ``recid``, ``conceptrecid``, ``doi``, ``conceptdoi``, ``doi_url``, ``title``, ``created``,
  ``updated``, ``links`` (``self``, ``self_html``, ``files``, ``latest``, ``versions``...),
  ``metadata`` (``title``, ``publication_date``, ``description`` as HTML, ``creators`` of
  ``{"name": "Family, Given", "affiliation", "orcid"}``, ``keywords``, ``license`` ``{"id":
  "cc-by-4.0"}``, ``resource_type`` ``{"type", "subtype", "title"}``, ``related_identifiers``,
  ``version``, ``relations.version[0]`` ``{"index", "is_last", "parent"}``), ``stats`` and
  ``files``: ``[{"id", "key", "size", "checksum": "md5:<hex>", "links": {"self":
  "{api}/records/{id}/files/{key}/content"}}]``. MD5 is the only checksum Zenodo publishes.
* Errors are Invenio's ``{"status", "message"}`` bodies: 404 "The persistent identifier does not
  exist."; a deleted record 410 "Record deleted" with its ``tombstone`` (404 when the tombstone
  is hidden). ``/api/records/{id}/versions/latest`` answers 302 to the latest version's record;
  a concept record id (``conceptrecid``) is redirected to its latest version too.
* ``GET /api/records?q=&type=&size=&page=&sort=`` searches: ``{"hits": {"hits": [...], "total"},
  "links": {"next"...}}``. Since November 2025 a page holds at most 25 records for anonymous
  requests, and search allows 30 requests a minute (the rest of the API 60 a minute, 2000 an
  hour); a 429 says ``Retry-After`` and ``X-RateLimit-*`` (developers.zenodo.org, the Zenodo blog).
* zenodo_get (``dvolgyes/zenodo_get``) downloads ``links.self`` of each file and checks its MD5.

Decisions:

* A Zenodo version is a record of its own (its own id and DOI, under one concept id). So
  ``zenodo:<id>`` names exactly that record; ``zenodo:<id>@latest`` the latest version of its
  concept (the only revision word); the lock pins the exact record id as its commit. An id that
  Zenodo answers with another record (a concept id) is pinned to the record it answered.
* No framework reads Zenodo, so files go to zoofind's own store (``layout``):
  ``<zoofind cache>/store/zenodo/<record>/<file key>``, ``--dest`` links them where wanted.
  Each file is checked against Zenodo's size and MD5 while the engine computes its SHA-256,
  which the lock records.

Modules: ``api`` (URLs, calls, error bodies), ``record`` (reading a record's JSON), ``layout``,
``source`` (search, info, status), ``pull`` (pull and lock), ``cache``, ``bundle``, ``cite``.
This module only declares the source (it is imported on the offline search path).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ...core.errors import UsageError
from .. import lazy
from ..spec import SourceSpec

if TYPE_CHECKING:
    from .. import Registry

DEFAULT_ENDPOINT = "https://zenodo.org"
#: A record id, optionally one of its files by key (``123456/model.pth``).
REF_PATTERN = r"[0-9]{1,12}(?:/[^\s/][^\s]{0,254})?"
_DOI = re.compile(r"(?:doi:)?10\.5281/zenodo\.([0-9]{1,12})", re.I)


def normalise(ref: str) -> str:
    """A Zenodo DOI (``10.5281/zenodo.123``) names its record; a ref keeps its file key as written."""
    ref = ref.strip()
    m = _DOI.fullmatch(ref)
    if m:
        return m[1]
    if _DOI.match(ref):
        raise UsageError(f"{ref!r} is a Zenodo DOI with something after it",
                         hint="name a file of a record as zenodo:<record>/<file key>")
    return ref


def ref_from_url(path: str) -> str:
    """``123`` or ``123/files/model.pth`` (a record's page, a file's address) -> ``123`` / ``123/model.pth``."""
    record, _, rest = path.partition("/")
    rest = rest.removesuffix("/content")
    return f"{record}/{rest[len('files/'):]}" if rest.startswith("files/") else record


def record_of(ref: str) -> str:
    """``123/model.pth`` -> ``123``."""
    return ref.split("/", 1)[0]


SPEC = SourceSpec(
    name="zenodo",
    title="Zenodo (records of the science community's DOI-backed repository: models published as files)",
    network=True,
    searches=True,
    ref_pattern=REF_PATTERN,
    example="zenodo:10818413",
    url_prefixes=("https://zenodo.org/records/", "https://zenodo.org/record/", "zenodo.org/records/",
                  "https://zenodo.org/api/records/", "https://doi.org/10.5281/zenodo.", "doi.org/10.5281/zenodo."),
    ref_from_url=ref_from_url,
    normalise=normalise,
    family=record_of,
    endpoint_variable="ZOOFIND_ZENODO_ENDPOINT",
    default_endpoint=DEFAULT_ENDPOINT,
)


def register(registry: Registry) -> None:
    registry.register(
        SPEC,
        lazy(f"{__name__}.source", "ZenodoSource"),
        pull=lazy(f"{__name__}.pull", "ZenodoPull"),
        lock=lazy(f"{__name__}.pull", "ZenodoLock"),
        cache=lazy(f"{__name__}.cache", "ZenodoCache"),
        bundle=lazy(f"{__name__}.bundle", "ZenodoBundles"),
        cite=lazy(f"{__name__}.cite", "ZenodoCite"),
    )
