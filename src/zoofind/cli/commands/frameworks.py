"""`zoofind list-frameworks`."""

from typing import Annotated

import typer

from ..common import FormatOpt, JsonOpt, env, epilog, reporting


def list_frameworks(
    installed: Annotated[bool, typer.Option("--installed", help="Only what is installed in this Python.")] = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Frameworks and model libraries: pip packages, installed version, catalog models that need each."""
    e = env()
    with reporting(e):
        # lazy: the catalog and the renderer: off --help start-up, which imports every command's module
        from ... import catalog
        from ...catalog.frameworks import framework_rows
        from ..render.listing import render_frameworks

        rows = framework_rows(catalog.load().all_records(), installed_only=installed)
        render_frameworks(e, e.pick_format(fmt, as_json), rows)
        if not rows:
            e.note("none of the frameworks or libraries zoofind knows is installed in this Python")


def register(app: typer.Typer) -> None:
    app.command("list-frameworks", epilog=epilog(
        ["zoofind list-frameworks --installed", "zoofind list-frameworks --json | jq -r '.frameworks[].key'"],
        "\"catalog models\" counts the catalog's models that need each; 0 marks one zoofind knows "
        "(from hub tags) that no catalog model needs.",
    ))(list_frameworks)
