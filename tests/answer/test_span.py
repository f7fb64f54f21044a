"""The answer inside the lead passage: candidate spans, their scoring, the bold mark."""

from __future__ import annotations

from bot.answer.span import (
    MAX_SPAN_WORDS,
    Span,
    candidates,
    mark,
    normalise,
    question_terms,
    token_f1,
)

PASSAGE = "Kong Haakon VII ble valgt til konge 18. november 1905, etter unionsoppløsningen."


def test_every_span_but_the_questions_own_words_is_a_candidate() -> None:
    spans, rows = candidates(PASSAGE, question_terms("Når ble Haakon VII valgt til konge?"), "when")
    texts = {s.text for s in spans}
    assert "18. november 1905" in texts
    assert "Haakon" not in texts and "valgt" not in texts  # the question's own words
    assert rows.shape == (len(spans), rows.shape[1])
    assert all(len(s.text.split()) <= MAX_SPAN_WORDS for s in spans)
    # Offsets point into the passage, edges without punctuation.
    for s in spans:
        assert PASSAGE[s.start : s.end] == s.text
        assert not s.text.endswith((",", "."))


def test_token_f1_and_normalising_compare_answers_as_squad_does() -> None:
    assert normalise("«18. november 1905»,") == "18 november 1905"
    assert token_f1("18. november 1905", "18. november 1905") == 1.0
    assert 0.0 < token_f1("november 1905", "18. november 1905") < 1.0
    assert token_f1("Oslo", "Bergen") == 0.0


def test_the_answer_is_marked_bold_in_place() -> None:
    start = PASSAGE.index("18. november 1905")
    span = Span(start, start + len("18. november 1905"), "18. november 1905")
    assert "konge **18. november 1905**, etter" in mark(PASSAGE, span)
    assert mark(PASSAGE, None) == PASSAGE
