"""The export's checked copy with its hash left behind (``Pump.copy_behind``): the destination's own
bytes hashed on other threads, two files at once, each checked against the lock before the tar is whole."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from test_bundle import MB, blob, caches, hub_cache, seed_hf, sha, write_lock, zoofind  # noqa: F401 - the fixture
from zoofind.fetch.integrity import Hasher
from zoofind.models.transfer import Expected
from zoofind.ops.bundle.pump import BLOCK, Pump


def test_files_copied_one_after_another_are_hashed_behind_from_the_destination(tmp_path: Path) -> None:
    sizes = [2 * BLOCK + 12_345, BLOCK, 1, 0, 3 * BLOCK - 1]
    sources = []
    for i, size in enumerate(sizes):
        p = tmp_path / f"src{i}"
        p.write_bytes(os.urandom(size))
        sources.append(p)
    dst = os.open(tmp_path / "out", os.O_RDWR | os.O_CREAT, 0o644)
    pump = Pump()
    try:
        at, done = 7, []  # not at 0: hashes read the destination at each file's own offset
        for p, size in zip(sources, sizes, strict=True):
            h = Hasher(Expected(size), size)
            fd = os.open(p, os.O_RDONLY)
            try:
                n, behind = pump.copy_behind(fd, 0, dst, at, size, h, lambda n: None)
            finally:
                os.close(fd)  # the source may close at once: the hash reads the destination
            done.append((behind, h, n, at))
            at += n
        for (behind, h, n, _), p, size in zip(done, sources, sizes, strict=True):
            behind.wait()
            assert n == size and h.sha256.hexdigest() == hashlib.sha256(p.read_bytes()).hexdigest()
    finally:
        pump.close()
        os.close(dst)
    assert (tmp_path / "out").read_bytes()[7:] == b"".join(p.read_bytes() for p in sources)


def test_a_member_whose_last_block_differs_fails_the_export_after_later_members_copied(caches, tmp_path) -> None:  # noqa: F811 - the fixture
    big = blob(9 * MB, "big")  # three of the pump's blocks
    files = {"a.safetensors": big, "config.json": b"{}", "z.safetensors": blob(5 * MB, "z")}
    lock = write_lock(tmp_path, seed_hf("lab/two", files))
    cached = next(hub_cache().rglob("blobs/" + sha(big)))
    cached.write_bytes(big[:-1] + bytes([big[-1] ^ 1]))
    ran = zoofind("export", "--lock", str(lock), str(tmp_path / "out.tar"))
    assert ran.returncode == 1, ran.stderr
    assert b"a.safetensors" in ran.stderr and b"do not match" in ran.stderr and b"Traceback" not in ran.stderr
    assert not (tmp_path / "out.tar").exists() and not list(tmp_path.glob(".zoofind-tmp-*"))
