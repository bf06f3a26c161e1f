"""Large Hub repos: every file of the tree listing, page after page, and a dry run summarized per folder.

The Hub may truncate a large repo's ``siblings``; zoofind then lists the tree API
(``/api/models/{repo}/tree/{commit}?recursive=true``), 1,000 entries a page linked by
``Link: rel="next"``, as huggingface_hub's ``list_repo_tree`` does.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from servers.hf_server import HubServer

REPO = "zoofind-lab/many-files"
#: Past the 1,000 siblings the Hub is trusted with, and over more than one page of the tree.
N = 1_250


def files() -> dict[str, bytes]:
    out = {f"images/{i // 500:02d}/{i:05d}.txt": b"image %d\n" % i for i in range(1_000)}
    out |= {f"labels/{i:05d}.txt": b"label %d\n" % i for i in range(N - 1_003)}
    out |= {"config.json": b'{"model_type": "bert"}\n', "README.md": b"# many files\n",
            "model.safetensors": hashlib.shake_256(b"w").digest(4096)}
    return out


@pytest.fixture(scope="module")
def many() -> dict[str, bytes]:
    return files()


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, many: dict[str, bytes]):
    # The Hub cuts the repo's siblings at 1,000 and pages its tree by 400: only every page lists all.
    with HubServer(siblings_limit=1_000, tree_page_size=400) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        hub.add_repo(REPO, many, library_name="transformers")
        yield hub


def tree_requests(hub: HubServer) -> list[str]:
    return [f"{r.path}?{r.query}" for r in hub.requests if "/tree/" in r.path]


def test_a_dry_run_of_a_repo_past_a_thousand_files_lists_every_file_of_every_page(hub, cli, many) -> None:
    ran = cli("pull", f"hf:{REPO}", "--dry-run", "--format", "json")
    assert ran.code == 0, ran.stderr
    result = json.loads(ran.stdout)["results"][0]
    listed = {f["path"]: f for f in result["files"]}
    assert len(listed) == len(many) == N
    assert set(listed) == set(many)
    commit = hub.repo(REPO).branches["main"]
    for path, data in many.items():
        f = listed[path]
        assert f["size"] == len(data) and f["status"] == "planned"
        if path.endswith(".safetensors"):  # LFS: named by its sha256
            assert f["sha256"] == f["blob"] == hashlib.sha256(data).hexdigest()
        else:  # a regular file: by its git blob id
            assert f["blob"] == hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    # Every page of the tree at the commit the revision resolved to, each once.
    pages = tree_requests(hub)
    assert len(pages) == 4 and all(f"/tree/{commit}" in p for p in pages)
    assert len(set(pages)) == 4
    # Nothing written by a dry run.
    cache = Path(os.environ["HF_HOME"]) / "hub"
    assert not cache.exists() or not any(cache.rglob("*"))


def test_a_dry_run_of_many_files_is_summarized_per_folder_largest_first(hub, cli) -> None:
    ran = cli("pull", f"hf:{REPO}", "--dry-run")
    assert ran.code == 0, ran.stderr
    assert ran.stdout.split("\t")[0] == f"hf:{REPO}"
    lines = ran.stderr.splitlines()
    assert f"zoofind: hf:{REPO}: would fetch {N} file(s)" in lines[0]
    folders = [line for line in lines if line.startswith("zoofind:   ") and "file(s)" in line]
    # By bytes: the 1,000 images, then the top's 4 KiB of weights, then 247 short labels.
    assert [line.split()[1] for line in folders] == ["images/", ".", "labels/"]
    assert "1,000 file(s)" in folders[0] and "3 file(s)" in folders[1] and "247 file(s)" in folders[2]
    assert "--include 'images/*'" in ran.stderr and "--format json lists every file" in ran.stderr
    assert not any("00001.txt" in line for line in lines)  # no file named one by one


def test_a_few_files_are_still_listed_one_by_one(hf_hub, cli) -> None:
    hf_hub.add_repo("zoofind-lab/few", {"config.json": b"{}\n", "sub/a.txt": b"a\n"})
    ran = cli("pull", "hf:zoofind-lab/few", "--dry-run")
    assert ran.code == 0, ran.stderr
    assert "zoofind:   sub/a.txt  2 B" in ran.stderr.splitlines()
    assert "top-level folder" not in ran.stderr
    assert not tree_requests(hf_hub)  # fewer than 1,000 siblings: the repo's own answer is the listing


def test_the_files_a_large_listing_names_are_pulled_where_huggingface_hub_finds_them(hub, cli, many) -> None:
    ran = cli("pull", f"hf:{REPO}", "--include", "labels/0000*", "--include", "*.json")
    assert ran.code == 0, ran.stderr
    snap = Path(ran.stdout.strip().split("\t")[1])
    got = sorted(p.relative_to(snap).as_posix() for p in snap.rglob("*") if p.is_file())
    assert got == ["config.json", *[f"labels/{i:05d}.txt" for i in range(10)]]
    code = ("import huggingface_hub as h\n"
            f"print(open(h.hf_hub_download({REPO!r}, 'labels/00007.txt', local_files_only=True)).read(), end='')")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    check = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert check.returncode == 0, check.stderr
    assert check.stdout.encode() == many["labels/00007.txt"]


def big_model(n: int = 1_000) -> dict[str, object]:
    """A repo's answer listing ``n`` siblings: from 1,000 on zoofind reads the tree instead."""
    return {"_id": "x", "id": "acme/x", "sha": "a" * 40, "private": False, "gated": False,
            "siblings": [{"rfilename": f"f{i}.txt", "size": 1, "blobId": "b" * 40} for i in range(n)]}


def hostile_pull(payloads: dict[str, object], headers: dict[str, dict[str, str]] | None = None):
    from conftest import run_cli
    from servers.hostile import HostileServer

    with HostileServer("json", payloads=payloads, headers=headers) as server:
        ran = run_cli("pull", "hf:acme/x", env={"HF_ENDPOINT": server.url})
        return ran, server.paths("hf-tree")


@pytest.mark.parametrize("entry, says", [
    ({"type": "file", "path": "../../escape.txt", "size": 1, "oid": "c" * 40}, "would land outside its folder"),
    ({"type": "file", "path": "w.safetensors", "size": 1, "oid": "c" * 40, "lfs": {"oid": "../x", "size": 1}},
     "no usable content id"),
    ({"type": "file", "path": "ok.txt", "size": 1, "oid": "not-hex"}, "no usable content id"),
])
def test_a_hostile_entry_of_the_tree_refuses_the_pull_with_nothing_written(entry, says) -> None:
    ran, pages = hostile_pull({"hf-info": big_model(), "hf-tree": [entry]})
    assert ran.code == 1 and says in ran.stderr and "Traceback" not in ran.stderr, ran.stderr
    assert pages and not list((Path(os.environ["HF_HOME"])).rglob("*.txt"))


def test_a_tree_whose_next_page_links_back_is_refused_not_followed_forever() -> None:
    itself = f"/api/models/acme/x/tree/{'a' * 40}?recursive=true&expand=false"
    ran, pages = hostile_pull({"hf-info": big_model(), "hf-tree": []},
                              headers={"hf-tree": {"Link": f'<{itself}>; rel="next"'}})
    assert ran.code == 1 and "in a loop" in ran.stderr, ran.stderr
    assert len(pages) == 2  # the first page, and the one it links to (the same): then it stops


def test_a_tree_answer_that_is_no_list_is_refused() -> None:
    ran, _ = hostile_pull({"hf-info": big_model(), "hf-tree": {"error": "nope"}})
    assert ran.code == 1 and "not the files of 'acme/x'" in ran.stderr, ran.stderr
