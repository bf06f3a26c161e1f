"""Live answers cached on disk with a TTL, and served stale when the network is down.

Files live under ``<cache dir>/answers/<source>/<sha256 of the request>.json``; each is
written to a unique temporary file and moved into place, so a crash or a concurrent
zoofind never leaves a half-written answer.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from pathlib import Path
from typing import Any, Callable

from .paths import cache_dir

ENV_TTL = "ZOOFIND_CACHE_TTL"
DEFAULT_TTL = 6 * 3600.0


def ttl_seconds() -> float:
    raw = os.environ.get(ENV_TTL)
    try:
        return float(raw) if raw else DEFAULT_TTL
    except ValueError:
        return DEFAULT_TTL


def request_blob(source: str, params: Any) -> str:
    return json.dumps([source, params], sort_keys=True, default=str)


def request_key(request: str) -> str:
    """The file name for a request (see request_blob).

    Two CRCs make a 64-bit name; the request itself is stored in the file and compared on
    read, so a collision is a cache miss, never a wrong answer. (hashlib would cost ~3 ms
    to import on every cached search.)
    """
    blob = request.encode()
    return f"{zlib.crc32(blob):08x}{zlib.adler32(blob):08x}"


class AnswerCache:
    def __init__(self, source: str, folder: Path | None = None) -> None:
        self.source = source
        self.folder = (folder or cache_dir()) / "answers" / source

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str, request: str | None = None) -> tuple[Any, float] | None:
        """(value, age in seconds) or None; an unreadable or mismatched entry counts as absent."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            if request is not None and data.get("request") != request:
                return None
            return data["value"], max(0.0, time.time() - float(data["saved_at"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, value: Any, request: str | None = None) -> None:
        import tempfile

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump({"saved_at": time.time(), "request": request, "value": value}, fh)
                os.replace(tmp, self._path(key))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            # A cache that cannot be written (read-only home, full disk) must not fail a search.
            pass

    def newest_age(self) -> float | None:
        """Age of the most recent answer, for `zoofind sources`."""
        try:
            mtimes = [p.stat().st_mtime for p in self.folder.glob("*.json")]
        except OSError:
            return None
        return max(0.0, time.time() - max(mtimes)) if mtimes else None


def cached(
    source: str, params: Any, fetch: Callable[[], Any], *, refresh: bool = False, ttl: float | None = None
) -> tuple[Any, str, float | None]:
    """Return (value, origin, age): a fresh cached answer, a live one, or a stale one on failure.

    origin is "cache", "live" or "stale". Errors from ``fetch`` propagate when no cached
    answer exists.
    """
    cache = AnswerCache(source)
    request = request_blob(source, params)
    key = request_key(request)
    hit = cache.get(key, request)
    limit = ttl_seconds() if ttl is None else ttl
    if hit and not refresh and hit[1] <= limit:
        return hit[0], "cache", hit[1]
    try:
        value = fetch()
    except Exception as exc:
        if hit is not None and is_transient(exc):
            return hit[0], "stale", hit[1]
        raise
    cache.put(key, value, request)
    return value, "live", None


def is_transient(exc: BaseException) -> bool:
    """Network down, timeout, 5xx or 429: worth serving a stale answer for."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    # Serve stale answers when the hub is unreachable or failing, not when the request is wrong.
    if names & {"ConnectError", "TimeoutException", "NetworkError", "ConnectionError", "Timeout", "OfflineModeIsEnabled"}:
        return True
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return bool(status and (status >= 500 or status == 429))
