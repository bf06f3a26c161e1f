"""What a source is: its ``SourceSpec``, declared once by the source itself.

The id grammar (``zoofind.hubs.ids``), the search runner and the CLI read these declarations
and know no source by name. A plain class with slots, not a dataclass: every start-up
defines it (the specs are read on the offline search path), and a dataclass with this
many fields costs about a millisecond to define. Instances are immutable all the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.context import Context

_FIELDS = ("name", "title", "network", "searches", "replaces_snapshot", "ref_pattern", "example", "url_prefixes",
           "claims_bare_ids", "normalise", "ref_from_url", "family", "variant_of", "endpoint_variable",
           "default_endpoint", "active")


class SourceSpec:
    """Everything zoofind needs to know about a source without asking it anything.

    * ``name``: also the id prefix (``hf`` names ``hf:owner/name``); ``title``: for people.
    * ``network``: its answers need the network; offline it is not asked (and could send nothing anyway).
    * ``searches``: ``search`` adds records beyond the bundled catalog (else the catalog's snapshot
      of it is all it knows); ``replaces_snapshot``: a non-empty search answer is a full registry
      that supersedes the catalog's records of this source.
    * ``active(ctx)``: whether asking it could add anything now (cheap: no import of the source);
      None means always.
    * ``ref_pattern``: what a ref looks like once normalised (a regular expression matched in full);
      ``example``: an id for help texts; ``url_prefixes``: web addresses (lower case) whose path names
      a ref; ``claims_bare_ids``: a bare ``owner/name`` means this source; ``normalise``: typed ref ->
      canonical ref (raise ``UsageError`` to reject); ``ref_from_url``: URL path -> ref.
    * ``family``: ref -> the model family it belongs to, so near-ties of one family spread out.
    * ``variant_of``: ref -> the model it is one variant (one set of weights) of, for a source whose
      ids name variants (``resnet50.IMAGENET1K_V2`` of ``resnet50``): the model's own ref then names
      its default variant (the record marked ``extra.default``), and a bare name naming several
      variants of one model names the model.
    * ``endpoint_variable`` overrides ``default_endpoint`` (a mirror, a local test server).
    """

    __slots__ = _FIELDS
    name: str
    title: str
    network: bool
    searches: bool
    replaces_snapshot: bool
    ref_pattern: str
    example: str
    url_prefixes: tuple[str, ...]
    claims_bare_ids: bool
    normalise: Callable[[str], str] | None
    ref_from_url: Callable[[str], str] | None
    family: Callable[[str], str] | None
    variant_of: Callable[[str], str] | None
    endpoint_variable: str | None
    default_endpoint: str | None
    active: Callable[[Context], bool] | None

    def __init__(
        self, *, name: str, title: str, network: bool, searches: bool = False, replaces_snapshot: bool = False,
        ref_pattern: str = r"\S+", example: str = "", url_prefixes: tuple[str, ...] = (), claims_bare_ids: bool = False,
        normalise: Callable[[str], str] | None = None, ref_from_url: Callable[[str], str] | None = None,
        family: Callable[[str], str] | None = None, variant_of: Callable[[str], str] | None = None,
        endpoint_variable: str | None = None,
        default_endpoint: str | None = None, active: Callable[[Context], bool] | None = None,
    ) -> None:
        values = locals()
        for field in _FIELDS:
            object.__setattr__(self, field, values[field])

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"SourceSpec is immutable ({name})")

    def __repr__(self) -> str:
        return f"SourceSpec(name={self.name!r}, network={self.network}, searches={self.searches})"
