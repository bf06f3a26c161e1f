"""`zoofind cache`: what the framework caches hold."""

from typing import TYPE_CHECKING, Annotated

import typer

from ... import cache_path, cached, plan_cache_prune, plan_cache_removal, remove_from_cache, verify_cache
from ...core.errors import UsageError
from ...core.units import human_bytes
from ..common import FormatOpt, JsonOpt, RetiredDryRunOpt, env, epilog, ids_from, reporting
from ..completers import complete_cached_kind, complete_id

if TYPE_CHECKING:
    from ...models.cache import Removal
    from ..render.output import Environment

EPILOG = epilog([
    "zoofind cache ls",
    "zoofind cache ls --source hf --larger-than 1G --sort used",
    "zoofind cache ls --kind dataset",
    "zoofind cache ls --unused-for 30d --format ids",
    "zoofind cache verify hf:facebook/esm2_t6_8M_UR50D",
    "zoofind cache rm hf:owner/name@old-branch --dry-run",
    "zoofind cache ls --tier local --unused-for 90d --format ids | zoofind cache rm - --yes",
    "zoofind cache prune --max-size 50G --dry-run",
    'cd "$(zoofind cache path hf:facebook/esm2_t6_8M_UR50D)"',
], "Ids are read as info and pull read them (a bare name the catalog knows once, such as resnet18, too).")


cache_app = typer.Typer(name="cache",
                        help="What the framework caches hold (Hugging Face, torch.hub, TF Hub, kagglehub), "
                             "yours and the shared tier's (ZOOFIND_SHARED_CACHE).",
                        no_args_is_help=True, epilog=EPILOG)


@cache_app.command("ls", epilog=EPILOG)
def ls(
    source: Annotated[str | None,
                      typer.Option("--source", "-s", help="Only this cache: hf, torchvision, tfhub or kaggle.")] = None,
    sort: Annotated[str,
                    typer.Option("--sort",
                                 help="size (largest first), used (least recently used first) or id.")] = "size",
    larger_than: Annotated[str | None,
                           typer.Option("--larger-than", metavar="SIZE",
                                        help="Only models bigger than this: 500M, 1G (decimal) or 512MiB, 1GiB "
                                             "(binary).")] = None,
    unused_for: Annotated[str | None,
                          typer.Option("--unused-for", metavar="AGE",
                                       help="Only models not used for this long: 30d, 12h, 2w.")] = None,
    tier: Annotated[str | None,
                    typer.Option("--tier", help="Only this tier: local (your caches) or shared (ZOOFIND_SHARED_CACHE, "
                                                "read-only).")] = None,
    kind: Annotated[str | None, typer.Option("--kind", autocompletion=complete_cached_kind,
                                             help="Only models or only datasets: model or dataset.")] = None,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    # The help's paragraphs are single lines (Typer's rich help keeps a docstring's line breaks), so they are
    # joined here rather than wrapped.
    ("Every cached model: id, revisions, size on disk, last use, path, tier.\n\n"
     "Size counts each file once (a blob several revisions, or several repos in huggingface_hub's Xet store, share: "
     "once in the total) and only the tier's own bytes: a local file that is a link into the shared tier counts in "
     'linked_size (the table\'s "+... shared"), not in size.')
    e = env()
    with reporting(e):
        # lazy: ops.inventory and the renderer: off --help start-up, which imports every command's module
        from ...ops.inventory import select
        from ..render.cache import render_cache_ls

        models = select(cached(source=source, sort=sort, larger_than=larger_than, unused_for=unused_for), sort=sort,
                        tier=tier, kind=kind)
        filtered = any(x is not None for x in (source, larger_than, unused_for, tier, kind))
        render_cache_ls(e, e.pick_format(fmt, as_json), models, filtered=filtered)


@cache_app.command("verify", epilog=EPILOG)
def verify(
    ids: Annotated[list[str] | None,
                   typer.Argument(metavar="[ID...]", help="Only these models (default: every cached model).",
                                  autocompletion=complete_id)] = None,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    ("Re-hash cached files against the hashes that name them; each bad or missing file on stdout, exit 1 if any.\n\n"
     "Without ids: every local model, and the shared-tier files it links to. An id names its local entry, else the "
     "shared tier's.")
    e = env()
    with reporting(e):
        # lazy: the renderer: off --help start-up, which imports every command's module
        from ..render.cache import render_cache_verify

        with e.status("hashing…"):
            results = verify_cache(ids or ())
        render_cache_verify(e, e.pick_format(fmt, as_json), results)
        if not all(r.ok for r in results):
            raise typer.Exit(1)


@cache_app.command("rm", epilog=EPILOG)
def rm(
    ids: Annotated[list[str],
                   typer.Argument(metavar="ID[@REV]...",
                                  help="Models to remove (a Hub revision with @REV), or - to read ids from stdin.",
                                  autocompletion=complete_id)],
    dry_run: Annotated[bool,
                       typer.Option("--dry-run",
                                    help="Show what would be removed and how much it frees; remove nothing.")] = False,
    retired_n: RetiredDryRunOpt = False,
    yes: Annotated[bool,
                   typer.Option("--yes", "-y",
                                help="Remove without asking (needed when stdin is not a terminal).")] = False,
) -> None:
    ("Remove cached models or single Hub revisions; a blob another cached revision or repo still links to is kept."
     "\n\n"
     "Only your own caches: a model only the shared tier holds is refused (exit 4). A model a pull is writing is "
     "skipped with the pull's host and pid (exit 1).")
    e = env()
    with reporting(e):
        _carry_out(e, plan_cache_removal(ids_from(ids)), dry_run=dry_run, yes=yes, from_stdin="-" in ids)


@cache_app.command("prune", epilog=EPILOG)
def prune(
    max_size: Annotated[str | None,
                        typer.Option("--max-size", metavar="SIZE",
                                     help="Evict least recently used models until the caches fit: 50G, "
                                          "500GiB.")] = None,
    unused_for: Annotated[str | None,
                          typer.Option("--unused-for", metavar="AGE",
                                       help="Evict models not used for this long: 30d, 12w.")] = None,
    dry_run: Annotated[bool,
                       typer.Option("--dry-run",
                                    help="Show what would be evicted and how much it frees; remove nothing.")] = False,
    retired_n: RetiredDryRunOpt = False,
    yes: Annotated[bool,
                   typer.Option("--yes", "-y",
                                help="Evict without asking (needed when stdin is not a terminal).")] = False,
) -> None:
    """Evict least recently used models to a size budget and/or an age; partial downloads older than a day go too.

    The budget counts your own caches only; the shared tier is never counted or touched.
    """
    e = env()
    with reporting(e):
        _carry_out(e, plan_cache_prune(max_size=max_size, unused_for=unused_for), dry_run=dry_run, yes=yes,
                   from_stdin=False)


def _carry_out(e: "Environment", plan: "list[Removal]", *, dry_run: bool, yes: bool, from_stdin: bool) -> None:
    """Say what goes, then (asked on a terminal, else only with --yes) remove it; exit 1 if a pull kept any of it."""
    # lazy: the renderer: off --help start-up, which imports every command's module
    from ..render.cache import render_removal_plan, render_removed

    total = sum(r.bytes for r in plan)
    render_removal_plan(e, plan, dry_run=dry_run)
    if dry_run or not plan:
        return
    if not yes:
        if not e.stdin_isatty or from_stdin:
            raise UsageError("this asks before removing, and stdin is not a terminal to ask on",
                             hint="add --yes (or --dry-run to see what would go)")
        if not typer.confirm(f"Remove {len(plan)} item(s), freeing {human_bytes(total)}?", default=False, err=True):
            e.note("nothing removed")
            raise typer.Exit(1)
    removed = remove_from_cache(plan)
    render_removed(e, removed)
    if removed.skipped:
        raise typer.Exit(1)


@cache_app.command("path", epilog=EPILOG)
def path(
    model_id: Annotated[str,
                        typer.Argument(metavar="ID",
                                       help="hf:owner/name (or hf:owner/name@REV), torchvision:..., tfhub:..., "
                                            "kaggle:...",
                                       autocompletion=complete_id)],
) -> None:
    ("The path a framework loads for a cached model (a snapshot folder, a checkpoint file, a module folder); your "
     "own copy before the shared tier's.")
    e = env()
    with reporting(e):
        e.write(cache_path(model_id) + "\n")


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app)
