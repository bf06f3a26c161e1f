"""GitHub release assets as a source: ``ghrelease:<owner>/<repo>/<tag>[/<asset>]``.

Many science models are published only as files attached to a GitHub release (MACE's foundation
models, ...). The id reads as the asset's address does (``github.com/<owner>/<repo>/releases/
download/<tag>/<asset>``, which it also accepts); without an asset it names every asset of the
release. A tag holding ``/`` is not supported (the id could not tell it from the asset).

What was read to build it (GitHub itself was not reachable here): the REST API's releases and
release-assets pages (``GET /repos/{o}/{r}/releases/tags/{tag}``, ``.../releases/assets/{id}``
with ``Accept: application/octet-stream`` answering 302 to the storage host), GitHub's changelog of
2025-06-03 (assets carry ``digest: "sha256:<hex>"``, null on older ones) and others' clients of it
(go-github's ``ReleaseAsset.Digest``). ``net.github`` speaks the protocol, shared with the PyTorch
Hub source.

Decisions:

* No library reads GitHub releases generally: each that downloads its own assets keeps its own folder
  and names. The assets a table of ``loaders`` lists (one TOML file per library: mace-torch's
  foundation models, read from ``$XDG_CACHE_HOME/mace/<name with only letters, digits and _>``) go
  exactly there, so the library's own call loads them with no request; every other asset goes to
  zoofind's own store, ``<zoofind cache>/store/ghrelease/<owner>/<repo>/<tag>/<asset>`` (``layout``),
  and ``--dest`` links it where a tool looks.
* Each asset is checked against its size and GitHub's sha256 digest. An asset without a digest
  (uploaded before June 2025) is checked by its size only, and the pull says so: the lock then
  pins the sha256 computed as it arrived, which every later pull from the lock is held to.
* The lock pins the release's id as its commit: a tag deleted and made again is another release.

Modules: ``release`` (a release's JSON read where it enters), ``loaders`` (the libraries' folders,
as data), ``layout``, ``source`` (info,
status; search is the catalog's), ``pull`` (pull and lock), ``cache``, ``bundle``, ``cite``
(the repository's ``CITATION.cff`` at the tag). This module only declares the source (it is
imported on the offline search path).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...core.errors import UsageError
from .. import lazy
from ..spec import SourceSpec

if TYPE_CHECKING:
    from .. import Registry

DEFAULT_ENDPOINT = "https://api.github.com"
_NAME = r"(?!\.\.?/)[A-Za-z0-9_.-]{1,100}"
_TAG = r"(?!\.\.?(?:/|$))[A-Za-z0-9_.+-]{1,200}"
_ASSET = r"(?!\.)[^\s/\\]{1,255}"
REF_PATTERN = rf"{_NAME}/{_NAME}/{_TAG}(?:/{_ASSET})?"


@dataclass(frozen=True)
class ReleaseRef:
    owner: str
    repo: str
    tag: str
    asset: str | None = None

    @property
    def release_id(self) -> str:
        """The id of the whole release."""
        return f"{SPEC.name}:{self.owner}/{self.repo}/{self.tag}"


def read_ref(ref: str) -> ReleaseRef:
    m = re.fullmatch(rf"({_NAME})/({_NAME})/({_TAG})(?:/({_ASSET}))?", ref)
    if m is None:
        raise UsageError(f"malformed {SPEC.name} id {ref!r}", hint=f"ids look like {SPEC.example}")
    return ReleaseRef(*m.groups())


def ref_from_url(path: str) -> str:
    """``o/r/releases/download/<tag>/<asset>`` and ``o/r/releases/tag/<tag>`` -> the ref."""
    parts = path.split("/")
    if len(parts) == 6 and parts[2:4] == ["releases", "download"]:
        return "/".join(parts[:2] + parts[4:])
    if len(parts) == 5 and parts[2:4] == ["releases", "tag"]:
        return "/".join(parts[:2] + parts[4:])
    raise UsageError(f"github.com/{path} is not a release's asset or tag page",
                     hint="give the asset's address (.../releases/download/<tag>/<asset>) or "
                          f"{SPEC.name}:<owner>/<repo>/<tag>[/<asset>]")


def family(ref: str) -> str:
    """Every asset of a repository's releases is one family."""
    return "/".join(ref.split("/")[:2])


SPEC = SourceSpec(
    name="ghrelease",
    title="GitHub release assets (models published as files attached to a repository's release)",
    network=True,  # info and pull ask GitHub's API; searches use the catalog's entries
    searches=False,
    ref_pattern=REF_PATTERN,
    example="ghrelease:owner/repo/tag[/asset]",
    url_prefixes=("https://github.com/", "github.com/"),
    ref_from_url=ref_from_url,
    family=family,
    endpoint_variable="ZOOFIND_GITHUB_ENDPOINT",
    default_endpoint=DEFAULT_ENDPOINT,
)


def register(registry: Registry) -> None:
    registry.register(
        SPEC,
        lazy(f"{__name__}.source", "ReleaseSource"),
        pull=lazy(f"{__name__}.pull", "ReleasePull"),
        lock=lazy(f"{__name__}.pull", "ReleaseLock"),
        cache=lazy(f"{__name__}.cache", "ReleaseCache"),
        bundle=lazy(f"{__name__}.bundle", "ReleaseBundles"),
        cite=lazy(f"{__name__}.cite", "ReleaseCite"),
    )
