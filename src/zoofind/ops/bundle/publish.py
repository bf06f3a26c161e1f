"""``publish``: a bundle written into an object store as objects, ``blobs/<sha256>`` then the manifest.

One listing tells which blobs the store holds already (same key, same size): those are not
sent again, so a second study published into the same folder sends only what is new, and a
publish that was stopped and run again sends only what had not landed. The others are read
from this machine's caches, hashed on the way and checked against the lock before they may
appear: a small one is checked and then sent in one request; a large one goes up in parallel
parts, and the check runs before the upload is completed (a failed check aborts it, so no
object appears). Several blobs go up at once. The manifest is written last, in one request:
a reader that finds it finds every blob it names, and a half-published bundle has none.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from ...core.context import Context
from ...fetch.integrity import Hasher
from ...models.bundle import ExportReport
from ...models.lock import Lock
from ...store.s3 import PART, Store
from ...store.url import StoreUrl
from .locate import Found, check_read, locate, report
from .manifest import expected, file_label, manifest_text
from .pump import BLOCK, Progress, emit, read_fd, ticker

#: Blobs sent at once (each large one also sends its parts in parallel: ``store.s3.PART_CONCURRENCY``).
UPLOADS = 4


def publish(lock: Lock, url: StoreUrl, ctx: Context, progress: Progress | None) -> ExportReport:
    found = locate(lock, ctx.environ)
    members: dict[str, Found] = {}
    for hit in found:
        members.setdefault(hit.file.sha256, hit)
    store = Store(url, ctx.environ)
    there = store.sizes(url.blobs_prefix)
    statuses = {sha: "present" if there.get(url.blob_key(sha)) == hit.file.size else "uploaded"
                for sha, hit in members.items()}
    todo = [hit for sha, hit in members.items() if statuses[sha] == "uploaded"]
    # Largest first: the long uploads start at once and the small ones fill the gaps.
    todo.sort(key=lambda h: -h.file.size)
    if todo:
        with ThreadPoolExecutor(min(UPLOADS, len(todo)), thread_name_prefix="zoofind-s3-put") as pool:
            jobs = [pool.submit(_send, store, url, hit, lock, progress) for hit in todo]
            try:
                for job in jobs:
                    job.result()
            except BaseException:
                for job in jobs:
                    job.cancel()
                raise
    store.write(url.manifest_key, manifest_text(lock).encode("utf-8"))
    return report(lock, found, members, statuses, str(url), "s3")


def _send(store: Store, url: StoreUrl, hit: Found, lock: Lock, progress: Progress | None) -> None:
    f = hit.file
    label = file_label(lock.models[hit.model].id, f.path)
    emit(progress, label, "start", 0, f.size)
    tick = ticker(progress, label, f.size)
    h = Hasher(expected(f), f.size)
    key = url.blob_key(f.sha256)
    try:
        if f.size <= PART:
            with read_fd(hit.path) as fd:
                data = _read_all(fd, f.size)
            h.update(data)
            check_read(h, len(data), hit, lock)
            store.write(key, data)
            tick(len(data))
        else:
            store.upload(key, _checked_chunks(hit, h, lock, tick), f.size)
    except BaseException:
        emit(progress, label, "failed", 0, f.size)
        raise
    emit(progress, label, "done", f.size, f.size)


def _read_all(fd: int, size: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < size and (chunk := os.read(fd, min(BLOCK, size - got))):
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _checked_chunks(hit: Found, h: Hasher, lock: Lock, tick: Callable[[int], None]) -> Iterator[bytes]:
    """The file's bytes in parts, hashed; the lock's check runs before the iterator ends, so a
    file that is not what the lock says aborts the upload instead of completing it."""
    n = 0
    with read_fd(hit.path) as fd:
        while n < hit.file.size and (chunk := os.read(fd, min(PART, hit.file.size - n))):
            h.update(chunk)
            n += len(chunk)
            yield chunk
            tick(len(chunk))
    check_read(h, n, hit, lock)
