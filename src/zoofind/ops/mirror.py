"""The lab's object store as a read-through mirror of the hubs (``ZOOFIND_MIRROR``, ``pull --mirror``).

Before the fetch engine asks a hub for a file whose SHA-256 is known (every file of
``pull --lock``; a Hub LFS file of any pull), it asks the store for ``<prefix>blobs/<sha256>``
(the layout a published bundle has, so a folder that bundles were published into is a
mirror). A copy of the right size is read with parallel ranged requests into a temporary
file beside the target, hashed, checked exactly as the hub's bytes would be (size, sha256,
git blob id), and only then renamed into place; a copy that fails the check, a store that
does not answer or refuses the keys, is a note, and the file comes from the hub as before.
Nodes only read: ``--publish`` (for whoever fills the store) adds what had to come from a
hub, checked again as it is read from the cache.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core.atomic import replacing
from ..core.errors import ZoofindError
from ..fetch.integrity import Hasher, IntegrityError, verify
from ..models.transfer import Checking, Download, Expected
from ..store.ranged import Ranged
from ..store.s3 import PART, Store
from ..store.url import parse

VARIABLE = "ZOOFIND_MIRROR"


@dataclass(frozen=True)
class FromMirror:
    """What the mirror gave for one download (``models.transfer.Found``)."""

    source: Path | None = None
    size: int = 0
    sha256: str | None = None
    notes: tuple[str, ...] = ()
    via: str = "mirror"


class Mirror:
    def __init__(self, address: str, env: Mapping[str, str]) -> None:
        self.url = parse(address, what="mirror address")  # checked before: ops.pull.check_mirror
        self.store = Store(self.url, env)
        self.published = 0
        self.published_bytes = 0

    def local(self, d: Download, checking: Checking) -> FromMirror:
        """``d``'s file from the store, verified and renamed onto its target; an empty answer
        (with a note when something was wrong) sends the engine to the hub."""
        e = d.expected
        if d.local is not None or not e.sha256 or e.size is None:
            return FromMirror()
        key = self.url.blob_key(e.sha256)
        try:
            size = self.store.size(key)
            if size is None:
                return FromMirror()
            if size != e.size:
                return FromMirror(notes=(f"{d.label}: the mirror's {self.url.show(key)} holds {size} bytes, "
                                         f"not {e.size}: fetched from the hub",))
            checking(Path(key), size)
            for folder in d.folders:
                folder.mkdir(parents=True, exist_ok=True)
            h = Hasher(e, size)
            with replacing(d.target) as out:
                ranged = Ranged(self.store, [(key, size)])
                try:
                    view = memoryview(bytearray(4 * 1024 * 1024))
                    for _, read in ranged.readers():
                        while n := read(view):
                            h.update(view[:n])
                            out.write(view[:n])
                finally:
                    ranged.close()
                verify(h, e, f"{d.label} (the mirror's {self.url.show(key)})")
        except IntegrityError as exc:
            return FromMirror(notes=(f"{exc.message.replace('downloaded bytes', 'mirror copy', 1)}: "
                                     "fetched from the hub",))
        except ZoofindError as exc:
            return FromMirror(notes=(f"{d.label}: the mirror could not be read ({exc.message}); "
                                     "fetched from the hub",))
        return FromMirror(d.target, size, h.sha256.hexdigest())

    def publish(self, path: Path, expected: Expected) -> None:
        """A file the hub gave, added to the store under its SHA-256 unless it is there; its
        bytes checked again as they are read (the upload is aborted when they differ)."""
        assert expected.sha256 and expected.size is not None
        key = self.url.blob_key(expected.sha256)
        if self.store.size(key) == expected.size:
            return
        label = str(path)
        if expected.size <= PART:
            data = path.read_bytes()
            h = Hasher(expected, len(data))
            h.update(data)
            verify(h, expected, label)
            self.store.write(key, data)
        else:
            self.store.upload(key, _checked(path, expected, label), expected.size)
        self.published += 1
        self.published_bytes += expected.size


def _checked(path: Path, expected: Expected, label: str) -> Iterator[bytes]:
    h = Hasher(expected, expected.size)
    with path.open("rb", buffering=0) as fh:
        while chunk := fh.read(PART):
            h.update(chunk)
            yield chunk
    verify(h, expected, label)


def mirror_for(address: str | None, env: Mapping[str, str]) -> Mirror | None:
    """The mirror ``--mirror`` or ``ZOOFIND_MIRROR`` names, or None."""
    address = address or env.get(VARIABLE) or None
    if address is None:
        return None
    return Mirror(address, env)

