"""Scoring quotable passages against a question: which sentences or list items answer it.

A unit scores by how much of the question's informative terms it holds (weighted by rarity in
the corpus; the first term, the question's focus, counts most), counting its list item, headings,
previous sentence and document for less; by what kind of answer the question asks for (a number,
a date, a person, a place, a list); and, when the question asks about the present, by the date of
its document. Matching uses the repaired search text; quoting (bot.answer.compose) the faithful
text.

That hand-set score and its parts, with the unit's shape and its chunk's ranks, are the
UNIT_FEATURES of the fitted unit model (bot.answer.model, fitted by bot.answer.fit): with a model
the units are ordered by its probability, without one by the hand-set score. The feature names
live here, beside the code that computes them; the model file is checked against them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from bot.answer.span import SPAN_FEATURES
from bot.answer.units import ChunkView
from bot.norwegian import (
    QUESTION_WORDS,
    analyze,
    looks_english,
    question_terms,
    question_word,
    stem,
    words,
)
from bot.retrieval import Hit, LexicalIndex, asks_about_now
from ingest.store import StoredChunk
from ingest.units import Unit

if TYPE_CHECKING:
    from bot.answer.model import Logistic


CHUNKS_READ = 6  # only the best few chunks are read for answer units
FOCUS_WEIGHT = 1.5  # the question's first term is what it asks about
CONTEXT_WEIGHT = 0.3  # terms of the earlier question a follow-up leans on
# "Hva er X?": a sentence that says what X is outranks sentences that only name X, however
# many of the question's words they share ("helsefellesskapet Vest-Viken møttes …").
DEFINITION_BONUS = 0.6

# Read per question over all its candidate units (they need the query's vector and each other):
# how close each unit is to the question in the embedding space, absolute and against the
# others; which question word asks (the model learns which kinds of unit answer which); what the
# unit holds beyond the question's own words; where it sits.
READING_FEATURES = (
    "unit_similarity",
    "similarity_gap",
    "similarity_rank",
    "previous_similarity",
    "next_similarity",
    *(f"asks_{name}" for name in QUESTION_WORDS),
    "holds_number",
    "holds_year",
    "holds_month",
    "new_names",
    "holds_place",
    "term_share",
    "bigram_hits",
    "new_term_share",
    "position",
    "relative_position",
    "chunk_index",
    "words",
)

# What the fitted unit model (bot.answer.model) reads of a candidate passage. The first ones do
# not depend on the chunk's rank and are computed once per chunk; the last three are added when
# the fused ranking is known. "rule" is the hand-made score the fit starts from.
UNIT_FEATURES = (
    "rule",
    "coverage",
    "own_coverage",
    "focus_credit",
    "chunk_support",
    "rest_support",
    "focus_in_chunk",
    "cue_number",
    "cue_date",
    "cue_person",
    "cue_list",
    "cue_place",
    "counts",
    "defines",
    "enumerates",
    "recency_now",
    "other_year",
    "is_heading",
    "is_item",
    "is_list_intro",
    "log_length",
    "furniture",
    "capitals",
    "chunk_rank",
    "dense_similarity",
    "lexical_rank",
    *READING_FEATURES,
)
# What the fitted answer model reads to decide whether the best passage answers at all.
ANSWER_FEATURES = (
    "best_logit",
    "coverage",
    "own_coverage",
    "focus_found",
    "focus_credit",
    "rest_support",
    "chunk_support",
    "top_dense",
    "known_share",
    "english",
    "best_similarity",
    "best_similarity_rank",
    "logit_margin",
    "best_term_share",
    "best_new_term_share",
    "names_asked",
    "names_found",
    "years_found",
)

_NUMBER = re.compile(r"\b\d+(?:[ ,.]\d{3})*(?:[.,]\d+)?\b")
_YEAR = re.compile(r"\b(19|20)\d{2}\b")
_DATE = re.compile(
    r"\b\d{1,2}\.\s?(januar|februar|mars|april|mai|juni|juli|august|september|oktober|"
    r"november|desember)\b|\b\d{1,2}\.\d{1,2}\.\d{2,4}\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZÆØÅ][a-zæøåéü]+(?:\s+[A-ZÆØÅ][a-zæøåéü]+)+")
_ROLE = re.compile(
    r"\b\w*(ordfør|rådm|direkt|leder|ledelse|sjef|representant|deltag|deltak|medlem|"
    r"sekretær|sekretaer|lege|arbeidsgiver|styre|kommunen?\b|brukere|tillitsvalgt)\w*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class QuestionCues:
    """What kind of answer the question asks for."""

    count: bool = False  # hvor mange / how many
    when: bool = False  # når / when / hvilket år
    who: bool = False  # hvem / who
    which: bool = False  # hvilke / which / list
    definition: bool = False  # hva er / what is
    where: bool = False  # hvor ble / hvor ligger / where
    now: bool = False  # nå / i dag / current

    @classmethod
    def of(cls, question: str) -> QuestionCues:
        q = question.lower()

        def has(pattern: str) -> bool:
            return re.search(pattern, q) is not None

        return cls(
            count=has(r"\b(hvor|kor) (mange|mye|stor)|\bantall\b|\bhow (many|much)\b"),
            when=has(r"\b(når|hvilket år|hvilken dato|kva tid|kor tid|when|what year|which year)"),
            who=has(r"\b(hvem|kven|who|whom)\b"),
            which=has(r"\b(hvilke|kva for|which|list)\b"),
            definition=has(r"^\s*(hva|kva|what) (er|is|are|betyr|means?)\b"),
            where=has(r"\b(hvor|kor|kvar) (ble|blei|var|er|ligger|holdes|skjer)\b|\bwhere\b"),
            now=asks_about_now(question),
        )


@dataclass
class ScoredUnit:
    unit: Unit
    hit_rank: int  # 0 for the best chunk
    hit: Hit
    score: float
    coverage: float  # share of the question's weighted terms found in the unit or its context
    chunk_support: float = 0.0  # the same share for the unit's whole chunk
    focus_found: bool = True  # whether the question's first term (its focus) is in the chunk
    rest_support: float = 1.0  # share of the other terms' weight found in the chunk
    focus_credit: float = 1.0  # how well the unit (with its context) holds the question's focus
    features: np.ndarray | None = None  # UNIT_FEATURES, for the fitted model and the fit
    own_coverage: float = 0.0  # coverage by the unit's own words, without its context


class _GroupMatcher:
    """How well any subset of one chunk's terms answers for one question term: 1 for the term
    or an alternative, 0.6 for a compound relative ("helsesamarbeid" in "kommunehelsesamarbeid")."""

    __slots__ = ("exact", "partial")

    def __init__(self, alternatives: frozenset[str], view: ChunkView) -> None:
        self.exact = alternatives
        relatives: set[str] = set()
        for term in alternatives:
            relatives |= view.compound_relatives(term)
        self.partial = relatives - alternatives

    def credit(self, terms: set[str]) -> float:
        if not self.exact.isdisjoint(terms):
            return 1.0
        return 0.6 if self.partial and not self.partial.isdisjoint(terms) else 0.0


@dataclass(frozen=True)
class _UnitScore:
    """A unit's score before its chunk's rank is known."""

    unit: Unit
    base: float
    coverage: float
    chunk_support: float
    focus_found: bool
    rest_support: float
    focus_credit: float
    features: np.ndarray  # the rank-independent part of UNIT_FEATURES
    own_coverage: float


class QuestionScorer:
    """Scores the units of chunks against one question.

    Per-chunk results do not depend on the chunk's rank, so they are kept: retrieval scores its
    lexical candidates while the query embedding is still being computed, and composition only
    adds the rank once the fused list is known.
    """

    def __init__(
        self,
        question: str,
        index: LexicalIndex,
        context: str = "",
        model: Logistic | None = None,
    ) -> None:
        self.question = question
        self.index = index
        self.model = model  # the fitted unit model; None keeps the hand-made rule score
        self.groups = question_terms(question)
        self.weights = [index.idf(term) for term, _ in self.groups]
        if looks_english(question):
            self.weights = _english_weights(self.groups, self.weights, index)
        if self.weights:
            self.weights[0] *= FOCUS_WEIGHT  # the first term is what the question asks about
        # An earlier question in the conversation helps, but is not what must be answered.
        self.asked = len(self.groups)
        own = {term for term, _ in self.groups}
        for term, alternatives in question_terms(context):
            if term not in own:
                self.groups.append((term, alternatives))
                self.weights.append(CONTEXT_WEIGHT * index.idf(term))
        self.total = sum(self.weights) or 1.0
        self.cues = QuestionCues.of(f"{question} {context}")
        self.years = {m.group(0) for m in _YEAR.finditer(question)}
        self.question_word = question_word(question)
        sequence = analyze(question)
        self._asked_terms = set(sequence)
        self._asked_words = set(words(question))
        self._bigrams = set(zip(sequence, sequence[1:], strict=False))
        self._scores: dict[str, list[_UnitScore]] = {}
        self._measured: dict[tuple[str, ...], list[ScoredUnit]] = {}

    def prepare(self, chunks: Sequence[StoredChunk]) -> None:
        for chunk in chunks:
            self.chunk_scores(chunk)

    def score(self, hits: Sequence[Hit]) -> list[ScoredUnit]:
        """Every unit of the best chunks, scored, best first.

        The measured units are kept per retrieved list: the fit scores one question's units
        under many models, and only the model's part is done again."""
        key = tuple(h.chunk.chunk_id for h in hits[:CHUNKS_READ])
        measured = self._measured.get(key)
        if measured is None:
            measured = self._measure(hits)
            self._measured = {key: measured}  # one list: a bot's scorer serves one question
        scored = [replace(s) for s in measured]
        if self.model is not None and scored:
            probabilities = self.model.probability(np.stack([s.features for s in scored]))
            for s, p in zip(scored, probabilities, strict=True):
                s.score = float(p)
        scored.sort(key=lambda s: -s.score)
        return scored

    def _measure(self, hits: Sequence[Hit]) -> list[ScoredUnit]:
        scored: list[ScoredUnit] = []
        for rank, hit in enumerate(hits[:CHUNKS_READ]):
            ranked = (
                1 / (1 + rank),
                max(0.0, hit.dense_score) if hit.dense_rank is not None else 0.0,
                1 / hit.lexical_rank if hit.lexical_rank else 0.0,
            )
            for u in self.chunk_scores(hit.chunk):
                scored.append(
                    ScoredUnit(
                        u.unit,
                        rank,
                        hit,
                        u.base + 0.12 / (1 + rank),
                        u.coverage,
                        u.chunk_support,
                        u.focus_found,
                        u.rest_support,
                        u.focus_credit,
                        np.concatenate([u.features, ranked]),
                        u.own_coverage,
                    )
                )
        if scored:
            reading = self._reading(scored, hits)
            for s, row in zip(scored, reading, strict=True):
                s.features = np.concatenate([s.features, row])
        return scored

    def _reading(self, scored: Sequence[ScoredUnit], hits: Sequence[Hit]) -> np.ndarray:
        """READING_FEATURES of every candidate unit (rows in the order of `scored`)."""
        query = hits[0].query_vector if hits else None
        similarity = np.full(len(scored), np.nan)
        previous = np.full(len(scored), np.nan)
        following = np.full(len(scored), np.nan)
        views = [ChunkView.of(s.hit.chunk, self.index) for s in scored]
        if query is not None:
            sims: dict[str, np.ndarray | None] = {}
            for i, (s, view) in enumerate(zip(scored, views, strict=True)):
                chunk_id = s.hit.chunk.chunk_id
                if chunk_id not in sims:
                    vectors = view.vectors(len(query))
                    sims[chunk_id] = None if vectors is None else vectors @ query
                unit_sims = sims[chunk_id]
                if unit_sims is None:
                    continue
                pos = s.unit.position
                similarity[i] = unit_sims[pos]
                if pos > 0:
                    previous[i] = unit_sims[pos - 1]
                if pos + 1 < len(unit_sims):
                    following[i] = unit_sims[pos + 1]
        known = ~np.isnan(similarity)
        gap = np.full(len(scored), np.nan)
        rank = np.full(len(scored), np.nan)
        if known.any():
            gap[known] = similarity[known].max() - similarity[known]
            order = np.argsort(-similarity[known], kind="stable")
            ranks = np.empty(order.size)
            ranks[order] = np.arange(order.size)
            rank[known] = ranks
        asked = self.question_word
        own = self._asked_terms
        said = self._asked_words
        rows = []
        for i, (s, view) in enumerate(zip(scored, views, strict=True)):
            pos = s.unit.position
            terms = view.sequences[pos] if pos < len(view.sequences) else []
            unique = set(terms)
            text = s.unit.text
            bigrams = set(zip(terms, terms[1:], strict=False))
            rows.append(
                [
                    similarity[i],
                    gap[i],
                    rank[i],
                    previous[i],
                    following[i],
                    *(float(name == asked) for name in QUESTION_WORDS),
                    float(len(_NUMBER.findall(_YEAR.sub("", text)))),
                    float(bool(_YEAR.search(text))),
                    float(bool(_DATE.search(text))),
                    float(sum(w.lower() not in said for w in _CAPITALISED.findall(text))),
                    float(bool(_PLACE.search(text))),
                    len(unique & own) / len(own) if own else 0.0,
                    float(len(bigrams & self._bigrams)),
                    len(unique - own) / len(unique) if unique else 0.0,
                    float(pos),
                    pos / max(1, len(view.units) - 1),
                    float(s.hit.chunk.index),
                    float(len(text.split())),
                ]
            )
        return np.array(rows, dtype=float).reshape(len(scored), len(READING_FEATURES))

    def chunk_scores(self, chunk: StoredChunk) -> list[_UnitScore]:
        cached = self._scores.get(chunk.chunk_id)
        if cached is not None:
            return cached
        index, weights, cues, total = self.index, self.weights, self.cues, self.total
        view = ChunkView.of(chunk, index)
        units, analysed = view.units, view.analysed
        matchers = [_GroupMatcher(alts, view) for _, alts in self.groups]
        weighted = list(zip(weights, matchers, strict=True))
        recency = index.recency(index.live.get(chunk.doc.doc_id))
        chunk_credits = [w * m.credit(view.all_terms) for w, m in weighted]
        chunk_support = sum(chunk_credits) / total
        focus_found = bool(matchers) and matchers[0].credit(view.all_terms) > 0
        rest_weight = sum(weights[1 : self.asked])
        rest_support = sum(chunk_credits[1 : self.asked]) / rest_weight if rest_weight else 1.0
        out: list[_UnitScore] = []
        for unit in units:
            own = analysed[unit.position]
            # Where the unit sits says what it is about: its list item, its headings, the
            # sentence before it, its document's title and dates; each counts for less.
            layers = (
                (0.6, analysed[unit.parent] if unit.parent is not None else set()),
                (0.5, view.unit_headings[unit.position]),
                (0.4, _previous_sentence(units, analysed, unit)),
                (0.4, view.document_terms),
            )
            coverage = 0.0
            own_coverage = 0.0
            focus_credit = 0.0
            for i, (weight, matcher) in enumerate(weighted):
                credit = matcher.credit(own)
                own_coverage += weight * credit
                for layer_weight, layer in layers:
                    if credit >= layer_weight:
                        break
                    if layer:
                        credit = max(credit, layer_weight * matcher.credit(layer))
                coverage += weight * credit
                if i == 0:
                    focus_credit = credit
            coverage /= total
            own_coverage /= total
            other_year = bool(self.years) and _other_year(unit, units, self.years)
            if other_year:
                coverage *= 0.5  # "the 2024 meeting" does not answer a question about 2025
            matches = _cue_matches(unit, cues)
            score = coverage + _cue_bonus(unit, cues, matches)
            counts = cues.count and bool(matchers) and _counts(unit.text, matchers[0])
            enumerates = cues.which and bool(matchers) and _enumerates(unit.text, matchers[0])
            defines = cues.definition and bool(matchers) and _defines(unit.text, matchers[0])
            if counts:
                score += 0.2  # "21 kommuner" answers "hvor mange kommuner"
            if (
                cues.definition
                and unit.kind == "heading"
                and matchers
                and not _YEAR.search(unit.text)
            ):
                # "Hva er X?" is best answered by the section titled X (a heading with a year
                # is about one occasion of X, not about what X is).
                score += 0.2 * matchers[0].credit(own)
            if enumerates:
                score += 0.15  # "Kommunene som deltar er Asker, Bærum, …" lists what is asked
            if defines:
                score += DEFINITION_BONUS
            score += (0.25 if cues.now else 0.03) * recency
            if len(unit.text) < 12 and unit.kind != "item":
                score -= 0.15  # bare headings like "Nivå 1" answer nothing alone
            if len(unit.text) > 350:
                score -= 0.1
            text = unit.text
            features = np.array(
                [
                    score,
                    coverage,
                    own_coverage,
                    focus_credit,
                    chunk_support,
                    rest_support,
                    float(focus_found),
                    *(float(m) for m in matches),
                    float(counts),
                    float(defines),
                    float(enumerates),
                    recency if cues.now else 0.0,
                    float(other_year),
                    float(unit.kind == "heading"),
                    float(unit.kind == "item"),
                    float(unit.is_list_intro),
                    math.log1p(len(text)),
                    float(is_furniture(text)),
                    _capitals(text),
                ]
            )
            out.append(
                _UnitScore(
                    unit,
                    score,
                    coverage,
                    chunk_support,
                    focus_found,
                    rest_support,
                    focus_credit,
                    features,
                    own_coverage,
                )
            )
        self._scores[chunk.chunk_id] = out
        return out


# A source line, a byline or site navigation: never an answer ("Utgiver: …", "Kilde: …",
# "Kildenotat …", "Les mer", "Del på Facebook").
_FURNITURE = re.compile(
    r"^\W*(utgiver|kilde|kildenotat|kjelde|source|foto|illustrasjon|publisert|oppdatert|sist "
    r"endret|les mer|del på|del pa|skriv ut|hopp til|meny|tilbake til|forsiden)\b|https?://|www\.",
    re.IGNORECASE,
)


def is_furniture(text: str) -> bool:
    """A source line, byline or navigation: never an answer."""
    return bool(_FURNITURE.search(text))


def _capitals(text: str) -> float:
    """Share of capital letters: headings set in capitals are furniture, not answers."""
    letters = [c for c in text if c.isalpha()]
    return sum(c.isupper() for c in letters) / len(letters) if letters else 0.0


def answer_features(
    scorer: QuestionScorer,
    best: ScoredUnit,
    hits: Sequence[Hit],
    runner_up: ScoredUnit | None = None,
) -> np.ndarray:
    """ANSWER_FEATURES of a question whose best passage is `best` (and next best `runner_up`)."""
    if scorer.model is not None and best.features is not None:
        rows = [best.features] + ([runner_up.features] if runner_up is not None else [])
        logits = scorer.model.logit(np.stack(rows))  # type: ignore[arg-type]
        best_logit = float(logits[0])
        margin = float(logits[0] - logits[1]) if len(logits) > 1 else 10.0
    else:
        best_logit = best.score
        margin = best.score - runner_up.score if runner_up is not None else 1.0
    reading = (
        dict(zip(UNIT_FEATURES, best.features, strict=True)) if best.features is not None else {}
    )
    dense = [h.dense_score for h in hits[:CHUNKS_READ] if h.dense_rank is not None]
    asked = scorer.groups[: scorer.asked]
    vocabulary = scorer.index.vocabulary
    known = sum(not alternatives.isdisjoint(vocabulary) for _, alternatives in asked)
    return np.array(
        [
            best_logit,
            best.coverage,
            best.own_coverage,
            float(best.focus_found),
            best.focus_credit,
            best.rest_support,
            best.chunk_support,
            max(dense, default=0.0),
            known / len(asked) if asked else 0.0,
            float(looks_english(scorer.question)),
            reading.get("unit_similarity", np.nan),
            reading.get("similarity_rank", np.nan),
            margin,
            reading.get("term_share", 0.0),
            reading.get("new_term_share", 0.0),
            *_named_in(scorer.question, best.hit.chunk),
        ]
    )


def _named_in(question: str, chunk: StoredChunk) -> tuple[float, float, float]:
    """What the question names (capitalised words after its first, years): how many, and which
    share of them the best chunk has (a question about someone the documents never name is not
    answered by them)."""
    names = {w.lower() for w in _CAPITALISED.findall(question)}
    years = set(_YEAR_WORD.findall(question))
    text = f"{chunk.doc.title} {chunk.heading} {chunk.indexed_text}".lower()
    found = sum(name in text for name in names)
    return (
        float(len(names)),
        found / len(names) if names else 1.0,
        sum(y in text for y in years) / len(years) if years else 1.0,
    )


_YEAR_WORD = re.compile(r"\b(?:1[5-9]|20)\d{2}\b")


def _english_weights(
    groups: list[tuple[str, frozenset[str]]], weights: list[float], index: LexicalIndex
) -> list[float]:
    """The documents are Norwegian: an English word they lack ("belong") is no sign that they
    lack the answer, as a missing Norwegian word would be. It weighs as a usual known word; the
    focus (the first term) keeps its weight."""
    known = [t in index.vocabulary for t, _ in groups]
    seen = sorted(w for w, k in zip(weights, known, strict=True) if k)
    if not seen:
        return weights
    usual = seen[len(seen) // 2]
    return [
        w if i == 0 or k else min(w, usual)
        for i, (w, k) in enumerate(zip(weights, known, strict=True))
    ]


def score_units(
    question: str,
    hits: Sequence[Hit],
    index: LexicalIndex,
    scorer: QuestionScorer | None = None,
) -> list[ScoredUnit]:
    """Every unit of the best chunks, scored against the question, best first."""
    return (scorer or QuestionScorer(question, index)).score(hits)


def _other_year(unit: Unit, units: list[Unit], years: set[str]) -> bool:
    """Whether the unit, its list item or its heading is dated, but not in the years asked."""
    around = [unit.text, unit.heading]
    if unit.parent is not None:
        around.append(units[unit.parent].text)
    found = {m.group(0) for text in around for m in _YEAR.finditer(text)}
    return bool(found) and not found & years


def _previous_sentence(units: list[Unit], analysed: list[set[str]], unit: Unit) -> set[str]:
    if unit.kind != "sentence" or unit.position == 0:
        return set()
    before = units[unit.position - 1]
    return analysed[before.position] if before.kind == "sentence" else set()


def _cue_matches(unit: Unit, cues: QuestionCues) -> tuple[bool, bool, bool, bool, bool]:
    """Whether the unit holds what the question asks for: (a count, a date, a person or role, a
    list, a place), each only when asked."""
    text = unit.text
    return (
        cues.count and bool(_NUMBER.search(_YEAR.sub("", _DATE.sub("", text)))),  # dates: no count
        cues.when and bool(_DATE.search(text) or _YEAR.search(text)),
        cues.who and bool(_NAME.search(text) or _ROLE.search(text)),
        cues.which and (unit.kind == "item" or text.count(",") >= 3),
        cues.where and bool(_PLACE.search(text)),
    )


_CUE_BONUSES = (0.25, 0.25, 0.15, 0.1, 0.2)  # per _cue_matches entry


def _cue_bonus(unit: Unit, cues: QuestionCues, matches: tuple[bool, ...]) -> float:
    bonus = 0.0
    for weight, matched in zip(_CUE_BONUSES, matches, strict=True):
        if matched:
            bonus += weight
    if cues.definition and unit.kind == "item" and unit.parent is None and unit.heading:
        bonus += 0.05
    return bonus


# A capitalised word inside a sentence (not its first): a name, most often.
_CAPITALISED = re.compile(r"(?<=[\w,] )[A-ZÆØÅ][\wæøåÆØÅ-]+")
# "på Union scene", "i Drammen": a preposition of place before a name.
_PLACE = re.compile(r"\b(på|pa|i|ved|hos)\s+[A-ZÆØÅ][\wæøå-]+")
_COUNTED = re.compile(r"\b\d+(?:[ .,]\d+)*\s+(?:nye\s+|flere\s+|ulike\s+)?([^\W\d_]+)")


# "X er en …", "X består av …", "I X skal …": a sentence that opens by saying what X is ("X er
# utvidet" is news about X, not what it is).
_DEFINING = re.compile(
    r"^\W*(?:i\s+)?((?:[\wæøå-]+\s+){1,3}?)"
    r"(?:er\s+(?:en|et|ei|den|det|de)|består\s+av|bestar\s+av|omfatter|betyr|skal"
    r"|is\s+(?:a|an|the)|are)\b",
    re.IGNORECASE,
)


# "Kommunene som deltar er Asker, Bærum, Drammen …", "Fire sykehus: Bærum, Drammen, …": a head,
# then a list of three or more.
_ENUMERATING = re.compile(
    r"^([^,:]{1,80}?)(?:\s(?:er|består av|bestar av|omfatter|are|include)\s|:\s*)"
    r"[^,]+(?:,[^,]+){2,}",
    re.IGNORECASE,
)


def _head_credit(pattern: re.Pattern[str], text: str, focus: _GroupMatcher) -> float:
    """How well the opening words `pattern` captures (the sentence's head) name the focus."""
    match = pattern.match(text)
    return focus.credit(set(analyze(match.group(1)))) if match else 0.0


def _enumerates(text: str, focus: _GroupMatcher) -> bool:
    """Whether the text lists three or more of what the question's focus names (or a compound
    of it: "Hallingdal-kommuner" are among "kommunene")."""
    return _head_credit(_ENUMERATING, text, focus) > 0


def _defines(text: str, focus: _GroupMatcher) -> bool:
    """Whether the text opens with the question's focus and a verb that defines it."""
    return _head_credit(_DEFINING, text, focus) >= 1.0


def _counts(text: str, focus: _GroupMatcher) -> bool:
    """Whether the text puts a number in front of the thing the question counts."""
    return any(focus.credit({stem(m.group(1).lower())}) > 0 for m in _COUNTED.finditer(text))


# The feature names a model file must read, as keyword arguments of bot.answer.model's loaders.
MODEL_FEATURES = {
    "unit_features": UNIT_FEATURES,
    "answer_features": ANSWER_FEATURES,
    "span_features": SPAN_FEATURES,
}
