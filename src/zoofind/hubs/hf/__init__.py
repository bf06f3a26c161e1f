"""The Hugging Face Hub as a source, spoken to through its public REST API.

* ``api``: the endpoints (``GET /api/models`` with ``Link`` paging, ``/api/models/{id}``,
  ``/auth-check``) over the network layer, and the Hub's error codes.
* ``auth``: the token, found where huggingface_hub's tools store it.
* ``mapping``: the Hub's vocabulary and JSON <-> zoofind's ``Record``.
* ``source``: ``HfSource``, which the registry makes on first use.
* ``pull``: ``HfPull`` and ``HfLock``: plan, place and pin into huggingface_hub's cache (with the
  Hub's security scan of pickle weights).
* ``repo_cache``: the hub cache as huggingface_hub lays it out (``models--owner--name`` with its
  blobs, snapshots, refs and trees; its place in a cache home) and ``RepoCache``, which places a
  revision in it; ``repo_scan``: what each repo holds and its size, huggingface_hub's Xet store;
  ``from_shared``: a revision linked from the shared tier, checked, for an offline pull.
* ``cache``: the ``cache`` ability (``cache ls/verify/rm/prune/path`` over the hub cache).
* ``bundle``: the ``bundle`` ability (a locked file's snapshot path and blob, the links and ref an import writes).
* ``cite``: the ``cite`` ability (the BibTeX of a model's ``README.md``, from the hub cache or the
  Hub, and its ``arxiv:`` tags as related works).

This module only declares the source (it is imported on the offline search path).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ...core.errors import UsageError
from .. import lazy
from ..spec import SourceSpec

if TYPE_CHECKING:
    from .. import Registry

DEFAULT_ENDPOINT = "https://huggingface.co"
_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?"
#: What names a dataset repository rather than a model (the Hub's own URLs: /datasets/owner/name).
DATASETS = "datasets"
#: A repo id as the Hub writes it: owner/name or a legacy bare name; never "..", "--" (cache
#: folder separators) or a ".git" suffix.
REPO_PATTERN = rf"(?!.*\.\.)(?!.*--)(?!.*\.git$)(?:{_PART}/)?{_PART}"
#: A model's repo id, or ``datasets/`` and a dataset's (the Hub reserves the name "datasets": no
#: owner has it, so ``datasets/x`` is never a model).
REF_PATTERN = rf"(?:{DATASETS}/)?{REPO_PATTERN}"


def is_dataset(ref: str) -> bool:
    return ref.startswith(f"{DATASETS}/")


def repo_id(ref: str) -> str:
    """The repo id the Hub's API names (``datasets/owner/name`` -> ``owner/name``)."""
    return ref.removeprefix(f"{DATASETS}/")


def noun(ref: str) -> str:
    """What a ref names, in words: "dataset" or "model"."""
    return "dataset" if is_dataset(ref) else "model"


def ref_from_url(path: str) -> str:
    """huggingface.co/<path>: models/owner/name, owner/name/tree/main/... -> owner/name;
    datasets/owner/name/blob/main/... -> datasets/owner/name."""
    parts = path.split("/")
    if parts and parts[0] == "models":
        parts = parts[1:]
    if parts and parts[0] == DATASETS:
        return "/".join(parts[:3])
    if parts and parts[0] == "spaces":
        raise UsageError(f"huggingface.co/{path} is a Hugging Face Space, not a model or dataset",
                         hint="give huggingface.co/owner/name (a model) or huggingface.co/datasets/owner/name")
    return "/".join(parts[:2])


def family(ref: str) -> str:
    """facebook/esm2_t6_8M_UR50D -> facebook/esm2: the sizes of one model family (of a dataset,
    datasets/owner/name-of-it: its configurations published as repos of their own)."""
    head, _, name = ref.rpartition("/")
    return f"{head}/" + re.split(r"[-_.]", name.lower(), maxsplit=1)[0]


SPEC = SourceSpec(
    name="hf",
    title="Hugging Face Hub",
    network=True,
    searches=True,
    ref_pattern=REF_PATTERN,
    example="hf:owner/name, hf:datasets/owner/name",
    url_prefixes=("https://huggingface.co/", "http://huggingface.co/", "huggingface.co/", "https://hf.co/", "hf.co/"),
    claims_bare_ids=True,
    ref_from_url=ref_from_url,
    family=family,
    endpoint_variable="HF_ENDPOINT",
    default_endpoint=DEFAULT_ENDPOINT,
)


def register(registry: Registry) -> None:
    registry.register(
        SPEC,
        lazy(f"{__name__}.source", "HfSource"),
        pull=lazy(f"{__name__}.pull", "HfPull"),
        lock=lazy(f"{__name__}.pull", "HfLock"),
        cache=lazy(f"{__name__}.cache", "HfCache"),
        bundle=lazy(f"{__name__}.bundle", "HfBundles"),
        cite=lazy(f"{__name__}.cite", "HfCite"),
    )
