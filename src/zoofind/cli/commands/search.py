"""`zoofind search`."""

from dataclasses import replace
from typing import Annotated

import typer

from ... import search as run_search
from ...core.context import Context
from ...core.errors import SourceError
from ..common import FormatOpt, JsonOpt, OfflineOpt, TimeoutOpt, env, epilog, reporting
from ..completers import complete_kind, complete_size_category, complete_sort, complete_source
from ..render.output import render_search

EPILOG = epilog([
    'zoofind search "protein language model"',
    "zoofind search --task optical-flow --source torchvision",
    'zoofind search "protein stability" --kind dataset --size-category "10K<n<100K"',
    "zoofind search resnet --format ids | head -3",
    """zoofind search "bird vocalization" --json | jq '.results[0].id'""",
], "stdout: a table on a terminal; in a pipe one line a result, id<TAB>source<TAB>task<TAB>framework<TAB>name. "
   "-n/--limit sets how many (default 20); stderr says how many match in all.")


def search(
    query: Annotated[str | None,
                     typer.Argument(help="Words to look for (typos are tolerated). "
                                         "May be empty when a filter is given.")] = None,
    source: Annotated[list[str] | None,
                      typer.Option("--source", "-s", autocompletion=complete_source,
                                   help="Only records of this source (repeatable): hf, torchvision, tfhub, kaggle or a "
                                        "plugin's (its live answer plus its entries in the catalog), or catalog (every "
                                        "catalog entry, whatever its id, without the network); `zoofind sources` lists "
                                        "them.")] = None,
    task: Annotated[str | None,
                    typer.Option("--task", "-t",
                                 help="Task, e.g. image-classification, object-detection, fill-mask, "
                                      "optical-flow.")] = None,
    domain: Annotated[str | None,
                      typer.Option("--domain", "-d",
                                   help="Science domain, e.g. protein, genomics, earth observation.")] = None,
    framework: Annotated[str | None,
                         typer.Option("--framework",
                                      help="pytorch, tensorflow, jax, onnx, ... or a library such as "
                                           "transformers.")] = None,
    license: Annotated[str | None,
                       typer.Option("--license", help="Licence id or its prefix, e.g. mit, apache, cc-by.")] = None,
    kind: Annotated[str | None,
                    typer.Option("--kind", autocompletion=complete_kind, help="model, dataset or resource.")] = None,
    size_category: Annotated[str | None,
                             typer.Option("--size-category", autocompletion=complete_size_category,
                                          help="A dataset's size category, as the Hugging Face Hub names it: n<1K, "
                                               "1K<n<10K, 10K<n<100K, 100K<n<1M, ... n>1T (datasets only).")] = None,
    sort: Annotated[str,
                    typer.Option("--sort", autocompletion=complete_sort,
                                 help="relevance, downloads, likes, updated, params or size.")] = "relevance",
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show at most this many results.")] = 20,
    offline: OfflineOpt = False,
    timeout: TimeoutOpt = 5.0,
    refresh: Annotated[bool, typer.Option("--refresh", help="Ignore cached live answers and ask again.")] = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search the catalog and the live model indexes, best match first."""
    e = env()
    with reporting(e):
        form = e.pick_format(fmt, as_json)
        with e.status(_spinner_text(source, offline) if e.stderr_isatty else ""):
            result = run_search(
                query or "", source=source or (), task=task, domain=domain, framework=framework, license=license,
                kind=kind, size_category=size_category, sort=sort, limit=limit, offline=offline, timeout=timeout,
                refresh=refresh,
            )
        if not result.all_failed:
            render_search(e, form, result)
            return
        # What was asked for is the live answer of these sources, and there is none: no rows
        # (the catalog's entries of them are what --offline shows), an error, exit 1; JSON
        # still says how each source answered.
        if form == "json":
            render_search(e, form, replace(result, hits=(), total=0))
        failures = "; ".join(f"{r.name}: {r.message}" for r in result.sources if r.status in ("error", "timeout"))
        held = sum(r.count for r in result.sources if r.origin == "bundled")
        instead = f"use --offline to see the catalog's {held} matching entries" if held else "use --offline"
        raise SourceError(f"every requested source failed ({failures})", hint=f"retry, raise --timeout, or {instead}")


def _spinner_text(sources: list[str] | None, offline: bool) -> str:
    """What the spinner says: "searching…", or the source's own word for a slow first run."""
    # lazy: the hub registry only for a spinner: off search --help and --help start-up
    from ...hubs import registry

    ctx = Context.from_env(offline=offline)
    for spec in registry.specs():
        if sources and spec.name not in sources:
            continue
        pending = getattr(registry.get(spec.name), "slow_start", None) if spec.searches and not spec.network else None
        text = pending(ctx) if pending else None
        if text:
            return text
    return "searching…"


def register(app: typer.Typer) -> None:
    app.command(epilog=EPILOG)(search)
