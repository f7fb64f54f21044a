"""Shared fixtures: an isolated environment for every test, and a real Chroma server on demand."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hfbot.network import keep_loopback_direct
from hfbot.settings import BUNDLED_CORPUS, Settings, load_settings
from tests.fakes import FakeEmbedder

# As `hfbot` does at start: the servers the tests start on 127.0.0.1 are reached directly even
# where the machine has a proxy for the package registries.
keep_loopback_direct()

_REAL_ENV = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_API_URL",
    "CHROMA_HOST",
    "CHROMA_PORT",
    "HFBOT_LLM",
    "HFBOT_DATA_DIR",
    "HFBOT_CORPUS_DIR",
    "HFBOT_DATABASE_URL",
    "HFBOT_ADMINS",
    "OPENAI_API_KEY",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the data dir at a temp folder and hide real tokens and servers from every test."""
    for name in _REAL_ENV:
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("HFBOT_DATA_DIR", str(data))
    monkeypatch.setenv("HFBOT_CACHE_DIR", str(tmp_path / "cache"))  # eval stores stay in here
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)  # keep a stray .env or ./.hfbot out of the tests
    return data


@pytest.fixture
def settings(isolated_env: Path) -> Settings:
    return load_settings()


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(BUNDLED_CORPUS, target)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real Chroma server (`chroma run`) on 127.0.0.1 and a free port, for the session."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.skip("the chroma CLI is not installed")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("w")
    proc = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(path / "db"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError as exc:
                if proc.poll() is not None:
                    log_text = (path / "server.log").read_text()
                    raise RuntimeError(f"chroma run exited: {log_text}") from exc
                time.sleep(0.2)
        else:
            raise RuntimeError("chroma server did not start within 60 s")
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
