"""GitHub's REST API and its codeload host, as torch.hub repositories are fetched from them.

``GitHubServer()`` starts two servers on two ports (two hosts, as api.github.com and
codeload.github.com are): ``.url`` is the API (``ZOOFIND_GITHUB_ENDPOINT``), ``.codeload.url`` the
archive host. ``add_repo("owner", "repo", {"hubconf.py": b"..."}, branch="main", tags={"v1": ...})``
makes a repository whose commits are the sha1 of their files.

API routes (JSON answers with ``X-GitHub-Api-Version``-free defaults, as GitHub's):

* ``GET /repos/{o}/{r}``: ``{"full_name", "default_branch", "private": false, ...}``; 404
  ``{"message": "Not Found", "documentation_url": ...}``.
* ``GET /repos/{o}/{r}/commits/{ref}``: with ``Accept: application/vnd.github.sha`` the 40-hex sha
  as ``text/plain``, else ``{"sha": ...}``; a ref that names nothing: 422 ``No commit found for SHA``.
* ``GET /repos/{o}/{r}/contents/{path}?ref=``: with ``Accept: application/vnd.github.raw+json``
  the raw bytes, else ``{"content": base64, "encoding": "base64", ...}``; 404 when absent.
* ``GET /repos/{o}/{r}/zipball/{ref}``: 302 to ``{codeload}/{o}/{r}/legacy.zip/{ref}``.

Every API answer carries ``X-RateLimit-Limit`` (60, or 5000 with ``Authorization``),
``-Remaining``, ``-Used``, ``-Reset`` (epoch seconds) and ``-Resource: core``. With
``remaining`` set to 0 an answer is 403 ``{"message": "API rate limit exceeded for ..."}``
(``limit_status``: 429 instead); ``secondary`` answers 403 with ``Retry-After: 60``.

Codeload: ``GET /{o}/{r}/legacy.zip/{ref}``: the zip archive generated on request, streamed
chunked without ``Content-Length`` and without ranges (``Range`` is ignored), one top folder
``{o}-{r}-{sha[:7]}/`` and the commit's sha as the zip's comment, Unix modes on every member.
``archives[(o, r)]`` replaces the archive's bytes (hostile archives).

Releases (``add_release("o", "r", "v1", {"model.pt": b"..."})``, REST API version 2022-11-28):

* ``GET /repos/{o}/{r}/releases/tags/{tag}``, ``.../releases/latest`` (the newest published release
  that is neither a draft nor a prerelease; 404 when there is none) and ``.../releases/{id}``: the
  release's JSON (``url``, ``html_url``, ``assets_url``, ``upload_url``, ``tarball_url``,
  ``zipball_url``, ``id``, ``node_id``, ``tag_name``, ``target_commitish``, ``name``, ``body``,
  ``draft``, ``prerelease``, ``immutable``, ``created_at``, ``published_at``, ``author``, ``assets``);
  each asset ``url``, ``browser_download_url``, ``id``, ``node_id``, ``name``, ``label``,
  ``content_type``, ``state``, ``size``, ``digest`` (``sha256:<hex>``; null for an asset made with
  ``digest=False``, as before June 2025), ``download_count``, ``created_at``, ``updated_at``,
  ``uploader``. ``GET .../releases`` lists them, newest first.
* ``GET /repos/{o}/{r}/releases/assets/{id}``: with ``Accept: application/octet-stream`` a 302 to
  the objects host (``.objects.url``, as objects.githubusercontent.com is another host), else the
  asset's JSON; an unknown id 404. Rate limits as every API answer.
* The objects host serves ``/github-production-release-asset/{id}?...`` with ``Range``, ``ETag``
  and ``Last-Modified`` (``bodies.send_body``), faults as ``bodies.Faults`` (``gate``); ``assets_bytes[id]`` replaces what it serves (a
  damaged upload); ``.objects.log()`` lists what it was asked.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
import zipfile
from urllib.parse import unquote
from dataclasses import dataclass, field
from typing import Any

from .bodies import Body, BodyHandler, Faults, send_body
from .loopback import LoopbackServer

DOCS = "https://docs.github.com/rest"


@dataclass
class Repo:
    owner: str
    name: str
    default_branch: str
    #: ref (branch or tag) -> commit sha
    refs: dict[str, str] = field(default_factory=dict)
    #: commit sha -> files
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)

    def commit_of(self, ref: str) -> str | None:
        if ref in self.refs:
            return self.refs[ref]
        hits = [c for c in self.commits if c.startswith(ref.lower())] if len(ref) >= 7 else []
        return hits[0] if len(hits) == 1 else None


def commit_sha(files: dict[str, bytes]) -> str:
    h = hashlib.sha1(usedforsecurity=False)
    for path in sorted(files):
        h.update(path.encode() + b"\0" + files[path])
    return h.hexdigest()


def zipball(owner: str, repo: str, sha: str, files: dict[str, bytes]) -> bytes:
    """The archive as GitHub makes it: one top folder, folders listed, Unix modes, the sha as comment."""
    top = f"{owner}-{repo}-{sha[:7]}/"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        folders = {top}
        for path in sorted(files):
            parts = path.split("/")[:-1]
            folders.update(top + "/".join(parts[: i + 1]) + "/" for i in range(len(parts)))
        for d in sorted(folders):
            info = zipfile.ZipInfo(d, (2024, 1, 2, 3, 4, 5))
            info.create_system = 3
            info.external_attr = (0o40755 << 16) | 0x10
            zf.writestr(info, b"")
        for path in sorted(files):
            info = zipfile.ZipInfo(top + path, (2024, 1, 2, 3, 4, 5))
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[path])
        zf.comment = sha.encode()
    return buf.getvalue()


class _Codeload(LoopbackServer, Faults):
    def __init__(self, api: GitHubServer) -> None:
        Faults.__init__(self)
        self._init_faults()
        server = self

        class Handler(BodyHandler):
            faults = server

            def do_GET(self) -> None:  # noqa: N802
                entry, path = self.begin()
                parts = path.strip("/").split("/")
                if len(parts) < 4 or parts[2] != "legacy.zip":
                    return self.send_plain(404, b"404: Not Found")
                data = api.archive(parts[0], parts[1], "/".join(parts[3:]))
                if data is None:
                    return self.send_plain(404, b"404: Not Found")
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Disposition", f"attachment; filename={parts[0]}-{parts[1]}.zip")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for i in range(0, len(data), 64 * 1024):
                        piece = data[i:i + 64 * 1024]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                        server._count(path, len(piece))
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    self.close_connection = True

        self._listen(Handler)


@dataclass
class Release:
    id: int
    tag: str
    assets: dict[str, tuple[int, bytes]]
    name: str = ""
    body: str = ""
    prerelease: bool = False
    draft: bool = False
    digests: bool = True
    published_at: str = "2024-06-01T12:00:00Z"


class _Objects(LoopbackServer, Faults):
    """The storage host release assets are redirected to."""

    def __init__(self, api: GitHubServer) -> None:
        Faults.__init__(self)
        self._init_faults()
        server = self
        bodies: dict[int, Body] = {}

        class Handler(BodyHandler):
            faults = server

            def do_GET(self) -> None:  # noqa: N802
                entry, path = self.begin()

                def fail(status: int, retry_after: int | None) -> None:
                    extra = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                    self.send_plain(status, b"<?xml version='1.0'?><Error><Code>ServerBusy</Code></Error>",
                                    "application/xml", extra)

                if self.gate(path, fail):
                    return
                head, _, aid = path.strip("/").partition("/")
                found = api.asset(int(aid)) if head == "github-production-release-asset" and aid.isdigit() else None
                if found is None:
                    return self.send_plain(404, b"<?xml version='1.0'?><Error><Code>BlobNotFound</Code></Error>",
                                           "application/xml")
                data = api.assets_bytes.get(int(aid), found[1])
                body = bodies.get(int(aid))
                if body is None or body.data != data:
                    body = bodies[int(aid)] = Body(data, time.time())
                send_body(self, body, key=str(aid), etag=hashlib.md5(data, usedforsecurity=False).hexdigest(),
                          headers={"Content-Disposition": f"attachment; filename={found[0]}"})

            do_HEAD = do_GET  # noqa: N815

        self._listen(Handler)


class GitHubServer(LoopbackServer, Faults):
    def __init__(self) -> None:
        Faults.__init__(self)
        self._init_faults()
        self.repos: dict[tuple[str, str], Repo] = {}
        self.archives: dict[tuple[str, str], bytes] = {}
        self.remaining: int | None = None  # None: plenty
        self.limit_status = 403
        self.secondary = False
        self.reset_at = int(time.time()) + 1800
        self.codeload = _Codeload(self)
        self.releases: dict[tuple[str, str], list[Release]] = {}
        self.assets_bytes: dict[int, bytes] = {}
        self._next_id = 1000
        self.objects = _Objects(self)
        server = self

        class Handler(BodyHandler):
            faults = server

            def do_GET(self) -> None:  # noqa: N802
                server._handle(self)

        self._listen(Handler)

    def __enter__(self) -> GitHubServer:
        self.codeload.__enter__()
        self.objects.__enter__()
        return super().__enter__()

    def __exit__(self, *exc: Any) -> None:
        super().__exit__(*exc)
        self.codeload.__exit__(*exc)
        self.objects.__exit__(*exc)

    def add_release(self, owner: str, name: str, tag: str, assets: dict[str, bytes], *, digests: bool = True,
                    prerelease: bool = False, draft: bool = False, title: str = "", body: str = "",
                    files: dict[str, bytes] | None = None) -> Release:
        """A release of ``owner/name`` at ``tag`` (the repository made, with ``files`` at the tag, when absent)."""
        if (owner, name) not in self.repos or files is not None:
            self.add_repo(owner, name, files or {"README.md": b"# models"}, tags={tag: files or {"README.md": b"x"}})
        with self._lock:
            self._next_id += 1
            rid = self._next_id
            numbered = {}
            for asset, data in assets.items():
                self._next_id += 1
                numbered[asset] = (self._next_id, data)
        rel = Release(rid, tag, numbered, title or tag, body, prerelease, draft, digests)
        self.releases.setdefault((owner, name), []).append(rel)
        return rel

    def asset(self, aid: int) -> tuple[str, bytes] | None:
        for rels in self.releases.values():
            for rel in rels:
                for asset, (i, data) in rel.assets.items():
                    if i == aid:
                        return asset, data
        return None

    def _asset_json(self, repo: Repo, rel: Release, asset: str) -> dict[str, Any]:
        aid, data = rel.assets[asset]
        api = f"{self.url}/repos/{repo.owner}/{repo.name}"
        return {"url": f"{api}/releases/assets/{aid}", "id": aid, "node_id": f"RA_{aid}", "name": asset, "label": "",
                "uploader": {"login": repo.owner}, "content_type": "application/octet-stream", "state": "uploaded",
                "size": len(data), "digest": f"sha256:{hashlib.sha256(data).hexdigest()}" if rel.digests else None,
                "download_count": 7, "created_at": rel.published_at, "updated_at": rel.published_at,
                "browser_download_url": f"https://github.com/{repo.owner}/{repo.name}/releases/download/{rel.tag}/"
                                        f"{asset}"}

    def _release_json(self, repo: Repo, rel: Release) -> dict[str, Any]:
        api = f"{self.url}/repos/{repo.owner}/{repo.name}"
        web = f"https://github.com/{repo.owner}/{repo.name}"
        return {"url": f"{api}/releases/{rel.id}", "assets_url": f"{api}/releases/{rel.id}/assets",
                "upload_url": f"https://uploads.github.com/repos/{repo.owner}/{repo.name}/releases/{rel.id}/assets"
                              "{?name,label}", "html_url": f"{web}/releases/tag/{rel.tag}", "id": rel.id,
                "author": {"login": repo.owner}, "node_id": f"RE_{rel.id}", "tag_name": rel.tag,
                "target_commitish": repo.default_branch, "name": rel.name, "draft": rel.draft, "immutable": False,
                "prerelease": rel.prerelease, "created_at": rel.published_at, "published_at": rel.published_at,
                "assets": [self._asset_json(repo, rel, a) for a in rel.assets],
                "tarball_url": f"{api}/tarball/{rel.tag}", "zipball_url": f"{api}/zipball/{rel.tag}", "body": rel.body}

    def _releases(self, h: BodyHandler, repo: Repo, rest: list[str], accept: str, rate: dict[str, str]) -> None:
        rels = self.releases.get((repo.owner, repo.name), [])
        missing = {"message": "Not Found", "documentation_url": DOCS, "status": "404"}
        if len(rest) == 1:
            return self._json(h, 200, [self._release_json(repo, r) for r in reversed(rels)], rate)
        found: Release | None = None
        if rest[1:] == ["latest"]:
            found = next((r for r in reversed(rels) if not r.draft and not r.prerelease), None)
        elif len(rest) >= 3 and rest[1] == "tags":
            found = next((r for r in rels if r.tag == unquote("/".join(rest[2:]))), None)
        elif len(rest) == 3 and rest[1] == "assets" and rest[2].isdigit():
            aid = int(rest[2])
            rel = next((r for r in rels if any(i == aid for i, _ in r.assets.values())), None)
            if rel is None:
                return self._json(h, 404, missing, rate)
            asset = next(a for a, (i, _) in rel.assets.items() if i == aid)
            if "application/octet-stream" in accept:
                where = f"{self.objects.url}/github-production-release-asset/{aid}?X-Amz-Expires=300&sig=x"
                return h.send_plain(302, b"", "text/html; charset=utf-8", {**rate, "Location": where})
            return self._json(h, 200, self._asset_json(repo, rel, asset), rate)
        elif len(rest) == 2 and rest[1].isdigit():
            found = next((r for r in rels if r.id == int(rest[1])), None)
        if found is None:
            return self._json(h, 404, missing, rate)
        return self._json(h, 200, self._release_json(repo, found), rate)

    def add_repo(self, owner: str, name: str, files: dict[str, bytes], *, branch: str = "main",
                 tags: dict[str, dict[str, bytes]] | None = None) -> str:
        """The repository with ``files`` on ``branch`` (a new commit when it exists), and tags; the branch's sha."""
        repo = self.repos.setdefault((owner, name), Repo(owner, name, branch))
        sha = commit_sha(files)
        repo.commits[sha] = dict(files)
        repo.refs[branch] = sha
        for tag, tagged in (tags or {}).items():
            tsha = commit_sha(tagged)
            repo.commits[tsha] = dict(tagged)
            repo.refs[tag] = tsha
        return sha

    def archive(self, owner: str, name: str, ref: str) -> bytes | None:
        repo = self.repos.get((owner, name))
        sha = repo.commit_of(ref) if repo else None
        if repo is None or sha is None:
            return None
        return self.archives.get((owner, name)) or zipball(owner, name, sha, repo.commits[sha])

    def _json(self, h: BodyHandler, status: int, data: Any, headers: dict[str, str]) -> None:
        h.send_plain(status, json.dumps(data).encode(), "application/json; charset=utf-8", headers)

    def _handle(self, h: BodyHandler) -> None:
        entry, path = h.begin()
        limit = 5000 if entry.authorized else 60
        with self._lock:
            if self.remaining is not None and self.remaining > 0:
                self.remaining -= 1
            left = self.remaining
        rate = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(left if left is not None else limit - 1),
                "X-RateLimit-Used": "1", "X-RateLimit-Reset": str(self.reset_at), "X-RateLimit-Resource": "core",
                "X-GitHub-Media-Type": "github.v3; format=json"}
        if self.secondary:
            return self._json(h, 403, {"message": "You have exceeded a secondary rate limit.",
                                       "documentation_url": DOCS}, {**rate, "Retry-After": "60"})
        if left == 0:
            return self._json(h, self.limit_status, {
                "message": "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated "
                           "requests get a higher rate limit.)", "documentation_url": DOCS}, rate)
        parts = path.strip("/").split("/")
        if len(parts) < 3 or parts[0] != "repos" or (parts[1], parts[2]) not in self.repos:
            return self._json(h, 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, rate)
        repo = self.repos[(parts[1], parts[2])]
        rest = parts[3:]
        accept = entry.headers.get("accept", "")
        if not rest:
            return self._json(h, 200, {"name": repo.name, "full_name": f"{repo.owner}/{repo.name}",
                                       "default_branch": repo.default_branch, "private": False}, rate)
        if rest[0] == "commits" and len(rest) >= 2:
            sha = repo.commit_of("/".join(rest[1:]))
            if sha is None:
                return self._json(h, 422, {"message": f"No commit found for SHA: {'/'.join(rest[1:])}",
                                           "documentation_url": DOCS, "status": "422"}, rate)
            if "application/vnd.github.sha" in accept:
                return h.send_plain(200, sha.encode(), "application/vnd.github.sha; charset=utf-8", rate)
            return self._json(h, 200, {"sha": sha}, rate)
        if rest[0] == "contents" and len(rest) >= 2:
            sha = repo.commit_of(entry.query.get("ref", [repo.default_branch])[0])
            data = repo.commits.get(sha or "", {}).get("/".join(rest[1:]))
            if data is None:
                return self._json(h, 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, rate)
            if "application/vnd.github.raw" in accept:
                return h.send_plain(200, data, "application/vnd.github.raw+json; charset=utf-8", rate)
            return self._json(h, 200, {"type": "file", "encoding": "base64", "size": len(data),
                                       "content": base64.b64encode(data).decode()}, rate)
        if rest[0] == "releases":
            return self._releases(h, repo, rest, accept, rate)
        if rest[0] == "zipball" and len(rest) >= 2:
            ref = "/".join(rest[1:])
            if repo.commit_of(ref) is None:
                return self._json(h, 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, rate)
            location = f"{self.codeload.url}/{repo.owner}/{repo.name}/legacy.zip/{ref}"
            return h.send_plain(302, b"", "text/html; charset=utf-8", {**rate, "Location": location})
        return self._json(h, 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, rate)
