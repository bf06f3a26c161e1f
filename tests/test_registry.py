"""The registry is the only list of sources: built-ins and plugins arrive through the same entry point group."""

from __future__ import annotations

import importlib.metadata
import json
import textwrap
from pathlib import Path

import pytest

from zoofind.hubs import ENTRY_POINT_GROUP, Registry
from zoofind.hubs.discovery import entry_points

PLUGIN = '''
from zoofind.models.records import Record
from zoofind.hubs.base import SourceAnswer, SourceSpec, SourceStatus

SPEC = SourceSpec(name="tinyzoo", title="Tiny zoo (a test plugin)", network=False, searches=True,
                  ref_pattern=r"[a-z-]+", example="tinyzoo:name")
AXOLOTL = Record(id="tinyzoo:axolotl-regen", source="tinyzoo", kind="model", name="Axolotl regeneration model",
                 description="Predicts limb regeneration stages in axolotl microscopy", tasks=("image-classification",),
                 frameworks=("pytorch",))


class TinyZoo:
    spec = SPEC

    def search(self, query, ctx):
        return SourceAnswer((AXOLOTL,), origin="live")

    def info(self, pid, ctx):
        return AXOLOTL if str(pid) == AXOLOTL.id else None

    def files(self, pid, ctx):
        return ()

    def status(self, ctx, *, probe=True):
        return SourceStatus(SPEC.name, SPEC.title, None, network=False, reachable=True)


def register(registry):
    registry.register(SPEC, TinyZoo)
'''


def install_plugin(folder: Path, module: str, code: str, dist: str = "tinyzoo") -> dict[str, str]:
    """A plugin 'installed' the way pip leaves one: a module and a dist-info with entry_points.txt."""
    (folder / f"{module}.py").write_text(code)
    info = folder / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{module} = {module}:register\n")
    return {"PYTHONPATH": str(folder)}


def test_builtins_are_declared_as_entry_points():
    names = [name for name, _, dist in entry_points(ENTRY_POINT_GROUP) if dist == "zoofind"]
    assert set(names) == {"bioimageio", "catalog", "ghrelease", "hf", "kaggle", "keras", "tfhub", "torchhub", "torchvision",
                          "zenodo"}


@pytest.mark.parametrize("group", [ENTRY_POINT_GROUP, "console_scripts"])
def test_discovery_agrees_with_importlib_metadata(group):
    ours = {(name, value) for name, value, _ in entry_points(group)}
    theirs = {(ep.name, ep.value) for ep in importlib.metadata.entry_points(group=group)}
    assert ours == theirs


def test_a_plugin_source_is_searched_and_looked_up(cli, tmp_path):
    env = install_plugin(tmp_path, "tinyzoo", PLUGIN)
    found = cli("search", "axolotl regeneration", "--offline", "--format", "ids", env=env)
    assert found.code == 0, found.stderr
    assert found.stdout.splitlines()[0] == "tinyzoo:axolotl-regen"
    only = cli("search", "axolotl", "-s", "tinyzoo", "--json", env=env)
    assert only.code == 0, only.stderr
    payload = json.loads(only.stdout)
    assert [r["id"] for r in payload["results"]] == ["tinyzoo:axolotl-regen"]
    assert {s["name"]: s["status"] for s in payload["sources"]}["tinyzoo"] == "ok"
    looked_up = cli("info", "tinyzoo:axolotl-regen", "--json", env=env)
    assert looked_up.code == 0 and json.loads(looked_up.stdout)["record"]["name"] == "Axolotl regeneration model"
    listed = cli("sources", "--offline", "--format", "ids", env=env)
    assert "tinyzoo" in listed.stdout.split()
    # Without the plugin the same id is a usage error, the same source name too.
    assert cli("info", "tinyzoo:axolotl-regen").code == 2
    assert cli("search", "axolotl", "-s", "tinyzoo").code == 2


def test_a_broken_plugin_is_reported_and_never_fatal(cli, tmp_path):
    env = install_plugin(tmp_path, "brokenzoo", "raise RuntimeError('this plugin is broken')\n", dist="brokenzoo")
    ran = cli("search", "protein language model", "--offline", "-n", "1", env=env)
    assert ran.code == 0 and ran.stdout.strip()
    status = cli("sources", "--offline", env=env)
    assert status.code == 0 and "brokenzoo" in status.stderr and "this plugin is broken" in status.stderr


def test_registering_in_process_replaces_and_lists():
    from zoofind.hubs.base import SourceSpec

    reg = Registry()
    spec = SourceSpec(name="x", title="X", network=False)
    reg.register(spec, object)  # type: ignore[arg-type]
    assert reg.names() == ("x",) and reg.spec("x") is spec
    from zoofind.core.errors import UsageError

    with pytest.raises(UsageError, match="unknown source 'y'"):
        reg.spec("y")


def test_offline_start_up_imports_no_source_implementation():
    import subprocess
    import sys

    code = textwrap.dedent("""
        import sys, zoofind
        zoofind.search("protein", offline=True)
        heavy = [m for m in ("httpx", "huggingface_hub", "stamina", "rich", "torch", "zoofind.hubs.hf.source",
                             "zoofind.net.http") if m in sys.modules]
        assert not heavy, heavy
    """)
    subprocess.run([sys.executable, "-c", code], check=True)


def test_abilities_are_declared_at_registration_and_made_on_first_use():
    from zoofind.core.errors import UsageError
    from zoofind.hubs.base import SourceSpec

    made: list[str] = []

    def factory(what: str):
        return lambda: made.append(what) or what

    reg = Registry()
    reg.register(SourceSpec(name="a", title="Hub A", network=False), factory("a-search"), pull=factory("a-pull"))
    reg.register(SourceSpec(name="b", title="Hub B", network=False), factory("b-search"))
    assert reg.able("pull") == ("a",) and reg.able("search") == ("a", "b")
    assert reg.can("a", "pull") and not reg.can("b", "pull")
    assert made == []  # declaring costs no import of an implementation
    assert reg.ability("a", "pull") == "a-pull" and reg.ability("a", "pull") == "a-pull"
    assert made == ["a-pull"]  # made once
    with pytest.raises(UsageError, match="Hub B models cannot be pulled yet") as refused:
        reg.ability("b", "pull")
    assert "a:" in (refused.value.hint or "")
    with pytest.raises(TypeError, match="unknown abilities teleport"):
        reg.register(SourceSpec(name="c", title="C", network=False), factory("c"), teleport=factory("x"))
