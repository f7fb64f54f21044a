"""The extractive answer: the sentences or list items of the top chunks that answer the question.

Units are scored by how much of the question's informative terms they hold (weighted by rarity
in the corpus), by what kind of answer the question asks for (a number, a date, a person, a
list), by the rank of their chunk and, when the question asks about the present, by the date of
their document. Quotes come from the chunk's faithful text only, never from repaired search text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.norwegian import analyze, question_terms, stem
from bot.passages import Unit, heading_lines, search_units, split_units
from bot.retrieval import CACHE_LIMIT, Hit, LexicalIndex, asks_about_now
from bot.types import Citation
from ingest.store import StoredChunk

MAX_ANSWER_CHARS = 600
MAX_EXTRA_UNITS = 3  # passages beyond the best one (and its list)
SAME_CHUNK_SHARE = 0.6
OTHER_CHUNK_SHARE = 0.8
NOW_SHARE = 0.85
CONTEXT_WEIGHT = 0.3  # terms of the earlier question a follow-up leans on
CHUNKS_READ = 6  # only the best few chunks are read for answer units
FOCUS_WEIGHT = 1.5
SIBLING_SHARE = 0.8  # an item this close to the best one brings the whole list along

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


@dataclass
class Composition:
    """An extractive answer before it becomes an `Answer`."""

    text: str
    citations: list[Citation]
    support: float  # evidence strength in [0, 1], for the abstention decision
    chunk_support: float = 0.0
    focus_found: bool = True
    rest_support: float = 1.0
    best: ScoredUnit | None = None
    chosen: list[ScoredUnit] = field(default_factory=list)


def _credit(alternatives: frozenset[str], terms: set[str]) -> float:
    """How well a set of terms answers for one question term (1 exact, 0.6 compound part)."""
    best = 0.0
    for term in alternatives:
        if term in terms:
            return 1.0
        # Norwegian compounds: "helsesamarbeid" inside "kommunehelsesamarbeid" is half a match.
        if len(term) >= 5 and any(len(u) >= 5 and (term in u or u in term) for u in terms):
            best = 0.6
    return best


class _GroupMatcher:
    """`_credit` for one question term against any subset of one chunk's terms, fast."""

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
class ChunkView:
    """A chunk split into units and analysed once per corpus version."""

    units: list[Unit]
    analysed: list[set[str]]  # per unit: terms of its repaired (search) text
    unit_headings: list[set[str]]  # per unit: terms of its in-chunk heading path
    heading_terms: set[str]
    document_terms: set[str]  # title and dates of the document
    all_terms: set[str]
    relatives: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, chunk: StoredChunk, index: LexicalIndex) -> ChunkView:
        cached = index.cache.get(chunk.chunk_id)
        if cached is not None:
            return cached
        headings = heading_lines(chunk.heading)
        units = split_units(chunk.text, headings)
        # Match on the repaired words (OCR), quote the faithful ones.
        analysed = [set(analyze(t)) for t in search_units(chunk.text, chunk.search_text, headings)]
        doc = chunk.doc
        years = " ".join(str(d.year) for d in (doc.date, doc.updated) if d)
        document_terms = set(analyze(f"{doc.title} {years}"))
        heading_terms = set(analyze(chunk.heading))
        unit_headings = [set(analyze(u.heading)) | heading_terms for u in units]
        all_terms = set().union(*analysed, *unit_headings, heading_terms, document_terms)
        view = cls(units, analysed, unit_headings, heading_terms, document_terms, all_terms)
        if len(index.cache) >= CACHE_LIMIT:
            index.cache.clear()  # bounded memory in a long-running bot on a large corpus
        index.cache[chunk.chunk_id] = view
        return view

    def compound_relatives(self, term: str) -> frozenset[str]:
        """This chunk's terms that contain `term` or are contained in it (Norwegian compounds:
        "helsesamarbeid" in "kommunehelsesamarbeid"), five letters or more; memoised."""
        found = self.relatives.get(term)
        if found is None:
            found = frozenset(
                u
                for u in self.all_terms
                if len(term) >= 5 and len(u) >= 5 and u != term and (term in u or u in term)
            )
            self.relatives[term] = found
        return found


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


class QuestionScorer:
    """Scores the units of chunks against one question.

    Per-chunk results do not depend on the chunk's rank, so they are kept: retrieval scores its
    lexical candidates while the query embedding is still being computed, and composition only
    adds the rank once the fused list is known.
    """

    def __init__(self, question: str, index: LexicalIndex, context: str = "") -> None:
        self.question = question
        self.index = index
        self.groups = question_terms(question)
        self.weights = [index.idf(term) for term, _ in self.groups]
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
        self._scores: dict[str, list[_UnitScore]] = {}

    def prepare(self, chunks: Sequence[StoredChunk]) -> None:
        for chunk in chunks:
            self.chunk_scores(chunk)

    def score(self, hits: Sequence[Hit]) -> list[ScoredUnit]:
        """Every unit of the best chunks, scored, best first."""
        scored = [
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
            )
            for rank, hit in enumerate(hits[:CHUNKS_READ])
            for u in self.chunk_scores(hit.chunk)
        ]
        scored.sort(key=lambda s: -s.score)
        return scored

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
            focus_credit = 0.0
            for i, (weight, matcher) in enumerate(weighted):
                credit = matcher.credit(own)
                for layer_weight, layer in layers:
                    if credit >= layer_weight:
                        break
                    if layer:
                        credit = max(credit, layer_weight * matcher.credit(layer))
                coverage += weight * credit
                if i == 0:
                    focus_credit = credit
            coverage /= total
            if self.years and _other_year(unit, units, self.years):
                coverage *= 0.5  # "the 2024 meeting" does not answer a question about 2025
            score = coverage + _cue_bonus(unit, cues)
            if cues.count and matchers and _counts(unit.text, matchers[0]):
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
            score += (0.25 if cues.now else 0.03) * recency
            if len(unit.text) < 12 and unit.kind != "item":
                score -= 0.15  # bare headings like "Nivå 1" answer nothing alone
            if len(unit.text) > 350:
                score -= 0.1
            out.append(
                _UnitScore(
                    unit, score, coverage, chunk_support, focus_found, rest_support, focus_credit
                )
            )
        self._scores[chunk.chunk_id] = out
        return out


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


def _cue_bonus(unit: Unit, cues: QuestionCues) -> float:
    text = unit.text
    bonus = 0.0
    if cues.count and _NUMBER.search(_YEAR.sub("", _DATE.sub("", text))):  # dates are not counts
        bonus += 0.25
    if cues.when and (_DATE.search(text) or _YEAR.search(text)):
        bonus += 0.25
    if cues.who and (_NAME.search(text) or _ROLE.search(text)):
        bonus += 0.15
    if cues.which and (unit.kind == "item" or text.count(",") >= 3):
        bonus += 0.1
    if cues.where and _PLACE.search(text):
        bonus += 0.2
    if cues.definition and unit.kind == "item" and unit.parent is None and unit.heading:
        bonus += 0.05
    return bonus


# "på Union scene", "i Drammen": a preposition of place before a name.
_PLACE = re.compile(r"\b(på|pa|i|ved|hos)\s+[A-ZÆØÅ][\wæøå-]+")
_COUNTED = re.compile(r"\b\d+(?:[ .,]\d+)*\s+(?:nye\s+|flere\s+|ulike\s+)?([^\W\d_]+)")


def _counts(text: str, focus: _GroupMatcher) -> bool:
    """Whether the text puts a number in front of the thing the question counts."""
    return any(focus.credit({stem(m.group(1).lower())}) > 0 for m in _COUNTED.finditer(text))


def _same(a: str, b: str) -> bool:
    """Whether two passages say the same (the corpus repeats slides and charts)."""
    wa, wb = set(a.lower().split()), set(b.lower().split())
    if not wa or not wb:
        return a == b
    return len(wa & wb) / len(wa | wb) > 0.8


def compose(
    question: str,
    hits: Sequence[Hit],
    index: LexicalIndex,
    scorer: QuestionScorer | None = None,
    context: str = "",
) -> Composition:
    """Pick and quote the units that answer the question, each marked with its source [n]."""
    scorer = scorer or QuestionScorer(question, index, context)
    scored = scorer.score(hits)
    if not scored:
        return Composition(text="", citations=[], support=0.0)
    cues = scorer.cues
    best = scored[0]
    if cues.now:
        # "nå", "i dag": of the passages that answer about as well, the newest document's leads.
        close = [s for s in scored if s.score >= NOW_SHARE * best.score]
        best = max(close, key=lambda s: (_recency(s, index), s.score))
    # The best passage first, with its list or section; then a few more that answer nearly as
    # well: from the same chunk at 60 % of the best score, from elsewhere at 80 %.
    chosen = _with_list_members([best], scored, cues, len(best.unit.text))
    used = sum(len(c.unit.text) for c in chosen)
    extra = 0
    for candidate in scored:
        if candidate is best:
            continue
        if extra >= MAX_EXTRA_UNITS or candidate.score < SAME_CHUNK_SHARE * best.score:
            break
        if candidate in chosen or candidate.unit.kind == "heading":
            continue  # a heading alone says nothing
        if candidate.hit is not best.hit and (
            candidate.score < OTHER_CHUNK_SHARE * best.score or not candidate.focus_credit
        ):
            continue  # from elsewhere, a passage must be about what is asked
        if cues.now and _older_document(candidate, best, index):
            continue  # the question asks about now: the newest document speaks
        text = candidate.unit.text
        if any(_same(text, c.unit.text) for c in chosen) or used + len(text) > MAX_ANSWER_CHARS:
            continue
        chosen.append(candidate)
        used += len(text)
        extra += 1
    return _render(chosen, best, question)


def _recency(s: ScoredUnit, index: LexicalIndex) -> float:
    return index.recency(index.live.get(s.hit.chunk.doc.doc_id))


def _older_document(candidate: ScoredUnit, best: ScoredUnit, index: LexicalIndex) -> bool:
    if candidate.hit.chunk.doc.doc_id == best.hit.chunk.doc.doc_id:
        return False
    live = index.live
    return index.recency(live.get(candidate.hit.chunk.doc.doc_id)) < index.recency(
        live.get(best.hit.chunk.doc.doc_id)
    )


def _with_list_members(
    chosen: list[ScoredUnit], scored: list[ScoredUnit], cues: QuestionCues, used: int
) -> list[ScoredUnit]:
    """Lists stay lists: a chosen list intro brings its items, a chosen item its close siblings."""
    if not chosen:
        return chosen
    lead = chosen[0]
    same_chunk = [s for s in scored if s.hit is lead.hit]
    children = [s for s in same_chunk if s.unit.parent == lead.unit.position]
    if lead.unit.kind == "heading":
        # A chosen heading brings its section: the units under it in this chunk.
        members = [
            s
            for s in same_chunk
            if s.unit.position > lead.unit.position
            and lead.unit.text in s.unit.heading.split(" > ")
        ]
    elif children:
        members = children
    elif lead.unit.kind == "item" and lead.unit.parent is not None:
        siblings = [s for s in same_chunk if s.unit.parent == lead.unit.parent and s is not lead]
        # The whole list when the question asks for one, or when several items answer alike.
        close = [s for s in siblings if s.score >= SIBLING_SHARE * lead.score]
        members = siblings if cues.which or cues.who or close else []
    else:
        members = []
    out = list(chosen)
    for member in sorted(members, key=lambda s: s.unit.position):
        if member in out:
            continue
        if used + len(member.unit.text) > MAX_ANSWER_CHARS:
            break
        out.append(member)
        used += len(member.unit.text)
    return out


def _render(chosen: list[ScoredUnit], best: ScoredUnit, question: str) -> Composition:
    # One number per place in a document (chunks of one section share it), by first appearance;
    # within a chunk, units keep their reading order.
    hits: list[Hit] = []
    for s in chosen:
        if s.hit not in hits:
            hits.append(s.hit)
    places: dict[tuple[str, str], int] = {}
    numbers: dict[int, int] = {}
    for hit in hits:
        place = (hit.chunk.doc.doc_id, location_of(hit))
        numbers[id(hit)] = places.setdefault(place, len(places) + 1)
    lines: list[str] = []
    quotes: dict[int, list[str]] = {}
    first_hit: dict[int, Hit] = {}
    for hit in hits:
        n = numbers[id(hit)]
        first_hit.setdefault(n, hit)
        units = sorted((s for s in chosen if s.hit is hit), key=lambda s: s.unit.position)
        all_units = split_units(hit.chunk.text, heading_lines(hit.chunk.heading))
        chosen_positions = {s.unit.position for s in units}
        shown_parents: set[int] = set()
        for s in units:
            unit = s.unit
            text = _shortened(unit.text)
            quotes.setdefault(n, []).append(text)
            if unit.kind != "item":
                lines.append(f"{text} [{n}]")
                continue
            parent = all_units[unit.parent] if unit.parent is not None else None
            if (
                parent is not None
                and parent.kind == "item"
                and parent.position not in chosen_positions
                and parent.position not in shown_parents
            ):
                # A sub-item means little without the item it belongs to.
                shown_parents.add(parent.position)
                lines.append(f"{'  ' * parent.depth}- {parent.text}")
            lines.append(f"{'  ' * unit.depth}- {text} [{n}]")
    citations = [make_citation(n, first_hit[n], " … ".join(quotes[n])) for n in sorted(first_hit)]
    return Composition(
        text="\n".join(lines),
        citations=citations,
        support=max(c.coverage for c in chosen),
        chunk_support=best.chunk_support,
        focus_found=best.focus_found,
        rest_support=best.rest_support,
        best=best,
        chosen=chosen,
    )


def _shortened(text: str, limit: int = MAX_ANSWER_CHARS - 50) -> str:
    """A passage too long to quote whole: its beginning, cut at a word, marked with '…'."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def location_of(hit: Hit) -> str:
    """Where in the document a chunk sits, for people: page and heading when known."""
    parts = []
    if hit.chunk.page is not None:
        parts.append(f"side {hit.chunk.page}")
    if hit.chunk.heading:
        parts.append(hit.chunk.heading)
    return ", ".join(parts)


def make_citation(n: int, hit: Hit, quote: str) -> Citation:
    doc = hit.chunk.doc
    when = doc.effective_date
    return Citation(
        n=n,
        file=doc.file,
        title=doc.title,
        date=when.isoformat() if when else "",
        date_approximate=doc.date_approximate,
        location=location_of(hit),
        url=doc.url,
        quote=quote,
        doc_id=doc.doc_id,
        kind=doc.kind,
    )
