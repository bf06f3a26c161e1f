#!/usr/bin/env python3
"""A Hub repo of 200,000 files planned with ``pull --dry-run``: wall time, CPU time and peak memory.

    python benchmarks/large_listing.py [--files 200000] [--runs 3] [--format json|tsv] [--siblings all|none]

Serves one repo, ``big/listing``, from a local server in its own process (every answer built
before the clock starts, so the server's own cost is a socket write): ``/api/models/{repo}``
with ``blobs=true`` (its ``siblings``: every file, as a Hub that does not truncate them would
answer, or ``--siblings none``), and the tree API ``/api/models/{repo}/tree/{commit}?recursive=true``
in pages of 1,000 entries linked by ``Link: <...>; rel="next"``, as the Hub pages it (folders
first, a cursor in the next page's address). The files: three top-level folders (``train/``
150,000, ``validation/`` 30,000, ``test/`` the rest) in sub-folders of 1,000, one in ten an LFS
file, plus a root ``config.json``, ``README.md`` and ``model.safetensors``.

Each run is a fresh ``zoofind pull hf:big/listing --dry-run --format FORMAT`` process (HOME and
caches in a temporary folder), measured with ``wait4``: wall time, user + system CPU time and
peak RSS of that process alone. Target (issue 21): at most 10 s and 300 MB.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

REPO = "big/listing"
COMMIT = hashlib.sha1(b"big/listing").hexdigest()
PAGE = 1000


def files(n: int) -> list[dict[str, object]]:
    """The repo's files as the tree API lists them (folders left out), in the Hub's walk order."""
    root = ["config.json", "README.md", "model.safetensors"]
    rest = n - len(root)
    split = {"train": min(rest, 150_000), "validation": min(max(rest - 150_000, 0), 30_000)}
    split["test"] = max(rest - split["train"] - split["validation"], 0)
    out: list[dict[str, object]] = []
    i = 0
    for top, count in split.items():
        for k in range(count):
            out.append(_file(f"{top}/shard-{k // 1000:03d}/{k:06d}.json", i))
            i += 1
    return out + [_file(p, i + j) for j, p in enumerate(root)]


def _file(path: str, i: int) -> dict[str, object]:
    size = 2_000 + (i * 7919) % 60_000
    oid = hashlib.sha1(path.encode()).hexdigest()
    entry: dict[str, object] = {"type": "file", "oid": oid, "size": size, "path": path}
    if i % 10 == 0 or path.endswith(".safetensors"):
        size = 5_000_000 + i
        entry["size"] = size
        entry["lfs"] = {"oid": hashlib.sha256(path.encode()).hexdigest(), "size": size, "pointerSize": 134}
    return entry


def tree(listing: list[dict[str, object]]) -> list[dict[str, object]]:
    """The recursive tree: each folder's entry before what it holds, as the Hub walks it."""
    out: list[dict[str, object]] = []
    seen: set[str] = set()
    for f in listing:
        parts = str(f["path"]).split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder not in seen:
                seen.add(folder)
                out.append({"type": "directory", "oid": hashlib.sha1(folder.encode()).hexdigest(), "size": 0,
                            "path": folder})
        out.append(f)
    return out


def siblings(listing: list[dict[str, object]]) -> list[dict[str, object]]:
    out = []
    for f in listing:
        s: dict[str, object] = {"rfilename": f["path"], "size": f["size"], "blobId": f["oid"]}
        if "lfs" in f:
            lfs = f["lfs"]
            assert isinstance(lfs, dict)
            s["lfs"] = {"size": lfs["size"], "sha256": lfs["oid"], "pointerSize": 134}
        out.append(s)
    return out


def serve(n: int, with_siblings: bool, port_file: str) -> None:
    listing = files(n)
    entries = tree(listing)
    info = json.dumps({"_id": "0" * 24, "id": REPO, "modelId": REPO, "sha": COMMIT, "private": False, "gated": False,
                       "disabled": False, "tags": [], "downloads": 0, "likes": 0, "library_name": "transformers",
                       "lastModified": "2026-01-01T00:00:00.000Z",
                       "siblings": siblings(listing) if with_siblings else []}).encode()
    pages = [json.dumps(entries[i:i + PAGE]).encode() for i in range(0, len(entries), PAGE)]
    del listing, entries

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            headers = {"Content-Type": "application/json"}
            if url.path in (f"/api/models/{REPO}", f"/api/models/{REPO}/revision/main"):
                body = info
            elif url.path.startswith(f"/api/models/{REPO}/tree/"):
                cursor = query.get("cursor", [""])[0]
                page = int(base64.urlsafe_b64decode(cursor).decode()) if cursor else 0
                body = pages[page] if page < len(pages) else b"[]"
                if page + 1 < len(pages):
                    nxt = base64.urlsafe_b64encode(str(page + 1).encode()).decode()
                    host = self.headers.get("Host")
                    headers["Link"] = (f"<http://{host}{url.path}?recursive=true&expand=false&cursor={nxt}>; "
                                       'rel="next"')
            else:
                body = json.dumps({"error": "not found"}).encode()
                self.send_response(404)
                self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(200)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Path(port_file).write_text(str(httpd.server_address[1]))
    httpd.serve_forever()


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, int, str]:
    """Wall s, CPU s, peak RSS MB, exit code, and stderr's last line of one process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        size = len(out.read())
        err.seek(0)
        tail = err.read().decode(errors="replace").strip().splitlines()
    if proc.returncode != 0 or size == 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {proc.returncode}, {size} bytes out: {' '.join(tail[-3:])}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, size, (tail[0] if tail else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--format", default="json", choices=("json", "tsv", "table"))
    parser.add_argument("--siblings", default="all", choices=("all", "none"))
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.files, args.siblings == "all", args.serve)
        return 0
    zoofind = shutil.which("zoofind")
    base = [zoofind] if zoofind and not os.environ.get("PYTHONPATH") else [sys.executable, "-m", "zoofind"]
    with tempfile.TemporaryDirectory() as tmp:
        port_file = os.path.join(tmp, "port")
        server = subprocess.Popen([sys.executable, __file__, "--files", str(args.files), "--siblings", args.siblings,
                                   "--serve", port_file])
        try:
            while not os.path.exists(port_file) or not Path(port_file).read_text():
                if server.poll() is not None:
                    raise SystemExit("the server did not start")
                time.sleep(0.1)
            port = Path(port_file).read_text()
            env = {**os.environ, "HOME": tmp, "HF_HOME": os.path.join(tmp, "hf"),
                   "XDG_CACHE_HOME": os.path.join(tmp, "c"), "ZOOFIND_CACHE_DIR": os.path.join(tmp, "zc"),
                   "HF_ENDPOINT": f"http://127.0.0.1:{port}"}
            for name in ("HF_TOKEN", "ZOOFIND_DEBUG", "ZOOFIND_OFFLINE", "HF_HUB_OFFLINE", "PYTHONDONTWRITEBYTECODE"):
                env.pop(name, None)
            cmd = [*base, "pull", f"hf:{REPO}", "--dry-run", "--format", args.format]
            rows = []
            for _ in range(args.runs):
                load = os.getloadavg()[0]
                wall, cpu, rss, size, note = run(cmd, env)
                rows.append((wall, cpu, rss))
                print(f"  wall {wall:6.2f} s  cpu {cpu:6.2f} s  peak RSS {rss:6.0f} MB  stdout {size / 1e6:.1f} MB  "
                      f"(load {load:.1f})  {note[:80]}")
        finally:
            server.kill()
            server.wait()
    wall, cpu, rss = (statistics.median(c) for c in zip(*rows, strict=True))
    print(f"{args.files:,} files, --format {args.format}, siblings {args.siblings}: median of {args.runs}: "
          f"wall {wall:.2f} s, cpu {cpu:.2f} s, peak RSS {rss:.0f} MB (target: 10 s, 300 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
