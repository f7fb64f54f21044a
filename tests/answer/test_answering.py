"""Answers as a user sees them: cited, faithful, short, honest; and bad input never crashes."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot import retrieval
from bot.answer.compose import OCR_NOTE
from bot.answering import Answerer
from bot.types import Turn
from ingest.store import Store, StoreUnavailable
from tests.answer.simple_corpus import add_document
from tests.fakes import FakeEmbedder

_MARK = re.compile(r"\s*\[\d+\]$")


def _quoted_lines(text: str) -> list[str]:
    """The answer's lines as quoted: without list marks, source numbers, bold and the '…' of a
    cut passage."""
    lines = [_MARK.sub("", line.strip().removeprefix("- ")) for line in text.splitlines() if line]
    return [line.replace("**", "").removeprefix("… ").removesuffix(" …") for line in lines]


def test_answer_quotes_the_source_and_cites_it(answerer: Answerer) -> None:
    answer = answerer.answer("Hvor mange ansatte har Vestre Viken HF?")
    assert not answer.abstained
    assert "9400" in answer.text
    assert re.search(r"\[1\]", answer.text)
    first = answer.citations[0]
    assert first.n == 1 and first.file == "000_83f573777f471351.txt"
    assert first.title and first.date and first.quote
    assert set(answer.timings_ms) == {"retrieve", "answer", "total"}


def test_every_quoted_line_stands_in_its_source_verbatim(answerer: Answerer) -> None:
    """Each answer line is the source's text, or its OCR-repaired search text with a note; the
    citation's quote is always the source's own words."""
    chunks = answerer.store.live_chunks()
    flat = [" ".join(c.text.replace("**", "").split()) for c in chunks]
    repaired = [" ".join(c.search_text.replace("**", "").split()) for c in chunks]
    for question in (
        "Hvilken statssekretær innledet på partnerskapsmøtet 2024?",  # OCR'd document
        "Hvem deltar på partnerskapsmøtet?",
        "Når startet FACT ung?",
        "Hvem var leder av strategisk samarbeidsutvalg i 2024?",  # OCR'd document
    ):
        answer = answerer.answer(question)
        lines = [line for line in _quoted_lines(answer.text) if line != OCR_NOTE]
        for line in lines:
            line = line.removesuffix(" …")
            assert any(line in text for text in flat + repaired), line
        shown_repaired = [ln for ln in lines if not any(ln in text for text in flat)]
        assert bool(shown_repaired) == (OCR_NOTE in answer.text), answer.text
        for citation in answer.citations:
            for quote in citation.quote.split(" … "):
                assert any(quote.removesuffix(" …") in text for text in flat), quote


def test_answers_are_short_without_repeated_passages(answerer: Answerer) -> None:
    for question in (
        "Hva er partnerskapsmøtet?",
        "Hvem deltar i strategisk samarbeidsutvalg?",
        "Hvilke kommuner er med i helsefellesskapet?",
    ):
        answer = answerer.answer(question)
        lines = _quoted_lines(answer.text)
        assert len(lines) == len(set(lines)), answer.text
        assert sum(len(line) for line in lines) <= 650, answer.text


def test_lists_stay_lists(answerer: Answerer) -> None:
    answer = answerer.answer("Hvem deltar på partnerskapsmøtet?")
    items = [line for line in answer.text.splitlines() if line.lstrip().startswith("- ")]
    assert len(items) >= 3
    assert "Ordførere" in answer.text


def test_unanswerable_question_is_refused_in_norwegian_with_closest_documents(
    answerer: Answerer,
) -> None:
    for question in (
        "Hva koster det å parkere ved Drammen sykehus?",
        "Hvem vant fotballkampen i går?",
        "Hvor mye tjener direktøren i Vestre Viken?",
    ):
        answer = answerer.answer(question)
        assert answer.abstained, answer.text
        assert "finner ikke svar" in answer.text
        assert not answer.citations
        assert answer.closest and answer.closest[0].title in answer.text


@pytest.mark.parametrize(
    "question",
    ["", "   \n\t ", "🙂🙂🙂", "🤔❓"],
)
def test_empty_or_wordless_input_gets_a_helpful_reply(answerer: Answerer, question: str) -> None:
    answer = answerer.answer(question)
    assert answer.mode == "message"
    assert "spørsmål" in answer.text
    assert not answer.citations


def test_very_long_question_is_answered_and_says_it_was_cut(answerer: Answerer) -> None:
    question = "Hvor mange ansatte har Vestre Viken HF? " + "bla " * 1300
    assert len(question) > 5000
    answer = answerer.answer(question)
    assert "første 1000 tegnene" in answer.text


@pytest.mark.parametrize(
    "question",
    ["Wie viele Mitarbeiter hat das Krankenhaus in Berlin?", "这个医院有多少员工？"],
)
def test_foreign_language_question_gets_an_honest_reply(answerer: Answerer, question: str) -> None:
    answer = answerer.answer(question)
    assert answer.text
    assert answer.abstained or answer.mode == "message"


def test_english_question_is_answered_from_norwegian_sources(answerer: Answerer) -> None:
    answer = answerer.answer("How many employees does Vestre Viken have?")
    assert not answer.abstained, answer.text
    assert "9400" in answer.text
    assert answer.text.startswith("From the documents (quoted in Norwegian):")


def test_newest_document_wins_when_documents_disagree(empty_store: Store, settings) -> None:
    embedder = FakeEmbedder()
    add_document(
        empty_store,
        embedder,
        file="samarbeid-2012.txt",
        when=date(2012, 3, 1),
        title="Samarbeidsavtale 2012",
        text="Kommunehelsesamarbeidet omfatter 26 kommuner i Vestre Viken helseområde.",
    )
    add_document(
        empty_store,
        embedder,
        file="samarbeid-2023.txt",
        when=date(2023, 9, 1),
        title="Samarbeidsavtale 2023",
        text="Kommunehelsesamarbeidet omfatter 21 kommuner i Vestre Viken helseområde.",
    )
    answer = Answerer(settings, store=empty_store, embedder=embedder).answer(
        "Hvor mange kommuner er med i kommunehelsesamarbeidet nå?"
    )
    assert "21 kommuner" in answer.text
    assert "26 kommuner" not in answer.text
    assert answer.citations[0].date == "2023-09-01"


def test_follow_up_question_uses_the_previous_turn(answerer: Answerer) -> None:
    history = [
        Turn("user", "Når var partnerskapsmøtet i 2024?"),
        Turn("assistant", "Partnerskapsmøtet ble gjennomført 7. juni [1]"),
    ]
    alone = answerer.answer("Og i 2025?")
    followed = answerer.answer("Og i 2025?", history)
    assert "6. juni 2025" in followed.text, followed.text
    assert alone.text != followed.text


def test_store_that_cannot_be_reached_raises_store_unavailable(settings) -> None:
    settings = settings.model_copy(update={"chroma_host": "127.0.0.1", "chroma_port": 9})
    answerer = Answerer(settings, embedder=FakeEmbedder())
    with pytest.raises(StoreUnavailable):
        answerer.answer("Hvor mange ansatte har Vestre Viken?")


def test_store_failing_mid_search_raises_store_unavailable(answerer: Answerer, monkeypatch) -> None:
    # A corpus too large to hold its vectors in memory is searched by the store's own index.
    monkeypatch.setattr(retrieval, "EXACT_DENSE_LIMIT", 0)
    answerer.answer("Hva er KAD-plasser?")  # warm: the index is built

    def broken(*args, **kwargs):
        raise ConnectionError("server gone")

    monkeypatch.setattr(answerer.store, "nearest", broken)
    with pytest.raises(StoreUnavailable):
        answerer.answer("Hva er KAD-plasser?")


def test_empty_store_says_no_documents_are_loaded(empty_store: Store, settings) -> None:
    answer = Answerer(settings, store=empty_store, embedder=FakeEmbedder()).answer(
        "Hvor mange ansatte har Vestre Viken?"
    )
    assert answer.abstained
    assert "Ingen dokumenter er lest inn" in answer.text


def test_elliptic_follow_up_about_something_else_keeps_its_own_subject(
    answerer: Answerer,
) -> None:
    history = [Turn("user", "Når startet FACT ung?"), Turn("assistant", "Oppstart 2021 [1]")]
    answer = answerer.answer("Hva med KAD-plasser?", history)
    assert "akutt" in answer.text, answer.text


def test_an_overlong_passage_is_cut_around_what_the_question_asks(
    empty_store: Store, settings
) -> None:
    sentence = (
        "Legevakten har mange oppgaver "
        + "og mange andre oppgaver " * 60
        + "og legevakten i Lier har åpent hele døgnet."
    )
    add_document(empty_store, FakeEmbedder(), file="lang.txt", text=sentence, title="Lang")
    answer = Answerer(settings, store=empty_store, embedder=FakeEmbedder()).answer(
        "Når har legevakten i Lier åpent?"
    )
    assert not answer.abstained
    lead = answer.text.splitlines()[0]
    assert len(lead) <= 320 and lead.startswith("… ")
    assert "hele døgnet" in lead


def test_the_sentence_beside_the_best_one_shares_the_first_line(
    empty_store: Store, settings
) -> None:
    # "Hun døde …" answers, but only the sentence before it says who "hun" is: the two lead as
    # one passage.
    text = (
        "Inger Johanne Thon var gift med forfatteren Per Thon i over førti år. "
        "Hun døde i april i fjor etter lang tids sykdom.\n\n"
        "Drammen kommune har rundt 100 000 innbyggere og ligger ved Drammenselva."
    )
    add_document(empty_store, FakeEmbedder(), file="thon.txt", text=text, title="Thon")
    answer = Answerer(settings, store=empty_store, embedder=FakeEmbedder()).answer(
        "Når døde Inger Johanne Thon?"
    )
    assert not answer.abstained, answer.text
    lead = answer.text.splitlines()[0]
    assert "Inger Johanne Thon" in lead and "april i fjor" in lead, answer.text
    assert lead.count("[1]") == 1
