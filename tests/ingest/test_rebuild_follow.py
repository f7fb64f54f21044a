"""A running bot answers from a store another process rebuilt, without a restart or an error."""

from __future__ import annotations

from bot.answering import Answerer
from hfbot.settings import Settings
from ingest.pipeline import run_ingest
from tests.fakes import FakeEmbedder

QUESTION = "Hvem deltar på partnerskapsmøtet?"


def test_answers_follow_a_rebuild_by_another_process(settings: Settings) -> None:
    embedder = FakeEmbedder()
    run_ingest(settings, embedder=embedder)
    answerer = Answerer(settings, embedder=embedder, index_refresh_s=0)
    before = answerer.answer(QUESTION)
    assert before.citations

    # `hfbot ingest --rebuild` elsewhere drops and recreates the collections under the bot.
    run_ingest(settings, embedder=embedder, rebuild=True)
    after = answerer.answer(QUESTION)
    assert after.citations and after.citations[0].doc_id == before.citations[0].doc_id
