"""`zoofind cite`."""

from pathlib import Path
from typing import Annotated

import typer

from ... import cite as run_cite
from ... import methods_paragraph
from ...core.errors import UsageError
from ..common import OfflineOpt, TimeoutOpt, env, epilog, ids_from, reporting
from ..completers import complete_id

EPILOG = epilog([
    "zoofind cite hf:facebook/esm2_t6_8M_UR50D torchvision:resnet50",
    "zoofind cite --lock study.lock > references.bib",
    "zoofind cite --lock study.lock --format csl-json > references.json   # pandoc, Zotero",
    "zoofind cite cellpose --format text",
    "zoofind cite --lock study.lock --with-software   # the libraries too: PyTorch's paper, Transformers', ...",
    "zoofind cite --lock study.lock --methods     # a paragraph for the methods section, with \\cite{} keys",
], "Facts come from the catalog (checked papers, with DOI or arXiv id) first, then the BibTeX of the model's own "
   "card (a Hugging Face README.md, from the hub cache when pulled); a model with no known paper is cited as "
   "itself: its address, exact revision and access date, never an invented author or year (a note on "
   "stderr says so). Works with the same work cited for two models appear once. Keys are stable across runs.")


def _check_format(value: str) -> str:
    # lazy: the renderer: off --help start-up, which imports every command's module
    from ..render.cite import CITE_FORMATS

    if value not in CITE_FORMATS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(CITE_FORMATS)}")
    return value


def cite(
    ids: Annotated[list[str] | None,
                   typer.Argument(metavar="[ID...]",
                                  help="Model ids as pull takes them (hf:owner/name@REV pins the revision cited), "
                                       "or - to read ids from stdin (first column).",
                                  autocompletion=complete_id, show_default=False)] = None,
    lock: Annotated[Path | None,
                    typer.Option("--lock", "-l", metavar="FILE",
                                 help="Cite every model a lock file (zoofind lock) records, at the revision it "
                                      "pins.")] = None,
    fmt: Annotated[str,
                   typer.Option("--format", "-f", metavar="FORMAT", callback=_check_format,
                                help="bibtex (default), csl-json, text (one reference a line) or json "
                                     "(zoofind's envelope: which keys cite which id, and the notes).")] = "bibtex",
    related: Annotated[bool,
                       typer.Option("--related",
                                    help="Also write the papers a model's card only links (the Hub's arXiv tags are "
                                         "often the training data's papers, not the model's); JSON always lists "
                                         "them apart.")] = False,
    methods: Annotated[bool,
                       typer.Option("--methods",
                                    help="With --lock: print a methods paragraph instead (each model, its exact "
                                         "revision and main file's SHA-256, cited: \\cite{} keys for bibtex, "
                                         "pandoc's @key citations for csl-json, author and year for text).")] = False,
    with_software: Annotated[bool,
                             typer.Option("--with-software",
                                          help="Also cite the libraries the models load with (PyTorch, Transformers, "
                                               "TensorFlow, Keras, torchvision, ...), each as its owners ask (their "
                                               "paper, else a @software entry), with the version installed here; a "
                                               "lock records no library versions: 'version not recorded'.")] = False,
    offline: OfflineOpt = False,
    timeout: TimeoutOpt = 5.0,
) -> None:
    """The references to cite for the models a study used: BibTeX, CSL-JSON or text."""
    e = env()
    with reporting(e):
        # lazy: the renderer: off --help start-up, which imports every command's module
        from ..render.cite import render_cite, render_methods

        wanted = ids_from(ids or [])
        if methods:
            if lock is None or wanted:
                raise UsageError("--methods describes the models of a lock file: give --lock FILE and no ids",
                                 hint="zoofind cite --lock study.lock --methods")

            for_lock = run_cite(lock=lock, offline=offline, timeout=timeout, with_tool=True,
                                with_software=with_software)
            render_methods(e, methods_paragraph(lock, for_lock, fmt=fmt, offline=offline), for_lock)
            return
        if not wanted and lock is None:
            raise UsageError("give ids to cite, - to read them from stdin, or --lock FILE",
                             hint="zoofind cite hf:facebook/esm2_t6_8M_UR50D, or zoofind cite --lock study.lock")
        report = run_cite(wanted, lock=lock, offline=offline, timeout=timeout, with_software=with_software)
        render_cite(e, fmt, report, related=related)


def register(app: typer.Typer) -> None:
    app.command(epilog=EPILOG)(cite)
