"""Every folder zoofind reads or writes, with its environment override, in one place.

platformdirs is imported only when a folder is actually needed: the offline search
path never touches the disk outside the package.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_CACHE_DIR = "ZOOFIND_CACHE_DIR"


def cache_dir() -> Path:
    """zoofind's own cache (live answers, torchvision registries): ZOOFIND_CACHE_DIR overrides."""
    override = os.environ.get(ENV_CACHE_DIR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("zoofind", appauthor=False))


def hf_home() -> Path:
    """Hugging Face's cache root, as huggingface_hub resolves it (HF_HUB_CACHE > HF_HOME)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(home).expanduser() / "hub"


def torch_home() -> Path:
    """torch.hub's folder (TORCH_HOME > XDG_CACHE_HOME/torch), as torch.hub computes it."""
    home = os.environ.get("TORCH_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "torch")
    return Path(home).expanduser()


def tfhub_cache() -> Path:
    """tensorflow_hub's module cache (TFHUB_CACHE_DIR, else <tmp>/tfhub_modules)."""
    override = os.environ.get("TFHUB_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    import tempfile

    return Path(tempfile.gettempdir()) / "tfhub_modules"


def kaggle_config_dir() -> Path:
    override = os.environ.get("KAGGLE_CONFIG_DIR")
    return Path(override).expanduser() if override else Path("~/.kaggle").expanduser()
