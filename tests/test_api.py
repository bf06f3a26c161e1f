"""The Python API, as the README shows it: the same records as the CLI, nothing printed, documented errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

import zoofind


def test_search_returns_ranked_frozen_records(capsys):
    result = zoofind.search("protein language model", offline=True, limit=5)
    assert len(result.hits) == 5 and result.offline
    assert result.hits[0].score >= result.hits[-1].score
    record = result.hits[0].record
    assert isinstance(record, zoofind.Record) and record.id.startswith("hf:")
    with pytest.raises(AttributeError):
        record.name = "changed"  # type: ignore[misc]
    assert {s.name: s.status for s in result.sources}["catalog"] == "ok"
    assert capsys.readouterr() == ("", "")  # the library never prints


def test_keyword_arguments_mirror_the_flags():
    hits = zoofind.search(task="optical-flow", source="torchvision", limit=3, offline=True).hits
    assert len(hits) == 3 and all(h.record.id.startswith("torchvision:raft") for h in hits)
    assert all(h.record.source == "catalog" for h in zoofind.search(kind="resource", source=["catalog"], offline=True).hits)


def test_info_says_what_a_model_needs():
    result = zoofind.info("hf:facebook/esm2_t6_8M_UR50D", offline=True)
    assert isinstance(result, zoofind.InfoResult)
    assert result.record.curated and "transformers" in [r.package for r in result.requirements]
    assert result.install is None or result.install.startswith("pip install ")


@pytest.mark.parametrize(("call", "error", "code"), [
    (lambda: zoofind.info("pypi:numpy"), zoofind.UsageError, 2),
    (lambda: zoofind.info("catalog:no-such-resource", offline=True), zoofind.NotFoundError, 3),
    (lambda: zoofind.search("x", sort="sideways"), zoofind.UsageError, 2),
    (lambda: zoofind.search("x", timeout=0), zoofind.UsageError, 2),
    (lambda: zoofind.search("x", source="nowhere"), zoofind.UsageError, 2),
])
def test_errors_are_documented_kinds_with_exit_codes_and_hints(call, error, code):
    with pytest.raises(error) as raised:
        call()
    assert isinstance(raised.value, zoofind.ZoofindError) and raised.value.exit_code == code


def test_import_is_cheap():
    code = ("import sys, zoofind; heavy = [m for m in ('httpx', 'stamina', 'huggingface_hub', 'rich', 'typer', "
            "'zoofind.catalog', 'zoofind.ops.find') if m in sys.modules]; assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
