"""Text from outside made safe for a terminal, a TSV cell or a JSON document.

zoofind prints what servers and catalog files say (names, descriptions, licences, error
messages). Any of it may carry terminal control: ANSI colour and clear-screen (CSI),
window titles and OSC 8 hyperlinks (OSC), device control strings, single-byte C1 codes,
a BEL, backspaces that overwrite what was printed, or bidi overrides that make text read
differently from what it is. Two functions, used by the output layer for everything it
prints (and by anything else that shows outside text):

- ``clean(text)``: one line of plain text for a terminal or a TSV cell. Escape sequences
  are removed whole (an OSC 8 link keeps its visible text, loses its target); other
  control characters, bidi controls and lone surrogates are removed; tabs, newlines and
  the other line or page breaks become a space. Ordinary Unicode text (accents, CJK,
  emoji with their joiners) is returned unchanged.
- ``json_safe(dumped)``: a JSON text (``json.dumps(..., ensure_ascii=False)``) with the
  characters json leaves raw but a terminal acts on (DEL, C1, bidi controls, line and
  paragraph separators, lone surrogates) written as ``\\uXXXX`` escapes. They can occur
  only inside JSON strings, so the document still decodes to exactly the same data.

Both are pure and cheap on the common case: plain printable text is returned as it is
after one C-level check, and the regular expressions are compiled on first need.
"""

from __future__ import annotations

import re

# Escape sequences as terminals parse them (ECMA-48), 7-bit and 8-bit forms:
# - control strings: OSC (ESC ] / 0x9D), DCS (ESC P / 0x90), SOS (ESC X / 0x98),
#   PM (ESC ^ / 0x9E), APC (ESC _ / 0x9F), up to their terminator (ST = ESC \ or 0x9C,
#   or BEL for OSC) or, unterminated, to the end of the text (a terminal would swallow it);
# - CSI (ESC [ / 0x9B) with its parameter and intermediate bytes and final byte;
# - any other ESC with its intermediate bytes and final byte (ESC c, ESC ( B, ESC 7, ...).
_SEQUENCE = (
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -/]*[0-~]?"
)
# Line and page breaks: a space, so words either side stay apart.
_BREAKS = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x85\u2028\u2029"
# Removed: the other C0 controls, DEL, C1, bidi embedding/override/isolate controls and
# marks (U+061C, U+200E/F, U+202A-E, U+2066-9: "Trojan Source" reordering), lone surrogates
# (a stray \\ud800 from a JSON answer cannot even be encoded for a UTF-8 terminal).
# Zero-width joiners (emoji sequences, Indic and Persian scripts) are text and stay.
_REMOVED = "\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
# What json.dumps(ensure_ascii=False) leaves raw and a terminal may act on.
_JSON_RAW = "\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ud800-\udfff"

_clean_re: re.Pattern[str] | None = None
_json_re: re.Pattern[str] | None = None


def _clean_pattern() -> re.Pattern[str]:
    global _clean_re
    if _clean_re is None:
        _clean_re = re.compile(f"({_SEQUENCE})|([{_BREAKS}])|[{_REMOVED}]")
    return _clean_re


def _replace(match: re.Match[str]) -> str:
    return " " if match.group(2) else ""


def clean(text: str) -> str:
    """``text`` as one line of plain, printable text: safe for a terminal and a TSV cell.

    >>> clean("ESM-2 \\x1b[2J\\x1b]0;pwned\\x07model\\nwith notes")
    'ESM-2 model with notes'
    """
    # str.isprintable() is False for every control, format (bidi), separator and
    # surrogate character, so printable text needs no further look. Plain spaces are
    # printable; other spaces (NBSP, ideographic) are not, and go through unchanged below.
    if text.isprintable():
        return text
    return _clean_pattern().sub(_replace, text)


def json_safe(dumped: str) -> str:
    """A JSON text with DEL, C1, bidi controls, U+2028/9 and lone surrogates as ``\\uXXXX``.

    ``json.loads(json_safe(s)) == json.loads(s)`` for any JSON text ``s``: these code
    points appear only inside strings, where the escape means the same character.
    """
    if dumped.isascii() and "\x7f" not in dumped:
        return dumped
    global _json_re
    if _json_re is None:
        _json_re = re.compile(f"[{_JSON_RAW}]")
    return _json_re.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)
