"""The bot's database on SQLite (default) and, when HFBOT_TEST_DATABASE_URL is set, PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.dedupe import EventDeduper
from bot.slack.feedback import FeedbackStore
from bot.types import Answer, Citation
from tests.slack.conftest import POSTGRES_URL, postgres_schema

CITATION = Citation(
    n=1,
    file="a.txt",
    title="Avtale",
    date="2024-01-01",
    date_approximate=True,
    location="side 2",
    url="",
    quote="Partene møtes to ganger i året.",
)


def _answer(question: str = "Hvor ofte møtes partene?") -> Answer:
    return Answer(
        question=question,
        text="Partene møtes to ganger i året. [1]",
        abstained=False,
        citations=[CITATION],
    )


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not POSTGRES_URL, reason="HFBOT_TEST_DATABASE_URL not set"),
            ],
        ),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sub' / 'hfbot.sqlite3'}"
        return
    with postgres_schema(POSTGRES_URL) as url:
        yield url


@pytest.fixture
def store(database_url: str) -> Iterator[FeedbackStore]:
    feedback = FeedbackStore(database_url)
    yield feedback
    feedback.close()


def test_answers_round_trip_with_citations(store: FeedbackStore) -> None:
    answer_id = store.record_answer(_answer(), channel="C1", user_id="U1", thread_ts="1.0")
    store.set_message_ts(answer_id, "2.0")
    stored = store.get_answer(answer_id)
    assert stored is not None
    assert stored.question == "Hvor ofte møtes partene?"
    assert stored.answer == "Partene møtes to ganger i året. [1]"
    assert stored.message_ts == "2.0"
    assert stored.citations[0]["quote"] == "Partene møtes to ganger i året."
    assert stored.citations[0]["date_approximate"] is True
    assert store.answered_in_thread("C1", "1.0")
    assert not store.answered_in_thread("C1", "9.0")
    assert store.get_answer("missing") is None


def test_downvotes_are_listed_newest_first_one_vote_per_user(store: FeedbackStore) -> None:
    first = store.record_answer(_answer("Første?"), channel="C1", user_id="U1")
    second = store.record_answer(_answer("Andre?"), channel="C1", user_id="U1")
    store.record_vote(first, "U1", "down")
    store.record_vote(second, "U2", "down")
    store.record_vote(second, "U2", "down")  # a double click counts once
    store.record_vote(first, "U3", "up")
    assert [v.answer.question for v in store.downvoted()] == ["Andre?", "Første?"]
    store.record_vote(first, "U1", "up")  # changed their mind
    assert [v.answer.question for v in store.downvoted()] == ["Andre?"]
    assert store.votes_for(first) == {"U1": "up", "U3": "up"}
    with pytest.raises(ValueError):
        store.record_vote(first, "U1", "maybe")


def test_question_text_can_be_kept_out(database_url: str) -> None:
    feedback = FeedbackStore(database_url, store_question_text=False)
    try:
        answer_id = feedback.record_answer(
            _answer("Mitt fødselsnummer er 01010112345"), channel="C1", user_id="U1"
        )
        stored = feedback.get_answer(answer_id)
        assert stored is not None and stored.question is None
        assert stored.answer  # the answer (from the documents) is kept
    finally:
        feedback.close()


def test_escalations_open_and_close_once(store: FeedbackStore) -> None:
    answer_id = store.record_answer(_answer(), channel="C1", user_id="U1")
    escalation_id = store.open_escalation(answer_id, "U1")
    store.set_escalation_message(escalation_id, "CSEKR", "5.0")
    assert [e.id for e in store.open_escalations()] == [escalation_id]
    assert store.resolve_escalation(escalation_id, "USEKR") is True
    assert store.resolve_escalation(escalation_id, "USEKR2") is False
    closed = store.get_escalation(escalation_id)
    assert closed is not None and closed.resolved_by == "USEKR" and closed.message_ts == "5.0"
    assert store.open_escalations() == []


def test_event_ids_are_seen_once_even_from_many_threads(store: FeedbackStore) -> None:
    results: list[bool] = []
    lock = threading.Lock()

    def see() -> None:
        # A deduper per thread: replicas share only the database.
        first = EventDeduper(store).first_sighting("Ev123")
        with lock:
            results.append(first)

    threads = [threading.Thread(target=see) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(results) == [False] * 7 + [True]
    assert store.first_sighting("Ev124") is True
    assert store.forget_events_before(float("inf")) == 2
    assert store.first_sighting("Ev123") is True  # forgotten after the TTL


def test_two_stores_on_one_database_share_state(database_url: str) -> None:
    one, two = FeedbackStore(database_url), FeedbackStore(database_url)
    try:
        answer_id = one.record_answer(_answer(), channel="C1", user_id="U1", thread_ts="1.0")
        assert two.answered_in_thread("C1", "1.0")
        assert one.first_sighting("EvShared") and not two.first_sighting("EvShared")
        two.record_vote(answer_id, "U9", "down")
        assert [v.user_id for v in one.downvoted()] == ["U9"]
    finally:
        one.close()
        two.close()
