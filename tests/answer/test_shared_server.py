"""Several bot processes against one Chroma server: each follows the corpus as it changes."""

from __future__ import annotations

import time

import pytest

from bot.answering import Answerer
from hfbot.settings import load_settings
from ingest.store import Store
from tests.answer.simple_corpus import add_document
from tests.fakes import FakeEmbedder

pytestmark = pytest.mark.slow


def test_answerers_sharing_a_server_see_new_documents_after_the_refresh_interval(
    chroma_server, tmp_path
) -> None:
    host, port = chroma_server
    settings = load_settings(
        HFBOT_DATA_DIR=str(tmp_path / "data"),
        CHROMA_HOST=host,
        CHROMA_PORT=port,
        HFBOT_COLLECTION="shared_answer_test",
    )
    embedder = FakeEmbedder()
    writer = Store.open(settings)
    writer.reset()
    add_document(
        writer,
        embedder,
        file="legevakt.txt",
        title="Legevakt",
        text="Legevakten i Lier har åpent hele døgnet.",
    )
    # Two bot processes: each with its own client, store and lexical index.
    bots = [
        Answerer(settings, store=Store.open(settings), embedder=embedder, index_refresh_s=0.2)
        for _ in range(2)
    ]
    question = "Har Vestre Viken ansvar for innbyggerne i Holmestrand kommune?"
    assert all(bot.answer(question).abstained for bot in bots)

    add_document(
        writer,
        embedder,
        file="holmestrand.txt",
        title="Holmestrand",
        text="Vestre Viken har ansvar for en del av innbyggerne i Holmestrand kommune.",
    )
    time.sleep(0.3)
    for bot in bots:
        answer = bot.answer(question)
        assert not answer.abstained, answer.text
        assert answer.citations[0].file == "holmestrand.txt"
