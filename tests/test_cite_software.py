"""`zoofind cite --with-software`: the libraries the cited models load with, each cited as its owners
ask (PyTorch's ASPLOS'24 paper from its CITATION.cff, torchvision's @software entry from its README,
...) else as @software with name, version and home page; the version installed here for ids, "not
recorded" for a lock (which records no library versions). pybtex reads every entry back."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import pytest
from pybtex.database import parse_string

from zoofind.catalog.frameworks import LIBRARIES
from zoofind.catalog.software import citations
from zoofind.models.cite import FROM_SOFTWARE
from zoofind.models.records import Record
from zoofind.ops.citeformats import bibtex_entry
from zoofind.ops.software import libraries_of, software_reference

MODELS = """
[meta]
layer = "curated"
description = "models that load with different libraries, and the PyTorch paper as a model's own paper"

[[entry]]
id = "hf:lab/vision"
kind = "model"
name = "Vision"
frameworks = ["pytorch"]
libraries = ["torchvision"]
reliability = "verified_primary"

[[entry]]
id = "hf:lab/graph"
kind = "model"
name = "Graph"
frameworks = ["mxnet"]
reliability = "verified_primary"

[[entry]]
id = "hf:lab/torch-itself"
kind = "model"
name = "Torch itself"
frameworks = ["pytorch"]
reliability = "verified_primary"
paper = { doi = "10.1145/3620665.3640366", title = "PyTorch 2", authors = ["Jason Ansel"], venue = "ASPLOS '24", year = 2024 }

[[entry]]
id = "hf:lab/bare"
kind = "model"
name = "Bare"
reliability = "verified_primary"
"""

TORCHVISION = metadata.version("torchvision")


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "models.toml").write_text(MODELS, encoding="utf-8")
    monkeypatch.setenv("ZOOFIND_CATALOG_DIR", str(folder))
    return folder


def lock_of(tmp_path: Path, *ids: str) -> Path:
    lock = tmp_path / "study.lock"
    lock.write_text('schema = 1\nzoofind = "9.9"\ncreated = 2025-03-04T05:06:07Z\n' + "".join(
        f'\n[[models]]\nid = "{i}"\ncommit = "' + "c" * 40 + '"\n[[models.files]]\npath = "model.safetensors"\n'
        'size = 9\nsha256 = "' + "b" * 64 + '"\nblob = "' + "b" * 64 + '"\n' for i in ids), encoding="utf-8")
    return lock


def test_bibtex_cites_the_framework_paper_and_the_library_with_the_installed_version(cli, models) -> None:
    r = cli("cite", "hf:lab/vision", "--with-software", "--offline")
    assert r.code == 0, r.stderr
    entries = parse_string(r.stdout, "bibtex").entries
    torch = entries["ansel2024pytorch"]
    assert torch.type == "inproceedings" and torch.fields["doi"] == "10.1145/3620665.3640366"
    assert len(torch.persons["author"]) == 49  # every author of the owners' CITATION.cff
    assert f"Cited for PyTorch {metadata.version('torch')}, which loaded hf:lab/vision" in " ".join(
        torch.fields["note"].split())
    vision = entries["torchvision2016"]
    assert (vision.type, vision.fields["version"]) == ("software", TORCHVISION)
    assert "read in github.com/pytorch/vision README.md" in " ".join(vision.fields["note"].split())
    # Without the flag: only the model (no paper known: cited as itself).
    assert list(parse_string(cli("cite", "hf:lab/vision", "--offline").stdout, "bibtex").entries) == ["lab_vision"]


def test_csl_json_text_and_json_carry_the_software_and_its_version(cli, models) -> None:
    items = {i["id"]: i for i in json.loads(cli("cite", "hf:lab/vision", "--with-software", "--offline",
                                                "--format", "csl-json").stdout)}
    assert items["ansel2024pytorch"]["type"] == "paper-conference"
    assert items["torchvision2016"]["type"] == "software" and items["torchvision2016"]["version"] == TORCHVISION
    assert {i["source"] for k, i in items.items() if k != "lab_vision"} == {FROM_SOFTWARE}
    lines = cli("cite", "hf:lab/vision", "--with-software", "--offline", "--format", "text").stdout.splitlines()
    assert any(line.startswith("TorchVision maintainers and contributors (2016). TorchVision: PyTorch's Computer "
                               f"Vision library. Version {TORCHVISION}.") for line in lines), lines
    body = json.loads(cli("cite", "hf:lab/vision", "--with-software", "--offline", "--format", "json").stdout)
    assert body["software"] == [
        {"library": "pytorch", "name": "PyTorch", "version": metadata.version("torch"), "key": "ansel2024pytorch",
         "used_for": ["hf:lab/vision"]},
        {"library": "torchvision", "name": "torchvision", "version": TORCHVISION, "key": "torchvision2016",
         "used_for": ["hf:lab/vision"]}]


def test_a_lock_records_no_library_versions_so_none_is_claimed(cli, models, tmp_path: Path) -> None:
    r = cli("cite", "--lock", str(lock_of(tmp_path, "hf:lab/vision")), "--with-software", "--offline")
    assert r.code == 0, r.stderr
    vision = parse_string(r.stdout, "bibtex").entries["torchvision2016"]
    assert "version" not in vision.fields
    assert "Cited for torchvision (version not recorded)" in " ".join(vision.fields["note"].split())
    assert (f"torchvision: version not recorded (the lock records no library versions; {TORCHVISION} is "
            "installed here)") in r.stderr


def test_a_library_not_installed_and_without_a_known_citation_is_a_plain_software_entry(cli, models) -> None:
    r = cli("cite", "hf:lab/graph", "--with-software", "--offline")
    assert r.code == 0, r.stderr
    mxnet = parse_string(r.stdout, "bibtex").entries["mxnet"]
    assert mxnet.type == "software" and mxnet.fields["title"] == "{Apache MXNet}"
    assert mxnet.fields["url"] == "https://mxnet.apache.org" and "version" not in mxnet.fields
    assert "author" not in mxnet.persons  # nothing invented
    assert "Apache MXNet: version not recorded (not installed here)" in r.stderr


def test_a_models_paper_that_is_the_frameworks_own_is_one_entry_cited_for_both(cli, models) -> None:
    r = cli("cite", "hf:lab/torch-itself", "--with-software", "--offline", "--format", "json")
    body = json.loads(r.stdout)
    assert [ref["key"] for ref in body["references"]] == ["ansel2024pytorch"]
    assert body["references"][0]["cited_for"][0] == "hf:lab/torch-itself"
    assert body["references"][0]["cited_for"][1].startswith("PyTorch ")


def test_an_id_with_no_library_known_says_so(cli, models) -> None:
    r = cli("cite", "hf:lab/bare", "--with-software", "--offline")
    assert r.code == 0, r.stderr
    assert "hf:lab/bare: no library to cite for it (the catalog names none it loads with)" in r.stderr


def test_methods_names_the_libraries_and_cites_them(cli, models, tmp_path: Path) -> None:
    lock = str(lock_of(tmp_path, "hf:lab/vision", "hf:lab/graph"))
    para = cli("cite", "--lock", lock, "--methods", "--with-software", "--offline").stdout
    assert "They were loaded with PyTorch~\\cite{ansel2024pytorch}, torchvision~\\cite{torchvision2016} and " \
           "Apache MXNet~\\cite{mxnet}. They were obtained on 2025-03-04 with zoofind 9.9~\\cite{zoofind}" in para
    assert "loaded with" not in cli("cite", "--lock", lock, "--methods", "--offline").stdout


def test_every_owners_citation_names_a_library_and_parses() -> None:
    for key in citations():
        assert key in LIBRARIES, key
        ref = software_reference(key, version="1.0", cited_for=key)
        assert list(parse_string(bibtex_entry(ref), "bibtex").entries) == [ref.key]


def test_libraries_of_a_record_are_its_framework_then_its_first_library() -> None:
    esm = Record(id="hf:facebook/esm2", source="hf", kind="model", name="ESM-2", frameworks=("pytorch", "tensorflow"),
                 libraries=("transformers", "fair-esm"))
    assert libraries_of(esm) == ["pytorch", "transformers"]
    assert libraries_of(esm, "tensorflow") == ["tensorflow", "transformers"]  # the lock's framework first
    assert libraries_of(None, "torch") == ["pytorch"]
    assert libraries_of(Record(id="hf:a/b", source="hf", kind="model", name="b", libraries=("timm",))) == [
        "pytorch", "timm"]
