"""The one rule every command that takes ids follows: a full id or hub address as the grammar
reads it (``ids.parse_id``), a bare name as the catalog's exact match names it.

An operation, not part of the grammar: a bare name is looked up in the catalog the way
search's exact match reads names, so it sits beside the other operations.
"""

from __future__ import annotations

import re

from ..core.context import Context
from ..core.errors import UsageError
from ..hubs import SearchQuery
from ..hubs.ids import id_help, parse_id, variant_model
from ..models.records import ParsedId

#: How many candidates an ambiguous bare name lists.
SHOWN_CANDIDATES = 8


def resolve_id(text: str, ctx: Context | None = None) -> ParsedId:
    """The one rule every command that takes ids follows (info, pull, lock, cache path/verify/rm).

    A full id or hub URL is read by ``parse_id``. A bare name (no ``:`` or ``/``, such as
    ``resnet18`` or ``esm2_t6_8M_UR50D``) must name one catalog entry exactly, as search's
    exact match reads names (its name, id, ref, short name; ``ranking.exact``); variants of one
    model (a torchvision builder's weights: ``SourceSpec.variant_of``) count as that model,
    which means its default variant, unless the name is the one variant's own; of several entries,
    the downloadable ones are meant. Ambiguous or unknown: UsageError (exit 2) listing the
    candidates, or the closest names. Never touches the network.
    """
    raw = text.strip()
    if not re.fullmatch(r"[^\s:/]+", raw):  # a source's id, a URL, or nothing a name could be
        return parse_id(raw)

    # lazy: only a bare name needs the catalog's search: a full id (every pull of one) skips ~5 ms of imports.
    from .find import search
    from .ranking import exact

    offline = Context.from_env(offline=True, environ=ctx.environ if ctx is not None else None)
    try:
        hits = search(SearchQuery(text=raw, limit=50), offline).hits
    except UsageError:  # no word to search for ("." or "the"): not a name either
        raise UsageError(f"malformed id {raw!r}", hint=id_help()) from None
    named = [h.record for h in hits if exact(raw, h.record.id, h.record.name)]
    named = [r for r in named if r.downloadable] or named
    ids = list(dict.fromkeys(r.id for r in named))
    # The variants of one model are one model: its bare name means its default variant.
    models = {variant_model(i) for i in ids}
    if len(models) == 1 and None not in models and (len(ids) > 1 or raw.lower() != ids[0].partition(":")[2].lower()):
        return parse_id(str(models.pop()))
    if len(ids) == 1:
        return parse_id(ids[0])
    if ids:
        more = f" and {len(ids) - SHOWN_CANDIDATES} more" if len(ids) > SHOWN_CANDIDATES else ""
        raise UsageError(f"{raw!r} is ambiguous, it names {len(ids)} models: {', '.join(ids[:SHOWN_CANDIDATES])}{more}",
                         hint="give the full id of the one you want")
    near = ", ".join(h.record.id for h in hits[:5])
    raise UsageError(f"no model is called {raw!r}" + (f" (close: {near})" if near else ""),
                     hint=f"give a full id, or find one with `zoofind search` ({id_help()})")
