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

What ``pull`` calls, as kagglehub 1.0 does (``http_resolver.py``, ``ModelHttpResolver``); each
takes ``ownerSlug``, ``modelSlug``, ``framework`` (the ``ModelFramework`` enum's name,
``MODEL_FRAMEWORK_TENSOR_FLOW_2``) and ``instanceSlug`` (the variation):

* ``GetModelInstance`` answers the ApiModelInstance, whose ``versionNumber`` is the latest
  version (what a handle without a version means).
* ``ListModelInstanceVersionFiles`` (+ ``versionNumber``, ``pageSize``, ``pageToken``) answers
  ``{"files": [{"name", "size", "creationDate"}], "nextPageToken"}``; kagglehub asks for 25
  and fetches the files one by one when no next page is announced, else the whole archive.
* ``DownloadModelInstanceVersion`` (+ ``versionNumber``, optional ``path``: one file) answers
  a redirect (kagglesdk's ``HttpRedirect``) to a signed storage URL
  (``storage.googleapis.com/kaggle-models-data/...``): the file itself, or without ``path``
  the version as one archive (``bundle/archive.tar.gz``). zoofind reads the ``Location``
  without following it, and gives it to the fetch engine, never with the credentials.

Errors (kagglesdk's ``_prepare_response``): a JSON body with an integer ``"code"`` >= 400
is an error whatever the status line says, with its ``"message"``. 401/403 are rejected
credentials (``AccessDeniedError``), or, to a call made without credentials (as kagglehub makes
them when it finds none: no ``Authorization`` header), a private or consent-gated model, whose
error says to sign in and accept its terms; 404/410 an unknown model (``NotFoundError``); 408, 429 and
5xx are the transient kinds (``net.errors.from_status``: retried by the session, and a
stale cached answer is served), other 4xx a ``BadAnswerError``.

The calls only read, so the POSTs are safe to retry. One ``Session`` serves every page of
a listing: the whole call shares one deadline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ...core.errors import AccessDeniedError, BadAnswerError, NotFoundError, SourceError
from ...net import retry as retry_policy
from ...net.errors import from_status, where
from ...net.http import REDIRECT_STATUSES, RETRY_STATUSES, Answer, Session
from ...net.transport import URL, InvalidURL, join_url
from .auth import HINT, Credentials

if TYPE_CHECKING:
    from ...core.context import Context

#: The service as people know it (error messages).
SERVICE = "Kaggle's API"
#: The RPC service kagglesdk calls.
RPC_SERVICE = "models.ModelApiService"
PRODUCTION_HOST = "api.kaggle.com"
#: ListModels pages read at most for one search.
MAX_PAGES = 3
#: The most of an error body's message an error repeats.
MESSAGE_CHARS = 300


def rpc_url(endpoint: str, method: str, service: str = RPC_SERVICE) -> str:
    """kagglesdk's ``_get_request_url``: production serves /v1, every other endpoint /api/v1."""
    base = endpoint if urlsplit(endpoint).netloc == PRODUCTION_HOST else f"{endpoint}/api"
    return f"{base}/v1/{service}/{method}"


def session(ctx: Context, creds: Credentials | None) -> Session:
    """A session for one source call, sending the credentials (if any) with every RPC."""
    return Session(ctx, SERVICE, headers={"Content-Type": "application/json", **(creds.headers() if creds else {})})


#: The calls about one model or dataset: their 404 means that it (or its variation, or version) does not exist.
ONE_MODEL = frozenset({"GetModel", "GetModelInstance", "ListModelInstanceVersionFiles", "DownloadModelInstanceVersion",
                       "GetDataset", "DownloadDataset"})
#: What a not-found model's error suggests.
MODEL_HINT = ("check the handle (owner/model/framework/variation[/version]) with "
              "`zoofind search --source kaggle` or on kaggle.com")
#: Files per ListModelInstanceVersionFiles page, as kagglehub asks (``MAX_NUM_FILES_DIRECT_DOWNLOAD``).
FILES_PAGE = 25
#: The most of a download call's answer read when it is not the redirect it should be.
LINK_MAX_BYTES = 64 * 1024


def check(answer: Answer, creds: Credentials | None, method: str = "GetModel", *, what: str | None = None,
          page: str | None = None, hint: str = MODEL_HINT) -> dict[str, Any]:
    """The answer's JSON object, or zoofind's error for what Kaggle said (status line or error body).

    ``what`` names the model in a not-found error; ``page`` (the model's page) turns a 403
    into "accept its terms there" rather than "your credentials are wrong"."""
    try:
        data = json.loads(answer.body)
    except (ValueError, RecursionError):
        data = None
    # kagglesdk: a JSON body with "code" >= 400 is an error whatever the status line says.
    code = data.get("code") if isinstance(data, dict) and isinstance(data.get("code"), int) else None
    status = answer.status if answer.status >= 400 else (code if code is not None and code >= 400 else answer.status)
    if status < 400:
        if not isinstance(data, dict):
            raise BadAnswerError(f"{SERVICE} answered something that is not a JSON object from "
                                 f"{urlsplit(answer.url).path}",
                                 hint="the service may be failing or a proxy may be answering instead; retry later")
        return data
    said = data.get("message") if isinstance(data, dict) else None
    # Kaggle's own words, kept short: a server's error text is no place for a megabyte.
    message = str(said)[:MESSAGE_CHARS] if said else f"HTTP {status}"
    if status in (401, 403) and creds is None:
        # kagglehub's words for the same answer: "make sure you are authenticated if you are trying to
        # access a private resource or a resource requiring consent" (exceptions.py, handle_call).
        terms = f" (accept them at {page})" if page is not None else ""
        raise AccessDeniedError(f"Kaggle refused {what or 'the call'} to a request without credentials "
                                f"(HTTP {status}: {message})",
                                hint=f"sign in: it is private or asks you to accept its terms{terms}; then give "
                                     f"zoofind your account's credentials: {HINT}")
    if status == 403 and page is not None:
        who = f"the account of the credentials from {creds.origin}" if creds else "a request without credentials"
        raise AccessDeniedError(f"Kaggle refused {what or 'the model'} to {who} (HTTP 403: {message})",
                                hint=f"if the model asks you to accept its terms or licence, accept them at {page} "
                                     f"signed in as that account; else check the credentials: {HINT}")
    if status in (401, 403):
        who = f"the credentials from {creds.origin}" if creds else "a request without credentials"
        raise AccessDeniedError(f"Kaggle rejected {who} (HTTP {status}: {message})", hint=f"check them: {HINT}")
    if status in (404, 410):
        plain = "" if said else (f"; {where(answer.url)} answered a plain HTTP {status}, not Kaggle's error body: "
                                 "ZOOFIND_KAGGLE_ENDPOINT may not point at Kaggle's API")
        if what is not None and method in ONE_MODEL:
            raise NotFoundError(f"Kaggle has no {what} (HTTP {status}: {message}){plain}", hint=hint)
        if method not in ONE_MODEL:
            # A listing always exists: without one the address (or the protocol) is wrong.
            raise SourceError(f"{SERVICE} has no {method} (HTTP {status}: {message}){plain}",
                              hint="check ZOOFIND_KAGGLE_ENDPOINT (unset, it means https://api.kaggle.com)",
                              status=status)
        raise NotFoundError(f"Kaggle has no such model (HTTP {status}: {message}){plain}",
                            hint="check the id (owner/model/framework/variation) with `zoofind search --source kaggle`")
    err = from_status(status, answer.url, answer.headers, SERVICE)
    if not isinstance(err, SourceError):
        raise err or BadAnswerError(f"{SERVICE} answered HTTP {status} ({message})")
    # The kind (transient or not) comes from the status; Kaggle's own words say more than the status line.
    raise type(err)(f"{SERVICE} answered HTTP {status} ({message})", hint=err.hint, status=err.status,
                    retry_after=err.retry_after)


def call(s: Session, endpoint: str, method: str, body: dict[str, Any], creds: Credentials | None, *,
         retry: bool = True, what: str | None = None, page: str | None = None, service: str = RPC_SERVICE,
         hint: str = MODEL_HINT) -> dict[str, Any]:
    """One RPC; raises on a transport failure, an error status or an error body."""
    return check(s.request("POST", rpc_url(endpoint, method, service), content=json.dumps(body), retry=retry), creds,
                 method, what=what, page=page, hint=hint)


def list_models(s: Session, endpoint: str, body: dict[str, Any], creds: Credentials | None) -> Iterator[list[Any]]:
    """The pages of a ListModels listing (each a list of raw ApiModels), at most ``MAX_PAGES``;
    stop iterating to stop asking."""
    return pages(s, endpoint, "ListModels", "models", body, creds)


def pages(s: Session, endpoint: str, method: str, key: str, body: dict[str, Any], creds: Credentials | None,
          service: str = RPC_SERVICE) -> Iterator[list[Any]]:
    """The pages of a listing RPC (each the list its answer holds under ``key``), at most ``MAX_PAGES``,
    following ``nextPageToken``; stop iterating to stop asking."""
    token = ""
    for _ in range(MAX_PAGES):
        data = call(s, endpoint, method, dict(body, pageToken=token) if token else dict(body), creds, service=service)
        found = data.get(key) or []
        if not isinstance(found, list):
            raise BadAnswerError(f"{SERVICE} answered a {method} page whose {key} are not a list")
        yield found
        token = following if isinstance(following := data.get("nextPageToken"), str) else ""
        if not token or not found:
            return


def get_model(s: Session, endpoint: str, owner: str, slug: str, creds: Credentials | None) -> dict[str, Any]:
    return call(s, endpoint, "GetModel", {"ownerSlug": owner, "modelSlug": slug}, creds)


def instance_body(owner: str, model: str, framework_enum: str, variation: str) -> dict[str, Any]:
    """The fields every model-instance call shares (kagglesdk's camelCase names)."""
    return {"ownerSlug": owner, "modelSlug": model, "framework": framework_enum, "instanceSlug": variation}


def get_model_instance(s: Session, endpoint: str, body: dict[str, Any], creds: Credentials | None, *, what: str,
                       page: str) -> dict[str, Any]:
    return call(s, endpoint, "GetModelInstance", body, creds, what=what, page=page)


def list_version_files(s: Session, endpoint: str, body: dict[str, Any], version: int, creds: Credentials | None, *,
                       what: str, page: str) -> tuple[list[Any], bool]:
    """The first page of a version's files (raw ApiModelFile objects), and whether Kaggle has more."""
    data = call(s, endpoint, "ListModelInstanceVersionFiles", dict(body, versionNumber=version, pageSize=FILES_PAGE),
                creds, what=what, page=page)
    files = data.get("files") or []
    if not isinstance(files, list):
        raise BadAnswerError(f"{SERVICE} answered a file listing whose files are not a list")
    token = data.get("nextPageToken")
    return files, isinstance(token, str) and token != ""


def download_link(s: Session, endpoint: str, body: dict[str, Any], version: int, creds: Credentials | None, *,
                  what: str, page: str, path: str | None = None) -> str:
    """Where one file (``path``) or the whole version (an archive) is to be fetched from: the
    ``Location`` of DownloadModelInstanceVersion's redirect, not followed (the credentials stay here)."""
    request = dict(body, versionNumber=version, **({"path": path} if path else {}))
    return redirect_link(s, rpc_url(endpoint, "DownloadModelInstanceVersion"), request, creds, what=what, page=page)


def redirect_link(s: Session, url: str, request: dict[str, Any], creds: Credentials | None, *, what: str, page: str,
                  hint: str = MODEL_HINT) -> str:
    """The ``Location`` of a download RPC's redirect (kagglesdk's ``HttpRedirect``), not followed."""
    method = url.rsplit("/", 1)[-1]
    for attempt in retry_policy.attempts(s.deadline):
        with attempt:
            with s.stream("POST", url, content=json.dumps(request)) as resp:
                location = resp.headers.get("location")
                if resp.status_code in REDIRECT_STATUSES and location:
                    return _storage_link(resp.url, location, what)
                if resp.status_code in RETRY_STATUSES:
                    err = from_status(resp.status_code, str(resp.url), dict(resp.headers), SERVICE)
                    assert err is not None  # RETRY_STATUSES are all errors (>= 400)
                    raise err
                if resp.status_code < 400 and "json" not in resp.headers.get("content-type", ""):
                    # Never read: it may be the file itself, and a body here would bypass every check.
                    raise BadAnswerError(f"{SERVICE} answered the download request with HTTP {resp.status_code} and no "
                                         "link to fetch the files from",
                                         hint="the service may have changed; retry later")
                raw = b"".join(s.iter_body(resp, max_bytes=LINK_MAX_BYTES))
                answer = Answer(resp.status_code, str(resp.url), {k.lower(): v for k, v in resp.headers.items()}, raw)
            check(answer, creds, method, what=what, page=page, hint=hint)
            raise BadAnswerError(f"{SERVICE} answered the download request for {what} without a link to the files",
                                 hint="the service may have changed; retry later")
    raise AssertionError("unreachable: stamina re-raises the last error")


def _storage_link(api: URL, location: str, what: str) -> str:
    """The redirect's target, refused when it is not http(s) or would leave https for plain http."""
    try:
        link: URL | None = join_url(api, location)
    except InvalidURL:
        link = None
    if (link is None or link.scheme not in ("http", "https") or not link.host
            or (api.scheme == "https" and link.scheme != "https")):
        raise BadAnswerError(f"{SERVICE} pointed the download of {what} at an address zoofind does not fetch from "
                             f"({link.scheme if link is not None else 'not an address'}); refused",
                             hint="the service or a proxy is misconfigured; retry later")
    return str(link)
