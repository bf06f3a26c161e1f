"""torch.hub's folders, shared by every hub whose files torch.hub loads: ``$TORCH_HOME/hub``
(repositories, each ``<owner>_<repo>_<ref>/``) and its checkpoint folder
``$TORCH_HOME/hub/checkpoints/<file name of the URL>``.

``TORCH_HOME`` defaults to ``$XDG_CACHE_HOME/torch``, else ``~/.cache/torch``, as
``torch.hub.get_dir()`` computes it. ``load_state_dict_from_url`` (and so every torchvision
``weights=``) loads a file found there without any request, and checks its hash only when
it downloads one itself: zoofind checks the hash prefix before the file appears.

In a cache home (and so in each ``ZOOFIND_SHARED_CACHE`` root) the folder is
``torch/hub/checkpoints/`` (``PLACE``): a checkpoint there is linked by the name it has here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..fetch.locks import LOCK_PREFIX
from . import shared


def torch_home(env: Mapping[str, str]) -> Path:
    default = os.path.join(env.get("XDG_CACHE_HOME") or "~/.cache", "torch")
    return Path(env.get("TORCH_HOME") or default).expanduser()


def hub_dir(env: Mapping[str, str]) -> Path:
    """``torch.hub.get_dir()``: where torch.hub keeps repositories, its ``trusted_list`` and ``checkpoints/``."""
    return torch_home(env) / "hub"


def checkpoints(env: Mapping[str, str]) -> Path:
    return hub_dir(env) / "checkpoints"


#: Where the checkpoint folder sits in a cache home, and so in every shared root.
PLACE = shared.declare(("torch", "hub", "checkpoints"), checkpoints)


def lock_path(target: Path) -> Path:
    return target.with_name(f"{LOCK_PREFIX}{target.name}")


def scan(folder: Path) -> list[Path]:
    """The checkpoint files torch.hub would load from ``folder`` (zoofind's partials and locks left out)."""
    try:
        return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError:
        return []
