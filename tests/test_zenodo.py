"""zenodo: search, info, pull, lock, cache, bundles and cite of Zenodo records through the real CLI,
against tests/servers/zenodo_server.py; the MD5 check the fetch engine gained for it."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from servers.zenodo_server import Rec, ZenodoServer
from zoofind.core.context import Context
from zoofind.hubs import SearchQuery

WEIGHTS = bytes(range(256)) * 400
CONFIG = b'{"channels": 3}\n'
README = b"# Nuclei model\n"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Zen:
    def __init__(self, server: ZenodoServer, store: Path) -> None:
        self.server, self.store = server, store

    def folder(self, rid: int = 101) -> Path:
        return self.store / str(rid)


@pytest.fixture
def zen(hermetic, monkeypatch, tmp_path):
    records = {
        101: Rec(101, {"weights.pth": WEIGHTS, "config.json": CONFIG}, title="Nuclei segmentation U-Net weights",
                 description="<p>Pretrained <b>nucleus segmentation</b> model for fluorescence microscopy.</p>",
                 keywords=["segmentation", "microscopy"], concept=100, version="1.0",
                 creators=[{"name": "Doe, Jane", "affiliation": "EMBL"}, {"name": "Roe, Rick"}],
                 related=[{"identifier": "10.1038/s41592-020-01018-x", "relation": "isSupplementTo",
                           "scheme": "doi"}]),
        102: Rec(102, {"weights.pth": WEIGHTS[::-1], "config.json": CONFIG}, title="Nuclei segmentation U-Net weights",
                 keywords=["segmentation"], concept=100, version="1.1"),
        201: Rec(201, {"paper.pdf": b"%PDF"}, title="Nuclei segmentation review", resource_type="publication"),
        301: Rec(301, {"model.onnx": b"onnx" * 100}, title="Deleted model", deleted=True),
    }
    with ZenodoServer(records) as server:
        monkeypatch.setenv("ZOOFIND_ZENODO_ENDPOINT", server.url)
        yield Zen(server, tmp_path / "zoofind-cache" / "store" / "zenodo")


def test_ids_the_doi_and_addresses_name_one_record(zen, cli) -> None:
    from zoofind.hubs.ids import parse_id

    assert str(parse_id("zenodo:10.5281/zenodo.101")) == "zenodo:101"
    assert str(parse_id("https://zenodo.org/records/101")) == "zenodo:101"
    assert str(parse_id("https://zenodo.org/records/101/files/weights.pth?download=1")) == "zenodo:101/weights.pth"
    assert str(parse_id("https://doi.org/10.5281/zenodo.101")) == "zenodo:101"
    bad = cli("info", "zenodo:abc")
    assert bad.code == 2 and "malformed zenodo id" in bad.stderr and "Traceback" not in bad.stderr
    other = cli("pull", "zenodo:101@v2")
    assert other.code == 2 and "a Zenodo version is a record of its own" in other.stderr
    assert "zenodo:101@latest" in other.stderr


def test_search_finds_model_records_not_papers_and_pages(zen, cli, monkeypatch) -> None:
    ran = cli("search", "nuclei segmentation", "-s", "zenodo", "--format", "ids")
    assert ran.code == 0, ran.stderr
    found = ran.stdout.split()
    assert "zenodo:102" in found  # the latest version only, as Zenodo lists
    assert "zenodo:201" not in found and "zenodo:101" not in found  # a publication is no model
    asked = zen.server.log("/api/records")[0]
    assert asked.query["q"] == ["nuclei segmentation"] and asked.query["size"] == ["25"]
    from zoofind.hubs.zenodo import api
    from zoofind.hubs.zenodo.source import ZenodoSource

    for i in range(30):
        zen.server.records[400 + i] = Rec(400 + i, {"w.pt": b"w"}, title=f"Mitochondria model {i}")
    zen.server.clear()
    answer = ZenodoSource().search(SearchQuery(text="mitochondria", limit=20), Context(environ=dict(os.environ)))
    assert len(answer.records) == 30
    pages = [r.query["page"][0] for r in zen.server.log("/api/records")]
    assert pages == ["1", "2"] and api.MAX_PAGES == 2


def test_a_rate_limited_search_says_so_and_serves_the_cached_answer(zen, cli) -> None:
    assert cli("search", "nuclei", "-s", "zenodo", "--format", "ids").code == 0
    zen.server.search_limit = 1
    ran = cli("search", "nuclei", "-s", "zenodo", "--format", "ids", "--refresh", "--timeout", "3")
    assert ran.code == 0, ran.stderr
    assert "zenodo:102" in ran.stdout and "Zenodo did not answer" in ran.stderr
    fresh = cli("search", "segmentation weights", "-s", "zenodo", "--timeout", "3")
    assert fresh.code == 1 and "rate-limiting" in fresh.stderr and "Traceback" not in fresh.stderr


def test_info_shows_files_checksums_licence_creators_doi_and_version(zen, cli) -> None:
    ran = cli("info", "zenodo:101", "--json")
    assert ran.code == 0, ran.stderr
    rec = json.loads(ran.stdout)["record"]
    assert rec["license"] == "cc-by-4.0" and rec["frameworks"] == ["pytorch"]
    assert rec["extra"]["doi"] == "10.5281/zenodo.101" and rec["extra"]["concept"] == "100"
    assert rec["extra"]["version"] == "1.0" and rec["extra"]["latest"] is False
    assert rec["extra"]["creators"] == ["Doe, Jane", "Roe, Rick"]
    assert {"key": "weights.pth", "size": len(WEIGHTS), "md5": md5(WEIGHTS)} in rec["extra"]["files"]
    assert "nucleus segmentation" in rec["description"] and "<b>" not in rec["description"]
    missing = cli("info", "zenodo:999")
    assert missing.code == 3 and "Zenodo has no record 999" in missing.stderr
    gone = cli("info", "zenodo:301")
    assert gone.code == 3 and "was deleted (Spam)" in gone.stderr and "Traceback" not in gone.stderr


def test_pull_verifies_each_file_writes_the_manifest_last_and_offline_asks_nothing(zen, cli, tmp_path) -> None:
    dest = tmp_path / "here"
    ran = cli("pull", "zenodo:101", "--json", "--dest", str(dest))
    assert ran.code == 0, ran.stderr
    result = json.loads(ran.stdout)["results"][0]
    assert result["path"] == str(zen.folder()) and result["commit"] == "101"
    assert (zen.folder() / "weights.pth").read_bytes() == WEIGHTS
    assert (dest / "weights.pth").read_bytes() == WEIGHTS and (dest / "config.json").read_bytes() == CONFIG
    manifest = json.loads((zen.folder() / ".zoofind-record.json").read_text())
    assert manifest["files"]["weights.pth"] == {"size": len(WEIGHTS), "sha256": sha(WEIGHTS), "md5": md5(WEIGHTS)}
    assert manifest["concept"] == "100"
    downloads = [r for r in zen.server.log("/api/records/101/files/")]
    assert {r.status for r in downloads} == {302}  # each file through Zenodo's redirect to storage
    zen.server.clear()
    again = cli("pull", "zenodo:101", "--offline", "--json")
    assert again.code == 0, again.stderr
    assert zen.server.log() == []
    assert {f["status"] for f in json.loads(again.stdout)["results"][0]["files"]} == {"cached"}


def test_one_file_by_key_and_globs(zen, cli) -> None:
    ran = cli("pull", "zenodo:101/config.json", "--json")
    assert ran.code == 0, ran.stderr
    result = json.loads(ran.stdout)["results"][0]
    assert result["path"] == str(zen.folder() / "config.json")
    assert not (zen.folder() / "weights.pth").exists()
    globbed = cli("pull", "zenodo:101", "--include", "*.pth", "--json")
    status = {f["path"]: f["status"] for f in json.loads(globbed.stdout)["results"][0]["files"]}
    assert status == {"weights.pth": "downloaded", "config.json": "skipped"}
    assert set(json.loads((zen.folder() / ".zoofind-record.json").read_text())["files"]) == {"config.json",
                                                                                            "weights.pth"}
    nokey = cli("pull", "zenodo:101/nope.bin")
    assert nokey.code == 3 and "has no file 'nope.bin'" in nokey.stderr and "weights.pth" in nokey.stderr


def test_latest_and_a_concept_id_are_pinned_to_the_version_record(zen, cli, tmp_path) -> None:
    ran = cli("pull", "zenodo:101@latest", "--json")
    assert ran.code == 0, ran.stderr
    result = json.loads(ran.stdout)["results"][0]
    assert result["commit"] == "102" and result["path"] == str(zen.folder(102))
    assert any("record 102" in n for n in result["notes"])
    concept = cli("lock", "zenodo:100", "-o", str(tmp_path / "z.lock"))
    assert concept.code == 0, concept.stderr
    assert 'commit = "102"' in (tmp_path / "z.lock").read_text()
    offline = cli("pull", "zenodo:101@latest", "--offline", "--json")
    assert offline.code == 0, offline.stderr
    assert json.loads(offline.stdout)["results"][0]["commit"] == "102"


@pytest.mark.parametrize(("damage", "said"), [
    ({"md5s": {"weights.pth": "0" * 32}}, "md5"),
    ({"sizes": {"weights.pth": len(WEIGHTS) - 7}}, "do not match"),
    ({"sizes": {"weights.pth": len(WEIGHTS) + 7}}, "changed during the transfer"),  # its last range: a 416
])
def test_a_wrong_md5_or_size_fails_and_leaves_nothing_visible(zen, cli, damage, said) -> None:
    zen.server.records[501] = Rec(501, {"weights.pth": WEIGHTS, "config.json": CONFIG}, **damage)
    ran = cli("pull", "zenodo:501")
    assert ran.code == 1 and said in ran.stderr and "weights.pth" in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stderr
    assert not (zen.folder(501) / "weights.pth").exists()
    assert not (zen.folder(501) / ".zoofind-record.json").exists()
    assert "zenodo:501" not in cli("cache", "ls", "--json").stdout


def test_a_corrupted_transfer_is_caught_by_the_md5(zen, cli) -> None:
    zen.server.corrupt = {"weights.pth"}
    ran = cli("pull", "zenodo:101")
    assert ran.code == 1 and "md5" in ran.stderr and "weights.pth" in ran.stderr, ran.stderr
    assert not (zen.folder() / "weights.pth").exists()


@pytest.mark.parametrize(("rec", "said"), [
    (Rec(601, {"w.pt": b"w"}, keys={"w.pt": "../../escape.pt"}), "outside its folder"),
    (Rec(602, {"w.pt": b"w"}, keys={"w.pt": "/etc/passwd"}), "outside its folder"),
    (Rec(603, {"w.pt": b"w"}, keys={"w.pt": ".zoofind-record.json"}), "zoofind's own file"),
    (Rec(604, {"w.pt": b"w"}, sizes={"w.pt": 1 << 50}), "beyond anything Zenodo stores"),
])
def test_hostile_records_are_refused_with_nothing_written(zen, cli, rec, said) -> None:
    zen.server.records[rec.id] = rec
    ran = cli("pull", f"zenodo:{rec.id}")
    assert ran.code == 1 and said in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stderr
    assert not zen.folder(rec.id).exists()
    assert not (zen.store.parent / "escape.pt").exists() and not (zen.store / "escape.pt").exists()


def test_a_server_error_is_retried_with_retry_after(zen, cli) -> None:
    zen.server.fail_status, zen.server.fail_times, zen.server.retry_after = 429, 1, 1
    ran = cli("pull", "zenodo:101/config.json", "--timeout", "10")
    assert ran.code == 0, ran.stderr
    assert zen.server.failures == 1


def test_lock_cache_bundle_and_pull_from_the_lock(zen, cli, tmp_path) -> None:
    lockfile = tmp_path / "zoofind.lock"
    ran = cli("lock", "zenodo:101", "-o", str(lockfile))
    assert ran.code == 0, ran.stderr
    text = lockfile.read_text()
    assert 'commit = "101"' in text and sha(WEIGHTS) in text
    ls = cli("cache", "ls", "--json")
    assert ls.code == 0 and "zenodo:101" in ls.stdout
    assert cli("cache", "path", "zenodo:101").stdout.strip() == str(zen.folder())
    assert cli("cache", "path", "zenodo:101/weights.pth").stdout.strip() == str(zen.folder())
    assert cli("cache", "verify", "zenodo:101").code == 0
    bundle = tmp_path / "bundle.tar"
    exported = cli("export", str(bundle), "--lock", str(lockfile))
    assert exported.code == 0, exported.stderr
    (zen.folder() / "weights.pth").write_bytes(b"damaged")
    bad = cli("cache", "verify", "zenodo:101")
    assert bad.code != 0 and "sha256 mismatch" in bad.stdout + bad.stderr
    removed = cli("cache", "rm", "zenodo:101", "--yes")
    assert removed.code == 0, removed.stderr
    assert not zen.folder().exists()
    imported = cli("import", str(bundle))
    assert imported.code == 0, imported.stderr
    assert (zen.folder() / "weights.pth").read_bytes() == WEIGHTS
    zen.server.clear()
    offline = cli("pull", "--lock", str(lockfile), "--offline")
    assert offline.code == 0, offline.stderr
    assert zen.server.log() == []
    cli("cache", "rm", "zenodo:101", "--yes")
    online = cli("pull", "--lock", str(lockfile))
    assert online.code == 0, online.stderr
    assert not [r for r in zen.server.log() if r.path == "/api/records/101"]  # no metadata request
    assert (zen.folder() / "config.json").read_bytes() == CONFIG


def test_cite_the_record_itself_with_its_doi_offline_once_pulled(zen, cli) -> None:
    ran = cli("cite", "zenodo:101", "--format", "json")
    assert ran.code == 0, ran.stderr
    data = json.loads(ran.stdout)
    assert data["citations"][0]["id"] == "zenodo:101"
    ref = data["references"][0]["csl"]
    assert ref["DOI"] == "10.5281/zenodo.101" and ref["issued"]["date-parts"] == [[2024]]
    assert ref["author"][0] == {"family": "Doe", "given": "Jane"} and ref["author"][1] == {"family": "Roe",
                                                                                        "given": "Rick"}
    assert data["related"][0]["csl"]["DOI"] == "10.1038/s41592-020-01018-x"
    bib = cli("cite", "zenodo:101")
    assert "publisher = {Zenodo}" in bib.stdout and "version = {1.0}" in bib.stdout, bib.stdout
    assert cli("pull", "zenodo:101").code == 0
    zen.server.clear()
    offline = cli("cite", "zenodo:101", "--offline")
    assert offline.code == 0, offline.stderr
    assert "10.5281/zenodo.101" in offline.stdout and zen.server.log() == []


def test_the_engine_checks_an_md5(tmp_path) -> None:
    from zoofind.fetch.integrity import Hasher, IntegrityError, verify
    from zoofind.models.transfer import Expected

    h = Hasher(Expected(md5=md5(b"abc")), 3)
    h.update(b"abc")
    assert verify(h, Expected(md5=md5(b"abc")), "f") == sha(b"abc")
    wrong = Hasher(Expected(md5="0" * 32), 3)
    wrong.update(b"abc")
    with pytest.raises(IntegrityError, match="md5"):
        verify(wrong, Expected(md5="0" * 32), "f")
    assert Expected(md5="ab").identity == "md5:ab" and Expected(size=3, sha256="s", md5="ab").identity == "s"


def test_a_dropped_connection_resumes_with_a_range_and_sends_each_byte_about_once(zen, cli) -> None:
    big = random.Random(3).randbytes(3 * 1024 * 1024)
    zen.server.records[701] = Rec(701, {"big.ckpt": big})
    zen.server.faults_on = r"^GET /storage/"
    zen.server.drop_after, zen.server.drop_times = 1024 * 1024, 1
    ran = cli("pull", "zenodo:701", "--json")
    assert ran.code == 0, ran.stderr
    assert zen.server.drops == 1
    data = zen.server.log("/storage/")
    assert len(data) >= 2 and any(r.range and r.range != "bytes=0-" for r in data[1:])
    assert zen.server.bytes_sent <= len(big) * 1.1
    assert (zen.folder(701) / "big.ckpt").read_bytes() == big


def test_a_killed_pull_continues_from_its_partial(zen, cli) -> None:
    size = 4 * 1024 * 1024
    big = random.Random(4).randbytes(size)
    zen.server.records[702] = Rec(702, {"big.ckpt": big})
    zen.server.rate_bps = 1024 * 1024
    script = Path(sys.executable).with_name("zoofind")
    proc = subprocess.Popen([str(script), "pull", "zenodo:702", "-q"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and zen.server.bytes_sent < size // 2:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    first = zen.server.bytes_sent
    assert size // 4 < first < size, first
    assert not (zen.folder(702) / ".zoofind-record.json").exists() and not (zen.folder(702) / "big.ckpt").exists()
    zen.server.reset_faults()
    ran = cli("pull", "zenodo:702")
    assert ran.code == 0, ran.stderr
    assert zen.server.log("/storage/")[-1].range not in (None, "bytes=0-")
    assert zen.server.bytes_sent <= size * 1.1, (first, zen.server.bytes_sent)
    assert (zen.folder(702) / "big.ckpt").read_bytes() == big
