"""What a new user meets in the first ten minutes: short flags, bare names, notes, counts, tables."""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path

import pytest

from zoofind.cli.app import app


# -- short flags -----------------------------------------------------------------------
def short_flags() -> dict[str, dict[str, list[str]]]:
    """Every short flag of every command: flag -> {the long option it stands for -> commands}."""
    import typer

    def walk(cmd, path):  # noqa: ANN001, ANN202 - Typer's Click types
        yield path, cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, [*path, name])

    seen: dict[str, dict[str, list[str]]] = {}
    for path, cmd in walk(typer.main.get_command(app), []):
        ctx = cmd.context_class(cmd, info_name="zoofind", **(cmd.context_settings or {}))
        for param in cmd.get_params(ctx):
            if param.param_type_name != "option" or param.hidden:
                continue  # a hidden option only refuses a retired spelling, naming the new one
            opts = [*param.opts, *param.secondary_opts]
            meaning = ",".join(o for o in opts if o.startswith("--"))
            for flag in (o for o in opts if re.fullmatch(r"-[^-]", o)):
                seen.setdefault(flag, {}).setdefault(meaning, []).append(" ".join(path) or "zoofind")
    return seen


def test_each_short_flag_means_one_thing_in_every_command() -> None:
    flags = short_flags()
    twice = {flag: meanings for flag, meanings in flags.items() if len(meanings) > 1}
    assert not twice, f"short flags with two meanings: {twice}"
    assert list(flags["-n"]) == ["--limit"] and {"pull", "cache rm", "cache prune"}.isdisjoint(flags["-n"]["--limit"])


def test_the_old_n_of_a_dry_run_is_refused_naming_dry_run_and_does_nothing(cli) -> None:
    for args in (("pull", "-n", "torchvision:resnet50"), ("cache", "rm", "-n", "hf:a/b", "--yes"),
                 ("cache", "prune", "-n", "--max-size", "1G")):
        ran = cli(*args)
        assert ran.code == 2 and "--dry-run" in ran.stderr and "Traceback" not in ran.stderr, (args, ran.stderr)
        assert ran.stdout == ""
    assert len(cli("search", "resnet", "--offline", "-n", "2").stdout.splitlines()) == 2


def test_the_readme_table_of_short_flags_is_the_commands(cli) -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| `(-\w)` \| `(--[\w-]+)` \|", readme, re.M))
    assert table == {flag: next(iter(meanings)) for flag, meanings in short_flags().items()}


# -- one id resolver -------------------------------------------------------------------
@pytest.mark.parametrize(("name", "rid"), [
    ("resnet18", "torchvision:resnet18.IMAGENET1K_V1"),
    ("esm2_t6_8M_UR50D", "hf:facebook/esm2_t6_8M_UR50D"),
    ("yamnet", "tfhub:google/yamnet/1"),
])
def test_info_takes_the_bare_names_pull_takes(cli, name: str, rid: str) -> None:
    ran = cli("info", name, "--offline", "--json")
    assert ran.code == 0, ran.stderr
    assert json.loads(ran.stdout)["record"]["id"] == rid


def test_an_ambiguous_bare_name_lists_its_candidates_in_every_command(cli, tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        '[[entry]]\nid = "hf:lab-a/cellseg"\nkind = "model"\nname = "cellseg"\nreliability = "verified_usage"\n\n'
        '[[entry]]\nid = "hf:lab-b/cellseg"\nkind = "model"\nname = "cellseg"\nreliability = "verified_usage"\n'
    )
    env = {"ZOOFIND_CATALOG_DIR": str(tmp_path)}
    for args in (("info", "cellseg", "--offline"), ("pull", "cellseg", "--offline"),
                 ("lock", "cellseg", "--offline", "-o", "-"), ("cache", "path", "cellseg"),
                 ("cache", "verify", "cellseg"), ("cache", "rm", "cellseg", "--dry-run")):
        ran = cli(*args, env=env)
        assert ran.code == 2, (args, ran.code, ran.stderr)
        assert "ambiguous" in ran.stderr, (args, ran.stderr)
        assert "hf:lab-a/cellseg" in ran.stderr and "hf:lab-b/cellseg" in ran.stderr, (args, ran.stderr)
        assert "full id" in ran.stderr and "Traceback" not in ran.stderr


def test_cache_path_reads_a_bare_name_as_pull_does(cli) -> None:
    ran = cli("cache", "path", "resnet18")
    assert ran.code == 3 and "torchvision:resnet18" in ran.stderr and "malformed" not in ran.stderr, ran.stderr
    unknown = cli("info", "no-such-model-anywhere", "--offline")
    assert unknown.code == 2 and "no model is called" in unknown.stderr and "zoofind search" in unknown.stderr


# -- notes on every search ---------------------------------------------------------------
def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_a_failed_source_is_one_line_naming_what_was_searched_instead(cli) -> None:
    ran = cli("search", "protein language model", "--timeout", "2", env={"HF_ENDPOINT": closed_port()})
    assert ran.code == 0 and ran.stdout
    warnings = [line for line in ran.stderr.splitlines() if "hf" in line and "failed" in line]
    assert len(warnings) == 1, ran.stderr
    assert "results are from the bundled catalog" in warnings[0] and "showing the others" not in ran.stderr


def test_the_kaggle_credentials_note_is_said_once_unless_kaggle_is_asked_for(cli) -> None:
    env = {"HF_ENDPOINT": closed_port()}
    first = cli("search", "bird vocalization", "--timeout", "2", env=env)
    assert first.stderr.count("no Kaggle credentials") == 1 and "said once" in first.stderr, first.stderr
    again = cli("search", "optical flow", "--timeout", "2", env=env)
    assert again.code == 0 and "Kaggle" not in again.stderr, again.stderr
    # JSON still says how Kaggle answered, every time.
    body = json.loads(cli("search", "optical flow", "--timeout", "2", "--json", env=env).stdout)
    assert {s["name"]: s["status"] for s in body["sources"]}["kaggle"] == "skipped"
    asked = [cli("search", "bird", "-s", "kaggle", "-s", "tfhub", "--timeout", "2", env=env) for _ in range(2)]
    assert all(r.stderr.count("no Kaggle credentials") == 1 for r in asked), [r.stderr for r in asked]


# -- match counts ---------------------------------------------------------------------------
def test_the_match_count_is_of_matches_not_of_records_sharing_a_word(cli) -> None:
    body = json.loads(cli("search", "protein language model", "--offline", "--json", "-n", "6").stdout)
    assert len(body["results"]) == 6 and 6 <= body["total"] <= 40, body["total"]  # was 1660 of 3063 records
    table = cli("search", "protein language model", "--offline", "-f", "table", "-n", "6")
    said = re.search(r"showing the best 6 of (\d+) matches \(--limit (\d+) shows them all\)", table.stderr)
    assert said and int(said[1]) == int(said[2]) == body["total"], table.stderr
    # --limit total shows every match, and they are the ranking's first ones.
    every = json.loads(cli("search", "protein language model", "--offline", "--json", "-n", str(body["total"])).stdout)
    assert [r["id"] for r in every["results"]][:6] == [r["id"] for r in body["results"]]
    # A filter with no words: every record passing it is a match.
    flows = json.loads(cli("search", "--task", "optical-flow", "--offline", "--json", "-n", "100").stdout)
    assert flows["total"] == len(flows["results"]) > 0


# -- small things -------------------------------------------------------------------------------
def test_list_frameworks_tsv_has_the_tables_columns_and_says_what_no_model_needs(cli) -> None:
    tsv = cli("list-frameworks")
    table = cli("list-frameworks", "-f", "table", env={"COLUMNS": "200"})
    header = [c.strip() for c in table.stdout.splitlines()[1].strip("┃").split("┃")]
    assert header == ["framework", "name", "pip install", "installed", "catalog models", "runs on"]
    rows = [line.split("\t") for line in tsv.stdout.splitlines()]
    assert {len(r) for r in rows} == {len(header)}
    assert ["torchvision", "torchvision", "torchvision"] == rows[[r[0] for r in rows].index("torchvision")][:3]
    unused = [r[0] for r in rows if r[4] == "0"]
    assert unused and all(k in tsv.stderr for k in unused) and "no catalog model needs" in tsv.stderr


def test_sources_says_not_installed_once_for_torchvision(monkeypatch: pytest.MonkeyPatch) -> None:
    from zoofind.core.context import Context
    from zoofind.hubs import registry

    source = registry.get("torchvision")
    monkeypatch.setattr(source, "_versions", lambda: (None, "0.29.1"))
    status = source.status(Context.from_env(offline=True), probe=False)
    said = " ".join([status.reason or "", *(f"{k}: {v}" for k, v in status.details)])
    assert said.count("not installed") == 1, said


def test_an_empty_cache_is_not_called_a_non_match(cli) -> None:
    empty = cli("cache", "ls")
    assert empty.code == 0 and empty.stdout == ""
    assert "no model is cached yet" in empty.stderr and "zoofind pull" in empty.stderr and "match" not in empty.stderr
    assert "no cached models match" in cli("cache", "ls", "--source", "hf").stderr


@pytest.mark.parametrize("command", ["search", "info", "pull", "list-frameworks", "sources", "cache ls"])
def test_help_examples_are_indented_alike(cli, command: str) -> None:
    shown = cli(*command.split(), "--help", env={"COLUMNS": "200"}).stdout
    starts = ("zoofind ", "cd ", "HF_HUB_OFFLINE")
    examples = [line for line in shown.splitlines() if line.strip().startswith(starts)]
    assert examples and all(line.startswith(tuple("   " + s for s in starts)) for line in examples), examples


# -- cache ls as a table at 80 columns, piped -------------------------------------------------
def fake_hub_repo(hub: Path, repo: str, commit: str, size: int) -> None:
    folder = hub / f"models--{repo.replace('/', '--')}"
    (folder / "blobs").mkdir(parents=True)
    (folder / "snapshots" / commit).mkdir(parents=True)
    (folder / "refs").mkdir()
    (folder / "blobs" / f"b{commit[:10]}").write_bytes(b"\0" * size)
    os.symlink(f"../../blobs/b{commit[:10]}", folder / "snapshots" / commit / "model.safetensors")
    (folder / "refs" / "main").write_text(commit)


def test_cache_ls_table_at_80_columns_piped_keeps_short_columns_whole(cli) -> None:
    hub = Path(os.environ["HF_HOME"]) / "hub"
    long_id = "ibm-nasa-geospatial/Prithvi-EO-2.0-300M-TL"
    fake_hub_repo(hub, long_id, "c731040fbb6bf7e8a3ed1d5ea3b9e4d5c09b8c7a", 3_000_000)
    fake_hub_repo(hub, "facebook/esm2_t6_8M_UR50D", "1111111fbb6bf7e8a3ed1d5ea3b9e4d5c09b8c7a", 1200)
    ran = cli("cache", "ls", "--format", "table", env={"COLUMNS": "80"})
    assert ran.code == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert max(len(line) for line in lines) == 80 and all(line[-1] in "┓┃┩│┘" for line in lines), ran.stdout
    # The revision, size and age stay on one line each; the ids stay whole (folded at worst), the path is shortened.
    assert any("c731040f (main)" in line and "3.0 MB" in line and "ago" in line for line in lines), ran.stdout
    assert any("1111111f (main)" in line and "1.2 kB" in line for line in lines), ran.stdout
    assert "hf:facebook/esm2_t6_8M_UR50D" in ran.stdout and "…" in ran.stdout
    glued = "".join(cell.strip() for line in lines for cell in line.split("│")[1:2])
    assert "hf:ibm-nasa-geospatial/Prithvi-EO-2.0-300M-TL" in glued
    wide = cli("cache", "ls", "--format", "table", env={"COLUMNS": "200"})
    assert "snapshots/c731040fbb6bf7e8a3ed1d5ea3b9e4d5c09b8c7a" in wide.stdout
