"""`zoofind sources` (filled in by the live-sources work)."""

import typer


def register(app: typer.Typer) -> None:
    return None
