"""The folders libraries read GitHub release assets from, as data: one TOML table per library.

A library that downloads its own models from GitHub releases keeps each in a folder of its own under
a name of its own, and loads it from there with no request when it is there (mace-torch:
``$XDG_CACHE_HOME/mace/<asset name with only letters, digits and _>``). For the assets a table lists,
``pull`` puts the verified file exactly there, so the library's own call loads it on a node with no
network; every other asset stays in zoofind's store (``layout``).

A table, ``<name>.toml`` beside this module::

    library = "mace-torch"          # the pip package that reads the folder
    pickles = "*.model"             # the assets it loads as pickles (loading can run code): a glob, optional
    [folder]                        # $variable/<below>, else <default>/<below> with the variable unset
    variable = "XDG_CACHE_HOME"
    default = "~/.cache"
    below = "mace"
    [[assets]]                      # one row per asset the library downloads itself
    url = "https://github.com/<owner>/<repo>/releases/download/<tag>/<asset>"
    file = "..."                    # its name in the folder, as the library names it
    load = "..."                    # the library's call that reads it

Owners and repositories are matched as GitHub matches them (case aside); tags and asset names exactly.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ....core.tomlread import tomllib
from .. import ReleaseRef, read_ref, ref_from_url

_URL = "https://github.com/"
#: A file name the tables may give: one path part, never one of zoofind's own names (they start with a dot).
_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,254}")


@dataclass(frozen=True)
class Row:
    """One asset a library reads from its folder."""

    #: the release and asset as the table's address spells them
    ref: ReleaseRef
    library: str
    variable: str
    default: str
    below: str
    #: its name in the folder, and the library's call that reads it
    file: str
    load: str
    #: the library loads it as a pickle (its loading can run code)
    pickle: bool = False

    def folder(self, environ: Mapping[str, str]) -> Path | None:
        """The library's folder on this machine; None when the variable names a relative path (the library
        would read below whatever folder it runs in, so no place is the right one)."""
        value = environ.get(self.variable)
        if value is None:
            home = environ.get("HOME") or os.path.expanduser("~")  # the library's Path.home() reads HOME too
            return Path(home + self.default[1:] if self.default.startswith("~/") else self.default) / self.below
        return Path(value) / self.below if os.path.isabs(value) else None

    def place(self, environ: Mapping[str, str]) -> Path | None:
        """Where the library reads the asset here, None when nowhere is certain (``folder``)."""
        home = self.folder(environ)
        return home / self.file if home is not None else None

    def note(self, asset: str, where: Path) -> str:
        return f"{self.library} reads {asset} from {where}: `{self.load}` loads it with no download"

    def flag(self, asset: str) -> str | None:
        return f"pickle: {self.library} loads {asset} as one, and loading can run code" if self.pickle else None


def _key(owner: str, repo: str, tag: str, asset: str) -> tuple[str, str, str, str]:
    return owner.lower(), repo.lower(), tag, asset


def _rows(text: str, name: str) -> dict[tuple[str, str, str, str], Row]:
    data: dict[str, Any] = tomllib.loads(text)
    folder = data["folder"]
    out = {}
    for a in data["assets"]:
        url, file = a["url"], a["file"]
        assert url.startswith(_URL) and _FILE.fullmatch(file), f"{name}: {url} -> {file!r}"
        r = read_ref(ref_from_url(url.removeprefix(_URL)))
        assert r.asset is not None, f"{name}: {url} names no asset"
        out[_key(r.owner, r.repo, r.tag, r.asset)] = Row(
            r, data["library"], folder["variable"], folder["default"], folder["below"], file, a["load"],
            pickle=bool(data.get("pickles")) and fnmatch.fnmatchcase(r.asset, data["pickles"]))
    return out


@functools.cache
def table() -> dict[tuple[str, str, str, str], Row]:
    """Every table's rows by (owner, repo, tag, asset); read once, from the package's own files."""
    out: dict[tuple[str, str, str, str], Row] = {}
    for path in sorted(Path(__file__).parent.glob("*.toml")):
        out.update(_rows(path.read_text(encoding="utf-8"), path.name))
    return out


def row(r: ReleaseRef, asset: str) -> Row | None:
    """The library that reads ``asset`` of release ``r`` from its own folder, if a table lists it."""
    return table().get(_key(r.owner, r.repo, r.tag, asset))


def libraries(environ: Mapping[str, str]) -> dict[str, str]:
    """Each library a table names -> its folder here (``sources`` shows them)."""
    return {x.library: str(x.folder(environ) or f"zoofind's store ({x.variable} is not an absolute path)")
            for x in table().values()}
