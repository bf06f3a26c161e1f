#!/usr/bin/env python3
"""`zoofind pull` against its peers on local servers: the six targets of the `pull` issue.

    python benchmarks/pull.py [--big-mib 1024] [--capped-mib 512] [--rate-mib 16]
                              [--repo-mib 256] [--resume-mib 256] [--runs 3] [--repo-runs 5]
                              [--offline-runs 11] [--dir DIR]
                              [--only 1,2,3,4,5,6]

Every figure is a ratio against a peer measured in the same run (runs interleaved, medians
where a run is cheap), so a busy machine slows both sides alike:

1. One file of --big-mib over loopback: `zoofind pull torchvision:...` against `curl -s -o`
   on the same server. Targets (issue 21): at least 0.8x curl's throughput, at least 1.0x
   "curl then the SHA-256 of the file" (Python's hashlib, OpenSSL's SHA-256, the faster of
   the two on this machine; coreutils' `sha256sum` is printed beside it), and at most 2.5 s CPU
   per GiB, SHA-256 included. The server is a sendfile
   server defined here (tests/servers/files_server.py copies every byte through Python and
   would be the bottleneck of both: its curl figure is printed for comparison).
2. A server pacing each connection at --rate-mib MiB/s (FileServer / HubServer ``rate_bps``),
   a file of --capped-mib: default --jobs against --jobs 1, once as a torchvision checkpoint
   and once as a Hugging Face LFS file. Target: at least 3x faster.
3. A 20-file repo (16 small text files, 4 LFS safetensors shards, --repo-mib in all) on the
   local Hub: `zoofind pull hf:...` against huggingface_hub's `snapshot_download` (in a
   subprocess, HF_HUB_DISABLE_XET=1). Target: zoofind at least as fast (ratio <= 1.0).
4. kill -9 of a pull at 50% of the file's bytes sent by a paced server, then a re-run: bytes
   the server sent in all / file size, for a torchvision checkpoint (one stream) and an LFS
   file (byte ranges). Target: at most 1.05.
5. Peak memory (the child's ru_maxrss, measured from a small parent: a child's figure counts
   the process it was forked from) of the pulls of step 1. Target: under 150 MB.
6. An already-cached model pulled with `--offline` (the checkpoint of step 1, the repo of
   step 3; each pulled once first when those steps are not run) against `zoofind search
   protein --offline`, medians of --offline-runs, wall and CPU time. Target: at most 1.5x.

Exit code 1 when a target is missed. Needs curl and huggingface_hub; about 4 minutes with
the defaults, most of it step 2's single connections (smaller --*-mib for a quick look,
--only to pick steps). Files go to a temporary folder (--dir; about 3 GB with the defaults).

On a busy machine with few cores the loopback figure is bound by CPU time per byte, so the
report gives CPU seconds per GiB beside wall time, a second peer that does what a pull
does besides the transfer (curl, then the SHA-256 of the file), and a third that shows the
floor of a Python client on httpx (its ``iter_raw`` into the file, nothing checked).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socketserver
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from servers.bodies import parse_range  # noqa: E402
from servers.files_server import FileServer  # noqa: E402
from servers.hf_server import HubServer  # noqa: E402
from servers.loopback import LoopbackServer, QuietHandler  # noqa: E402

MiB = 1024 * 1024
MB = 1000 * 1000
MODEL = "torchvision:quantized_resnet18.IMAGENET1K_FBGEMM_V1"
#: Its checkpoint name has no ``-<hash>.`` part, so any bytes pass torch.hub's hash-prefix check.
CHECKPOINT = "/models/quantized/resnet18_fbgemm_16fa66dd.pth"
REPO = "bench-lab/protein-sharded"
HASH_FILE = ("import hashlib, sys\nh = hashlib.sha256()\nwith open(sys.argv[1], 'rb') as f:\n"
             "    while b := f.read(4 << 20):\n        h.update(b)\nprint(h.hexdigest())")
#: The plainest Python client of the same file: httpx's ``iter_raw`` written with ``os.pwrite``,
#: nothing checked, nothing resumable: the floor for any client on httpx (its import, h11's copies).
PLAIN_HTTPX = ("import os, sys, httpx\nfd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)\npos = 0\n"
               "with httpx.Client() as c, c.stream('GET', sys.argv[1]) as r:\n    for b in r.iter_raw():\n"
               "        os.pwrite(fd, b, pos)\n        pos += len(b)\nos.close(fd)")
QUERY = "protein"

#: Runs a command; writes its wall time, start (epoch seconds), CPU time and peak RSS. A child's
#: ru_maxrss counts the memory of the process it was forked from, so every measured command
#: is started from this small parent rather than from the benchmark (which holds the servers).
_MEASURE = """
import os, resource, subprocess, sys, time
start, t0 = time.time(), time.perf_counter()
proc = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = proc.stderr.read()
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - t0
with open(sys.argv[1], "w") as fh:
    fh.write(f"{wall} {start} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss * 1024}")
sys.stderr.buffer.write(err)
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


@dataclass(frozen=True)
class Run:
    seconds: float
    start: float  # epoch seconds when the command was started
    cpu: float  # user + system seconds
    rss: int  # peak resident bytes


def measured(cmd: list[str], env: dict[str, str], tmp: Path) -> Run:
    out = tmp / "measure.txt"
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(out), *cmd], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    wall, start, cpu, rss = out.read_text().split()
    return Run(float(wall), float(start), float(cpu), int(rss))


@dataclass(frozen=True)
class Paced:
    """One way of fetching the file behind a paced server."""

    what: str
    cmd: list[str]
    env: dict[str, str]
    home: Path  # the cache folder the pull fills (removed between runs)
    sent: Callable[[], int]  # body bytes of the file the server has sent so far
    target: Path
    src: Path


class SendfileServer(LoopbackServer):
    """Files from disk over HTTP/1.1 with Range, each body sent by the kernel (``socket.sendfile``),
    so that on loopback the server is not what limits a client. Records when bodies started and
    ended, and the body bytes sent."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.requests: list[str] = []
        self.files = files
        self.bytes_sent = 0
        self.first_request: float | None = None
        self.last_byte: float | None = None
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                server._serve(self)

            do_HEAD = do_GET

        self._listen(Handler)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.bytes_sent = 0
            self.first_request = self.last_byte = None

    def _serve(self, h: QuietHandler) -> None:
        path = urlsplit(h.path).path
        with self._lock:
            self.requests.append(f"{h.command} {path} {h.headers.get('Range') or ''}")
            self.first_request = self.first_request or time.time()
        file = self.files.get(path)
        if file is None:
            h.send_response(404)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        st = file.stat()
        wanted = parse_range(h.headers.get("Range"), st.st_size)
        headers = {"Content-Type": "binary/octet-stream", "Accept-Ranges": "bytes", "ETag": f'"{st.st_size:x}-{st.st_mtime_ns:x}"'}
        if wanted == "unsatisfiable":
            h.send_response(416)
            headers.update({"Content-Range": f"bytes */{st.st_size}", "Content-Length": "0"})
            first = length = 0
        elif wanted is None:
            h.send_response(200)
            first, length = 0, st.st_size
        else:
            first, last = wanted  # type: ignore[misc]
            length = last - first + 1
            h.send_response(206)
            headers["Content-Range"] = f"bytes {first}-{last}/{st.st_size}"
        headers["Content-Length"] = str(length)
        for name, value in headers.items():
            h.send_header(name, value)
        h.end_headers()
        if h.command == "HEAD" or not length:
            return
        sent = 0
        try:
            with file.open("rb") as fh:
                sent = h.connection.sendfile(fh, first, length)
        except OSError:
            h.close_connection = True
        with self._lock:
            self.bytes_sent += sent
            self.last_byte = time.time()


def write_random(path: Path, size: int) -> Path:
    """Incompressible bytes (a checkpoint is), written once per benchmark run."""
    block = os.urandom(4 * MiB)
    with path.open("wb") as fh:
        left = size
        while left > 0:
            # A fresh block now and then, so no two shards or halves are the same bytes.
            block = hashlib.shake_256(block[:64]).digest(64) + block[64:]
            fh.write(block[:left])
            left -= min(left, len(block))
    return path


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(4 * MiB):
            h.update(block)
    return h.hexdigest()


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        zoofind = shutil.which("zoofind")
        self.zoofind = [zoofind] if zoofind else [sys.executable, "-m", "zoofind"]
        self.rows: list[tuple[str, str, str, str, bool]] = []  # target, measured, peer/notes, goal, met
        self.notes: list[str] = []
        env = {**os.environ, "HOME": str(tmp / "home"), "ZOOFIND_CACHE_DIR": str(tmp / "zoofind-cache"),
               "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
        for name in ("ZOOFIND_OFFLINE", "HF_HUB_OFFLINE", "HF_TOKEN", "HF_HUB_CACHE", "HF_HUB_ENABLE_HF_TRANSFER",
                     "PYTHONDONTWRITEBYTECODE", "ZOOFIND_DEBUG", "XDG_CACHE_HOME",
                     "http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            env.pop(name, None)
        (tmp / "home").mkdir()
        self.env = env

    def record(self, target: str, measured_text: str, peer: str, goal: str, met: bool) -> None:
        self.rows.append((target, measured_text, peer, goal, met))

    def pull(self, *args: str) -> list[str]:
        return [*self.zoofind, "pull", *args, "--quiet"]

    def torch_env(self, server_url: str, home: Path) -> dict[str, str]:
        return {**self.env, "ZOOFIND_TORCHVISION_ENDPOINT": server_url + "/models", "TORCH_HOME": str(home)}

    def hf_env(self, hub_url: str, home: Path) -> dict[str, str]:
        return {**self.env, "HF_ENDPOINT": hub_url, "HF_HOME": str(home)}

    # -- 1 and 5 --------------------------------------------------------------------------
    def loopback(self) -> None:
        size = self.args.big_mib * MiB
        src = write_random(self.tmp / "big.bin", size)
        out = self.tmp / "curl-out.bin"
        torch_home = self.tmp / "torch-big"
        target = torch_home / "hub" / "checkpoints" / Path(CHECKPOINT).name
        # The peer that also checks what it got: curl, then the SHA-256 zoofind computes of every file.
        hash_out = [sys.executable, "-c", HASH_FILE, str(out)]
        sum_out = ["sha256sum", str(out)]
        with SendfileServer({CHECKPOINT: src}) as srv:
            env = self.torch_env(srv.url, torch_home)
            curl = ["curl", "-s", "-o", str(out), srv.url + CHECKPOINT]
            zf = self.pull(MODEL)
            plain = [sys.executable, "-c", PLAIN_HTTPX, srv.url + CHECKPOINT, str(out)]
            curl_runs: list[Run] = []
            hash_runs: list[Run] = []
            sum_runs: list[Run] = []
            plain_runs: list[Run] = []
            zf_runs: list[tuple[Run, float, float, float]] = []  # run, start-up, transfer, after the last byte
            for i in range(self.args.runs + 1):  # the first round warms the page cache and byte-code caches
                out.unlink(missing_ok=True)
                c = measured(curl, env, self.tmp)
                h = measured(hash_out, env, self.tmp)
                s = measured(sum_out, env, self.tmp)
                out.unlink(missing_ok=True)
                p = measured(plain, env, self.tmp)
                out.unlink(missing_ok=True)
                shutil.rmtree(torch_home, ignore_errors=True)
                srv.clear()
                z = measured(zf, env, self.tmp)
                assert srv.first_request and srv.last_byte, "zoofind sent no request"
                if not target.is_file() or target.stat().st_size != size:
                    raise SystemExit(f"zoofind pull did not place {target}")
                if i:
                    curl_runs.append(c)
                    hash_runs.append(h)
                    sum_runs.append(s)
                    plain_runs.append(p)
                    zf_runs.append((z, srv.first_request - z.start, srv.last_byte - srv.first_request,
                                    z.start + z.seconds - srv.last_byte))
            asked = list(srv.requests)
        with FileServer({CHECKPOINT: src}) as slow:
            out.unlink(missing_ok=True)
            py_curl = measured(["curl", "-s", "-o", str(out), slow.url + CHECKPOINT], env, self.tmp)
            out.unlink(missing_ok=True)
        med = statistics.median
        curl_s, zf_s = med(r.seconds for r in curl_runs), med(r.seconds for r, *_ in zf_runs)
        verified_s = med(c.seconds + h.seconds for c, h in zip(curl_runs, hash_runs))
        curl_cpu, zf_cpu = med(r.cpu for r in curl_runs), med(r.cpu for r, *_ in zf_runs)
        verified_cpu = med(c.cpu + h.cpu for c, h in zip(curl_runs, hash_runs))
        summed_s = med(c.seconds + x.seconds for c, x in zip(curl_runs, sum_runs))
        summed_cpu = med(c.cpu + x.cpu for c, x in zip(curl_runs, sum_runs))
        plain_s, plain_cpu = med(r.seconds for r in plain_runs), med(r.cpu for r in plain_runs)
        startup, transfer, tail = (med(x[k] for x in zf_runs) for k in (1, 2, 3))
        ratio, vratio = curl_s / zf_s, verified_s / zf_s
        gib = size / 1024**3
        print(f"1. {self.args.big_mib} MiB over loopback (sendfile server), median of {self.args.runs} runs; load average {os.getloadavg()[0]:.1f}")
        print(f"   {'':28} {'wall s':>7} {'MB/s':>6} {'ratio':>6} {'cpu s/GiB':>10}")
        print(f"   {'curl -s -o':28} {curl_s:7.2f} {size / curl_s / MB:6.0f} {1:6.2f} {curl_cpu / gib:10.2f}")
        print(f"   {'curl -s -o, then sha256':28} {verified_s:7.2f} {size / verified_s / MB:6.0f} {curl_s / verified_s:6.2f} {verified_cpu / gib:10.2f}")
        print(f"   {'curl -s -o, then sha256sum':28} {summed_s:7.2f} {size / summed_s / MB:6.0f} {curl_s / summed_s:6.2f} {summed_cpu / gib:10.2f}")
        print(f"   {'python + httpx, no checks':28} {plain_s:7.2f} {size / plain_s / MB:6.0f} {curl_s / plain_s:6.2f} {plain_cpu / gib:10.2f}")
        print(f"   {'zoofind pull':28} {zf_s:7.2f} {size / zf_s / MB:6.0f} {ratio:6.2f} {zf_cpu / gib:10.2f}"
              f"   (targets >= 0.80x curl, >= 1.00x curl + sha256: {vratio:.2f}x, <= 2.5 CPU s/GiB;"
              f" {summed_s / zf_s:.2f}x curl + sha256sum)")
        print(f"     zoofind: start-up to first request {startup:.2f} s, first request to last byte {transfer:.2f} s"
              f" ({size / transfer / MB:.0f} MB/s), after the last byte {tail:.2f} s")
        print(f"     requests of the last pull: {len(asked)} (the first: {asked[0] if asked else '-'})")
        print(f"   for comparison, curl from tests/servers/files_server.py (bytes through Python): {size / py_curl.seconds / MB:.0f} MB/s")
        self.record(f"{self.args.big_mib} MiB file over loopback, vs `curl -s -o`", f"{size / zf_s / MB:.0f} MB/s",
                    f"curl {size / curl_s / MB:.0f} MB/s: **{ratio:.2f}x** (plain httpx loop: {curl_s / plain_s:.2f}x)",
                    ">= 0.8x", ratio >= 0.8)
        self.record(f"{self.args.big_mib} MiB file over loopback, vs curl then the file's SHA-256",
                    f"{size / zf_s / MB:.0f} MB/s", f"curl then hashlib {size / verified_s / MB:.0f} MB/s: **{vratio:.2f}x** "
                    f"(then `sha256sum`: {summed_s / zf_s:.2f}x)", ">= 1.0x", vratio >= 1.0)
        self.record("CPU per GiB over loopback, SHA-256 included", f"**{zf_cpu / gib:.2f} s**",
                    f"curl {curl_cpu / gib:.2f} s (checks nothing); curl then hashlib {verified_cpu / gib:.2f} s",
                    "<= 2.5 s", zf_cpu / gib <= 2.5)
        peak = max(r.rss for r, *_ in zf_runs)
        print(f"5. peak memory of those pulls: {peak / MB:.0f} MB (target < 150 MB); curl's: {max(r.rss for r in curl_runs) / MB:.0f} MB")
        self.record(f"peak memory pulling {self.args.big_mib} MiB", f"**{peak / MB:.0f} MB**", "child max RSS", "< 150 MB", peak < 150 * MB)
        out.unlink(missing_ok=True)
        self.cached_torch_env = env  # step 6 pulls this cached checkpoint offline

    # -- 2 and 4: one file behind a paced server, as a torchvision checkpoint and as a Hub LFS file --
    @contextlib.contextmanager
    def paced(self, size: int, tag: str) -> Iterator[list[Paced]]:
        src = self.tmp / f"paced-{size}.bin"
        if not src.exists():
            write_random(src, size)
        rate = self.args.rate_mib * MiB
        repo = f"bench-lab/{tag}"
        with FileServer({CHECKPOINT: src}, rate_bps=rate) as srv, HubServer(rate_bps=rate, faults_on=r"^GET /repos/") as hub:
            hub.add_repo(repo, {"model.safetensors": src})
            th, hh = self.tmp / f"torch-{tag}", self.tmp / f"hf-{tag}"
            yield [
                Paced("torchvision checkpoint", self.pull(MODEL), self.torch_env(srv.url, th), th,
                      lambda: srv.bytes_by_key.get(CHECKPOINT, 0), th / "hub" / "checkpoints" / Path(CHECKPOINT).name, src),
                Paced("Hugging Face LFS file", self.pull(f"hf:{repo}"), self.hf_env(hub.url, hh), hh,
                      lambda: hub.bytes_by_key.get(f"{repo}/model.safetensors", 0),
                      hh / "hub" / f"models--bench-lab--{tag}" / "blobs" / sha256_of(src), src),
            ]

    def capped(self) -> None:
        size = self.args.capped_mib * MiB
        print(f"2. {self.args.capped_mib} MiB, each connection paced at {self.args.rate_mib:g} MiB/s (one run each)")
        with self.paced(size, "capped") as subjects:
            for p in subjects:
                shutil.rmtree(p.home, ignore_errors=True)
                one = measured([*p.cmd, "--jobs", "1"], p.env, self.tmp).seconds
                shutil.rmtree(p.home, ignore_errors=True)
                run = measured(p.cmd, p.env, self.tmp)
                shutil.rmtree(p.home, ignore_errors=True)
                many, ratio = run.seconds, one / run.seconds
                print(f"   {p.what:24} --jobs 1 {one:6.2f} s ({size / one / MB:4.0f} MB/s)   default {many:6.2f} s"
                      f" ({size / many / MB:4.0f} MB/s)   = {ratio:.2f}x faster (target >= 3x); peak memory {run.rss / MB:.0f} MB")
                self.record(f"{self.args.capped_mib} MiB {p.what}, {self.args.rate_mib:g} MiB/s per connection",
                            f"{size / many / MB:.0f} MB/s", f"`--jobs 1` {size / one / MB:.0f} MB/s: **{ratio:.1f}x**", ">= 3x", ratio >= 3)

    # -- 3 ----------------------------------------------------------------------------------
    def repo_files(self) -> dict[str, Any]:
        """The 20 files of step 3's repo: 16 small text files and 4 LFS shards of --repo-mib in all."""
        shard = self.args.repo_mib * MiB // 4
        small = {
            "config.json": b'{"model_type": "esm", "hidden_size": 1280, "num_hidden_layers": 33}\n',
            "generation_config.json": b'{"_from_model_config": true}\n',
            "tokenizer_config.json": b'{"model_max_length": 1024}\n' * 40,
            "special_tokens_map.json": b'{"cls_token": "<cls>", "pad_token": "<pad>"}\n',
            "tokenizer.json": hashlib.shake_256(b"tok").hexdigest(900_000).encode(),  # ~1.8 MB, not LFS
            "vocab.txt": b"\n".join(b"tok%d" % i for i in range(30_000)),
            "merges.txt": b"\n".join(b"a%d b%d" % (i, i) for i in range(50_000)),
            "added_tokens.json": b"{}\n",
            "preprocessor_config.json": b'{"do_normalize": true}\n',
            "chat_template.jinja": b"{% for m in messages %}{{ m.content }}{% endfor %}\n",
            "README.md": b"# protein-sharded\n\nA benchmark repo.\n" * 50,
            "LICENSE": b"MIT License\n" * 100,
            "USE_POLICY.md": b"Use it well.\n",
            "training_args.json": b'{"lr": 0.0001}\n',
            "eval_results.json": b'{"accuracy": 0.5}\n',
            "model.safetensors.index.json": json.dumps({"weight_map": {f"layer.{i}": f"model-0000{i % 4 + 1}-of-00004.safetensors"
                                                                       for i in range(200)}}).encode(),
        }
        shards = {f"model-0000{i}-of-00004.safetensors": write_random(self.tmp / f"shard{i}.bin", shard) for i in range(1, 5)}
        files: dict[str, Any] = {**small, **shards}
        assert len(files) == 20
        return files

    def repo(self) -> None:
        files = self.repo_files()
        size = sum(len(v) if isinstance(v, bytes) else v.stat().st_size for v in files.values())
        zf_home, hh_home = self.tmp / "hf-zoofind", self.tmp / "hf-hub"
        snapshot = ("import huggingface_hub as h\n"
                    f"h.snapshot_download({REPO!r})\n")
        with HubServer() as hub:
            hub.add_repo(REPO, files, library_name="transformers")
            zf = self.pull(f"hf:{REPO}")
            hh = [sys.executable, "-c", snapshot]
            zf_runs, hh_runs = [], []
            for i in range(self.args.repo_runs + 1):  # the first round warms up
                shutil.rmtree(hh_home, ignore_errors=True)
                h = measured(hh, self.hf_env(hub.url, hh_home), self.tmp)
                shutil.rmtree(zf_home, ignore_errors=True)
                z = measured(zf, self.hf_env(hub.url, zf_home), self.tmp)
                if i:
                    zf_runs.append(z.seconds)
                    hh_runs.append(h.seconds)
            placed = list((zf_home / "hub").glob("models--*/snapshots/*/*"))
            got = list((hh_home / "hub").glob("models--*/snapshots/*/*"))
            if len(placed) != 20 or len(got) != 20:
                raise SystemExit(f"expected 20 files from each client, got zoofind {len(placed)}, huggingface_hub {len(got)}")
        z_s, h_s = statistics.median(zf_runs), statistics.median(hh_runs)
        ratio = z_s / h_s
        print(f"3. 20-file repo ({size / MB:.0f} MB: 16 small files, 4 LFS shards) on the local Hub, median of {self.args.repo_runs} runs")
        print(f"   huggingface_hub snapshot_download {h_s:6.2f} s   zoofind pull {z_s:6.2f} s   = {ratio:.2f}x its time (target <= 1.00x)")
        self.record(f"20-file repo ({size / MB:.0f} MB), vs `snapshot_download`", f"{z_s:.2f} s",
                    f"huggingface_hub {h_s:.2f} s: **{ratio:.2f}x** the time", "<= 1.0x", ratio <= 1.0)
        self.cached_hf_env = self.hf_env("http://127.0.0.1:9", zf_home)  # step 6: offline, no server

    # -- 4 ----------------------------------------------------------------------------------
    def resume(self) -> None:
        size = self.args.resume_mib * MiB
        print(f"4. kill -9 at 50% then a re-run, {self.args.resume_mib} MiB paced at {self.args.rate_mib:g} MiB/s a connection")
        with self.paced(size, "resume") as subjects:
            for p in subjects:
                self.killed_and_resumed(p, size)

    def killed_and_resumed(self, p: Paced, size: int) -> None:
        proc = subprocess.Popen(p.cmd, env=p.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 600
        while p.sent() < size // 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        at_kill = p.sent()
        time.sleep(0.3)  # bytes already in the server's hands when the socket closed
        before = p.sent()
        started = time.perf_counter()
        measured(p.cmd, p.env, self.tmp)
        again = time.perf_counter() - started
        total = p.sent()
        if not p.target.is_file() or sha256_of(p.target) != sha256_of(p.src):
            raise SystemExit(f"{p.what}: the resumed pull did not place the right bytes at {p.target}")
        ratio = total / size
        print(f"   {p.what:24} killed at {at_kill / size:4.0%} sent ({before / size:4.0%} once the socket closed);"
              f" re-run {again:5.2f} s, fetched {(total - before) / size:4.0%}; total {ratio:.3f}x the file (target <= 1.05)")
        self.record(f"kill -9 at 50% then re-run, {self.args.resume_mib} MiB {p.what}", f"**{ratio:.3f}x** the file size sent", "",
                    "<= 1.05x", ratio <= 1.05)

    # -- 6 ----------------------------------------------------------------------------------
    def cache_models(self) -> None:
        """For step 6 without steps 1 and 3: each model pulled once, as those steps leave it (a
        16 MiB checkpoint, the 20-file repo of --repo-mib)."""
        if not hasattr(self, "cached_torch_env"):
            home = self.tmp / "torch-offline"
            with SendfileServer({CHECKPOINT: write_random(self.tmp / "small.bin", 16 * MiB)}) as srv:
                measured(self.pull(MODEL), self.torch_env(srv.url, home), self.tmp)
            self.cached_torch_env = self.torch_env("http://127.0.0.1:9", home)
        if not hasattr(self, "cached_hf_env"):
            home = self.tmp / "hf-zoofind"
            with HubServer() as hub:
                hub.add_repo(REPO, self.repo_files(), library_name="transformers")
                measured(self.pull(f"hf:{REPO}"), self.hf_env(hub.url, home), self.tmp)
            self.cached_hf_env = self.hf_env("http://127.0.0.1:9", home)

    def offline(self) -> None:
        self.cache_models()
        cmds: dict[str, tuple[list[str], dict[str, str]]] = {
            "search": ([*self.zoofind, "search", QUERY, "--offline"], self.env),
            "torchvision": (self.pull(MODEL, "--offline"), self.cached_torch_env),
            "hf": (self.pull(f"hf:{REPO}", "--offline"), self.cached_hf_env),
        }
        wall: dict[str, list[float]] = {name: [] for name in cmds}
        cpu: dict[str, list[float]] = {name: [] for name in cmds}
        for name, (cmd, env) in cmds.items():
            measured(cmd, env, self.tmp)  # warm-up, and check it works
        load = os.getloadavg()[0]
        for _ in range(self.args.offline_runs):  # interleaved: machine drift hits all alike
            for name, (cmd, env) in cmds.items():
                run = measured(cmd, env, self.tmp)
                wall[name].append(run.seconds * 1000)
                cpu[name].append(run.cpu * 1000)
        med = {name: statistics.median(xs) for name, xs in wall.items()}
        med_cpu = {name: statistics.median(xs) for name, xs in cpu.items()}
        print(f"6. cached model with --offline vs `zoofind search {QUERY} --offline`, median of {self.args.offline_runs} runs;"
              f" load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")
        print(f"   search --offline            {med['search']:6.0f} ms wall, {med_cpu['search']:6.0f} ms CPU")
        for name in ("torchvision", "hf"):
            ratio, cpu_ratio = med[name] / med["search"], med_cpu[name] / med_cpu["search"]
            print(f"   pull {name:11} --offline {med[name]:6.0f} ms wall = {ratio:.2f}x, {med_cpu[name]:6.0f} ms CPU = {cpu_ratio:.2f}x"
                  " (target <= 1.5x)")
            self.record(f"cached {name} model, `pull --offline`", f"{med[name]:.0f} ms",
                        f"`search --offline` {med['search']:.0f} ms: **{ratio:.2f}x** (CPU {cpu_ratio:.2f}x)", "<= 1.5x", ratio <= 1.5)


def quiet_resets() -> None:
    """Servers here see clients killed or exiting with connections open: no traceback for those."""
    default = socketserver.BaseServer.handle_error

    def handle_error(self: socketserver.BaseServer, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            default(self, request, client_address)

    socketserver.BaseServer.handle_error = handle_error  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--big-mib", type=int, default=1024, help="file of steps 1 and 5")
    parser.add_argument("--capped-mib", type=int, default=512, help="file of step 2")
    parser.add_argument("--rate-mib", type=float, default=16, help="per-connection pace of steps 2 and 4 (MiB/s)")
    parser.add_argument("--repo-mib", type=int, default=256, help="bytes of the 4 LFS shards of step 3")
    parser.add_argument("--resume-mib", type=int, default=256, help="file of step 4")
    parser.add_argument("--runs", type=int, default=3, help="runs of step 1 (medians)")
    parser.add_argument("--repo-runs", type=int, default=5, help="runs of step 3 (medians)")
    parser.add_argument("--offline-runs", type=int, default=11, help="runs of step 6 (medians)")
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary folder goes (default: the system's)")
    parser.add_argument("--only", default="1,2,3,4,5,6", help="steps to run, e.g. 1,6 (5 comes with 1)")
    args = parser.parse_args()
    steps = {s.strip() for s in args.only.split(",")}
    if not shutil.which("curl") and steps & {"1", "5"}:
        raise SystemExit("step 1 needs curl")
    quiet_resets()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zoofind-bench-", dir=args.dir) as tmp:
        bench = Bench(args, Path(tmp))
        if steps & {"1", "5"}:
            bench.loopback()
        if "2" in steps:
            bench.capped()
        if "3" in steps:
            bench.repo()
        if "4" in steps:
            bench.resume()
        if "6" in steps:
            bench.offline()
    print(f"\n(total {time.perf_counter() - started:.0f} s; python benchmarks/pull.py {' '.join(sys.argv[1:])})\n")
    print("| target | zoofind | peer / ratio | goal | met |")
    print("|---|---|---|---|---|")
    for target, value, peer, goal, met in bench.rows:
        print(f"| {target} | {value} | {peer} | {goal} | {'yes' if met else '**no**'} |")
    missed = [r[0] for r in bench.rows if not r[4]]
    if missed:
        print(f"\nmissed: {'; '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
