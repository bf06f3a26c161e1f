"""Each framework's own cache, one module per layout, exactly as the framework lays it out.

* ``hf``: the Hugging Face hub cache (``models--owner--name/blobs``, ``snapshots``, ``refs``),
  as huggingface_hub writes it, so ``local_files_only=True`` and ``HF_HUB_OFFLINE=1`` find it.
* ``torch``: torch.hub's checkpoint folder (``$TORCH_HOME/hub/checkpoints``), where
  ``load_state_dict_from_url`` and torchvision's weights look before downloading.
* ``tfhub``: TF Hub's module folders (``$TFHUB_CACHE_DIR/<sha1 of the handle URL>``), which
  ``hub.load`` uses without a request.
* ``kagglehub``: kagglehub's model cache (``models/<handle>/<version>`` and ``.complete`` markers;
  pull fills it through ``hubs.kaggle.pull``).
* ``shared``: the read-only shared tier (``ZOOFIND_SHARED_CACHE``).

Each says where a model's files go, where a download's partial bytes and lock live (on the
same file system as the target, so the final rename is atomic), how to make verified files
visible, and what is already there. Nothing here downloads or prints.
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
