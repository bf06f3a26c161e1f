#!/usr/bin/env python3
"""Candidate data paths for the fetch engine's bodies, side by side on one loopback server.

    python benchmarks/datapath.py [--mib 1024] [--runs 3] [--buf-kib 1024] [--only NAME,NAME]
                                  [--dir DIR]

Every candidate GETs the same file from the same sendfile server (benchmarks/pull.py's: the
kernel sends each body, so on loopback the server is not what limits a client) in a process of
its own, and does what the engine has to do with each byte: writes it with ``os.pwrite`` at its
offset and hashes it (SHA-256) on another thread, from the same buffer it was written from
(hashlib releases the GIL on large updates, so on two cores the hash overlaps receiving). Each
candidate prints the digest it computed, checked against the file's.

Candidates (a ``--only`` name each):

* ``httpx``: httpx ``iter_raw`` (the engine's path before), each chunk (a fresh ``bytes``) written
  and handed to the hash thread;
* ``urllib3``: urllib3 ``HTTPResponse.readinto`` a reused buffer (``preload_content=False``);
* ``h11``: h11 over a plain socket (``recv`` of ``--buf-kib``, h11's ``Data`` events);
* ``pycurl``: libcurl (``CURLOPT_BUFFERSIZE`` of ``--buf-kib``), its write callback writing and
  handing each piece to the hash thread (skipped when pycurl is not installed);
* ``pycurl-file``: libcurl writing straight to the file (``WRITEDATA``), then the file hashed
  (libcurl's callbacks give Python no buffer to hash while it writes);
* ``httpclient``: the standard library's ``http.client``, ``HTTPResponse.readinto`` a reused
  memoryview (a ring of buffers, so the hash thread reads one while the next is filled);
* ``socket``: the floor of any Python client: the status line and headers read by hand, then
  ``socket.recv_into`` the ring's buffers (no HTTP library at all);
* ``zoofind``: the fetch engine itself (``Engine().run``, this checkout's ``src``): its data path,
  resume state, progress, a ``Follower`` thread hashing behind the writer, the final check.

Peers: ``curl -s -o``, "curl then sha256sum" (the two commands one after the other, their times
added), "curl then hashlib sha256" (the same with Python's hashlib, OpenSSL's SHA-256, which on a
CPU with SHA extensions is several times faster than coreutils') and ``curl -s | sha256sum``
(no file written). Runs are interleaved (every candidate once
per round, the first round only warming caches), figures are medians; the load average is
printed at the start and end, since other processes on a shared machine slow every candidate.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
MiB = 1024 * 1024
MB = 1000 * 1000
GiB = 1024**3
PATH = "/big.bin"
#: The SHA-256 of a file as Python computes it (OpenSSL's, with the CPU's SHA extensions where
#: there are any): coreutils' sha256sum may use its own, slower code.
HASH_FILE = ("import hashlib, sys\nh = hashlib.sha256()\nwith open(sys.argv[1], 'rb') as f:\n"
             "    while b := f.read(4 << 20):\n        h.update(b)\nprint(h.hexdigest())")


# -- the child side: one candidate, run as `datapath.py --client NAME URL OUT BUF` ------------------
class Sink:
    """Writes each piece at its offset (``os.pwrite``) and hashes it on a thread of its own.

    ``ring`` buffers are lent to the reader (``lend``) and come back once hashed; a reader that
    produces fresh ``bytes`` instead hands them over with ``put``."""

    def __init__(self, out: str, buf: int, ring: int = 4) -> None:
        self.fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self.pos = 0
        self.sha = hashlib.sha256()
        self.views = [memoryview(bytearray(buf)) for _ in range(ring)]
        self.free: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(ring):
            self.free.put(i)
        self.todo: queue.SimpleQueue[tuple[int, int] | bytes | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._hash, daemon=True)
        self.thread.start()

    def _hash(self) -> None:
        while (item := self.todo.get()) is not None:
            if isinstance(item, bytes):
                self.sha.update(item)
            else:
                i, n = item
                self.sha.update(self.views[i][:n])
                self.free.put(i)

    def lend(self) -> tuple[int, memoryview]:
        i = self.free.get()
        return i, self.views[i]

    def give(self, i: int, n: int) -> None:
        """Buffer ``i`` holds ``n`` new bytes (0: it comes back unused)."""
        if n <= 0:
            self.free.put(i)
            return
        _pwrite_all(self.fd, self.views[i][:n], self.pos)
        self.pos += n
        self.todo.put((i, n))

    def put(self, data: bytes) -> None:
        if data:
            _pwrite_all(self.fd, data, self.pos)
            self.pos += len(data)
            self.todo.put(data)

    def close(self) -> str:
        self.todo.put(None)
        self.thread.join()
        os.close(self.fd)
        return self.sha.hexdigest()


def _pwrite_all(fd: int, data: bytes | memoryview, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n


def _read_into(sink: Sink, readinto: Callable[[memoryview], int]) -> None:
    """Each of the sink's buffers filled by ``readinto`` until the body ends."""
    while True:
        i, view = sink.lend()
        n = readinto(view)
        sink.give(i, n)
        if not n:
            break


def run_httpx(url: str, sink: Sink, buf: int) -> None:
    import httpx

    with httpx.Client() as client, client.stream("GET", url) as resp:
        for chunk in resp.iter_raw():
            sink.put(chunk)


def run_urllib3(url: str, sink: Sink, buf: int) -> None:
    import urllib3

    pool = urllib3.PoolManager()
    resp = pool.request("GET", url, preload_content=False, decode_content=False)
    _read_into(sink, resp.readinto)
    resp.release_conn()


def run_h11(url: str, sink: Sink, buf: int) -> None:
    import h11

    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    conn = h11.Connection(h11.CLIENT)
    sock.sendall(conn.send(h11.Request(method="GET", target=parts.path, headers=[("Host", parts.netloc)])))
    sock.sendall(conn.send(h11.EndOfMessage()))
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(sock.recv(buf))
        elif isinstance(event, h11.Data):
            sink.put(bytes(event.data))
        elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
            break
    sock.close()


def run_pycurl(url: str, sink: Sink, buf: int) -> None:
    import pycurl

    c = pycurl.Curl()
    c.setopt(pycurl.URL, url)
    c.setopt(pycurl.BUFFERSIZE, buf)
    c.setopt(pycurl.WRITEFUNCTION, sink.put)
    c.perform()
    c.close()


def run_pycurl_file(url: str, out: str, buf: int) -> str:
    import pycurl

    with open(out, "wb") as fh:
        c = pycurl.Curl()
        c.setopt(pycurl.URL, url)
        c.setopt(pycurl.BUFFERSIZE, buf)
        c.setopt(pycurl.WRITEDATA, fh)
        c.perform()
        c.close()
    h = hashlib.sha256()
    with open(out, "rb") as fh:
        while block := fh.read(4 * MiB):
            h.update(block)
    return h.hexdigest()


def run_httpclient(url: str, sink: Sink, buf: int) -> None:
    import http.client

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    conn.request("GET", parts.path)
    resp = conn.getresponse()
    _read_into(sink, resp.readinto)
    conn.close()


def run_socket(url: str, sink: Sink, buf: int) -> None:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.sendall(f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        more = sock.recv(65536)
        if not more:
            raise SystemExit("closed before the headers ended")
        head += more
    head, _, body = head.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    sink.put(bytes(body))
    left = length - len(body)
    while left > 0:
        i, view = sink.lend()
        got = 0
        while got < len(view) and left > 0:  # fill the buffer: one hand-over per buffer, not per recv
            n = sock.recv_into(view[got:min(len(view), got + left)])
            if not n:
                raise SystemExit("closed early")
            got += n
            left -= n
        sink.give(i, got)
    sock.close()


CLIENTS: dict[str, Callable[[str, Sink, int], None]] = {
    "httpx": run_httpx, "urllib3": run_urllib3, "h11": run_h11, "pycurl": run_pycurl,
    "httpclient": run_httpclient, "socket": run_socket,
}


def run_engine(url: str, out: str) -> str:
    """zoofind's fetch engine itself (``net.wire``, a ``Follower`` hashing behind the writer),
    resume state, progress and checks included: what `zoofind pull` does with the bytes."""
    from zoofind.fetch.scheduler import Engine
    from zoofind.models.transfer import Download, Expected

    target = Path(out)
    d = Download(url, target, target.with_name(target.name + ".lock"),
                 Expected(size=int(os.environ["DATAPATH_SIZE"])), target.name)
    (got,) = Engine().run([d])
    if isinstance(got, BaseException):
        raise got
    return got.sha256


def child(name: str, url: str, out: str, buf: int) -> None:
    if name == "zoofind":
        print(run_engine(url, out))
        return
    if name == "pycurl-file":
        print(run_pycurl_file(url, out, buf))
        return
    sink = Sink(out, buf)
    CLIENTS[name](url, sink, buf)
    print(sink.close())


# -- the parent side ---------------------------------------------------------------------------
def measured(cmd: list[str] | str, env: dict[str, str]) -> tuple[float, float, int, str]:
    """(wall s, CPU s, peak RSS bytes, stdout) of a command run from a small parent (a child's
    ru_maxrss counts the process it was forked from, so not from this one, which holds the server)."""
    shell = isinstance(cmd, str)
    script = ("import os, subprocess, sys, time, resource\n"
              "t0 = time.perf_counter()\n"
              f"proc = subprocess.Popen(sys.argv[1] if {shell} else sys.argv[1:], shell={shell}, "
              "stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)\n"
              "out = proc.stdout.read()\n"
              "proc.wait()\n"
              "wall = time.perf_counter() - t0\n"
              "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
              "print(wall, u.ru_utime + u.ru_stime, u.ru_maxrss * 1024, proc.returncode)\n"
              "sys.stdout.write(out.decode())\n")
    args = [sys.executable, "-c", script, *([cmd] if shell else cmd)]
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    first, _, rest = done.stdout.partition("\n")
    wall, cpu, rss, rc = first.split()
    if done.returncode or rc != "0":
        raise SystemExit(f"{cmd} failed: {done.stderr.strip()[-2000:]}")
    return float(wall), float(cpu), int(rss), rest.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=1024, help="size of the file (MiB)")
    parser.add_argument("--runs", type=int, default=3, help="measured rounds (medians); one more warms caches")
    parser.add_argument("--buf-kib", type=int, default=1024, help="read buffer of the candidates that take one")
    parser.add_argument("--only", default="", help="candidates to run, comma-separated (peers always run)")
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary folder goes")
    parser.add_argument("--client", nargs=4, metavar=("NAME", "URL", "OUT", "BUF"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        name, url, out, buf = args.client
        child(name, url, out, int(buf))
        return 0

    sys.path.insert(0, str(HERE))
    from pull import SendfileServer, quiet_resets, sha256_of, write_random  # noqa: PLC0415

    quiet_resets()
    names = [n for n in (args.only.split(",") if args.only else [*CLIENTS, "pycurl-file", "zoofind"]) if n]
    try:
        import pycurl  # noqa: F401
    except ImportError:
        skipped = [n for n in names if n.startswith("pycurl")]
        names = [n for n in names if not n.startswith("pycurl")]
        if skipped:
            print(f"pycurl is not installed: {', '.join(skipped)} skipped (pip install pycurl)")
    size = args.mib * MiB
    buf = args.buf_kib * 1024
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["DATAPATH_SIZE"] = str(size)
    src_dir = HERE.parent / "src"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src_dir), env.get("PYTHONPATH")]))
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="zoofind-datapath-", dir=args.dir) as tmp_name:
        tmp = Path(tmp_name)
        src = write_random(tmp / "src.bin", size)
        digest = sha256_of(src)
        out = tmp / "out.bin"
        results: dict[str, list[tuple[float, float, int]]] = {}
        with SendfileServer({PATH: src}) as srv:
            url = srv.url + PATH
            peers: dict[str, list[str] | str] = {
                "curl -s -o": ["curl", "-s", "-o", str(out), url],
                "sha256sum (of that file)": ["sha256sum", str(out)],
                "hashlib (of that file)": [sys.executable, "-c", HASH_FILE, str(out)],
                "curl -s | sha256sum": f"curl -s {url} | sha256sum",
            }
            for rnd in range(args.runs + 1):
                for label, cmd in [*peers.items(), *((n, [sys.executable, __file__, "--client", n, url, str(out),
                                                        str(buf)]) for n in names)]:
                    if not label.endswith("(of that file)"):
                        out.unlink(missing_ok=True)
                    wall, cpu, rss, said = measured(cmd, env)
                    if label not in ("curl -s -o", "curl -s | sha256sum") and said.split()[0] != digest:
                        raise SystemExit(f"{label} computed {said!r}, not the file's sha256")
                    if label == "curl -s | sha256sum" and said.split()[0] != digest:
                        raise SystemExit(f"curl | sha256sum said {said!r}")
                    if rnd:
                        results.setdefault(label, []).append((wall, cpu, rss))
        load1 = os.getloadavg()
    med = statistics.median
    rows = {label: (med(r[0] for r in runs), med(r[1] for r in runs), max(r[2] for r in runs))
            for label, runs in results.items()}
    curl_s = rows["curl -s -o"][0]
    sha = rows.pop("sha256sum (of that file)")
    lib = rows.pop("hashlib (of that file)")
    c = rows["curl -s -o"]
    verified = (c[0] + sha[0], c[1] + sha[1], max(c[2], sha[2]))
    ordered = {"curl -s -o": c, "curl -s -o, then sha256sum": verified,
               "curl -s -o, then hashlib sha256": (c[0] + lib[0], c[1] + lib[1], max(c[2], lib[2])),
               **{k: v for k, v in rows.items() if k != "curl -s -o"}}
    gib = size / GiB
    print(f"{args.mib} MiB over loopback (sendfile server), median of {args.runs} runs, "
          f"read buffer {args.buf_kib} KiB; "
          f"load average {load0[0]:.2f} before, {load1[0]:.2f} after; {os.cpu_count()} cores")
    print(f"| {'candidate':30} | {'MB/s':>6} | {'x curl':>6} | {'x curl then sha256sum':>21} | {'CPU s/GiB':>9} "
          f"| {'peak MB':>7} |")
    print(f"|{'-' * 32}|{'-' * 8}:|{'-' * 8}:|{'-' * 23}:|{'-' * 11}:|{'-' * 9}:|")
    for label, (wall, cpu, rss) in ordered.items():
        print(f"| {label:30} | {size / wall / MB:6.0f} | {curl_s / wall:6.2f} | {verified[0] / wall:21.2f} "
              f"| {cpu / gib:9.2f} | {rss / MB:7.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
