"""The transfer engine: every byte ``pull`` fetches goes through here, whatever the hub.

One scheduler runs ``jobs`` worker threads over a queue of work units; ``jobs`` is the
number of response bodies in flight at once (``--jobs 1``: one). A unit is the start of a
file or a worker taking byte ranges of a large one:

* A file starts by taking its lock (another process fetching the same target makes this
  one wait, then find the target in place), then looks in the read-only shared tier
  (``ZOOFIND_SHARED_CACHE``, ``caches.shared``): a copy there that passes the same check a
  download gets is linked at the target and nothing is requested. Else it takes its
  partial file from an earlier run.
* Every file starts as one stream. A large one (``RANGED_MIN``; its size from the metadata
  or from the first answer's ``Content-Range``) is asked for in byte ranges over that one
  connection, growing from a quarter of ``RANGED_MIN``: the first 206 shows the server
  serves parts (a 200: the server ignores Range, and that one answer is taken as the whole
  file, from byte 0). After ``SPLIT_AFTER`` seconds, if that connection brings less than
  ``ONE_STREAM_RATE``, up to ``jobs - 1`` more units join it, all taking ranges in file
  order, smaller ones towards the end so the connections finish together; else the rest
  comes in one request. A connection that alone is faster than that is limited by the CPU
  (Python receiving, writing, hashing), which more connections only share out: on two
  cores one stream beats eight. No answer is ever cut short: ranges end where asked.
* Every unit writes at its offset in the partial file and records the bytes written,
  so a dropped connection continues from there (retried with backoff, ``Retry-After``
  honoured), and the next run after Ctrl-C, kill -9 or a full disk continues too.
* Hashing: a small file's bytes are hashed as they arrive; a larger one's by a ``Follower``
  thread that reads the file back from the page cache behind the writers, as far as the
  bytes run without a gap from byte 0 (so on two cores the SHA-256 overlaps receiving, and
  after the last byte only the last ranges are left to hash).
* The last unit of a file checks size and hashes (``integrity``) and renames the
  partial file onto the target: nothing unverified is ever visible there.

Redirects are followed by hand so that headers meant for the hub (a token) never reach
another host, and so that ranges go straight to the storage host the hub pointed at.
Timeouts are per request: ``stall`` seconds for connecting or for the next bytes of a
body; a multi-GB file has no total deadline.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from ..core.errors import SourceError, ZoofindError
from .integrity import Expected, Follower, Hasher, IntegrityError, hash_file, verify
from .locks import lock_for, try_acquire
from .partial import Partial

if TYPE_CHECKING:
    import httpx

    from ..caches.shared import Linked
    from ..core.context import Context

#: Files at least this big may be split into byte ranges over several connections.
RANGED_MIN = 32 * 1024 * 1024
CHUNK_MAX = 64 * 1024 * 1024
#: Files at least this big (and every file that may be split) are hashed by a ``Follower``
#: thread; smaller ones as their bytes arrive.
FOLLOW_MIN = 8 * 1024 * 1024
#: Seconds of a file's first stream before deciding whether more connections would help,
#: and the rate (bytes/s) of that one stream from which they would not.
SPLIT_AFTER = 0.5
ONE_STREAM_RATE = 128 * 1024 * 1024
#: Attempts a unit may make in a row without receiving a byte before the file fails.
ATTEMPTS = 6
BACKOFF_MAX = 10.0
MAX_REDIRECTS = 10
#: Save a partial's state after a fiftieth of the file (within these bounds) and at least every
#: SAVE_EVERY s, but not again within SAVE_GAP s: a kill -9 costs at most ~2% of the file, or
#: that long of transfer, fetched again. (A 64 MiB shard at 300 MB/s would save every 4 ms:
#: in a 20-file repo the saves were ~30% of a worker's time.)
SAVE_MIN, SAVE_MAX = 256 * 1024, 64 * 1024 * 1024
SAVE_GAP = 0.025
#: Written bytes are recorded (ranges, resume state, progress, the hash thread told) in steps
#: this big rather than per 64 KiB read: bookkeeping per read was ~10% of a loopback pull.
RECORD_BYTES = 1024 * 1024
DEFAULT_JOBS = 8
DEFAULT_STALL = 30.0


@dataclass(frozen=True)
class Download:
    """One file to fetch: from where, to which path, what it must be."""

    url: str
    target: Path
    lock: Path
    expected: Expected
    label: str
    #: Headers for the URL's own host only (a hub token); never sent after a redirect elsewhere.
    auth: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: Whether what this download is for is already in place (a TF Hub folder another process
    #: extracted from the same archive); asked once the lock is held.
    done: Callable[[], bool] | None = field(default=None, repr=False, compare=False)
    #: What to do when the server refuses the file (where access is requested, which token).
    denied_hint: str | None = None
    #: Puts what this download is for in place from the shared tier, when that is not the
    #: target file itself (a TF Hub module folder); asked once the lock is held. Unset: the
    #: target's own place in each shared root (``caches.shared.link_file``).
    shared: Callable[[], Linked] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Fetched:
    download: Download
    size: int
    sha256: str | None  # None when the target was already in place (not re-read)
    received: int  # body bytes received by this run
    resumed: int  # bytes an earlier run had left, kept
    reused: bool  # the target was already there: nothing fetched
    #: "shared": linked from the shared tier (ZOOFIND_SHARED_CACHE) by this run, no request made
    via: str | None = None
    #: what the run noticed on the way (a shared copy passed over, and why)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProgressEvent:
    """``kind``: start | advance | wait | linked | done | failed; ``done`` bytes of ``total`` so far.

    ``linked``: the file came from the shared tier (after ``start`` and ``advance`` events
    for checking its hash); ``done`` follows.
    """

    label: str
    kind: str
    done: int = 0
    total: int | None = None
    advanced: int = 0


Progress = Callable[[ProgressEvent], None]


class _Stopped(Exception):
    """The run is being stopped (Ctrl-C) or this file already failed elsewhere."""


class _Replan(Exception):
    """The file's first unit found the partial useless and planned the file again."""


@dataclass
class _Range:
    """Where one unit is: the next byte and the end (None: the body's end)."""

    pos: int
    end: int | None
    #: the file's first request: checks the ETag, may replan the file or take a 200 as all of it
    probe: bool = False
    #: the file's first unit, which measures its one stream and decides whether to split
    lead: bool = False
    finished: bool = False


def _lost(job: _Job, pos: int) -> SourceError:
    err = SourceError(f"{job.d.label}: the connection closed after {pos} bytes",
                      hint="retry the pull; it continues from here")
    err.transient = True
    return err


class _Job:
    """One file's transfer, shared by the units working on it."""

    def __init__(self, d: Download) -> None:
        self.d = d
        self.units = 1  # units working on it at once: one until a split adds more
        self.size = d.expected.size
        self.partial = Partial(d.target, url=d.url, identity=d.expected.identity, size=self.size)
        self.lock = lock_for(d.lock)
        self.locked = False
        self.url = d.url  # where ranges go: the end of the redirects once known
        self.fd: int | None = None
        self.hasher: Hasher | None = None  # a small file's bytes in order, from byte 0
        self.follower: Follower | None = None  # a large file's hash thread
        self.pending = 0
        self.received = 0
        self.resumed = 0
        self.error: BaseException | None = None
        self.result: Fetched | BaseException | None = None
        self.waiting_since: float | None = None
        self.unsaved = 0
        self.discover = False  # the first answer says the size (see _begin)
        self.ranged = False  # the file may be split: full size on disk, ranges in any order
        self.todo: list[tuple[int, int]] = []  # byte ranges no unit has taken yet, in order
        self.step: int | None = None  # once split: the largest range a unit takes at once
        self.piece = 0  # before deciding: the first unit's next range (doubling from RANGED_MIN / 4)
        self.decided = False  # whether to split was decided (or never a question)
        self.meter: tuple[float, int] | None = None  # (time, received) when the first stream's body began
        self.notes: list[str] = []
        self.guard = threading.Lock()
        self.learn_size(self.size)

    def learn_size(self, size: int | None) -> None:
        """The file's size, once an answer tells it: resume state is saved every 2% of it."""
        self.size = size
        self.partial.size = size
        self.save_bytes = min(SAVE_MAX, max(SAVE_MIN, (size or 0) // 50))
        self._record_step()

    def add_units(self, n: int) -> None:
        """``n`` more units work on the file (a split): each records in smaller steps."""
        self.units += n
        self._record_step()

    def _record_step(self) -> None:
        # Each unit's unrecorded bytes are lost to a kill -9 as well as the unsaved ones: all of
        # them together stay within an eighth of a save step (a small file records every read).
        self.record_bytes = min(RECORD_BYTES, self.save_bytes // (8 * self.units))

    @property
    def failed(self) -> bool:
        return self.error is not None


class Engine:
    def __init__(
        self, ctx: Context, *, jobs: int = DEFAULT_JOBS, progress: Progress | None = None,
        stall: float = DEFAULT_STALL, ranged_min: int = RANGED_MIN, split_after: float = SPLIT_AFTER,
        one_stream_rate: float = ONE_STREAM_RATE,
    ) -> None:
        self.ctx = ctx
        self.jobs = max(1, jobs)
        self._progress = progress
        self._tracker: Any = None
        self.stall = stall
        self.ranged_min = ranged_min
        self.split_after = split_after
        self.one_stream_rate = one_stream_rate
        self.queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self.stop = threading.Event()
        self._remaining = 0
        self._all_done = threading.Condition()
        self._client: httpx.Client | None = None
        #: hosts (name, port) that answered in this run: a connection one of them then refuses is a blip
        self._answered: set[tuple[str | None, int | None]] = set()

    def progress(self, event: ProgressEvent) -> None:
        """Tell the caller's callback; its failure must never stop or hang a transfer."""
        if self._progress is not None:
            with contextlib.suppress(Exception):
                self._progress(event)

    # -- the run ----------------------------------------------------------------------
    def run(self, downloads: Sequence[Download]) -> list[Fetched | BaseException]:
        """Fetch every download; each entry of the answer is its ``Fetched`` or the error it ended with.

        Ctrl-C stops every transfer, saves what each has on disk for the next run, and re-raises.
        """
        if not downloads:
            return []
        import httpx

        from ..net.http import USER_AGENT, LazyTLSTransport, SocketTracker

        timeout = httpx.Timeout(self.stall, connect=min(self.stall, 10.0))
        self._tracker = SocketTracker()
        # The process's one verified TLS context, built only if an https URL (or a redirect
        # to one) needs it: a plain-http mirror never pays the CA bundle's 70-130 ms.
        self._client = httpx.Client(
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}, timeout=timeout,
            transport=LazyTLSTransport(max_connections=self.jobs + 2), follow_redirects=False,
        )
        jobs = [_Job(d) for d in downloads]
        self._remaining = len(jobs)
        # Largest first: their chunks keep every connection busy while small files fill gaps.
        for job in sorted(jobs, key=lambda j: -(j.size or 0)):
            self.queue.put(functools.partial(self._begin, job))
        workers = [threading.Thread(target=self._work, daemon=True,
                                    name=f"zoofind-fetch-{i}") for i in range(self.jobs)]
        for w in workers:
            w.start()
        try:
            with self._all_done:
                while self._remaining:
                    self._all_done.wait(0.2)
        except KeyboardInterrupt:
            self.stop.set()
            self._tracker.shut_all()  # wakes workers blocked reading a socket
            until = time.monotonic() + 3.0
            for w in workers:
                w.join(timeout=max(0.0, until - time.monotonic()))
            for job in jobs:
                if job.locked:  # a job this process never locked is another's to keep
                    self._park(job)
            raise
        finally:
            for _ in workers:
                self.queue.put(None)
        self._client.close()
        return [job.result if job.result is not None else RuntimeError("transfer did not finish") for job in jobs]

    def _work(self) -> None:
        while True:
            task = self.queue.get()
            if task is None or self.stop.is_set():
                return
            with contextlib.suppress(Exception):  # tasks record their own failures; a worker never dies
                task()

    def _settle(self, job: _Job, result: Fetched | BaseException) -> None:
        if job.result is not None:
            return  # settled once only
        job.result = result
        try:
            if isinstance(result, Fetched):
                self.progress(ProgressEvent(job.d.label, "done", result.size, result.size))
            else:
                self.progress(ProgressEvent(job.d.label, "failed", job.partial.have(), job.size))
        finally:
            with self._all_done:
                self._remaining -= 1
                self._all_done.notify_all()

    # -- a file -----------------------------------------------------------------------
    def _begin(self, job: _Job) -> None:
        try:
            if not job.locked:
                if not try_acquire(job.lock):
                    # Another process is fetching this target: look again soon, without holding a worker.
                    if job.waiting_since is None:
                        job.waiting_since = time.monotonic()
                        self.progress(ProgressEvent(job.d.label, "wait", 0, job.size))
                    timer = threading.Timer(0.3, lambda: self.queue.put(lambda: self._begin(job)))
                    timer.daemon = True
                    timer.start()
                    return
                job.locked = True
            in_place = job.d.target.exists() and (job.size is None or job.d.target.stat().st_size == job.size)
            if in_place or (job.d.done is not None and job.d.done()):
                size = job.d.target.stat().st_size if in_place else 0
                self._release(job)
                self._settle(job, Fetched(job.d, size, None, 0, 0, reused=True))
                return
            if self._from_shared(job):
                return
            job.partial.load()
            job.d.target.parent.mkdir(parents=True, exist_ok=True)
            job.fd = os.open(job.partial.data, os.O_RDWR | os.O_CREAT, 0o644)
            job.pending = 1
            if job.size is None and job.partial.size is None and self.jobs > 1 and not job.partial.have():
                # Size unknown (torch.hub and TF Hub give none): the first piece is asked for with a
                # Range, and the 206's Content-Range tells the size; a large file may then split.
                job.discover = True
                job.hasher = Hasher(job.d.expected, None)
                job.piece = self.ranged_min // 4
                self.progress(ProgressEvent(job.d.label, "start", 0, None))
                self._unit(job, _Range(0, job.piece, probe=True, lead=True))
                return
            if job.size is None:
                job.learn_size(job.partial.size)  # learned by an earlier run's first answer
            if job.size is not None and job.size >= self.ranged_min and self.jobs > 1:
                # Full size at once (sparse): ranges land at their offsets in any order.
                job.ranged = True
                os.ftruncate(job.fd, job.size)
                gaps = job.partial.gaps(job.size)
                job.resumed = job.partial.have()
                job.follower = self._follower(job)
                if not gaps:
                    job.pending = 0
                    self._finish(job)
                    return
                job.todo = gaps
                job.piece = self.ranged_min // 4
                first = self._take(job, lead=True)
                assert first is not None
                first.probe = True
                self.progress(ProgressEvent(job.d.label, "start", job.resumed, job.size))
                self._unit(job, first)
            else:
                # One stream: continue a partial that is one run of bytes from 0, else start over.
                job.decided = True
                have = job.partial.have()
                start = have if have and job.partial.done == [[0, have]] else 0
                if start == 0:
                    job.partial.done = []
                    os.ftruncate(job.fd, 0)
                job.resumed = start
                if job.size is not None and self._follows(job.size):
                    job.follower = self._follower(job)  # it hashes a resumed run's bytes from disk first
                elif start == 0:
                    job.hasher = Hasher(job.d.expected, job.size)
                self.progress(ProgressEvent(job.d.label, "start", job.resumed, job.size))
                self._unit(job, _Range(start, job.size, probe=True))
        except BaseException as exc:  # noqa: BLE001 - recorded as this file's result
            self._fail(job, exc)

    def _from_shared(self, job: _Job) -> bool:
        """Link the target from the shared tier when a copy there passes the check; True when settled so."""
        from ..caches import shared

        started = False

        def checking(_copy: Path, size: int) -> None:
            nonlocal started
            started = True
            self.progress(ProgressEvent(job.d.label, "start", 0, size))

        try:
            if job.d.shared is not None:
                linked = job.d.shared()
            else:
                linked = shared.link_file(job.d.target, job.d.expected, self.ctx.environ, job.d.label,
                                          on_check=checking)
        except OSError as exc:  # the user's cache refused the link: the download says why, if it fails too
            job.notes.append(f"{job.d.label}: the shared tier's copy could not be linked ({exc.strerror or exc}); "
                             "downloaded instead")
            return False
        job.notes.extend(linked.notes)
        if linked.source is None:
            return False
        job.partial.discard()  # an earlier run's bytes of a file that is now in place
        self._release(job)
        if started:
            self.progress(ProgressEvent(job.d.label, "advance", linked.size, linked.size, linked.size))
        self.progress(ProgressEvent(job.d.label, "linked", linked.size, linked.size))
        self._settle(job,
                     Fetched(job.d, linked.size, linked.sha256, 0, 0, reused=True, via="shared",
                             notes=tuple(job.notes)))
        return True

    def _follows(self, size: int) -> bool:
        """Whether a file this big is hashed by a ``Follower`` (every file that may be split is)."""
        return size >= min(FOLLOW_MIN, self.ranged_min)

    def _follower(self, job: _Job) -> Follower:
        assert job.size is not None
        return Follower(job.partial.data, job.d.expected, job.size, job.partial.contiguous)

    def _unit(self, job: _Job, first: _Range | None) -> None:
        """Fetch ``first`` (the file's first unit), then ranges from the file's ``todo`` until none
        is left; then settle the unit (the file's last unit checks it and puts it in place)."""
        try:
            r = first
            lead = first is not None and first.lead
            while r is not None or (r := self._take(job, lead)) is not None:
                self._transfer(job, r)
                r = None
        except BaseException as exc:  # noqa: BLE001 - a worker thread: whatever ends the unit is the file's result
            with job.guard:
                if job.error is None and not isinstance(exc, _Stopped):
                    job.error = exc
        self._unit_done(job)

    def _take(self, job: _Job, lead: bool) -> _Range | None:
        """The next range of the file no unit has taken, from its start: before the split decision
        the first unit's next piece; after "one stream" the whole next gap; after a split at most
        ``step`` bytes, fewer towards the end (guided self-scheduling: the connections finish
        together, and the hash thread has little left after the last byte)."""
        with job.guard:
            if not job.todo:
                return None
            a, b = job.todo[0]
            if not job.decided:
                take = job.piece
                job.piece = min(CHUNK_MAX, 2 * job.piece)
            elif job.step is not None:
                left = sum(y - x for x, y in job.todo)
                take = min(job.step, max(self.ranged_min // 4, left // (2 * self.jobs)))
            else:
                take = b - a
            if b - a > take:
                job.todo[0] = (a + take, b)
                return _Range(a, a + take, lead=lead)
            job.todo.pop(0)
            return _Range(a, b, lead=lead)

    def _maybe_split(self, job: _Job) -> None:
        """Called by the first unit as its bytes arrive: once ``split_after`` seconds have shown what
        one connection brings, more units join if it brings too little (each range it has asked
        for is still read to its end: nothing is thrown away)."""
        if job.meter is None:
            return
        since, before = job.meter
        elapsed = time.monotonic() - since
        if elapsed < self.split_after:
            return
        with job.guard:
            job.decided = True
            if not job.ranged or (job.received - before) / max(elapsed, 1e-9) >= self.one_stream_rate:
                return
            left = sum(b - a for a, b in job.todo)
            job.step = step = min(CHUNK_MAX, max(self.ranged_min // 4, left // (2 * self.jobs) + 1))
            more = min(self.jobs - 1, sum(-(-(b - a) // step) for a, b in job.todo))
            job.pending += more
            job.add_units(more)
        for _ in range(more):
            self.queue.put(lambda: self._unit(job, None))

    def _unit_done(self, job: _Job) -> None:
        with job.guard:
            job.pending -= 1
            last = job.pending == 0
        if not last or self.stop.is_set():
            return
        if job.error is not None:
            self._fail(job, job.error)
        else:
            try:
                self._finish(job)
            except BaseException as exc:  # noqa: BLE001 - the file's result; its partial state is kept for a rerun
                self._fail(job, exc)

    def _finish(self, job: _Job) -> None:
        if job.size is not None and job.partial.have() < job.size:
            raise SourceError(f"{job.d.label}: the transfer ended before the whole file arrived",
                              hint="retry the pull; it continues from here")
        assert job.fd is not None
        os.close(job.fd)
        job.fd = None
        try:
            if job.follower is not None:
                h = job.follower.result()  # the bytes it has not hashed yet: at most the last ranges
                job.follower = None
            else:
                h = job.hasher if job.hasher is not None else hash_file(job.partial.data, job.d.expected)
            digest = verify(h, job.d.expected, job.d.label)
        except IntegrityError:
            job.partial.discard()
            raise
        os.replace(job.partial.data, job.d.target)
        job.partial.finish()
        self._release(job)
        self._settle(job,
                     Fetched(job.d, h.size, digest, job.received, job.resumed, reused=False, notes=tuple(job.notes)))

    def _fail(self, job: _Job, exc: BaseException) -> None:
        self._park(job)
        self._settle(job, exc)

    def _park(self, job: _Job) -> None:
        """Close the file and keep its state for the next run (or drop it if verification failed)."""
        if job.follower is not None:
            job.follower.stop()  # its hash is lost; the next run hashes the kept bytes from disk
            job.follower = None
        if job.fd is not None:
            with contextlib.suppress(OSError):
                os.close(job.fd)
            job.fd = None
        if job.partial.data.exists() and not isinstance(job.error, IntegrityError):
            job.partial.save(force=True)
        self._release(job)

    def _release(self, job: _Job) -> None:
        if job.locked:
            with contextlib.suppress(Exception):
                job.lock.release(force=True)
            job.locked = False

    # -- one unit's bytes -------------------------------------------------------------
    def _transfer(self, job: _Job, r: _Range) -> None:
        """Bytes [r.pos, r.end) of the file, over as many requests as the connection needs."""
        idle = 0
        while not r.finished:
            if self.stop.is_set() or job.failed:
                raise _Stopped()
            before = r.pos
            try:
                self._request(job, r)
                continue
            except _Replan:
                idle = 0
                continue
            except SourceError as exc:
                if not (exc.transient and exc.retryable):
                    raise
                err: SourceError = exc
            idle = 0 if r.pos > before else idle + 1
            if idle >= ATTEMPTS:
                raise err
            wait = err.retry_after if err.retry_after is not None else min(BACKOFF_MAX, 0.2 * 2 ** idle)
            if self.stop.wait(min(wait, 60.0)):
                raise _Stopped()

    def _request(self, job: _Job, r: _Range) -> None:
        """One GET from ``r.pos``, advancing ``r``. Transport failures surface as zoofind errors."""
        import httpx

        # A file that may be split asks for a Range even from byte 0 to its end: the 206 shows
        # the server serves parts (a 200 is taken as the whole file, in one stream).
        ranged = (job.ranged or job.discover or r.pos > 0
                  or (r.end is not None and (job.size is None or r.end < job.size)))
        headers = {"Range": f"bytes={r.pos}-{'' if r.end is None else r.end - 1}"} if ranged else {}
        complete = False
        try:
            with self._open(job, headers) as resp:
                status = resp.status_code
                if status == 416:
                    if not r.probe:  # only a file's first unit may start it over
                        raise SourceError(f"{job.d.label}: the server's file changed during the transfer (HTTP 416)",
                                          hint="retry the pull")
                    self._replan(job, r)  # the file is shorter than the partial thought: changed
                if status not in (200, 206):
                    raise self._status_error(job, resp)
                if r.probe:
                    etag = _etag(resp.headers)
                    if etag and job.partial.etag and etag != job.partial.etag and job.partial.have():
                        self._replan(job, r)  # a new version of the file: the old bytes are useless
                    job.partial.etag = etag or job.partial.etag
                if status == 200 and ranged:
                    if not r.probe and job.ranged:
                        raise SourceError(f"{job.d.label}: the server stopped honouring byte ranges mid-transfer",
                                          hint="retry the pull")
                    # The server ignores Range: take this whole answer as the file, from byte 0.
                    self._from_zero(job, r)
                elif status == 206 and _content_range_start(resp.headers.get("content-range")) != r.pos:
                    raise SourceError(f"{job.d.label}: the server sent other bytes than the range asked for")
                if job.discover:
                    self._discovered(job, r, status, resp.headers)
                if status == 200 and job.size is None:
                    job.learn_size(_content_length(resp.headers))
                    self._follow_from_now(job)
                r.probe = False
                expect = _content_length(resp.headers)
                before = r.pos
                self._stream(job, resp, r)
                complete = expect is not None and r.pos - before >= expect
        except httpx.HTTPError as exc:
            from ..net.errors import from_transport

            mapped = from_transport(exc, urlsplit(job.url).netloc)
            err = (mapped if isinstance(mapped, SourceError)
                   else SourceError(f"{job.d.label}: {type(exc).__name__}: {exc}"))
            err.transient = True  # a lost connection mid-file is always worth continuing
            if not err.retryable and _host_of(exc) in self._answered:
                # No connection to a host that answered this run: a blip (a restart, a network
                # hiccup) worth riding out in a long pull. A host never reached fails at once.
                err.retryable = True
            raise err from None
        if r.end is None:
            if job.size is not None and r.pos < job.size:
                raise _lost(job, r.pos)
            job.size = r.pos if job.size is None else job.size
            r.finished = True
        elif r.pos >= r.end:
            r.finished = True
        elif not complete:
            raise _lost(job, r.pos)
        # else: the server sent all it was asked for, and this unit wants more: ask again at once.

    def _rewriting(self, job: _Job) -> Any:
        """While the partial is reset for a rewrite: the hash thread must not read it meanwhile."""
        return job.follower.rewriting() if job.follower is not None else contextlib.nullcontext()

    def _from_zero(self, job: _Job, r: _Range) -> None:
        """The file again from byte 0 in one stream (a server that answers 200 to a Range)."""
        with self._rewriting(job):
            job.partial.reset()
            if job.fd is not None:
                os.ftruncate(job.fd, 0)
        job.ranged = job.discover = False
        job.decided = True
        job.todo = []
        if job.follower is None:
            job.hasher = Hasher(job.d.expected, job.size)
        r.pos, r.end = 0, None

    def _follow_from_now(self, job: _Job) -> None:
        """The size just became known, before any body byte: a large file gets its hash thread."""
        if job.follower is None and job.size is not None and self._follows(job.size) \
                and not job.partial.have() and (job.hasher is None or job.hasher.size == 0):
            job.hasher = None
            job.follower = self._follower(job)

    def _discovered(self, job: _Job, r: _Range, status: int, headers: Any) -> None:
        """The first answer for a file of unknown size: plan the rest of it."""
        job.discover = False
        total = _content_range_total(headers.get("content-range")) if status == 206 else None
        if total is None:
            return  # a 200 (handled as one stream) or no total given: read to the end
        job.learn_size(total)
        if total >= self.ranged_min and r.end is not None and r.end < total:
            job.ranged = True
            assert job.fd is not None
            os.ftruncate(job.fd, total)
            job.todo = [(r.end, total)]  # the first unit's next pieces, or everyone's after a split
        else:
            job.decided = True
            r.end = total  # one stream: the next request continues where this one stops
        self._follow_from_now(job)

    def _replan(self, job: _Job, r: _Range) -> None:
        """Throw the partial's bytes away and start the file again (only ever from its first unit)."""
        with self._rewriting(job):
            job.partial.reset()
            if job.fd is not None:
                os.ftruncate(job.fd, (job.size or 0) if job.ranged else 0)
        job.todo = [(0, job.size)] if job.ranged and job.size else []
        job.piece = self.ranged_min // 4
        first = self._take(job, r.lead)
        r.pos, r.end = (first.pos, first.end) if first is not None else (0, job.size)
        if job.follower is None:
            job.hasher = Hasher(job.d.expected, job.size)
        r.probe = True
        raise _Replan()

    @contextlib.contextmanager
    def _open(self, job: _Job, headers: Mapping[str, str]) -> Any:
        """GET the job's URL, walking redirects; the hub's headers go to the hub's host only."""
        from ..net.errors import refused_redirect

        assert self._client is not None
        url = start = job.url
        origin = urlsplit(job.d.url).netloc
        for _ in range(MAX_REDIRECTS + 1):
            send = dict(headers)
            if urlsplit(url).netloc == origin:
                send.update(job.d.auth)
            request = self._client.build_request("GET", url, headers=send, extensions={"trace": self._tracker.trace})
            resp = self._client.send(request, stream=True)
            self._answered.add(_host(url))
            if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
                resp.close()
                nxt = urljoin(url, resp.headers["location"])
                refused = refused_redirect(job.d.label, url, nxt)
                if refused is not None:
                    raise refused  # the server's fault, and final: not retried
                if urlsplit(url).scheme == "https" and urlsplit(nxt).scheme != "https":
                    # Plain http only where an endpoint override asks for it, never by a redirect.
                    raise SourceError(f"{job.d.label}: {urlsplit(url).netloc} redirected to plain http "
                                      f"({urlsplit(nxt).netloc}); refused",
                                      hint="the server or a proxy is misconfigured")
                url = nxt
                continue
            try:
                if resp.status_code in (200, 206):
                    job.url = url
                elif start != job.d.url and resp.status_code in (401, 403, 404, 410):
                    # A signed storage URL expired: the next attempt asks the hub again.
                    job.url = job.d.url
                    resp.close()
                    err = SourceError(f"{job.d.label}: the storage link expired", hint="retry the pull")
                    err.transient = True  # the next attempt asks the hub for a fresh link
                    raise err
                yield resp
            finally:
                resp.close()
            return
        raise SourceError(f"{job.d.label}: more than {MAX_REDIRECTS} redirects",
                          hint="the server or a proxy is misconfigured")

    def _stream(self, job: _Job, resp: httpx.Response, r: _Range) -> None:
        assert job.fd is not None
        fd, hasher = job.fd, job.hasher
        if r.lead and not job.decided and job.meter is None:
            job.meter = (time.monotonic(), job.received)
        recorded = r.pos  # bytes [recorded, r.pos) are written, not yet recorded
        try:
            # Bytes as they arrive (httpcore reads 64 KiB at a time): a chunk_size would hold them
            # in a buffer that a dropped connection throws away. One pwrite per read: gathering
            # reads for one pwritev kept more 64 KiB buffers alive, and the allocator's fresh
            # pages cost more than the system calls saved (2.6 s instead of 2.0 s per GiB).
            for chunk in resp.iter_raw():
                if self.stop.is_set() or job.failed:
                    raise _Stopped()
                if r.end is not None and r.pos + len(chunk) > r.end:
                    chunk = chunk[: r.end - r.pos]
                n = len(chunk)
                if not n:
                    continue
                try:
                    if os.pwrite(fd, chunk, r.pos) < n:  # a regular file takes all but at its limits
                        _pwrite_all(fd, chunk, r.pos)
                except OSError as exc:
                    raise _disk_error(job, exc) from None
                if hasher is not None:
                    hasher.update(chunk)
                r.pos += n
                if r.pos - recorded >= job.record_bytes:
                    self._record(job, recorded, r.pos)
                    recorded = r.pos
                    if r.lead and not job.decided:
                        self._maybe_split(job)
                if r.end is not None and r.pos >= r.end:
                    break
        finally:
            # Whatever ended the body (its end, a dropped connection, Ctrl-C): what was written counts.
            self._record(job, recorded, r.pos)

    def _record(self, job: _Job, start: int, end: int) -> None:
        """Bytes [start, end) are written: the ranges, the resume state, progress, the hash thread."""
        n = end - start
        if n <= 0:
            return
        contiguous = job.partial.mark(start, end)
        if job.follower is not None:
            job.follower.written(contiguous)
        with job.guard:
            job.received += n
            job.unsaved += n
            save = job.unsaved >= job.save_bytes and job.partial.since_save() >= SAVE_GAP
            if save:
                job.unsaved = 0
        job.partial.save(force=save)
        self.progress(ProgressEvent(job.d.label, "advance", job.partial.have(), job.size, n))

    def _status_error(self, job: _Job, resp: httpx.Response) -> ZoofindError:
        """What a refused download means: a file's words, not an API's (`from_status` for the rest)."""
        from ..core.errors import AccessDeniedError, NotFoundError
        from ..core.redaction import redact_url
        from ..net.errors import from_status

        where = redact_url(f"{urlsplit(str(resp.url)).scheme}://{urlsplit(str(resp.url)).netloc}")
        if resp.status_code in (401, 403):
            return AccessDeniedError(f"{job.d.label}: {where} refused the download (HTTP {resp.status_code})",
                                     hint=job.d.denied_hint or "the file may need credentials or may have moved")
        if resp.status_code in (404, 410):
            return NotFoundError(f"{job.d.label}: {where} has no such file (HTTP {resp.status_code})",
                                 hint="the model's file list may be out of date; retry, "
                                      "or check the id with `zoofind info`")
        err = from_status(resp.status_code, str(resp.url), {k.lower(): v for k, v in resp.headers.items()}, job.d.label)
        return err if err is not None else SourceError(f"{job.d.label}: HTTP {resp.status_code} from {where}")


def _host(url: str) -> tuple[str | None, int | None]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


def _host_of(exc: httpx.HTTPError) -> tuple[str | None, int | None] | None:
    """The host of the request an httpx error was raised for (None when it carries none)."""
    try:
        return _host(str(exc.request.url))
    except (RuntimeError, ValueError):
        return None


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n


def _disk_error(job: _Job, exc: OSError) -> ZoofindError:
    """A write that failed (full disk, quota, file size limit, read-only, I/O): say where, and that nothing is lost."""
    import errno

    why = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
           errno.EFBIG: "the file is larger than allowed here",
           errno.EROFS: "the file system is read-only",
           errno.EIO: "an I/O error"}.get(exc.errno or 0, exc.strerror or str(exc))
    return ZoofindError(f"{job.d.label}: cannot write {job.partial.data.parent}: {why}; the partial download is kept",
                        hint="free space (or point HF_HOME / TORCH_HOME / TFHUB_CACHE_DIR elsewhere), then re-run the "
                             "pull: it continues from here")


def _etag(headers: httpx.Headers) -> str | None:
    raw = headers.get("etag")
    if not raw:
        return None
    return raw.removeprefix("W/").strip('"') or None


def _content_length(headers: httpx.Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


def _content_range_total(value: str | None) -> int | None:
    # "bytes 0-99/1000" -> 1000 ("*" when unknown)
    try:
        total = (value or "").rsplit("/", 1)[1]
        return int(total) if total.isdigit() else None
    except IndexError:
        return None


def _content_range_start(value: str | None) -> int | None:
    # "bytes 100-199/1000"
    if not value or not value.startswith("bytes "):
        return None
    try:
        return int(value[6:].split("-", 1)[0])
    except ValueError:
        return None
