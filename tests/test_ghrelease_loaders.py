"""ghrelease assets a library downloads itself go where that library reads them (hubs/ghrelease/loaders/):
MACE's foundation models into $XDG_CACHE_HOME/mace under mace-torch's own names, through the real CLI
against tests/servers/github_server.py. Pull, offline pull, cache ls/path/verify/rm, locks, bundles, a
file mace-torch fetched itself, and what stays in zoofind's store. tests/test_mace.py is the referee
(mace-torch itself loads what was placed, with no request)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from pathlib import Path

import pytest

from servers.github_server import GitHubServer

MPA = random.Random(11).randbytes(200_000)
SMALL = random.Random(12).randbytes(50_000)
NOTES = b"release notes, no loader reads this\n"
RELEASE = "ghrelease:ACEsuit/mace-mp/mace_mpa_0"
ASSET = "mace-mpa-0-medium.model"
ID = f"{RELEASE}/{ASSET}"
MACE_FILE = "macempa0mediummodel"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Served:
    def __init__(self, server: GitHubServer, store: Path, home: Path) -> None:
        self.server, self.store, self.home = server, store, home

    @property
    def mace(self) -> Path:
        return Path(os.environ["XDG_CACHE_HOME"]) / "mace"

    def folder(self, tag: str = "mace_mpa_0") -> Path:
        return self.store / "ACEsuit" / "mace-mp" / tag

    def requests(self) -> int:
        return len(self.server.log()) + len(self.server.objects.log())


@pytest.fixture
def gh(hermetic, monkeypatch, tmp_path):
    with GitHubServer() as server:
        server.add_release("ACEsuit", "mace-mp", "mace_mpa_0", {ASSET: MPA, "NOTES.txt": NOTES},
                           title="MACE-MPA-0")
        # Uploaded before GitHub kept digests, as MACE-MP-0's assets were.
        server.add_release("ACEsuit", "mace-mp", "mace_mp_0", {"2023-12-10-mace-128-L0_energy_epoch-249.model": SMALL},
                           digests=False)
        monkeypatch.setenv("ZOOFIND_GITHUB_ENDPOINT", server.url)
        yield Served(server, tmp_path / "zoofind-cache" / "store" / "ghrelease", hermetic)


def test_every_row_of_the_tables_reads() -> None:
    from zoofind.hubs.ghrelease import loaders, read_ref

    rows = loaders.table()
    assert len(rows) >= 24 and {r.library for r in rows.values()} == {"mace-torch"}
    places = [(r.variable, r.default, r.below, r.file) for r in rows.values()]
    assert len(set(places)) == len(places)  # no two assets claim one file
    row = loaders.row(read_ref(f"acesuit/MACE-MP/mace_mpa_0/{ASSET}"), ASSET)  # GitHub's names ignore case
    assert row is not None and row.file == MACE_FILE and row.load == "mace_mp(model='medium-mpa-0')"
    assert loaders.row(read_ref(f"ACEsuit/mace-mp/MACE_MPA_0/{ASSET}"), ASSET) is None  # tags do not
    env = {"HOME": "/h"}
    assert row.place(env) == Path("/h/.cache/mace") / MACE_FILE
    assert row.place({**env, "XDG_CACHE_HOME": "/x"}) == Path("/x/mace") / MACE_FILE
    assert row.place({**env, "XDG_CACHE_HOME": "rel"}) is None


def test_pull_places_the_asset_where_mace_reads_it_and_offline_pull_asks_nothing(gh, cli) -> None:
    ran = cli("pull", ID, "--json")
    assert ran.code == 0, ran.stderr
    result = json.loads(ran.stdout)["results"][0]
    target = gh.mace / MACE_FILE
    assert result["path"] == str(target) and target.read_bytes() == MPA
    assert any("mace_mp(model='medium-mpa-0')" in n and str(target) in n for n in result["notes"])
    # mace-torch loads its .model files with torch.load(weights_only=False): the table says they are pickles.
    assert result["flags"] == [f"pickle: mace-torch loads {ASSET} as one, and loading can run code"]
    assert sorted(p.name for p in gh.mace.iterdir()) == [MACE_FILE]  # nothing half-done beside it
    assert sorted(p.name for p in gh.folder().iterdir()) == [".zoofind-release.json"]
    manifest = json.loads((gh.folder() / ".zoofind-release.json").read_text())
    assert manifest["files"][ASSET] == {"size": len(MPA), "sha256": sha(MPA), "digest": True, "at": str(target)}
    gh.server.clear()
    gh.server.objects.clear()
    again = cli("pull", ID, "--offline", "--json")
    assert again.code == 0, again.stderr
    got = json.loads(again.stdout)["results"][0]
    assert got["path"] == str(target) and got["files"][0]["status"] == "cached" and gh.requests() == 0


def test_cache_ls_path_verify_and_rm_cover_the_placed_file(gh, cli) -> None:
    assert cli("pull", ID).code == 0
    target = gh.mace / MACE_FILE
    ls = json.loads(cli("cache", "ls", "--json").stdout)
    mine = [m for m in ls["results"] if m["id"] == RELEASE]
    assert len(mine) == 1 and mine[0]["path"] == str(target) and mine[0]["size"] == len(MPA)
    assert cli("cache", "path", ID).stdout.strip() == str(target)
    assert cli("cache", "path", RELEASE).stdout.strip() == str(target)
    assert cli("cache", "verify", ID).code == 0
    target.write_bytes(b"x" + MPA[1:])
    bad = cli("cache", "verify", ID)
    assert bad.code != 0 and "sha256 mismatch" in bad.stdout + bad.stderr and str(target) in bad.stdout + bad.stderr
    removed = cli("cache", "rm", ID, "--yes")
    assert removed.code == 0, removed.stderr
    assert not target.exists() and not gh.folder().exists()
    assert gh.mace.is_dir()  # mace-torch's folder itself is left as it was


def test_lock_export_import_and_pull_from_the_lock_place_it_where_mace_reads_it(gh, cli, tmp_path) -> None:
    lockfile, bundle = tmp_path / "zoofind.lock", tmp_path / "bundle.tar"
    assert cli("lock", ID, "-o", str(lockfile)).code == 0
    assert sha(MPA) in lockfile.read_text()
    exported = cli("export", str(bundle), "--lock", str(lockfile), "--json")
    assert exported.code == 0, exported.stderr
    assert json.loads(exported.stdout)["results"][0]["path"] == str(gh.mace / MACE_FILE)
    assert cli("cache", "rm", ID, "--yes").code == 0
    imported = cli("import", str(bundle), "--json")
    assert imported.code == 0, imported.stderr
    assert json.loads(imported.stdout)["results"][0]["path"] == str(gh.mace / MACE_FILE)
    assert (gh.mace / MACE_FILE).read_bytes() == MPA
    gh.server.clear()
    offline = cli("pull", "--lock", str(lockfile), "--offline")
    assert offline.code == 0, offline.stderr
    assert gh.server.log() == [] and cli("cache", "verify", ID).code == 0
    assert cli("cache", "rm", ID, "--yes").code == 0
    missing = cli("pull", "--lock", str(lockfile), "--offline")
    assert missing.code == 1 and f"is not in {gh.mace}" in missing.stderr and "Traceback" not in missing.stderr
    online = cli("pull", "--lock", str(lockfile))
    assert online.code == 0, online.stderr
    assert (gh.mace / MACE_FILE).read_bytes() == MPA


def test_a_file_mace_fetched_itself_is_kept_when_it_hashes_to_githubs_digest(gh, cli) -> None:
    gh.mace.mkdir(parents=True)
    (gh.mace / MACE_FILE).write_bytes(MPA)
    ran = cli("pull", ID, "--json")
    assert ran.code == 0, ran.stderr
    assert json.loads(ran.stdout)["results"][0]["files"][0]["status"] == "cached"
    assert gh.server.objects.log() == []  # no byte asked for
    assert cli("cache", "verify", ID).code == 0
    # Another file under that name (a damaged download) is fetched again over it.
    assert cli("cache", "rm", ID, "--yes").code == 0
    (gh.mace / MACE_FILE).write_bytes(b"y" * len(MPA))
    again = cli("pull", ID, "--json")
    assert again.code == 0, again.stderr
    assert json.loads(again.stdout)["results"][0]["files"][0]["status"] == "downloaded"
    assert (gh.mace / MACE_FILE).read_bytes() == MPA


def test_an_asset_without_a_digest_is_placed_checked_by_size(gh, cli) -> None:
    ran = cli("pull", "ghrelease:ACEsuit/mace-mp/mace_mp_0/2023-12-10-mace-128-L0_energy_epoch-249.model", "--json")
    assert ran.code == 0, ran.stderr
    notes = " ".join(json.loads(ran.stdout)["results"][0]["notes"])
    assert "checked by size only" in notes and "mace_mp(model='small')" in notes
    assert (gh.mace / "20231210mace128L0_energy_epoch249model").read_bytes() == SMALL


def test_a_whole_release_splits_between_maces_folder_and_the_store(gh, cli) -> None:
    ran = cli("pull", RELEASE, "--json")
    assert ran.code == 0, ran.stderr
    result = json.loads(ran.stdout)["results"][0]
    assert result["path"] == str(gh.folder()) and len(result["flags"]) == 1 and ASSET in result["flags"][0]
    assert (gh.mace / MACE_FILE).read_bytes() == MPA and (gh.folder() / "NOTES.txt").read_bytes() == NOTES
    assert cli("cache", "path", RELEASE).stdout.strip() == str(gh.folder())
    lock = cli("lock", RELEASE, "-o", "-")
    assert lock.code == 0 and sha(MPA) in lock.stdout and sha(NOTES) in lock.stdout
    assert cli("cache", "rm", RELEASE, "--yes").code == 0
    assert not (gh.mace / MACE_FILE).exists() and not gh.folder().exists()


def test_a_damaged_download_leaves_nothing_under_maces_name(gh, cli) -> None:
    rel = gh.server.releases[("ACEsuit", "mace-mp")][0]
    gh.server.assets_bytes[rel.assets[ASSET][0]] = MPA[:-1] + b"!"
    ran = cli("pull", ID)
    assert ran.code != 0 and "sha256" in ran.stderr.lower() and "Traceback" not in ran.stderr
    assert not (gh.mace / MACE_FILE).exists()
    assert not (gh.folder() / ".zoofind-release.json").exists()


def test_a_relative_xdg_cache_home_keeps_the_asset_in_the_store_and_says_why(gh, cli) -> None:
    ran = cli("pull", ID, "--json", env={"XDG_CACHE_HOME": "relative/cache"})
    assert ran.code == 0, ran.stderr
    result = json.loads(ran.stdout)["results"][0]
    assert result["path"] == str(gh.folder() / ASSET) and (gh.folder() / ASSET).read_bytes() == MPA
    assert any("XDG_CACHE_HOME is not an absolute path" in n for n in result["notes"])


def test_a_manifest_naming_another_file_is_not_believed(gh, cli, tmp_path) -> None:
    assert cli("pull", ID).code == 0
    marker = gh.folder() / ".zoofind-release.json"
    manifest = json.loads(marker.read_text())
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    manifest["files"][ASSET]["at"] = str(victim)
    marker.write_text(json.dumps(manifest))
    assert cli("cache", "rm", ID, "--yes").code == 0
    assert victim.read_text() == "keep me"


def test_prune_cleans_zoofinds_stale_leftovers_in_maces_folder_and_nothing_of_maces(cli) -> None:
    mace = Path(os.environ["XDG_CACHE_HOME"]) / "mace"
    mace.mkdir(parents=True)
    old_partial, old_staged = mace / f".zoofind-partial-{MACE_FILE}", mace / f".zoofind-new-{MACE_FILE}"
    fresh, maces_own = mace / ".zoofind-partial-macemh1model", mace / "macemh0model.part"
    for p in (old_partial, old_staged, fresh, maces_own):
        p.write_bytes(b"x" * 100)
    t = time.time() - 2 * 86400
    for p in (old_partial, old_staged, maces_own):
        os.utime(p, (t, t))
    assert cli("cache", "prune", "--unused-for", "365d", "--yes").code == 0
    assert not old_partial.exists() and not old_staged.exists()
    assert fresh.exists() and maces_own.exists()


def test_sources_says_where_the_assets_mace_reads_go(gh, cli) -> None:
    ran = cli("sources", "--json")
    assert ran.code == 0, ran.stderr
    details = next(s for s in json.loads(ran.stdout)["sources"] if s["name"] == "ghrelease")["details"]
    assert details["assets mace-torch reads go to"] == str(gh.mace) and details["assets go to"] == str(gh.store)


def test_info_says_where_pull_puts_an_asset_mace_reads(gh, cli) -> None:
    ran = cli("info", ID, "--json")
    assert ran.code == 0, ran.stderr
    place = f"{gh.mace / MACE_FILE} (mace-torch reads it there: mace_mp(model='medium-mpa-0'))"
    assert json.loads(ran.stdout)["record"]["extra"]["pull_puts"] == [f"{ASSET} -> {place}"]
    whole = json.loads(cli("info", RELEASE, "--json").stdout)["record"]["extra"]
    assert whole["pull_puts"] == [f"{ASSET} -> {place}"]  # NOTES.txt: zoofind's store, not said here
    table = cli("info", ID)
    assert table.code == 0 and "pull puts" in table.stdout
