"""tinyhub's cache ability: ``<home>/<name>/`` is a model once its ``.complete`` marker is there.

The marker holds the model's manifest, JSON of each file's path -> sha256 (written last by
the pull), which ``cache verify`` re-hashes against; an empty marker (a model placed before
manifests) is checked to hold files. Both tiers (the shared one at ``source.PLACE``), no
revisions: the generic parts come from ``zoofind.caches.layout``.
"""

from __future__ import annotations

import json
from pathlib import Path

from zoofind.caches import layout
from zoofind.fetch.integrity import hash_file
from zoofind.models.cache import CachedModel, Problem, Removal, Verified
from zoofind.models.transfer import Expected

from .source import PLACE, home

MARKER = ".complete"
LOCKS = ".locks"


def manifest(folder: Path) -> dict[str, str]:
    """path -> sha256 from the marker ({} when it is empty or unreadable)."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def _locks(root: Path, name: str) -> Path:
    return root / LOCKS / name


class TinyCache(layout.PlainLayout):
    def scan(self, ctx, tier, in_shared):
        out = []
        for root in PLACE.tiered(ctx.environ, tier):
            for folder in layout.listdir(str(root)):
                path = root / folder
                if folder.startswith(".") or not (path / MARKER).is_file():
                    continue  # the locks' folder, or a pull not finished: not a model
                t = layout.tree(path, in_shared if tier == "local" else None)
                used = max(t.used or 0.0, layout.placed(path / MARKER)) or None
                out.append(CachedModel(f"tinyhub:{folder}", "tinyhub", (), t.size, used, str(path), str(root), tier,
                                       t.linked))
        return out

    def verify(self, model):
        folder = Path(model.path)
        listed = manifest(folder)
        if not listed:
            return super().verify(model)
        problems, size = [], 0
        for rel, sha in sorted(listed.items()):
            f = folder / rel
            if not f.is_file():
                problems.append(Problem(str(f), "missing"))
                continue
            size += f.stat().st_size
            if hash_file(f, Expected()).sha256.hexdigest() != sha:
                problems.append(Problem(str(f), "sha256 mismatch"))
        return Verified(model.id, model.path, len(listed), size, tuple(problems))

    def plan_removal(self, model, revision):
        folder = Path(model.path)
        held = _locks(Path(model.cache), folder.name)
        locks = [held / n for n in layout.listdir(str(held)) if n.endswith(".lock")]
        # The marker first: from then on the folder is not a model, whatever stops the removal.
        return layout.whole(model, revision, (folder / MARKER, folder), locks)

    def stale_partials(self, ctx, now):
        root = home(ctx.environ)
        out: list[Removal] = []
        for name in layout.listdir(str(root)):
            if not name.startswith("."):
                out += layout.partials(root / name, lambda t, n=name: _locks(root, n) / f"{t.name}.lock", now)
        return out
