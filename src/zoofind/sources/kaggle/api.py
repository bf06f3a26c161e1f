"""Kaggle's public API as kagglesdk speaks it, over the network layer.

Protocol (kagglesdk 0.1.38: ``kaggle_http_client.py``, ``models/services/model_api_service.py``,
``models/types/model_api_service.py``): every call is an HTTP ``POST`` of a JSON body
(``Content-Type: application/json``, camelCase fields, unset fields left out) to
``{api}/v1/models.ModelApiService/<Method>``, where ``{api}`` is ``https://api.kaggle.com``
in production and ``<endpoint>/api`` for any other endpoint (``ZOOFIND_KAGGLE_ENDPOINT``).

* ``ListModels`` takes ``search``, ``sortBy`` (``LIST_MODELS_ORDER_BY_*``), ``owner``,
  ``pageSize``, ``pageToken`` and ``onlyVertexModels``, and answers
  ``{"models": [ApiModel...], "nextPageToken": "...", "totalResults": n}``; the next page
  is the same body with ``pageToken``. The listing has no framework filter.
* ``GetModel`` (``ownerSlug``, ``modelSlug``) answers one ApiModel.

Errors (kagglesdk's ``_prepare_response``): a JSON body with an integer ``"code"`` >= 400
is an error whatever the status line says, with its ``"message"``. 401/403 are rejected
credentials (``AccessDeniedError``), 404/410 an unknown model (``NotFoundError``); 408, 429 and
5xx are the transient kinds (``net.errors.from_status``: retried by the session, and a
stale cached answer is served), other 4xx a ``BadAnswerError``.

The calls only read, so the POSTs are safe to retry. One ``Session`` serves every page of
a listing: the whole call shares one deadline.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import urlsplit

from ...errors import AccessDeniedError, BadAnswerError, NotFoundError, SourceError
from ...net.errors import from_status, where
from ...net.http import Answer, Session
from .auth import HINT, Credentials

if TYPE_CHECKING:
    from ...context import Context

#: The service as people know it (error messages).
SERVICE = "Kaggle's API"
#: The RPC service kagglesdk calls.
RPC_SERVICE = "models.ModelApiService"
PRODUCTION_HOST = "api.kaggle.com"
#: ListModels pages read at most for one search.
MAX_PAGES = 3
#: The most of an error body's message an error repeats.
MESSAGE_CHARS = 300


def rpc_url(endpoint: str, method: str) -> str:
    """kagglesdk's ``_get_request_url``: production serves /v1, every other endpoint /api/v1."""
    base = endpoint if urlsplit(endpoint).netloc == PRODUCTION_HOST else f"{endpoint}/api"
    return f"{base}/v1/{RPC_SERVICE}/{method}"


def session(ctx: "Context", creds: Credentials | None) -> Session:
    """A session for one source call, sending the credentials (if any) with every RPC."""
    return Session(ctx, SERVICE, headers={"Content-Type": "application/json", **(creds.headers() if creds else {})})


def check(answer: Answer, creds: Credentials | None, method: str = "GetModel") -> dict[str, Any]:
    """The answer's JSON object, or zoofind's error for what Kaggle said (status line or error body)."""
    try:
        data = json.loads(answer.body)
    except (ValueError, RecursionError):
        data = None
    # kagglesdk: a JSON body with "code" >= 400 is an error whatever the status line says.
    code = data.get("code") if isinstance(data, dict) and isinstance(data.get("code"), int) else None
    status = answer.status if answer.status >= 400 else (code if code is not None and code >= 400 else answer.status)
    if status < 400:
        if not isinstance(data, dict):
            raise BadAnswerError(f"{SERVICE} answered something that is not a JSON object from {urlsplit(answer.url).path}",
                                 hint="the service may be failing or a proxy may be answering instead; retry later")
        return data
    said = data.get("message") if isinstance(data, dict) else None
    # Kaggle's own words, kept short: a server's error text is no place for a megabyte.
    message = str(said)[:MESSAGE_CHARS] if said else f"HTTP {status}"
    if status in (401, 403):
        who = f"the credentials from {creds.origin}" if creds else "a request without credentials"
        raise AccessDeniedError(f"Kaggle rejected {who} (HTTP {status}: {message})", hint=f"check them: {HINT}")
    if status in (404, 410):
        plain = "" if said else (f"; {where(answer.url)} answered a plain HTTP {status}, not Kaggle's error body: "
                                 "ZOOFIND_KAGGLE_ENDPOINT may not point at Kaggle's API")
        if method != "GetModel":
            # A listing always exists: without one the address (or the protocol) is wrong.
            raise SourceError(f"{SERVICE} has no {method} (HTTP {status}: {message}){plain}",
                              hint="check ZOOFIND_KAGGLE_ENDPOINT (unset, it means https://api.kaggle.com)", status=status)
        raise NotFoundError(f"Kaggle has no such model (HTTP {status}: {message}){plain}",
                            hint="check the id (owner/model/framework/variation) with `zoofind search --source kaggle`")
    err = from_status(status, answer.url, answer.headers, SERVICE)
    if not isinstance(err, SourceError):
        raise err or BadAnswerError(f"{SERVICE} answered HTTP {status} ({message})")
    # The kind (transient or not) comes from the status; Kaggle's own words say more than the status line.
    raise type(err)(f"{SERVICE} answered HTTP {status} ({message})", hint=err.hint, status=err.status,
                    retry_after=err.retry_after)


def call(s: Session, endpoint: str, method: str, body: dict[str, Any], creds: Credentials | None, *,
         retry: bool = True) -> dict[str, Any]:
    """One RPC; raises on a transport failure, an error status or an error body."""
    return check(s.request("POST", rpc_url(endpoint, method), content=json.dumps(body), retry=retry), creds, method)


def list_models(s: Session, endpoint: str, body: dict[str, Any], creds: Credentials) -> Iterator[list[Any]]:
    """The pages of a ListModels listing (each a list of raw ApiModels), at most ``MAX_PAGES``;
    stop iterating to stop asking."""
    token = ""
    for _ in range(MAX_PAGES):
        data = call(s, endpoint, "ListModels", dict(body, pageToken=token) if token else dict(body), creds)
        models = data.get("models") or []
        if not isinstance(models, list):
            raise BadAnswerError(f"{SERVICE} answered a ListModels page whose models are not a list")
        yield models
        token = data.get("nextPageToken") if isinstance(data.get("nextPageToken"), str) else ""
        if not token or not models:
            return


def get_model(s: Session, endpoint: str, owner: str, slug: str, creds: Credentials) -> dict[str, Any]:
    return call(s, endpoint, "GetModel", {"ownerSlug": owner, "modelSlug": slug}, creds)
