"""torchvision's `cite` ability: a builder is cited with the papers its documentation names for its
architecture (the bundled table), with no request, offline too; pybtex reads the entries back."""

from __future__ import annotations

import json

import pytest
from pybtex.database import parse_string

from zoofind.hubs.torchvision.cite import FAMILIES, PAPERS, papers_of
from zoofind.models.cite import FROM_DOCS


def test_every_builder_of_the_installed_torchvision_has_its_papers() -> None:
    from torchvision.models import get_model_builder, list_models

    for name in list_models():
        ids = papers_of(name)
        assert ids, f"{name}: no paper in the table"
        doc = " ".join((get_model_builder(name).__doc__ or "").split())
        # What the docstring links is in the answer (squeezenet1_1 and the MobileNet Faster R-CNNs
        # link their family's page, not a paper).
        for arxiv in ids:
            if f"arxiv.org/abs/{arxiv}" in doc:
                assert " ".join(PAPERS[arxiv].split()) in doc or arxiv == "2201.08371", (name, arxiv)


def test_the_table_names_only_papers_it_has() -> None:
    assert {a for ids in FAMILIES.values() for a in ids} <= set(PAPERS)


@pytest.mark.parametrize(("ref", "ids"), [
    ("resnet50.IMAGENET1K_V2", ("1512.03385",)),
    ("quantized_resnet50", ("1512.03385",)),
    ("resnext50_32x4d", ("1611.05431",)),
    ("wide_resnet50_2", ("1605.07146",)),
    ("swin_t", ("2103.14030",)),
    ("swin_v2_t", ("2111.09883",)),
    ("swin3d_t", ("2106.13230",)),
    ("vit_h_14.IMAGENET1K_SWAG_E2E_V1", ("2010.11929", "2201.08371")),
    ("maskrcnn_resnet50_fpn_v2", ("1703.06870", "2111.11429")),
    ("nosuchnet", ()),
])
def test_the_longest_family_prefix_wins(ref: str, ids: tuple[str, ...]) -> None:
    assert papers_of(ref) == ids


def test_cite_a_builder_offline_gives_its_architectures_paper(cli) -> None:
    r = cli("cite", "torchvision:resnet152", "torchvision:resnet101.IMAGENET1K_V2", "--offline")
    assert r.code == 0, r.stderr
    entries = parse_string(r.stdout, "bibtex").entries
    assert len(entries) == 1  # two ResNets, one paper
    (key, entry), = entries.items()
    assert key == "2015deep"  # no author: the documentation names none, and none is invented
    assert entry.fields["title"] == "{Deep Residual Learning for Image Recognition}"
    assert entry.fields["eprint"] == "1512.03385" and entry.fields["year"] == "2015"
    assert "torchvision:resnet152" in entry.fields["note"] and "torchvision:resnet101.IMAGENET1K\\_V2" in entry.fields["note"]
    assert not entry.persons
    assert "documentation" in entry.fields["note"]
    assert "no paper known" not in r.stderr


def test_json_says_the_source_is_the_documentation(cli) -> None:
    r = cli("cite", "torchvision:fcos_resnet50_fpn", "--offline", "--format", "json")
    assert r.code == 0, r.stderr
    body = json.loads(r.stdout)
    assert [ref["source"] for ref in body["references"]] == [FROM_DOCS, FROM_DOCS]
    assert [ref["csl"]["number"] for ref in body["references"]] == ["arXiv:1904.01355", "arXiv:2006.09214"]


def test_a_curated_torchvision_entry_and_a_builder_of_one_architecture_give_one_entry(cli) -> None:
    # resnet50's default weights are curated (the catalog's paper answers); resnet18 is the docs table's.
    r = cli("cite", "torchvision:resnet50", "torchvision:resnet18", "--offline", "--format", "json")
    assert r.code == 0, r.stderr
    body = json.loads(r.stdout)
    assert len(body["references"]) == 1 and body["references"][0]["source"] == "catalog"
    assert body["references"][0]["cited_for"] == ["torchvision:resnet50", "torchvision:resnet18"]
