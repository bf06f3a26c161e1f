"""Every folder zoofind reads or writes, and the environment switches, in one place.

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
    """Hugging Face's home folder (HF_HOME, else XDG_CACHE_HOME/huggingface), as huggingface_hub computes it."""
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(os.path.expandvars(home)).expanduser()


def kaggle_config_dir() -> Path:
    override = os.environ.get("KAGGLE_CONFIG_DIR")
    return Path(override).expanduser() if override else Path("~/.kaggle").expanduser()


OFFLINE_VARIABLES = ("ZOOFIND_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def offline_requested(flag: bool = False) -> bool:
    """--offline, or any of the offline variables zoofind and the Hugging Face tools honour."""
    return flag or any(env_flag(name) for name in OFFLINE_VARIABLES)
