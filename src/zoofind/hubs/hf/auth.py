"""The Hugging Face token, found where huggingface_hub's tools keep it.

In order (huggingface_hub's ``get_token`` order): ``HF_TOKEN``, then
``HUGGING_FACE_HUB_TOKEN`` (its older name), then the token file: ``HF_TOKEN_PATH``,
else ``$HF_HOME/token``, which ``hf auth login`` writes and ``hf auth switch`` rewrites
from the stored tokens (``$HF_HOME/stored_tokens``). With ``HF_OIDC_RESOURCE`` set
(Trusted Publishers in CI), huggingface_hub's public ``get_token()`` makes the OIDC
exchange. Read from the call's environment snapshot; the value is never printed,
logged, cached or put in an error message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ...core.paths import hf_home
from ...core.redaction import fingerprint as secret_fingerprint


def token_path(env: Mapping[str, str]) -> Path:
    override = env.get("HF_TOKEN_PATH")
    if override:
        return Path(os.path.expandvars(override)).expanduser()
    return hf_home(env) / "token"


def find_token(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(token, where it came from) or (None, None)."""
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        value = (env.get(name) or "").strip()
        if value:
            return value, name
    if (env.get("HF_OIDC_RESOURCE") or "").strip():
        # lazy: huggingface_hub (~250 ms) only for an OIDC token: off every hf start-up
        from huggingface_hub import get_token

        token = get_token()
        if token:
            return token, "OIDC (HF_OIDC_RESOURCE)"
    try:
        value = token_path(env).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None, None
    return (value, "token file") if value else (None, None)


def fingerprint(token: str | None) -> str | None:
    """Which token an answer was fetched with, for cache keys, without the token itself."""
    return secret_fingerprint(token) if token else None
