"""What the bot keeps about people: personal data masked before it is stored, and rows older
than HFBOT_RETENTION_DAYS deleted (SQLite and, with HFBOT_TEST_DATABASE_URL, PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text, update

from bot.privacy import is_national_id, mask_personal_data
from bot.slack import retention
from bot.slack.feedback import FeedbackStore, answers, escalations, handled, votes
from bot.types import Answer, Citation
from tests.slack.conftest import POSTGRES_URL, postgres_schema

DAY = 24 * 3600
# Checksum-valid fødselsnummer (a made-up person born 01.01.1990) and a D-nummer.
FNR = "01019000245"
D_NUMBER = "41019000077"


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
        yield f"sqlite:///{tmp_path / 'hfbot.sqlite3'}"
        return
    with postgres_schema(POSTGRES_URL) as url:
        yield url


@pytest.fixture
def store(database_url: str) -> Iterator[FeedbackStore]:
    feedback = FeedbackStore(database_url)
    yield feedback
    feedback.close()


def _answer(question: str, abstained: bool = False) -> Answer:
    citation = Citation(
        n=1, file="a.txt", title="Avtale", date="", date_approximate=True, location="",
        url="", quote="…",
    )  # fmt: skip
    return Answer(
        question=question,
        text="Svar. [1]" if not abstained else "Jeg fant ikke svaret.",
        abstained=abstained,
        citations=[] if abstained else [citation],
        closest=[citation] if abstained else [],
    )


# ---- masking -----------------------------------------------------------------------------------


def test_checksum_valid_identity_numbers_are_recognised() -> None:
    assert is_national_id(FNR) and is_national_id(D_NUMBER)
    assert not is_national_id("01019000246")  # last control digit wrong
    assert not is_national_id("12345678901")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (f"Pasient {FNR} trenger KAD-plass", "Pasient [fødselsnummer] trenger KAD-plass"),
        (f"fnr {FNR[:6]} {FNR[6:]}, hva nå?", "fnr [fødselsnummer], hva nå?"),
        (f"D-nummer {D_NUMBER}.", "D-nummer [fødselsnummer]."),
        ("Ring meg på 912 34 567", "Ring meg på [telefonnummer]"),
        ("tlf +47 22334455 eller 22 33 44 55", "tlf [telefonnummer] eller [telefonnummer]"),
        ("Svar til kari.nordmann@kommune.no", "Svar til [e-post]"),
    ],
)
def test_personal_data_is_masked(typed: str, stored: str) -> None:
    assert mask_personal_data(typed) == stored


@pytest.mark.parametrize(
    "kept",
    [
        "Hva står i handlingsplanen 2023-2024?",
        "Referat fra 12.06.2024, sak 10/2024",
        "Tilskuddet er på 10 000 kr",
        "Kontonummer 12345678901 er ikke et fødselsnummer",
        "Hva er KAD-plasser?",
    ],
)
def test_ordinary_numbers_are_kept(kept: str) -> None:
    assert mask_personal_data(kept) == kept


def test_stored_question_text_is_masked(store: FeedbackStore) -> None:
    answer_id = store.record_answer(
        _answer(f"Har pasient {FNR} (tlf 91234567, ola@example.no) rett på KAD?"),
        channel="C1",
        user_id="U1",
    )
    question = store.get_answer(answer_id).question
    assert question == ("Har pasient [fødselsnummer] (tlf [telefonnummer], [e-post]) rett på KAD?")


# ---- retention ---------------------------------------------------------------------------------


def _backdate(store: FeedbackStore, days: float) -> None:
    """Move every row so far `days` into the past."""
    then = time.time() - days * DAY
    with store.engine.begin() as conn:
        conn.execute(update(answers).values(created_at=then))
        conn.execute(update(votes).values(created_at=then))
        conn.execute(update(escalations).values(created_at=then))
        conn.execute(update(handled).values(handled_at=then))


def test_retention_deletes_old_questions_answers_and_feedback(store: FeedbackStore) -> None:
    old = store.record_answer(_answer("Gammelt spørsmål?"), channel="C1", user_id="U1")
    store.record_vote(old, "U1", "down")
    store.open_escalation(old, "U1")
    refused = store.record_answer(_answer("Ubesvart?", True), channel="C1", user_id="U1")
    store.mark_handled(refused, "UADMIN")
    _backdate(store, 91)
    new = store.record_answer(_answer("Nytt spørsmål?"), channel="C1", user_id="U2")
    store.record_vote(new, "U2", "up")
    # An old answer voted on yesterday: the vote goes with the answer it belongs to.
    store.record_vote(old, "U3", "up")

    deleted = retention.purge(store, 90)

    assert deleted == {"feedback": 2, "escalations": 1, "handled": 1, "answers": 2}
    assert store.counts() == {"answers": 1, "feedback": 1, "escalations": 0, "handled": 0}
    assert store.get_answer(old) is None and store.get_answer(new) is not None
    assert retention.purge(store, 0) == {}  # 0 keeps everything


def test_retention_runs_at_start_and_again_on_its_interval(store: FeedbackStore) -> None:
    store.record_answer(_answer("Gammelt?"), channel="C1", user_id="U1")
    _backdate(store, 100)
    job = retention.RetentionJob(store, 90, interval_s=0.1).start()
    try:
        assert store.counts()["answers"] == 0  # deleted before start() returned
        store.record_answer(_answer("Også gammelt?"), channel="C1", user_id="U1")
        _backdate(store, 100)
        deadline = time.monotonic() + 10
        while store.counts()["answers"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.counts()["answers"] == 0
    finally:
        job.stop()


def test_a_database_from_before_the_report_gains_its_new_column(database_url: str) -> None:
    # hfbot_answers as the previous version created it: no `closest` column.
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE hfbot_answers (id VARCHAR(32) PRIMARY KEY, created_at FLOAT NOT "
                "NULL, channel VARCHAR(64) NOT NULL, thread_ts VARCHAR(32), message_ts "
                "VARCHAR(32), user_id VARCHAR(64) NOT NULL, question TEXT, answer TEXT NOT "
                "NULL, abstained BOOLEAN NOT NULL, citations JSON NOT NULL)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO hfbot_answers VALUES ('old', 1.0, 'C', NULL, NULL, 'U', 'Q?', "
                "'A', false, '[]')"
            )
        )
    engine.dispose()

    store = FeedbackStore(database_url)
    try:
        assert store.get_answer("old").closest == []
        refused = store.record_answer(_answer("Ubesvart?", True), channel="C", user_id="U")
        assert store.get_answer(refused).closest[0]["title"] == "Avtale"
        FeedbackStore(database_url).close()  # a second replica starting finds it all in place
    finally:
        store.close()
