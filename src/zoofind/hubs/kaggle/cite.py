"""``KaggleCite``: the ``cite`` ability of Kaggle Models, the BibTeX of a model's card.

A Kaggle model's card is its page's Markdown: the ApiModel's ``description``, and each variation's
``overview`` and ``usage`` (kagglesdk's ApiModel and ApiModelInstance; ``GetModel`` answers them
all). Its fenced BibTeX blocks (``hubs.cardbib``) are the model's references: the cited variation's
text first, then the model's. The card belongs to the model, not to one version: the version cited
is the one the id names.

Read from zoofind's answer cache (fresh, or stale when Kaggle fails transiently), else one
``GetModel`` call with the user's credentials (Kaggle answers nothing anonymously). Offline and not
cached, or without credentials: an empty answer with a note saying what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...core.errors import BadAnswerError, OfflineError, SourceError
from ...models.cite import CardCitation
from ...net.answers import cached
from .. import json_list, json_object, json_str
from ..cardbib import references_in
from . import SPEC
from .auth import Credentials, credentials

if TYPE_CHECKING:
    from ...core.context import Context
    from ...models.records import ParsedId

#: The most of one card's text kept (Kaggle's longest cards, with result tables, are tens of kB).
CARD_MAX_CHARS = 200_000
#: What is read of each variation (an ApiModelInstance): which one it is, and its own card text.
_INSTANCE_TEXT = ("overview", "usage")


class KaggleCite:
    def cite(self, pid: ParsedId, revision: str | None, ctx: Context) -> CardCitation:
        owner, slug, framework, variation = pid.ref.split("/")[:4]
        creds = credentials(ctx.environ)
        if creds is None:
            return CardCitation(notes=("its Kaggle model card was not read: Kaggle answers nothing without "
                                       "credentials (set KAGGLE_API_TOKEN or KAGGLE_USERNAME/KAGGLE_KEY)",))
        try:
            card = model_card(owner, slug, ctx, creds)
        except OfflineError:
            return CardCitation(notes=("its Kaggle model card is not in zoofind's answer cache, so it was not read "
                                       "offline: drop --offline",))
        except SourceError as exc:
            if not (exc.transient or isinstance(exc, BadAnswerError)):
                raise  # an unknown model, a refused account: said as every Kaggle call says it
            # Kaggle unreachable, or one card sent wrong: it costs this model's references, not the others'.
            return CardCitation(notes=(f"its Kaggle model card could not be read: {exc.message}",))
        refs, notes = references_in(card_text(card, framework, variation))
        if not refs and not notes:
            notes = ("its Kaggle model card gives no BibTeX",)
        return CardCitation(refs, (), None, notes)


def card_text(card: dict[str, Any], framework: str, variation: str) -> str:
    """The cited variation's overview and usage, then the model's description (Markdown)."""
    own = [i for i in card["instances"] if (i.get("framework", "").lower(), i.get("slug", "").lower())
           == (framework.lower(), variation.lower())]
    parts = [i.get(field) or "" for i in own for field in _INSTANCE_TEXT] + [card["description"]]
    return "\n\n".join(p for p in parts if p)


def model_card(owner: str, slug: str, ctx: Context, creds: Credentials) -> dict[str, Any]:
    """``{"description", "instances": [{"framework", "slug", "overview", "usage"}]}`` of a Kaggle
    model, answer-cached (``OfflineError`` offline when not cached)."""
    endpoint = ctx.endpoint(SPEC)

    def fetch() -> dict[str, Any]:
        if ctx.offline:  # said before the HTTP stack loads: a lock's worth of uncached cards offline stays quick
            raise OfflineError(f"offline: the card of Kaggle model {owner}/{slug} not asked")
        from . import api  # lazy: cite --offline start-up (the HTTP stack): only to fetch a card

        with api.session(ctx, creds) as s:
            return card_of(api.get_model(s, endpoint, owner, slug, creds))

    params = {"op": "GetModel/card", "endpoint": endpoint, "ref": f"{owner}/{slug}", "account": creds.fingerprint()}
    card, _, _ = cached(ctx, SPEC.name, params, fetch, valid=_is_card)
    return dict(card)


def card_of(model: Any) -> dict[str, Any]:
    """What ``cite`` keeps of an ApiModel: the card's text fields, each checked for its type."""
    data = json_object(model)
    instances = [{key: json_str(json_object(i).get(key), limit=limit) or ""
                  for key, limit in (("framework", 100), ("slug", 300), ("overview", CARD_MAX_CHARS),
                                     ("usage", CARD_MAX_CHARS))}
                 for i in json_list(data.get("instances"))]
    return {"description": json_str(data.get("description"), limit=CARD_MAX_CHARS) or "", "instances": instances}


def _is_card(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("description"), str)
            and isinstance(value.get("instances"), list)
            and all(isinstance(i, dict) and all(isinstance(v, str) for v in i.values()) for i in value["instances"]))
