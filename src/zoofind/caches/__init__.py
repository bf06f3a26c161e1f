"""What every hub's cache layout shares; the layouts themselves are their hubs' (``hubs/<hub>/``).

* ``layout``: listing, checking and removing any layout: a tree's size and last use, links into
  the shared tier, deleting without following links, stale partials, ``PlainLayout``.
* ``shared``: the read-only shared tier (``ZOOFIND_SHARED_CACHE``): each hub declares where its
  cache sits in a cache home (``shared.declare``, a ``Place``), and the tier finds, checks and
  links a file from every root for any hub that did.
* ``torch_hub``: torch.hub's folders (``$TORCH_HOME/hub``, its ``checkpoints/``), the one layout two
  hubs share (checkpoints from a model registry, repositories with their ``hubconf.py``).
* ``safe_relpath`` (here): a server-given file name that stays inside its folder.

Nothing here names a hub, downloads or prints.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from ..core.errors import BadAnswerError


def safe_relpath(path: str, *, what: str) -> str:
    """A server-given file name that stays inside its folder, else ``BadAnswerError``.

    Refused: empty names, absolute paths, ``..`` or ``.`` segments, backslashes, NUL and
    other control characters, so nothing a server names can land outside the target.
    """
    parts = PurePosixPath(path).parts if path else ()
    bad = (
        not parts or path.startswith("/") or "\\" in path or any(ord(c) < 32 or c == "\x7f" for c in path)
        or any(p in ("..", ".", "") for p in path.split("/"))
    )
    if bad:
        raise BadAnswerError(f"{what} names a file {path!r} that would land outside its folder; refused",
                             hint="the server is misbehaving or hostile; nothing was written")
    return path
