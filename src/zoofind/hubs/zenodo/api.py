"""Zenodo's REST API as its own clients call it, over the network layer.

``{endpoint}/api/records/{id}`` is one record (a concept id is redirected to its latest version,
which the session follows); ``.../versions/latest`` the latest version of a record's concept (a
302); ``{endpoint}/api/records?q=...`` a search page. Error bodies are Invenio's ``{"status",
"message"}``: 404 an unknown record, 410 a deleted one (its tombstone says why); 429 (30 searches a
minute) and 5xx are transient (``net.errors.from_status``: retried within the deadline, then a
stale cached answer is served).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from ...core.errors import BadAnswerError, NotFoundError, SourceError

if TYPE_CHECKING:
    from ...net.http import Answer, Session

SERVICE = "Zenodo"
#: Records per search page (Zenodo's cap for anonymous requests since November 2025), and pages read at most.
PAGE = 25
MAX_PAGES = 2
MESSAGE_CHARS = 300
HINT_ENDPOINT = "check ZOOFIND_ZENODO_ENDPOINT (unset, it means https://zenodo.org)"


def records(endpoint: str) -> str:
    return f"{endpoint.rstrip('/')}/api/records"


def record_url(endpoint: str, record: str) -> str:
    return f"{records(endpoint)}/{record}"


def latest_url(endpoint: str, record: str) -> str:
    return f"{records(endpoint)}/{record}/versions/latest"


def file_url(endpoint: str, record: str, key: str) -> str:
    """A file's content, as ``links.self`` gives it (used when a lock names a file and no record is read)."""
    return f"{records(endpoint)}/{record}/files/{quote(key)}/content"


def session(ctx: Any) -> Session:
    # lazy: the HTTP stack only when Zenodo is asked (record.py reads this module's addresses on cached searches)
    from ...net.http import Session

    return Session(ctx, SERVICE, headers={"Accept": "application/json"})


def check(answer: Answer, *, what: str | None = None) -> Answer:
    """The answer, or zoofind's error for its status (``what``: the record a 404 or 410 is about)."""
    if answer.status < 400:
        return answer
    # lazy: the error table only for a refused answer (record.py reads this module's addresses on cached searches)
    from ...net.errors import from_status, where

    try:
        body = json.loads(answer.body)
    except (ValueError, RecursionError):
        body = None
    said = body.get("message") if isinstance(body, dict) else None
    message = str(said)[:MESSAGE_CHARS] if said else f"HTTP {answer.status}"
    if answer.status == 410 and what is not None:
        stone = body.get("tombstone") if isinstance(body, dict) else None
        why = stone.get("removal_reason") if isinstance(stone, dict) else None
        reason = why.get("title") or why.get("id") if isinstance(why, dict) else why
        if isinstance(reason, dict):  # Invenio's i18n title: {"en": "Spam"}
            reason = reason.get("en") or next(iter(reason.values()), None)
        raise NotFoundError(f"Zenodo's {what} was deleted" + (f" ({str(reason)[:MESSAGE_CHARS]})" if reason else ""),
                            hint="its DOI page says why; a newer version may exist (zoofind search --source zenodo)")
    if answer.status == 404 and what is not None:
        raise NotFoundError(f"Zenodo has no {what} ({message})",
                            hint="check the id with `zoofind search --source zenodo` or on zenodo.org")
    if answer.status == 404:
        raise SourceError(f"{SERVICE} has no records API at {where(answer.url)} ({message})", hint=HINT_ENDPOINT,
                          status=404)
    err = from_status(answer.status, answer.url, answer.headers, SERVICE)
    assert err is not None  # every status >= 400 maps to an error
    if isinstance(err, SourceError):
        raise type(err)(f"{err.message} ({message})", hint=err.hint, status=err.status,
                        retry_after=err.retry_after)
    raise err


def _object(answer: Answer, what: str) -> dict[str, Any]:
    data = answer.json()
    if not isinstance(data, dict):
        raise BadAnswerError(f"{SERVICE} answered {what} with something that is not a JSON object", hint=HINT_ENDPOINT)
    return data


def get_record(s: Session, endpoint: str, record: str, *, latest: bool = False) -> dict[str, Any]:
    """One record's JSON (``latest``: the latest version of its concept)."""
    url = latest_url(endpoint, record) if latest else record_url(endpoint, record)
    return _object(check(s.request("GET", url), what=f"record {record}"), "a record")


def search_pages(s: Session, endpoint: str, q: str, *, kind: str | None = None) -> Iterator[list[Any]]:
    """The pages of records matching ``q`` (``kind``: a resource type), at most ``MAX_PAGES``; stop
    iterating to stop asking."""
    for page in range(1, MAX_PAGES + 1):
        params: dict[str, Any] = {"q": q, "size": PAGE, "page": page, "sort": "bestmatch" if q else "mostrecent"}
        if kind:
            params["type"] = kind
        data = _object(check(s.request("GET", f"{records(endpoint)}?{urlencode(params)}")), "a search page")
        hits = data.get("hits")
        items = hits.get("hits") if isinstance(hits, dict) else None
        if not isinstance(items, list):
            raise BadAnswerError(f"{SERVICE} answered a search page without a list of hits", hint=HINT_ENDPOINT)
        yield items
        total = hits.get("total") if isinstance(hits, dict) else None
        if isinstance(total, dict):  # OpenSearch's {"value": n, "relation": "eq"}
            total = total.get("value")
        if not items or not isinstance(total, int) or page * PAGE >= total:
            return
