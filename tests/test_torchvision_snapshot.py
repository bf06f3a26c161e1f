"""catalog/torchvision.toml must match the registry of the installed torchvision.

Needs the torchvision extra; skipped without it locally, a failure on CI.
"""

from __future__ import annotations

import importlib.util
import os
from collections import Counter
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "catalog" / "torchvision.toml"
SCRIPT = ROOT / "scripts" / "build_torchvision.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("build_torchvision", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def builder():
    return _load_script()


@pytest.fixture(scope="module")
def snapshot() -> dict:
    with SNAPSHOT.open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture(scope="module")
def torchvision():
    # Imported here, not at module level: importing torch costs seconds at collection.
    try:
        import torchvision
    except ImportError as exc:
        if os.environ.get("CI"):
            pytest.fail(
                "torchvision is not importable; CI must install the torchvision extra "
                f"to check catalog/torchvision.toml ({exc})"
            )
        pytest.skip(f"torchvision not installed: {exc}")
    return torchvision


@pytest.fixture(scope="module")
def collected(builder, torchvision) -> list[dict]:
    return builder.collect()


def test_meta_matches_installed_torchvision(builder, snapshot, torchvision):
    meta = snapshot["meta"]
    version = builder.tv_version_string(torchvision.__version__)
    assert meta["torchvision_version"] == version, (
        f"catalog/torchvision.toml was generated from torchvision {meta['torchvision_version']}, "
        f"installed is {version}: run python scripts/build_torchvision.py"
    )
    assert meta["source"] == f"torchvision {version}"
    assert meta["layer"] == "snapshot"
    assert meta["generated_by"] == "scripts/build_torchvision.py"
    assert meta["count"] == len(snapshot["entry"])


def test_entries_match_registry(snapshot, collected):
    committed = snapshot["entry"]
    assert [e["id"] for e in committed] == [e["id"] for e in collected], (
        "the set or order of ids differs: run python scripts/build_torchvision.py"
    )
    for old, new in zip(committed, collected):
        assert old == new, f"{old['id']} is out of date: run python scripts/build_torchvision.py"


def test_render_is_what_is_committed(builder, collected, snapshot, torchvision):
    rendered = tomllib.loads(builder.render(collected, torchvision.__version__))
    assert rendered == snapshot


def test_counts(builder, snapshot):
    entries = snapshot["entry"]
    version = snapshot["meta"]["torchvision_version"]
    assert version in builder.EXPECTED_COUNTS, f"record the expected counts for torchvision {version}"
    n_models, n_weights = builder.EXPECTED_COUNTS[version]
    assert version != "0.29.1" or (n_models, n_weights) == (121, 166)
    builders = {e["extra"]["builder"] for e in entries}
    assert len(builders) == n_models
    assert len(entries) == n_weights
    assert len({e["id"] for e in entries}) == len(entries)


def test_registry_lists_every_builder(builder, torchvision):
    from torchvision.models import list_models

    version = builder.tv_version_string(torchvision.__version__)
    if version in builder.EXPECTED_COUNTS:
        assert len(list_models()) == builder.EXPECTED_COUNTS[version][0]


def test_one_default_per_builder(snapshot):
    defaults = Counter(e["extra"]["builder"] for e in snapshot["entry"] if e["extra"]["default"])
    builders = {e["extra"]["builder"] for e in snapshot["entry"]}
    assert set(defaults) == builders
    assert all(n == 1 for n in defaults.values()), {b: n for b, n in defaults.items() if n != 1}


def test_entry_shape(snapshot):
    allowed = {
        "id", "kind", "name", "description", "tasks", "frameworks", "libraries", "license",
        "architecture", "datasets", "tags", "params", "size_bytes", "reliability", "evidence",
        "notes", "extra",
    }
    tv_tasks = {"classification", "detection", "segmentation", "video", "optical_flow", "quantized"}
    for e in snapshot["entry"]:
        assert set(e) <= allowed, (e["id"], set(e) - allowed)
        extra = e["extra"]
        assert e["id"] == f"torchvision:{extra['builder']}.{extra['weights']}"
        assert e["kind"] == "model" and e["reliability"] == "generated"
        assert e["frameworks"] == ["pytorch"] and e["libraries"] == ["torchvision"]
        assert extra["tv_task"] in tv_tasks
        assert extra["url"].startswith("https://")
        assert e["tasks"] and e["datasets"] and e["architecture"]


def test_script_and_package_share_one_registry_reader(builder):
    from zoofind.hubs.torchvision import installed, registry

    assert builder.collect is registry.collect
    assert builder.tv_version_string is installed.tv_version_string


def test_installed_torchvision_matches_the_imported_torchvision(builder, torchvision):
    from zoofind.hubs.torchvision.installed import installed_torchvision

    assert installed_torchvision() == builder.tv_version_string(torchvision.__version__)
