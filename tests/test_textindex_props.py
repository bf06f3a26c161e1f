"""Property tests for the tokenizer: whatever text comes in (a query, a hub's description),
words come out the same way for the catalog and for the query, and nothing raises.

What the README promises, word for word: ``Protéine`` and fullwidth ``ｐｒｏｔｅｉｎ`` find
protein; a query with no word to search for is a usage error, never the whole catalog.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from zoofind import catalog
from zoofind.catalog.textindex import MAX_QUERY_WORDS, MAX_TYPO_WORD, TextIndex
from zoofind.catalog.words import STOPWORDS, fold, stem, tokenize, tokenize_query
from zoofind.core.errors import UsageError

ANY_TEXT = st.text(max_size=60)  # every code point, surrogates and controls included
WORDS = st.text(alphabet=st.characters(categories=("L", "M", "N", "Zs", "P")), max_size=40)


@settings(max_examples=500, deadline=None)
@given(ANY_TEXT)
@example("Protéine ｐｒｏｔｅｉｎ ﬁsh Straße ℌ ǅ ΐ \ud800 \x1b[2J")
def test_tokenizing_never_raises_and_gives_words(text: str) -> None:
    for tokens in (tokenize(text), tokenize_query(text)):
        assert all(isinstance(t, str) and t and re.fullmatch(r"[^\W_]+", t) for t in tokens)


@settings(max_examples=500, deadline=None)
@given(ANY_TEXT)
@example("ℌ")  # a compatibility capital: NFKC makes it "H", which must then fold to "h"
def test_folding_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@settings(max_examples=500, deadline=None)
@given(WORDS, st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]))
@example("Protéine", "NFD")
@example("ｐｒｏｔｅｉｎ", "NFKC")
def test_unicode_equivalent_texts_give_the_same_tokens(text: str, form: str) -> None:
    same = unicodedata.normalize(form, text)
    assert tokenize(same) == tokenize(text)
    assert tokenize_query(same) == tokenize_query(text)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_tokens_are_their_own_tokens(text: str) -> None:
    # Words the index holds, typed back as a query, are found as they are.
    tokens = set(tokenize(text))
    assert set(tokenize(" ".join(tokens))) == tokens
    assert all(stem(t) == t for t in tokens)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9 ,.;:()/_-]{0,40}", fullmatch=True))
def test_ascii_text_tokenizes_as_before_unicode_folding(text: str) -> None:
    # The bundled catalog is ASCII: its prebuilt postings (and its ranking) do not move.
    old = [stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS]
    assert tokenize_query(text) == old
    assert tokenize(text.upper()) == tokenize(text)


@pytest.mark.parametrize(
    "typed, word",
    [("Protéine", "proteine"), ("ｐｒｏｔｅｉｎ", "protein"), ("PROTEIN", "protein"), ("Straße", "strasse"),
     ("ﬁsh", "fish"), ("Ångström", "angstrom"), ("naïve", "naive"), ("Ｅｓｍ２", "esm2")],
)
def test_accents_case_and_width_fold_away(typed: str, word: str) -> None:
    assert tokenize_query(typed) == [word]


def test_other_scripts_stay_words() -> None:
    # Not ASCII-only: CJK, Arabic, Greek and Cyrillic words are words (they just may not match).
    assert tokenize("蛋白质 بروتين πρωτεΐνη белок") == ["蛋白质", "بروتين", "πρωτεινη", "белок"]


@pytest.fixture(scope="module")
def index() -> TextIndex:
    return TextIndex.from_compiled(catalog.load().index_data)


@pytest.mark.parametrize("query", ["🧬", ".", "...", "  -- ", "the of", "🧬 & ✓"])
def test_a_query_with_no_word_is_a_usage_error(index: TextIndex, query: str) -> None:
    with pytest.raises(UsageError) as exc:
        index.parse(query)
    assert exc.value.exit_code == 2 and "nothing to search for" in exc.value.message


def test_a_pasted_document_is_a_usage_error_not_minutes_of_typo_search(index: TextIndex) -> None:
    words = [f"qz{n:05d}xyzzy" for n in range(MAX_QUERY_WORDS + 1)]
    assert len(index.parse(" ".join(words[:MAX_QUERY_WORDS]))) == MAX_QUERY_WORDS
    with pytest.raises(UsageError, match=f"at most {MAX_QUERY_WORDS}"):
        index.parse(" ".join(words))


def test_a_huge_word_is_looked_up_not_typo_searched(index: TextIndex) -> None:
    # The longest argument Linux passes is 128 kB; its one-edit variants would take gigabytes.
    (term,) = index.parse("protein" * 18_000)
    assert term.expansions == (("protein" * 18_000, 1.0),)
    assert max(map(len, index.postings)) + 2 < MAX_TYPO_WORD  # typo tolerance still reaches every indexed word


def test_an_empty_query_is_left_to_the_filters(index: TextIndex) -> None:
    assert index.parse("") == [] and index.parse("   ") == []


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_parse_gives_terms_or_a_usage_error(text: str) -> None:
    idx = TextIndex.from_compiled(catalog.load().index_data)
    try:
        terms = idx.parse(text)
    except UsageError:
        words = set(tokenize_query(text))
        assert (not words and text.strip()) or len(words) > MAX_QUERY_WORDS
        return
    assert [t.text for t in terms] == list(dict.fromkeys(tokenize_query(text)))


def test_fullwidth_and_accented_queries_read_as_protein(index: TextIndex) -> None:
    (fullwidth,) = index.parse("ｐｒｏｔｅｉｎ")
    assert fullwidth.expansions == (("protein", 1.0),)
    (accented,) = index.parse("Protéine")
    assert "protein" in [term for term, _ in accented.expansions]
