"""Shared fixtures. Every test runs hermetic: temporary HOME and caches, no hub env leaking in."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_LEAKY = (
    "HF_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE", "HF_HOME", "HF_HUB_CACHE", "TORCH_HOME", "TFHUB_CACHE_DIR",
    "KAGGLE_API_TOKEN", "KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_CONFIG_DIR", "ZOOFIND_OFFLINE",
    "ZOOFIND_CACHE_DIR", "ZOOFIND_CATALOG_DIR", "ZOOFIND_DEBUG", "ZOOFIND_CACHE_TTL", "NO_COLOR", "XDG_CACHE_HOME",
    "ZOOFIND_TFHUB_ENDPOINT", "ZOOFIND_KAGGLE_ENDPOINT", "ZOOFIND_TORCHVISION_ENDPOINT", "KAGGLE_API_ENVIRONMENT",
    "KAGGLEHUB_CACHE", "ZOOFIND_SHARED_CACHE", "ZOOFIND_GITHUB_ENDPOINT", "GITHUB_TOKEN", "ZOOFIND_MAX_REPO_ARCHIVE",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION",
    "AWS_DEFAULT_REGION", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "ZOOFIND_MIRROR",
)


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in _LEAKY:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("ZOOFIND_CACHE_DIR", str(tmp_path / "zoofind-cache"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle"))
    from zoofind import catalog
    from zoofind.cli import common

    catalog.reset()
    common.set_env(None)
    yield home
    catalog.reset()


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 60) -> Ran:
    """Run the real `zoofind` entry point in a subprocess (stdout is a pipe, not a terminal)."""
    full_env = {**os.environ, **(env or {})}
    script = Path(sys.executable).with_name("zoofind")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "zoofind"]
    done = subprocess.run(
        [*command, *args],
        capture_output=True, text=True, env=full_env, input=stdin, timeout=timeout,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def hf_hub(monkeypatch: pytest.MonkeyPatch):
    """A local Hugging Face Hub (tests/servers/hf_server.py) with HF_ENDPOINT pointing at it."""
    from servers.hf_server import HubServer

    with HubServer() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        yield hub


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    """A real S3 server (SeaweedFS, servers/seaweed.py) for one test module; stopped by its PID."""
    from servers.seaweed import Seaweed

    server = Seaweed(tmp_path_factory.mktemp("seaweed")).start()
    yield server
    server.stop()
