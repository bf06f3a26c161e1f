"""tinyhub's search, info and status: its index, asked for once a call."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zoofind.caches.shared import declare
from zoofind.hubs.base import SourceAnswer, SourceStatus
from zoofind.models.files import FileEntry, FileSet
from zoofind.models.records import Record
from zoofind.net.errors import from_status
from zoofind.net.http import Session

from . import SPEC

SERVICE = "tinyhub"


def home(environ) -> Path:
    """``$TINYHUB_HOME``, default ``~/.cache/tinyhub``."""
    raw = environ.get("TINYHUB_HOME")
    return Path(raw) if raw else Path(environ.get("HOME", os.path.expanduser("~"))) / ".cache" / "tinyhub"


#: In a cache home (so in each ZOOFIND_SHARED_CACHE root) tinyhub's cache is ``tinyhub/``: a pull
#: links a file found there (and checked against its sha256) instead of downloading it.
PLACE = declare(("tinyhub",), home)


def index(ctx) -> list[dict[str, Any]]:
    with Session(ctx, SERVICE) as s:
        answer = s.request("GET", f"{ctx.endpoint(SPEC)}/index.json")
        if (err := from_status(answer.status, answer.url, answer.headers, SERVICE)) is not None:
            raise err
        return list(answer.json().get("models", []))


def record(model: dict[str, Any]) -> Record:
    return Record(id=f"tinyhub:{model['name']}", source="tinyhub", kind="model", name=model["name"],
                  description=model.get("description", ""))


def fileset(name: str, ctx) -> FileSet:
    for model in index(ctx):
        if model["name"] == name:
            files = tuple(FileEntry(f["path"], f"{ctx.endpoint(SPEC)}/files/{name}/{f['path']}", f["size"], f["sha256"])
                          for f in model["files"])
            return FileSet(f"tinyhub:{name}", files)
    return FileSet(f"tinyhub:{name}", ())


class TinySource:
    spec = SPEC

    def search(self, query, ctx):
        if ctx.offline:
            return SourceAnswer((), origin="skipped", note="tinyhub is not asked offline")
        words = query.text.lower().split()
        found = [record(m) for m in index(ctx)
                 if all(w in f"{m['name']} {m.get('description', '')}".lower() for w in words)]
        return SourceAnswer(tuple(found), origin="live")

    def info(self, pid, ctx):
        if ctx.offline:
            return None
        return next((record(m) for m in index(ctx) if m["name"] == pid.ref), None)

    def files(self, pid, ctx):
        return fileset(pid.ref, ctx).files

    def status(self, ctx, *, probe=True):
        return SourceStatus(SPEC.name, SPEC.title, ctx.endpoint(SPEC), network=True, reachable=None)
