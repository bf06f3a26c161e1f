"""Hostile data and odd input, through the real `zoofind` entry point as the README shows it.

- Text from outside (user catalogs, hubs, servers' error messages) never drives the
  terminal: no escape sequence, control character or bidi override reaches stdout or
  stderr in a table, TSV, ids or message; JSON keeps the exact text.
- Odd input gets a clear message and the documented exit code: `--timeout inf`, a
  query with no word, `--json -f tsv`, `ZOOFIND_CACHE_TTL=abc`.
- Process edges: a full or closed stdout is reported as an output failure, and a
  missing HOME is never created.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import zoofind
from zoofind.cli.render.output import Environment
from zoofind.core.errors import Described, MissingHomeError, UsageError, ZoofindWarning
from zoofind.core.safetext import clean, json_safe

# What a terminal acts on: ESC (every ANSI sequence starts with it), the other C0
# controls, DEL, C1 (0x9B is a one-byte CSI), bidi overrides and isolates.
FORBIDDEN = {chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0), 0x061C, 0x200E, 0x200F,
                              *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029)}
LINE_FORBIDDEN = FORBIDDEN - {"\n", "\t"}  # what may not appear in a whole output (lines and columns are fine)
HOSTILE = (
    "\x1b[2J\x1b[H"  # clear the screen
    "\x1b]0;pwned\x07"  # window title
    "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\"  # OSC 8 hyperlink
    "\x9b31mred\x9b0m"  # C1 CSI colour
    "\x07\x08\x00"  # bell, backspace, NUL
    " \u202eexe.txt\u202c"  # right-to-left override
)


def bad_chars(text: str, allowed_breaks: bool = True) -> set[str]:
    return {c for c in text if c in (LINE_FORBIDDEN if allowed_breaks else FORBIDDEN)}


# -- safetext: the one function every printed string goes through -------------------------

@settings(max_examples=500, deadline=None)
@given(st.text())
@example(HOSTILE)
@example("\x1b]0;unterminated title")
@example("\x1b[")
@example("\x1b")
def test_cleaned_text_never_holds_a_control_character(text: str) -> None:
    out = clean(text)
    assert not bad_chars(out, allowed_breaks=False)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in out)  # a lone surrogate cannot even be encoded
    out.encode("utf-8")
    assert clean(out) == out


PLAIN = st.text(alphabet=st.characters(categories=("L", "M", "N", "P", "S", "Zs"), exclude_characters="\x1b"), max_size=80)


@settings(max_examples=500, deadline=None)
@given(PLAIN)
@example("Protéine — 蛋白质 👩‍🔬 🏴󠁧󠁢󠁳󠁣󠁴󠁿 ESM-2 (t6) ½ a\u00a0b")
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert clean(text) == text


def test_escape_sequences_go_whole_and_visible_text_stays() -> None:
    assert clean(HOSTILE) == "click mered exe.txt"
    assert clean("Larval\tzebrafish\nbrain\r\natlas") == "Larval zebrafish brain  atlas"


@settings(max_examples=500, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(), lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids), max_leaves=10))
@example({"name": HOSTILE, "lone": "\ud800"})
def test_json_keeps_exact_data_and_escapes_what_a_terminal_acts_on(value: object) -> None:
    dumped = json_safe(json.dumps(value, ensure_ascii=False))
    assert json.loads(dumped) == value
    assert not bad_chars(dumped, allowed_breaks=False) and not any(0xD800 <= ord(c) <= 0xDFFF for c in dumped)


def test_every_stderr_message_is_one_clean_line() -> None:
    err = io.StringIO()
    env = Environment(stdout=io.StringIO(), stderr=err, colors=False)
    env.note(f"kaggle: {HOSTILE}")
    env.warn(f"source hf failed: {HOSTILE}\nzoofind: error: fake second line")
    env.error(Described(f"Kaggle said: {HOSTILE}", f"hint {HOSTILE}", 1))
    lines = err.getvalue().splitlines()
    assert len(lines) == 4 and not bad_chars(err.getvalue())
    assert lines[1] == "zoofind: warning: source hf failed: click mered exe.txt zoofind: error: fake second line"


# -- hostile text from a user catalog, through the real command ----------------------------

ZEBRAFISH = """
[[entry]]
id = "catalog:zebrafish-atlas"
kind = "resource"
name = "Zebrafish\\u001b[2J\\u001b]0;pwned\\u0007 atlas"
resource_type = "tutorial"
url = "https://example.org/\\u001b]8;;https://evil.example\\u001b\\\\click\\u001b]8;;\\u001b\\\\"
description = "Larval\\tzebrafish\\nbrain \\u009b31matlas\\u009b0m \\u202eexe.txt\\u202c [bold]not markup[/] ok"
reliability = "inferred"
tags = ["zebrafish"]
"""


@pytest.fixture
def hostile_catalog(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "lab-catalog"
    folder.mkdir()
    (folder / "lab.toml").write_text(ZEBRAFISH, encoding="utf-8")
    return {"ZOOFIND_CATALOG_DIR": str(folder), "COLUMNS": "140"}


@pytest.mark.parametrize(
    "args",
    [
        ("search", "zebrafish", "--offline"),
        ("search", "zebrafish", "--offline", "-f", "ids"),
        ("search", "zebrafish", "--offline", "-f", "table"),
        ("info", "catalog:zebrafish-atlas", "--offline"),
        ("info", "catalog:zebrafish-atlas", "--offline", "-f", "table"),
    ],
)
def test_escape_codes_in_a_user_catalog_never_reach_the_terminal(cli, hostile_catalog, args) -> None:
    r = cli(*args, env=hostile_catalog)
    assert r.code == 0, r.stderr
    assert "zebrafish-atlas" in r.stdout and not bad_chars(r.stdout) and not bad_chars(r.stderr)
    if "ids" not in args:
        assert "Zebrafish atlas" in r.stdout
    if args[0] == "info":
        assert "https://example.org/click" in r.stdout and "[bold]not markup[/] ok" in r.stdout


def test_tsv_cells_stay_one_line_and_one_column(cli, hostile_catalog) -> None:
    r = cli("info", "catalog:zebrafish-atlas", "--offline", env=hostile_catalog)
    fields = dict(line.split("\t") for line in r.stdout.splitlines())
    assert fields["description"] == "Larval zebrafish brain atlas exe.txt [bold]not markup[/] ok"


def test_json_output_keeps_the_exact_text(cli, hostile_catalog) -> None:
    r = cli("info", "catalog:zebrafish-atlas", "--offline", "--json", env=hostile_catalog)
    assert r.code == 0 and not bad_chars(r.stdout)
    record = json.loads(r.stdout)["record"]
    assert record["name"] == "Zebrafish\x1b[2J\x1b]0;pwned\x07 atlas"
    assert record["description"].startswith("Larval\tzebrafish\nbrain \x9b31matlas")
    jsonl = cli("search", "zebrafish", "--offline", "-f", "jsonl", env=hostile_catalog)
    assert not bad_chars(jsonl.stdout) and json.loads(jsonl.stdout.splitlines()[0])["name"] == record["name"]


# -- a server's error text on stderr ------------------------------------------------------

@pytest.fixture
def hostile_kaggle():
    """A Kaggle API that rejects every call with escape codes in its error message."""
    from servers.loopback import LoopbackServer, QuietHandler

    body = json.dumps({"code": 400, "message": f"bad request {HOSTILE}"}).encode()

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(LoopbackServer):
        def __init__(self) -> None:
            self.requests = []
            self._listen(Handler)

    with Server() as server:
        yield {"ZOOFIND_KAGGLE_ENDPOINT": server.url, "KAGGLE_API_TOKEN": "tok-test"}


def test_a_servers_error_message_reaches_stderr_clean(cli, hostile_kaggle) -> None:
    r = cli("search", "yamnet", "-s", "kaggle", "--timeout", "5", env=hostile_kaggle)
    assert r.code == 1 and r.stdout == ""
    assert "bad request" in r.stderr and "click mered" in r.stderr
    assert not bad_chars(r.stderr) and "Traceback" not in r.stderr


# -- queries -------------------------------------------------------------------------------

def first_ids(cli, *args: str) -> list[str]:
    r = cli("search", *args, "--offline", "-f", "ids", "-n", "5")
    assert r.code == 0, r.stderr
    return r.stdout.split()


def test_fullwidth_and_accented_queries_find_protein(cli) -> None:
    protein = first_ids(cli, "protein")
    assert first_ids(cli, "ｐｒｏｔｅｉｎ") == protein
    assert first_ids(cli, "PROTEIN") == protein
    r = cli("search", "Protéine", "--offline", "-f", "ids", "-n", "5")
    assert r.stdout.split() == protein and "read 'proteine' as 'protein'" in r.stderr


@pytest.mark.parametrize("query", ["🧬", ".", "the of", "¿?"])
def test_a_query_with_no_word_is_a_usage_error_not_the_whole_catalog(cli, query: str) -> None:
    r = cli("search", query, "--offline")
    assert r.code == 2 and r.stdout == ""
    assert "nothing to search for" in r.stderr and "Traceback" not in r.stderr


def test_a_word_nothing_matches_is_an_empty_result_with_a_note(cli) -> None:
    r = cli("search", "بروتين", "--offline")
    assert r.code == 0 and r.stdout == "" and "no matches" in r.stderr


def test_filters_alone_still_list_every_match(cli) -> None:
    assert len(first_ids(cli, "--domain", "protein")) == 5


def test_the_python_api_says_the_same() -> None:
    with pytest.raises(UsageError, match="nothing to search for"):
        zoofind.search("🧬", offline=True)
    assert zoofind.search("بروتين", offline=True).hits == ()


# -- options and environment switches ---------------------------------------------------------

@pytest.mark.parametrize(
    "command, value",
    [*((("search", "protein"), v) for v in ("inf", "nan", "0", "-1", "1e9", "abc")),
     (("info", "hf:facebook/esm2_t6_8M_UR50D"), "inf"), (("sources",), "nan")],
)
def test_timeout_must_be_finite_and_positive(cli, command, value: str) -> None:
    r = cli(*command, "--offline", "--timeout", value)
    assert r.code == 2 and r.stdout == "", r.stderr
    assert "timeout" in r.stderr and "Traceback" not in r.stderr and "OverflowError" not in r.stderr


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 0, -1.0])
def test_the_python_api_applies_the_same_timeout_rule(value: float) -> None:
    with pytest.raises(UsageError, match="timeout must be"):
        zoofind.search("protein", offline=True, timeout=value)
    with pytest.raises(UsageError):
        zoofind.list_sources(offline=True, timeout=value)


def test_a_small_timeout_is_fine(cli) -> None:
    assert cli("search", "protein", "--offline", "--timeout", "0.05", "-n", "1").code == 0


@pytest.mark.parametrize("args", [("--json", "-f", "tsv"), ("-f", "tsv", "--json"), ("--format", "ids", "--json")])
def test_json_with_another_format_is_a_usage_error(cli, args) -> None:
    r = cli("search", "protein", "--offline", *args)
    assert r.code == 2 and r.stdout == "" and "--json" in r.stderr


def test_json_with_format_json_agrees(cli) -> None:
    r = cli("search", "protein", "--offline", "--json", "-f", "json", "-n", "1")
    assert r.code == 0 and json.loads(r.stdout)["command"] == "search"


@pytest.mark.parametrize("value", ["abc", "-5", "nan", "inf"])
def test_an_unusable_cache_ttl_is_a_warning_with_the_fallback(cli, value: str) -> None:
    r = cli("search", "protein", "--offline", "-n", "1", env={"ZOOFIND_CACHE_TTL": value})
    assert r.code == 0 and r.stdout
    (line,) = [x for x in r.stderr.splitlines() if "ZOOFIND_CACHE_TTL" in x]
    assert line.startswith("zoofind: warning:") and repr(value) in line and "21600 s (6 h)" in line


@pytest.mark.parametrize("value", ["0", "60", "1e5", ""])
def test_a_usable_cache_ttl_says_nothing(cli, value: str) -> None:
    r = cli("search", "protein", "--offline", "-n", "1", env={"ZOOFIND_CACHE_TTL": value})
    assert r.code == 0 and "warning" not in r.stderr


def test_an_unknown_offline_value_is_named(cli) -> None:
    r = cli("search", "protein", "--offline", "-n", "1", env={"ZOOFIND_OFFLINE": "maybe"})
    assert r.code == 0 and "ZOOFIND_OFFLINE='maybe'" in r.stderr and "treated as off" in r.stderr


def test_the_library_warns_through_python_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOOFIND_CACHE_TTL", "abc")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ctx = zoofind.Context.from_env(offline=True)
    assert ctx.ttl == 6 * 3600
    assert [w.category for w in caught] == [ZoofindWarning] and "ZOOFIND_CACHE_TTL='abc'" in str(caught[0].message)


# -- output truthfulness ---------------------------------------------------------------------

def test_no_hits_on_a_terminal_print_no_empty_table(cli) -> None:
    r = cli("search", "qwxzyv plorkt", "--offline", "-f", "table")
    assert r.code == 0 and r.stdout == "" and "no matches" in r.stderr


def test_no_hits_in_process_with_a_terminal() -> None:
    out = io.StringIO()
    from typer.testing import CliRunner

    from zoofind.cli.app import app
    from zoofind.cli.common import set_env

    set_env(Environment(stdout=out, stderr=io.StringIO(), stdout_isatty=True))
    try:
        assert CliRunner().invoke(app, ["search", "qwxzyv plorkt", "--offline"]).exit_code == 0
    finally:
        set_env(None)
    assert out.getvalue() == ""


# -- process edges -------------------------------------------------------------------------

def zoofind_command() -> list[str]:
    script = Path(sys.executable).with_name("zoofind")
    return [str(script)] if script.exists() else [sys.executable, "-m", "zoofind"]


@pytest.mark.parametrize("fmt", ["tsv", "table", "json"])
def test_a_full_disk_behind_stdout_is_an_output_failure(fmt: str) -> None:
    # zoofind search protein > /dev/full
    with open("/dev/full", "w") as full:
        done = subprocess.run([*zoofind_command(), "search", "protein", "--offline", "-f", fmt],
                              check=False, stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 1
    assert "could not write the output to stdout: No space left on device" in done.stderr
    assert "CACHE" not in done.stderr and "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


def test_a_closed_stdout_is_said_plainly() -> None:
    # zoofind search protein >&-
    done = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", *zoofind_command(), "search", "protein", "--offline"],
                          check=False, stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 1 and "could not write the output: stdout is closed" in done.stderr
    assert "AttributeError" not in done.stderr and "Traceback" not in done.stderr


def test_a_closed_stdout_with_nothing_to_write_is_fine() -> None:
    done = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", *zoofind_command(), "search", "qwxzyv plorkt", "--offline"],
                          check=False, stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 0 and "no matches" in done.stderr


def test_a_missing_home_is_never_created(cli, hf_hub, tmp_path: Path) -> None:
    # As root in a container, HOME may point nowhere: the cache needs ~/.cache/zoofind, and
    # mkdir -p would make the whole missing home. zoofind says so and skips the cache instead.
    home = tmp_path / "no" / "such" / "home"
    env = {"HOME": str(home), "ZOOFIND_CACHE_DIR": "", "XDG_CACHE_HOME": ""}
    r = cli("search", "esm2", "-n", "3", env=env)
    assert not (tmp_path / "no").exists()
    assert r.code == 0 and "hf:" in r.stdout, r.stderr
    assert f"the home folder '{home}' (HOME) does not exist" in r.stderr and "Traceback" not in r.stderr
    # The live sources still answer, uncached, and say so once.
    assert r.stderr.count("live answers are not cached") == 1 and "source hf failed" not in r.stderr


def test_the_library_refuses_a_folder_inside_a_missing_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "missing"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("ZOOFIND_CACHE_DIR")
    ctx = zoofind.Context.from_env(offline=True)
    with pytest.raises(MissingHomeError) as exc:
        _ = ctx.cache_dir
    assert "set HOME to an existing folder, or ZOOFIND_CACHE_DIR" in exc.value.message
    monkeypatch.setenv("ZOOFIND_CACHE_DIR", str(tmp_path / "cache"))
    elsewhere = zoofind.Context.from_env()
    assert elsewhere.cache_dir == tmp_path / "cache"
    assert not home.exists() and os.path.isdir(tmp_path)


def test_on_a_terminal_only_zoofinds_own_styling_is_escaped(hostile_catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from typer.testing import CliRunner

    from zoofind.cli.app import app
    from zoofind.cli.common import set_env

    for name, value in hostile_catalog.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TERM", "xterm-256color")
    out, err = io.StringIO(), io.StringIO()
    set_env(Environment(stdout=out, stderr=err, stdout_isatty=True, stderr_isatty=False, colors=True, width=140))
    try:
        for args in (["search", "zebrafish", "--offline"], ["info", "catalog:zebrafish-atlas", "--offline"]):
            assert CliRunner().invoke(app, args).exit_code == 0
    finally:
        set_env(None)
    assert "\x1b[" in out.getvalue()  # rich's bold and dim
    # Colour (SGR) sequences are zoofind's own; nothing else may remain.
    assert not bad_chars(re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue()))
    assert "Zebrafish atlas" in out.getvalue()


def test_a_wrong_typed_figure_shows_as_nothing_rather_than_failing_the_listing() -> None:
    from zoofind.cli.render.output import render_records
    from zoofind.core.units import human_bytes, human_count
    from zoofind.models.records import Record

    assert [human_count(v) for v in ("many", float("nan"), float("inf"), True, None)] == [""] * 5
    assert (human_count(1234567), human_bytes(2_500_000)) == ("1.2M", "2.5 MB")
    odd = Record(id="hf:acme/odd", source="hf", kind="model", name="Odd", downloads="many", likes=float("nan"))  # type: ignore[arg-type]
    out = io.StringIO()
    render_records(Environment(stdout=out, stdout_isatty=True, width=120), "table", "search", [odd], {})
    assert "hf:acme/odd" in out.getvalue() and "many" not in out.getvalue()


def test_fullwidth_ids_and_names_are_exact_matches(cli) -> None:
    assert first_ids(cli, "ｙａｍｎｅｔ")[:1] == first_ids(cli, "yamnet")[:1] == ["tfhub:google/yamnet/1"]


@pytest.mark.parametrize("value", ["huggingface.co", "http://[::1", "ftp://mirror.example", "http://", "https://host:port", "u:sekrit@mirror"])
@pytest.mark.parametrize("command", [("search", "protein", "-s", "hf"), ("info", "hf:a/b"), ("pull", "hf:a/b")])
def test_a_malformed_endpoint_override_is_a_usage_error_naming_it(cli, value: str, command: tuple[str, ...]) -> None:
    ran = cli(*command, env={"HF_ENDPOINT": value})
    assert ran.code == 2, ran.stderr
    assert "HF_ENDPOINT=" in ran.stderr and "not an http(s) address" in ran.stderr and "unset it" in ran.stderr
    assert "sekrit" not in ran.stderr and "Traceback" not in ran.stderr
    # The offline catalog search never uses the address: it still works.
    assert cli("search", "protein", "--offline", "-n", "1", env={"HF_ENDPOINT": value}).code == 0
