"""Keras's models folder as ``cache ls/verify/rm/prune/path`` see it (``protocol.Caches``).

A model is one weights file (``$KERAS_HOME/models/<name>``, and each shared root's
``keras/models``), listed under the Keras id whose file it is (from the snapshot), else as
``file:<path>`` (``imagenet_class_index.json``, a dataset's file). Verify checks the hash Keras's
tables give for it (and Keras's md5 of the class index); a file they give none for is only read.
"""

from __future__ import annotations

import os
from pathlib import Path

from ... import catalog as catalog_mod
from ...caches import layout
from ...caches.flat import scan_files
from ...core.context import Context
from ...fetch.integrity import IntegrityError, hash_file, verify
from ...models.cache import CachedModel, Problem, Removal, Verified
from ...models.transfer import Expected
from ..protocol import InShared
from . import SPEC, classindex
from .home import PLACE, lock_path, models_dir, scan


class KerasCache(layout.PlainLayout):
    def scan(self, ctx: Context, tier: str, in_shared: InShared) -> list[CachedModel]:
        folders = PLACE.tiered(ctx.environ, tier)
        names = _names(ctx) if any(f.is_dir() for f in folders) else {}
        return scan_files(folders, scan, tier, in_shared, SPEC.name, lambda name: names.get(name, ("", ""))[0] or None)

    def matches(self, model: CachedModel, rid: str) -> bool:
        """An application's name (``keras:MobileNet``) names each of its cached variants."""
        return model.id.split("/", 1)[0].lower() == rid.lower()

    def verify(self, model: CachedModel) -> Verified:
        f = Path(model.path)
        digest = _names(None).get(f.name, ("", ""))[1]  # the process's catalog: verify gets no context
        problems: tuple[Problem, ...] = ()
        if digest:
            expected = Expected(sha256=digest) if len(digest) == 64 else Expected(md5=digest)
            try:
                verify(hash_file(f, expected), expected, f.name)
            except IntegrityError:
                problems = (Problem(str(f), f"{'sha256' if len(digest) == 64 else 'md5'} is not the one Keras checks"),)
        return Verified(model.id, model.path, 1, os.stat(f).st_size, problems)

    def plan_removal(self, model: CachedModel, revision: str | None) -> Removal:
        return layout.whole(model, revision, (Path(model.path),), (lock_path(Path(model.path)),))

    def stale_partials(self, ctx: Context, now: float) -> list[Removal]:
        return layout.partials(models_dir(ctx.environ), lock_path, now)


def _names(ctx: Context | None) -> dict[str, tuple[str, str]]:
    """Weights file name -> (the Keras id whose file it is, Keras's hash of it or "")."""
    cat = catalog_mod.load(ctx)
    # ImageNet's class index: no model's own file (listed as file:<path>), checked against Keras's md5 of it.
    out: dict[str, tuple[str, str]] = {classindex.NAME: ("", classindex.MD5)}
    for doc in range(len(cat)):
        # The facet columns name the source without decoding: only Keras's entries are read.
        rid, source = cat.facet(doc)[:2]
        if source != SPEC.name or cat.shadowed(doc):
            continue
        extra = cat.entry(doc).get("extra")
        if isinstance(extra, dict) and isinstance(extra.get("file"), str):
            out.setdefault(extra["file"], (rid, str(extra.get("file_hash") or "")))
    return out
