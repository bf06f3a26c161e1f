"""torch.hub's checkpoints folder for bundles: a locked file is a checkpoint file by its own name,
renamed into place under the lock ``pull`` takes (``caches.flat``)."""

from __future__ import annotations

from ...caches.flat import FlatBundles
from ...caches.torch_hub import PLACE, checkpoints, lock_path


class TorchvisionBundles(FlatBundles):
    what = "checkpoint file"
    place = PLACE
    home = staticmethod(checkpoints)
    lock_of = staticmethod(lock_path)
