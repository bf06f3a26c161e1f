"""torchvision's model registry as a source.

The bundled catalog holds a snapshot of one torchvision version's registry. When no
torchvision is installed, or the installed one is the snapshot's version, the snapshot
answers and this source adds nothing. When another version is installed, its real
registry is read once (``zoofind.tv_registry.collect``: this imports torchvision, which
takes seconds), stored in ``<cache dir>/torchvision/registry-<version>.json`` and used
from then on; its records replace the snapshot's in search results
(``SourceAnswer.replaces_snapshot``).

Checkpoints come from https://download.pytorch.org/models/; ``ZOOFIND_TORCHVISION_ENDPOINT``
names a mirror (the file names stay the same, as ``torch.hub`` expects).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Sequence

from .. import catalog as catalog_mod
from ..errors import NotFoundError, SourceError
from ..paths import cache_dir
from ..records import ParsedId, Record
from ..tv_registry import installed_version
from . import Registry, SearchQuery
from .base import SourceAnswer
from .base import FileEntry, SourceStatus

DEFAULT_ENDPOINT = "https://download.pytorch.org/models/"
ENV_ENDPOINT = "ZOOFIND_TORCHVISION_ENDPOINT"
#: Bumped when the stored registry's shape or the entry mapping changes: older files are re-read.
REGISTRY_FORMAT = 1
# torch.hub.HASH_REGEX: checkpoint names carry the first hex digits of their SHA-256.
_HASH_RE = r"-([a-f0-9]*)\."


def endpoint() -> str:
    value = os.environ.get(ENV_ENDPOINT, "").strip()
    return (value.rstrip("/") + "/") if value else DEFAULT_ENDPOINT


def hash_prefix(filename: str) -> str | None:
    m = re.search(_HASH_RE, filename)
    return m[1] if m and m[1] else None


def registry_path(version: str) -> Path:
    return cache_dir() / "torchvision" / f"registry-{version}.json"


def snapshot_version() -> str | None:
    """The torchvision version the bundled catalog's snapshot was generated from."""
    meta = catalog_mod.load().meta.get("torchvision", {})
    return meta.get("torchvision_version")


def registry_read_pending(offline: bool = False) -> str | None:
    """The installed version whose registry the next search will read (seconds), else None.

    For the CLI's spinner text; cheap (one directory scan and one stat).
    """
    if offline:
        return None
    inst = installed_version()
    if inst is None or inst == snapshot_version() or registry_path(inst).is_file():
        return None
    return inst


class TorchvisionSource:
    name = "torchvision"
    title = "torchvision model registry (installed version, else the bundled snapshot)"
    live = True

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, tuple[list[Record], str, float | None]] = {}

    # -- the registry ------------------------------------------------------------
    def _versions(self) -> tuple[str | None, str | None]:
        return installed_version(), snapshot_version()

    def _read_cached(self, version: str) -> tuple[list[dict], float] | None:
        path = registry_path(version)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != REGISTRY_FORMAT or data.get("torchvision_version") != version:
                return None
            return list(data["entries"]), max(0.0, time.time() - float(data["saved_at"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _store(self, version: str, entries: list[dict]) -> None:
        import tempfile

        path = registry_path(version)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump({"format": REGISTRY_FORMAT, "torchvision_version": version, "saved_at": time.time(), "entries": entries}, fh)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # a read-only cache costs the next run the read again, nothing more

    def registry(self, version: str, *, offline: bool) -> tuple[list[Record], str, float | None] | None:
        """(records, origin "cache"|"live", age) of the installed registry; None offline without a stored one."""
        with self._lock:
            if version in self._loaded:
                return self._loaded[version]
            hit = self._read_cached(version)
            if hit is not None:
                entries, age = hit
                origin: str = "cache"
            elif offline:
                return None
            else:
                from .. import tv_registry

                try:
                    entries = tv_registry.collect(strict=False)
                except Exception as exc:  # noqa: BLE001 - a broken install must not sink the search
                    raise SourceError(
                        f"cannot read the installed torchvision {version} registry ({type(exc).__name__}: {exc})",
                        hint="the bundled snapshot answers meanwhile; check `python -c 'import torchvision'`",
                    ) from exc
                self._store(version, entries)
                origin, age = "live", None
            records = [catalog_mod.entry_to_record(e, curated=False) for e in entries]
            self._loaded[version] = (records, origin, age)
            return self._loaded[version]

    def _active(self, offline: bool) -> tuple[list[Record] | None, str | None, str | None]:
        """(registry records or None for the snapshot, installed version, snapshot version)."""
        inst, snap = self._versions()
        if inst is None or inst == snap:
            return None, inst, snap
        got = self.registry(inst, offline=offline)
        return (got[0] if got else None), inst, snap

    # -- Source --------------------------------------------------------------------
    def search(self, query: SearchQuery) -> SourceAnswer:
        inst, snap = self._versions()
        if inst is None or inst == snap:
            return SourceAnswer((), origin="bundled")
        got = self.registry(inst, offline=query.offline)
        if got is None:
            return SourceAnswer(
                (), origin="bundled",
                note=(f"the bundled torchvision snapshot is for {snap} while {inst} is installed; "
                      "search once without --offline to read the installed registry"),
            )
        records, origin, age = got
        return SourceAnswer(tuple(records), origin=origin, age_seconds=age, replaces_snapshot=True)

    def info(self, pid: ParsedId, *, offline: bool = False, timeout: float = 8.0) -> Record | None:
        builder, _, weights = pid.ref.partition(".")
        records, inst, snap = self._active(offline)
        if records is None:
            cat = catalog_mod.load()
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

    def files(self, pid: ParsedId, *, timeout: float = 8.0) -> Sequence[FileEntry]:
        rec = self.info(pid, timeout=timeout)
        url = str((rec.extra if rec else {}).get("url") or "")
        if not url:
            return ()
        if url.startswith(DEFAULT_ENDPOINT):
            url = endpoint() + url[len(DEFAULT_ENDPOINT):]
        name = url.rsplit("/", 1)[-1]
        return (FileEntry(path=name, url=url, sha256_prefix=hash_prefix(name)),)

    def status(self, *, probe: bool = True, timeout: float = 3.0) -> SourceStatus:
        inst, snap = self._versions()
        age = None
        if inst and inst != snap:
            hit = self._read_cached(inst)
            age = hit[1] if hit else None
        if inst is None:
            using = f"bundled snapshot (torchvision {snap}); torchvision not installed"
        elif inst == snap:
            using = "bundled snapshot (same version as installed)"
        elif age is not None:
            using = f"installed registry, read into {registry_path(inst)}"
        else:
            using = "installed registry, read on the next search (takes seconds)"
        details = (
            ("installed torchvision", inst or "not installed"),
            ("snapshot torchvision", snap or "none"),
            ("answers from", using),
        )
        reachable, reason = (None, None)
        if probe:
            reachable, reason = _probe(endpoint(), timeout)
        return SourceStatus(
            self.name, self.title, endpoint(), live=True, reachable=reachable, reason=reason,
            cache_age_seconds=age, details=details,
        )


def _hint(builder: str, ids: list[str]) -> str:
    import difflib

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


def _probe(url: str, timeout: float) -> tuple[bool, str | None]:
    """Whether the server answers at all (any HTTP status counts as reachable)."""
    from ..errors import describe
    from ..http import client

    try:
        with client(timeout) as c:
            resp = c.head(url)
        return True, f"HTTP {resp.status_code}"
    except Exception as exc:  # noqa: BLE001
        return False, describe(exc).message


def register(registry: Registry) -> None:
    registry.register("torchvision", TorchvisionSource)
