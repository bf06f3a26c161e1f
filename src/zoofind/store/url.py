"""``s3://bucket/prefix/`` addresses: a bundle's folder, or a named manifest in one."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass

from ..core.errors import UsageError

SCHEME = "s3://"
#: The manifest's name in a bundle folder (``ops.bundle.manifest.MANIFEST``; the store floor
#: sits below ops, so the name is repeated here and a test holds the two equal).
DEFAULT_MANIFEST = "zoofind-bundle.toml"
BLOBS = "blobs"
# S3's own rules for bucket names (3-63 characters, lower case, digits, dots and hyphens).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def require_client() -> None:
    """``UsageError`` saying how to install the S3 client when it is not here (the extra is optional)."""
    if importlib.util.find_spec("obstore") is None:
        raise UsageError("s3:// addresses need zoofind's S3 client (obstore), which is not installed here",
                         hint="pip install 'zoofind[s3]'")


def is_store(text: object) -> bool:
    """Whether ``text`` names an object store (``s3://...``), not a local path."""
    return isinstance(text, str) and text[:5].lower() == SCHEME


@dataclass(frozen=True)
class StoreUrl:
    """Where a bundle lives: its bucket, its folder (``prefix``, empty or ending in ``/``) and its
    manifest's name in that folder. Blobs are ``<prefix>blobs/<sha256>``, shared by every
    manifest of the folder: a second study published there sends only what is new."""

    bucket: str
    prefix: str
    manifest: str = DEFAULT_MANIFEST

    @property
    def manifest_key(self) -> str:
        return self.prefix + self.manifest

    def blob_key(self, sha256: str) -> str:
        return f"{self.prefix}{BLOBS}/{sha256}"

    @property
    def blobs_prefix(self) -> str:
        return f"{self.prefix}{BLOBS}/"

    def show(self, key: str | None = None) -> str:
        """An object's address as messages give it (no secret is ever part of one)."""
        return f"{SCHEME}{self.bucket}/{self.prefix if key is None else key}"

    def __str__(self) -> str:
        return self.show(self.manifest_key if self.manifest != DEFAULT_MANIFEST else None)


def parse(text: str, *, what: str = "store address") -> StoreUrl:
    """``s3://bucket[/prefix/][NAME.toml]``: a folder (ends in ``/``, or the bucket alone) or a
    manifest named ``*.toml``; ``UsageError`` saying what is wrong otherwise."""
    if not is_store(text):
        raise UsageError(f"{text!r} is not an s3:// address", hint="write it as s3://BUCKET/PREFIX/")
    rest = text[len(SCHEME):]
    bucket, _, path = rest.partition("/")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise UsageError(f"{text}: {bucket!r} is not an S3 bucket name (3-63 lower-case letters, digits, '.', '-')",
                         hint="write the address as s3://BUCKET/PREFIX/")
    if "//" in path or path.startswith("/") or any(p in (".", "..") for p in path.split("/")):
        raise UsageError(f"{text}: the {what} has an empty, '.' or '..' folder in it",
                         hint="write the address as s3://BUCKET/PREFIX/ (one / between folders)")
    if not path or path.endswith("/"):
        return StoreUrl(bucket, path)
    folder, _, name = path.rpartition("/")
    if not name.endswith(".toml"):
        raise UsageError(f"{text}: a {what} is a folder (ending in /) or a manifest (NAME.toml)",
                         hint=f"did you mean {SCHEME}{bucket}/{path}/ ?")
    if name.startswith(".") or name == BLOBS:
        raise UsageError(f"{text}: {name!r} cannot be a manifest's name", hint="name it STUDY.toml")
    return StoreUrl(bucket, folder + "/" if folder else "", name)
