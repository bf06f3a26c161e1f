"""``import_bundle``: the manifest and member list checked, each model planned and checked for files
already in place, the members placed (``placer``), and the report."""

from __future__ import annotations

import os
from typing import IO

from ...core.context import Context
from ...core.paths import max_extract
from ...models.bundle import ImportReport
from ...store.url import is_store, parse, require_client
from .manifest import MANIFEST, BundleError, check_listing, check_lock, read_manifest
from .placer import Growth, Placer
from .places import check_present, discard, plan_model, result
from .pump import Progress, Pump
from .readers import BundleReader, open_bundle


def import_bundle(
    bundle: str | os.PathLike[str] | IO[bytes], *, ctx: Context | None = None, verify_existing: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Place a bundle's files into this machine's caches; see the module's docstring.

    ``verify_existing``: re-hash the files already in place (default: their size is checked)
    and replace any that differ. A model that fails (a damaged member) is reported in its
    result and the others go on; a hostile bundle (a member that is a link, a device, a path
    outside, one not in the manifest) fails the whole import with ``BundleError``.
    """
    ctx = ctx or Context.from_env(offline=True)
    if is_store(bundle):
        assert isinstance(bundle, str)
        require_client()
        # lazy: the S3 client (obstore, the zoofind[s3] extra) only for an s3:// address
        from .stored import StoreBundle
        source: BundleReader = StoreBundle(parse(bundle, what="bundle address"), ctx.environ)
    else:
        source = open_bundle(bundle)
    pump = Pump()
    try:
        lock = read_manifest(source.manifest(), f"{source.origin}: {MANIFEST}")
        check_lock(lock, f"{source.origin}: {MANIFEST}", error=BundleError)
        wanted = {f.sha256: f.size for m in lock.models for f in m.files}
        source.select(wanted)
        if source.listing is not None:
            check_listing(source.origin, source.listing, wanted)
        growth = Growth(source, max_extract(ctx.environ))
        growth.check(sum(f.size for m in lock.models for f in m.files))
        models = [plan_model(m, ctx.environ) for m in lock.models]
        for state in models:
            check_present(state, pump, verify_existing, progress)
        source.need({sl.file.sha256 for state in models for sl in state.slots if sl.status == "needed"})
        run = Placer(source, models, pump, progress, wanted, growth)
        try:
            run.stream()
        finally:
            for state in models:
                discard(state)
    finally:
        pump.close()
        source.close()
    results = tuple(result(state) for state in models)
    return ImportReport(source.name, source.layout, results,
                        placed_bytes=run.placed_bytes,
                        present=sum(1 for s in models for sl in s.slots if sl.status in ("present", "verified")))

