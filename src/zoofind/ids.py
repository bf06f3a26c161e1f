"""The id grammar: ``source:ref``, hub web addresses, and bare ``owner/name``.

Built from the registry's ``SourceSpec``s (prefix, ref pattern, URL prefixes, which
source owns bare ids, how a ref is normalised), so a plugin's ids parse like the
built-ins' and nothing here names a source.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .errors import UsageError
from .records import ParsedId

if TYPE_CHECKING:
    from .context import Context

#: How many candidates an ambiguous bare name lists.
SHOWN_CANDIDATES = 8


def id_help() -> str:
    from .hubs import registry

    examples = [s.example for s in registry.specs() if s.example]
    return "ids look like " + ", ".join(examples) if examples else "ids look like source:ref"


def split_revision(raw: str) -> tuple[str, str | None]:
    """``hf:owner/name@rev`` -> (``hf:owner/name``, ``rev``); a revision may hold slashes (refs/pr/1)."""
    if "://" in raw:
        return raw, None
    head, at, rev = raw.partition("@")
    return (head, rev.strip() or None) if at else (raw, None)


def parse_id(text: str) -> ParsedId:
    """Parse and normalise a user-given id or hub URL; raise UsageError if malformed."""
    from .hubs import registry

    raw = text.strip()
    if not raw:
        raise UsageError("empty id", hint=id_help())
    specs = registry.specs()
    low = raw.lower()
    for spec in specs:
        for prefix in spec.url_prefixes:
            if low.startswith(prefix):
                path = raw[len(prefix):].split("?", 1)[0].split("#", 1)[0].strip("/")
                ref = spec.ref_from_url(path) if spec.ref_from_url else path
                return _checked(spec, ref, raw)
    source, sep, ref = raw.partition(":")
    by_name = {s.name: s for s in specs}
    if sep and source.lower() in by_name:
        return _checked(by_name[source.lower()], ref.strip(), raw)
    if sep and "/" not in source and not low.startswith(("http:", "https:")):
        raise UsageError(f"unknown source {source!r} in id {raw!r}", hint=id_help())
    if not sep and "/" in raw:
        # A bare owner/name is what people copy from a hub's page.
        for spec in specs:
            if spec.claims_bare_ids and re.fullmatch(spec.ref_pattern, raw):
                return _checked(spec, raw, raw)
    raise UsageError(f"malformed id {raw!r}", hint=id_help())


def resolve_id(text: str, ctx: Context | None = None) -> ParsedId:
    """The one rule every command that takes ids follows (info, pull, lock, cache path/verify/rm).

    A full id or hub URL is read by ``parse_id``. A bare name (no ``:`` or ``/``, such as
    ``resnet18`` or ``esm2_t6_8M_UR50D``) must name one catalog entry exactly, as search's
    exact match reads names (its name, id, ref, short name; ``ranking.exact``); the weights of
    one torchvision builder count as that builder (its DEFAULT weights); of several entries,
    the downloadable ones are meant. Ambiguous or unknown: UsageError (exit 2) listing the
    candidates, or the closest names. Never touches the network.
    """
    raw = text.strip()
    if not re.fullmatch(r"[^\s:/]+", raw):  # a source's id, a URL, or nothing a name could be
        return parse_id(raw)
    from .context import Context
    from .hubs import SearchQuery
    from .ranking import exact
    from .search_runner import search

    offline = Context.from_env(offline=True, environ=ctx.environ if ctx is not None else None)
    try:
        hits = search(SearchQuery(text=raw, limit=50), offline).hits
    except UsageError:  # no word to search for ("." or "the"): not a name either
        raise UsageError(f"malformed id {raw!r}", hint=id_help()) from None
    named = [h.record for h in hits if exact(raw, h.record.id, h.record.name)]
    named = [r for r in named if r.downloadable] or named
    ids = list(dict.fromkeys(r.id for r in named))
    # The weights of one torchvision builder are one model: its bare name means its DEFAULT weights.
    builders = {i.split(".", 1)[0] for i in ids}
    if len(builders) == 1 and ids[0].startswith("torchvision:") and (len(ids) > 1 or "." not in raw):
        return parse_id(builders.pop())
    if len(ids) == 1:
        return parse_id(ids[0])
    if ids:
        more = f" and {len(ids) - SHOWN_CANDIDATES} more" if len(ids) > SHOWN_CANDIDATES else ""
        raise UsageError(f"{raw!r} is ambiguous, it names {len(ids)} models: {', '.join(ids[:SHOWN_CANDIDATES])}{more}",
                         hint="give the full id of the one you want")
    near = ", ".join(h.record.id for h in hits[:5])
    raise UsageError(f"no model is called {raw!r}" + (f" (close: {near})" if near else ""),
                     hint="give a full id such as hf:owner/name or torchvision:resnet50, "
                          "or find one with `zoofind search`")


def _checked(spec, ref: str, raw: str) -> ParsedId:  # noqa: ANN001 - a SourceSpec
    if spec.normalise is not None:
        ref = spec.normalise(ref)
    if not re.fullmatch(spec.ref_pattern, ref):
        raise UsageError(f"malformed {spec.name} id {raw!r}", hint=id_help())
    return ParsedId(spec.name, ref)


def family(rid: str) -> str:
    """The model family an id belongs to (its source's ``family`` rule), for spreading results."""
    from .hubs import registry

    source, _, ref = rid.partition(":")
    try:
        spec = registry.spec(source)
    except UsageError:
        return rid
    return f"{source}:{spec.family(ref)}" if spec.family else rid
