"""Kaggle credentials, found where kagglesdk and the ``kaggle`` CLI look for them.

First found wins:

1. ``KAGGLE_API_TOKEN``: a token, or the path of a file holding one (kagglesdk accepts
   both); sent as ``Authorization: Bearer``.
2. ``KAGGLE_USERNAME`` + ``KAGGLE_KEY``: HTTP basic.
3. In the Kaggle config folder (``KAGGLE_CONFIG_DIR``, else ``~/.kaggle``): ``access_token``
   (or ``access_token.txt``), bearer; then ``kaggle.json`` (``{"username", "key"}``), basic.

Read from the call's environment snapshot (``ctx.environ``). The secret lives only in a
``Credentials``' header: never printed, logged, cached or put in an error message (repr
and str show where it came from; cache keys use ``fingerprint``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from ...core.paths import kaggle_config_dir
from ...core.redaction import fingerprint

#: What to do about missing or rejected credentials.
HINT = ("set KAGGLE_API_TOKEN, or KAGGLE_USERNAME and KAGGLE_KEY, or ~/.kaggle/kaggle.json "
        "(a new token: kaggle.com/settings)")


class Credentials:
    """An Authorization header and where it came from; repr and str never show the secret."""

    __slots__ = ("_header", "origin")

    def __init__(self, header: str, origin: str) -> None:
        self._header = header
        self.origin = origin

    def headers(self) -> dict[str, str]:
        return {"Authorization": self._header}

    def fingerprint(self) -> str:
        """Which account an answer was fetched with (private models differ), without the secret."""
        return fingerprint(self._header)

    def __repr__(self) -> str:
        return f"Credentials(origin={self.origin!r})"

    __str__ = __repr__


def _bearer(token: str, origin: str) -> Credentials:
    return Credentials(f"Bearer {token}", origin)


def _basic(user: str, key: str, origin: str) -> Credentials:
    import base64  # lazy: only for KAGGLE_USERNAME/KEY: off cached-answer search start-up

    return Credentials("Basic " + base64.b64encode(f"{user}:{key}".encode()).decode(), origin)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def credentials(env: Mapping[str, str]) -> Credentials | None:
    """The first credentials found (see the module docstring), or None."""
    token = env.get("KAGGLE_API_TOKEN", "").strip()
    if token:
        # kagglesdk: the variable may hold the token or the path of a file holding it.
        path = os.path.expanduser(token)
        if os.path.isfile(path):
            token = _read(path) or ""
        if token:
            return _bearer(token, "KAGGLE_API_TOKEN")
    user, key = env.get("KAGGLE_USERNAME", "").strip(), env.get("KAGGLE_KEY", "").strip()
    if user and key:
        return _basic(user, key, "KAGGLE_USERNAME/KAGGLE_KEY")
    folder = kaggle_config_dir(env)
    for name in ("access_token", "access_token.txt"):
        token = _read(str(folder / name)) or ""
        if token:
            return _bearer(token, str(folder / name))
    text = _read(str(folder / "kaggle.json"))
    if text:
        try:
            data = json.loads(text)
            if data.get("username") and data.get("key"):
                return _basic(str(data["username"]), str(data["key"]), str(folder / "kaggle.json"))
        except (ValueError, AttributeError):
            pass  # a broken kaggle.json is no credentials, not a crash
    return None
