"""The transfer engine against a real HTTP server on 127.0.0.1 (tests/servers/files_server.py):
ranges, resume, servers that ignore Range, dropped connections, damaged bytes, bursts of errors."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from servers.bodies import parse_range
from servers.files_server import FileServer
from servers.loopback import LoopbackServer, QuietHandler
from zoofind.core.errors import AccessDeniedError, NotFoundError
from zoofind.fetch.integrity import IntegrityError
from zoofind.fetch.partial import PREFIX
from zoofind.fetch.scheduler import Engine
from zoofind.models.transfer import Download, Expected, Fetched

MB = 1024 * 1024
#: Split a ranged file at its first recorded MiB whatever the rate: what a slow link gets.
SPLIT = {"split_after": 0.0, "one_stream_rate": float("inf")}


def data_of(size: int, seed: int = 1) -> bytes:
    return hashlib.shake_256(f"zoofind-{seed}".encode()).digest(size)


def download(srv: FileServer, path: str, folder: Path, data: bytes | None = None, **expected: object) -> Download:
    target = folder / path.rsplit("/", 1)[-1]
    exp = Expected(size=len(data), sha256=hashlib.sha256(data).hexdigest()) if data is not None else Expected(**expected)  # type: ignore[arg-type]
    return Download(srv.url + path, target, target.with_name(target.name + ".lock"), exp, path)


def run(d: Download, **kw: object) -> Fetched | BaseException:
    (out,) = Engine(**kw).run([d])  # type: ignore[arg-type]
    return out


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(PREFIX))


def test_a_small_file_arrives_in_one_stream_and_is_verified(tmp_path: Path) -> None:
    data = data_of(300_000)
    with FileServer({"/f.bin": data}) as srv:
        out = run(download(srv, "/f.bin", tmp_path, data))
        assert isinstance(out, Fetched) and out.sha256 == hashlib.sha256(data).hexdigest()
        assert [r.headers.get("range") for r in srv.requests] == [None]
    assert (tmp_path / "f.bin").read_bytes() == data
    assert leftovers(tmp_path) == []


def test_a_large_file_comes_as_byte_ranges_over_several_connections(tmp_path: Path) -> None:
    data = data_of(6 * MB)
    with FileServer({"/big.bin": data}) as srv:
        out = run(download(srv, "/big.bin", tmp_path, data), jobs=4, ranged_min=MB, **SPLIT)
        ranges = [r.headers.get("range") for r in srv.requests]
    assert isinstance(out, Fetched), out
    assert (tmp_path / "big.bin").read_bytes() == data
    assert len(ranges) >= 2 and all(r and r.startswith("bytes=") for r in ranges)
    assert srv.bytes_sent == len(data)


def test_a_server_that_ignores_range_still_gives_a_correct_file(tmp_path: Path) -> None:
    data = data_of(5 * MB, seed=2)
    with FileServer({"/big.bin": data}, ignore_range=True) as srv:
        out = run(download(srv, "/big.bin", tmp_path, data), jobs=4, ranged_min=MB)
        # The first chunk's 200 is taken as the whole file: nothing else is asked.
        assert len(srv.requests) == 1
    assert isinstance(out, Fetched) and (tmp_path / "big.bin").read_bytes() == data


@pytest.mark.parametrize("ranged", [False, True])
def test_dropped_connections_continue_where_they_stopped(tmp_path: Path, ranged: bool) -> None:
    data = data_of(4 * MB, seed=3)
    with FileServer({"/f.bin": data}, drop_after=700_000, drop_times=3) as srv:
        out = run(download(srv, "/f.bin", tmp_path, data), jobs=4, ranged_min=MB if ranged else 64 * MB, **SPLIT)
        assert srv.drops == 3
        # Each retry asks only for what is missing.
        assert srv.bytes_sent <= len(data) + 3 * 64 * 1024
    assert isinstance(out, Fetched), out
    assert (tmp_path / "f.bin").read_bytes() == data


def test_damaged_bytes_are_deleted_and_never_reach_the_target(tmp_path: Path) -> None:
    data = data_of(200_000, seed=4)
    with FileServer({"/f.bin": data}, corrupt={"/f.bin"}) as srv:
        out = run(download(srv, "/f.bin", tmp_path, data))
    assert isinstance(out, IntegrityError) and "sha256" in out.message
    assert not (tmp_path / "f.bin").exists()
    assert leftovers(tmp_path) == []


def test_bursts_of_503_and_429_are_retried_honouring_retry_after(tmp_path: Path) -> None:
    data = data_of(100_000, seed=5)
    with FileServer({"/f.bin": data}, fail_status=503, fail_times=2) as srv:
        assert isinstance(run(download(srv, "/f.bin", tmp_path, data)), Fetched)
        assert srv.failures == 2
    (tmp_path / "f.bin").unlink()
    with FileServer({"/f.bin": data}, fail_status=429, fail_times=1, retry_after=1) as srv:
        import time

        t0 = time.monotonic()
        assert isinstance(run(download(srv, "/f.bin", tmp_path, data)), Fetched)
        assert time.monotonic() - t0 >= 0.9


def test_a_missing_file_is_not_found_or_denied_and_not_retried(tmp_path: Path) -> None:
    with FileServer({}, missing_status=404) as srv:
        out = run(download(srv, "/nope.bin", tmp_path, size=10))
        assert isinstance(out, NotFoundError) and len(srv.requests) == 1
    with FileServer({}) as srv:  # S3 answers 403 AccessDenied for a missing key
        assert isinstance(run(download(srv, "/nope.bin", tmp_path, size=10)), AccessDeniedError)


def killed_run(srv: FileServer, d: Download, *, after: int, ranged_min: int = 64 * MB) -> None:
    """Run the engine in another process and kill -9 it once the server has sent ``after`` bytes."""
    import subprocess
    import sys
    import time

    e = d.expected
    script = f"""
from pathlib import Path
from zoofind.models.transfer import Download
from zoofind.fetch.scheduler import Engine
from zoofind.fetch.integrity import Expected
t = Path({str(d.target)!r})
Engine(jobs=4, ranged_min={ranged_min}, split_after=0.0, one_stream_rate=float('inf')).run([Download({d.url!r}, t, Path({str(d.lock)!r}), Expected({e.size!r}, {e.sha256!r}), "f")])
"""
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while srv.bytes_sent < after and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    assert srv.bytes_sent < (e.size or 0), "the transfer finished before it could be killed"


@pytest.mark.parametrize("ranged", [False, True], ids=["one-stream", "ranged"])
def test_a_pull_killed_with_9_continues_where_it_stopped(tmp_path: Path, ranged: bool) -> None:
    # A slow link (1 MiB/s a connection): what the server counts as sent but the killed client
    # had not read yet (socket buffers, more of them the busier the machine) stays small.
    data = data_of(8 * MB, seed=6)
    with FileServer({"/f.bin": data}, rate_bps=1 * MB) as srv:
        d = download(srv, "/f.bin", tmp_path, data)
        killed_run(srv, d, after=len(data) // 2, ranged_min=MB if ranged else 64 * MB)
        assert leftovers(tmp_path) == [PREFIX + "f.bin", PREFIX + "f.bin.json"]
        assert not (tmp_path / "f.bin").exists()
        first = srv.bytes_sent
        srv.rate_bps = None
        out = run(d, jobs=4, ranged_min=MB if ranged else 64 * MB, **SPLIT)
        assert isinstance(out, Fetched), out
        assert out.resumed > 0
        assert all(r.headers.get("range") for r in srv.requests[-1:])
        # At most 5% of the file is fetched twice.
        assert srv.bytes_sent <= len(data) * 1.05, (first, srv.bytes_sent)
    assert (tmp_path / "f.bin").read_bytes() == data and leftovers(tmp_path) == []


def test_a_changed_remote_file_restarts_cleanly(tmp_path: Path) -> None:
    old, new = data_of(8 * MB, seed=7), data_of(8 * MB, seed=8)
    with FileServer({"/f.bin": old}, rate_bps=4 * MB) as srv:
        d = download(srv, "/f.bin", tmp_path, size=len(old))  # no hash known: the ETag tells versions apart
        killed_run(srv, d, after=3 * MB)
        srv.rate_bps = None
        srv.set_file("/f.bin", new)
        out = run(d)
    assert isinstance(out, Fetched), out
    assert out.resumed == 0 or (tmp_path / "f.bin").read_bytes() == new
    assert (tmp_path / "f.bin").read_bytes() == new


def test_a_full_disk_keeps_the_partial_for_the_next_run(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes writes past a size fail (EFBIG), as a full disk or quota makes them fail (ENOSPC)."""
    import subprocess
    import sys

    data = data_of(3 * MB, seed=9)
    with FileServer({"/f.bin": data}) as srv:
        script = f"""
import resource, signal, sys, hashlib
sys.path.insert(0, {str(Path(__file__).parent)!r})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, ({MB}, {MB}))
from pathlib import Path
from zoofind.models.transfer import Download
from zoofind.fetch.scheduler import Engine
from zoofind.fetch.integrity import Expected
from zoofind.core.errors import describe
t = Path({str(tmp_path)!r}) / "f.bin"
(out,) = Engine().run([Download({srv.url + '/f.bin'!r}, t, t.with_name("f.bin.lock"), Expected({len(data)}, {hashlib.sha256(data).hexdigest()!r}), "f.bin")])
print(describe(out).message, describe(out).exit_code)
"""
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "cannot write" in done.stdout and "the partial download is kept 1" in done.stdout, done.stdout
        assert not (tmp_path / "f.bin").exists()
        assert (tmp_path / (PREFIX + "f.bin")).exists()
        out = run(download(srv, "/f.bin", tmp_path, data))
    assert isinstance(out, Fetched) and out.resumed > 0
    assert (tmp_path / "f.bin").read_bytes() == data


def test_a_target_fetched_by_someone_else_meanwhile_is_reused(tmp_path: Path) -> None:
    data = data_of(1000, seed=10)
    with FileServer({"/f.bin": data}) as srv:
        d = download(srv, "/f.bin", tmp_path, data)
        (tmp_path / "f.bin").write_bytes(data)
        out = run(d)
        assert isinstance(out, Fetched) and out.reused and srv.requests == []


def test_stale_lock_of_a_dead_process_does_not_block(tmp_path: Path) -> None:
    import subprocess
    import sys

    data = data_of(1000, seed=11)
    lock = tmp_path / "f.bin.lock"
    # A process takes the lock and dies with -9 while holding it.
    script = f"from zoofind.fetch.locks import lock_for; l = lock_for(__import__('pathlib').Path({str(lock)!r})); l.acquire(); import os; os.kill(os.getpid(), 9)"
    subprocess.run([sys.executable, "-c", script], timeout=30)
    assert lock.exists()
    with FileServer({"/f.bin": data}) as srv:
        out = run(download(srv, "/f.bin", tmp_path, data))
    assert isinstance(out, Fetched) and not out.reused


def test_memory_stays_flat_whatever_the_file_size(tmp_path: Path) -> None:
    """Bytes go from the socket to the file in 1 MiB pieces: a 64 MiB file barely moves peak memory."""
    import subprocess
    import sys

    big = tmp_path / "src.bin"
    with big.open("wb") as fh:
        for i in range(64):
            fh.write(data_of(MB, seed=100 + i))
    with FileServer({"/big.bin": big}) as srv:
        script = f"""
import resource
from pathlib import Path
from zoofind.models.transfer import Download
from zoofind.fetch.scheduler import Engine
from zoofind.fetch.integrity import Expected
t = Path({str(tmp_path)!r}) / "out.bin"
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
(out,) = Engine().run([Download({srv.url + '/big.bin'!r}, t, t.with_name("l"), Expected(size={64 * MB}), "big")])
print(type(out).__name__, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    kind, grown_mb = done.stdout.split()
    assert kind == "Fetched", done.stdout + done.stderr
    assert int(grown_mb) < 40, f"peak memory grew by {grown_mb} MB for a 64 MB file"
    assert os.path.getsize(tmp_path / "out.bin") == 64 * MB


def test_a_server_that_stalls_is_retried_then_fails_with_a_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import zoofind.fetch.transfer as transfer
    from zoofind.core.errors import TimedOutError

    monkeypatch.setattr(transfer, "ATTEMPTS", 2)
    data = data_of(1000, seed=12)
    with FileServer({"/f.bin": data}, delay=2.0) as srv:
        t0 = time.monotonic()
        out = run(download(srv, "/f.bin", tmp_path, data), stall=0.3)
        assert isinstance(out, TimedOutError), out
        assert time.monotonic() - t0 < 3 and len(srv.requests) >= 1
    assert not (tmp_path / "f.bin").exists()



def test_a_file_of_unknown_size_learns_it_from_the_first_range_and_goes_ranged(tmp_path: Path) -> None:
    data = data_of(6 * MB, seed=20)
    with FileServer({"/f.bin": data}) as srv:
        out = run(download(srv, "/f.bin", tmp_path, size=None), jobs=4, ranged_min=MB)
        ranges = [r.headers.get("range") for r in srv.requests]
    assert isinstance(out, Fetched), out
    assert ranges[0] == f"bytes=0-{MB // 4 - 1}" and len(ranges) >= 3 and all(ranges)
    assert (tmp_path / "f.bin").read_bytes() == data and srv.bytes_sent == len(data)


def test_a_server_ignoring_range_and_dropping_the_connection_still_gives_the_file(tmp_path: Path) -> None:
    data = data_of(2 * MB, seed=21)
    with FileServer({"/f.bin": data}, ignore_range=True, drop_after=700_000, drop_times=1) as srv:
        out = run(download(srv, "/f.bin", tmp_path, data))
        assert srv.drops == 1
    assert isinstance(out, Fetched), out
    assert (tmp_path / "f.bin").read_bytes() == data


@pytest.mark.parametrize("state", ['{"version": 1, "done": [[0, "x"]]}', '{"version": 1, "done": {"a": 1}}',
                                   '{"version": 1, "done": [[0, 500, 7]]}', "[1, 2]", "not json"])
def test_a_damaged_partial_state_starts_the_file_over_instead_of_failing(tmp_path: Path, state: str) -> None:
    data = data_of(100_000, seed=22)
    (tmp_path / (PREFIX + "f.bin")).write_bytes(b"junk" * 100)
    (tmp_path / (PREFIX + "f.bin.json")).write_text(state)
    with FileServer({"/f.bin": data}) as srv:
        out = run(download(srv, "/f.bin", tmp_path, data))
    assert isinstance(out, Fetched), out
    assert (tmp_path / "f.bin").read_bytes() == data


@dataclass(frozen=True)
class Copy:
    """What a local source answers (the shape of caches.shared.Linked, which the engine never imports)."""

    source: Path | None = None
    size: int = 0
    sha256: str | None = None
    notes: tuple[str, ...] = ()
    via: str = "local"


def test_the_callers_local_source_is_tried_before_the_network(tmp_path: Path) -> None:
    data = data_of(200_000, seed=24)
    digest = hashlib.sha256(data).hexdigest()
    (tmp_path / "elsewhere").write_bytes(data)
    asked: list[tuple[str, bool]] = []
    events: list[tuple[str, str]] = []

    def local(d: Download, checking: Callable[[Path, int], None]) -> Copy:
        locked = d.lock.exists() or any(d.lock.parent.glob(d.lock.name + "*"))
        asked.append((d.label, locked))
        if d.label == "/a.bin":  # a copy: checked (progress says so), then put at the target
            checking(tmp_path / "elsewhere", len(data))
            os.link(tmp_path / "elsewhere", d.target)
            return Copy(tmp_path / "elsewhere", len(data), digest, ("a note from the source",))
        return Copy(notes=(f"{d.label}: none here",))

    with FileServer({"/a.bin": data, "/b.bin": data}) as srv:
        a, b = (download(srv, p, tmp_path, data) for p in ("/a.bin", "/b.bin"))
        outs = Engine(jobs=1, local=local, progress=lambda e: events.append((e.label, e.kind))).run([a, b])
        paths = [r.path for r in srv.requests]
    got_a, got_b = outs
    assert sorted(label for label, _ in asked) == ["/a.bin", "/b.bin"] and all(locked for _, locked in asked)
    assert paths == ["/b.bin"]  # nothing asked for the file the source had
    assert isinstance(got_a, Fetched) and got_a.via == "local" and got_a.reused and got_a.received == 0
    assert got_a.sha256 == digest and got_a.notes == ("a note from the source",)
    assert [k for label, k in events if label == "/a.bin"] == ["start", "advance", "linked", "done"]
    assert isinstance(got_b, Fetched) and got_b.via is None and got_b.received == len(data)
    assert got_b.notes == ("/b.bin: none here",)
    assert (tmp_path / "a.bin").read_bytes() == data == (tmp_path / "b.bin").read_bytes()


def test_a_local_source_that_raises_fails_only_its_file(tmp_path: Path) -> None:
    data = data_of(1000, seed=25)

    def local(d: Download, checking: Callable[[Path, int], None]) -> Copy:
        raise PermissionError(13, "Permission denied", str(d.target))

    with FileServer({"/f.bin": data}) as srv:
        out = run(download(srv, "/f.bin", tmp_path, data), local=local)
        assert srv.requests == []
    assert isinstance(out, PermissionError), out
    assert not (tmp_path / "f.bin").exists() and not list(tmp_path.glob("*.lock*"))


def test_a_progress_callback_that_raises_never_stops_or_hangs_a_run(tmp_path: Path) -> None:
    data = data_of(300_000, seed=23)

    def broken(event: object) -> None:
        raise RuntimeError("callback bug")

    with FileServer({"/a.bin": data, "/b.bin": data}) as srv:
        outs = Engine(progress=broken).run(
            [download(srv, "/a.bin", tmp_path, data), download(srv, "/b.bin", tmp_path, data)])
    assert all(isinstance(o, Fetched) for o in outs), outs


# -- ranges out of order, retries, damaged bytes, resumed partials: the hash thread's cases --------


class ShapedServer(LoopbackServer):
    """One file over HTTP/1.1 with Range, each answer shaped to order the ranges' arrival.

    ``hold``: the answer whose range starts at 0 sends ``hold_after`` bytes, then waits until
    every other byte of the file has been sent (at most ``hold`` seconds), so every later range
    is on disk before the first one is (the hash thread must wait, then catch up over them from
    disk), however busy the machine. ``drop``: the n-th answer (1-based)
    is cut after ``drop_after`` body bytes, once (its range is retried from there). ``flip``: the
    file offset sent with its byte inverted, whichever range covers it. ``ignore_range``: 200
    and the whole file to every request. Logs each request's Range, and the start of each range
    in the order their last bytes were sent."""

    def __init__(self, data: bytes, *, hold: float = 0.0, hold_after: int = 100_000, drop: int | None = None,
                 drop_after: int = 200_000, flip: int | None = None, ignore_range: bool = False) -> None:
        self.data, self.hold, self.hold_after, self.drop, self.drop_after = data, hold, hold_after, drop, drop_after
        self.flip, self.ignore_range = flip, ignore_range
        self.requests: list[str | None] = []
        self.finished: list[int] = []
        self.bytes_sent = 0
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                server._serve(self)

        self._listen(Handler)

    def _serve(self, h: QuietHandler) -> None:
        size = len(self.data)
        with self._lock:
            self.requests.append(h.headers.get("Range"))
            nth = len(self.requests)
        wanted = None if self.ignore_range else parse_range(h.headers.get("Range"), size)
        first, last = (0, size - 1) if wanted is None else wanted  # type: ignore[misc]
        h.send_response(200 if wanted is None else 206)
        h.send_header("Content-Length", str(last - first + 1))
        h.send_header("ETag", '"shaped-1"')
        h.send_header("Accept-Ranges", "bytes")
        if wanted is not None:
            h.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        h.end_headers()
        body = bytearray(self.data[first:last + 1])
        if self.flip is not None and first <= self.flip <= last:
            body[self.flip - first] ^= 0xFF
        cut = self.drop_after if nth == self.drop else None
        held = first == 0 and self.hold > 0
        pos = 0
        try:
            while pos < len(body):
                end = len(body)
                if held and pos < self.hold_after:
                    end = min(end, self.hold_after)
                if cut is not None:
                    end = min(end, cut)
                h.wfile.write(body[pos:end])
                with self._lock:
                    self.bytes_sent += end - pos
                pos = end
                if cut is not None and pos >= cut:
                    h.wfile.flush()
                    h.close_connection = True
                    h.connection.shutdown(socket.SHUT_RDWR)
                    return
                if held and pos == self.hold_after:
                    h.wfile.flush()
                    rest, until = len(body) - pos, time.monotonic() + self.hold
                    while self.bytes_sent < size - rest and time.monotonic() < until and not self._stopping.wait(0.01):
                        pass
            h.wfile.flush()
        except OSError:
            h.close_connection = True
            return
        with self._lock:
            self.finished.append(first)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_ranges_arriving_out_of_order_with_one_retried_mid_way_hash_right(tmp_path: Path) -> None:
    data = data_of(8 * MB, seed=30)
    with ShapedServer(data, hold=20.0, drop=4) as srv:
        out = run(download(srv, "/f.bin", tmp_path, data), jobs=4, ranged_min=MB, **SPLIT)
        requests, finished = list(srv.requests), list(srv.finished)
    assert isinstance(out, Fetched), out
    assert out.sha256 == sha(data) and (tmp_path / "f.bin").read_bytes() == data
    # The first range was the last to complete: the hash thread waited, then read the others back.
    assert finished[-1] == 0 and len(finished) >= 4, finished
    # The cut answer's range was asked again from the byte after the last one received.
    starts = [int(r.split("=")[1].split("-")[0]) for r in requests if r]
    assert starts[3] + 200_000 in starts[4:], requests
    assert srv.bytes_sent <= len(data) + 64 * 1024


@pytest.mark.parametrize("where", ["first-range", "held-range-tail", "middle", "last-byte"])
def test_a_damaged_byte_in_any_range_is_caught(tmp_path: Path, where: str) -> None:
    data = data_of(6 * MB, seed=31)
    at = {"first-range": 10, "held-range-tail": 200_000, "middle": 3 * MB + 12345, "last-byte": len(data) - 1}[where]
    with ShapedServer(data, hold=20.0, flip=at) as srv:
        out = run(download(srv, "/f.bin", tmp_path, data), jobs=4, ranged_min=MB, **SPLIT)
    assert isinstance(out, IntegrityError) and "sha256" in out.message, out
    assert not (tmp_path / "f.bin").exists() and leftovers(tmp_path) == []


def write_partial(folder: Path, name: str, data: bytes, done: list[list[int]], *, etag: str | None = None,
                  damage: int | None = None) -> None:
    """What an earlier run left: the bytes of ``done`` at their offsets (one of them inverted with ``damage``)."""
    import json

    body = bytearray(len(data))
    for a, b in done:
        body[a:b] = data[a:b]
    if damage is not None:
        body[damage] ^= 0xFF
    (folder / (PREFIX + name)).write_bytes(bytes(body))
    state = {"version": 1, "url": "x", "identity": sha(data), "size": len(data), "etag": etag, "done": done,
             "host": "h", "pid": 1, "updated": 0}
    (folder / (PREFIX + name + ".json")).write_text(json.dumps(state))


@pytest.mark.parametrize("ranged", [False, True], ids=["one-stream", "ranged"])
def test_a_resumed_partial_is_hashed_from_disk_and_only_the_gaps_are_fetched(tmp_path: Path, ranged: bool) -> None:
    data = data_of(6 * MB, seed=32)
    done = [[0, 3 * MB], [4 * MB, 5 * MB]] if ranged else [[0, 3 * MB + 77]]
    write_partial(tmp_path, "f.bin", data, done, etag="shaped-1")
    with ShapedServer(data) as srv:
        out = run(download(srv, "/f.bin", tmp_path, data), jobs=4, ranged_min=MB if ranged else 64 * MB, **SPLIT)
        sent = srv.bytes_sent
    assert isinstance(out, Fetched), out
    kept = sum(b - a for a, b in done)
    assert out.resumed == kept and out.sha256 == sha(data) and sent == len(data) - kept
    assert (tmp_path / "f.bin").read_bytes() == data


@pytest.mark.parametrize("ranged", [False, True], ids=["one-stream", "ranged"])
def test_damaged_bytes_kept_from_an_earlier_run_are_caught(tmp_path: Path, ranged: bool) -> None:
    data = data_of(6 * MB, seed=33)
    write_partial(tmp_path, "f.bin", data, [[0, 3 * MB]], etag="shaped-1", damage=1234)
    with ShapedServer(data) as srv:
        out = run(download(srv, "/f.bin", tmp_path, data), jobs=4, ranged_min=MB if ranged else 64 * MB, **SPLIT)
    assert isinstance(out, IntegrityError), out
    assert not (tmp_path / "f.bin").exists() and leftovers(tmp_path) == []


def test_a_server_ignoring_range_after_a_partial_restarts_the_hash_from_byte_0(tmp_path: Path) -> None:
    # The hash thread has begun on the kept bytes when the 200 comes: it starts again on the new ones.
    data = data_of(6 * MB, seed=34)
    write_partial(tmp_path, "f.bin", data, [[0, 2 * MB], [3 * MB, 4 * MB]], etag="shaped-1", damage=5)
    with ShapedServer(data, ignore_range=True) as srv:
        out = run(download(srv, "/f.bin", tmp_path, data), jobs=4, ranged_min=MB, **SPLIT)
        assert len(srv.requests) == 1
    assert isinstance(out, Fetched), out
    assert out.sha256 == sha(data) and (tmp_path / "f.bin").read_bytes() == data


def test_a_changed_remote_file_after_a_partial_restarts_the_hash(tmp_path: Path) -> None:
    data = data_of(6 * MB, seed=35)
    write_partial(tmp_path, "f.bin", data_of(6 * MB, seed=36), [[0, 4 * MB]], etag="an-older-version")
    with ShapedServer(data) as srv:
        out = run(download(srv, "/f.bin", tmp_path, size=len(data)), jobs=4, ranged_min=MB, **SPLIT)
    assert isinstance(out, Fetched), out
    assert out.resumed == 0 and out.sha256 == sha(data) and (tmp_path / "f.bin").read_bytes() == data


# -- one connection, or several: decided by what the first one brings ---------------------------


def test_a_fast_single_connection_is_not_split(tmp_path: Path) -> None:
    data = data_of(6 * MB, seed=40)
    with FileServer({"/f.bin": data}, rate_bps=2 * MB) as srv:
        out = run(download(srv, "/f.bin", tmp_path, data), jobs=4, ranged_min=MB, split_after=0.3, one_stream_rate=MB / 2)
        ranges = [r.headers.get("range") for r in srv.requests]
    assert isinstance(out, Fetched), out
    # Pieces growing from RANGED_MIN / 4 until the decision, then the rest in one request.
    assert ranges[0] == f"bytes=0-{MB // 4 - 1}" and ranges[-1].endswith(f"-{len(data) - 1}") and len(ranges) <= 4, ranges
    assert srv.bytes_sent == len(data) and out.sha256 == sha(data)


def test_a_slow_single_connection_gets_company(tmp_path: Path) -> None:
    data = data_of(6 * MB, seed=41)
    with FileServer({"/f.bin": data}, rate_bps=2 * MB) as srv:
        out = run(download(srv, "/f.bin", tmp_path, data), jobs=4, ranged_min=MB, split_after=0.3, one_stream_rate=8 * MB)
        ranges = [r.headers.get("range") for r in srv.requests]
    assert isinstance(out, Fetched), out
    assert len(ranges) >= 6, ranges
    # Nothing fetched twice: every answer is read to the end it was asked for.
    assert srv.bytes_sent == len(data) and out.sha256 == sha(data)


@pytest.mark.parametrize("mappable", [True, False], ids=["mapped", "read"])
def test_the_hash_thread_follows_bytes_written_in_any_order(tmp_path: Path, mappable: bool,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import mmap
    import random

    from zoofind.fetch.integrity import Follower
    from zoofind.fetch.partial import Partial

    if not mappable:  # a file system that cannot map files (some FUSE ones): blocks are read instead
        def refuse(*args: object, **kwargs: object) -> None:
            raise OSError(19, "No such device")

        monkeypatch.setattr(mmap, "mmap", refuse)

    data = data_of(9 * MB + 3, seed=42)
    target = tmp_path / "f.bin"
    p = Partial(target, url="x", identity=None, size=len(data))
    p.data.write_bytes(bytes(len(data)))
    f = Follower(p.data, Expected(size=len(data)), len(data), p.contiguous)
    pieces = [(a, min(len(data), a + 300_000)) for a in range(0, len(data), 300_000)]
    random.Random(7).shuffle(pieces)
    with p.data.open("r+b") as fh:
        for a, b in pieces:
            fh.seek(a)
            fh.write(data[a:b])
            fh.flush()
            f.written(p.mark(a, b))
    assert f.result().sha256.hexdigest() == sha(data)
    # A rewrite from scratch (a server that ignored Range) starts the hash again from byte 0.
    g = Follower(p.data, Expected(size=len(data)), len(data), p.contiguous)
    g.written(p.contiguous())
    with g.rewriting():
        p.reset()
        p.data.write_bytes(data[::-1])
    p.mark(0, len(data))
    g.written(len(data))
    assert g.result().sha256.hexdigest() == sha(data[::-1])
