"""The bundled catalog as a source: curated resources and models plus the hub snapshots."""

from __future__ import annotations

from typing import Sequence

from .. import catalog as catalog_mod
from ..records import ParsedId, Record
from . import Registry, SearchQuery
from .base import SourceAnswer
from .base import FileEntry, SourceStatus


class CatalogSource:
    name = "catalog"
    title = "Bundled catalog (survey resources, curated science models, torchvision and TF Hub snapshots)"
    live = False

    def search(self, query: SearchQuery) -> SourceAnswer:
        # Ranking of catalog documents happens in search.py on the prebuilt index;
        # this path is for callers that want the records themselves.
        return SourceAnswer(tuple(catalog_mod.load().all_records()), origin="bundled")

    def info(self, pid: ParsedId, *, offline: bool = False, timeout: float = 8.0) -> Record | None:
        return catalog_mod.load().get(str(pid))

    def files(self, pid: ParsedId, *, timeout: float = 8.0) -> Sequence[FileEntry]:
        return ()

    def status(self, *, probe: bool = True, timeout: float = 3.0) -> SourceStatus:
        cat = catalog_mod.load()
        return SourceStatus(
            self.name, self.title, str(catalog_mod.COMPILED_PATH), live=False, reachable=True,
            details=(("records", str(len(cat) + len(cat.extras))),),
        )


def register(registry: Registry) -> None:
    registry.register("catalog", CatalogSource)
