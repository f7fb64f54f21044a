"""The answer inside the lead passage: candidate spans, their scoring, the bold mark."""

from __future__ import annotations

from types import SimpleNamespace

from bot.answer import compose
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


def test_the_bold_stands_where_the_span_was_found_not_at_an_earlier_twin(monkeypatch) -> None:
    # Two sentences lead as one; the answer is the second one's "Olsen", and the first names
    # another Olsen.
    def sure_of_olsen(spans, threshold, text, question, question_word):
        at = text.find("Kari Olsen")
        return (Span(at + 5, at + 10, "Olsen"), 0.9) if at >= 0 else (None, 0.0)

    monkeypatch.setattr(compose, "best_span", sure_of_olsen)
    scorer = SimpleNamespace(question="Hvem tok over?", question_word="who", groups=[], asked=0)
    lead = compose._lead_maker(scorer, None, 0.5)  # type: ignore[arg-type]
    shown = lead(["Per Olsen åpnet møtet.", "Deretter tok Kari Olsen over."])
    assert shown == "Per Olsen åpnet møtet. Deretter tok Kari **Olsen** over."
