"""Errors zoofind raises, and the one table that turns any exception into a message.

Exit codes (documented in the README):
0 ok, 1 runtime failure, 2 usage error or malformed input, 3 not found,
4 access denied, 130 interrupted.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_DENIED = 4
EXIT_INTERRUPTED = 130


class ZoofindError(Exception):
    """Base of every error zoofind reports itself; carries an exit code and a hint."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(ZoofindError):
    exit_code = EXIT_USAGE


class NotFoundError(ZoofindError):
    exit_code = EXIT_NOT_FOUND


class AccessDeniedError(ZoofindError):
    exit_code = EXIT_DENIED


class CatalogError(ZoofindError):
    """A catalog file is broken: names the file and the entry."""


class MissingHomeError(ZoofindError):
    """A folder zoofind would create lies inside a home folder that does not exist
    (``paths.inside_home``): zoofind never creates a missing home."""


class OutputError(ZoofindError):
    """Writing the output failed (a full disk behind ``> file``, a closed stdout): the
    data did not reach its reader, so the command fails."""


class ZoofindWarning(UserWarning):
    """Something the caller should know that does not stop the call (an environment switch
    with an unusable value, and the fallback used). The library issues these through
    ``warnings``, never by printing; the CLI shows each on stderr as ``zoofind: warning:``."""


class SourceError(ZoofindError):
    """A source failed to answer (network, server error, bad payload).

    ``transient`` says whether asking again later may work (the answer cache then serves
    a stale copy, and the network layer retries); the subclasses below are the kinds
    the network layer tells apart. ``retryable`` (with ``transient``): whether a retry
    within the same call may help; a host that cannot be reached at all (its name does not
    resolve, the connection is refused) stays down for longer than a retry waits.
    """

    transient = False
    retryable = True
    timed_out = False

    def __init__(self, message: str, *, hint: str | None = None, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.retry_after = retry_after


class OfflineError(SourceError):
    """A request was about to be made while offline was asked for: none was sent."""


class UnreachableError(SourceError):
    """No connection (DNS, refused, reset, TLS): the network or the server is down."""

    transient = True


class TimedOutError(SourceError):
    """No (complete) answer within the deadline."""

    transient = True
    timed_out = True


class RateLimitedError(SourceError):
    """HTTP 429: ``retry_after`` holds the server's Retry-After in seconds, when given."""

    transient = True


class ServerError(SourceError):
    """HTTP 5xx or 408: the server is failing."""

    transient = True


class BadAnswerError(SourceError):
    """The server answered, but not what its protocol promises (malformed JSON, wrong shape, 400)."""


class Described:
    """What to tell the user about an exception, and the exit code."""

    __slots__ = ("message", "hint", "exit_code")

    def __init__(self, message: str, hint: str | None, exit_code: int) -> None:
        self.message, self.hint, self.exit_code = message, hint, exit_code


def first_failure(codes: Iterable[int]) -> int:
    """The exit code of a run over several models: 0 when every one succeeded, else the first
    failure's (pull, lock, ``pull --lock`` and import report through it)."""
    return next((code for code in codes if code != EXIT_OK), EXIT_OK)


#: Mappings of a higher layer's own exceptions to zoofind's kinds, added by that layer when it
#: is imported (``net.errors`` adds the transport failures of ``net.wire``: only the network layer, which
#: imports it, can raise them). Kept here so this floor imports nothing above it.
TRANSLATORS: list[Callable[[BaseException], ZoofindError | None]] = []


def describe(exc: BaseException) -> Described:
    """Map any exception to what the user should read and the exit code.

    Imports nothing heavy: network exceptions are mapped by ``TRANSLATORS`` (``net.errors``).
    """
    if isinstance(exc, ZoofindError):
        return Described(exc.message, exc.hint, exc.exit_code)
    if isinstance(exc, KeyboardInterrupt):
        return Described("interrupted", None, EXIT_INTERRUPTED)
    for translate in TRANSLATORS:
        mapped = translate(exc)
        if mapped is not None:
            return describe(mapped)
    if isinstance(exc, ValueError) and type(exc).__name__ == "JSONDecodeError":
        return Described(
            f"a server sent malformed JSON ({_first_line(exc)})",
            "the service may be failing or a proxy may be answering instead; retry later or use --offline",
            EXIT_FAILURE,
        )
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return Described(
            f"no space left on device{_where(exc)}",
            "free some space or point ZOOFIND_CACHE_DIR / HF_HOME / TORCH_HOME elsewhere",
            EXIT_FAILURE,
        )
    if isinstance(exc, PermissionError):
        return Described(f"permission denied{_where(exc)}",
                         "check the folder's permissions or choose another with the env variables in `zoofind --help`",
                         EXIT_FAILURE)
    if isinstance(exc, BrokenPipeError):
        return Described("output pipe closed", None, EXIT_FAILURE)
    # lazy: not on search --offline or --help start-up, which describe no error
    from .redaction import redact_text  # an exception's text may carry a URL with credentials

    return Described(f"unexpected error: {type(exc).__name__}: {redact_text(_first_line(exc))}",
                     "set ZOOFIND_DEBUG=1 to see the traceback, and please report it", EXIT_FAILURE)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _where(exc: OSError) -> str:
    return f": {exc.filename}" if getattr(exc, "filename", None) else ""
