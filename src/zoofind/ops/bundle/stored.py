"""A bundle published in an object store, read as any other bundle: the manifest object, then
the blobs it names, fetched with parallel ranged reads (``store.ranged``) only for the files
this machine still needs. A folder in the store may hold the blobs of several manifests:
only this manifest's are listed, and each is checked against it (size now, hashes as the
bytes are placed) exactly as a tar's or a folder's members are."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Set

from ...core.errors import NotFoundError
from ...store.ranged import Ranged
from ...store.s3 import Store
from ...store.url import StoreUrl
from .manifest import MANIFEST_MAX, BundleError, Member, member_name
from .readers import BundleReader, Data


class StoreBundle(BundleReader):
    layout = "s3"

    def __init__(self, url: StoreUrl, env: Mapping[str, str]) -> None:
        self.url = url
        self.origin = self.name = str(url)
        self.store = Store(url, env)
        self._manifest_size = 0
        self._needed: list[Member] | None = None
        self._ranged: Ranged | None = None

    def manifest(self) -> str:
        key = self.url.manifest_key
        size = self.store.size(key)
        if size is None:
            raise NotFoundError(f"no bundle at {self.origin}: {self.url.show(key)} is not there "
                                "(a publish that was stopped writes none)",
                                hint="publish it with `zoofind export --lock FILE s3://BUCKET/PREFIX/`, "
                                     "or check the address and AWS_ENDPOINT_URL_S3")
        if size > MANIFEST_MAX:
            raise BundleError(f"{self.url.show(key)} is {size} bytes; zoofind writes far smaller manifests")
        data = self.store.read(key)
        self._manifest_size = len(data)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BundleError(f"{self.url.show(key)}: the manifest is not UTF-8 text (byte {exc.start})") from None

    def select(self, wanted: Mapping[str, int]) -> None:
        there = self.store.sizes(self.url.blobs_prefix)
        self.listing = [Member(member_name(sha), there[self.url.blob_key(sha)])
                        for sha in wanted if self.url.blob_key(sha) in there]
        self.size = self._manifest_size + sum(m.size for m in self.listing)

    def need(self, shas: Set[str]) -> None:
        assert self.listing is not None
        self._needed = [m for m in self.listing if m.sha256 in shas]

    def members(self) -> Iterator[tuple[Member, Data]]:
        needed = self._needed if self._needed is not None else list(self.listing or ())
        self._ranged = Ranged(self.store, [(self.url.blob_key(m.sha256), m.size) for m in needed])
        try:
            for i, reader in self._ranged.readers():
                yield needed[i], Data(reader)
        finally:
            self._ranged.close()
            self._ranged = None

    def close(self) -> None:
        if self._ranged is not None:
            self._ranged.close()
