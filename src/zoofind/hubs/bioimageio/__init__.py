"""The BioImage Model Zoo (bioimage.io) as a source: ``bioimageio:<id>[@<version>]``.

What was read to build it (sources as stored at the time; the service itself was not reachable here):

* The collection lives in the Hypha artifact manager (``amun-ai/hypha`` ``hypha/artifact.py``,
  ``docs/artifact-manager.md``): ``GET {hypha}/bioimage-io/artifacts/bioimage.io/children`` with
  ``pagination=true`` answers ``{"items", "total", "offset", "limit"}`` (``limit`` 1..1000); each
  item is ``{"id": "bioimage-io/<alias>", "type": "model", "manifest": <the rdf as JSON>,
  "versions": [{"version", "comment", "created_at"}], "download_count", "view_count",
  "created_at", "last_modified", ...}``. ``keywords`` (comma-separated, each matched against the
  whole manifest text, combined by ``mode``, AND by default), ``filters`` (JSON: ``{"type": "model"}``)
  and ``order_by`` (``created_at>``) are what the website sends (``bioimage-io/bioimage.io``
  ``src/store/hyphaStore.ts``), which hides ``manifest.status`` draft, in-review and in-revision.
  ``GET .../artifacts/<alias>[?version=v]`` answers one artifact; ``.../files/<path>?version=v`` a
  file, as a 307 redirect to a presigned S3 URL (or streamed through a proxy); FastAPI error
  bodies (``{"detail": ...}``): 404 "Artifact not found", 403 "Permission denied". Versions are
  named ``v0``, ``v1``... (``_get_version_index``), the last one is the latest.
* ``rdf.yaml`` 0.5 (``spec-bioimage-io`` ``example_descriptions/models/unet2d_nuclei_broad/
  bioimageio.yaml``; bioimageio.spec 0.5.14 ``model/v0_5.py``): ``name``, ``description``,
  ``authors`` (name, affiliation, orcid), ``license``, ``cite`` (text + ``doi`` or ``url``),
  ``tags``, ``covers`` and ``documentation`` (file sources without a sha256), ``inputs``/``outputs``
  with ``test_tensor`` and ``sample_tensor`` (source + sha256), ``weights.<format>`` (source +
  sha256; ``pytorch_state_dict`` also ``architecture`` and ``dependencies`` files) and
  ``attachments``. A source is a path relative to the rdf or an http(s) URL (the example's
  state dict is on files.ilastik.org). 0.4 descriptions write ``test_inputs``/``test_outputs``
  lists and ``architecture: file.py:Class``; both are read.
* Where bioimageio.spec keeps downloads (``_internal/_settings.py``, genericache 0.5.2
  ``disk_cache.py``): ``settings.cache_path``, ``BIOIMAGEIO_CACHE_PATH`` or
  ``platformdirs.user_cache_dir("bioimageio")``; one flat folder of
  ``entry__url_<sha256 of the URL>_contents_<sha256 of the bytes>``. ``_internal/io.py``
  ``_open_url`` asks it with the file's sha256: an entry of that URL and content is read with
  no request (offline too). A source without a sha256 (and the rdf.yaml itself, which
  ``load_description("<id>")`` always fetches again from ``collection_http_pattern``) is
  fetched every time. So the cache alone does not make a model load offline.

Hence the layout (``layout``): the model's package folder ``<cache_path>/packages/<id>/<version>/``
holds ``rdf.yaml`` and every file it names by a relative path, so that
``bioimageio.spec.load_description("<folder>/rdf.yaml")`` reads them from disk; files it names
by URL (with a sha256) go into bioimageio.spec's own cache entries beside it, where its reader
finds them with no request. ``.zoofind-package.json`` in the folder, written last, lists every
file (a folder without it is a pull in progress, not a model).

Modules: ``api`` (the Hypha calls and error bodies), ``rdf`` (reading a description: the files
it names, the record it makes), ``layout`` (where things land), ``source`` (search, info,
status), ``pull`` (pull and lock), ``cache`` and ``bundle``. This module only declares the
source (it is imported on the offline search path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import lazy
from ..spec import SourceSpec

if TYPE_CHECKING:
    from .. import Registry

DEFAULT_ENDPOINT = "https://hypha.aicell.io"
#: A Hypha alias: lower-case letters, digits and hyphens (``affable-shark``).
REF_PATTERN = r"[a-z0-9][a-z0-9-]{0,99}"


def ref_from_url(path: str) -> str:
    """``affable-shark/files/rdf.yaml`` (a Hypha address) or ``affable-shark`` -> ``affable-shark``."""
    return path.split("/", 1)[0]


SPEC = SourceSpec(
    name="bioimageio",
    title="BioImage Model Zoo (bioimage.io: the life-science community's curated models, through Hypha)",
    network=True,
    searches=True,
    ref_pattern=REF_PATTERN,
    example="bioimageio:affable-shark",
    url_prefixes=("https://bioimage.io/#/artifacts/", "bioimage.io/#/artifacts/",
                  "https://hypha.aicell.io/bioimage-io/artifacts/"),
    ref_from_url=ref_from_url,
    normalise=str.lower,
    endpoint_variable="ZOOFIND_BIOIMAGEIO_ENDPOINT",
    default_endpoint=DEFAULT_ENDPOINT,
)


def register(registry: Registry) -> None:
    registry.register(
        SPEC,
        lazy(f"{__name__}.source", "BioimageioSource"),
        pull=lazy(f"{__name__}.pull", "BioimageioPull"),
        lock=lazy(f"{__name__}.pull", "BioimageioLock"),
        cache=lazy(f"{__name__}.cache", "BioimageioCache"),
        bundle=lazy(f"{__name__}.bundle", "BioimageioBundles"),
    )
