"""Pulling a model that is already whole in the Hugging Face cache writes nothing and takes no
lock: the links, refs and lock folder stay as they were, byte for byte and inode for inode."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

REPO = "zoofind-lab/cached-twice"
FILES = {
    "config.json": b'{"model_type": "esm"}\n',
    "tokenizer/vocab.txt": b"<cls>\n<pad>\nA\n",
    "model.safetensors": hashlib.shake_256(b"w").digest(200_000),
}


@pytest.fixture
def hub(hf_hub):
    hf_hub.add_repo(REPO, FILES, library_name="transformers")
    return hf_hub


def repo_folder() -> Path:
    return Path(os.environ["HF_HOME"]) / "hub" / ("models--" + REPO.replace("/", "--"))


def state() -> dict[str, tuple[int, int, str]]:
    """Every entry of the repo's folder and its lock folder: (inode, mtime in ns, link target or '')."""
    folders = [repo_folder(), repo_folder().parent / ".locks" / repo_folder().name]
    out = {}
    for top in folders:
        for p in [top, *top.rglob("*")] if top.exists() else []:
            st = p.lstat()
            out[str(p)] = (st.st_ino, st.st_mtime_ns, os.readlink(p) if p.is_symlink() else "")
    return out


def loaded_modules(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("revision", [None, "main"])
def test_an_offline_pull_of_a_cached_model_writes_nothing_and_takes_no_lock(hub, cli, revision) -> None:
    assert cli("pull", "--quiet", f"hf:{REPO}").code == 0
    before = state()
    assert any(p.endswith("/refs/main") for p in before)
    target = f"hf:{REPO}@{revision}" if revision else f"hf:{REPO}"
    ran = cli("pull", target, "--offline", "--json", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert ran.code == 0, ran.stderr
    assert '"status": "cached"' in ran.stdout
    assert state() == before
    assert "filelock" not in loaded_modules(ran.stderr)  # no lease, not even its import (~20 ms)


def test_an_online_pull_of_a_cached_model_rewrites_no_link_or_ref(hub, cli) -> None:
    assert cli("pull", "--quiet", f"hf:{REPO}").code == 0
    before = state()
    ran = cli("pull", "--quiet", f"hf:{REPO}")
    assert ran.code == 0 and "already in the cache" in ran.stderr, ran.stderr
    assert state() == before


def test_a_link_that_is_not_the_hub_layout_is_still_replaced(hub, cli) -> None:
    # A snapshot entry that is a plain copy (not the link huggingface_hub makes) is put right.
    assert cli("pull", "--quiet", f"hf:{REPO}").code == 0
    snap = next((repo_folder() / "snapshots").iterdir())
    entry = snap / "config.json"
    data = entry.read_bytes()
    entry.unlink()
    entry.write_bytes(data)
    ran = cli("pull", "--quiet", f"hf:{REPO}")
    assert ran.code == 0, ran.stderr
    assert entry.is_symlink() and Path(os.readlink(entry)).parts[:2] == ("..", "..")
    assert entry.read_bytes() == data


def test_a_ref_behind_a_cached_snapshot_is_still_moved(hub, cli) -> None:
    # Every link of the new commit is in place already (pulled by its sha), refs/main still names
    # the old commit: the links are left alone and the ref is written, under the lease.
    assert cli("pull", "--quiet", f"hf:{REPO}").code == 0
    old = (repo_folder() / "refs" / "main").read_text()
    new = hub.add_repo(REPO, {"README.md": b"# new\n"})
    assert cli("pull", "--quiet", f"hf:{REPO}@{new}").code == 0
    assert (repo_folder() / "refs" / "main").read_text() == old  # a commit writes no ref
    ran = cli("pull", "--quiet", f"hf:{REPO}")
    assert ran.code == 0 and "already in the cache" in ran.stderr, ran.stderr
    assert (repo_folder() / "refs" / "main").read_text() == new
