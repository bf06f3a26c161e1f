"""The retry policy, on stamina (exponential backoff with jitter, bounded attempts and time).

Retried: errors whose kind is transient (timeouts, lost connections, 408, 429, 5xx);
a server's ``Retry-After`` replaces the backoff. Never retried: other 4xx, malformed
answers, a host that cannot be reached at all (``retryable`` false: no connection could
be made, so waiting a second changes nothing and a dead network would cost every retry's
wait, and a slow resolver its timeout again), anything once the call's deadline could not
hold another attempt.

The first attempt needs no library: stamina (and tenacity and logging under it, ~20 ms of a
live search's start-up) is imported only once a first attempt failed in a way worth retrying;
the wait before the second attempt is stamina's first (``WAIT_INITIAL`` plus up to
``WAIT_JITTER``, or the server's ``Retry-After``), and stamina runs the attempts after it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from .deadline import Deadline

ATTEMPTS = 3
WAIT_INITIAL = 0.1
WAIT_MAX = 1.0
WAIT_JITTER = 0.3
#: Don't start an attempt with less time left than this: it could not finish.
MIN_ATTEMPT = 0.2


def backoff_hook(deadline: Deadline) -> Callable[[BaseException], bool | float]:
    """stamina's ``on``: whether (and after how long) to retry an exception, within ``deadline``."""

    def hook(exc: BaseException) -> bool | float:
        if not (getattr(exc, "transient", False) and getattr(exc, "retryable", True)):
            return False
        left = deadline.remaining()
        after = getattr(exc, "retry_after", None)
        if after is not None:
            return float(after) if after + MIN_ATTEMPT < left else False
        return left > WAIT_MAX + MIN_ATTEMPT

    return hook


class _FirstAttempt:
    """The first attempt's ``with`` block: a failure worth retrying is kept (and swallowed, as
    stamina swallows it) with the wait before the next attempt; any other propagates."""

    def __init__(self, hook: Callable[[BaseException], bool | float]) -> None:
        self._hook = hook
        self.failed = False
        self.wait = 0.0

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        verdict = self._hook(exc)
        if verdict is False:
            return False
        self.failed = True
        import random  # lazy: search start-up (random ~1.5 ms): only for a failed attempt's jitter

        self.wait = verdict if isinstance(verdict, float) else WAIT_INITIAL + random.uniform(0, WAIT_JITTER)
        return True


def attempts(deadline: Deadline, *, retry: bool = True) -> Iterator[AbstractContextManager[None]]:
    """``for attempt in attempts(deadline): with attempt: ...`` runs the block until it succeeds."""
    if not retry:
        yield contextlib.nullcontext()
        return
    hook = backoff_hook(deadline)
    first = _FirstAttempt(hook)
    yield first
    if not first.failed:
        return  # it succeeded (or raised what is not retried: the caller never asks again)
    time.sleep(max(min(first.wait, deadline.remaining() - MIN_ATTEMPT), 0.0))
    yield from _stamina_attempts(hook, deadline, ATTEMPTS - 1)


def _stamina_attempts(hook: Callable[[BaseException], bool | float], deadline: Deadline,
                      count: int) -> Iterator[AbstractContextManager[None]]:
    import logging  # lazy: search start-up (logging ~5 ms, imported by stamina anyway)

    import stamina  # lazy: search start-up (stamina and tenacity ~20 ms): only when a request is retried

    # stamina logs each scheduled retry at WARNING; with no handler configured Python's
    # last-resort handler would print it on stderr. A library adds a NullHandler and leaves
    # the choice to the application (a Python caller's logging config still sees them).
    logger = logging.getLogger("stamina")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    yield from stamina.retry_context(
        on=hook, attempts=count, timeout=max(deadline.remaining(), 0.001),
        wait_initial=WAIT_INITIAL, wait_max=WAIT_MAX, wait_jitter=WAIT_JITTER,
    )
