"""`zoofind search`."""

from typing import Annotated, List, Optional

import typer

from .common import FormatOpt, JsonOpt, OfflineOpt, TimeoutOpt, env, reporting

EPILOG = """Examples:

  zoofind search "protein language model"

  zoofind search --task optical-flow --source torchvision

  zoofind search resnet --format ids | head -3

  zoofind search "bird vocalization" --json | jq '.results[0].id'
"""


def search(
    query: Annotated[Optional[str], typer.Argument(help="Words to look for (typos are tolerated). May be empty when a filter is given.")] = None,
    source: Annotated[Optional[List[str]], typer.Option("--source", "-s", help="Only this source (repeatable): catalog, hf, torchvision, tfhub, kaggle.")] = None,
    task: Annotated[Optional[str], typer.Option("--task", "-t", help="Task, e.g. image-classification, object-detection, fill-mask, optical-flow.")] = None,
    domain: Annotated[Optional[str], typer.Option("--domain", "-d", help="Science domain, e.g. protein, genomics, earth observation.")] = None,
    framework: Annotated[Optional[str], typer.Option("--framework", help="pytorch, tensorflow, jax, onnx, ... or a library such as transformers.")] = None,
    license: Annotated[Optional[str], typer.Option("--license", help="Licence id or its prefix, e.g. mit, apache, cc-by.")] = None,
    kind: Annotated[Optional[str], typer.Option("--kind", help="model or resource.")] = None,
    sort: Annotated[str, typer.Option("--sort", help="relevance, downloads, likes, updated, params or size.")] = "relevance",
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
        from ..output import render_search
        from ..search import offline_requested
        from ..search import search as run_search
        from ..sources import SearchQuery

        q = SearchQuery(
            text=query or "", sources=tuple(dict.fromkeys(source or ())), task=task, domain=domain,
            framework=framework, license=license, kind=kind, sort=sort, limit=limit,
            offline=offline_requested(offline), timeout=timeout, refresh=refresh,
        )
        form = e.pick_format(fmt, as_json)
        with e.status(_spinner_text(q) if e.stderr_isatty else ""):
            result = run_search(q)
        render_search(e, form, result)
        if result.all_failed:
            from ..errors import SourceError

            failures = "; ".join(f"{r.name}: {r.message}" for r in result.sources if r.status in ("error", "timeout"))
            raise SourceError(f"every requested source failed ({failures})", hint="retry, raise --timeout, or use --offline")


def _spinner_text(q) -> str:
    if (not q.sources or "torchvision" in q.sources) and not q.offline:
        from ..sources.torchvision import registry_read_pending

        version = registry_read_pending()
        if version:
            return f"reading the registry of torchvision {version} (once; takes seconds)…"
    return "searching…"


def register(app: typer.Typer) -> None:
    app.command(epilog=EPILOG)(search)
