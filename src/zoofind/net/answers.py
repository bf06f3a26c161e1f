"""Live answers cached on disk with a TTL, and served stale when the network is down.

Files live under ``<cache dir>/answers/<source>/<key>.json`` and are written atomically
(``atomic``), so a crash or a concurrent zoofind never leaves a half-written answer.
A request's key names everything its answer depends on (endpoint, parameters, and a
fingerprint of the credential, never the credential), and the request itself is
stored and compared on read. Credentials inside a URL in the request (an endpoint
variable such as ``HF_ENDPOINT=http://user:pw@host``) are replaced by their fingerprint
here, for every source: another account's answer is never served, and no secret is
written to disk.
"""

from __future__ import annotations

import json
import math
import time
import warnings
import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..core.atomic import try_write_json
from ..core.errors import MissingHomeError, ZoofindWarning
from ..core.redaction import keyed_url
from ..core.units import human_age

if TYPE_CHECKING:
    from pathlib import Path

    from ..core.context import Context


def request_blob(source: str, params: Any) -> str:
    return json.dumps([source, _keyed(params)], sort_keys=True, default=str)


def _keyed(value: Any) -> Any:
    """``params`` with every URL's credentials replaced by their fingerprint (``redaction.keyed_url``)."""
    if isinstance(value, str):
        return keyed_url(value)
    if isinstance(value, Mapping):
        return {k: _keyed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_keyed(v) for v in value]
    return value


def request_key(request: str) -> str:
    """The file name for a request (see request_blob).

    Two CRCs make a 64-bit name; the request itself is stored in the file and compared on
    read, so a collision is a cache miss, never a wrong answer. (hashlib would cost ~3 ms
    to import on every cached search.)
    """
    blob = request.encode()
    return f"{zlib.crc32(blob):08x}{zlib.adler32(blob):08x}"


class AnswerCache:
    def __init__(self, ctx: Context, source: str) -> None:
        self.source = source
        try:
            self.folder: Path | None = ctx.cache_dir / "answers" / source
        except MissingHomeError as exc:
            # No home to keep answers in (and zoofind never creates one): ask live every time.
            self.folder = None
            _warn_once(f"{exc.message}; live answers are not cached")

    def get(self, key: str, request: str | None = None) -> tuple[Any, float] | None:
        """(value, age in seconds) or None; an unreadable or mismatched entry counts as absent."""
        if self.folder is None:
            return None
        try:
            data = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            if not isinstance(data, dict) or (request is not None and data.get("request") != request):
                return None
            saved_at = float(data["saved_at"])
            if not math.isfinite(saved_at):
                return None
            return data["value"], max(0.0, time.time() - saved_at)
        except (OSError, ValueError, KeyError, TypeError, RecursionError):  # damaged or foreign: a miss
            return None

    def put(self, key: str, value: Any, request: str | None = None) -> None:
        # A cache that cannot be written (read-only home, full disk) must not fail a search.
        if self.folder is None:
            return
        try_write_json(self.folder / f"{key}.json", {"saved_at": time.time(), "request": request, "value": value})

    def newest_age(self) -> float | None:
        """Age of the most recent answer, for `zoofind sources`."""
        if self.folder is None:
            return None
        try:
            mtimes = [p.stat().st_mtime for p in self.folder.glob("*.json")]
        except OSError:
            return None
        return max(0.0, time.time() - max(mtimes)) if mtimes else None


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    """One warning a process, however many sources find no cache folder."""
    if message in _warned:
        return
    _warned.add(message)

    warnings.warn(message, ZoofindWarning, stacklevel=3)


def cached(ctx: Context, source: str, params: Any, fetch: Callable[[], Any],
           valid: Callable[[Any], bool] | None = None) -> tuple[Any, str, float | None]:
    """Return (value, origin, age): a fresh cached answer, a live one, or a stale one on failure.

    origin is "cache", "live" or "stale". ``ctx.refresh`` skips a fresh cached answer; a
    transient failure (``SourceError.transient``: network down, timeout, 429, 5xx) serves
    the cached answer whatever its age. Other errors propagate. ``valid`` says whether a
    cached value has the shape its reader needs: one that has not (a damaged file, an
    older zoofind's answer) is a miss.
    """
    cache = AnswerCache(ctx, source)
    request = request_blob(source, params)
    key = request_key(request)
    hit = cache.get(key, request)
    if hit is not None and valid is not None and not valid(hit[0]):
        hit = None
    if hit and not ctx.refresh and hit[1] <= ctx.ttl:
        return hit[0], "cache", hit[1]
    try:
        value = fetch()
    except Exception as exc:
        if hit is not None and getattr(exc, "transient", False):
            return hit[0], "stale", hit[1]
        raise
    cache.put(key, value, request)
    return value, "live", None


def stale_note(who: str, origin: str, age: float | None) -> str | None:
    """What to say when a stale answer is served instead of a live one."""
    if origin != "stale":
        return None
    return f"{who} did not answer; showing the answer cached {human_age(age) or '0 s'} ago"
