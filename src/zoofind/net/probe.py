"""Is an endpoint there and answering? One request, no retry, status line only.

What it says is shown to people: a redirect's ``Location`` is redacted (``redaction``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.errors import SourceError
from ..core.redaction import redact_url

if TYPE_CHECKING:
    from ..core.context import Context


def probe(ctx: Context, service: str, url: str, *, method: str = "GET") -> tuple[bool | None, str | None]:
    """(reachable, what it said): any HTTP status counts as reachable; None offline (nothing sent)."""
    # lazy: net.http (the HTTP stack) only when a probe is sent: off info/pull --offline and cached-answer searches
    from .http import Session

    if ctx.offline:
        return None, "offline: not probed"
    try:
        with Session(ctx, service) as s, s.stream(method, url) as resp:
            where = resp.headers.get("location")
            return True, f"HTTP {resp.status_code}" + (f" -> {redact_url(where)}" if where else "")
    except SourceError as exc:
        return False, exc.message
