"""The answer inside the lead passage: which words of it answer the question, for bold.

Every run of 1–MAX_SPAN_WORDS words of the passage is a candidate. The fitted span model (trees,
trained on NorQuAD's annotated answer spans, see bot.answer.fit) scores each by what it is (a
name, a number, a date, a place after a preposition), where it stands against the question's
words in the passage, how cleanly it is bounded, and which question word asks. The best span is
marked only when the model is sure enough: no bold rather than wrong bold.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.norwegian import QUESTION_WORDS, analyze, stem

MAX_SPAN_WORDS = 12
# Words that open an answer phrase without being part of what is asked ("i Brooklyn").
_PREPOSITIONS = frozenset(
    [
        "i",
        "på",
        "fra",
        "til",
        "av",
        "med",
        "som",
        "for",
        "etter",
        "under",
        "ved",
        "hos",
        "mot",
        "over",
        "om",
        "rundt",
        "innen",
        "mellom",
        "siden",
    ]
)
_MONTHS = re.compile(
    r"^(januar|februar|mars|april|mai|juni|juli|august|september|oktober|november|desember)",
    re.IGNORECASE,
)
_YEAR = re.compile(r"^(1[0-9]|20)\d{2}\W*$")
_TOKEN = re.compile(r"\S+")
_EDGE = string.punctuation + "«»“”‘’–—…"

SPAN_FEATURES = (
    "words",
    "characters",
    "opens_with_preposition",
    "opens_capitalised",
    "capitalised_share",
    "digits",
    "year",
    "month",
    "question_share",
    "gap_before",
    "gap_after",
    "right_after_question_word",
    "clean_start",
    "clean_end",
    "start_share",
    "has_comma",
    "unit_words",
    "after_preposition",
    "opens_clause",
    "holds_question_word",
    "sentence_start",
    *(f"asks_{name}" for name in QUESTION_WORDS),
)


@dataclass(frozen=True)
class Span:
    start: int  # character offsets in the passage
    end: int
    text: str


def normalise(text: str) -> str:
    """Lower case, edge punctuation and doubled spaces gone: how spans are compared."""
    return " ".join(w.strip(_EDGE) for w in text.lower().split() if w.strip(_EDGE))


def token_f1(found: str, gold: str) -> float:
    """SQuAD's token F1 of two answer strings."""
    a, b = normalise(found).split(), normalise(gold).split()
    if not a or not b:
        return float(a == b)
    common = sum(min(a.count(w), b.count(w)) for w in set(a))
    if not common:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


def candidates(
    text: str, question_terms: set[str], question_word: str
) -> tuple[list[Span], np.ndarray]:
    """Every span of 1–MAX_SPAN_WORDS words of `text` that is not only the question's words,
    with its SPAN_FEATURES."""
    tokens = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text)]
    if not tokens:
        return [], np.zeros((0, len(SPAN_FEATURES)))
    bare = [t.strip(_EDGE) for _, _, t in tokens]
    stems = [stem(b.lower()) if b else "" for b in bare]
    in_question = [
        bool(s) and (s in question_terms or b.lower() in question_terms)
        for s, b in zip(stems, bare, strict=True)
    ]
    matched = [i for i, q in enumerate(in_question) if q]
    asks = [float(question_word == name) for name in QUESTION_WORDS]
    spans: list[Span] = []
    rows: list[list[float]] = []
    n = len(tokens)
    for i in range(n):
        if not bare[i]:
            continue
        for j in range(i, min(n, i + MAX_SPAN_WORDS)):
            if not bare[j]:
                continue
            words = j - i + 1
            asked = sum(in_question[i : j + 1])
            if asked == words:
                continue  # only the question's own words: never the answer
            first, last = tokens[i][2], tokens[j][2]
            before = [i - m for m in matched if m < i]
            after = [m - j for m in matched if m > j]
            start = tokens[i][0] + (len(first) - len(first.lstrip(_EDGE)))
            end = tokens[j][1] - (len(last) - len(last.rstrip(_EDGE)))
            caps = sum(b[:1].isupper() for b in bare[i : j + 1])
            rows.append(
                [
                    float(words),
                    float(end - start),
                    float(bare[i].lower() in _PREPOSITIONS),
                    float(bare[i][:1].isupper()),
                    caps / words,
                    float(sum(c.isdigit() for c in text[start:end])),
                    float(any(_YEAR.match(b) for b in bare[i : j + 1])),
                    float(any(_MONTHS.match(b) for b in bare[i : j + 1])),
                    asked / words,
                    float(min(before)) if before else 99.0,
                    float(min(after)) if after else 99.0,
                    float(i > 0 and in_question[i - 1]),
                    float(i == 0 or tokens[i - 1][2][-1:] in ",.:;!?)»"),
                    float(j == n - 1 or last[-1:] in ",.:;!?)»" or bare[j + 1].lower() in _AND),
                    i / n,
                    float("," in text[start:end]),
                    float(n),
                    float(i > 0 and bare[i - 1].lower() in _PREPOSITIONS),
                    float(bare[i].lower() in _CLAUSE),
                    float(asked > 0),
                    float(i == 0),
                    *asks,
                ]
            )
            spans.append(Span(start, end, text[start:end]))
    return spans, np.array(rows, dtype=float).reshape(len(rows), len(SPAN_FEATURES))


_AND = frozenset({"og", "eller", "men", "som"})
# Words that open the clause a "hvorfor"/"hvordan"/"hva" question is answered by.
_CLAUSE = frozenset(
    ["at", "å", "fordi", "slik", "ved", "som", "da", "når", "hvis", "for", "siden", "etter", "med"]
)


def question_terms(question: str) -> set[str]:
    """The question's terms as spans compare them: stems and the plain lower-case words."""
    return set(analyze(question)) | {w.strip(_EDGE).lower() for w in question.split()}


def confidences(model, rows: np.ndarray) -> np.ndarray:
    """The model's ranking scores as shares of one (a softmax over the passage's spans): how
    sure it is of each against the others."""
    scores = model.logit(rows)
    weights = np.exp(scores - scores.max())
    return weights / weights.sum()


def best_span(
    model, threshold: float, text: str, question: str, question_word: str
) -> tuple[Span | None, float]:
    """The span of `text` the model is surest answers and its confidence; no span below
    `threshold`."""
    if model is None:
        return None, 0.0
    spans, rows = candidates(text, question_terms(question), question_word)
    if not spans:
        return None, 0.0
    sure = confidences(model, rows)
    best = int(np.argmax(sure))
    return (spans[best] if sure[best] >= threshold else None), float(sure[best])


def mark(text: str, span: Span | None) -> str:
    """`text` with the span in bold (Markdown's ** **; Slack's renderer turns it into *…*)."""
    if span is None:
        return text
    return f"{text[: span.start]}**{span.text}**{text[span.end :]}"


def labelled_rows(
    text: str, question: str, question_word: str, gold: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training rows of one passage: a span is right when it is the annotated answer; with
    each span's token F1 against it (partly right, for choosing when to bold)."""
    spans, rows = candidates(text, question_terms(question), question_word)
    wanted = {normalise(g) for g in gold}
    labels = np.array([int(normalise(s.text) in wanted) for s in spans], dtype=int)
    f1 = np.array([max(token_f1(s.text, g) for g in gold) for s in spans], dtype=float)
    return rows, labels, f1
