"""The command line as people and shell pipelines use it: stdout, stderr and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from zoofind.cli.app import app
from zoofind.cli.common import set_env
from zoofind.cli.render.output import Environment

# -- through the real console entry point (stdout is a pipe) ---------------------------


def test_search_in_a_pipe_prints_headerless_tsv(cli) -> None:
    r = cli("search", "optical flow", "--offline")
    assert r.code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines and all(len(line.split("\t")) == 6 for line in lines)
    first = lines[0].split("\t")
    assert first[0] == "torchvision:raft_large.C_T_SKHT_V2" and first[1] == "torchvision" and first[2] == "optical-flow"
    assert "Traceback" not in r.stderr


def test_ids_format_feeds_other_commands(cli) -> None:
    r = cli("search", "protein language model", "--offline", "--format", "ids", "-n", "3")
    ids = r.stdout.split()
    assert r.code == 0 and len(ids) == 3
    info = cli("info", ids[0], "--offline", "--json")
    assert info.code == 0 and json.loads(info.stdout)["record"]["id"] == ids[0]


def test_json_output_has_a_versioned_schema(cli) -> None:
    r = cli("search", "bird vocalization", "--offline", "--json", "-n", "2")
    body = json.loads(r.stdout)
    assert body["schema_version"] == 1 and body["command"] == "search"
    assert body["query"]["text"] == "bird vocalization" and body["query"]["offline"] is True
    assert len(body["results"]) == 2 and body["total"] >= 2
    first = body["results"][0]
    for key in ("id", "source", "kind", "name", "tasks", "frameworks", "libraries", "license", "downloadable", "score"):
        assert key in first
    assert {s["name"]: s["status"] for s in body["sources"]}["catalog"] == "ok"


def test_jsonl_is_one_record_a_line(cli) -> None:
    r = cli("search", "resnet", "--offline", "-f", "jsonl", "-n", "4")
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 4 and all(row["id"].startswith("torchvision:") for row in rows)


def test_no_hits_is_success_with_empty_stdout_and_a_note(cli) -> None:
    r = cli("search", "qwxzyv plorkt", "--offline")
    assert r.code == 0 and r.stdout == "" and "no matches" in r.stderr


@pytest.mark.parametrize(
    "args, code, words",
    [
        (("info", "not a valid id!"), 2, "malformed id"),
        (("info", "hf:"), 2, "malformed hf id"),
        (("info", "catalog:no-such-thing", "--offline"), 3, "no entry"),
        (("info", "torchvision:no_such_model", "--offline"), 3, "no entry"),
        (("search",), 2, "give a query or at least one filter"),
        (("search", "x", "--sort", "weird"), 2, "unknown sort"),
        (("search", "x", "--source", "pypi"), 2, "unknown source"),
        (("search", "x", "--format", "xml"), 2, "xml"),
        (("search", "x", "--limit", "0"), 2, "limit"),
        (("search", "x", "--kind", "weights"), 2, "unknown kind"),
        (("frobnicate",), 2, "No such command"),
    ],
)
def test_bad_input_gets_a_message_and_exit_code_without_traceback(cli, args, code, words) -> None:
    r = cli(*args)
    assert r.code == code, (r.stdout, r.stderr)
    assert words in r.stderr and "Traceback" not in r.stderr and r.stdout == ""


def test_zoofind_debug_shows_the_traceback(cli) -> None:
    r = cli("info", "catalog:no-such-thing", "--offline", env={"ZOOFIND_DEBUG": "1"})
    assert r.code == 3 and "Traceback" in r.stderr


def test_broken_user_catalog_names_the_file_and_fails_with_1(cli, tmp_path: Path) -> None:
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "lab.toml").write_text('[[entry]]\nid = "catalog:x"\nkind = "resource"\n', encoding="utf-8")
    r = cli("search", "x", "--offline", env={"ZOOFIND_CATALOG_DIR": str(tmp_path / "cat")})
    assert r.code == 1 and "lab.toml entry 1" in r.stderr and "missing required field 'name'" in r.stderr


def test_info_reports_requirements_and_install_line(cli) -> None:
    r = cli("info", "hf:facebook/esm2_t6_8M_UR50D", "--offline", "--json")
    body = json.loads(r.stdout)
    assert body["schema_version"] == 1 and body["command"] == "info"
    packages = [q["package"] for q in body["requirements"]]
    assert packages[:2] == ["torch", "transformers"]
    missing = [q["package"] for q in body["requirements"] if q["installed"] is None]
    assert (body["install"] == "pip install " + " ".join(missing)) if missing else body["install"] is None


def test_info_accepts_hub_urls(cli) -> None:
    r = cli("info", "https://tfhub.dev/google/yamnet/1", "--offline", "-f", "tsv")
    assert r.code == 0 and "id\ttfhub:google/yamnet/1" in r.stdout and "needs tensorflow-hub" in r.stdout


def test_list_frameworks(cli) -> None:
    r = cli("list-frameworks", "--json")
    rows = {f["key"]: f for f in json.loads(r.stdout)["frameworks"]}
    for key in ("pytorch", "tensorflow", "jax", "keras", "onnx", "transformers", "timm", "diffusers", "sentence-transformers", "open_clip", "tensorflow_hub"):
        assert key in rows
    assert rows["transformers"]["catalog_models"] >= 40 and rows["tensorflow_hub"]["catalog_models"] >= 1000
    assert rows["pytorch"]["pip"] == ["torch"]
    installed = cli("list-frameworks", "--installed", "-f", "ids").stdout.split()
    assert all(rows[k]["installed"] for k in installed)


def test_python_dash_m_works(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "zoofind", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("zoofind ")


@pytest.mark.parametrize("command", [(), ("search",), ("info",), ("list-frameworks",), ("sources",)])
def test_help_teaches(cli, command) -> None:
    r = cli(*command, "--help")
    assert r.code == 0 and "Usage:" in r.stdout
    if command == ("search",):
        assert "Examples" in r.stdout and "--offline" in r.stdout and "--format" in r.stdout
    if command == ():
        assert "Exit codes" in r.stdout and "ZOOFIND_OFFLINE" in r.stdout


def test_zoofind_offline_env_means_offline(cli) -> None:
    r = cli("search", "resnet", "--json", "-n", "1", env={"ZOOFIND_OFFLINE": "1"})
    assert json.loads(r.stdout)["query"]["offline"] is True


def test_no_prompt_when_stdin_is_not_a_terminal(cli) -> None:
    r = cli("search", "yamnet", "--offline", stdin="")
    assert r.code == 0 and r.stdout.startswith("tfhub:google/yamnet/1\t")


# -- in process, with the Environment swapped ---------------------------------------------


def run_in_process(*args: str, tty: bool = False, colors: bool = False) -> tuple[int, str, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    set_env(Environment(stdout=out, stderr=err, stdout_isatty=tty, stderr_isatty=tty, colors=colors))
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        set_env(None)
    return result.exit_code, out.getvalue(), err.getvalue()


def test_terminal_gets_a_table() -> None:
    code, out, _ = run_in_process("search", "optical flow", "--offline", "-n", "3", tty=True)
    assert code == 0 and "raft_large" in out and "┃" in out


def test_pipe_gets_tsv_in_process() -> None:
    code, out, _ = run_in_process("search", "optical flow", "--offline", "-n", "3")
    assert code == 0 and out.splitlines()[0].startswith("torchvision:raft_large.C_T_SKHT_V2\t")


def test_no_color_means_no_escape_codes(cli) -> None:
    code, _, err = run_in_process("info", "catalog:nope", "--offline", tty=True, colors=False)
    assert code == 3 and "\033[" not in err
    code, _, err = run_in_process("info", "catalog:nope", "--offline", tty=True, colors=True)
    assert code == 3 and "\033[" in err


def test_no_color_env_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    env = Environment.from_system()
    assert env.colors is False


def test_info_table_on_a_terminal() -> None:
    code, out, _ = run_in_process("info", "torchvision:raft_large", "--offline", tty=True)
    assert code == 0 and "raft_large.C_T_SKHT_V2" in out and "install" in out


RECORD_KEYS = {
    "id", "source", "kind", "name", "description", "url", "resource_type", "tasks", "domains", "frameworks", "libraries",
    "packages", "license", "gated", "remote_code", "downloadable", "architecture", "datasets", "tags", "params",
    "size_bytes", "downloads", "likes", "updated", "weights_format", "reliability", "evidence", "notes", "curated", "extra",
}


def test_record_json_keys_are_exactly_the_documented_schema(cli) -> None:
    # The README lists these keys; changing Record must change the README and schema_version.
    body = json.loads(cli("search", "yamnet", "--offline", "--json", "-n", "1").stdout)
    assert set(body["results"][0]) == RECORD_KEYS | {"score"}
    assert set(body) == {"schema_version", "command", "query", "total", "sources", "results"}
    info = json.loads(cli("info", "tfhub:google/yamnet/1", "--offline", "--json").stdout)
    assert set(info) == {"schema_version", "command", "record", "requirements", "install", "warnings", "citation"}
    assert set(info["record"]) == RECORD_KEYS
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert all(f"{key}" in readme for key in RECORD_KEYS)


def test_typos_and_unknown_words_are_explained(cli) -> None:
    r = cli("search", "protien languge model", "--offline", "--json", "-n", "3")
    body = json.loads(r.stdout)
    assert body["query"]["read_as"] == {"protien": "protein", "languge": "language"}
    assert "read 'protien' as 'protein'" in r.stderr
    r = cli("search", "zqxjv protein", "--offline", "--json", "-n", "3")
    body = json.loads(r.stdout)
    assert body["query"]["unknown_words"] == ["zqxjv"] and body["results"]
    assert "nothing in the catalog mentions 'zqxjv'" in r.stderr


def _every_command(group, path=()):
    for name, cmd in group.commands.items():
        yield (*path, name), cmd
        if hasattr(cmd, "commands"):  # a group (Typer's own Click copy is private: no isinstance)
            yield from _every_command(cmd, (*path, name))


def test_every_help_shows_its_bracketed_words_whole() -> None:
    """Typer renders help as rich markup: a word like ``[@revision]`` would silently vanish."""
    import re

    import typer
    from typer.testing import CliRunner

    from zoofind.cli.app import app

    runner = CliRunner()
    root = typer.main.get_command(app)
    checked = 0
    for path, cmd in _every_command(root):
        shown = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"}).output
        flat = " ".join(re.sub(r"[│╭╮╰╯─]", " ", shown).split())
        for param in cmd.params:
            for word in (getattr(param, "help", None) or "").split():
                if "[" in word:
                    checked += 1
                    assert word in flat, f"`zoofind {' '.join(path)} --help` lost {word!r}"
    assert checked >= 3
