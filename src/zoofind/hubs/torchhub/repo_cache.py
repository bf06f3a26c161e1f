"""torch.hub's repository cache, laid out as ``torch.hub._get_cache_or_reload`` lays it out.

    $TORCH_HOME/hub/<owner>_<repo>_<ref>/         the archive's one top folder, renamed ("/" in ref -> "_")
    $TORCH_HOME/hub/<owner>_<repo>_<ref>.zoofind.json   zoofind's record: the commit and the archive's sha256
    $TORCH_HOME/hub/trusted_list                  owner_repo a line: repositories torch.hub.load runs unasked
    $TORCH_HOME/hub/checkpoints/                  the checkpoints (``caches.torch_hub``)

``torch.hub.load("owner/repo:ref", ...)`` uses the folder when it exists, with no request.
torch.hub records nothing about what the folder holds: the record beside it (a file, which
torch.hub's listing of repository folders never reads) says which commit and archive it came
from, for ``cache ls`` and a lock written later. A folder torch.hub placed itself has none.

The archive (GitHub's zipball: one top folder ``<owner>-<repo>-<short sha>/``, the commit's sha
as the zip's comment) is extracted by ``fetch.archive`` (names checked, no links, bounded) into
``<name>.<uuid>.tmp`` beside the target; its top folder is renamed into place only when whole,
then the record is written. Note: torch.hub counts every folder in its cache as a trusted
repository ("legacy" trust), so placing one is itself a decision to run its code with
``trust_repo="check"``; ``trusted_list`` is written only on ``--trust``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import uuid
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...caches.torch_hub import hub_dir
from ...core.atomic import replacing
from ...fetch.archive import extract
from ...fetch.integrity import IntegrityError
from ...fetch.locks import LOCK_PREFIX, lock_for

RECORD_SUFFIX = ".zoofind.json"
TRUSTED_LIST = "trusted_list"
#: The folder a partial extraction fills (``cache prune`` knows it as a stray).
STAGING = re.compile(r".+\.[0-9a-f]{32}\.tmp")


def folder_name(owner: str, repo: str, ref: str) -> str:
    """torch.hub's name for the repository's folder: ``owner_repo_ref``, ``/`` in ref as ``_``."""
    return "_".join([owner, repo, ref.replace("/", "_")])


def repo_dir(env: Mapping[str, str], owner: str, repo: str, ref: str) -> Path:
    return hub_dir(env) / folder_name(owner, repo, ref)


def present(folder: Path) -> bool:
    """torch.hub's own test: the folder exists (a file there would fail its import)."""
    return folder.is_dir()


def record_path(folder: Path) -> Path:
    return folder.with_name(folder.name + RECORD_SUFFIX)


def lock_path(folder: Path) -> Path:
    return folder.with_name(f"{LOCK_PREFIX}{folder.name}")


def archive_path(folder: Path) -> Path:
    return folder.with_name(folder.name + ".zoofind.zip")


def read_record(folder: Path) -> dict[str, Any]:
    """zoofind's record of the folder (empty: none, or not readable)."""
    try:
        data = json.loads(record_path(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def new_record(owner: str, repo: str, ref: str, commit: str | None, checkpoints: list[str],
               archive: tuple[int, str] | None = None) -> dict[str, Any]:
    """What zoofind records beside a folder it placed (``archive``: its size and sha256 when known)."""
    record: dict[str, Any] = {"id": f"torchhub:{owner}/{repo}:{ref}", "owner": owner, "repo": repo, "ref": ref,
                              "commit": commit, "checkpoints": checkpoints}
    if archive is not None:
        record["archive"] = {"size": archive[0], "sha256": archive[1]}
    return record


def write_record(folder: Path, record: Mapping[str, Any]) -> None:
    with replacing(record_path(folder), "w") as fh:
        json.dump({**record, "placed": time.time()}, fh, indent=1, sort_keys=True)


def install(archive: Path, folder: Path, record: Mapping[str, Any], *, max_extract: int | None) -> None:
    """Make the verified archive the repository's folder, under the folder's download lock: another
    process that placed it meanwhile wins, and this archive goes."""
    what = str(record.get("id") or folder.name)
    lock = lock_for(lock_path(folder))
    lock.acquire()
    try:
        if present(folder):
            archive.unlink(missing_ok=True)
            return
        staging = folder.with_name(f"{folder.name}.{uuid.uuid4().hex}.tmp")
        staging.mkdir(parents=True)
        try:
            _check_comment(archive, str(record.get("commit") or ""), what)
            extract(archive, staging, what=what, kinds=("zip",), limit=max_extract)
            tops = list(staging.iterdir())
            if len(tops) != 1 or not tops[0].is_dir():
                raise IntegrityError(f"{what}: the archive is not a repository archive ({len(tops)} top-level "
                                     "entries, GitHub's have one folder); refused, nothing was installed",
                                     hint="check ZOOFIND_GITHUB_ENDPOINT: the server is misbehaving")
            os.rename(tops[0], folder)
            write_record(folder, record)
        except IntegrityError:
            archive.unlink(missing_ok=True)  # bad bytes are never kept
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        archive.unlink(missing_ok=True)
    finally:
        lock.release()


def _check_comment(archive: Path, commit: str, what: str) -> None:
    """GitHub writes the commit's sha as the zipball's comment: an archive of another commit is refused."""

    try:
        with zipfile.ZipFile(archive) as zf:
            comment = zf.comment.decode("ascii", "replace").strip().lower()
    except (OSError, zipfile.BadZipFile):
        return  # the extractor says what is wrong with it
    if commit and re.fullmatch(r"[0-9a-f]{40}", comment) and comment != commit:
        raise IntegrityError(f"{what}: the archive is of commit {comment[:12]}, not {commit[:12]}; refused, "
                             "nothing was installed", hint="retry the pull; if it fails again the server misbehaves")


def trust(env: Mapping[str, str], owner: str, repo: str) -> bool:
    """Add ``owner_repo`` to torch.hub's ``trusted_list`` (as ``torch.hub.load(trust_repo=True)`` does);
    False when it was there already."""
    path = hub_dir(env) / TRUSTED_LIST
    line = f"{owner}_{repo}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    if line in (x.strip() for x in text.splitlines()):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(("\n" if text and not text.endswith("\n") else "") + line + "\n")
    return True


def scan(root: Path) -> list[tuple[dict[str, Any], Path]]:
    """Each repository folder in torch.hub's cache ``root`` with zoofind's record of it (empty: none)."""
    out = []
    with contextlib.suppress(OSError):
        for p in sorted(root.iterdir()):
            if (p.name == "checkpoints" or p.name.startswith(".") or STAGING.fullmatch(p.name)
                    or not p.is_dir()):
                continue
            out.append((read_record(p), p))
    return out
