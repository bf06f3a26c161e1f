"""`zoofind sources`."""

from typing import Annotated

import typer

from ... import list_sources
from ..common import FormatOpt, JsonOpt, OfflineOpt, env, epilog, reporting, timeout_option


def sources(
    offline: OfflineOpt = False,
    timeout: Annotated[float, timeout_option("Seconds to wait for each reachability probe.")] = 3.0,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Each source: its endpoint, whether it answers now, credentials present (yes/no, never the value), cache age."""
    e = env()
    with reporting(e):
        # lazy: the renderer: off --help start-up, which imports every command's module
        from ..render.listing import render_sources

        with e.status("probing sources…"):
            rows = list_sources(offline=offline, timeout=timeout)
        # lazy: the hub registry: off --help start-up, which imports every command's module
        from ...hubs import registry

        for where, why in registry.problems:
            e.warn(f"plugin {where} could not be loaded: {why}")
        render_sources(e, e.pick_format(fmt, as_json), rows)


def register(app: typer.Typer) -> None:
    closing = "Every registered source, plugins included; --offline lists them without probing."
    app.command(epilog=epilog(["zoofind sources", "zoofind sources --offline --json"], closing))(sources)
