"""Every folder zoofind reads or writes, and the environment switches, in one place.

Each function reads the mapping it is given (a ``Context``'s snapshot of the
environment, taken once when a library call starts), never ``os.environ`` behind the
caller's back. platformdirs is imported only when a folder is actually needed: the
offline search path never touches the disk outside the package.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

Env = Mapping[str, str]

ENV_CACHE_DIR = "ZOOFIND_CACHE_DIR"
ENV_TTL = "ZOOFIND_CACHE_TTL"
DEFAULT_TTL = 6 * 3600.0
#: Any of these set to 1/true/yes/on means offline: zoofind's own and the Hugging Face tools'.
OFFLINE_VARIABLES = ("ZOOFIND_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def cache_dir(env: Env) -> Path:
    """zoofind's own cache (live answers, torchvision registries): ZOOFIND_CACHE_DIR overrides."""
    override = env.get(ENV_CACHE_DIR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("zoofind", appauthor=False))


def ttl_seconds(env: Env) -> float:
    """How long a cached live answer stays fresh (ZOOFIND_CACHE_TTL, seconds)."""
    raw = env.get(ENV_TTL)
    try:
        return float(raw) if raw else DEFAULT_TTL
    except ValueError:
        return DEFAULT_TTL


def hf_home(env: Env) -> Path:
    """Hugging Face's home folder (HF_HOME, else XDG_CACHE_HOME/huggingface), as huggingface_hub computes it."""
    home = env.get("HF_HOME") or os.path.join(env.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(os.path.expandvars(home)).expanduser()


def kaggle_config_dir(env: Env) -> Path:
    override = env.get("KAGGLE_CONFIG_DIR")
    return Path(override).expanduser() if override else Path("~/.kaggle").expanduser()


def env_flag(env: Env, name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def offline_in(env: Env) -> bool:
    """Whether any of the offline variables zoofind and the Hugging Face tools honour is set."""
    return any(env_flag(env, name) for name in OFFLINE_VARIABLES)


def endpoint(env: Env, variable: str | None, default: str) -> str:
    """A service's base URL: the override variable when set, else the default; no trailing slash."""
    value = (env.get(variable) or "").strip() if variable else ""
    return (value or default).rstrip("/")
