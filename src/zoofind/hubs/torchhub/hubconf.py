"""``hubconf.py`` read as a syntax tree (``ast.parse``): never imported, never run.

* entry points: what ``torch.hub.list`` would list (its ``dir(module)`` callables not starting
  with ``_``), as far as the text tells: top-level functions and classes, names imported with
  ``from ... import`` (but not from torch or the standard library), and names bound to a lambda or a ``partial(...)``;
* ``dependencies``: the list of pip packages torch.hub checks before loading, when it is a literal;
* checkpoints: ``http(s)`` URLs written as string literals whose file name is a weights file,
  each with the entry points that reach it (written in the function, or in a module-level
  assignment the function names). Its name in ``hub/checkpoints`` is the URL path's last part,
  as ``load_state_dict_from_url`` names it (or the literal ``file_name=`` of that call). When a
  function calls ``load_state_dict_from_url(..., check_hash=True)``, its checkpoints carry the
  SHA-256 prefix torch.hub would check (``HASH_REGEX``: ``-([a-f0-9]*)\\.`` in the name).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from urllib.parse import urlsplit

#: torch.hub's own pattern for the hash prefix in a checkpoint's name (resnet18-5c106cde.pth).
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
WEIGHTS_SUFFIXES = (".pth", ".pt", ".pth.tar", ".ckpt", ".bin", ".safetensors", ".pkl", ".tar", ".zip", ".h5",
                    ".npz", ".onnx", ".jit", ".model")
_URL = re.compile(r"https?://[^\s'\"<>]+")
_LOADERS = ("load_state_dict_from_url", "download_url_to_file")


@dataclass(frozen=True)
class Checkpoint:
    url: str
    #: its file name in ``$TORCH_HOME/hub/checkpoints``
    name: str
    #: the SHA-256 prefix torch.hub checks (``check_hash=True``), else None
    hash_prefix: str | None
    #: the entry points that reach it (empty: none found; every pull of the repository fetches it)
    entries: tuple[str, ...]


@dataclass(frozen=True)
class Hubconf:
    entries: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    checkpoints: tuple[Checkpoint, ...] = ()
    #: why the text could not be read (a syntax error), else None
    problem: str | None = None

    def wanted(self, entry: str | None) -> tuple[Checkpoint, ...]:
        """The checkpoints a pull fetches: an entry point's own, or every one for the whole repository."""
        if entry is None:
            return self.checkpoints
        return tuple(c for c in self.checkpoints if entry in c.entries or not c.entries)


def weights_name(url: str) -> str | None:
    """The file name ``load_state_dict_from_url`` gives ``url`` when it names a weights file, else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    name = parts.path.rsplit("/", 1)[-1]
    if parts.scheme not in ("http", "https") or not parts.netloc or not name.lower().endswith(WEIGHTS_SUFFIXES):
        return None
    if name in (".", "..") or name.startswith("."):
        return None
    return name


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _urls(node: ast.AST) -> list[str]:
    return [u for s in _strings(node) for u in _URL.findall(s) if weights_name(u)]


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _loader_facts(body: ast.AST) -> tuple[bool, dict[str, str]]:
    """Whether a loader call in ``body`` passes ``check_hash=True``, and literal URL -> literal ``file_name``."""
    check, names = False, {}
    for call in (n for n in ast.walk(body) if isinstance(n, ast.Call) and _call_name(n) in _LOADERS):
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        flag = kw.get("check_hash")
        if isinstance(flag, ast.Constant) and flag.value is True:
            check = True
        given = kw.get("file_name")
        first = call.args[0] if call.args else kw.get("url")
        if isinstance(given, ast.Constant) and isinstance(given.value, str) and isinstance(first, ast.Constant) \
                and isinstance(first.value, str):
            names[first.value] = given.value
    return check, names


def _helpers(node: ast.ImportFrom) -> bool:
    """Names imported from torch or the standard library: torch.hub.list lists them too, but they are
    the hub's tools (``load_state_dict_from_url``), not its models."""
    root = (node.module or "").split(".")[0]
    return node.level == 0 and (root == "torch" or root in sys.stdlib_module_names)


def _entries(tree: ast.Module) -> list[str]:
    out: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.append(node.name)
        elif isinstance(node, ast.ImportFrom) and not _helpers(node):
            out += [a.asname or a.name for a in node.names if a.name != "*"]
        elif isinstance(node, ast.Assign) and (isinstance(node.value, ast.Lambda) or (
                isinstance(node.value, ast.Call) and _call_name(node.value) == "partial")):
            out += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return [n for n in dict.fromkeys(out) if not n.startswith("_") and n != "dependencies"]


def _dependencies(tree: ast.Module) -> tuple[str, ...]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "dependencies"
                                                for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                return ()
            if isinstance(value, list | tuple):
                return tuple(str(v) for v in value if isinstance(v, str))
    return ()


def read(text: str) -> Hubconf:
    """What ``text`` (a ``hubconf.py``) declares; a file that does not parse gives its problem."""
    try:
        tree = ast.parse(text, filename="hubconf.py")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        return Hubconf(problem=f"hubconf.py does not parse ({type(exc).__name__}: {exc})")
    assigned: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    assigned[t.id] = _urls(node.value)
    reach: dict[str, set[str]] = {}
    checked: set[str] = set()
    file_names: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name.startswith("_"):
            continue
        urls = _urls(node) + [u for n in ast.walk(node) if isinstance(n, ast.Name) for u in assigned.get(n.id, ())]
        check, names = _loader_facts(node)
        file_names.update(names)
        for u in urls:
            reach.setdefault(u, set()).add(node.name)
            if check:
                checked.add(u)
    module_check, names = _loader_facts(tree)
    file_names.update(names)
    found = list(dict.fromkeys(_urls(tree)))
    checkpoints = []
    for u in found:
        name = file_names.get(u) or weights_name(u)
        assert name is not None
        m = HASH_REGEX.search(name) if (u in checked or (module_check and u not in reach)) else None
        checkpoints.append(Checkpoint(u, name, m[1] if m and m[1] else None, tuple(sorted(reach.get(u, ())))))
    return Hubconf(tuple(_entries(tree)), _dependencies(tree), tuple(checkpoints))
