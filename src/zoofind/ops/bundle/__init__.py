"""Bundles: the files of a lock carried to a machine without network (``zoofind export`` / ``import``).

A bundle is a plain tar, or a folder holding the same names::

    zoofind-bundle.toml    the manifest, always the tar's first member: ``bundle = 1`` (this
                           format's version), then the lock exactly as ``lockfile.dumps``
                           writes it, so the manifest is itself a lock
                           (``zoofind pull --lock zoofind-bundle.toml`` works with network)
    blobs/<sha256>         each distinct locked file once, named by its content

The tar is not compressed: model weights are dense floats that gzip shrinks by a few per
cent at tens of MB/s, so compressing would slow both ends for almost nothing (``import``
still reads a gzip, bzip2 or xz tar, as a stream).

``export_bundle`` finds each locked file in this machine's caches (the Hugging Face hub
cache, torch.hub's checkpoints, TF Hub's module folders, then the shared tier), hashes it
while it streams into the bundle (each file is read once: the check rides on the copy),
and fails naming the model and file when one is missing or differs from the lock. A tar
goes to a temporary file renamed into place when whole, or to a stream (stdout) that is
left without its end-of-archive blocks when the export fails, so no reader takes half a
bundle for a whole one. A folder bundle gets hard links to the cache files where the file
system allows (no second copy of the bytes), else copies, and is renamed into place whole.

``import_bundle`` reads the manifest, checks the member list against it (a file or folder
bundle before anything is written; a stream member by member), then streams each member
into a temporary file beside its target (on the target's file system, named
``.zoofind-tmp-...`` so ``cache prune`` knows a stray), hashes it on the way, and renames
it onto the target only when size and sha256 (and a Hub blob's git id) agree; it takes the
lock ``pull`` takes for that target. A model becomes visible only once all its files are in
place: Hugging Face snapshot links and then ``refs/<revision>`` (written only when the
machine has no such ref yet: a ``main`` that already points elsewhere is someone's newer
pull, never moved back), a torch checkpoint by its own rename, a TF Hub module filled in a
temporary folder renamed to ``<sha1>`` when complete. Nothing here touches the network or
imports code that does (an ``s3://`` bundle aside). Nothing prints: results are frozen
records, progress goes to a callback.

Roles, one module each: ``manifest`` (the format: manifest, member names, checks of a lock
and of a member list), ``pump`` (bytes moved and hashed), ``tar`` (the tar writer),
``readers`` (tar file, tar stream, folder), ``locate`` (the locked files in this machine's
caches, the check of what is read from there, the export's report), ``export``, ``importer``
(planning and the result) with ``placer`` (the member loop), and ``places`` (each model's
placement, asked of its hub's ``bundle`` ability, ``hubs.protocol.Bundles``). No hub is named here.

An ``s3://BUCKET/PREFIX/`` address (``store.url``) is a bundle published as objects:
``publish`` writes it (blobs already there with the same size skipped, each checked before
its upload completes, the manifest last) and ``stored`` reads it (a ``BundleReader`` whose
listing holds only the manifest's blobs and which fetches only the needed ones, with parallel
ranged reads); both import the S3 client only when such an address is given.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ...models.bundle import BundledFile, BundledModel, ExportReport, ImportReport
from .manifest import BUNDLE_VERSION, MANIFEST, BundleError, manifest_text, read_manifest

if TYPE_CHECKING:
    from .export import export_bundle
    from .importer import import_bundle
    from .readers import open_bundle

#: Each side loaded when first asked for: an export does not load the import side (readers,
#: placer) nor an import the export side, off each command's start-up (export's time is a
#: measured figure against tar's).
_SIDES = {"export_bundle": "export", "import_bundle": "importer", "open_bundle": "readers"}


def __getattr__(name: str) -> Any:
    if name in _SIDES:
        return getattr(importlib.import_module(f".{_SIDES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["BUNDLE_VERSION", "MANIFEST", "BundleError", "BundledFile", "BundledModel", "ExportReport",
           "ImportReport", "export_bundle", "import_bundle", "manifest_text", "open_bundle", "read_manifest"]
