"""The HTTP client zoofind's own requests use (TF Hub, Kaggle, downloads).

httpx is imported here, and this module only from networked code paths.
"""

from __future__ import annotations

from typing import Any

from . import __version__

USER_AGENT = f"zoofind/{__version__} (+https://arxiv.org/abs/2003.11755)"


def client(timeout: float, **kwargs: Any) -> Any:
    import httpx

    headers = {"User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), headers=headers, **kwargs)
