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

Every request is logged (method, path with query, headers) so tests can count them.
``delay`` holds each answer back that many seconds; ``fail_with`` (e.g. 503) makes every
answer that status.
"""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .loopback import LoopbackServer, QuietHandler

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


class TfhubServer(LoopbackServer):
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.fail_with: int | None = None
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(QuietHandler):
            def do_HEAD(self) -> None:  # noqa: N802
                server._handle(self, head=True)

            def do_GET(self) -> None:  # noqa: N802
                server._handle(self, head=False)

        self._listen(Handler)

    # -- protocol -----------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler, *, head: bool) -> None:
        with self._lock:
            self.requests.append({"method": h.command, "path": h.path, "headers": dict(h.headers)})
        if self.delay:
            time.sleep(self.delay)
        if self.fail_with:
            return self._send(h, self.fail_with, b"failing on purpose", "text/plain")
        parts = urlsplit(h.path)
        path = parts.path.strip("/")
        query = parse_qs(parts.query)

        if path.startswith("storage/"):
            return self._tarball(h, head)
        if path == "models":
            return self._send(h, 200, b"<html>Kaggle Models</html>", "text/html")
        if path.startswith("models/"):
            handle = path[len("models/"):]
            if handle in MIGRATED.values():
                if "tf-hub-format" in query or "lite-format" in query:
                    return self._redirect(h, f"{self.url}/storage/kaggle-models-data/{len(handle)}/model.tar.gz")
                return self._send(h, 200, f"<html>Kaggle model {handle}</html>".encode(), "text/html")
            return self._send(h, 404, b"not found", "text/plain")
        if path.startswith("loop/"):
            nxt = "loop/b/1" if path == "loop/a/1" else "loop/a/1"
            return self._redirect(h, f"{self.url}/{nxt}?tf-hub-format=compressed")
        if path.startswith("flaky/"):
            return self._send(h, 503, b"Service Unavailable", "text/plain")
        if path in MIGRATED:
            fmt = "&".join(f"{k}={v[0]}" for k, v in query.items())
            return self._redirect(h, f"{self.url}/models/{MIGRATED[path]}?tfhub-redirect=true" + (f"&{fmt}" if fmt else ""))
        if path in NOT_MIGRATED:
            return self._redirect(h, f"{self.url}/models?tfhub-redirect=true")
        if path in WITHDRAWN:
            return self._send(h, 410, b"Gone", "text/plain")
        if path == "":
            return self._redirect(h, f"{self.url}/models?tfhub-redirect=true", code=301)
        return self._send(h, 404, b"Not Found", "text/plain")

    def _redirect(self, h: BaseHTTPRequestHandler, location: str, code: int = 302) -> None:
        h.send_response(code)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    def _send(self, h: BaseHTTPRequestHandler, code: int, body: bytes, ctype: str) -> None:
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _tarball(self, h: BaseHTTPRequestHandler, head: bool) -> None:
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
                time.sleep(0.05)
        except OSError:
            pass  # the client closed the connection, as it should
        h.close_connection = True
