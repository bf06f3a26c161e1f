"""GitHub's REST API, as much of it as zoofind's hubs read: one protocol client, below the hubs.

* ``GET /repos/{owner}/{repo}``: the default branch (``default_branch``), when no ref is given.
* ``GET /repos/{owner}/{repo}/commits/{ref}`` with ``Accept: application/vnd.github.sha``: the
  commit a branch, tag or sha names, as 40 hex digits of plain text.
* ``GET /repos/{owner}/{repo}/contents/{path}?ref={commit}`` with
  ``Accept: application/vnd.github.raw+json``: the file's bytes (``hubconf.py``, ``CITATION.cff``).
* ``GET /repos/{owner}/{repo}/zipball/{commit}``: a 302 to the codeload host, which serves the
  archive. The redirect is read here and never followed: the archive is fetched by the engine
  from the address it names, without the token.
* ``GET /repos/{owner}/{repo}/releases/tags/{tag}`` and ``.../releases/latest``: a release, its
  ``id``, ``tag_name``, ``name``, ``draft``/``prerelease``, ``published_at``, ``html_url``,
  ``body`` and ``assets`` (``id``, ``name``, ``size``, ``state``, ``content_type``,
  ``download_count``, ``browser_download_url`` and, for assets uploaded since June 2025,
  ``digest``: ``"sha256:<hex>"``, null before). ``latest`` is the newest release that is neither a
  draft nor a prerelease.
* ``GET /repos/{owner}/{repo}/releases/assets/{id}`` with ``Accept: application/octet-stream``: a
  302 to the storage host (``objects.githubusercontent.com`` / ``release-assets...``), which
  serves the bytes with ``Range``; the ``Accept`` (and the token) go to the API host only
  (``asset_headers``: the engine drops them on the redirect).

``GITHUB_TOKEN`` (as torch.hub and ``gh`` read it) goes as ``Authorization: Bearer`` to the API host
only. A 403 or 429 with ``X-RateLimit-Remaining: 0`` is the primary rate limit: the message says
when it resets (``X-RateLimit-Reset``, epoch seconds); a 403/429 with ``Retry-After`` is a
secondary limit. Each hub passes the API's base URL (``https://api.github.com``; GitHub
Enterprise: ``https://HOST/api/v3``; ``ZOOFIND_GITHUB_ENDPOINT`` in both hubs that read GitHub).
"""

from __future__ import annotations

import datetime
import json
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin

from ..core.errors import AccessDeniedError, BadAnswerError, NotFoundError, RateLimitedError
from .errors import from_status, where
from .http import Answer, Session

if TYPE_CHECKING:
    from ..core.context import Context

SERVICE = "GitHub's API"
TOKEN_VARIABLE = "GITHUB_TOKEN"
API_VERSION = "2022-11-28"
DEFAULT_ENDPOINT = "https://api.github.com"
#: A repository file read whole (hubconf.py, CITATION.cff); a larger one is no such file.
MAX_FILE = 1024 * 1024
#: A release's JSON (up to 1000 assets and a long body) is well under this.
MAX_RELEASE = 8 * 1024 * 1024
SHA_RE = re.compile(r"[0-9a-f]{40}")
HINT_ENDPOINT = "check ZOOFIND_GITHUB_ENDPOINT"


def token(ctx: Context) -> str:
    return ctx.environ.get(TOKEN_VARIABLE, "").strip()


def repo_url(api: str, owner: str, repo: str) -> str:
    return f"{api.rstrip('/')}/repos/{quote(owner)}/{quote(repo)}"


def zipball_url(api: str, owner: str, repo: str, ref: str) -> str:
    return f"{repo_url(api, owner, repo)}/zipball/{quote(ref, safe='')}"


def asset_url(api: str, owner: str, repo: str, asset_id: int) -> str:
    """An asset's API address: with ``asset_headers`` it redirects to the bytes."""
    return f"{repo_url(api, owner, repo)}/releases/assets/{asset_id}"


def asset_headers(ctx: Context) -> dict[str, str]:
    """What the API host needs to answer an asset with its bytes (a redirect to storage), and the token:
    for the engine's ``Download.auth``, which it sends to the API host only."""
    headers = {"Accept": "application/octet-stream", "X-GitHub-Api-Version": API_VERSION}
    if token(ctx):
        headers["Authorization"] = f"Bearer {token(ctx)}"
    return headers


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


class GitHub:
    """One call's session with GitHub's API at ``api``: its JSON media type and API version, the
    token when one is set (``Session`` itself drops ``Authorization`` on a redirect to another host)."""

    def __init__(self, ctx: Context, api: str) -> None:
        self.api = api.rstrip("/")
        self.token = bool(token(ctx))
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
        if self.token:
            headers["Authorization"] = f"Bearer {token(ctx)}"
        self.session = Session(ctx, SERVICE, headers=headers)

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.session.close()

    def checked(self, answer: Answer, what: str) -> Answer:
        """The answer, or what its status means for ``what`` (a repository, a ref, a release)."""
        if answer.status < 400:
            return answer  # a redirect not followed is the caller's to read
        limited = rate_limited(answer, self.token)
        if limited is not None:
            raise limited
        try:
            said = json.loads(answer.body).get("message")
        except (ValueError, AttributeError, RecursionError):
            said = None
        detail = f" ({str(said)[:200]})" if said else ""
        if answer.status in (404, 422):
            raise NotFoundError(f"GitHub has no {what}{detail}",
                                hint="check the owner, the repository and the ref or tag; a private repository "
                                     f"needs {TOKEN_VARIABLE}")
        if answer.status in (401, 403):
            raise AccessDeniedError(f"{SERVICE} refused access to {what} (HTTP {answer.status}){detail}",
                                    hint=f"check {TOKEN_VARIABLE} (a token with read access to the repository)")
        err = from_status(answer.status, answer.url, answer.headers, SERVICE)
        raise err if err is not None else BadAnswerError(f"{SERVICE} answered HTTP {answer.status} for {what}")

    def _get(self, url: str, what: str, **kw: Any) -> Answer:
        return self.checked(self.session.request("GET", url, retry=False, **kw), what)

    def default_branch(self, owner: str, repo: str) -> str:
        data = self._get(repo_url(self.api, owner, repo), f"repository {owner}/{repo}").json()
        branch = data.get("default_branch") if isinstance(data, Mapping) else None
        if not isinstance(branch, str) or not branch.strip():
            raise BadAnswerError(f"{SERVICE} described {owner}/{repo} without its default branch", hint=HINT_ENDPOINT)
        return branch

    def commit_of(self, owner: str, repo: str, ref: str) -> str:
        """The 40-hex commit ``ref`` names now."""
        url = f"{repo_url(self.api, owner, repo)}/commits/{quote(ref, safe='')}"
        answer = self._get(url, f"ref {ref!r} in {owner}/{repo}", headers={"Accept": "application/vnd.github.sha"})
        sha = answer.body.decode("ascii", "replace").strip().lower()
        if not SHA_RE.fullmatch(sha):
            raise BadAnswerError(f"{SERVICE} answered the commit of {owner}/{repo}:{ref} with something that is no "
                                 "sha", hint=HINT_ENDPOINT)
        return sha

    def file_text(self, owner: str, repo: str, path: str, ref: str) -> str:
        """A repository file's text at ``ref`` (a commit, a tag), read whole."""
        url = f"{repo_url(self.api, owner, repo)}/contents/{quote(path)}?ref={quote(ref, safe='')}"
        answer = self._get(url, f"{path} in {owner}/{repo}@{ref[:12]}",
                           headers={"Accept": "application/vnd.github.raw+json"}, max_bytes=MAX_FILE)
        return answer.body.decode("utf-8", "replace")

    def archive_location(self, owner: str, repo: str, commit: str) -> str:
        """Where the API sends the archive of ``commit`` (the codeload host): asked, not followed."""
        url = zipball_url(self.api, owner, repo, commit)
        answer = self._get(url, f"archive of {owner}/{repo}@{commit[:12]}", follow_redirects=False)
        location = answer.headers.get("location")
        if answer.status not in (301, 302, 303, 307, 308) or not location:
            raise BadAnswerError(f"{SERVICE} did not redirect the archive of {owner}/{repo} (HTTP {answer.status})",
                                 hint=HINT_ENDPOINT)
        return urljoin(url, location)

    def release(self, owner: str, repo: str, tag: str | None) -> dict[str, Any]:
        """The release ``tag`` names (None: the latest, neither a draft nor a prerelease), as GitHub answers it."""
        base = f"{repo_url(self.api, owner, repo)}/releases"
        url = f"{base}/tags/{quote(tag, safe='')}" if tag else f"{base}/latest"
        what = f"release {tag!r} in {owner}/{repo}" if tag else f"published release in {owner}/{repo}"
        data = self._get(url, what, max_bytes=MAX_RELEASE).json()
        if not isinstance(data, dict):
            raise BadAnswerError(f"{SERVICE} answered the {what} with something that is not a JSON object",
                                 hint=HINT_ENDPOINT)
        return data
