"""A real Chroma server goes away and comes back: the bot says so in Norwegian, stays up, and
answers again — over the real Answerer, without a restart."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.answering import Answerer
from bot.slack.responder import STORE_DOWN_TEXT
from hfbot.settings import BUNDLED_CORPUS, load_settings
from ingest.pipeline import run_ingest
from ingest.store import Store, make_client
from tests.conftest import free_port
from tests.fakes import FakeEmbedder
from tests.slack.conftest import Bot
from tests.slack.fake_slack import block_texts

pytestmark = pytest.mark.slow


class ChromaServer:
    """`chroma run` on 127.0.0.1 that the test can stop and start again on the same data."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        chroma = Path(sys.executable).parent / "chroma"
        if not chroma.exists():
            pytest.skip("the chroma CLI is not installed")
        log = (self.path / "server.log").open("a")
        self.proc = subprocess.Popen(
            [
                str(chroma),
                "run",
                "--path",
                str(self.path / "db"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                assert self.proc.poll() is None, (self.path / "server.log").read_text()
                time.sleep(0.2)
        raise RuntimeError("chroma server did not start within 60 s")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self.proc = None


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_store_outage_and_recovery(
    make_bot: Callable[..., Bot], chroma: ChromaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(chroma.port))
    monkeypatch.setenv("HFBOT_CORPUS_DIR", str(BUNDLED_CORPUS))
    settings = load_settings()
    store = Store(make_client(settings), settings.collection)
    run_ingest(settings, store=store, embedder=FakeEmbedder())
    # The texts and vectors of the live chunks are held in memory, so a question is answered
    # between the store's version checks even while it is down; checked at every question here,
    # the outage shows at once.
    answerer = Answerer(settings, store=store, embedder=FakeEmbedder(), index_refresh_s=0)
    bot = make_bot(
        env={"CHROMA_HOST": "127.0.0.1"},
        answerer=answerer,
        documents=store.documents,
        corpus_version=store.corpus_version,
    )
    question = "Hvor mange kommuner er med i helsefellesskapet?"

    bot.mention(question)
    first = bot.api.wait_for("chat.postMessage", 1, timeout=30)[0].params
    assert "[1]" in block_texts(first["blocks"])

    chroma.stop()
    bot.mention(question)
    down = bot.api.wait_for("chat.postMessage", 2, timeout=60)[1].params
    assert down["text"] == STORE_DOWN_TEXT

    chroma.start()
    deadline = time.monotonic() + 60
    while True:  # the bot is still up; the next question gets an answer again
        count = len(bot.api.calls_to("chat.postMessage"))
        bot.mention(question)
        post = bot.api.wait_for("chat.postMessage", count + 1, timeout=60)[-1].params
        if post["text"] != STORE_DOWN_TEXT:
            break
        assert time.monotonic() < deadline, "the bot did not recover after the store came back"
        time.sleep(1)
    assert "[1]" in block_texts(post["blocks"])
