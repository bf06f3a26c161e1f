"""tinyhub's cite ability: a model's ``citation`` in its index entry is its card's reference, and
its ``links`` (arXiv ids the card mentions) are related works only."""

from __future__ import annotations

from zoofind.models.cite import FROM_CARD, Author, CardCitation, Reference

from .source import index


class TinyCite:
    def cite(self, pid, revision, ctx):
        if ctx.offline:
            return CardCitation(notes=("tinyhub's card is not read offline",))
        model = next((m for m in index(ctx) if m["name"] == pid.ref), {})
        related = tuple(Reference(key=f"arxiv{a.replace('.', '')}", kind="misc", title=None, arxiv=a,
                                  url=f"https://arxiv.org/abs/{a}", source=FROM_CARD) for a in model.get("links", ()))
        if "citation" not in model:
            return CardCitation(related=related, notes=("its card gives no citation",))
        c = model["citation"]
        ref = Reference(key=c["key"], kind="article", title=c["title"], authors=tuple(Author(*a) for a in c["authors"]),
                        year=c["year"], venue=c["venue"], doi=c["doi"], source=FROM_CARD,
                        fields=(("volume", c["volume"]),))
        return CardCitation((ref,), related, revision="v1")
