"""Property tests for the id grammar: whatever is typed, a normal id or a usage error, nothing else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from zoofind.core.errors import UsageError
from zoofind.hubs import registry
from zoofind.hubs.ids import parse_id

PREFIXES = st.sampled_from([*(f"{name}:" for name in registry.names()), "", "https://huggingface.co/", "https://tfhub.dev/", "x:"])
REFS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40) | st.from_regex(
    r"[A-Za-z0-9_.:-]{1,12}(/[A-Za-z0-9_.-]{1,12}){0,5}", fullmatch=True)


@settings(max_examples=400, deadline=None)
@given(PREFIXES, REFS)
def test_any_text_is_a_normal_id_or_a_usage_error(prefix: str, ref: str) -> None:
    try:
        pid = parse_id(prefix + ref)
    except UsageError as exc:
        assert exc.exit_code == 2 and exc.message
        return
    assert pid.source in registry.names()
    assert parse_id(str(pid)) == pid  # the normal form is a fixed point


PART = r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,9}[A-Za-z0-9])?"


@given(st.from_regex(rf"{PART}/{PART}", fullmatch=True).filter(lambda ref: "--" not in ref))
def test_bare_owner_name_is_a_hub_id(ref: str) -> None:
    pid = parse_id(ref)
    assert str(pid) == f"hf:{ref}"
