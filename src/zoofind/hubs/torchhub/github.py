"""GitHub's REST API, as much of it as a PyTorch Hub repository needs.

* ``GET /repos/{owner}/{repo}``: the default branch (``default_branch``), when no ref is given.
  ``torch.hub`` itself guesses ``main``, else ``master``, over the network; zoofind asks.
* ``GET /repos/{owner}/{repo}/commits/{ref}`` with ``Accept: application/vnd.github.sha``: the
  commit a branch, tag or sha names, as 40 hex digits of plain text.
* ``GET /repos/{owner}/{repo}/contents/hubconf.py?ref={commit}`` with
  ``Accept: application/vnd.github.raw+json``: the file's bytes.
* ``GET /repos/{owner}/{repo}/zipball/{commit}``: a 302 to the codeload host, which serves the
  archive. The redirect is read here and never followed: the archive is fetched by the engine
  from the address it names, without the token.

``GITHUB_TOKEN`` (as torch.hub reads it) goes as ``Authorization: Bearer`` to the API host only.
A 403 or 429 with ``X-RateLimit-Remaining: 0`` is the primary rate limit: the message says
when it resets (``X-RateLimit-Reset``, epoch seconds); a 403/429 with ``Retry-After`` is a
secondary limit. ``ZOOFIND_GITHUB_ENDPOINT`` replaces ``https://api.github.com`` (GitHub
Enterprise: ``https://HOST/api/v3``; tests).
"""

from __future__ import annotations

import datetime
import json
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote, urljoin

from ...core.errors import AccessDeniedError, BadAnswerError, NotFoundError, RateLimitedError
from ...net.errors import from_status, where
from ...net.http import Answer, Session
from . import SPEC

if TYPE_CHECKING:
    from ...core.context import Context

SERVICE = "GitHub's API"
TOKEN_VARIABLE = "GITHUB_TOKEN"
API_VERSION = "2022-11-28"
#: hubconf.py is read whole; a larger one is no hub configuration.
MAX_HUBCONF = 1024 * 1024
SHA_RE = re.compile(r"[0-9a-f]{40}")


def endpoint(ctx: Context) -> str:
    return ctx.endpoint(SPEC).rstrip("/")


def session(ctx: Context) -> Session:
    """One call's session: GitHub's JSON media type and API version; the token when one is set.

    ``Session`` itself drops ``Authorization`` on a redirect to another host."""
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
    token = ctx.environ.get(TOKEN_VARIABLE, "").strip()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return Session(ctx, SERVICE, headers=headers)


def repo_url(ctx: Context, owner: str, repo: str) -> str:
    return f"{endpoint(ctx)}/repos/{quote(owner)}/{quote(repo)}"


def zipball_url(ctx: Context, owner: str, repo: str, ref: str) -> str:
    return f"{repo_url(ctx, owner, repo)}/zipball/{quote(ref, safe='')}"


def rate_limited(answer: Answer, token: bool) -> RateLimitedError | None:
    """The rate-limit error a 403/429 answer means, with when to try again; None: not a rate limit."""
    if answer.status not in (403, 429):
        return None
    h = answer.headers
    if h.get("x-ratelimit-remaining") == "0":
        try:
            reset = int(h.get("x-ratelimit-reset", ""))
        except ValueError:
            reset = None
        when = ""
        wait = None
        if reset is not None:
            wait = max(0.0, reset - time.time())
            at = datetime.datetime.fromtimestamp(reset, tz=datetime.timezone.utc).strftime("%H:%M:%S UTC")
            when = f"; it resets at {at} (in {wait / 60:.0f} min)"
        limit = h.get("x-ratelimit-limit")
        used = f" of {limit} requests an hour" if limit else ""
        err = RateLimitedError(
            f"{SERVICE} ({where(answer.url)}): the rate limit{used} is used up (HTTP {answer.status}){when}",
            hint="wait until then" + ("" if token else f", or set {TOKEN_VARIABLE} (5,000 requests an hour)"),
            status=answer.status, retry_after=wait)
        err.retryable = False  # an hour's wait is not a retry
        return err
    if "retry-after" in h:
        said = from_status(429, answer.url, h, SERVICE)
        assert isinstance(said, RateLimitedError)
        return RateLimitedError(f"{said.message} (GitHub's secondary rate limit)", hint=said.hint,
                                status=answer.status, retry_after=said.retry_after)
    return None


def checked(answer: Answer, ctx: Context, what: str) -> Answer:
    """The answer, or what its status means for ``what`` (a repository, a ref)."""
    if answer.status < 400:
        return answer  # a redirect not followed is the caller's to read
    limited = rate_limited(answer, bool(ctx.environ.get(TOKEN_VARIABLE, "").strip()))
    if limited is not None:
        raise limited
    try:
        said = json.loads(answer.body).get("message")
    except (ValueError, AttributeError, RecursionError):
        said = None
    detail = f" ({str(said)[:200]})" if said else ""
    if answer.status in (404, 422):
        raise NotFoundError(f"GitHub has no {what}{detail}",
                            hint="check the owner, the repository and the ref; a private repository needs "
                                 f"{TOKEN_VARIABLE}")
    if answer.status in (401, 403):
        raise AccessDeniedError(f"{SERVICE} refused access to {what} (HTTP {answer.status}){detail}",
                                hint=f"check {TOKEN_VARIABLE} (a token with read access to the repository)")
    err = from_status(answer.status, answer.url, answer.headers, SERVICE)
    raise err if err is not None else BadAnswerError(f"{SERVICE} answered HTTP {answer.status} for {what}")


def default_branch(s: Session, ctx: Context, owner: str, repo: str) -> str:
    answer = checked(s.request("GET", repo_url(ctx, owner, repo), retry=False), ctx, f"repository {owner}/{repo}")
    data = answer.json()
    branch = data.get("default_branch") if isinstance(data, Mapping) else None
    if not isinstance(branch, str) or not branch.strip():
        raise BadAnswerError(f"{SERVICE} described {owner}/{repo} without its default branch",
                             hint="check ZOOFIND_GITHUB_ENDPOINT")
    return branch


def commit_of(s: Session, ctx: Context, owner: str, repo: str, ref: str) -> str:
    """The 40-hex commit ``ref`` names now."""
    url = f"{repo_url(ctx, owner, repo)}/commits/{quote(ref, safe='')}"
    answer = checked(s.request("GET", url, headers={"Accept": "application/vnd.github.sha"}, retry=False), ctx,
                     f"ref {ref!r} in {owner}/{repo}")
    sha = answer.body.decode("ascii", "replace").strip().lower()
    if not SHA_RE.fullmatch(sha):
        raise BadAnswerError(f"{SERVICE} answered the commit of {owner}/{repo}:{ref} with something that is no sha",
                             hint="check ZOOFIND_GITHUB_ENDPOINT")
    return sha


def hubconf_text(s: Session, ctx: Context, owner: str, repo: str, commit: str) -> str:
    url = f"{repo_url(ctx, owner, repo)}/contents/hubconf.py?ref={commit}"
    answer = checked(s.request("GET", url, headers={"Accept": "application/vnd.github.raw+json"},
                               max_bytes=MAX_HUBCONF, retry=False), ctx, f"hubconf.py in {owner}/{repo}@{commit[:12]}")
    return answer.body.decode("utf-8", "replace")


def archive_location(s: Session, ctx: Context, owner: str, repo: str, commit: str) -> str:
    """Where the API sends the archive of ``commit`` (the codeload host): asked, not followed."""
    url = zipball_url(ctx, owner, repo, commit)
    answer = checked(s.request("GET", url, follow_redirects=False, retry=False), ctx,
                     f"archive of {owner}/{repo}@{commit[:12]}")
    location = answer.headers.get("location")
    if answer.status not in (301, 302, 303, 307, 308) or not location:
        raise BadAnswerError(f"{SERVICE} did not redirect the archive of {owner}/{repo} (HTTP {answer.status})",
                             hint="check ZOOFIND_GITHUB_ENDPOINT")
    return urljoin(url, location)
