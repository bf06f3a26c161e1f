"""The TOML reader of catalog files: rtoml's values are tomllib's, and a broken file says what tomllib says."""

from __future__ import annotations

import math

import pytest

from zoofind.core.tomlread import loads, tomllib

EVERY_TYPE = '''
[meta]
layer = "curated"

[[entry]]
id = "hf:lab/x"
name = "X \\u00e9 \\"quoted\\" \\t tab"
literal = 'C:\\path'
multi = """
two
lines"""
n = 0x1f
big = 99999999999999999999
f = -0.0
inf = inf
nan = nan
on = true
when = 1979-05-27T07:32:00+01:00
local = 1979-05-27T07:32:00.999999
day = 1979-05-27
time = 07:32:00
list = [1, [2, "three"], {a = 1}]
[entry.extra]
dotted.key = "v"
"quoted key" = 1
'''


def test_every_toml_type_reads_as_tomllib_reads_it() -> None:
    import rtoml  # noqa: F401 - the parser under test is installed (a runtime dependency)

    ours, theirs = loads(EVERY_TYPE), tomllib.loads(EVERY_TYPE)
    assert math.isnan(ours["entry"][0].pop("nan")) and math.isnan(theirs["entry"][0].pop("nan"))
    assert ours == theirs
    when = ours["entry"][0]["when"]
    assert when.isoformat() == "1979-05-27T07:32:00+01:00" and when.utcoffset() == theirs["entry"][0]["when"].utcoffset()


@pytest.mark.parametrize("text", ["a = \n", "a = 1\na = 2\n", "[[entry]\nid = ", "a = " + "[" * 5000 + "]" * 5000])
def test_a_broken_file_raises_what_tomllib_raises(text: str) -> None:
    with pytest.raises((tomllib.TOMLDecodeError, RecursionError)) as ours:
        loads(text)
    with pytest.raises((tomllib.TOMLDecodeError, RecursionError)) as theirs:
        tomllib.loads(text)
    assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)
