"""`pull`, `import`, `cache rm` and `cache prune` at the same moment, over and over: the cache stays one every reader accepts.

Several processes run the real command line against the local Hub (tests/servers/hf_server.py)
for a few seconds: pulls of several models, imports of a bundle of two of them (exported from
another cache before), removals and prunes of some of them. Pulls may
lose (a model removed while a pull placed it: exit 1, named), removals may be refused (a
pull is writing it: exit 1 with the pull's host and pid) or find nothing (exit 3); none may
crash, and afterwards `zoofind cache verify` passes, huggingface_hub's `scan_cache_dir()`
has no warnings and every model `cache ls` lists loads with `snapshot_download(local_files_only=True)`.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time

import pytest

from conftest import run_cli

MODELS = [f"lab/m{i}" for i in range(4)]
SECONDS = 10.0

REFEREE = r'''
import json, sys
import huggingface_hub as h
info = h.scan_cache_dir()
loads = {}
for repo_id in sys.argv[1:]:
    try:
        h.snapshot_download(repo_id, local_files_only=True)
        loads[repo_id] = True
    except Exception as exc:
        loads[repo_id] = repr(exc)
print(json.dumps({"warnings": [str(w) for w in info.warnings], "loads": loads}))
'''


@pytest.fixture
def hub(hf_hub):
    for i, repo in enumerate(MODELS):
        files = {"config.json": json.dumps({"i": i}).encode(), "model.safetensors": hashlib.shake_256(repo.encode()).digest(300_000),
                 "tokenizer.json": hashlib.shake_256(b"tok" + repo.encode()).digest(20_000)}
        if i % 2:  # two revisions sharing blobs, so a revision can be removed alone
            hf_hub.add_repo(repo, files, tags=["v1"])
            files = {**files, "config.json": json.dumps({"i": i, "v": 2}).encode()}
        hf_hub.add_repo(repo, files)
    hf_hub.rate_bps = 600_000  # the weights take ~0.5 s: removals and prunes meet running pulls
    hf_hub.faults_on = r"^GET /(repos|api/resolve-cache)/"
    return hf_hub


def test_pulls_imports_removals_and_prunes_at_once_leave_a_cache_every_reader_accepts(hub, tmp_path) -> None:
    # The bundle comes from another cache home, so making it races with nothing.
    elsewhere = {"HF_HOME": str(tmp_path / "elsewhere")}
    lock_file, bundle = tmp_path / "two.lock", tmp_path / "two.tar"
    made = run_cli("lock", f"hf:{MODELS[1]}", f"hf:{MODELS[2]}", "-o", str(lock_file), env=elsewhere, timeout=120)
    assert made.code == 0, made.stderr
    assert run_cli("export", "--lock", str(lock_file), str(bundle), env=elsewhere, timeout=120).code == 0
    deadline = time.monotonic() + SECONDS
    outcomes: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def loop(make_args, pause: float) -> None:
        rng = random.Random(threading.get_ident())
        while time.monotonic() < deadline:
            args = make_args(rng)
            ran = run_cli(*args, timeout=120)
            with lock:
                outcomes.append((" ".join(args), ran.code, ran.stderr))
            time.sleep(rng.uniform(0, pause))  # removals now and then, not back to back: pulls get to finish too

    def pull(rng: random.Random) -> list[str]:
        return ["pull", "--quiet", *rng.sample([f"hf:{m}" for m in MODELS], 2)]

    def rm(rng: random.Random) -> list[str]:
        repo = rng.choice(MODELS)
        target = f"hf:{repo}@v1" if repo.endswith(("1", "3")) and rng.random() < 0.5 else f"hf:{repo}"
        return ["cache", "rm", "--yes", target]

    def import_(rng: random.Random) -> list[str]:
        return ["import", "--quiet", str(bundle)]

    def prune(rng: random.Random) -> list[str]:
        return ["cache", "prune", "--yes", "--max-size", str(rng.choice([0, 400_000, 900_000]))]

    workers = [threading.Thread(target=loop, args=w) for w in ((pull, 0.0), (pull, 0.0), (import_, 0.3), (rm, 0.5), (prune, 1.0))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    kinds = {"pull": 0, "import": 0, "rm": 0, "prune": 0}
    for command, code, stderr in outcomes:
        kind = command.split()[1] if command.startswith("cache") else command.split()[0]
        kinds[kind] += 1
        assert "Traceback" not in stderr, (command, stderr)
        allowed = {0, 1} | ({3} if kind == "rm" else set())  # rm of a model a prune or rm took first: not cached
        assert code in allowed, (command, code, stderr)
        if code == 1 and kind in ("rm", "prune"):
            assert "in use by a pull" in stderr, (command, stderr)
        if code == 1 and kind == "import":
            assert "removed from the cache" in stderr, (command, stderr)
        if code == 1 and kind == "pull":
            assert "removed from the cache" in stderr or "the transfer" in stderr or "connection" in stderr, (command, stderr)
    assert kinds["pull"] >= 2 and kinds["import"] >= 2 and kinds["rm"] >= 2 and kinds["prune"] >= 2, kinds
    # Pulls placed models and removals took some while the others ran.
    assert any(c == 0 for cmd, c, _ in outcomes if cmd.startswith("pull")), outcomes
    assert any(c in (0, 1) and "removing hf:" in e for cmd, c, e in outcomes if cmd.startswith("cache")), outcomes

    hub.reset_faults()
    assert run_cli("pull", "--quiet", f"hf:{MODELS[0]}").code == 0  # something is cached for the checks below
    verify = run_cli("cache", "verify")
    assert verify.code == 0, verify.stdout + verify.stderr
    listed = json.loads(run_cli("cache", "ls", "--json").stdout)["results"]
    repos = [m["id"].split(":", 1)[1] for m in listed]
    assert MODELS[0] in repos
    seen = subprocess.run([sys.executable, "-c", REFEREE, *repos], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert seen.returncode == 0, seen.stderr
    report = json.loads(seen.stdout)
    assert report["warnings"] == []
    assert report["loads"] == {r: True for r in repos}
