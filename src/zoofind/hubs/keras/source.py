"""``KerasSource``: Keras applications' weights from the bundled snapshot (``catalog/keras.toml``).

Keras keeps its weight tables in its source, so the snapshot is the whole registry: search is
the catalog's, and ``info`` and a model's file are read from it without any request. Ids are
matched without regard to case (``keras:resnet50`` is ``keras:ResNet50``). Every file comes from
https://storage.googleapis.com/tensorflow/keras-applications/; ``ZOOFIND_KERAS_ENDPOINT`` names a
mirror of that folder (the file names stay the same: Keras looks for them by name).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ... import catalog as catalog_mod
from ...core.errors import NotFoundError, UsageError
from ...models.files import FileEntry, FileSet
from ...models.records import ParsedId, Record
from ...net.probe import probe as probe_endpoint
from .. import registry
from ..base import SourceAnswer, SourceStatus
from ..ids import parse_id
from . import DEFAULT_ENDPOINT, SPEC, classindex
from .home import models_dir
from .presets import delegated_id
from .variants import application, preset_name

if TYPE_CHECKING:
    from ...core.context import Context
    from .. import SearchQuery


@dataclass(frozen=True)
class Weights:
    """The one file of a Keras application's weights and the hash Keras checks it against."""

    id: str
    file: FileEntry  #: ``sha256`` set where Keras's hash is one (64 hex digits)
    md5: str | None  #: where Keras's hash is an md5 (32 hex digits); neither: Keras checks nothing
    call: str  #: the Keras call that loads it
    #: ImageNet's class index, which ``decode_predictions`` reads, for weights with ImageNet's classifier
    class_index: FileEntry | None = None


def endpoint(ctx: Context) -> str:
    """Where weights files are downloaded from (no trailing slash)."""
    return ctx.endpoint(SPEC).rstrip("/")


def weights_of(rec: Record, ctx: Context) -> Weights:
    """A record's file, from the mirror when ``ZOOFIND_KERAS_ENDPOINT`` names one."""
    extra = rec.extra
    url, name = str(extra.get("url") or ""), str(extra.get("file") or "")
    if not url or not name or "/" in name:
        raise NotFoundError(f"{rec.id} names no weights file", hint="rebuild the snapshot: scripts/build_keras.py")
    if url.startswith(DEFAULT_ENDPOINT + "/"):
        url = endpoint(ctx) + url[len(DEFAULT_ENDPOINT):]
    digest = str(extra.get("file_hash") or "").lower() or None
    sha256 = digest if digest and len(digest) == 64 else None
    return Weights(rec.id, FileEntry(path=name, url=url, size=rec.size_bytes, sha256=sha256),
                   digest if digest and not sha256 else None, str(extra.get("call") or ""),
                   classindex.entry(endpoint(ctx)) if classindex.wanted(extra) else None)


def delegated(rec: Record) -> ParsedId | None:
    """The model a KerasHub preset's record stands for (of the hub its handle names), else None."""
    preset, handle = rec.extra.get("preset"), rec.extra.get("handle")
    if not isinstance(preset, str) or not isinstance(handle, str):
        return None
    return parse_id(delegated_id(handle, preset))


def _keras_ids(ctx: Context) -> list[str]:
    return [rid for rid in catalog_mod.load(ctx).ids if rid.startswith("keras:")]


class KerasSource:
    spec = SPEC

    def search(self, query: SearchQuery, ctx: Context) -> SourceAnswer:
        return SourceAnswer((), origin="bundled")  # the catalog holds the whole registry

    def info(self, pid: ParsedId, ctx: Context) -> Record:
        cat = catalog_mod.load(ctx)
        rec = cat.get(str(pid))
        if rec is not None:
            return rec
        ids = _keras_ids(ctx)
        folded = {rid.lower(): rid for rid in ids}
        if str(pid).lower() in folded:
            found = cat.get(folded[str(pid).lower()])
            if found is not None:
                return found
        if preset_name(pid.ref):
            raise NotFoundError(f"no KerasHub preset {preset_name(pid.ref)!r} in the bundled snapshot",
                                hint=_preset_hint(pid.ref, ids))
        raise NotFoundError(f"no entry {str(pid)!r} in the bundled Keras applications snapshot",
                            hint=_hint(pid.ref, ids))

    def weights(self, pid: ParsedId, ctx: Context) -> Weights:
        return weights_of(self.info(pid, ctx), ctx)

    def files(self, pid: ParsedId, ctx: Context) -> Sequence[FileEntry]:
        if preset_name(pid.ref):
            target = delegated(self.info(pid, ctx))
            return registry.get(target.source).files(target, ctx) if target else ()
        return self.fileset(pid, ctx).files

    def fileset(self, pid: ParsedId, ctx: Context, *, revision: str | None = None) -> FileSet:
        """The weights file of ``pid``. Keras's files are fixed by name: there are no revisions."""
        if revision:
            raise UsageError(f"Keras applications' weights have no revisions ({pid}@{revision})",
                             hint="name the variant instead: keras:ResNet50/notop")
        w = self.weights(pid, ctx)
        return FileSet(w.id, (w.file,))

    def status(self, ctx: Context, *, probe: bool = True) -> SourceStatus:
        meta = catalog_mod.bundled().meta.get("keras", {})
        reachable, reason = probe_endpoint(ctx, "the Keras weights host", endpoint(ctx) + "/",
                                           method="HEAD") if probe else (None, None)
        details = (("snapshot", str(meta.get("source") or "none")),
                   ("weights folder", str(models_dir(ctx.environ))))
        return SourceStatus(SPEC.name, SPEC.title, endpoint(ctx), network=False, reachable=reachable, reason=reason,
                            details=details)


def _preset_hint(ref: str, ids: list[str]) -> str:
    names = [rid.partition("/")[2] for rid in ids if preset_name(rid.partition(":")[2])]
    close = difflib.get_close_matches(str(preset_name(ref)), names, n=5, cutoff=0.6)
    if close:
        return f"did you mean: {', '.join(f'keras:preset/{n}' for n in close)}?"
    return ("list them with `zoofind search --source keras preset <words>`; a preset of your own loads from its "
            "folder or handle (from_preset('kaggle://...')): pull that hub's id")


def _hint(ref: str, ids: list[str]) -> str:
    app = application(ref).lower()
    refs = [rid.partition(":")[2] for rid in ids]
    apps = sorted({application(r) for r in refs})
    same = [r for r in refs if application(r).lower() == app]
    if same:
        shown = ", ".join(f"keras:{r}" for r in same[:8])
        return f"weights of {application(same[0])}: {shown}" + (f" and {len(same) - 8} more" if len(same) > 8 else "")
    close = difflib.get_close_matches(application(ref), apps, n=5, cutoff=0.6)
    if close:
        return f"did you mean: {', '.join(f'keras:{a}' for a in close)}?"
    return "list them with `zoofind search --source keras <words>`"
