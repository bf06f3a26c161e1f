"""The output layer's part for ``export`` and ``import``: stdout lines or records, notes on stderr.

stdout holds one line a model, ``id<TAB>path`` (import: what the framework loads here;
export: the cache folder or file the model was read from), or the records of
``--format json|jsonl``; with ``export ... -`` stdout is the bundle itself and every word
goes to stderr. Progress bars are ``pull_output.progress_bars`` (a terminal only).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import IO, TYPE_CHECKING, Any

from ...core.errors import Described, UsageError
from ...core.units import counted, human_bytes
from ...ops.bundle.manifest import BUNDLE_VERSION
from .output import Environment, render_results

if TYPE_CHECKING:
    from ...models.bundle import BundledModel, ExportReport, ImportReport


def binary_stdout(env: Environment) -> IO[bytes]:
    """stdout as bytes, for a bundle; refused on a terminal (a tar is no text to show)."""
    if env.stdout_isatty:
        raise UsageError("stdout is a terminal; `-` writes the bundle to a pipe or a file",
                         hint="zoofind export --lock FILE - | ssh node zoofind import -   "
                              "(or give a file name: bundle.tar)")
    buffer = getattr(env.stdout, "buffer", None)
    if buffer is None:
        raise UsageError("stdout cannot take bytes here", hint="give a file name instead of -: bundle.tar")
    return buffer


def model_json(m: BundledModel) -> dict[str, Any]:
    return {
        "id": m.id, "ok": m.ok, "path": m.path, "commit": m.commit, "files": [asdict(f) for f in m.files],
        "bytes": m.bytes, "notes": list(m.notes), "error": m.error, "hint": m.hint, "exit_code": m.exit_code,
    }


def _records(env: Environment, fmt: str | None, head: dict[str, Any], models: tuple[BundledModel, ...]) -> None:
    render_results(env, fmt, head, models, model_json)


def render_export(env: Environment, fmt: str | None, report: ExportReport) -> None:
    """``fmt`` None: the bundle went to stdout, so only stderr is written."""
    head = {"command": "export", "bundle": report.bundle, "layout": report.layout, "bundle_version": BUNDLE_VERSION,
            "members": report.members, "bytes": report.bytes, "linked": report.linked, "copied": report.copied}
    if report.layout == "s3":
        head.update(uploaded=report.uploaded, present=report.present, sent=report.sent)
    _records(env, fmt, head, report.models)
    if report.layout == "s3":
        env.note(f"published {report.bundle}: {report.members} file(s), {human_bytes(report.bytes)}, for "
                 f"{counted(m.id for m in report.models)}: sent {report.uploaded} ({human_bytes(report.sent)}), "
                 f"{report.present} already there (same key and size), the manifest last")
        return
    where = "stdout" if report.bundle == "-" else report.bundle
    env.note(f"wrote {where}: {report.members} file(s), {human_bytes(report.bytes)}, "
             f"for {counted(m.id for m in report.models)}")
    if report.layout == "tar":
        env.note("a plain tar: model weights do not compress; `zoofind import` on the other machine checks every file")
    elif report.copied and report.linked:
        env.note(f"{report.linked} file(s) are hard links to the cache files, "
                 f"{report.copied} copies (another file system)")
    elif report.linked:
        env.note("the files are hard links to the cache files (no extra disk space); "
                 "copy the folder to move it, do not edit it in place")
    else:
        env.note("the files are copies (hard links were not possible here, or --copy)")


def render_import(env: Environment, fmt: str, report: ImportReport) -> None:
    head = {"command": "import", "bundle": report.bundle, "layout": report.layout, "bundle_version": BUNDLE_VERSION,
            "exit_code": report.exit_code, "placed_bytes": report.placed_bytes, "present": report.present}
    _records(env, fmt, head, report.models)
    for m in report.models:
        _import_notes(env, m)


def _import_notes(env: Environment, m: BundledModel) -> None:
    if not m.ok:
        message = m.error or "failed"
        env.error(Described(message if m.id in message else f"{m.id}: {message}", m.hint, m.exit_code))
        return
    count: dict[str, int] = {}
    for f in m.files:
        count[f.status] = count.get(f.status, 0) + 1
    placed = [f for f in m.files if f.status in ("placed", "replaced")]
    name = m.id + ("@" + m.commit[:12] if m.commit else "")
    if placed:
        extra = [f"{count[s]} {label}" for s, label in (("replaced", "replacing damaged ones"),
                                                        ("present", "already in place"),
                                                        ("verified", "already in place, re-hashed")) if count.get(s)]
        env.note(f"{name}: placed {len(placed)} file(s), {human_bytes(sum(f.size for f in placed))}"
                 + (f" ({'; '.join(extra)})" if extra else ""))
    elif count.get("verified"):
        env.note(f"{name}: already in place ({count['verified']} file(s) re-hashed: all good)")
    else:
        env.note(f"{name}: already in place ({len(m.files)} file(s), sizes checked; --verify-existing re-hashes them)")
    for note in m.notes:
        env.note(note)
