"""The house's floors, as the README's "Architecture" draws them, held against the code's imports.

Every import counts: at the top of a module, inside a function, under ``TYPE_CHECKING``. A floor
may import its own floor and those below it, never one above; no module imports another's
private (``_x``) name; modules form no import cycle; none is over 400 lines; and outside its own
package no module names a built-in hub (the hubs are reached through the registry, which is how a
plugin hub is reached too).

What the start-ups import, run for real: the modules the imports at the top of a file bring
along must not grow on the paths people wait for (``search --offline``, ``--help``, completion,
``pull --offline`` of a cached model, ``info`` and ``cite --offline``).
"""

from __future__ import annotations

import ast
import fnmatch
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from test_code_habits import PACKAGE, ROOT, checked_files
from zoofind.catalog.frameworks import LIBRARIES
from zoofind.core.tomlread import tomllib

#: Lowest first. A module's floor is the one whose longest prefix names it. The hub protocol (the
#: registry, ids, what a hub is and can do) lies below the catalog, which validates ids with it;
#: the hub packages lie above the catalog, which they search and describe.
FLOORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("core", ("zoofind.core",)),
    ("models", ("zoofind.models",)),
    ("net", ("zoofind.net",)),
    ("fetch", ("zoofind.fetch",)),
    ("store", ("zoofind.store",)),
    ("caches", ("zoofind.caches",)),
    ("hub protocol", ("zoofind.hubs", "zoofind.hubs.ids", "zoofind.hubs.spec", "zoofind.hubs.base",
                      "zoofind.hubs.abilities", "zoofind.hubs.protocol", "zoofind.hubs.discovery",
                      "zoofind.hubs.registry", "zoofind.hubs.jsonread")),
    ("catalog", ("zoofind.catalog",)),
    ("hubs", ("zoofind.hubs.",)),
    ("ops", ("zoofind.ops",)),
    ("facade", ("zoofind",)),
    ("cli", ("zoofind.cli", "zoofind.__main__")),
)
MAX_LINES = 400

#: Known and being fixed (issue #16): each entry is removed when its module is split or its import
#: turned around. The tests below fail on a NEW offender, and on an entry that no longer offends.
TOO_LONG_TODAY: set[str] = set()
UP_TODAY: set[tuple[str, str]] = set()
NAMING_A_HUB_TODAY = {
    # The library table: torchvision the pip package a model needs, not the hub.
    ("zoofind.catalog.frameworks", "torchvision"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in checked_files()}


@cache
def floor_of(module: str) -> int:
    best, best_len = -1, -1
    for i, (_, prefixes) in enumerate(FLOORS):
        for prefix in prefixes:
            hit = module.startswith(prefix) if prefix.endswith(".") else (
                module == prefix or module.startswith(prefix + ".") and prefix != "zoofind")
            if hit and len(prefix) > best_len:
                best, best_len = i, len(prefix)
    assert best >= 0, f"{module} lies on no floor: add it to FLOORS"
    return best


@cache
def parsed(module: str) -> ast.Module:
    return ast.parse(modules()[module].read_text(encoding="utf-8"))


@cache
def imports(module: str) -> tuple[tuple[str, str, int], ...]:
    return tuple(_imports(module))


@cache
def type_only_lines(module: str) -> frozenset[int]:
    """The lines of ``module``'s ``if TYPE_CHECKING:`` blocks: imports a type checker reads, never run."""
    lines: set[int] = set()
    for node in ast.walk(parsed(module)):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return frozenset(lines)


def _imports(module: str) -> Iterator[tuple[str, str, int]]:
    """(imported module, imported name or '', line) for every import of ``zoofind`` in ``module``."""
    path = modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(parsed(module)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "zoofind":
                    yield alias.name, "", node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "zoofind":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                # `from . import paths` imports the module paths; `from .paths import x` imports x.
                yield (sub, "", node.lineno) if sub in modules() else (target, alias.name, node.lineno)


def test_every_module_lies_on_a_floor() -> None:
    assert len(modules()) > 100
    for module in modules():
        floor_of(module)


def test_no_import_runs_up_a_floor() -> None:
    found = set()
    for module in modules():
        for target, _, _ in imports(module):
            if floor_of(target) > floor_of(module):
                found.add((module, target))
    assert found - UP_TODAY == set(), "an import from a lower floor to a higher one"
    assert UP_TODAY - found == set(), "fixed: take it out of UP_TODAY"


def test_no_module_imports_another_modules_private_name() -> None:
    found = [f"{module}:{line} imports {target}.{name}"
             for module in modules() for target, name, line in imports(module)
             if name.startswith("_") and not name.startswith("__") and target != module]
    assert found == []


def test_no_import_cycle() -> None:
    # Imports that run: two modules of one floor whose types name each other for a type checker (a
    # catalog and the user layer on it) import nothing of each other at run time. The floors above
    # count every import, type-only ones too.
    graph = {m: {t for t, _, line in imports(m) if t in modules() and t != m and line not in type_only_lines(m)}
             for m in modules()}
    # Tarjan's strongly connected components: any with two modules or more is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                cycles.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert cycles == []


def test_no_module_is_over_400_lines() -> None:
    found = {p.relative_to(PACKAGE).as_posix() for p in checked_files()
             if len(p.read_text(encoding="utf-8").splitlines()) > MAX_LINES}
    assert found - TOO_LONG_TODAY == set(), f"split it along a real seam (at most {MAX_LINES} lines)"
    assert TOO_LONG_TODAY - found == set(), "fixed: take it out of TOO_LONG_TODAY"


def built_in_hubs() -> dict[str, str]:
    """name -> its package, from the entry points the built-ins register through (the bundled
    catalog is a floor of its own, not a hub package)."""
    points = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["zoofind.sources"]
    return {name: target.split(":")[0] for name, target in points.items() if name != "catalog"}


def hub_words(name: str, package: str) -> set[str]:
    # A hub is named by its id prefix and by its package's name.
    return {name, package.rsplit(".", 1)[-1]}


@cache
def literals(module: str) -> frozenset[str]:
    """The strings ``module`` spells out, docstrings left out (they may name anything)."""
    tree = parsed(module)
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return frozenset(n.value for n in ast.walk(tree)
                     if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings)


def test_outside_its_package_no_module_names_a_built_in_hub() -> None:
    found = set()
    for name, package in built_in_hubs().items():
        words = hub_words(name, package)
        for module in modules():
            if module == package or module.startswith(package + "."):
                continue
            said = literals(module)
            imported = {t.split(".")[2] if t.startswith("zoofind.hubs.") else t.rsplit(".", 1)[-1]
                        for t, _, _ in imports(module)}
            for word in words:
                # A hub named after a framework (keras) is not named by a module speaking of that
                # framework (its weights formats, its library tag): only an import of it counts.
                if word in imported or (word in said and not (word in LIBRARIES and LIBRARIES[word].is_framework)):
                    found.add((module, word))
    assert found - NAMING_A_HUB_TODAY == set(), "reach a hub through the registry and its abilities"
    assert NAMING_A_HUB_TODAY - found == set(), "fixed: take it out of NAMING_A_HUB_TODAY"


def test_the_hub_words_catch_what_they_should() -> None:
    # The checks above must be able to fail: a literal and an import of a hub's module are found.
    tree = ast.parse('x = "hf"\nfrom .hubs.hf import pull\n')
    assert any(isinstance(n, ast.Constant) and n.value == "hf" for n in ast.walk(tree))
    assert re.fullmatch(r"zoofind\.hubs\.\w+", "zoofind.hubs.hf")
    assert "hf" in built_in_hubs() and hub_words("torchvision", "zoofind.hubs.torchvision") == {"torchvision"}


# -- what each start-up imports ---------------------------------------------------------------

#: The modules a start-up is watched for: the heavy libraries, and zoofind's floors and modules
#: that only some commands need (a hub's modules below its package). A name covers what is below it.
WATCHED = (
    "httpx", "httpcore", "h11", "rich", "huggingface_hub", "torch", "torchvision", "stamina", "filelock", "pybtex",
    "yaml", "rapidfuzz", "tomli_w", "click", "importlib.metadata", "hashlib", "ssl", "concurrent.futures",
    "obstore", "boto3", "botocore", "zoofind.store",
    "zoofind.net", "zoofind.fetch", "zoofind.caches", "zoofind.catalog", "zoofind.ops", "zoofind.hubs.*.*",
    "zoofind.cli.render.pull", "zoofind.cli.render.listing", "zoofind.cli.render.cite",
)
SEARCHING = ("zoofind.catalog zoofind.catalog.store zoofind.catalog.tasks zoofind.catalog.textindex "
             "zoofind.catalog.words zoofind.hubs.torchvision.installed zoofind.ops zoofind.ops.find zoofind.ops.ranking")
PULLING = ("zoofind.caches zoofind.caches.shared zoofind.catalog zoofind.catalog.frameworks zoofind.catalog.store "
           "zoofind.cli.render.pull zoofind.fetch zoofind.ops zoofind.ops.pull zoofind.ops.resolve")
#: What registering the hubs imports on every start-up: a hub's spec with the id grammar it needs
#: (keras keeps its grammar beside its ``__init__``).
REGISTERING = "zoofind.hubs.keras.variants"
#: Each start-up and the watched modules it loads today (measured; README, "Measured"). A hoisted
#: import that brings another one here fails the test: keep that import inside its function, with
#: a ``# lazy:`` comment saying which start-up it keeps light.
START_UPS: dict[str, tuple[tuple[str, ...], dict[str, str], str]] = {
    "search --offline": (("search", "protein", "--offline"), {}, SEARCHING),
    "--help": (("--help",), {}, "rich"),
    "search --help": (("search", "--help"), {}, "rich"),
    "completing a command": ((), {"COMP_WORDS": "zoofind se", "COMP_CWORD": "1"}, "click"),
    "completing an id": ((), {"COMP_WORDS": "zoofind info hf:facebook/esm2", "COMP_CWORD": "2"},
                         "click zoofind.catalog zoofind.catalog.store"),
    "pull --offline, a cached checkpoint": (
        ("pull", "torchvision:squeezenet1_1", "--offline"), {},
        f"{PULLING} zoofind.fetch.locks zoofind.caches.torch_hub zoofind.hubs.torchvision.installed "
        "zoofind.hubs.torchvision.pull zoofind.hubs.torchvision.source zoofind.net zoofind.net.probe"),
    "pull --offline, a cached repo": (
        ("pull", "hf:zoofind-lab/start-up", "--offline"), {},
        f"{PULLING} hashlib zoofind.fetch.integrity zoofind.hubs.hf.auth zoofind.hubs.hf.from_shared "
        "zoofind.hubs.hf.pull zoofind.hubs.hf.repo_cache zoofind.ops.lookup"),
    "info --offline": (
        ("info", "--offline", "resnet18"), {},
        f"{SEARCHING} zoofind.catalog.frameworks zoofind.cli.render.listing zoofind.hubs.torchvision.source "
        "zoofind.net zoofind.net.probe zoofind.ops.lookup zoofind.ops.resolve zoofind.ops.cite "
        "zoofind.ops.citeformats"),
    "cite --offline": (
        ("cite", "--offline", "hf:facebook/esm2_t6_8M_UR50D"), {},
        "zoofind.caches zoofind.caches.shared zoofind.catalog zoofind.catalog.frameworks zoofind.catalog.store "
        "zoofind.cli.render.cite zoofind.hubs.hf.auth zoofind.hubs.hf.cite zoofind.hubs.hf.repo_cache zoofind.net "
        "zoofind.net.answers zoofind.ops zoofind.ops.cite zoofind.ops.citeformats zoofind.ops.pull zoofind.ops.resolve"),
}
#: ``python -m zoofind ARGS`` that writes, as it exits, every module it had imported.
RECORDING = ("import atexit, os, runpy, sys\n"
             "def record():\n"
             "    with open(os.environ['RECORD_MODULES_TO'], 'w') as f:\n"
             "        f.write('\\n'.join(sorted(sys.modules)))\n"
             "atexit.register(record)\n"
             "runpy.run_module('zoofind', run_name='__main__', alter_sys=True)\n")


def watched(module: str) -> bool:
    return any(fnmatch.fnmatchcase(module, w) or module.startswith(w + ".") for w in WATCHED)


def allows(allowed: str, module: str) -> bool:
    """A library allowed is allowed whole; zoofind's modules one by one (``zoofind.catalog`` is not ``.user``)."""
    return any(module == a or not a.startswith("zoofind.") and module.startswith(a + ".") for a in allowed.split())


def imported_by(args: tuple[str, ...], env: dict[str, str], tmp_path: Path) -> set[str]:
    out = tmp_path / "modules.txt"
    done = subprocess.run([sys.executable, "-c", RECORDING, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env, "RECORD_MODULES_TO": str(out)})
    assert done.returncode == 0 and done.stdout, done.stderr
    return set(out.read_text().split())


@pytest.fixture
def cached_models(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """A torch.hub checkpoint placed where torch.hub keeps it, and a repo pulled from the local Hub."""
    from servers.torch_fixture import checkpoint

    name, data = checkpoint("squeezenet1_1")
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)
    os.environ["TORCH_HOME"] = str(tmp_path / "torch")  # the hermetic fixture puts it back
    hub = request.getfixturevalue("hf_hub")
    hub.add_repo("zoofind-lab/start-up", {"config.json": b"{}\n", "model.safetensors": bytes(4096)})
    done = subprocess.run([sys.executable, "-m", "zoofind", "pull", "--quiet", "hf:zoofind-lab/start-up"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_watch_sees_what_it_should() -> None:
    # The check below must be able to fail: a heavy library, a floor and a hub's module are watched,
    # the command-line layer and a hub's package (registered on every search) are not.
    assert watched("httpx._client") and watched("zoofind.fetch.scheduler") and watched("zoofind.hubs.hf.api")
    assert not watched("zoofind.hubs.hf") and not watched("zoofind.cli.app") and not watched("typer")
    assert allows("rich zoofind.catalog", "rich.table") and not allows("rich zoofind.catalog", "zoofind.catalog.user")


@pytest.mark.parametrize("name", START_UPS)
def test_a_start_up_imports_nothing_more_than_it_did(name: str, cached_models: None, tmp_path: Path) -> None:
    args, completion, allowed = START_UPS[name]
    env = {"_ZOOFIND_COMPLETE": "bash_complete", **completion} if completion else {}
    grown = sorted(m for m in imported_by(args, env, tmp_path)
                   if watched(m) and not allows(allowed, m) and not allows(REGISTERING, m))
    assert grown == [], f"{name} now imports these: keep the import that brings them inside its function (# lazy: ...)"
