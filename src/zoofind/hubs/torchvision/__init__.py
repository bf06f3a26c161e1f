"""torchvision's model registry as a source: everything zoofind knows about torchvision.

* ``installed``: which torchvision is installed, told without importing it (search asks
  on every run).
* ``registry``: the installed registry read into catalog entries (imports torchvision,
  seconds); ``scripts/build_torchvision.py`` makes the bundled snapshot with it.
* ``vocabulary``: torchvision's words (task modules, weights names, module families) in the
  catalog's vocabulary, and the readers of a weights' ``meta``.
* ``names``: builders' human names (resnet50 -> ResNet-50).
* ``source``: ``TorchvisionSource``, which answers from the installed registry when it is
  not the snapshot's version, and the endpoint, cache path and checkpoint hash helpers.
* ``pull``: ``TorchvisionPull`` and ``TorchvisionLock``: checkpoints into torch.hub's folder.
* ``checkpoints``: torch.hub's checkpoint folder (where it is, a checkpoint's lock, what is there).
* ``cache``: the ``cache`` ability (``cache ls/verify/rm/prune/path`` over that folder).
* ``bundle``: the ``bundle`` ability (a locked checkpoint's place in torch.hub's checkpoints).
* ``cite``: the ``cite`` ability (the papers of a builder's architecture, as its documentation names them).

This module is imported on the offline search path, so it only registers the source;
``source`` is imported when the source is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ... import catalog
from .. import lazy
from ..spec import SourceSpec

if TYPE_CHECKING:
    from ...core.context import Context
    from .. import Registry

DEFAULT_ENDPOINT = "https://download.pytorch.org/models"


def normalise(ref: str) -> str:
    """resnet50:IMAGENET1K_V1 (as torchvision's own get_weights spells it) -> resnet50.IMAGENET1K_V1."""
    return ref.replace(":", ".", 1)


def active(ctx: Context) -> bool:
    """Only an installed torchvision other than the snapshot's adds anything (a directory scan)."""
    from .installed import installed_torchvision  # lazy: only for a search: off pull, cite and bundle start-up

    inst = installed_torchvision()
    return inst is not None and inst != catalog.bundled().meta.get("torchvision", {}).get("torchvision_version")


SPEC = SourceSpec(
    name="torchvision",
    title="torchvision model registry (installed version, else the bundled snapshot)",
    network=False,  # the registry is read from the installed package; only checkpoints come from the network
    searches=True,
    replaces_snapshot=True,
    ref_pattern=r"[a-z][a-z0-9_]*(?:\.[A-Z0-9][A-Za-z0-9_]*)?",
    example="torchvision:resnet50[.IMAGENET1K_V2]",
    normalise=normalise,
    family=lambda ref: ref.split(".")[0],
    # A builder's weights: torchvision:resnet50 means its DEFAULT weights, as get_weights reads it.
    variant_of=lambda ref: ref.split(".")[0],
    endpoint_variable="ZOOFIND_TORCHVISION_ENDPOINT",
    default_endpoint=DEFAULT_ENDPOINT,
    active=active,
)


def register(registry: Registry) -> None:
    registry.register(
        SPEC,
        lazy(f"{__name__}.source", "TorchvisionSource"),
        pull=lazy(f"{__name__}.pull", "TorchvisionPull"),
        lock=lazy(f"{__name__}.pull", "TorchvisionLock"),
        cache=lazy(f"{__name__}.cache", "TorchvisionCache"),
        bundle=lazy(f"{__name__}.bundle", "TorchvisionBundles"),
        cite=lazy(f"{__name__}.cite", "TorchvisionCite"),
    )
