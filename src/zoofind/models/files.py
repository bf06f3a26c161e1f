"""What a hub lists of a model's files at one revision: each file, where it comes from and how it
is checked (plain data: a hub's source answers it, its pull plans from it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file a model needs: where it comes from and how to check it."""

    path: str
    url: str
    size: int | None = None
    sha256: str | None = None
    etag: str | None = None
    # torchvision checkpoint names embed the first hex digits of their SHA-256
    # (resnet50-11ad3fa6.pth); torch.hub checks a download against them.
    sha256_prefix: str | None = None
    #: git's blob id of the bytes (the Hub's id for a file stored outside LFS).
    git_sha1: str | None = None
    #: the Hub's git object id of the path (an LFS file's is its pointer file's), as its
    #: listings give it: huggingface_hub's tree listing (``trees/<commit>.json``) records it.
    blob_id: str | None = None


@dataclass(frozen=True)
class FileSet:
    """What one model is at one revision: the exact revision it resolved to and its files.

    ``commit`` is immutable (a Hub commit sha); ``revision`` is what was asked for (a
    branch, a tag, or the commit itself); ``page`` is where a person requests access.
    """

    id: str
    files: tuple[FileEntry, ...]
    revision: str | None = None
    commit: str | None = None
    page: str | None = None
