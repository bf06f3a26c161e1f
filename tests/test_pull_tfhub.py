"""`zoofind pull tfhub:...` against a local tfhub.dev (tests/servers/tfhub_server.py): the archive behind its
two redirects, checked whole, extracted safely into the folder tensorflow_hub's resolver looks for."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest

from servers.tfhub_server import TfhubServer, saved_model_archive

HANDLE = "google/yamnet/1"


@pytest.fixture
def tfhub(monkeypatch: pytest.MonkeyPatch):
    with TfhubServer() as srv:
        monkeypatch.setenv("ZOOFIND_TFHUB_ENDPOINT", srv.url)
        monkeypatch.setenv("TFHUB_CACHE_DIR", str(Path(os.environ["HOME"]) / "tfhub-cache"))
        yield srv


def module_dir() -> Path:
    # tensorflow_hub: sha1 of the handle URL hub.load is given, whatever host served the bytes.
    return Path(os.environ["TFHUB_CACHE_DIR"]) / hashlib.sha1(f"https://tfhub.dev/{HANDLE}".encode()).hexdigest()


def members(archive: bytes) -> set[str]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {m.name.removeprefix("./") for m in tar.getmembers() if m.isfile()}


def test_pull_extracts_the_archive_where_tensorflow_hub_looks(tfhub, cli) -> None:
    archive = tfhub.add_model(HANDLE)
    ran = cli("pull", f"tfhub:{HANDLE}")
    assert ran.code == 0, ran.stderr
    assert ran.stdout == f"tfhub:{HANDLE}\t{module_dir()}\n"
    files = {p.relative_to(module_dir()).as_posix() for p in module_dir().rglob("*") if p.is_file()}
    assert files == members(archive) and "saved_model.pb" in files
    descriptor = module_dir().with_name(module_dir().name + ".descriptor.txt").read_text()
    assert descriptor.startswith(f"Module: https://tfhub.dev/{HANDLE}\n")
    # Nothing else is left beside it: no archive, no temporary folder, no partial.
    assert sorted(p.name for p in module_dir().parent.iterdir()) == sorted(
        [module_dir().name, module_dir().name + ".descriptor.txt"])
    before = len(tfhub.entries)
    offline = cli("pull", f"tfhub:{HANDLE}", "--offline")
    assert offline.code == 0 and offline.stdout == ran.stdout
    assert len(tfhub.entries) == before


def test_without_tfhub_cache_dir_a_persistent_folder_is_used_and_the_export_line_printed(tfhub, cli, monkeypatch) -> None:
    monkeypatch.delenv("TFHUB_CACHE_DIR")
    tfhub.add_model(HANDLE)
    ran = cli("pull", f"tfhub:{HANDLE}")
    assert ran.code == 0, ran.stderr
    folder = Path(ran.stdout.split("\t")[1].strip()).parent
    assert folder == Path(os.environ["XDG_CACHE_HOME"]) / "tfhub_modules"
    assert f"export TFHUB_CACHE_DIR={folder}" in ran.stderr


@pytest.mark.parametrize("variant", ["bad_crc", "truncated"])
def test_a_damaged_archive_installs_nothing(tfhub, cli, variant: str) -> None:
    tfhub.add_model(HANDLE, variant)
    ran = cli("pull", f"tfhub:{HANDLE}")
    assert ran.code == 1 and "damaged" in ran.stderr, ran.stderr
    assert not module_dir().exists()
    assert [p.name for p in module_dir().parent.iterdir() if not p.name.startswith(".zoofind-lock-")] == []


@pytest.mark.parametrize("variant", ["dotdot", "absolute", "symlink", "abs_symlink", "hardlink", "device", "fifo"])
def test_a_hostile_archive_is_refused_and_nothing_escapes(tfhub, cli, variant: str, tmp_path: Path) -> None:
    tfhub.add_model(HANDLE, variant)
    ran = cli("pull", f"tfhub:{HANDLE}")
    assert ran.code == 1 and "refused" in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stderr
    assert not module_dir().exists()
    assert not Path("/tmp/zoofind-escaped.txt").exists()
    assert not list(Path(os.environ["HOME"]).rglob("escaped.txt"))
    assert not list(Path(os.environ["HOME"]).rglob("outside.txt"))


def test_an_interrupted_archive_download_resumes(tfhub, cli) -> None:
    archive = tfhub.add_model(HANDLE, archive=saved_model_archive("good") + b"")
    tfhub.drop_after, tfhub.drop_times = len(archive) // 2, 1
    ran = cli("pull", f"tfhub:{HANDLE}")
    assert ran.code == 0, ran.stderr
    assert tfhub.drops == 1
    assert tfhub.bytes_sent <= len(archive) * 1.5
    assert (module_dir() / "saved_model.pb").exists()


def test_three_processes_pulling_one_module_fetch_it_once_and_all_succeed(tfhub) -> None:
    import subprocess
    import sys

    archive = tfhub.add_model(HANDLE)
    tfhub.rate_bps = len(archive) * 2  # about half a second each
    script = Path(sys.executable).with_name("zoofind")
    procs = [subprocess.Popen([str(script), "pull", f"tfhub:{HANDLE}", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outs]
    assert tfhub.bytes_sent <= len(archive) * 1.1
    assert (module_dir() / "saved_model.pb").exists()


def test_a_second_install_of_one_verified_archive_finds_the_module_in_place(tmp_path) -> None:
    # Two pulls wait for one download, then both install the archive it left (outside the
    # engine's lock): the second must find the module there, not fail on the archive the
    # first already removed (seen as exit 1 of one of three concurrent pulls under load).
    from zoofind.hubs.tfhub import module_cache as tfhub

    archive, target = tmp_path / "m.tar.gz", tmp_path / "cache" / tfhub.module_name(HANDLE)
    archive.write_bytes(saved_model_archive("good"))
    tfhub.install(archive, target, HANDLE, is_archive=True, name="m.tar.gz", sha256="0" * 64)
    assert (target / "saved_model.pb").exists() and not archive.exists()
    before = {p: p.stat().st_mtime_ns for p in target.rglob("*")}
    tfhub.install(archive, target, HANDLE, is_archive=True, name="m.tar.gz", sha256="0" * 64)
    assert {p: p.stat().st_mtime_ns for p in target.rglob("*")} == before
