"""The Hypha artifact manager's HTTP API as bioimage.io's website calls it, over the network layer.

``{endpoint}/bioimage-io/artifacts/bioimage.io/children`` lists the collection a page at a time
(``pagination=true``: ``{"items", "total", "offset", "limit"}``); ``.../artifacts/<alias>`` is one
model; ``.../artifacts/<alias>/files/<path>?version=<v>`` one of its files (a 307 to storage,
which the session follows). Errors are FastAPI's ``{"detail": ...}`` bodies: a 404 for a model
is an unknown id, for the listing a wrong endpoint; 408, 429 and 5xx are transient
(``net.errors.from_status``: retried, and a stale cached answer is served).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from ...core.errors import BadAnswerError, NotFoundError, SourceError
from ...net.errors import from_status, where
from ...net.http import Answer, Session

SERVICE = "bioimage.io (Hypha)"
WORKSPACE = "bioimage-io"
COLLECTION = "bioimage.io"
#: Models per listing page (Hypha accepts 1..1000), and pages read at most for one search.
PAGE = 100
MAX_PAGES = 5
MESSAGE_CHARS = 300
HINT_ENDPOINT = "check ZOOFIND_BIOIMAGEIO_ENDPOINT (unset, it means https://hypha.aicell.io)"


def artifacts(endpoint: str) -> str:
    return f"{endpoint.rstrip('/')}/{WORKSPACE}/artifacts"


def children_url(endpoint: str, params: Mapping[str, Any]) -> str:
    return f"{artifacts(endpoint)}/{COLLECTION}/children?{urlencode(params)}"


def artifact_url(endpoint: str, alias: str, version: str | None = None) -> str:
    return f"{artifacts(endpoint)}/{alias}" + (f"?{urlencode({'version': version})}" if version else "")


def file_url(endpoint: str, alias: str, path: str, version: str | None) -> str:
    return (f"{artifacts(endpoint)}/{alias}/files/{quote(path)}"
            + (f"?{urlencode({'version': version})}" if version else ""))


def session(ctx: Any) -> Session:
    return Session(ctx, SERVICE)


def check(answer: Answer, *, what: str | None = None) -> Answer:
    """The answer, or zoofind's error for its status (``what``: the model a 404 is about)."""
    if answer.status < 400:
        return answer
    try:
        said = json.loads(answer.body).get("detail")
    except (ValueError, AttributeError, RecursionError):
        said = None
    message = str(said)[:MESSAGE_CHARS] if said else f"HTTP {answer.status}"
    if answer.status in (404, 410) and what is not None:
        raise NotFoundError(f"bioimage.io has no {what} ({message})",
                            hint="check the id with `zoofind search --source bioimageio` or on bioimage.io")
    if answer.status in (404, 410):
        raise SourceError(f"{SERVICE} has no model collection at {where(answer.url)} ({message})",
                          hint=HINT_ENDPOINT, status=answer.status)
    if answer.status == 400 and what is not None and "version" in answer.url:
        raise NotFoundError(f"bioimage.io has no such version of {what} ({message})",
                            hint="its versions are listed by `zoofind info`")
    err = from_status(answer.status, answer.url, answer.headers, SERVICE)
    assert err is not None  # every status >= 400 maps to an error
    if isinstance(err, SourceError):
        raise type(err)(f"{SERVICE} answered HTTP {answer.status} ({message})", hint=err.hint, status=err.status,
                        retry_after=err.retry_after)
    raise err


def _object(answer: Answer, what: str) -> dict[str, Any]:
    data = answer.json()
    if not isinstance(data, dict):
        raise BadAnswerError(f"{SERVICE} answered {what} with something that is not a JSON object",
                             hint=HINT_ENDPOINT)
    return data


def list_models(s: Session, endpoint: str, keywords: list[str], *, mode: str = "AND",
                order_by: str | None = None) -> Iterator[list[Any]]:
    """The pages of the collection's models matching the keywords (every one: ``mode`` AND; any: OR), as raw
    items, at most ``MAX_PAGES``; stop iterating to stop asking."""
    offset = 0
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {"pagination": "true", "offset": offset, "limit": PAGE, "stage": "false",
                                  "filters": json.dumps({"type": "model"}, separators=(",", ":"))}
        if keywords:
            params["keywords"] = ",".join(keywords)
            params["mode"] = mode
        if order_by:
            params["order_by"] = order_by
        data = _object(check(s.request("GET", children_url(endpoint, params))), "a listing page")
        items = data.get("items")
        if not isinstance(items, list):
            raise BadAnswerError(f"{SERVICE} answered a listing page without a list of items", hint=HINT_ENDPOINT)
        yield items
        offset += len(items)
        total = data.get("total")
        if not items or not isinstance(total, int) or offset >= total:
            return


def get_artifact(s: Session, endpoint: str, alias: str) -> dict[str, Any]:
    return _object(check(s.request("GET", artifact_url(endpoint, alias)), what=f"model {alias!r}"), "a model")


def get_file(s: Session, endpoint: str, alias: str, path: str, version: str | None, *, max_bytes: int) -> bytes:
    url = file_url(endpoint, alias, path, version)
    return check(s.request("GET", url, max_bytes=max_bytes), what=f"{path} of model {alias!r}").body
