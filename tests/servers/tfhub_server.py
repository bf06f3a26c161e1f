"""A local tfhub.dev that resolves handles the way the real one does since the Kaggle move.

``GET /<handle>?tf-hub-format=compressed`` (what ``tensorflow_hub`` requests):

* a migrated handle answers 302 to its Kaggle Models page
  (``/models/<owner>/<model>/<framework>/<variation>/<version>?tfhub-redirect=true``,
  served by this same server playing www.kaggle.com), which 302s to a storage URL
  whose 200 answer announces a 2 GB tarball and trickles it out slowly: a client that
  reads the body instead of closing it hangs;
* a handle that was not migrated answers 302 to Kaggle's model index
  (``/models?tfhub-redirect=true``, 200), as tfhub.dev does;
* a deleted handle answers 404, a withdrawn one 410;
* ``loop/...`` handles redirect to each other forever;
* ``flaky/...`` answers 503.

Real archives: ``tfhub.add_model(handle, variant="good", kaggle=None)`` (or ``archive=bytes``)
makes ``handle`` migrated to ``kaggle`` (default ``<owner>/<model>/tensorFlow2/default/<version>``)
with a storage URL ``/storage/kaggle-models-data/<n>/<version>/model.tar.gz`` (the second
redirect) that serves the archive for real: 200/206/416 with ``Range``, ``ETag`` (md5),
``x-goog-hash: md5=<base64>``, ``Content-Type: application/x-tar``, ``Last-Modified`` (see
bodies.py). It returns the archive's bytes. ``saved_model_archive(variant)`` builds them with
tarfile (deterministic bytes): ``good`` is a SavedModel folder (``saved_model.pb``,
``variables/variables.index``, ``variables/variables.data-00000-of-00001``, ``assets/vocab.txt``,
``fingerprint.pb``); the others are ``good`` plus one defect each (``HOSTILE`` and ``DAMAGED``):
``bad_crc`` (the gzip trailer's CRC32 flipped: tarfile still lists it, only reading the gzip
stream to its end shows it), ``truncated`` (cut in the middle), ``dotdot`` (a member
``../escaped.txt``), ``absolute`` (``/tmp/zoofind-escaped.txt``), ``symlink`` (``variables/link``
-> ``../../../../etc/passwd``), ``abs_symlink`` (-> ``/etc/passwd``), ``hardlink``
(``variables/hard`` linked to ``../../outside.txt``), ``device`` (a character device
``dev/zero`` and a block device ``dev/sda``), ``fifo``.

Every request is logged in ``requests`` (dicts: method, path with query, headers, and ``entry``,
the same request as a ``Logged`` with its status) and in ``entries`` (``Logged``, see bodies.py). ``delay`` holds each answer back that many
seconds; ``fail_with`` (e.g. 503) makes every answer that status. The archive route has every
fault knob of bodies.py (``ignore_range``, ``rate_bps``, ``drop_after``, ``corrupt`` (a set of
handles), ``fail_status``/``fail_times``/``retry_after``, ``faults_on``) and the counters
``bytes_sent``/``bytes_by_key`` (keyed by handle).
"""

from __future__ import annotations

import base64
import gzip
import io
import random
import tarfile
import zlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .bodies import Body, BodyHandler, Faults, Logged, send_body
from .loopback import LoopbackServer

#: tfhub handle -> Kaggle Models handle (owner/model/framework/variation/version)
MIGRATED: dict[str, str] = {
    "google/yamnet/1": "google/yamnet/tensorFlow2/yamnet/1",
    "google/imagenet/mobilenet_v2_100_224/classification/5": "google/mobilenet-v2/tensorFlow2/100-224-classification/2",
    "google/lite-model/aiy/vision/classifier/birds_V1/3": "google/aiy/tfLite/vision-classifier-birds-v1/3",
}
NOT_MIGRATED = {"google/universal-sentence-encoder-qa-ondevice/1"}
DELETED = {"captain-pool/esrgan-tf2/1", "google/deleted-model/1"}
WITHDRAWN = {"google/withdrawn-model/1"}
TARBALL_SIZE = 2 * 1024**3

HOSTILE = ("dotdot", "absolute", "symlink", "abs_symlink", "hardlink", "device", "fifo")
DAMAGED = ("bad_crc", "truncated")
SAVED_MODEL = {
    "saved_model.pb": b"\x08\x01\x12\x0ctest-graph" + bytes(range(256)) * 8,
    "fingerprint.pb": b"\x08\x96\x01\x10\x2a",
    "variables/variables.index": b"\x00\x01index" * 16,
    "variables/variables.data-00000-of-00001": random.Random(0).randbytes(64 * 1024),
    "assets/vocab.txt": b"a\nb\nc\n",
}


def _info(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, **kw: Any) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mtime, info.mode = kind, size, 1_700_000_000, 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.uname = info.gname = "root"
    for key, value in kw.items():
        setattr(info, key, value)
    return info


def saved_model_archive(variant: str = "good") -> bytes:
    """A .tar.gz of a SavedModel folder, good or with one defect (see the module docstring)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for folder in ("variables", "assets"):
            tar.addfile(_info(folder, tarfile.DIRTYPE))
        for name, data in SAVED_MODEL.items():
            tar.addfile(_info(name, size=len(data)), io.BytesIO(data))
        evil = b"escaped\n"
        extra = {
            "dotdot": [(_info("../escaped.txt", size=len(evil)), evil)],
            "absolute": [(_info("/tmp/zoofind-escaped.txt", size=len(evil)), evil)],
            "symlink": [(_info("variables/link", tarfile.SYMTYPE, linkname="../../../../etc/passwd"), None)],
            "abs_symlink": [(_info("variables/link", tarfile.SYMTYPE, linkname="/etc/passwd"), None)],
            "hardlink": [(_info("variables/hard", tarfile.LNKTYPE, linkname="../../outside.txt"), None)],
            "device": [(_info("dev/zero", tarfile.CHRTYPE, devmajor=1, devminor=5), None),
                       (_info("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0), None)],
            "fifo": [(_info("variables/pipe", tarfile.FIFOTYPE), None)],
        }
        if variant not in ("good", *DAMAGED, *extra):
            raise ValueError(f"unknown archive variant {variant!r}")
        for info, data in extra.get(variant, []):
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    packed = gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)
    if variant == "bad_crc":
        crc = bytearray(packed[-8:-4])
        crc[0] ^= 0xFF
        packed = packed[:-8] + bytes(crc) + packed[-4:]
    elif variant == "truncated":
        packed = packed[: len(packed) // 2]
    return packed


class TfhubServer(LoopbackServer, Faults):
    def __init__(self, delay: float = 0.0) -> None:
        Faults.__init__(self, delay=delay)
        self._init_faults()
        self.fail_with: int | None = None
        self.requests: list[dict[str, Any]] = []  # type: ignore[assignment]
        self.entries: list[Logged] = []
        self.archives: dict[str, tuple[str, Body]] = {}  # tfhub handle -> (kaggle handle, archive)
        server = self

        class Handler(BodyHandler):
            faults = server

            def do_HEAD(self) -> None:  # noqa: N802
                server._handle(self, head=True)

            def do_GET(self) -> None:  # noqa: N802
                server._handle(self, head=False)

        self._listen(Handler)

    def add_model(self, handle: str, variant: str = "good", *, archive: bytes | None = None, kaggle: str | None = None) -> bytes:
        """Serve a real archive for ``handle`` behind the two redirects; return its bytes."""
        owner, model, version = handle.split("/")[0], handle.split("/")[-2], handle.split("/")[-1]
        data = archive if archive is not None else saved_model_archive(variant)
        with self._lock:
            self.archives[handle] = (kaggle or f"{owner}/{model}/tensorFlow2/default/{version}", Body(data))
        return data

    # -- log -----------------------------------------------------------------------
    def _record(self, entry: Logged) -> None:
        with self._lock:
            self.entries.append(entry)

    def log(self, path_prefix: str = "") -> list[Logged]:
        with self._lock:
            return [r for r in self.entries if r.path.startswith(path_prefix)]

    def clear(self) -> None:
        """Forget both request logs and zero the counters (the knobs stay)."""
        super().clear()
        with self._lock:
            self.entries.clear()

    # -- protocol -----------------------------------------------------------------
    def _handle(self, h: BodyHandler, *, head: bool) -> None:
        entry, _ = h.begin()
        with self._lock:
            self.requests.append({"method": h.command, "path": h.path, "headers": dict(h.headers), "entry": entry})
        parts = urlsplit(h.path)
        path = parts.path.strip("/")
        query = parse_qs(parts.query)

        def fail(status: int, retry_after: int | None) -> None:
            h.send_plain(status, b"failing on purpose", headers={"Retry-After": str(retry_after)} if retry_after is not None else {})

        if h.gate(parts.path, fail):
            return
        if self.fail_with:
            return self._send(h, self.fail_with, b"failing on purpose", "text/plain")
        with self._lock:
            archives = dict(self.archives)
        by_kaggle = {k: (handle, body) for handle, (k, body) in archives.items()}
        kaggle_of = {**MIGRATED, **{handle: k for handle, (k, _) in archives.items()}}

        if path.startswith("storage/"):
            for kaggle, (handle, body) in by_kaggle.items():
                if path == self._storage_path(kaggle):
                    md5 = base64.b64encode(bytes.fromhex(body.md5)).decode()
                    return send_body(h, body, key=handle, etag=body.md5, ctype="application/x-tar",
                                     headers={"x-goog-hash": f"md5={md5}", "x-goog-storage-class": "STANDARD"})
            return self._tarball(h, head)
        if path == "models":
            return self._send(h, 200, b"<html>Kaggle Models</html>", "text/html")
        if path.startswith("models/"):
            handle = path[len("models/"):]
            if handle in kaggle_of.values():
                if "tf-hub-format" in query or "lite-format" in query:
                    target = self._storage_path(handle) if handle in by_kaggle else f"storage/kaggle-models-data/{len(handle)}/model.tar.gz"
                    return self._redirect(h, f"{self.url}/{target}")
                return self._send(h, 200, f"<html>Kaggle model {handle}</html>".encode(), "text/html")
            return self._send(h, 404, b"not found", "text/plain")
        if path.startswith("loop/"):
            nxt = "loop/b/1" if path == "loop/a/1" else "loop/a/1"
            return self._redirect(h, f"{self.url}/{nxt}?tf-hub-format=compressed")
        if path.startswith("flaky/"):
            return self._send(h, 503, b"Service Unavailable", "text/plain")
        if path in kaggle_of:
            fmt = "&".join(f"{k}={v[0]}" for k, v in query.items())
            return self._redirect(h, f"{self.url}/models/{kaggle_of[path]}?tfhub-redirect=true" + (f"&{fmt}" if fmt else ""))
        if path in NOT_MIGRATED:
            return self._redirect(h, f"{self.url}/models?tfhub-redirect=true")
        if path in WITHDRAWN:
            return self._send(h, 410, b"Gone", "text/plain")
        if path == "":
            return self._redirect(h, f"{self.url}/models?tfhub-redirect=true", code=301)
        return self._send(h, 404, b"Not Found", "text/plain")

    @staticmethod
    def _storage_path(kaggle: str) -> str:
        version = kaggle.rsplit("/", 1)[-1]
        return f"storage/kaggle-models-data/{zlib.crc32(kaggle.encode()) % 10**6}/{version}/model.tar.gz"

    def _redirect(self, h: BodyHandler, location: str, code: int = 302) -> None:
        h.send_plain(code, b"", headers={"Location": location})

    def _send(self, h: BodyHandler, code: int, body: bytes, ctype: str) -> None:
        h.send_plain(code, body, ctype)

    def _tarball(self, h: BodyHandler, head: bool) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/x-tar")
        h.send_header("Content-Length", str(TARBALL_SIZE))
        h.end_headers()
        if head:
            return
        try:
            # Trickle: a client that reads the body would wait ~forever.
            for _ in range(600):
                h.wfile.write(b"\0" * 1024)
                h.wfile.flush()
                if self._stopping.wait(0.05):
                    break
        except OSError:
            pass  # the client closed the connection, as it should
        h.close_connection = True
