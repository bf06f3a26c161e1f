"""``TfhubCite``: the ``cite`` ability of TF Hub, the card of the page a handle moved to.

tfhub.dev no longer serves documentation: every migrated handle redirects to its Kaggle Models
page, whose card (with the model's BibTeX, when it gives one) is now the model's documentation.
So a handle's card is read where it moved: the redirect ``info`` follows (``source.resolved``,
answer-cached) names that page, whose id is handed to the hub that claims it (through the
registry, as any id is) and read by that hub's own ``cite`` ability. A handle that was not
migrated, or that its new hub cannot cite, is a note; offline, the redirect and the card answer
from zoofind's answer cache or not at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ... import catalog as catalog_mod
from ...core.errors import OfflineError, SourceError, UsageError, ZoofindError
from ...models.cite import CardCitation
from .. import registry
from ..ids import parse_id
from .source import resolved

if TYPE_CHECKING:
    from ...core.context import Context
    from ...models.records import ParsedId


class TfhubCite:
    def cite(self, pid: ParsedId, revision: str | None, ctx: Context) -> CardCitation:
        base = catalog_mod.load(ctx).get(str(pid))
        page_type = str(base.extra.get("type")) if base is not None else None  # as info asks: one cached answer
        try:
            facts, _, _ = resolved(ctx, pid.ref, page_type)
        except OfflineError:
            return CardCitation(notes=("where its tfhub.dev handle moved is not in zoofind's answer cache, so its "
                                       f"card was not read offline: run `zoofind info tfhub:{pid.ref}` or drop "
                                       "--offline",))
        except SourceError as exc:
            return CardCitation(notes=(f"where its tfhub.dev handle moved could not be read: {exc.message}",))
        moved = facts.get("kaggle_id")
        if not isinstance(moved, str) or not moved:
            why = facts.get("resolve_error") or "it redirects to no model page"
            return CardCitation(notes=(f"tfhub.dev keeps no card for it and it moved to no model page ({why})",))
        try:
            target = parse_id(moved)
        except UsageError:
            return CardCitation(notes=(f"its card moved to {moved}, an id no hub here reads",))
        if not registry.can(target.source, "cite"):
            return CardCitation(notes=(f"its card moved to {moved}, whose hub cannot cite",))
        try:
            card = registry.ability(target.source, "cite").cite(target, None, ctx)
        except ZoofindError as exc:  # the page it moved to is gone or refused: this handle's card, not the run
            return CardCitation(notes=(f"its card moved to {moved}, which could not be read: {exc.message}",))
        said = f"its card is that of the page it moved to, {moved}"
        return CardCitation(card.references, card.related, None, (said, *card.notes))
