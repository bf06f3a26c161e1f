"""`zoofind export` and `zoofind import`: bundles for machines without network."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from ...core.errors import UsageError
from ..common import FormatOpt, JsonOpt, QuietOpt, env, epilog, reporting

EXPORT_EPILOG = epilog([
    "zoofind export --lock zoofind.lock models.tar",
    "zoofind export --lock zoofind.lock models/",
    "zoofind export --lock zoofind.lock - | ssh node zoofind import -",
    "AWS_ENDPOINT_URL_S3=http://store:8333 zoofind export --lock study.lock s3://lab-models/zoo/",
], "Each locked file is taken from this machine's caches (the Hugging Face cache, torch.hub's checkpoints, "
   "TF Hub's modules, then ZOOFIND_SHARED_CACHE) and checked against the lock's size and sha256 while it is "
   "copied; one that is missing or differs fails the export (exit 1) and `zoofind pull --lock FILE` fetches "
   "it. OUT.tar: a plain tar (model weights do not compress). OUT/: a folder of hard links to the cache "
   "files where the file system allows (no extra disk space), else copies. -: the tar on stdout, for a pipe. "
   "s3://BUCKET/PREFIX/ (or .../NAME.toml): objects in an S3-compatible store (needs zoofind[s3]; keys and "
   "endpoint the AWS way: AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL_S3): PREFIX/blobs/<sha256>, blobs "
   "already there with the same size not sent again, large ones in parallel parts, the manifest last. "
   "stdout otherwise: id<TAB>path of each model as read here.")

IMPORT_EPILOG = epilog([
    "zoofind import models.tar",
    "zoofind import models/ --verify-existing",
    "ssh gateway cat models.tar | zoofind import -",
    "AWS_ENDPOINT_URL_S3=http://store:8333 zoofind import s3://lab-models/zoo/",
    "HF_HOME=/scratch/hf TORCH_HOME=/scratch/torch TFHUB_CACHE_DIR=/scratch/tfhub zoofind import models.tar",
], "Every file goes where its framework looks on this machine (HF_HOME or HF_HUB_CACHE, TORCH_HOME, "
   "TFHUB_CACHE_DIR), checked (size, sha256) before it appears there, and no request is ever sent. Files "
   "already in place with the right size are skipped (--verify-existing re-hashes them); stopped at any "
   "moment (Ctrl-C, kill -9) it leaves nothing half-written where a framework looks, and running it again "
   "finishes. s3://BUCKET/PREFIX/: a bundle published there (needs zoofind[s3]), read with parallel ranged "
   "requests, only the files still needed; denied keys exit 4. Members that are links, devices, paths "
   "outside, or not in the manifest are refused (exit 1). "
   "stdout: id<TAB>path the framework loads.")


def export(
    out: Annotated[str,
                   typer.Argument(metavar="OUT",
                                  help="OUT.tar (a plain tar file), OUT/ (a folder), - (the tar on stdout, for a "
                                       "pipe), or s3://BUCKET/PREFIX/ (objects in an S3-compatible store).")],
    # Path("zoofind.lock") is lockfile.DEFAULT_NAME, not imported: every zoofind start would pay for it.
    lock: Annotated[Path,
                    typer.Option("--lock", "-l", metavar="FILE",
                                 help="The lock file naming the models and their exact files.")] = Path("zoofind.lock"),
    copy: Annotated[bool,
                    typer.Option("--copy",
                                 help="Folder bundles: copy the files even where hard links to the cache are "
                                      "possible.")] = False,
    quiet: QuietOpt = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a lock's files and its manifest as a bundle (a tar or a folder) for a machine without network."""
    e = env()
    to_stdout = out == "-"
    try:
        with reporting(e):
            # lazy: ops.bundle (~100 ms) and the renderers: off --help start-up, which imports every command's module
            from ...ops.bundle import export_bundle
            from ..render.bundle import binary_stdout, render_export
            from ..render.pull import progress_bars

            if to_stdout and (fmt is not None or as_json):
                raise UsageError("with -, stdout carries the bundle itself: there is no room for --format there",
                                 hint="give a file name (bundle.tar) to get the records, or drop --format")
            form = None if to_stdout else e.pick_format(fmt, as_json)
            target = binary_stdout(e) if to_stdout else out
            with progress_bars(e, enabled=not quiet) as progress:
                report = export_bundle(lock, target, copy=copy, progress=progress)
            render_export(e, form, report)
    except typer.Exit as done:
        if to_stdout and done.exit_code:
            e.discard_stdout()  # the unwritten rest of a failed bundle must not reach the pipe at exit
        raise


def import_(
    bundle: Annotated[str,
                      typer.Argument(metavar="BUNDLE",
                                     help="A bundle: BUNDLE.tar, a bundle folder, - (a tar on stdin), or "
                                          "s3://BUCKET/PREFIX/ (published in an S3-compatible store).")],
    verify_existing: Annotated[bool,
                               typer.Option("--verify-existing",
                                            help="Re-hash the files already in place (default: their size is "
                                                 "checked) and replace any that differ.")] = False,
    quiet: QuietOpt = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Place a bundle's files into this machine's framework caches: verified, idempotent, no network."""
    e = env()
    with reporting(e):
        # lazy: ops.bundle (~100 ms) and the renderers: off --help start-up, which imports every command's module
        from ...ops.bundle import import_bundle
        from ..render.bundle import render_import
        from ..render.pull import progress_bars

        form = e.pick_format(fmt, as_json)
        if bundle == "-":
            if e.stdin_isatty:
                raise UsageError("stdin is a terminal; `-` reads a bundle from a pipe",
                                 hint="zoofind export --lock FILE - | ssh node zoofind import -   "
                                      "(or give the bundle's path)")
            source = sys.stdin.buffer
        else:
            source = bundle
        with progress_bars(e, enabled=not quiet) as progress:
            report = import_bundle(source, verify_existing=verify_existing, progress=progress)
        render_import(e, form, report)
        if report.exit_code:
            raise typer.Exit(report.exit_code)


def register(app: typer.Typer) -> None:
    register_export(app)
    register_import(app)


# One each, so that running one builds only its own (cli/app.py builds only the command run).
def register_export(app: typer.Typer) -> None:
    app.command("export", epilog=EXPORT_EPILOG)(export)


def register_import(app: typer.Typer) -> None:
    app.command("import", epilog=IMPORT_EPILOG)(import_)
