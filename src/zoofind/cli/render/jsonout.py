"""A JSON document written as it is made, for documents that may be large (a pull of a repo of
200,000 files lists every file).

The text is ``json.dumps(payload, indent=2, ensure_ascii=False)``'s, but for one thing: a list
longer than ``ROWS_INLINE`` whose items are objects of plain values (a pull's files, an export's)
has one object a line. ``json``'s indenting encoder is pure Python (seconds for 200,000 files,
and every piece of the text held at once); one line an object is its C encoder, and the
document goes out in batches while it is made.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from ...core.safetext import json_safe

#: Lists longer than this, of objects of plain values, are written one object a line.
ROWS_INLINE = 200
#: Rows encoded by one call of the C encoder.
ROWS_A_CALL = 1000
#: Characters of text joined before each write.
BATCH = 1 << 20


def write_json(write: Callable[[str], None], payload: Any) -> None:
    """``payload`` as indented JSON text (and a newline) through ``write``, in batches."""
    batch: list[str] = []
    size = 0
    for piece in _pieces(payload, ""):
        batch.append(piece)
        size += len(piece)
        if size >= BATCH:
            write(json_safe("".join(batch)))
            batch.clear()
            size = 0
    batch.append("\n")
    write(json_safe("".join(batch)))


def _plain(value: Any) -> bool:
    return not isinstance(value, (dict, list, tuple))


def _rows(value: list[Any] | tuple[Any, ...]) -> bool:
    """A long list of objects of plain values, judged by its first item: one line an item is
    valid JSON whatever the others hold (only the layout would differ)."""
    return len(value) > ROWS_INLINE and isinstance(value[0], dict) and all(map(_plain, value[0].values()))


#: One encoder for every row (``json.dumps`` builds one a call).
_ROW = json.JSONEncoder(ensure_ascii=False)


def _pieces(value: Any, pad: str) -> Iterator[str]:
    inner = pad + "  "
    if isinstance(value, dict) and value:
        yield "{"
        for i, (k, v) in enumerate(value.items()):
            yield f"{',' if i else ''}\n{inner}{json.dumps(str(k), ensure_ascii=False)}: "
            yield from _pieces(v, inner)
        yield f"\n{pad}}}"
    elif isinstance(value, (list, tuple)) and value:
        yield "["
        if _rows(value):
            # A batch of rows a call of the C encoder; its row breaks (``}, {"``: outside any string,
            # where a quote after a brace is always escaped) become line breaks, whitespace JSON allows.
            newline = "},\n" + inner + '{"'
            for at in range(0, len(value), ROWS_A_CALL):
                text = _ROW.encode(list(value[at:at + ROWS_A_CALL]))[1:-1].replace('}, {"', newline)
                yield f"{',' if at else ''}\n{inner}{text}"
        else:
            for i, v in enumerate(value):
                yield f"{',' if i else ''}\n{inner}"
                yield from _pieces(v, inner)
        yield f"\n{pad}]"
    else:
        yield json.dumps(value, ensure_ascii=False)
