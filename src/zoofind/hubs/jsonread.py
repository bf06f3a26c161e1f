"""Reading a hub's JSON where it enters: each field checked for its type, repaired where its
meaning is plain, dropped (and counted) where it is not, so one malformed record or field never
costs the answer its good records. Every hub's mapping reads through these."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any


class Repairs:
    """What reading one answer from a hub dropped: wrong-typed fields and unreadable records.

    A hub's JSON is validated where it enters (each source's mapping, with the readers
    below): a field of the wrong type is dropped, or repaired when its meaning is plain
    (``12.0`` or ``"12"`` downloads, one tag sent as a string); a record without a usable
    id is skipped. Each is counted here, so the answer can say so (``note``) while its
    good records are kept.
    """

    __slots__ = ("fields", "records")

    def __init__(self) -> None:
        self.fields = 0
        self.records = 0

    def note(self, who: str) -> str | None:
        said = [f"{n} {what}" for n, what in ((self.records, "unreadable record(s) skipped"),
                                              (self.fields, "wrong-typed field(s) dropped")) if n]
        return f"{who} sent malformed data: {' and '.join(said)}" if said else None


def dropped(repairs: Repairs | None) -> None:
    """Count one wrong-typed field (``repairs`` may be None: nobody is counting)."""
    if repairs is not None:
        repairs.fields += 1


def json_int(value: Any, repairs: Repairs | None = None) -> int | None:
    """A count or a size: an int >= 0 (an integral float or a string of digits is repaired), else None."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:  # nan and inf are not integers
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value):
        return int(value)
    dropped(repairs)
    return None


def json_str(value: Any, repairs: Repairs | None = None, *, limit: int = 1000) -> str | None:
    """A text field: a string, at most ``limit`` characters (a hub's description is no place for 64 MB)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value[:limit]
    dropped(repairs)
    return None


def json_strs(value: Any, repairs: Repairs | None = None, *, limit: int = 200, chars: int = 200) -> tuple[str, ...]:
    """A list of words (tags, datasets, licences): its strings (one string alone is a list of one), at
    most ``limit`` of them, each at most ``chars`` long; anything else in it is dropped."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        dropped(repairs)
        return ()
    words = [v for v in value if isinstance(v, str) and len(v) <= chars]
    if len(words) != len(value):
        dropped(repairs)
    return tuple(w for w in words if w)[:limit]


def json_bool(value: Any, repairs: Repairs | None = None) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    dropped(repairs)
    return None


def json_object(value: Any, repairs: Repairs | None = None) -> Mapping[str, Any]:
    """A nested object ({} when absent or of another type)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    dropped(repairs)
    return {}


def json_list(value: Any, repairs: Repairs | None = None) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    dropped(repairs)
    return []


#: What ``read_fields`` reads one field with: (value, repairs) -> the cleaned value or None.
FieldReader = Callable[[Any, Repairs | None], Any]


def json_text(limit: int) -> Callable[[Any, Repairs | None], str | None]:
    """A ``json_str`` reader that keeps at most ``limit`` characters (for ``read_fields``)."""
    def read(value: Any, repairs: Repairs | None = None) -> str | None:
        return json_str(value, repairs, limit=limit)
    return read


def read_fields(data: Mapping[str, Any], schema: Mapping[str, FieldReader],
                repairs: Repairs | None = None) -> dict[str, Any]:
    """The fields ``schema`` names, each read by its reader; absent and dropped ones left out
    (lists of words become JSON lists)."""
    out: dict[str, Any] = {}
    for key, read in schema.items():
        value = read(data.get(key), repairs)
        if value is not None and value not in ("", ()):
            out[key] = list(value) if isinstance(value, tuple) else value
    return out


def json_date(value: Any, repairs: Repairs | None = None) -> str | None:
    """A time as hubs write it (ISO 8601, ``2023-03-21T15:05:12.000Z``): a string that starts with a date."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) <= 40 and re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:$|[T ])", value):
        return value
    dropped(repairs)
    return None
