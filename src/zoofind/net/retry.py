"""The retry policy, on stamina (exponential backoff with jitter, bounded attempts and time).

Retried: errors whose kind is transient (timeouts, lost connections, 408, 429, 5xx);
a server's ``Retry-After`` replaces the backoff. Never retried: other 4xx, malformed
answers, a host that cannot be reached at all (``retryable`` false: no connection could
be made, so waiting a second changes nothing and a dead network would cost every retry's
wait, and a slow resolver its timeout again), anything once the call's deadline could not
hold another attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
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


def attempts(deadline: Deadline, *, retry: bool = True) -> Iterator[AbstractContextManager[None]]:
    """``for attempt in attempts(deadline): with attempt: ...`` runs the block until it succeeds."""
    # lazy: stamina (~45 ms) only when a request is retried: sources --offline loads this module and sends nothing
    import stamina

    # stamina logs each scheduled retry at WARNING; with no handler configured Python's
    # last-resort handler would print it on stderr. A library adds a NullHandler and leaves
    # the choice to the application (a Python caller's logging config still sees them).
    logger = logging.getLogger("stamina")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    return iter(stamina.retry_context(
        on=backoff_hook(deadline), attempts=ATTEMPTS if retry else 1, timeout=max(deadline.remaining(), 0.001),
        wait_initial=WAIT_INITIAL, wait_max=WAIT_MAX, wait_jitter=WAIT_JITTER,
    ))
