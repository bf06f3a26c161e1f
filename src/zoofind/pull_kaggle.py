"""`zoofind pull kaggle:...`: Kaggle models into kagglehub's own cache.

Kaggle serves model files only to an account. ``plan_kaggle`` fills a pull plan (the
files, their targets and downloads) the way ``pull_runner`` does for the other hubs;
``place_kaggle`` makes the verified files visible where kagglehub looks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .context import Context
from .errors import AccessDeniedError, ZoofindError
from .records import ParsedId

if TYPE_CHECKING:
    from .fetch.engine import Download
    from .pull_runner import PullOptions, _Plan


def plan_kaggle(plan: "_Plan", pid: ParsedId, ctx: Context, opts: "PullOptions") -> None:
    """Without credentials, say how to get them; with them (not built yet) say what fetches it."""
    from .sources.kaggle.auth import credentials

    if credentials(ctx.environ) is None:
        raise AccessDeniedError(
            f"{pid}: Kaggle serves model files only with credentials, and none are set",
            hint="create a token at https://www.kaggle.com/settings and set KAGGLE_API_TOKEN "
                 "(or KAGGLE_USERNAME and KAGGLE_KEY, or ~/.kaggle/kaggle.json)",
        )
    raise ZoofindError(f"{pid}: pull cannot fetch Kaggle models yet",
                       hint=f"kagglehub fetches it into the same cache: python -c \"import kagglehub; print(kagglehub.model_download('{pid.ref}'))\"")


def place_kaggle(plan: "_Plan", by_label: dict[str, "Download"]) -> None:
    raise ZoofindError(f"{plan.id}: pull cannot place Kaggle models yet")
