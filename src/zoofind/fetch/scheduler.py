"""The fetch engine's run: every byte ``pull`` fetches goes through here, whatever the hub.

One scheduler runs ``jobs`` worker threads over a queue of work units; ``jobs`` is the
number of response bodies in flight at once (``--jobs 1``: one). A unit is the start of a
file or a worker taking byte ranges of a large one (``transfer`` moves the bytes):

* A file starts by taking its lock (another process fetching the same target makes this
  one wait, then find the target in place), then asks the local source the caller gave the
  engine (``pull`` gives the read-only shared tier): a copy it put in place is the file's
  result and nothing is requested. Else ``Transfer.start`` plans it from its partial file.
* Large files may be split (``Transfer``): the extra units it asks for are queued here.
* The last unit of a file checks size and hashes (``integrity``) and renames the partial
  file onto the target: nothing unverified is ever visible there.
* Ctrl-C stops every unit, closes the sockets under the ones blocked reading, and keeps each
  file's partial state for the next run. Progress events go to the caller's callback, whose
  failure never stops or hangs a transfer.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..core.errors import SourceError
from ..models.transfer import Fetched, ProgressEvent
from .connection import Connection
from .integrity import IntegrityError, hash_file, verify
from .job import Job, Range, Stopped
from .locks import try_acquire
from .transfer import ONE_STREAM_RATE, RANGED_MIN, SPLIT_AFTER, Splitting, Transfer

if TYPE_CHECKING:
    from pathlib import Path

    from ..models.transfer import Download, LocalSource, Progress

DEFAULT_JOBS = 8
DEFAULT_STALL = 30.0


class Engine:
    def __init__(
        self, *, jobs: int = DEFAULT_JOBS, progress: Progress | None = None, stall: float = DEFAULT_STALL,
        local: LocalSource | None = None, ranged_min: int = RANGED_MIN, split_after: float = SPLIT_AFTER,
        one_stream_rate: float = ONE_STREAM_RATE,
    ) -> None:
        self.jobs = max(1, jobs)
        self._progress = progress
        self.stall = stall
        #: where each download is looked for before the network (pull: the shared tier)
        self.local = local
        self.split = Splitting(self.jobs, ranged_min, split_after, one_stream_rate)
        self.queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self.stop = threading.Event()
        self._remaining = 0
        self._all_done = threading.Condition()
        self._conn: Connection | None = None
        self._transfer: Transfer | None = None

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

        self._conn = conn = Connection(self.jobs, self.stall)
        self._transfer = Transfer(conn, self.stop, self.progress, self._more_units, self.split)
        jobs = [Job(d) for d in downloads]
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
            conn.shut_all()  # wakes workers blocked reading a socket
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
        conn.close()
        return [job.result if job.result is not None else RuntimeError("transfer did not finish") for job in jobs]

    def _work(self) -> None:
        while True:
            task = self.queue.get()
            if task is None or self.stop.is_set():
                return
            with contextlib.suppress(Exception):  # tasks record their own failures; a worker never dies
                task()

    def _settle(self, job: Job, result: Fetched | BaseException) -> None:
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
    def _begin(self, job: Job) -> None:
        assert self._transfer is not None
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
            if self._from_local(job):
                return
            first = self._transfer.start(job)
            if first is None:
                self._finish(job)
            else:
                self._unit(job, first)
        except BaseException as exc:  # noqa: BLE001 - recorded as this file's result
            self._fail(job, exc)

    def _from_local(self, job: Job) -> bool:
        """Put the target in place from the local source when it has a copy that passes the check;
        True when the file is settled so."""
        started = False

        def checking(_copy: Path, size: int) -> None:
            nonlocal started
            started = True
            self.progress(ProgressEvent(job.d.label, "start", 0, size))

        if self.local is None:
            return False
        found = self.local(job.d, checking)
        job.notes.extend(found.notes)
        if found.source is None:
            return False
        job.partial.discard()  # an earlier run's bytes of a file that is now in place
        self._release(job)
        if started:
            self.progress(ProgressEvent(job.d.label, "advance", found.size, found.size, found.size))
        self.progress(ProgressEvent(job.d.label, "linked", found.size, found.size))
        self._settle(job, Fetched(job.d, found.size, found.sha256, 0, 0, reused=True, via=found.via,
                                  notes=tuple(job.notes)))
        return True

    def _unit(self, job: Job, first: Range | None) -> None:
        """Fetch ``first`` (the file's first unit), then ranges from the file's ``todo`` until none
        is left; then settle the unit (the file's last unit checks it and puts it in place)."""
        assert self._transfer is not None
        try:
            r = first
            lead = first is not None and first.lead
            while r is not None or (r := self._transfer.take(job, lead)) is not None:
                self._transfer.fetch(job, r)
                r = None
        except BaseException as exc:  # noqa: BLE001 - a worker thread: whatever ends the unit is the file's result
            with job.guard:
                if job.error is None and not isinstance(exc, Stopped):
                    job.error = exc
        self._unit_done(job)

    def _more_units(self, job: Job, n: int) -> None:
        """The file was split: ``n`` more units take its ranges."""
        for _ in range(n):
            self.queue.put(lambda: self._unit(job, None))

    def _unit_done(self, job: Job) -> None:
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

    def _finish(self, job: Job) -> None:
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

    def _fail(self, job: Job, exc: BaseException) -> None:
        self._park(job)
        self._settle(job, exc)

    def _park(self, job: Job) -> None:
        """Close the file and keep its state for the next run (or drop it if verification failed)."""
        if job.follower is not None:
            job.follower.stop()  # its hash is lost; the next run hashes the kept bytes from disk
            job.follower = None
        if job.fd is not None:
            with contextlib.suppress(OSError):
                os.close(job.fd)
            job.fd = None
        if isinstance(job.error, IntegrityError):
            job.partial.discard()  # refused bytes (past the file's limit) are never resumed
        elif job.partial.data.exists():
            job.partial.save(force=True)
        self._release(job)

    def _release(self, job: Job) -> None:
        if job.locked:
            with contextlib.suppress(Exception):
                job.lock.release(force=True)
            job.locked = False
