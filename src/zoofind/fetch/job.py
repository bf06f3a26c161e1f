"""One file's state while the engine fetches it, shared by the units (worker turns) working on it.

``Job`` is the file: its lock, its partial, its open descriptor, its hashing, the byte ranges
no unit has taken yet and what the split decision knows. ``Range`` is where one unit is.
``scheduler`` creates and settles jobs; ``transfer`` moves their bytes. The two signals a
unit ends with (``Stopped``, ``Replan``) are here, because both sides raise or catch them.
"""

from __future__ import annotations

import errno
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.errors import ZoofindError
from ..core.units import human_bytes
from .integrity import IntegrityError
from .locks import lock_for
from .partial import Partial

if TYPE_CHECKING:
    from ..models.transfer import Download, Fetched
    from .integrity import Follower, Hasher

#: Save a partial's state after a fiftieth of the file (within these bounds) and at least every
#: SAVE_EVERY s, but not again within SAVE_GAP s: a kill -9 costs at most ~2% of the file, or
#: that long of transfer, fetched again. (A 64 MiB shard at 300 MB/s would save every 4 ms:
#: in a 20-file repo the saves were ~30% of a worker's time.)
SAVE_MIN, SAVE_MAX = 256 * 1024, 64 * 1024 * 1024
SAVE_GAP = 0.025
#: Written bytes are recorded (ranges, resume state, progress, the hash thread told) in steps
#: this big rather than per 64 KiB read: bookkeeping per read was ~10% of a loopback pull.
RECORD_BYTES = 1024 * 1024


class Stopped(Exception):
    """The run is being stopped (Ctrl-C) or this file already failed elsewhere."""


class Replan(Exception):
    """The file's first unit found the partial useless and planned the file again."""


@dataclass
class Range:
    """Where one unit is: the next byte and the end (None: the body's end)."""

    pos: int
    end: int | None
    #: the file's first request: checks the ETag, may replan the file or take a 200 as all of it
    probe: bool = False
    #: the file's first unit, which measures its one stream and decides whether to split
    lead: bool = False
    finished: bool = False


class Job:
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
        self.discover = False  # the first answer says the size (see Transfer.start)
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

    def within_limit(self, end: int | None) -> None:
        """Refuse the file when its bytes would reach past ``end`` > ``Download.limit`` (an
        ``IntegrityError``: what was received is deleted, never resumed)."""
        limit = self.d.limit
        if limit is None or end is None or end <= limit:
            return
        raise IntegrityError(f"{self.d.label}: larger than the {human_bytes(limit)} ({limit} bytes) allowed; refused, "
                             "nothing was kept",
                             hint=self.d.limit_hint or "the server sends more than this file may have")

    @property
    def failed(self) -> bool:
        return self.error is not None

    def write_failed(self, exc: OSError) -> ZoofindError:
        """A write to the partial failed (full disk, quota, file size limit, read-only, I/O): say
        where, and that nothing is lost."""
        why = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
               errno.EFBIG: "the file is larger than allowed here",
               errno.EROFS: "the file system is read-only",
               errno.EIO: "an I/O error"}.get(exc.errno or 0, exc.strerror or str(exc))
        return ZoofindError(f"{self.d.label}: cannot write {self.partial.data.parent}: {why}; the partial download "
                            "is kept", hint="free space (or point HF_HOME / TORCH_HOME / TFHUB_CACHE_DIR elsewhere), "
                                            "then re-run the pull: it continues from here")
