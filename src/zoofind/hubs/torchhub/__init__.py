"""PyTorch Hub: GitHub repositories with a ``hubconf.py``, as ``torch.hub.load`` reads them.

Ids: ``torchhub:owner/repo[:ref][/entrypoint]`` (a ref holding ``/`` goes after ``@``:
``torchhub:owner/repo/entry@release/1.0``); ``ref`` defaults to the repository's default branch.

* GitHub's REST API is ``net.github`` (shared with the release-asset hub): ref -> commit, the
  default branch, a file's text, the archive's redirect to codeload, ``GITHUB_TOKEN`` to the API
  host only, rate-limit answers.
* ``hubconf``: ``hubconf.py`` read as a syntax tree, never run: entry points, ``dependencies``
  and the checkpoint URLs written in it.
* ``repo_cache``: ``$TORCH_HOME/hub/<owner>_<repo>_<ref>/`` as torch.hub lays it out, zoofind's
  record beside it, the archive extracted into place, torch.hub's ``trusted_list``.
* ``source``: search (the bundled pytorch.org/hub snapshot) and ``info``.
* ``pull``: ``TorchhubPull`` (the repository at a commit, its checkpoints); ``pin``: ``TorchhubLock``.
* ``cache``, ``bundle``: the ``cache`` and ``bundle`` abilities.

This module only declares the source (it is imported on the offline search path).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...core.errors import UsageError
from .. import lazy
from ..spec import SourceSpec

if TYPE_CHECKING:
    from .. import Registry

DEFAULT_ENDPOINT = "https://api.github.com"
#: What torch.hub.load runs: said by every output about a model of this hub.
CODE_FLAG = "code: torch.hub.load runs this repository's hubconf.py"

_NAME = r"(?!.*\.\.)[A-Za-z0-9_.-]+"
_REF = r"[A-Za-z0-9_.+-]+"
_ENTRY = r"[A-Za-z_][A-Za-z0-9_]*"
REF_PATTERN = rf"{_NAME}/{_NAME}(?::{_REF})?(?:/{_ENTRY})?"


@dataclass(frozen=True)
class RepoRef:
    """One id read: the repository, the ref asked for (None: the default branch) and the entry point."""

    owner: str
    repo: str
    ref: str | None = None
    entry: str | None = None

    @property
    def repo_id(self) -> str:
        """``torchhub:owner/repo[:ref]``: what a pull fetches (an entry point's id names the same repository)."""
        return f"torchhub:{self.owner}/{self.repo}" + (f":{self.ref}" if self.ref else "")

    @property
    def github(self) -> str:
        """What ``torch.hub.load`` takes as its first argument."""
        return f"{self.owner}/{self.repo}" + (f":{self.ref}" if self.ref else "")


def read_ref(ref: str, revision: str | None = None) -> RepoRef:
    """``owner/repo[:ref][/entry]`` (and ``@revision``, which names the ref too) -> ``RepoRef``."""
    m = re.fullmatch(rf"({_NAME})/({_NAME})(?::({_REF}))?(?:/({_ENTRY}))?", ref)
    if m is None:
        raise UsageError(f"malformed {SPEC.name} id {ref!r}", hint=f"ids look like {SPEC.example}")
    owner, repo, at, entry = m.groups()
    if revision and at and revision != at:
        raise UsageError(f"torchhub:{ref} names the ref {at!r} and @{revision}: give one")
    return RepoRef(owner, repo, revision or at, entry)


def family(ref: str) -> str:
    """pytorch/vision:v0.10.0/resnet18 -> pytorch/vision: the entry points of one repository."""
    return "/".join(ref.split(":", 1)[0].split("/")[:2])


SPEC = SourceSpec(
    name="torchhub",
    title="PyTorch Hub (GitHub repositories with a hubconf.py; bundled pytorch.org/hub snapshot)",
    network=True,  # info and pull ask GitHub's API; searches use the bundled snapshot
    searches=False,
    ref_pattern=REF_PATTERN,
    example="torchhub:owner/repo[:ref][/entry]",
    family=family,
    endpoint_variable="ZOOFIND_GITHUB_ENDPOINT",
    default_endpoint=DEFAULT_ENDPOINT,
)


def register(registry: Registry) -> None:
    registry.register(
        SPEC,
        lazy(f"{__name__}.source", "TorchhubSource"),
        pull=lazy(f"{__name__}.pull", "TorchhubPull"),
        lock=lazy(f"{__name__}.pin", "TorchhubLock"),
        cache=lazy(f"{__name__}.cache", "TorchhubCache"),
        bundle=lazy(f"{__name__}.bundle", "TorchhubBundles"),
    )
