"""``HfCite``: the ``cite`` ability of the Hugging Face Hub, the BibTeX of a model's ``README.md``.

Where the card is read, first found wins:

1. this machine's hub cache (the user's, then each shared root's), at the commit the revision
   resolves to there (``refs/`` -> ``snapshots/<commit>/README.md``): no request. huggingface_hub's
   ``.no_exist/<commit>/README.md`` marker says the commit has no card, also without asking.
2. zoofind's answer cache (``hf-card``), for a card fetched before and still fresh.
3. the Hub: ``GET {endpoint}/{repo}/resolve/{revision or main}/README.md`` with the hub's token
   (only to its host: a redirect off it drops the header), at most ``CARD_MAX_BYTES``; the commit
   read is the answer's ``X-Repo-Commit``. A 404 ``EntryNotFound`` is a repo without a card;
   gated, private or unknown repos give the errors every other Hub call gives.

Offline and found in neither cache: an empty answer with a note. The Hub's ``arxiv:`` tags (the
``/api/models/{repo}`` answer ``info`` caches too) are the papers the card links, often the training
data's: ``related``, never ``references``. They are the main branch's tags, not the revision's.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from ...core.errors import BadAnswerError, OfflineError, ZoofindError
from ...models.cite import FROM_CARD, CardCitation, Reference
from ...net.answers import cached
from .. import registry
from ..cardbib import ARXIV_RE, references_in
from . import SPEC, is_dataset, noun
from .auth import find_token, fingerprint
from .repo_cache import COMMIT_RE, PLACE, RepoCache, hub_cache

if TYPE_CHECKING:
    from ...core.context import Context
    from ...models.records import ParsedId
    from .source import HfSource

CARD = "README.md"
#: The largest card read (the Hub's biggest READMEs, with tables of results, are a few hundred kB).
CARD_MAX_BYTES = 1024 * 1024

#: (the card's text, or None when the commit has none; the commit it was read at, when known)
Card = tuple[str | None, str | None]


class HfCite:
    def cite(self, pid: ParsedId, revision: str | None, ctx: Context) -> CardCitation:
        try:
            card = cached_card(pid.ref, revision, ctx) or fetched_card(pid.ref, revision, ctx)
        except OfflineError:
            return CardCitation(revision=_commit(revision), notes=(
                f"its card ({CARD}) is not in this machine's Hugging Face cache, so it was not read offline: "
                f"pull the {noun(pid.ref)} (zoofind pull hf:{pid.ref}) or drop --offline",))
        except BadAnswerError as exc:  # one card the Hub sent wrong costs its references, not the others'
            return CardCitation(revision=_commit(revision), notes=(f"its card could not be read: {exc.message}",))
        text, commit = card
        refs: tuple[Reference, ...] = ()
        notes: tuple[str, ...] = ()
        if text is None:
            notes = (f"its repo has no {CARD} at {commit or revision or 'main'}",)
        else:
            refs, notes = references_in(text)
        if not refs and is_dataset(pid.ref) and (given := answer_citation(pid.ref, ctx)):
            # A dataset's card without a BibTeX block: the citation the Hub's answer carries (its
            # "Citation Information", once written by the dataset's loading script).
            refs, notes = references_in(f"```bibtex\n{given}\n```")
        if text is not None and not refs and not notes:
            notes = ("its card gives no BibTeX",)
        related, more = related_works(pid.ref, ctx)
        return CardCitation(refs, related, commit or _commit(revision), notes + more)


def cached_card(repo: str, revision: str | None, ctx: Context) -> Card | None:
    """The card at ``revision`` from a hub cache on this machine, or None when none holds it."""
    for cache in (hub_cache(ctx.environ), *PLACE.shared(ctx.environ)):
        folder = RepoCache(cache, repo)
        commit = folder.commit_of(revision or "main")
        if commit is None:
            continue
        try:
            with open(folder.snapshot(commit) / CARD, "rb") as fh:  # a link into blobs/, followed
                return _decoded(fh.read(CARD_MAX_BYTES + 1)), commit
        except OSError:
            pass  # not pulled with the model (--include), or its blob was removed
        if (folder.root / ".no_exist" / commit / CARD).is_file():
            return None, commit  # huggingface_hub recorded that this commit has none
    return None


def fetched_card(repo: str, revision: str | None, ctx: Context) -> Card:
    """The card from zoofind's answer cache, else from the Hub (``OfflineError`` offline)."""
    hub = ctx.endpoint(SPEC)
    token, _ = find_token(ctx.environ)
    asked = revision or "main"

    def fetch() -> dict[str, Any]:
        if ctx.offline:  # said before the HTTP stack loads: a lock's worth of uncached cards offline stays quick
            raise OfflineError(f"offline: {CARD} of {repo} not asked")
        from ...net.http import Session  # lazy: cite --offline start-up (the HTTP stack): only to fetch a card
        from . import api

        with Session(ctx, api.SERVICE) as s:
            answer = s.request("GET", f"{hub}/{repo}/resolve/{quote(asked, safe='')}/{CARD}",
                               headers=api.headers(token), max_bytes=CARD_MAX_BYTES)
        said = answer.headers.get("x-repo-commit", "")
        commit = said if COMMIT_RE.fullmatch(said) else _commit(revision)
        if answer.status == 404 and answer.headers.get("x-error-code") == "EntryNotFound":
            return {"text": None, "commit": commit}
        api.check(answer, hub=hub, repo=repo, token=token)
        return {"text": _decoded(answer.body), "commit": commit}

    key = {"endpoint": hub, "model": repo, "revision": asked, "file": CARD, "account": fingerprint(token)}
    value, _, _ = cached(ctx, "hf-card", key, fetch, valid=_is_card)
    return value["text"], value["commit"]


def related_works(repo: str, ctx: Context) -> tuple[tuple[Reference, ...], tuple[str, ...]]:
    """The papers the Hub's ``arxiv:`` tags name, from the model's answer (answer-cached); offline
    without a fresh cached answer: none, said nowhere (they are only related works)."""
    try:
        data, _, _ = cast("HfSource", registry.get(SPEC.name)).model_answer(repo, ctx)
    except OfflineError:
        return (), ()
    except ZoofindError as exc:
        return (), (f"the papers its Hub tags link could not be read: {exc.message}",)
    tags = data.get("tags")
    tags = tags if isinstance(tags, (list, tuple)) else ()  # a tuple when live, a list from the cache
    ids = dict.fromkeys(t[6:] for t in tags if isinstance(t, str) and t.startswith("arxiv:")
                        and ARXIV_RE.fullmatch(t[6:]))
    return tuple(Reference(key="arxiv" + re.sub(r"[^0-9A-Za-z]", "", a), kind="misc", title=None, arxiv=a,
                           url=f"https://arxiv.org/abs/{a}", source=FROM_CARD) for a in ids), ()


def answer_citation(repo: str, ctx: Context) -> str | None:
    """The ``citation`` of a dataset's ``/api/datasets/{repo}`` answer (answer-cached), when it has one."""
    try:
        data, _, _ = cast("HfSource", registry.get(SPEC.name)).model_answer(repo, ctx)
    except ZoofindError:  # offline without a cached answer, or the Hub failing: the card alone counts
        return None
    given = data.get("citation")
    return given if isinstance(given, str) and given.strip() else None


def _is_card(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("text"), (str, type(None)))
            and isinstance(value.get("commit"), (str, type(None))))


def _decoded(body: bytes) -> str:
    # Cut at the cap: BibTeX past the first megabyte of a card is not read (the block is then a note).
    return body[:CARD_MAX_BYTES].decode("utf-8", "replace")


def _commit(revision: str | None) -> str | None:
    return revision if revision is not None and COMMIT_RE.fullmatch(revision) else None

