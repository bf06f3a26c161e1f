"""``TorchvisionSource``: torchvision's model registry as a source.

The bundled catalog holds a snapshot of one torchvision version's registry. When no
torchvision is installed, or the installed one is the snapshot's version, the snapshot
answers and this source adds nothing. When another version is installed, its real
registry is read once (``registry.collect``: this imports torchvision, which takes
seconds), stored in ``<cache dir>/torchvision/registry-<version>.json`` and used from
then on; its records replace the snapshot's in search results
(its spec's ``replaces_snapshot``).

Checkpoints come from https://download.pytorch.org/models/; ``ZOOFIND_TORCHVISION_ENDPOINT``
names a mirror (the file names stay the same, as ``torch.hub`` expects).
"""

from __future__ import annotations

import difflib
import json
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ... import catalog as catalog_mod
from ...core.atomic import try_write_json
from ...core.errors import NotFoundError, SourceError, UsageError
from ...models.files import FileEntry, FileSet
from ...models.records import ParsedId, Record
from ...net.probe import probe as probe_endpoint
from .. import SearchQuery
from ..base import SourceAnswer, SourceStatus
from . import DEFAULT_ENDPOINT, SPEC
from .installed import installed_torchvision

if TYPE_CHECKING:
    from ...core.context import Context

#: Bumped when the stored registry's shape or the entry mapping changes: older files are re-read.
REGISTRY_FORMAT = 1
# torch.hub.HASH_REGEX: checkpoint names carry the first hex digits of their SHA-256.
_HASH_RE = r"-([a-f0-9]*)\."


def endpoint(ctx: Context) -> str:
    """Where checkpoints are downloaded from (with a trailing slash): the mirror
    ``ZOOFIND_TORCHVISION_ENDPOINT`` names, else PyTorch's."""
    return ctx.endpoint(SPEC) + "/"


def hash_prefix(filename: str) -> str | None:
    """The SHA-256 prefix a checkpoint's name carries (resnet50-11ad3fa6.pth -> 11ad3fa6), else None."""
    m = re.search(_HASH_RE, filename)
    return m[1] if m and m[1] else None


def registry_path(ctx: Context, version: str) -> Path:
    """Where the registry of an installed torchvision ``version`` is stored once read."""
    return ctx.cache_dir / "torchvision" / f"registry-{version}.json"


def snapshot_version() -> str | None:
    """The torchvision version the bundled catalog's snapshot was generated from."""
    meta = catalog_mod.bundled().meta.get("torchvision", {})
    return meta.get("torchvision_version")


def registry_read_pending(ctx: Context) -> str | None:
    """The installed version whose registry the next search will read (seconds), else None.

    Cheap (one directory scan and one stat).
    """
    if ctx.offline:
        return None
    inst = installed_torchvision()
    if inst is None or inst == snapshot_version() or registry_path(ctx, inst).is_file():
        return None
    return inst


class TorchvisionSource:
    spec = SPEC

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Registries read in this process, by the file they are stored in.
        self._loaded: dict[Path, tuple[list[Record], str, float | None]] = {}

    # -- the registry ------------------------------------------------------------
    def _versions(self) -> tuple[str | None, str | None]:
        return installed_torchvision(), snapshot_version()

    def _read_cached(self, ctx: Context, version: str) -> tuple[list[dict[str, Any]], float] | None:
        path = registry_path(ctx, version)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != REGISTRY_FORMAT or data.get("torchvision_version") != version:
                return None
            return list(data["entries"]), max(0.0, time.time() - float(data["saved_at"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _store(self, ctx: Context, version: str, entries: list[dict[str, Any]]) -> None:
        # A read-only cache costs the next run the read again, nothing more.
        try_write_json(
            registry_path(ctx, version),
            {"format": REGISTRY_FORMAT, "torchvision_version": version, "saved_at": time.time(), "entries": entries},
        )

    def registry(self, ctx: Context, version: str) -> tuple[list[Record], str, float | None] | None:
        """(records, origin "cache"|"live", age) of the installed registry; None offline without a stored one."""
        key = registry_path(ctx, version)
        with self._lock:
            if key in self._loaded:
                return self._loaded[key]
            hit = self._read_cached(ctx, version)
            if hit is not None:
                entries, age = hit
                origin: str = "cache"
            elif ctx.offline:
                return None
            else:
                # lazy: torchvision's tables (and, in collect, torchvision itself) only for another installed version
                from .registry import collect

                try:
                    entries = collect(strict=False)
                except Exception as exc:  # noqa: BLE001 - a broken install must not sink the search
                    raise SourceError(
                        f"cannot read the installed torchvision {version} registry ({type(exc).__name__}: {exc})",
                        hint="the bundled snapshot answers meanwhile; check `python -c 'import torchvision'`",
                    ) from exc
                self._store(ctx, version, entries)
                origin, age = "live", None
            # lazy: only for another installed torchvision: off cache, info and pull start-up
            from ...catalog.compile import entry_to_record

            records = [entry_to_record(e, curated=False) for e in entries]
            self._loaded[key] = (records, origin, age)
            return self._loaded[key]

    def _active(self, ctx: Context) -> tuple[list[Record] | None, str | None, str | None]:
        """(registry records or None for the snapshot, installed version, snapshot version)."""
        inst, snap = self._versions()
        if inst is None or inst == snap:
            return None, inst, snap
        got = self.registry(ctx, inst)
        return (got[0] if got else None), inst, snap

    def slow_start(self, ctx: Context) -> str | None:
        """What the CLI's spinner should say when this search will read a registry (seconds)."""
        version = registry_read_pending(ctx)
        return f"reading the registry of torchvision {version} (once; takes seconds)…" if version else None

    # -- Source --------------------------------------------------------------------
    def search(self, query: SearchQuery, ctx: Context) -> SourceAnswer:
        inst, snap = self._versions()
        if inst is None or inst == snap:
            return SourceAnswer((), origin="bundled")
        got = self.registry(ctx, inst)
        if got is None:
            return SourceAnswer(
                (), origin="bundled",
                note=(f"the bundled torchvision snapshot is for {snap} while {inst} is installed; "
                      "search once without --offline to read the installed registry"),
            )
        records, origin, age = got
        return SourceAnswer(tuple(records), origin=origin, age_seconds=age)

    def info(self, pid: ParsedId, ctx: Context) -> Record | None:
        builder, _, weights = pid.ref.partition(".")
        records, inst, snap = self._active(ctx)
        if records is None:
            cat = catalog_mod.load(ctx)
            rec = cat.get(str(pid))
            if rec is not None:
                return rec
            ids = [rid for rid in cat.ids if rid.startswith("torchvision:")]
            where = f"torchvision {snap} (bundled snapshot)"
        else:
            by_id = {r.id: r for r in records}
            if weights:
                rec = by_id.get(str(pid))
            else:
                rec = next((r for r in records if r.extra.get("default") and r.extra.get("builder") == builder), None)
            if rec is not None:
                return rec
            ids = list(by_id)
            where = f"the installed torchvision {inst}"
        raise NotFoundError(f"no entry {str(pid)!r} in {where}", hint=_hint(builder, ids))

    def files(self, pid: ParsedId, ctx: Context) -> Sequence[FileEntry]:
        return self.fileset(pid, ctx).files

    def fileset(self, pid: ParsedId, ctx: Context, *, revision: str | None = None) -> FileSet:
        """The checkpoint of these weights (a bare builder: its DEFAULT weights). Checkpoints
        are immutable files named by their hash, so there are no revisions."""
        if revision:
            raise UsageError(f"torchvision checkpoints have no revisions ({pid}@{revision})",
                             hint="name the weights instead: torchvision:resnet50.IMAGENET1K_V2")
        rec = self.info(pid, ctx)
        url = str((rec.extra if rec else {}).get("url") or "")
        if not url:
            return FileSet(rec.id if rec else str(pid), ())
        if url.startswith(DEFAULT_ENDPOINT + "/"):
            url = endpoint(ctx) + url[len(DEFAULT_ENDPOINT) + 1:]
        name = url.rsplit("/", 1)[-1]
        return FileSet(rec.id if rec else str(pid), (FileEntry(path=name, url=url, sha256_prefix=hash_prefix(name)),),
                       page=rec.url if rec else None)

    def status(self, ctx: Context, *, probe: bool = True) -> SourceStatus:
        inst, snap = self._versions()
        age = None
        if inst and inst != snap:
            hit = self._read_cached(ctx, inst)
            age = hit[1] if hit else None
        if inst is None:
            using = f"bundled snapshot (torchvision {snap})"  # "installed torchvision" says it is not
        elif inst == snap:
            using = "bundled snapshot (same version as installed)"
        elif age is not None:
            using = f"installed registry, read into {registry_path(ctx, inst)}"
        else:
            using = "installed registry, read on the next search (takes seconds)"
        details = (
            ("installed torchvision", inst or "not installed"),
            ("snapshot torchvision", snap or "none"),
            ("answers from", using),
        )
        reachable, reason = probe_endpoint(ctx, "the torchvision checkpoint host", endpoint(ctx),
                                           method="HEAD") if probe else (None, None)
        return SourceStatus(
            SPEC.name, SPEC.title, endpoint(ctx), network=False, reachable=reachable, reason=reason,
            cache_age_seconds=age, details=details,
        )


def _hint(builder: str, ids: list[str]) -> str:
    refs = [i.partition(":")[2] for i in ids]
    builders = sorted({r.split(".")[0] for r in refs})
    if builder in builders:
        names = sorted(r.split(".", 1)[1] for r in refs if r.split(".")[0] == builder)
        return f"weights for {builder}: {', '.join(names)}"
    close = difflib.get_close_matches(builder, builders, n=5, cutoff=0.6)
    if not close:
        close = [b for b in builders if builder in b or b in builder][:5]
    if close:
        return f"did you mean: {', '.join(f'torchvision:{b}' for b in close)}?"
    return "list them with `zoofind search --source torchvision <words>`"
