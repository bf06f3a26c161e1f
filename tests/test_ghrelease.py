"""ghrelease: info, pull, lock, cache, bundles and cite of GitHub release assets through the real CLI,
against tests/servers/github_server.py (the releases API, the asset redirect to an objects host that
serves Range, rate limits). These assets are none a library downloads itself, so they go to zoofind's
store, which no library reads (they are loaded by the path pull prints). The assets mace-torch reads
from its own folder: tests/test_ghrelease_loaders.py, refereed by mace-torch in tests/test_mace.py."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from servers.github_server import GitHubServer

WEIGHTS = random.Random(5).randbytes(300_000)
SMALL = b"small model bytes" * 100
OLD = b"an asset uploaded before GitHub kept digests" * 50
CFF = b"""cff-version: 1.2.0
message: If you use this software, please cite it as below.
title: MACE foundation models
version: 0.3.0
date-released: 2024-02-01
authors:
  - family-names: Batatia
    given-names: Ilyes
  - name: The MACE developers
preferred-citation:
  type: article
  title: A foundation model for atomistic materials chemistry
  authors:
    - family-names: Batatia
      given-names: Ilyes
    - family-names: Csanyi
      given-names: Gabor
  year: 2023
  doi: 10.48550/arXiv.2401.00096
  journal: arXiv preprint
"""
ID = "ghrelease:ACEsuit/mace-foundations/mace_mp_0b3"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class GH:
    def __init__(self, server: GitHubServer, store: Path) -> None:
        self.server, self.store = server, store

    def folder(self, tag: str = "mace_mp_0b3", repo: str = "mace-foundations") -> Path:
        return self.store / "ACEsuit" / repo / tag


@pytest.fixture
def gh(hermetic, monkeypatch, tmp_path):
    with GitHubServer() as server:
        server.add_release("ACEsuit", "mace-foundations", "mace_mp_0b3",
                           {"mace-mp-0b3-medium.model": WEIGHTS, "small.model": SMALL},
                           title="MACE-MP-0b3", body="Medium model trained on MPtrj.", files={"CITATION.cff": CFF})
        server.add_release("ACEsuit", "mace-foundations", "mace_mp_0", {"2023-12-03-mace-128-L1.model": OLD},
                           digests=False)
        monkeypatch.setenv("ZOOFIND_GITHUB_ENDPOINT", server.url)
        yield GH(server, tmp_path / "zoofind-cache" / "store" / "ghrelease")


def test_ids_and_the_assets_address(cli) -> None:
    from zoofind.hubs.ids import parse_id

    url = "https://github.com/ACEsuit/mace-foundations/releases/download/mace_mp_0b3/mace-mp-0b3-medium.model"
    assert str(parse_id(url)) == f"{ID}/mace-mp-0b3-medium.model"
    assert str(parse_id("https://github.com/ACEsuit/mace-foundations/releases/tag/mace_mp_0b3")) == ID
    repo = cli("info", "https://github.com/ACEsuit/mace-foundations")
    assert repo.code == 2 and "not a release's asset or tag page" in repo.stderr and "Traceback" not in repo.stderr
    bad = cli("info", "ghrelease:ACEsuit/..")
    assert bad.code == 2 and "malformed ghrelease id" in bad.stderr


def test_info_shows_assets_sizes_digests_and_a_missing_asset(gh, cli) -> None:
    ran = cli("info", ID, "--json")
    assert ran.code == 0, ran.stderr
    rec = json.loads(ran.stdout)["record"]
    assert {"name": "mace-mp-0b3-medium.model", "size": len(WEIGHTS), "sha256": sha(WEIGHTS)} in rec["extra"]["assets"]
    assert rec["extra"]["release"] == "MACE-MP-0b3" and "MPtrj" in rec["description"]
    missing = cli("info", f"{ID}/nothing.model")
    assert missing.code == 3 and "has no asset 'nothing.model'" in missing.stderr and "small.model" in missing.stderr
    nothing = cli("info", "ghrelease:ACEsuit/mace-foundations/v9")
    assert nothing.code == 3 and "GitHub has no release 'v9'" in nothing.stderr


def test_pull_one_asset_through_the_redirect_verified_by_the_digest(gh, cli, tmp_path) -> None:
    dest = tmp_path / "here"
    ran = cli("pull", f"{ID}/mace-mp-0b3-medium.model", "--json", "--dest", str(dest))
    assert ran.code == 0, ran.stderr
    result = json.loads(ran.stdout)["results"][0]
    target = gh.folder() / "mace-mp-0b3-medium.model"
    assert result["path"] == str(target) and target.read_bytes() == WEIGHTS
    assert (dest / "mace-mp-0b3-medium.model").read_bytes() == WEIGHTS
    assert not (gh.folder() / "small.model").exists()
    manifest = json.loads((gh.folder() / ".zoofind-release.json").read_text())
    assert manifest["files"]["mace-mp-0b3-medium.model"] == {"size": len(WEIGHTS), "sha256": sha(WEIGHTS),
                                                             "digest": True}
    redirects = [r for r in gh.server.log() if "/releases/assets/" in r.path]
    assert {r.status for r in redirects} == {302}
    assert all("application/octet-stream" in r.headers.get("accept", "") for r in redirects)
    stored = gh.server.objects.log()
    assert stored and all("authorization" not in r.headers for r in stored)
    gh.server.clear()
    again = cli("pull", f"{ID}/mace-mp-0b3-medium.model", "--offline", "--json")
    assert again.code == 0, again.stderr
    assert gh.server.log() == [] and json.loads(again.stdout)["results"][0]["files"][0]["status"] == "cached"


def test_a_damaged_asset_is_refused_and_nothing_is_visible(gh, cli) -> None:
    rel = gh.server.releases[("ACEsuit", "mace-foundations")][0]
    gh.server.assets_bytes[rel.assets["small.model"][0]] = SMALL[:-1] + b"!"
    ran = cli("pull", f"{ID}/small.model")
    assert ran.code != 0 and "sha256" in ran.stderr.lower() and "Traceback" not in ran.stderr
    assert not (gh.folder() / "small.model").exists()
    assert not (gh.folder() / ".zoofind-release.json").exists()


def test_an_asset_without_a_digest_is_checked_by_size_and_said(gh, cli, tmp_path) -> None:
    ran = cli("pull", "ghrelease:ACEsuit/mace-foundations/mace_mp_0", "--json")
    assert ran.code == 0, ran.stderr
    notes = " ".join(json.loads(ran.stdout)["results"][0].get("notes", []))
    assert "no sha256 digest" in notes and "checked by size only" in notes
    lockfile = tmp_path / "zoofind.lock"
    assert cli("lock", "ghrelease:ACEsuit/mace-foundations/mace_mp_0", "-o", str(lockfile)).code == 0
    assert sha(OLD) in lockfile.read_text()


def test_rate_limit_says_when_it_resets_and_what_to_do(gh, cli) -> None:
    gh.server.remaining = 0
    ran = cli("info", ID)
    assert ran.code != 0 and "rate limit" in ran.stderr and "GITHUB_TOKEN" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_a_dropped_connection_resumes_with_a_range(gh, cli) -> None:
    big = random.Random(9).randbytes(3 * 1024 * 1024)
    gh.server.add_release("ACEsuit", "mace-foundations", "big", {"big.model": big})
    gh.server.objects.faults_on = r"^GET /github-production-release-asset/"
    gh.server.objects.drop_after, gh.server.objects.drop_times = 1024 * 1024, 1
    ran = cli("pull", "ghrelease:ACEsuit/mace-foundations/big/big.model")
    assert ran.code == 0, ran.stderr
    assert gh.server.objects.drops == 1
    got = gh.server.objects.log()
    assert len(got) >= 2 and any(r.range and r.range != "bytes=0-" for r in got[1:])
    assert (gh.folder("big") / "big.model").read_bytes() == big


def test_lock_cache_bundle_and_pull_from_the_lock(gh, cli, tmp_path) -> None:
    lockfile = tmp_path / "zoofind.lock"
    ran = cli("lock", ID, "-o", str(lockfile))
    assert ran.code == 0, ran.stderr
    text = lockfile.read_text()
    rel = gh.server.releases[("ACEsuit", "mace-foundations")][0]
    assert f'commit = "{rel.id}"' in text and sha(WEIGHTS) in text and sha(SMALL) in text
    ls = cli("cache", "ls", "--json")
    assert ls.code == 0 and ID in ls.stdout
    assert cli("cache", "path", ID).stdout.strip() == str(gh.folder())
    assert cli("cache", "path", f"{ID}/small.model").stdout.strip() == str(gh.folder())
    assert cli("cache", "verify", ID).code == 0
    bundle = tmp_path / "bundle.tar"
    exported = cli("export", str(bundle), "--lock", str(lockfile))
    assert exported.code == 0, exported.stderr
    (gh.folder() / "small.model").write_bytes(b"damaged")
    bad = cli("cache", "verify", ID)
    assert bad.code != 0 and "sha256 mismatch" in bad.stdout + bad.stderr
    removed = cli("cache", "rm", ID, "--yes")
    assert removed.code == 0, removed.stderr
    assert not gh.folder().exists()
    imported = cli("import", str(bundle))
    assert imported.code == 0, imported.stderr
    assert (gh.folder() / "small.model").read_bytes() == SMALL
    gh.server.clear()
    offline = cli("pull", "--lock", str(lockfile), "--offline")
    assert offline.code == 0, offline.stderr
    assert gh.server.log() == []
    cli("cache", "rm", ID, "--yes")
    online = cli("pull", "--lock", str(lockfile))
    assert online.code == 0, online.stderr
    assert (gh.folder() / "mace-mp-0b3-medium.model").read_bytes() == WEIGHTS


def test_cite_reads_citation_cff_at_the_tag(gh, cli) -> None:
    ran = cli("cite", ID, "--format", "json")
    assert ran.code == 0, ran.stderr
    data = json.loads(ran.stdout)
    ref = data["references"][0]["csl"]
    assert ref["DOI"] == "10.48550/arxiv.2401.00096" and ref["issued"]["date-parts"] == [[2023]]
    assert ref["author"][1] == {"family": "Csanyi", "given": "Gabor"}
    assert any(r["csl"].get("title") == "MACE foundation models" for r in data.get("related", []))
    none = cli("cite", "ghrelease:ACEsuit/mace-foundations/mace_mp_0")
    assert none.code == 0 and "no CITATION.cff" in none.stdout + none.stderr


STARDIST = "ghrelease:stardist/stardist-models/v0.1/python_2D_versatile_fluo.zip"


def test_the_catalogs_md5_checks_an_asset_github_gives_no_digest(gh, cli, tmp_path, monkeypatch) -> None:
    # The bundled entry records the md5 StarDist's own registry checks; these bytes are not the model's.
    fake = b"not stardist's model" * 1000
    gh.server.add_release("stardist", "stardist-models", "v0.1", {"python_2D_versatile_fluo.zip": fake},
                          digests=False)
    refused = cli("pull", STARDIST)
    assert refused.code != 0 and "md5" in refused.stderr.lower() and "Traceback" not in refused.stderr
    folder = gh.store / "stardist" / "stardist-models" / "v0.1"
    assert not (folder / "python_2D_versatile_fluo.zip").exists() and not (folder / ".zoofind-release.json").exists()
    # A user's entry recording the right md5: pulled, the md5 kept for `cache verify`.
    mine = tmp_path / "my-catalog"
    mine.mkdir()
    (mine / "lab.toml").write_text(f"""[meta]
layer = "curated"
description = "ours"

[[entry]]
id = "ghrelease:ACEsuit/mace-foundations/mace_mp_0/2023-12-03-mace-128-L1.model"
kind = "model"
name = "MACE-MP-0 medium"
description = "an interatomic potential"
reliability = "inferred"
extra = {{ md5 = "{hashlib.md5(OLD).hexdigest()}" }}
""", encoding="utf-8")
    monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(mine))
    ran = cli("pull", "ghrelease:ACEsuit/mace-foundations/mace_mp_0/2023-12-03-mace-128-L1.model", "--json")
    assert ran.code == 0, ran.stderr
    notes = " ".join(json.loads(ran.stdout)["results"][0].get("notes", []))
    assert "checksum the catalog records" in notes and "checked by size only" not in notes
    manifest = json.loads((gh.folder("mace_mp_0") / ".zoofind-release.json").read_text())
    assert manifest["files"]["2023-12-03-mace-128-L1.model"]["md5"] == hashlib.md5(OLD).hexdigest()


def test_the_token_goes_to_the_api_host_only(gh, cli, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    ran = cli("pull", f"{ID}/small.model")
    assert ran.code == 0, ran.stderr
    api = [r for r in gh.server.log() if "/releases/" in r.path]
    assert api and all(r.headers.get("authorization") == "Bearer ghp_secret" for r in api)
    stored = gh.server.objects.log()
    assert stored and all("authorization" not in r.headers for r in stored)
    assert "ghp_secret" not in ran.stdout + ran.stderr


@pytest.mark.parametrize("name", ["../escape.model", ".zoofind-release.json"])
def test_a_hostile_asset_name_refuses_the_release_with_nothing_written(gh, cli, name) -> None:
    gh.server.add_release("evil", "models", "v1", {name: b"x" * 10, "fine.model": b"y" * 10})
    ran = cli("pull", "ghrelease:evil/models/v1")
    assert ran.code != 0 and "refused" in ran.stderr and "Traceback" not in ran.stderr
    assert not (gh.store / "evil").exists() or not any(p.is_file() for p in (gh.store / "evil").rglob("*"))


def test_a_release_without_assets_and_a_missing_asset_on_the_storage_host(gh, cli) -> None:
    gh.server.add_release("ACEsuit", "mace-foundations", "empty", {})
    empty = cli("pull", "ghrelease:ACEsuit/mace-foundations/empty")
    assert empty.code == 3 and "has no assets to download" in empty.stderr
    rel = gh.server.add_release("ACEsuit", "mace-foundations", "gone", {"lost.model": b"z" * 100})
    gh.server.objects.faults_on = r"^GET /github-production-release-asset/"
    gh.server.objects.fail_status, gh.server.objects.fail_times = 404, 10
    lost = cli("pull", "ghrelease:ACEsuit/mace-foundations/gone/lost.model")
    assert lost.code != 0 and "Traceback" not in lost.stderr
    assert not (gh.folder("gone") / "lost.model").exists() and rel.assets


def test_a_rate_limited_asset_download_says_so_not_refused(gh, cli) -> None:
    assert cli("info", ID).code == 0  # the release's JSON is answer-cached: the asset's redirect is asked next
    gh.server.remaining = 0
    ran = cli("pull", f"{ID}/small.model")
    assert ran.code != 0 and "rate limit is used up (HTTP 403)" in ran.stderr and "resets at" in ran.stderr
    assert "GITHUB_TOKEN" in ran.stderr and "refused the download" not in ran.stderr
    assert not (gh.folder() / "small.model").exists()
