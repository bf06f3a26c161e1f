"""The id parser (``zoofind.hubs.ids``) on anything a person might paste: a ``ParsedId`` or a
``UsageError`` (exit 2), never another exception, and every id it accepts comes back
unchanged from ``str(parse_id(x))``. The inputs are built from every registered source's
own declaration (prefixes in any case, web addresses, ref patterns), plus arbitrary text.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoofind.core.errors import EXIT_USAGE, UsageError
from zoofind.hubs import registry
from zoofind.hubs.ids import parse_id
from zoofind.models.records import ParsedId

SPECS = registry.specs()
#: Any text but lone surrogates (which no terminal or argv can carry): control codes, escapes,
#: fullwidth and right-to-left letters, emoji included.
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=80)
NAMES = st.sampled_from([s.name for s in SPECS]).flatmap(
    lambda name: st.sampled_from([name, name.upper(), name.title(), f" {name}"]))
URL_PREFIXES = st.sampled_from([p for s in SPECS for p in s.url_prefixes] + ["http://", "https://", "ftp://"])
#: Refs that look right to a regular expression, then get a suffix or decoration people add.
REFS = st.sampled_from([s.ref_pattern for s in SPECS]).flatmap(lambda pattern: st.from_regex(pattern, fullmatch=True))
DECORATION = st.sampled_from(["", "/", ".git", "?download=true", "#readme", " ", "\n", "/tree/main", "\x1b[2J", "..", "--x"])

TYPED = st.one_of(
    ANY_TEXT,
    st.tuples(NAMES, st.sampled_from([":", "", "::"]), REFS | ANY_TEXT, DECORATION).map("".join),
    st.tuples(URL_PREFIXES, REFS | ANY_TEXT, DECORATION).map("".join),
    st.tuples(REFS, DECORATION).map("".join),
)


def parsed_or_usage_error(text: str) -> ParsedId | None:
    try:
        return parse_id(text)
    except UsageError as exc:
        assert exc.exit_code == EXIT_USAGE and exc.message
        return None


@settings(max_examples=300, deadline=None)
@given(TYPED)
def test_any_typed_id_is_parsed_or_a_usage_error(text: str) -> None:
    pid = parsed_or_usage_error(text)
    if pid is None:
        return
    assert isinstance(pid, ParsedId) and pid.source in registry.names()
    spec = registry.spec(pid.source)
    assert re.fullmatch(spec.ref_pattern, pid.ref), pid  # what is accepted is what the source declares


@settings(max_examples=300, deadline=None)
@given(TYPED)
def test_a_parsed_id_round_trips(text: str) -> None:
    pid = parsed_or_usage_error(text)
    if pid is not None:
        assert parse_id(str(pid)) == pid
        assert str(parse_id(str(pid))) == str(pid)


@given(REFS)
def test_every_declared_ref_pattern_parses_under_its_own_prefix(ref: str) -> None:
    for spec in SPECS:
        if re.fullmatch(spec.ref_pattern, ref):
            pid = parsed_or_usage_error(f"{spec.name}:{ref}")
            # A source may normalise or refuse (torchvision knows its builders); never another error.
            assert pid is None or pid.source == spec.name


@pytest.mark.parametrize("typed", ["hf:a/b.git", "hf:a/b c", "hf:..", "hf:a--b/c", "kaggle:a/b", "tfhub:", "nope:x",
                                   "https://huggingface.co/", "hf:a/\x1b[2Jb"])
def test_malformed_ids_exit_2_on_the_command_line(cli, typed: str) -> None:
    """`zoofind info hf:a/b.git` is a usage error (exit 2) with one line, online or not."""
    r = cli("info", typed, "--timeout", "1", env={"HF_ENDPOINT": "http://127.0.0.1:9"})
    assert r.code == 2, (typed, r.stderr)
    assert r.stderr.startswith("zoofind: error:") and "Traceback" not in r.stderr
    assert "\x1b" not in r.stderr or "\\x1b" in r.stderr  # the id is echoed as a literal, not as a control code
