"""The read-only shared tier: model folders an admin filled once for a whole lab.

``ZOOFIND_SHARED_CACHE`` names one or more folders (separated by ``:``, as ``PATH`` is),
each laid out as a cache home (``$XDG_CACHE_HOME``) is, so an admin fills one with zoofind
itself (``XDG_CACHE_HOME=/shared/models zoofind pull ...``)::

    <root>/huggingface/hub/              a Hugging Face hub cache
    <root>/torch/hub/checkpoints/        torch.hub's checkpoint folder
    <root>/tfhub_modules/                TF Hub module folders named by sha1

zoofind never writes below these folders (they may be read-only mounts): ``pull`` checks a
file there (size and hash) and links it into the user's own cache instead of downloading,
and ``cache ls`` shows which tier holds what. Roots that do not exist are left out, so
one setting works on every node whether or not the mount is there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

ENV = "ZOOFIND_SHARED_CACHE"


def roots(env: Mapping[str, str]) -> tuple[Path, ...]:
    """The shared tier's folders that exist, in the order given, duplicates dropped."""
    out: list[Path] = []
    for part in (env.get(ENV) or "").split(":"):
        part = part.strip()
        if not part:
            continue
        root = Path(part).expanduser()
        if root.is_dir() and root not in out:
            out.append(root)
    return tuple(out)


def hub_caches(env: Mapping[str, str]) -> tuple[Path, ...]:
    """Each shared root's Hugging Face hub cache."""
    return tuple(r / "huggingface" / "hub" for r in roots(env))


def checkpoint_dirs(env: Mapping[str, str]) -> tuple[Path, ...]:
    """Each shared root's torch.hub checkpoint folder."""
    return tuple(r / "torch" / "hub" / "checkpoints" for r in roots(env))


def tfhub_dirs(env: Mapping[str, str]) -> tuple[Path, ...]:
    """Each shared root's TF Hub module cache."""
    return tuple(r / "tfhub_modules" for r in roots(env))


def tier_of(path: Path, env: Mapping[str, str]) -> str:
    """``shared`` when ``path`` lies below a shared root, else ``local``."""
    absolute = path.absolute()
    for root in roots(env):
        try:
            absolute.relative_to(root.absolute())
        except ValueError:
            continue
        return "shared"
    return "local"
