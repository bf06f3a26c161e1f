"""One process per target at a time, on any file system.

``filelock.SoftFileLease``: the lock is a marker file created exclusively (no ``flock``,
which NFS, Lustre and GPFS mounts often ignore or fake), recording the owner's host and
pid, and refreshed by a heartbeat thread while held. A lock whose owner died on this
host is broken at once; one from another host that stopped refreshing (a machine that
crashed, a job killed with -9) is taken over after ``LEASE`` seconds. So a killed pull
never blocks the next one for long, and a slow one is never robbed while it lives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Lock files beside their targets start with this (never with the partials' prefix, so a
#: clean-up of stale partials cannot take a live lock with it).
LOCK_PREFIX = ".zoofind-lock-"
#: Seconds without a heartbeat after which another host's lock counts as abandoned.
LEASE = 60.0


def lock_for(path: Path) -> Any:
    """An unheld lock on ``path`` (the marker file); ``acquire(timeout=0)`` tries once."""
    # lazy: filelock (~40 ms) only when a lock is taken: off pull --offline (cached) and cache start-up
    from filelock import SoftFileLease

    path.parent.mkdir(parents=True, exist_ok=True)
    # thread_local=False: the worker that finishes a file releases the lock another worker took.
    return SoftFileLease(str(path), lease_duration=LEASE, thread_local=False)


def try_acquire(lock: Any) -> bool:
    # lazy: filelock (~40 ms) only when a lock is taken: off pull --offline (cached) and cache start-up
    from filelock import Timeout

    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    return True
