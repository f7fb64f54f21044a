"""Site labels and site answer models in the bot's database, on SQLite and (when
HFBOT_TEST_DATABASE_URL is set) PostgreSQL: stored masked, kept through retention, exported in
the eval question-set format and read back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answer.evaluate import load_questions
from bot.site_labels import Label, LabelPassage, read_labels, write_labels
from bot.site_store import LabelStore, SiteModels
from bot.slack.feedback import FeedbackStore
from bot.slack.retention import purge
from tests.slack.test_feedback_store import _answer, database_url  # noqa: F401 (fixture)

PASSAGE = LabelPassage(
    file="003_539dbae2e487e3f7.txt",
    text="Til sammen deltok rundt 80 deltakere fra de 21 kommunene og Vestre Viken.",
    title="Partnerskapsmøte i helsefellesskapet",
    section="Dette er helsefellesskapet",
    date="2024-01-11",
)


@pytest.fixture
def labels(database_url: str) -> Iterator[LabelStore]:  # noqa: F811
    store = LabelStore(database_url)
    yield store
    store.close()


def test_labels_round_trip_masked_and_survive_retention(
    labels: LabelStore,
    database_url: str,  # noqa: F811
) -> None:
    old = time.time() - 400 * 24 * 3600
    answered = labels.add(
        Label(
            "Hvor mange deltok? Ring meg på 912 34 567",
            passages=(PASSAGE,),
            created_by="UADMIN",
            created_at=old,
            answer_id="a1",
        )
    )
    refused = labels.add(Label("Hva koster parkering?", unanswerable=True, created_by="UADMIN"))
    assert answered.question == "Hvor mange deltok? Ring meg på [telefonnummer]"

    feedback = FeedbackStore(database_url)
    feedback.record_answer(_answer(), channel="C1", user_id="U1")
    purge(feedback, days=1, now=time.time() + 3 * 24 * 3600)  # every answer is "old" now
    assert feedback.counts()["answers"] == 0
    feedback.close()

    stored = labels.all()
    assert [s.id for s in stored] == [answered.id, refused.id]  # oldest first, not deleted
    assert stored[0].passages == (PASSAGE,)
    assert stored[0].question.endswith("[telefonnummer]")
    assert stored[0].answer_id == "a1"
    assert stored[1].unanswerable and labels.count() == 2
    assert labels.newest_at() == pytest.approx(refused.created_at)
    assert labels.delete(refused.id) and labels.count() == 1


def test_export_is_a_question_set_eval_reads_and_import_restores_it(
    labels: LabelStore, tmp_path: Path
) -> None:
    labels.add(Label("Hvor mange deltok?", passages=(PASSAGE,), created_by="U1"))
    labels.add(Label("Hvor mange kommuner?", passages=(PASSAGE,), must=("21 kommunene",)))
    labels.add(Label("Hva koster parkering?", unanswerable=True))
    path = tmp_path / "labels.yaml"
    assert write_labels(labels.all(), path) == 3

    questions = load_questions(path)  # exactly what `hfbot eval FILE.yaml` reads
    assert [q.sources for q in questions] == [(PASSAGE.file,), (PASSAGE.file,), ()]
    assert questions[0].must == (PASSAGE.text,)  # short: the whole passage
    assert questions[1].must == ("21 kommunene",)
    assert questions[2].unanswerable

    again = read_labels(path)
    assert [(a.id, a.question, a.passages, a.must, a.unanswerable) for a in again] == [
        (b.id, b.question, b.passages, b.must, b.unanswerable) for b in labels.all()
    ]
    # the file keeps whole seconds
    assert all(
        abs(a.created_at - b.created_at) < 1 for a, b in zip(again, labels.all(), strict=True)
    )


def test_a_taken_site_model_keeps_the_one_before_for_a_restore(database_url: str) -> None:  # noqa: F811
    models = SiteModels(database_url)
    assert models.active_id() is None
    first = models.record(
        taken=True, summary="1 → 2", labels=2, labels_at=1.0, created_by="U", model={"v": 1}
    )
    second = models.record(
        taken=True, summary="2 → 3", labels=3, labels_at=2.0, created_by="U", model={"v": 2}
    )
    models.record(taken=False, summary="refused", labels=4, labels_at=3.0, created_by="U")
    assert models.active_id() == second
    assert models.active().model_json() == {"v": 2}
    assert models.latest_attempt().status == "refused"

    assert models.restore_previous().id == first
    assert models.active_id() == first
    assert models.restore_previous() is None  # nothing before: the shipped model answers
    assert models.active_id() is None
    models.close()
