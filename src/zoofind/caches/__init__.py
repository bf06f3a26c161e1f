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

import re

from ..core.errors import BadAnswerError

#: A backslash, NUL or another control character (DEL too) anywhere in a name.
#: What every name zoofind writes beside a model's files starts with; a file's name never does.
#: (Here, not in ``manifest``: a hub's record mapping reads it on the search path, which must not
#: load the manifest's hashing.)
OWN = ".zoofind"

_BAD_CHARACTER = re.compile(r"[\x00-\x1f\x7f\\]")
#: An empty, ``.`` or ``..`` segment (a leading ``/`` makes the first one empty).
_BAD_SEGMENT = re.compile(r"/(\.{0,2})/")


def safe_relpath(path: str, *, what: str) -> str:
    """A server-given file name that stays inside its folder, else ``BadAnswerError``.

    Refused: empty names, absolute paths, ``..`` or ``.`` segments, backslashes, NUL and
    other control characters, so nothing a server names can land outside the target.
    """
    if not path or _BAD_CHARACTER.search(path) or _BAD_SEGMENT.search(f"/{path}/"):
        raise BadAnswerError(f"{what} names a file {path!r} that would land outside its folder; refused",
                             hint="the server is misbehaving or hostile; nothing was written")
    return path
