"""`zoofind info`: one entry in full, with what it needs and whether that is installed."""

from __future__ import annotations

from dataclasses import dataclass

from .. import catalog as catalog_mod
from ..catalog.frameworks import check_requirements, install_command, requirements
from ..core.context import Context
from ..core.errors import NotFoundError, UsageError, describe
from ..hubs import registry
from ..models.cite import Reference
from ..models.pull import Requirement
from ..models.records import Record
from .resolve import resolve_id


@dataclass(frozen=True)
class InfoResult:
    record: Record
    requirements: tuple[Requirement, ...]
    install: str | None  # the pip command for what is missing, None when all is installed
    warnings: tuple[str, ...] = ()
    #: the reference ``zoofind cite`` gives from the catalog's ``paper`` (no request), when one is published
    citation: Reference | None = None


def lookup(raw_id: str, ctx: Context) -> tuple[Record, tuple[str, ...]]:
    """Everything known about one id: the catalog entry merged with its source's answer.

    A networked source is not asked offline. Returns the record and warnings (a live
    check that failed while the catalog answered).
    """
    pid = resolve_id(raw_id, ctx)
    base = catalog_mod.load(ctx).get(str(pid))
    spec = registry.spec(pid.source)
    live: Record | None = None
    warnings: tuple[str, ...] = ()
    if pid.source != catalog_mod.SOURCE and not (ctx.offline and spec.network):
        try:
            live = registry.get(pid.source).info(pid, ctx)
        except NotFoundError as exc:
            if base is None:
                raise
            # The entry may describe a repo that was deleted or renamed: say so, and still show it.
            warnings = (f"{pid.source} says {pid} does not exist ({describe(exc).message}); "
                        f"showing the catalog entry, which may be out of date",)
        except Exception as exc:  # noqa: BLE001 - the catalog answer is still worth showing
            if base is None:
                raise
            warnings = (f"{pid.source} did not answer ({describe(exc).message}); showing the catalog entry",)
    rec = live.merged_with(base) if (live and base) else (live or base)
    if rec is None:
        hint = "search for it with `zoofind search`"
        if ctx.offline and spec.network:
            hint = f"it is not in the bundled catalog; drop --offline to ask {spec.title}"
        raise NotFoundError(f"no entry {str(pid)!r}", hint=hint)
    return rec, warnings


def info(raw_id: str, ctx: Context | None = None) -> InfoResult:
    ctx = ctx or Context.from_env()
    if not ctx.timeout > 0:
        raise UsageError("--timeout must be positive")
    record, warnings = lookup(raw_id, ctx)
    # The first library is the one the model loads with; the others are alternatives
    # (ESM-2 loads with transformers or fair-esm), not extra needs.
    reqs = check_requirements(requirements(record.libraries[:1], record.frameworks, record.packages))
    paper = record.extra.get("paper")
    from .cite import from_paper  # lazy: pull of a model the catalog lacks asks lookup(), never a citation

    citation = None
    if isinstance(paper, dict) and "none" not in paper:
        citation = from_paper(paper, cited_for=record.id, record=record)
    return InfoResult(record, reqs, install_command(reqs), warnings, citation)
