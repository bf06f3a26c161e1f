"""What each option and argument completes with (Typer's ``autocompletion=``): each gets the
word typed so far, and Typer keeps the values that start with it. Cheap to import (every
command's options name them); what a completer needs is imported when it runs.
"""

from __future__ import annotations

#: The shells whose completion scripts `zoofind completion` prints.
SHELLS = ("bash", "zsh", "fish")

_FORMAT_HELP = {
    "table": "aligned columns",
    "json": "one JSON document",
    "jsonl": "one JSON record a line",
    "tsv": "tab-separated, no header",
    "ids": "one id a line",
}


# --- completers: each gets the word typed so far; Typer keeps the values that start with it.


def complete_id(incomplete: str) -> list[tuple[str, str]]:
    """Ids from the bundled catalog (and ZOOFIND_CATALOG_DIR's) starting with ``incomplete``,
    with their names; ``torchvision:<model>`` (its DEFAULT weights) too. Never the network."""
    try:
        # lazy: the catalog only for an id completion: off --help, --version and other completions
        from .. import catalog

        cat = catalog.load()
        out = {}
        for doc, rid in enumerate(cat.ids):
            if rid.startswith(incomplete):
                out[rid] = cat.facet(doc)[5]
        for alias, target in cat.aliases.items():
            if alias.startswith(incomplete) and alias not in out:
                out[alias] = "DEFAULT weights: " + target.partition(":")[2]
    except Exception:  # noqa: BLE001 - a broken catalog must not print into the user's shell
        return []
    # lazy: core.safetext: off --version start-up
    from ..core.safetext import clean

    # Names from a user catalog reach the shell's completion menu: no escape codes there either.
    return [(clean(rid), " ".join(clean(str(name or "")).split())) for rid, name in sorted(out.items())]


def complete_format(incomplete: str) -> list[tuple[str, str]]:
    """The output formats (``--format``)."""
    # lazy: render.output: off --version start-up
    from .render.output import FORMATS

    return [(f, _FORMAT_HELP.get(f, "")) for f in FORMATS if f.startswith(incomplete)]


def complete_source(incomplete: str) -> list[tuple[str, str]]:
    """Every registered source, plugins included (``--source``)."""
    # lazy: the hub registry only for a --source completion: off --help, --version and other completions
    from ..hubs import registry

    return [(spec.name, spec.title) for spec in registry.specs() if spec.name.startswith(incomplete)]


def complete_sort(incomplete: str) -> list[str]:
    """The sort keys (``--sort``)."""
    # lazy: ops.find only for a --sort completion: off --help and every other start-up
    from ..ops.find import SORTS

    return [key for key in SORTS if key.startswith(incomplete)]


def complete_kind(incomplete: str) -> list[str]:
    """What a search asks for (``search --kind``): model, resource, dataset."""
    # lazy: models.records only for a --kind completion: off --help start-up
    from ..models.records import KINDS

    return [k for k in KINDS if k.startswith(incomplete)]


def complete_cached_kind(incomplete: str) -> list[str]:
    """What a cache entry is (``cache ls --kind``): model or dataset."""
    # lazy: ops.inventory only for a cache ls --kind completion: off --help start-up
    from ..ops.inventory import CACHED_KINDS

    return [k for k in CACHED_KINDS if k.startswith(incomplete)]


def complete_size_category(incomplete: str) -> list[str]:
    """A dataset's size category, as the Hugging Face Hub names it (``search --size-category``)."""
    # lazy: models.records only for a --size-category completion: off --help start-up
    from ..models.records import SIZE_CATEGORIES

    return [c for c in SIZE_CATEGORIES if c.startswith(incomplete)]


def complete_shell(incomplete: str) -> list[str]:
    return [s for s in SHELLS if s.startswith(incomplete)]
