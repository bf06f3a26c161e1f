"""Finding the ``zoofind.hubs`` entry points without importlib.metadata.

``importlib.metadata`` costs ~40 ms to import, more than the whole offline search
budget allows, so this reads the same files it would: the ``entry_points.txt`` of each
``*.dist-info`` folder on ``sys.path``, in path order, the first distribution of a name
winning (as ``importlib.metadata.entry_points`` does; a test checks the two agree).
Only files that mention the group are parsed.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable
from typing import Any, cast

_SECTION_RE = r"(?m)^\[\s*([^\]]+?)\s*\]\s*$"


def entry_points(group: str) -> list[tuple[str, str, str]]:
    """(name, "module:attr", distribution) of every entry point in ``group``, in path order."""
    needle = f"[{group}]".encode()
    seen_dists: set[str] = set()
    seen_names: set[str] = set()
    found: list[tuple[str, str, str]] = []
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue  # zip files, missing folders
        for folder in sorted(n for n in names if n.endswith(".dist-info")):
            dist = _normalised(folder[: -len(".dist-info")].rsplit("-", 1)[0])
            if dist in seen_dists:
                continue
            seen_dists.add(dist)
            try:
                with open(os.path.join(entry or ".", folder, "entry_points.txt"), "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            if needle not in data:
                continue
            for name, value in _section(data.decode("utf-8", "replace"), group):
                if name not in seen_names:
                    seen_names.add(name)
                    found.append((name, value, dist))
    return found


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _section(text: str, group: str) -> list[tuple[str, str]]:
    """The ``name = value`` lines of one section of an entry_points.txt (an INI file)."""
    out: list[tuple[str, str]] = []
    current = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        m = re.match(_SECTION_RE, stripped)
        if m:
            current = m[1]
            continue
        if current == group and "=" in stripped:
            name, _, value = stripped.partition("=")
            out.append((name.strip(), value.strip()))
    return out


def loaders(group: str) -> list[tuple[str, Callable[[], Callable[[Any], None]]]]:
    """(label, load) of every entry point in ``group``: ``load()`` imports the module and returns
    the attribute the entry point names (its ``register``), raising whatever that import raises."""

    def loader(module: str, attr: str) -> Callable[[], Callable[[Any], None]]:
        def load() -> Callable[[Any], None]:
            target: Any = importlib.import_module(module)
            for part in (attr or "register").split("."):
                target = getattr(target, part)
            return cast("Callable[[Any], None]", target)
        return load

    found = []
    for name, value, dist in entry_points(group):
        module, _, attr = value.split("[", 1)[0].partition(":")  # "mod:attr [extra]"
        found.append((f"{name} = {value} ({dist})", loader(module.strip(), attr.strip())))
    return found
