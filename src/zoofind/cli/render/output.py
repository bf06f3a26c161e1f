"""The only place that prints: stdout for data, stderr for everything else.

``Environment`` owns the streams, terminal detection and colour (``NO_COLOR``); the
``render_*`` functions turn typed results into a format (table, json, jsonl, tsv, ids).
rich is imported only to draw a table or a spinner on a terminal.

Text from outside (hubs, Kaggle, user catalogs, servers' error messages) is printed
through three doors, each making it safe with ``safetext``: ``cell`` for every table,
TSV and ids value, ``Environment._say`` for every stderr message, ``json_text`` for JSON
(which keeps the data exact and escapes what a terminal would act on). No other code
writes, so no escape sequence from data reaches a terminal.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import asdict
from typing import IO, Any, Union

from ...core.errors import Described, OutputError, UsageError, ZoofindError
from ...core.paths import cache_dir
from ...core.safetext import clean, json_safe
from ...core.units import human_count
from .jsonout import write_json

SCHEMA_VERSION = 1
FORMATS = ("table", "json", "jsonl", "tsv", "ids")
#: A table cell: its text, or (text, a dimmed second line) such as a name and its description.
Cell = Union[str, "tuple[str, str]"]


def check_formats(fmt: str | None, as_json: bool) -> None:
    """``--json`` means ``--format json``: together with another format it is a usage error."""
    if as_json and fmt not in (None, "json"):
        raise UsageError(f"--json and --format {fmt} ask for two formats", hint="give one of them")


class Environment:
    """Streams, terminal facts and colour for one run. Tests build their own."""

    def __init__(
        self, stdout: IO[str] | None = None, stderr: IO[str] | None = None, *, stdout_isatty: bool = False,
        stderr_isatty: bool = False, stdin_isatty: bool = False, colors: bool = False, debug: bool = False,
        width: int = 80,
    ) -> None:
        # Either may be None: Python sets sys.stdout/sys.stderr to None when the process
        # starts with that descriptor closed (`zoofind search x >&-`).
        self.stdout: IO[str] | None = stdout or sys.stdout
        self.stderr: IO[str] | None = stderr or sys.stderr
        self.stdout_isatty = stdout_isatty
        self.stderr_isatty = stderr_isatty
        self.stdin_isatty = stdin_isatty
        self.colors = colors
        self.debug = debug
        self.width = width

    @classmethod
    def from_system(cls) -> Environment:
        def tty(stream: Any) -> bool:
            try:
                return bool(stream.isatty())
            except (AttributeError, ValueError):
                return False

        no_color = "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb"
        err_tty = tty(sys.stderr)
        return cls(
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdout_isatty=tty(sys.stdout),
            stderr_isatty=err_tty,
            stdin_isatty=tty(sys.stdin),
            colors=err_tty and not no_color,
            debug=os.environ.get("ZOOFIND_DEBUG", "") not in ("", "0"),
            width=_width(),
        )

    # -- stderr -------------------------------------------------------------------
    def _say(self, label: str, style: str, message: str) -> None:
        # Messages carry outside text (a server's error, a record's id): one clean line each.
        prefix = f"\033[{style}m{label}\033[0m" if self.colors else label
        if self.stderr is None:
            return
        try:
            self.stderr.write(f"{prefix} {clean(message)}\n")
            self.stderr.flush()
        except (OSError, ValueError):
            # stderr itself is gone or full: nowhere left to say anything; the exit code still tells.
            pass

    def note(self, message: str) -> None:
        self._say("zoofind:", "2", message)

    def warn(self, message: str) -> None:
        self._say("zoofind: warning:", "33", message)

    def error(self, d: Described) -> None:
        self._say("zoofind: error:", "31;1", d.message)
        if d.hint:
            self._say("  hint:", "36", d.hint)

    @contextlib.contextmanager
    def status(self, message: str) -> Iterator[None]:
        """A spinner on stderr while slow work runs; silent when stderr is not a terminal."""
        if not self.stderr_isatty:
            yield
            return
        # lazy: rich (~35 ms) only for a spinner on a terminal: no start-up in a pipe loads it
        from rich.console import Console

        console = Console(file=self.stderr, no_color=not self.colors, stderr=True)
        with console.status(message):
            yield

    # -- stdout -------------------------------------------------------------------
    def write(self, text: str) -> None:
        """Write data to stdout; a failure to write is an ``OutputError`` (exit 1), except a
        reader that went away (BrokenPipeError), which ``cli.common.reporting`` ends quietly."""
        if not text:
            return  # nothing to say (no hits): not even a closed stdout is an error then
        if self.stdout is None:
            raise OutputError("could not write the output: stdout is closed",
                              hint="send zoofind's output somewhere, e.g. > results.tsv")
        try:
            self.stdout.write(text)
            self.stdout.flush()
        except BrokenPipeError:
            raise
        # ENOSPC behind `> /dev/full`, EIO, a closed file, an encoding the text does not fit
        except (OSError, ValueError) as exc:
            self.discard_stdout()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise OutputError(f"could not write the output to stdout: {reason}",
                              hint="check where stdout goes (a full disk?)") from None

    def discard_stdout(self) -> None:
        """Point stdout's descriptor at the null device.

        After a failed or refused write the stream still holds the unwritten bytes, and
        Python's flush at exit would fail again with "Exception ignored ..." and exit 120.
        """
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stdout.fileno())  # type: ignore[union-attr]
            os.close(devnull)
        except (AttributeError, OSError, ValueError):
            pass

    def pick_format(self, fmt: str | None, as_json: bool) -> str:
        check_formats(fmt, as_json)
        if as_json:
            return "json"
        if fmt:
            return fmt
        return "table" if self.stdout_isatty else "tsv"

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Cell]], *, title: str | None = None,
              short: Collection[str] = (), clip: Collection[str] = ()) -> None:
        """Rows as a rich table; no rows print nothing (no hits means empty stdout, frame included).

        Widths are laid out here (``column_widths``), not by rich, which squeezes every column
        alike: ``short`` columns (sizes, ages, revisions) keep their width and never wrap, the
        others get room in their order (an id before a name) and fold; in ``clip`` columns a
        path (a plain cell, or a cell's second line) is cut in the middle with "…" instead.
        Nothing is cropped: a table
        that cannot fit its columns' minimum is wider than the screen, never cut off.
        """
        if not rows:
            return
        # lazy: rich (~40 ms) only for a table on a terminal: no start-up in a pipe loads it
        from rich.cells import cell_len
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        def lines(value: Cell) -> list[str]:
            return [cell(part) for part in value if part] if isinstance(value, tuple) else [cell(value)]

        natural = [max(cell_len(line) for value in (col, *(row[i] for row in rows)) for line in lines(value))
                   for i, col in enumerate(columns)]
        kinds = ["short" if c in short else "clip" if c in clip else "fold" for c in columns]
        widths = column_widths(natural, kinds, self.width - (3 * len(columns) + 1))  # 3: a border and two spaces

        def clipped(text: str, width: int) -> str:
            if cell_len(text) <= width or width < 2:
                return text
            # Cut in the middle: a path's root (which cache) and its end (which file) both tell.
            head = (width - 1) // 3
            return text[:head] + "…" + text[len(text) - (width - 1 - head):]

        def markup(value: Cell, width: int, kind: str) -> str:
            # Data never carries markup or control codes: clean, then escape rich's [brackets].
            if isinstance(value, tuple):
                text, dim = (cell(part) for part in value)
                dim = clipped(dim, width) if kind == "clip" else dim
                return f"{escape(text)}\n[dim]{escape(dim)}[/dim]" if dim else escape(text)
            text = cell(value)
            return escape(clipped(text, width) if kind == "clip" else text)

        # Rendered into a string (for this stream's terminal facts and width), so the table
        # reaches stdout through write() like every format: rich itself never writes there.
        buffer = io.StringIO()
        needed = sum(widths) + 3 * len(columns) + 1
        console = Console(file=buffer, force_terminal=self.stdout_isatty, width=max(self.width, needed),
                          no_color="NO_COLOR" in os.environ, highlight=False)
        table = Table(title=escape(cell(title)) if title else None, header_style="bold", title_justify="left",
                      expand=False)
        for col, width, kind in zip(columns, widths, kinds, strict=True):
            table.add_column(col, width=width, no_wrap=kind == "short", overflow="fold")
        for row in rows:
            table.add_row(*(markup(value, width, kind) for value, width, kind in zip(row, widths, kinds, strict=True)))
        console.print(table)
        self.write(buffer.getvalue())


#: The narrowest a column that may fold or be clipped gets, unless its text is shorter.
MIN_COLUMN = 10


def column_widths(natural: Sequence[int], kinds: Sequence[str], room: int) -> list[int]:
    """Each column's width in ``room`` characters: ``short`` columns their natural width, the
    others at least ``MIN_COLUMN``, then what is left goes to the columns in order, each up
    to its natural width (the first column, an id, before a name or a path)."""
    widths = [n if k == "short" else min(n, MIN_COLUMN) for n, k in zip(natural, kinds, strict=True)]
    left = room - sum(widths)
    for i, n in enumerate(natural):
        grow = max(0, min(n - widths[i], left))
        widths[i] += grow
        left -= grow
    return widths


def _width() -> int:
    """The columns a table may use: COLUMNS when set, else the terminal's that stdout, stderr or
    stdin is (`zoofind cache ls -f table | less` reads its width from stderr's), else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
        if columns > 0:
            return columns
    except ValueError:
        pass
    for stream in (sys.__stdout__, sys.__stderr__, sys.__stdin__):
        try:
            return os.get_terminal_size(stream.fileno()).columns or 80  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):
            continue
    return 80


def cell(value: Any) -> str:
    """One value as printed in a table, TSV or ids line: one line, no control codes (``safetext.clean``).

    A TSV record must stay one line and a field one column, and nothing from outside may
    drive the terminal: tabs and newlines become spaces, escape sequences go.
    """
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return clean(str(value))


def tsv_lines(rows: Iterable[Sequence[Any]]) -> str:
    """TSV (and ids: one column) text: each value through ``cell``."""
    return "".join("\t".join(cell(v) for v in row) + "\n" for row in rows)


def json_text(payload: Any, *, indent: int | None = None) -> str:
    """JSON text of exact data; what json leaves raw but a terminal acts on is \\u-escaped."""
    return json_safe(json.dumps(payload, ensure_ascii=False, indent=indent)) + "\n"


def dumps(payload: Any) -> str:
    return json_text(payload, indent=2)


def render_results(env: Environment, fmt: str | None, head: dict[str, Any], results: Sequence[Any],
                   to_json: Callable[[Any], dict[str, Any]]) -> None:
    """The stdout of a command whose results are one record a model (pull, export, import):
    ``json`` the head plus ``results``, ``jsonl`` one record a line, ``ids`` the ids that
    succeeded, ``tsv``/``table`` ``id<TAB>path`` of each that succeeded (what scripts cut)."""
    if fmt == "json":  # written as it is made: a result may list 200,000 files
        write_json(env.write, {"schema_version": SCHEMA_VERSION, **head, "results": [to_json(r) for r in results]})
    elif fmt == "jsonl":
        env.write("".join(json_text(to_json(r)) for r in results))
    elif fmt == "ids":
        env.write(tsv_lines((r.id,) for r in results if r.ok))
    elif fmt in ("tsv", "table"):
        env.write(tsv_lines((r.id, r.path) for r in results if r.ok and r.path))


def render_search(env: Environment, fmt: str, result: Any) -> None:
    """A SearchResult: per-source notes on stderr, the records on stdout, then hints."""
    q = result.query
    failed = [rep for rep in result.sources if rep.status in ("error", "timeout")]
    if failed and not result.all_failed:  # all failed: the command's error says it
        env.warn(_failed_line(failed, result.sources))
    for rep in result.sources:
        if not rep.message or rep.status in ("error", "timeout", "offline"):
            continue
        # A source skipped though nobody asked for it by name (no Kaggle credentials) says so
        # once, not on every search a script makes; asked for with -s, every time.
        if rep.status != "skipped" or rep.name in q.sources:
            env.note(f"{rep.name}: {rep.message}")
        elif first_time(f"{rep.name}: {rep.message}"):
            env.note(f"{rep.name}: {rep.message} (said once; `-s {rep.name}` says it every time)")
    payload = {
        "query": {"text": q.text, "sources": list(q.sources), "task": q.task, "domain": q.domain,
                  "framework": q.framework,
                  "license": q.license, "kind": q.kind, "size_category": q.size_category, "sort": q.sort,
                  "limit": q.limit, "offline": result.offline,
                  "read_as": dict(result.readings), "unknown_words": list(result.unknown_words)},
        "total": result.total,
        "sources": [asdict(rep) for rep in result.sources],
    }
    render_records(env, fmt, "search", result.records, payload, [h.score for h in result.hits])
    if result.readings and result.hits:
        env.note("read " + ", ".join(f"{w!r} as {r!r}" for w, r in result.readings))
    if result.unknown_words and result.hits:
        words = ", ".join(repr(w) for w in result.unknown_words)
        env.note(f"nothing in the catalog mentions {words}; showing matches for the other words")
    if not result.hits and not result.all_failed:
        env.note("no matches; try fewer words, another spelling, or fewer filters")
    elif result.total > len(result.hits) and fmt == "table":
        shown, total = len(result.hits), result.total
        env.note(f"showing the best {shown} of {total} matches (--limit {total} shows them all)")


def _failed_line(failed: Sequence[Any], reports: Sequence[Any]) -> str:
    """One line for the live sources that failed, naming what the results come from instead."""
    which = ", ".join(rep.name for rep in failed)
    why = "; ".join(f"{rep.name}: {rep.message}" if len(failed) > 1 else str(rep.message) for rep in failed)
    live = [rep.name for rep in reports if rep.status == "ok" and rep.origin in ("live", "cache", "stale")]
    instead = "the bundled catalog" + "".join(f", {name}" for name in live[:-1]) + (f" and {live[-1]}" if live else "")
    return f"{'source' if len(failed) == 1 else 'sources'} {which} failed ({why}); these results are from {instead}"


def first_time(key: str) -> bool:
    """Whether ``key`` (a piece of advice) is said for the first time by this user's zoofind: a
    marker in zoofind's cache folder remembers it. Where none can be kept, every time is the first."""
    # lazy: hashlib (~4 ms) only for advice said once: off search --offline and --help start-up
    import hashlib

    try:
        marker = cache_dir(os.environ) / "said" / hashlib.sha256(key.encode()).hexdigest()[:24]
        if marker.exists():
            return False
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except (OSError, ZoofindError):
        pass
    return True


def render_records(env: Environment, fmt: str, command: str, records: Sequence[Any], payload: dict[str, Any],
                   scores: Sequence[float] | None = None) -> None:
    """Shared by search and other listing commands: records as the chosen format."""
    if fmt == "ids":
        env.write(tsv_lines((r.id,) for r in records))
    elif fmt == "tsv":
        # kind last: new columns only ever go at the end
        env.write(tsv_lines((r.id, r.source, r.task, r.framework, r.name, r.kind) for r in records))
    elif fmt == "jsonl":
        env.write("".join(json_text(_record_json(r, scores[i] if scores else None)) for i, r in enumerate(records)))
    elif fmt == "json":
        body = {"schema_version": SCHEMA_VERSION, "command": command, **payload}
        body["results"] = [_record_json(r, scores[i] if scores else None) for i, r in enumerate(records)]
        env.write(dumps(body))
    else:
        def popularity(r: Any) -> str:
            figures = (("↓", human_count(r.downloads)), ("♥", human_count(r.likes)))
            return " ".join(f"{mark}{figure}" for mark, figure in figures if figure not in ("", "0"))

        pops = [popularity(r) for r in records]
        show_pop = any(pops)
        # Datasets among the results: a kind column says which rows are data, not models.
        show_kind = any(r.kind == "dataset" for r in records)
        wide = env.width >= 110
        rows: list[Sequence[Cell]] = []
        for r, pop in zip(records, pops, strict=True):
            desc = r.description if len(r.description) <= 80 else r.description[:77] + "..."
            name: Cell = (r.name, desc) if wide else r.name
            row = [r.id, *([r.kind] if show_kind else []), r.task or (r.resource_type or ""),
                   r.framework or ",".join(r.libraries[:1])]
            rows.append((*row, pop, name) if show_pop else (*row, name))
        columns = ("id", *(("kind",) if show_kind else ()), "task", "framework",
                   *(("popularity",) if show_pop else ()), "name")
        env.table(columns, rows)


def _record_json(record: Any, score: float | None) -> dict[str, Any]:
    data = record.to_dict()
    if score is not None:
        data["score"] = round(score, 4)
    return data
