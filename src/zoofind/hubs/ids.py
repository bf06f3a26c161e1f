"""The id grammar: ``source:ref``, hub web addresses, and bare ``owner/name``.

Built from the registry's ``SourceSpec``s (prefix, ref pattern, URL prefixes, which
source owns bare ids, how a ref is normalised), so a plugin's ids parse like the
built-ins' and nothing here names a source.
"""

from __future__ import annotations

import re

from ..core.errors import UsageError
from ..models.records import ParsedId
from .registry import registry  # the instance, whatever order the package is loaded in


def id_help() -> str:
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


def _checked(spec, ref: str, raw: str) -> ParsedId:  # noqa: ANN001 - a SourceSpec
    if spec.normalise is not None:
        ref = spec.normalise(ref)
    if not re.fullmatch(spec.ref_pattern, ref):
        raise UsageError(f"malformed {spec.name} id {raw!r}", hint=id_help())
    return ParsedId(spec.name, ref)


def family(rid: str) -> str:
    """The model family an id belongs to (its source's ``family`` rule), for spreading results."""
    return _by_rule(rid, "family") or rid


def variant_model(rid: str) -> str | None:
    """The model an id is one variant of, as ``source:model``, when its source's ids name
    variants (``SourceSpec.variant_of``); None otherwise."""
    return _by_rule(rid, "variant_of")


def _by_rule(rid: str, rule: str) -> str | None:
    """``source:<rule(ref)>`` by the id's source's ``rule`` (a ref -> ref field of its spec); None
    when the source is unknown or declares no such rule."""
    source, _, ref = rid.partition(":")
    try:
        spec = registry.spec(source)
    except UsageError:
        return None
    apply = getattr(spec, rule)
    return f"{source}:{apply(ref)}" if apply else None
