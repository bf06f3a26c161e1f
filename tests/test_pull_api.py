"""`zoofind.pull(...)` from Python: the same typed results as `--format json`, progress through a callback."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

import zoofind
from servers.files_server import FileServer
from servers.kaggle_server import KaggleServer

QUANTIZED = "torchvision:quantized_resnet18.IMAGENET1K_FBGEMM_V1"
DATA = os.urandom(3 * 1024 * 1024)


@pytest.fixture
def mirror(monkeypatch: pytest.MonkeyPatch):
    with FileServer({"/models/quantized/resnet18_fbgemm_16fa66dd.pth": DATA}) as srv:
        monkeypatch.setenv("ZOOFIND_TORCHVISION_ENDPOINT", srv.url + "/models")
        monkeypatch.setenv("TORCH_HOME", str(Path(os.environ["HOME"]) / "torch"))
        yield srv


def test_pull_returns_typed_results_and_reports_progress(mirror, capsys) -> None:
    events: list[zoofind.ProgressEvent] = []
    report = zoofind.pull(QUANTIZED, progress=events.append)
    assert isinstance(report, zoofind.PullReport) and report.exit_code == 0
    (res,) = report.results
    assert isinstance(res, zoofind.PullResult) and res.ok and res.id == QUANTIZED
    assert Path(res.path).read_bytes() == DATA
    assert res.files[0].status == "downloaded" and res.fetched_bytes == len(DATA)
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and "advance" in kinds
    assert sum(e.advanced for e in events if e.kind == "advance") == len(DATA)
    assert capsys.readouterr() == ("", "")  # the library never prints


def test_failures_are_results_not_exceptions_and_offline_sends_nothing(mirror) -> None:
    report = zoofind.pull([QUANTIZED, "torchvision:no_such_model"], dry_run=True)
    assert [r.ok for r in report.results] == [True, False]
    assert report.results[1].exit_code == 3 and report.exit_code == 3
    assert mirror.requests == []
    offline = zoofind.pull(QUANTIZED, offline=True)
    assert offline.exit_code == 1 and "not in torch.hub's checkpoint folder" in (offline.results[0].error or "")
    with pytest.raises(zoofind.UsageError):
        zoofind.pull([])


def test_progress_bars_draw_only_on_a_terminal() -> None:
    from zoofind.cli.render.output import Environment
    from zoofind.cli.render.pull import progress_bars
    from zoofind.models.transfer import ProgressEvent

    for tty in (True, False):
        err = io.StringIO()
        env = Environment(stdout=io.StringIO(), stderr=err, stderr_isatty=tty)
        with progress_bars(env, enabled=True) as on_event:
            assert (on_event is not None) is tty
            if on_event:
                on_event(ProgressEvent("model.safetensors", "start", 0, 1000))
                on_event(ProgressEvent("model.safetensors", "advance", 500, 1000, 500))
        assert ("model.safetensors" in err.getvalue()) is tty
        assert env.stdout.getvalue() == ""


def test_kaggle_without_credentials_refused_is_access_denied_with_the_next_step(cli, tmp_path) -> None:
    # Asked anonymously (as kagglehub does); a private model refuses that, and the message says what to do.
    with KaggleServer() as srv:
        srv.add_version("google/yamnet/tensorFlow2/yamnet/1", {"saved_model.pb": b"pb"})
        srv.private.add("google/yamnet")
        ran = cli("pull", "kaggle:google/yamnet/tensorFlow2/yamnet",
                  env={"ZOOFIND_KAGGLE_ENDPOINT": srv.url, "KAGGLEHUB_CACHE": str(tmp_path / "kh")})
    assert ran.code == 4 and "KAGGLE_API_TOKEN" in ran.stderr and "kaggle.com/settings" in ran.stderr
    assert "sign in" in ran.stderr and ran.stdout == "" and "Traceback" not in ran.stderr


def test_help_teaches_with_examples(cli) -> None:
    ran = cli("pull", "--help")
    assert ran.code == 0
    for text in ("--revision", "--include", "--all-files", "--dest", "--jobs", "--dry-run", "--offline", "zoofind pull -"):
        assert text in ran.stdout
