"""The Hub's REST endpoints zoofind calls, over the network layer, and its error codes.

* ``GET /api/models`` with ``search``, ``filter`` (repeatable), ``pipeline_tag``, ``sort``,
  ``direction``, ``limit`` and ``expand[]``; the next page is the ``Link: <...>; rel="next"``
  header's URL (it carries every parameter), followed only on the Hub's own origin: the
  token goes to no other host.
* ``GET /api/models/{repo}[/revision/{rev}]?blobs=true``: one repo, with file sizes and LFS hashes.
* ``GET /api/models/{repo}/tree/{commit}?recursive=true``: every file of a large repo, in pages
  of 1,000 entries linked by ``Link: <...>; rel="next"`` (as huggingface_hub's ``list_repo_tree``
  reads them), each page followed to the end; the ``siblings`` of the repo's answer are trusted
  only below 1,000 files (huggingface_hub's ``LARGE_REPO_THRESHOLD``: the Hub may truncate them).
* ``GET /api/models/{repo}/auth-check``: whether this token may download a gated repo (a
  mirror without the route answers a bare 404: then the download's answer decides).

A dataset repository (ref ``datasets/owner/name``) has the same routes under ``/api/datasets``
(``GET /api/datasets`` with ``filter=task_categories:...``, ``size_categories:...``,
``license:...``; ``/api/datasets/{repo}[/revision/{rev}]``; its ``auth-check``), and its files
resolve at ``/datasets/{repo}/resolve/{rev}/{path}``: the ref is the URL path as it is.

Errors follow huggingface_hub's ``hf_raise_for_status``: the ``X-Error-Code`` header
(``RepoNotFound``, ``GatedRepo``, ``RevisionNotFound``, ``EntryNotFound``) says what a
401/403/404 means; an invalid token is a 401 with ``X-Error-Message``. The Hub names
every 404 it sends: a bare one (no ``X-Error-Code``) comes from whatever else answers at
that address (a mirror without the route, a web server, a typo in ``HF_ENDPOINT``), and
the message says so. The endpoint is shown redacted (``redaction.redact_url``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from ...core.errors import AccessDeniedError, BadAnswerError, NotFoundError, SourceError
from ...core.redaction import redact_url
from ...net.errors import from_status, where
from ...net.http import Answer, Session
from .. import Repairs
from . import is_dataset, noun, repo_id
from .mapping import screen, usable_id

SERVICE = "the Hugging Face Hub"
#: Pages of a listing read at most (each ``limit`` models).
MAX_PAGES = 3
#: From this many ``siblings`` on, a repo's files are read from the tree listing instead: the Hub
#: may truncate ``siblings`` of a large repo (huggingface_hub's ``LARGE_REPO_THRESHOLD``, 1,000).
LARGE_REPO = 1000
#: Pages of a tree listing read at most (1,000 entries each): 10 million files, so a server
#: whose ``Link`` never ends cannot keep a pull listing forever.
MAX_TREE_PAGES = 10_000


def headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def next_link(link_header: str | None) -> str | None:
    """The ``rel="next"`` URL of an RFC 8288 ``Link`` header."""
    for part in (link_header or "").split(","):
        m = re.match(r'\s*<([^>]*)>\s*;(.*)$', part)
        if m and re.search(r'\brel\s*=\s*"?next"?', m[2]):
            return m[1]
    return None


def _on_hub(link: str | None, page_url: str, hub: str) -> str | None:
    """``link`` resolved against the page it came with, when it stays on the Hub's origin; else None."""
    if not link:
        return None
    try:
        url = urljoin(page_url, link)
        there, home = urlsplit(url), urlsplit(hub)
        same = (there.scheme, there.hostname, there.port) == (home.scheme, home.hostname, home.port)
    except ValueError:  # a malformed address is no next page
        return None
    return url if same else None


def shown(ref: str) -> str:
    """A ref as messages name it: ``owner/name``, or ``the dataset owner/name``."""
    return f"the dataset {repo_id(ref)}" if is_dataset(ref) else ref


def check(answer: Answer, *, hub: str, repo: str | None, token: str | None, listing: str | None = None) -> Answer:
    """The answer if it is a success, else zoofind's error for what the Hub said (``repo``: the
    ref asked about; ``listing``: "models" or "datasets", for a listing)."""
    if answer.status < 400:
        return answer
    code = answer.headers.get("x-error-code", "")
    message = answer.headers.get("x-error-message", "")
    what = shown(repo) if repo else "this model"
    hub = redact_url(hub)
    if code == "GatedRepo":
        raise AccessDeniedError(
            f"{what} is gated on the Hugging Face Hub and "
            + ("this token has no access" if token else "no token is set"),
            hint=f"request access at {hub}/{repo}, then set HF_TOKEN (or run `hf auth login`)" if repo
            else "request access on the model page, then set HF_TOKEN",
        )
    if code == "RepoNotFound" or (answer.status == 401 and repo and "invalid" not in message.lower() and not token):
        raise NotFoundError(
            f"no {noun(repo or '')} {repo_id(repo or '')!r} on the Hugging Face Hub at {hub} (or it is private)",
            hint="check the id (owner/name, case-sensitive) with `zoofind search`; for a private repo set HF_TOKEN",
        )
    if code in ("RevisionNotFound", "EntryNotFound"):
        raise NotFoundError(f"{what}: {message or code} on the Hugging Face Hub at {hub}",
                            hint="check the revision or file name")
    if answer.status == 401:
        if token:
            raise AccessDeniedError("the Hugging Face Hub rejected the token (HTTP 401)",
                                    hint="check HF_TOKEN (or `hf auth login`); unset it to search anonymously")
        raise AccessDeniedError(f"the Hugging Face Hub at {hub} asks for a token (HTTP 401)",
                                hint="set HF_TOKEN (or run `hf auth login`)")
    if answer.status == 403:
        raise AccessDeniedError("the Hugging Face Hub refused access (HTTP 403)", hint="check the token's permissions")
    if answer.status == 404 and not code:
        # The Hub names every 404 it sends (X-Error-Code): a bare one is from something else at this address.
        plain = (f"{where(answer.url)} answered a plain HTTP 404, without the Hub's error code: "
                 "HF_ENDPOINT may not point at a Hub")
        hint = "check HF_ENDPOINT (unset, it means https://huggingface.co)"
        if repo:
            raise NotFoundError(f"no {noun(repo)} {repo_id(repo)!r} at {hub} ({plain})", hint=hint)
        # A Hub always has a listing: without one the address is wrong, which is no empty answer.
        raise SourceError(f"cannot list {listing or 'models'} at {hub} ({plain})", hint=hint, status=404)
    err = from_status(answer.status, answer.url, answer.headers, SERVICE)
    assert err is not None
    if answer.status == 429:
        err.hint = "wait a little; a logged-in token (HF_TOKEN) has a higher limit"
    raise err


def list_models(session: Session, hub: str, params: list[tuple[str, str]], want: int, token: str | None,
                repairs: Repairs | None = None, *, listing: str = "models") -> list[Any]:
    """Up to ``want`` repos (raw JSON objects with a usable id) of a listing (``listing``: "models"
    or "datasets"), following ``Link`` pages; those that cannot be records are skipped (and
    counted in ``repairs``)."""
    url: str | None = f"{hub}/api/{listing}"
    query: list[tuple[str, str]] | None = params
    models: list[Any] = []
    for _ in range(MAX_PAGES):
        assert url is not None
        answer = check(session.request("GET", url, params=query, headers=headers(token)), hub=hub, repo=None,
                       token=token, listing=listing)
        page = answer.json()
        if not isinstance(page, list):
            raise BadAnswerError(f"{SERVICE} ({where(answer.url)}) answered {_json_kind(page)}, not a list of "
                                 f"{listing}", hint="HF_ENDPOINT may not point at a Hugging Face Hub; retry later")
        models += screen(page, repairs)
        url, query = next_page(answer, hub), None
        if not url or len(models) >= want or not page:
            break
    return models[:want]


def next_page(answer: Answer, hub: str) -> str | None:
    """The next page of a paged Hub answer (its ``Link: rel="next"``), only on the Hub's own
    origin: a token is never sent where a hostile ``Link`` points."""
    return _on_hub(next_link(answer.headers.get("link")), answer.url, hub)


def api_path(ref: str) -> str:
    """The API's address of a repo: ``/api/models/owner/name`` or ``/api/datasets/owner/name``."""
    return f"/api/{ref}" if is_dataset(ref) else f"/api/models/{ref}"


def tree_pages(session: Session, hub: str, repo: str, commit: str, token: str | None) -> Iterator[list[Any]]:
    """Each page of the repo's recursive tree at ``commit`` (its JSON list of entries, files and
    folders), following ``Link: rel="next"`` to the last page, on the Hub's origin only."""
    url: str | None = f"{hub}{api_path(repo)}/tree/{quote(commit, safe='')}"
    params: dict[str, str] | None = {"recursive": "true", "expand": "false"}
    seen: set[str] = set()
    for _ in range(MAX_TREE_PAGES):
        if url is None:
            return
        if url in seen:
            raise BadAnswerError(f"{SERVICE} listed the files of {repo!r} in a loop (a page links back to one "
                                 "already read); refused",
                                 hint="the server is misbehaving or hostile; nothing was written")
        seen.add(url)
        answer = check(session.request("GET", url, params=params, headers=headers(token)), hub=hub, repo=repo,
                       token=token)
        page = answer.json()
        if not isinstance(page, list):
            raise BadAnswerError(f"{SERVICE} ({where(answer.url)}) answered {_json_kind(page)}, not the files of "
                                 f"{repo!r}", hint="HF_ENDPOINT may not point at a Hugging Face Hub; retry later")
        yield page
        url, params = next_page(answer, hub), None
    raise BadAnswerError(f"{SERVICE} listed more than {MAX_TREE_PAGES:,} pages of files for {repo!r}; refused",
                         hint="the server is misbehaving or hostile; nothing was written")


def repo_path(repo: str, revision: str | None = None) -> str:
    path = api_path(repo)
    return f"{path}/revision/{quote(revision, safe='')}" if revision else path


def model_info(session: Session, hub: str, repo: str, token: str | None, revision: str | None = None) -> dict[str, Any]:
    answer = check(session.request("GET", hub + repo_path(repo, revision), params={"blobs": "true"},
                                   headers=headers(token)),
                   hub=hub, repo=repo, token=token)
    data = answer.json()
    if not isinstance(data, dict) or usable_id(data.get("id")) is None:
        raise BadAnswerError(f"{SERVICE} ({where(answer.url)}) answered {_json_kind(data)} that is not a {noun(repo)} "
                             f"for {repo_id(repo)!r}",
                             hint="HF_ENDPOINT may not point at a Hugging Face Hub; retry later")
    return data


def _json_kind(value: Any) -> str:
    """What a JSON value is, in words (never its text: it is a server's)."""
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return kinds.get(type(value), "a number")


#: What a server without a route answers (no X-Error-Code: not the Hub's word): 404, or 405/501 from some proxies.
NO_ROUTE = frozenset({404, 405, 501})


def auth_check(session: Session, hub: str, repo: str, token: str | None) -> bool:
    """True when the Hub says this token may download ``repo``; False when the server cannot
    tell (a lab mirror of the Hub, olah or an Artifactory/Nexus remote, often lacks the route
    and answers a bare 404: the download's own answer then decides). Raises AccessDeniedError
    or NotFoundError when the Hub says no (its answers carry ``X-Error-Code``)."""
    answer = session.request("GET", f"{hub}{repo_path(repo)}/auth-check", headers=headers(token))
    if answer.status in NO_ROUTE and not answer.headers.get("x-error-code"):
        return False
    check(answer, hub=hub, repo=repo, token=token)
    return True
