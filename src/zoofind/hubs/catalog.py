"""The bundled catalog as a source: curated resources and models plus the hub snapshots.

The search runner scores the catalog on its prebuilt index itself; this source serves
``catalog:<slug>`` lookups and `zoofind sources`. ``--source catalog`` means everything
the catalog holds, whatever the id prefix (the survey's resources, the curated models,
the torchvision and TF Hub snapshots, ZOOFIND_CATALOG_DIR's entries): what `sources`
counts, searched without the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from .. import catalog as catalog_mod
from ..models.records import ParsedId, Record
from .base import SourceAnswer, SourceStatus
from .ids import variant_model
from .spec import SourceSpec

if TYPE_CHECKING:
    from ..core.context import Context
    from ..models.files import FileEntry
    from . import Registry, SearchQuery

SPEC = SourceSpec(
    name=catalog_mod.SOURCE,
    title="Bundled catalog: every entry it holds, any id prefix (survey resources, curated science models, torchvision "
          "and TF Hub snapshots, ZOOFIND_CATALOG_DIR)",
    network=False,
    ref_pattern=r"[a-z0-9][a-z0-9-]*",
    example="catalog:<slug>",
)


class CatalogSource:
    spec = SPEC

    def search(self, query: SearchQuery, ctx: Context) -> SourceAnswer:
        return SourceAnswer(tuple(catalog_mod.load(ctx).all_records()), origin="bundled")

    def info(self, pid: ParsedId, ctx: Context) -> Record | None:
        return catalog_mod.load(ctx).get(str(pid))

    def files(self, pid: ParsedId, ctx: Context) -> Sequence[FileEntry]:
        return ()

    def status(self, ctx: Context, *, probe: bool = True) -> SourceStatus:
        cat = catalog_mod.load(ctx)
        return SourceStatus(
            SPEC.name, SPEC.title, str(catalog_mod.COMPILED_PATH), network=False, reachable=True,
            details=(("records", str(cat.total)),
                     *((("your entries", str(cat.user_count)),) if cat.user_count else ())),
        )


def aliases(records: Iterable[Record]) -> dict[str, str]:
    """The ids that name another record, as the hubs declare them: a model's own id names its
    default variant (``SourceSpec.variant_of``; ``torchvision:resnet50`` ->
    ``torchvision:resnet50.IMAGENET1K_V2``). ``scripts/build_catalog.py`` compiles them in."""
    out = {}
    for r in records:
        model = variant_model(r.id) if r.extra.get("default") else None
        if model is not None and model != r.id:
            out[model] = r.id
    return out


def register(registry: Registry) -> None:
    registry.register(SPEC, CatalogSource)
