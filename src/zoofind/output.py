"""The only place that prints: stdout for data, stderr for everything else.

``Environment`` owns the streams, terminal detection and colour (``NO_COLOR``); the
``render_*`` functions turn typed results into a format (table, json, jsonl, tsv, ids).
rich is imported only to draw a table or a spinner on a terminal.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import IO, Any, Callable, Iterator, Sequence

from .errors import Described
from .units import human_age, human_bytes, human_count

SCHEMA_VERSION = 1
FORMATS = ("table", "json", "jsonl", "tsv", "ids")


class Environment:
    """Streams, terminal facts and colour for one run. Tests build their own."""

    def __init__(
        self, stdout: IO[str] | None = None, stderr: IO[str] | None = None, *, stdout_isatty: bool = False,
        stderr_isatty: bool = False, stdin_isatty: bool = False, colors: bool = False, debug: bool = False, width: int = 80,
    ) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.stdout_isatty = stdout_isatty
        self.stderr_isatty = stderr_isatty
        self.stdin_isatty = stdin_isatty
        self.colors = colors
        self.debug = debug
        self.width = width

    @classmethod
    def from_system(cls) -> "Environment":
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
        prefix = f"\033[{style}m{label}\033[0m" if self.colors else label
        self.stderr.write(f"{prefix} {message}\n")
        self.stderr.flush()

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
        from rich.console import Console

        console = Console(file=self.stderr, no_color=not self.colors, stderr=True)
        with console.status(message):
            yield

    # -- stdout -------------------------------------------------------------------
    def write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def pick_format(self, fmt: str | None, as_json: bool) -> str:
        if as_json:
            return "json"
        if fmt:
            return fmt
        return "table" if self.stdout_isatty else "tsv"

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[str]], *, title: str | None = None, markup: bool = False) -> None:
        from rich.console import Console
        from rich.table import Table

        console = Console(file=self.stdout, no_color="NO_COLOR" in os.environ, highlight=False)
        table = Table(title=title, header_style="bold", title_justify="left", expand=False)
        last = len(columns) - 1
        for i, col in enumerate(columns):
            # The first column (what people copy: an id) never wraps; the last takes the room left.
            table.add_column(col, overflow="fold", no_wrap=i == 0, ratio=1 if i == last else None, min_width=8 if i == last else None)
        from rich.markup import escape

        for row in rows:
            # Data never carries markup: escape it unless the caller built the markup itself.
            table.add_row(*(cell if markup else escape(cell) for cell in row))
        console.print(table)


def _width() -> int:
    import shutil

    return shutil.get_terminal_size((80, 24)).columns


def _clean(value: Any) -> str:
    # TSV must stay one record a line and one field a column.
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def render_search(env: Environment, fmt: str, result: Any) -> None:
    """A SearchResult: per-source notes on stderr, the records on stdout, then hints."""
    from dataclasses import asdict

    q = result.query
    for rep in result.sources:
        if rep.status in ("error", "timeout"):
            env.warn(f"source {rep.name} failed: {rep.message}; showing the others' results")
        elif rep.message and rep.status != "offline":
            env.note(f"{rep.name}: {rep.message}")
    payload = {
        "query": {"text": q.text, "sources": list(q.sources), "task": q.task, "domain": q.domain, "framework": q.framework,
                  "license": q.license, "kind": q.kind, "sort": q.sort, "limit": q.limit, "offline": result.offline,
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
    if not result.hits:
        env.note("no matches; try fewer words, another spelling, or fewer filters")
    elif result.total > len(result.hits) and fmt == "table":
        env.note(f"showing {len(result.hits)} of {result.total} matches (use --limit to see more)")


def render_records(env: Environment, fmt: str, command: str, records: Sequence[Any], payload: dict[str, Any], scores: Sequence[float] | None = None) -> None:
    """Shared by search and other listing commands: records as the chosen format."""
    if fmt == "ids":
        env.write("".join(f"{r.id}\n" for r in records))
    elif fmt == "tsv":
        env.write("".join("\t".join(_clean(v) for v in (r.id, r.source, r.task, r.framework, r.name)) + "\n" for r in records))
    elif fmt == "jsonl":
        env.write("".join(json.dumps(_record_json(r, scores[i] if scores else None), ensure_ascii=False) + "\n" for i, r in enumerate(records)))
    elif fmt == "json":
        body = {"schema_version": SCHEMA_VERSION, "command": command, **payload}
        body["results"] = [_record_json(r, scores[i] if scores else None) for i, r in enumerate(records)]
        env.write(dumps(body))
    else:
        show_pop = any(r.downloads or r.likes for r in records)
        wide = env.width >= 110
        rows = []
        for r in records:
            pop = " ".join(x for x in (f"↓{human_count(r.downloads)}" if r.downloads else "", f"♥{human_count(r.likes)}" if r.likes else "") if x)
            desc = r.description if len(r.description) <= 80 else r.description[:77] + "..."
            name = f"{r.name}\n[dim]{desc}[/dim]" if (wide and desc) else r.name
            row = [r.id, r.task or (r.resource_type or ""), r.framework or ",".join(r.libraries[:1])]
            rows.append((*row, pop, name) if show_pop else (*row, name))
        columns = ("id", "task", "framework", "popularity", "name") if show_pop else ("id", "task", "framework", "name")
        env.table(columns, rows, markup=True)


def _record_json(record: Any, score: float | None) -> dict[str, Any]:
    data = record.to_dict()
    if score is not None:
        data["score"] = round(score, 4)
    return data


def _human_value(value: Any, depth: int = 0) -> str:
    """Extra facts for people: yes/no, "ImageNet-1K: acc@1 80.858, acc@5 95.434"."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        parts = (f"{k}: {_human_value(v, depth + 1)}" if isinstance(v, dict) else f"{k} {_human_value(v, depth + 1)}" for k, v in value.items())
        return ("; " if depth == 0 else ", ").join(parts)
    if isinstance(value, (list, tuple)):
        return ", ".join(_human_value(v, depth + 1) for v in value)
    return _clean(value)


def render_info(env: Environment, fmt: str, result: Any) -> None:
    r = result.record
    reqs = [{"package": q.package, "installed": q.installed} for q in result.requirements]
    if fmt in ("json", "jsonl"):
        body = {"schema_version": SCHEMA_VERSION, "command": "info", "record": r.to_dict(), "requirements": reqs,
                "install": result.install, "warnings": list(result.warnings)}
        env.write(dumps(body) if fmt == "json" else json.dumps(body, ensure_ascii=False) + "\n")
        return
    if fmt == "ids":
        env.write(f"{r.id}\n")
        return
    pairs: list[tuple[str, str]] = [
        ("id", r.id), ("name", r.name), ("kind", r.kind if r.kind == "model" else f"resource ({r.resource_type})"),
        ("source", r.source), ("description", r.description), ("url", r.url or ""),
        ("tasks", ", ".join(r.tasks)), ("domains", ", ".join(r.domains)),
        ("frameworks", ", ".join(r.frameworks)), ("loads with", r.libraries[0] if r.libraries else ""),
        ("alternatives", ", ".join(r.libraries[1:])),
        ("architecture", ", ".join(r.architecture)), ("datasets", ", ".join(r.datasets)),
        ("license", r.license or ""), ("gated", "yes" if r.gated else ""),
        ("remote code", "yes (trust_remote_code=True)" if r.remote_code else ""),
        ("downloadable", "" if r.downloadable else "no"),
        ("parameters", human_count(r.params)), ("size", human_bytes(r.size_bytes)),
        ("downloads", human_count(r.downloads)), ("likes", human_count(r.likes)), ("updated", r.updated or ""),
        ("weights format", ", ".join(r.weights_format)),
        ("reliability", r.reliability or ""), ("evidence", r.evidence or ""), ("notes", r.notes or ""),
    ]
    for key, value in sorted(r.extra.items()):
        pairs.append((key.replace("_", " "), _human_value(value)))
    for q in result.requirements:
        pairs.append((f"needs {q.package}", q.installed or "not installed"))
    pairs.append(("install", result.install or "everything needed is installed"))
    pairs = [(k, v) for k, v in pairs if v]
    if fmt == "tsv":
        env.write("".join(f"{k}\t{_clean(v)}\n" for k, v in pairs))
    else:
        env.table(("field", "value"), pairs, title=r.id)


def _render_listing(
    env: Environment, fmt: str, command: str, key: str, data: Sequence[dict[str, Any]],
    tsv: Callable[[dict[str, Any]], Sequence[Any]], columns: Sequence[str], row: Callable[[dict[str, Any]], Sequence[str]],
) -> None:
    """The formats every listing command shares; ``key`` names the JSON list and the id field is its first."""
    if fmt == "json":
        env.write(dumps({"schema_version": SCHEMA_VERSION, "command": command, key: list(data)}))
    elif fmt == "jsonl":
        env.write("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in data))
    elif fmt == "ids":
        env.write("".join(f"{next(iter(d.values()))}\n" for d in data))
    elif fmt == "tsv":
        env.write("".join("\t".join(_clean(v) for v in tsv(d)) + "\n" for d in data))
    else:
        env.table(columns, [row(d) for d in data])


def render_frameworks(env: Environment, fmt: str, rows: Sequence[Any]) -> None:
    data = [
        {"key": row.library.key, "name": row.library.name, "pip": list(row.library.pip), "module": row.library.module,
         "runs_on": row.library.framework, "is_framework": row.library.is_framework,
         "installed": row.installed, "catalog_models": row.models, "url": row.library.url}
        for row in rows
    ]
    _render_listing(
        env, fmt, "list-frameworks", "frameworks", data,
        tsv=lambda d: (d["key"], d["name"], " ".join(d["pip"]), d["installed"] or "", d["catalog_models"]),
        columns=("framework", "pip install", "installed", "catalog models", "runs on"),
        row=lambda d: (d["name"], " ".join(d["pip"]), d["installed"] or "-", str(d["catalog_models"]), d["runs_on"] or ""),
    )


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def render_sources(env: Environment, fmt: str, rows: Sequence[Any]) -> None:
    data = [
        {"name": s.name, "title": s.title, "endpoint": s.endpoint, "network": s.network, "reachable": s.reachable,
         "reason": s.reason, "credentials": s.credentials, "cache_age_seconds": s.cache_age_seconds,
         "details": dict(s.details)}
        for s in rows
    ]
    _render_listing(
        env, fmt, "sources", "sources", data,
        tsv=lambda d: (d["name"], d["endpoint"], _yes_no(d["reachable"]), _yes_no(d["credentials"]), human_age(d["cache_age_seconds"]), d["reason"]),
        columns=("source", "endpoint", "reachable", "credentials", "cache age", "notes"),
        row=lambda d: (
            d["name"], d["endpoint"] or "", _yes_no(d["reachable"]) or "not probed", _yes_no(d["credentials"]) or "-",
            human_age(d["cache_age_seconds"]) or "-",
            "; ".join(filter(None, [d["reason"], *(f"{k}: {v}" for k, v in d["details"].items())])),
        ),
    )
