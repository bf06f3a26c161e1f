"""Installed versions read from dist-info folder names agree with importlib.metadata."""

from importlib import metadata

from zoofind.catalog.frameworks import check_requirements, dist_version


def test_versions_agree_with_importlib_metadata_for_every_installed_distribution() -> None:
    names = {d.metadata["Name"] for d in metadata.distributions() if d.metadata["Name"]}
    assert len(names) > 20
    for name in names:
        assert dist_version(name) == metadata.version(name), name
    for spelling in ("huggingface-hub", "huggingface_hub", "HuggingFace.Hub"):
        assert dist_version(spelling) == metadata.version("huggingface_hub")


def test_a_missing_distribution_is_none() -> None:
    assert dist_version("zoofind-no-such-package") is None
    assert check_requirements(["zoofind-no-such-package"])[0].installed is None
