"""Every folder zoofind reads or writes, and the environment switches, in one place.

Each function reads the mapping it is given (a ``Context``'s snapshot of the
environment, taken once when a library call starts), never ``os.environ`` behind the
caller's back. platformdirs is imported only when a folder is actually needed: the
offline search path never touches the disk outside the package.

A switch set to a value zoofind cannot use falls back to its documented default, and
``problems`` says so in words (the Context turns them into warnings, the CLI prints
them). zoofind never creates a home folder that does not exist: a folder inside a
missing ``HOME`` raises ``MissingHomeError`` instead of being made (``inside_home``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from .errors import MissingHomeError, UsageError

Env = Mapping[str, str]

ENV_CACHE_DIR = "ZOOFIND_CACHE_DIR"
ENV_TTL = "ZOOFIND_CACHE_TTL"
DEFAULT_TTL = 6 * 3600.0
#: How many bytes one archive may expand to when extracted (unset: a bound from its own size, ``fetch.archive``).
ENV_MAX_EXTRACT = "ZOOFIND_MAX_EXTRACT"
#: Any of these set to 1/true/yes/on means offline: zoofind's own and the Hugging Face tools'.
OFFLINE_VARIABLES = ("ZOOFIND_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def cache_dir(env: Env) -> Path:
    """zoofind's own cache (live answers, torchvision registries): ZOOFIND_CACHE_DIR overrides.

    Raises ``MissingHomeError`` when the folder would lie inside a home folder that does
    not exist (see ``inside_home``).
    """
    override = env.get(ENV_CACHE_DIR)
    if override:
        return inside_home(Path(override).expanduser(), env)
    # lazy: not imported when ZOOFIND_CACHE_DIR names the folder (platformdirs ~9 ms)
    import platformdirs

    return inside_home(Path(platformdirs.user_cache_dir("zoofind", appauthor=False)), env)


def inside_home(folder: Path, env: Env) -> Path:
    """``folder``, unless it lies inside a home folder that does not exist.

    Creating ``~/.cache/zoofind`` with ``mkdir(parents=True)`` under a ``HOME`` that points
    nowhere (common for root in containers and for service users such as ``nobody``) would
    create the whole missing home path, as root anywhere on the disk. Every folder zoofind
    may create goes through here first.
    """
    home_text = env.get("HOME") or os.path.expanduser("~")
    if not home_text or home_text == "~":
        return folder
    home = Path(home_text)
    if not home.is_absolute() or home.is_dir():
        return folder
    try:
        folder.absolute().relative_to(home.absolute())
    except ValueError:
        return folder

    # The remedy is in the message itself: sources report only the message of what failed them.
    raise MissingHomeError(
        f"no cache: the home folder {str(home)!r} (HOME) does not exist, and zoofind does not create it; "
        f"set HOME to an existing folder, or {ENV_CACHE_DIR} to a folder zoofind may use"
    )


def _ttl(env: Env) -> tuple[float, str | None]:
    """ZOOFIND_CACHE_TTL as seconds, and what is wrong with it (None when nothing is)."""
    raw = (env.get(ENV_TTL) or "").strip()
    if not raw:
        return DEFAULT_TTL, None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if math.isfinite(value) and value >= 0:
        return value, None
    return DEFAULT_TTL, (
        f"{ENV_TTL}={raw!r} is not a number of seconds (0 or more); "
        f"using the default, {DEFAULT_TTL:.0f} s ({DEFAULT_TTL / 3600:.0f} h)"
    )


def ttl_seconds(env: Env) -> float:
    """How long a cached live answer stays fresh (ZOOFIND_CACHE_TTL, seconds; 0: never fresh).

    A value that is not a finite number of seconds >= 0 falls back to the default, and
    ``problems`` says so.
    """
    return _ttl(env)[0]


def _max_extract(env: Env) -> tuple[int | None, str | None]:
    """ZOOFIND_MAX_EXTRACT as bytes (None: unset), and what is wrong with it (None when nothing is)."""
    raw = (env.get(ENV_MAX_EXTRACT) or "").strip()
    if not raw:
        return None, None
    # lazy: not on zoofind.search()'s start-up, which extracts nothing
    from .units import parse_bytes

    value = parse_bytes(raw)
    if value is not None:
        return value, None
    # The default bound itself is the extractor's to state (fetch.archive.DEFAULT_BOUND): a refusal names it.
    return None, f"{ENV_MAX_EXTRACT}={raw!r} is not a size (e.g. 2GiB, 500M); using the default bound"


def max_extract(env: Env) -> int | None:
    """The bytes one archive may expand to (ZOOFIND_MAX_EXTRACT), or None for the default bound.

    A value that is not a size falls back to the default, and ``problems`` says so.
    """
    return _max_extract(env)[0]


def problems(env: Env) -> list[str]:
    """What is wrong with the environment switches zoofind reads, one sentence each with the
    fallback used; empty when nothing is."""
    found = [message for message in (_ttl(env)[1], _max_extract(env)[1]) if message]
    for name in OFFLINE_VARIABLES:
        raw = env.get(name, "").strip().lower()
        if raw not in _TRUE and raw not in _FALSE:
            found.append(f"{name}={env[name]!r} is neither 1/true/yes/on nor 0/false/no/off; treated as off (online)")
    return found


def hf_home(env: Env) -> Path:
    """Hugging Face's home folder (HF_HOME, else XDG_CACHE_HOME/huggingface), as huggingface_hub computes it."""
    home = env.get("HF_HOME") or os.path.join(env.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(os.path.expandvars(home)).expanduser()


def kaggle_config_dir(env: Env) -> Path:
    override = env.get("KAGGLE_CONFIG_DIR")
    return Path(override).expanduser() if override else Path("~/.kaggle").expanduser()


def env_flag(env: Env, name: str) -> bool:
    return env.get(name, "").strip().lower() in _TRUE


def offline_in(env: Env) -> bool:
    """Whether any of the offline variables zoofind and the Hugging Face tools honour is set."""
    return any(env_flag(env, name) for name in OFFLINE_VARIABLES)


def endpoint(env: Env, variable: str | None, default: str) -> str:
    """A service's base URL: the override variable when set, else the default; no trailing slash.

    An override that is not an http(s) address with a host (``HF_ENDPOINT=huggingface.co``,
    ``http://[::1``) is a ``UsageError`` naming the variable: falling back to the default
    would send requests (and a token) to a host the user meant to avoid.
    """
    value = (env.get(variable) or "").strip() if variable else ""
    url = (value or default).rstrip("/")
    if value:
        try:
            parts = urlsplit(url)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            ok = False
        if not ok:
            # lazy: not on search --offline or --help start-up, which meet no bad endpoint
            from .redaction import redact_text

            shown = redact_text(value)
            if "@" in shown and "***@" not in shown:  # userinfo without a scheme: still a secret
                shown = "***@" + shown.rsplit("@", 1)[1]
            raise UsageError(f"{variable}={shown!r} is not an http(s) address",
                             hint=f"set {variable} to a URL such as {default or 'https://host'}, or unset it")
    return url
