"""bioimageio: search, info, pull, lock, cache and bundles of BioImage Model Zoo models through the
real CLI, against tests/servers/hypha_server.py; bioimageio.spec referees what a pull placed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import yaml

from bioimageio_fixture import FILES, STATE_DICT, description, model, sha, zoo  # noqa: F401 - the fixture
from zoofind.core.context import Context
from zoofind.hubs import SearchQuery


def test_search_finds_models_by_keyword_and_hides_what_the_gallery_hides(zoo, cli) -> None:
    hidden = description(zoo.remote)
    hidden.update(name="Draft nuclei", status="draft")
    zoo.server.models["shy-newt"] = model(hidden)
    ran = cli("search", "nucleus segmentation", "-s", "bioimageio", "--format", "ids")
    assert ran.code == 0, ran.stderr
    found = ran.stdout.split()
    assert "bioimageio:tiny-nuclei" in found and "bioimageio:shy-newt" not in found
    listing = [r for r in zoo.server.log("/bioimage-io/artifacts/bioimage.io/children")]
    assert listing[0].query["keywords"] == ["nucleus,segmentation"]
    assert json.loads(listing[0].query["filters"][0]) == {"type": "model"}
    assert listing[0].query["pagination"] == ["true"]


def test_search_pages_through_the_collection(zoo, monkeypatch) -> None:
    from zoofind.hubs.bioimageio import api
    from zoofind.hubs.bioimageio.source import BioimageioSource

    monkeypatch.setattr(api, "PAGE", 1)
    answer = BioimageioSource().search(SearchQuery(text="Ronneberger", limit=5), Context(environ=dict(os.environ)))
    assert {r.id for r in answer.records} == {"bioimageio:tiny-nuclei", "bioimageio:calm-otter"}
    offsets = [r.query["offset"][0] for r in zoo.server.log("/bioimage-io/artifacts/bioimage.io/children")]
    assert offsets == ["0", "1"]  # stopped at the total (2), not at MAX_PAGES


def test_info_shows_weight_formats_frameworks_licence_authors_and_dois(zoo, cli) -> None:
    ran = cli("info", "bioimageio:tiny-nuclei", "--json")
    assert ran.code == 0, ran.stderr
    rec = json.loads(ran.stdout)["record"]
    assert rec["frameworks"] == ["pytorch", "onnx"]
    assert rec["extra"]["weights"] == {"pytorch_state_dict": "needs pytorch", "torchscript": "needs pytorch",
                                       "onnx": "needs onnx"}
    assert rec["license"] == "MIT" and rec["extra"]["authors"] == ["Constantin Pape"]
    assert "doi:10.1007/978-3-319-24574-4_28" in rec["extra"]["citations"][0]
    missing = cli("info", "bioimageio:no-such-model")
    assert missing.code == 3 and "bioimage.io has no model 'no-such-model'" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_pull_places_the_package_verified_then_its_manifest_and_offline_asks_nothing(zoo, cli) -> None:
    ran = cli("pull", "bioimageio:tiny-nuclei", "--json")
    assert ran.code == 0, ran.stderr
    result = json.loads(ran.stdout)["results"][0]
    folder = zoo.folder()
    assert result["path"] == str(folder) and result["revision"] == "v0"
    for name, data in FILES.items():
        assert (folder / name).read_bytes() == data
    entries = [p for p in os.listdir(zoo.root) if p.startswith("entry__url_")]
    assert len(entries) == 1 and (zoo.root / entries[0]).read_bytes() == STATE_DICT
    assert set(zoo.manifest()["files"]) == {"rdf.yaml", *FILES, entries[0]}
    zoo.server.clear()
    again = cli("pull", "bioimageio:tiny-nuclei", "--offline", "--json")
    assert again.code == 0, again.stderr
    assert zoo.server.log() == []
    assert {f["status"] for f in json.loads(again.stdout)["results"][0]["files"]} == {"cached"}


def test_include_a_format_keeps_its_weights_and_drops_the_others(zoo, cli) -> None:
    ran = cli("pull", "bioimageio:tiny-nuclei", "--include", "torchscript", "--json")
    assert ran.code == 0, ran.stderr
    status = {f["path"]: f["status"] for f in json.loads(ran.stdout)["results"][0]["files"]}
    assert status["weights.pt"] == "downloaded" and status["test_input.npy"] == "downloaded"
    assert status["weights.onnx"] == "skipped" and status["tiny.py"] == "skipped"
    assert not any(p.startswith("entry__url_") for p in os.listdir(zoo.root))


def test_a_damaged_file_fails_the_pull_and_leaves_no_model(zoo, cli) -> None:
    zoo.server.corrupt = {"weights.onnx"}
    ran = cli("pull", "bioimageio:tiny-nuclei")
    assert ran.code == 1, ran.stderr
    assert "weights.onnx" in ran.stderr and "Traceback" not in ran.stderr
    assert not (zoo.folder() / ".zoofind-package.json").exists()
    assert not (zoo.folder() / "weights.onnx").exists()
    ls = cli("cache", "ls", "--json")
    assert "bioimageio:" not in ls.stdout


@pytest.mark.parametrize(("source", "said"), [
    ("../../escape.pt", "outside its folder"),
    ("/etc/passwd", "outside its folder"),
    ("file:///etc/passwd", "a file: address"),
    ("ftp://example.org/w.pt", "a ftp: address"),
])
def test_hostile_sources_in_an_rdf_are_refused_and_nothing_is_written(zoo, cli, source, said) -> None:
    rdf = description(zoo.remote)
    rdf["weights"]["onnx"]["source"] = source
    zoo.server.models["evil-eel"] = model(rdf)
    ran = cli("pull", "bioimageio:evil-eel")
    assert ran.code == 1 and said in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stderr
    assert not (zoo.root / "packages" / "evil-eel").exists()
    assert not (zoo.root.parent / "escape.pt").exists()


def test_a_url_without_a_sha256_is_not_fetched(zoo, cli) -> None:
    rdf = description(zoo.remote)
    rdf["covers"] = [f"{zoo.server.url}/elsewhere/state.pt"]
    zoo.server.models["odd-owl"] = model(rdf)
    ran = cli("pull", "bioimageio:odd-owl", "--json")
    assert ran.code == 0, ran.stderr
    skipped = [f for f in json.loads(ran.stdout)["results"][0]["files"] if f["status"] == "skipped"]
    assert len(skipped) == 1 and "without a sha256" in skipped[0]["reason"]


def test_an_alias_bomb_is_refused(zoo, cli) -> None:
    body = b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
    zoo.server.models["bomb-bat"] = model({}, files={})
    zoo.server.models["bomb-bat"].files["v0"]["rdf.yaml"] = body
    ran = cli("pull", "bioimageio:bomb-bat")
    assert ran.code == 1 and "aliases are not accepted" in ran.stderr, ran.stderr


def test_versions_are_revisions(zoo, cli) -> None:
    m = zoo.server.models["tiny-nuclei"]
    m.files["v1"] = dict(m.files["v0"])
    ran = cli("pull", "bioimageio:tiny-nuclei@v0", "--json")
    assert ran.code == 0, ran.stderr
    assert json.loads(ran.stdout)["results"][0]["path"] == str(zoo.folder(version="v0"))
    bad = cli("pull", "bioimageio:tiny-nuclei@v7")
    assert bad.code == 3 and "its versions: v0, v1" in bad.stderr


def test_lock_pull_from_the_lock_cache_and_bundles(zoo, cli, tmp_path) -> None:
    lockfile = tmp_path / "zoofind.lock"
    ran = cli("lock", "bioimageio:tiny-nuclei", "-o", str(lockfile))
    assert ran.code == 0, ran.stderr
    text = lockfile.read_text()
    assert 'commit = "v0"' in text and "rdf.yaml" in text and sha(FILES["weights.pt"]) in text
    ls = cli("cache", "ls", "--json")
    assert ls.code == 0, ls.stderr
    assert "bioimageio:tiny-nuclei" in ls.stdout
    verify = cli("cache", "verify", "bioimageio:tiny-nuclei")
    assert verify.code == 0, verify.stdout + verify.stderr
    bundle = tmp_path / "bundle.tar"
    exported = cli("export", str(bundle), "--lock", str(lockfile))
    assert exported.code == 0, exported.stderr
    (zoo.folder() / "weights.pt").write_bytes(b"damaged")
    assert cli("cache", "verify", "bioimageio:tiny-nuclei").code != 0
    removed = cli("cache", "rm", "bioimageio:tiny-nuclei", "--yes")
    assert removed.code == 0, removed.stderr
    assert not (zoo.root / "packages" / "tiny-nuclei").exists()
    assert not any(p.startswith("entry__url_") for p in os.listdir(zoo.root))
    imported = cli("import", str(bundle))
    assert imported.code == 0, imported.stderr
    assert (zoo.folder() / "weights.pt").read_bytes() == FILES["weights.pt"]
    zoo.server.clear()
    offline = cli("pull", "--lock", str(lockfile), "--offline")
    assert offline.code == 0, offline.stderr
    assert zoo.server.log() == []
    cli("cache", "rm", "bioimageio:tiny-nuclei", "--yes")
    online = cli("pull", "--lock", str(lockfile))
    assert online.code == 0, online.stderr
    assert (zoo.folder() / "weights.onnx").read_bytes() == FILES["weights.onnx"]


REFEREE = textwrap.dedent("""
    import hashlib, socket, sys
    calls = []
    def refuse(*args, **kwargs):
        calls.append(args[:2]); raise OSError("network blocked by the test")
    socket.socket.connect = refuse
    socket.getaddrinfo = refuse
    from bioimageio.spec import load_description
    from bioimageio.spec.utils import download
    checks = sys.argv[2] == "io"
    d = load_description(sys.argv[1], perform_io_checks=checks)
    assert type(d).__name__ == "ModelDescr", d.validation_summary.format()
    for fmt, w in d.weights.model_dump(exclude_none=True).items():
        data = download(getattr(d.weights, fmt)).read()
        assert hashlib.sha256(data).hexdigest() == w["sha256"], fmt
    print(d.validation_summary.status, sorted(d.weights.model_dump(exclude_none=True)), calls)
""")


def referee(zoo, rdf_path, mode: str) -> str:
    import bioimageio.spec  # noqa: F401 - a test dependency: fails here, never skips, when it is missing
    env = {**os.environ, "BIOIMAGEIO_CACHE_PATH": str(zoo.root)}
    done = subprocess.run([sys.executable, "-c", REFEREE, str(rdf_path), mode], capture_output=True, text=True,
                          env=env, timeout=120, cwd=zoo.root)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_referee_bioimageio_spec_resolves_every_weight_offline(zoo, cli) -> None:
    """The rdf names one weights file by URL: bioimageio.spec's reader finds it in its own cache."""
    assert cli("pull", "bioimageio:tiny-nuclei").code == 0
    out = referee(zoo, zoo.folder() / "rdf.yaml", "no-io")
    assert out.strip().endswith("['onnx', 'pytorch_state_dict', 'torchscript'] []"), out


def test_referee_bioimageio_spec_validates_a_package_of_relative_files_with_zero_requests(zoo, cli) -> None:
    rdf = description(zoo.remote)
    rdf["weights"]["pytorch_state_dict"]["source"] = "state.pt"
    zoo.server.models["local-lynx"] = model(rdf, files={**FILES, "state.pt": STATE_DICT})
    assert cli("pull", "bioimageio:local-lynx").code == 0
    out = referee(zoo, zoo.folder("local-lynx") / "rdf.yaml", "io")
    assert out.startswith("valid-format") and out.strip().endswith("[]"), out


def test_snapshot_entries_are_searchable_offline(cli) -> None:
    ran = cli("search", "nucleus segmentation fluorescence", "-s", "catalog", "--offline", "--format", "ids")
    assert ran.code == 0, ran.stderr
    assert any(i.startswith("bioimageio:") for i in ran.stdout.split())
    assert yaml  # the description format's reader is installed with zoofind's dependencies
