"""The extractive answer: the sentences or list items of the top chunks that answer the question.

The best-scoring passage (bot.answer.features) leads, with its list or section, followed by a
few that answer nearly as well; each is quoted from the chunk's faithful text, never from
repaired search text, and marked with its source [n]. At most ~600 characters; no passage twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bot.answer.features import (
    QuestionCues,
    QuestionScorer,
    ScoredUnit,
    answer_features,
    is_furniture,
)
from bot.answer.span import Span, best_span, mark
from bot.answer.units import ChunkView
from bot.norwegian import analyze
from bot.retrieval import Hit, LexicalIndex
from bot.types import Citation
from ingest.units import Unit

if TYPE_CHECKING:
    from bot.answer.model import Scorer

MAX_ANSWER_CHARS = 600
# Passages beyond the best one (and its list). One instead of three left the first line as it
# was and lowered the answer's accuracy on every set (3 grouped folds: NorQuAD 0.742 -> 0.725,
# dev 22 -> 20 passed, extra 44 -> 43): a second passage often holds the rest of the answer.
MAX_EXTRA_UNITS = 3
LEAD_CHARS = 300  # the first line: a long passage is cut around its answer
SAME_CHUNK_SHARE = 0.6
OTHER_CHUNK_SHARE = 0.8
NOW_SHARE = 0.85
SIBLING_SHARE = 0.8  # an item this close to the best one brings the whole list along
MAX_FOLLOWING_UNITS = 6  # of the list a lead-in ending in ':' announces


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
    features: np.ndarray | None = None  # ANSWER_FEATURES, for the refusal decision
    best_shown: str = ""  # the best passage as shown (OCR repairs applied), for a refusal


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
    model: Scorer | None = None,
    spans: Scorer | None = None,
    span_threshold: float = 1.0,
) -> Composition:
    """Pick and quote the units that answer the question, each marked with its source [n]; the
    best one first, its answering words in bold when the span model is sure of them."""
    scorer = scorer or QuestionScorer(question, index, context, model)
    # A title, source line or navigation never answers: such a unit is not quoted when anything
    # else is there to quote.
    scored = scorer.score(hits)
    scored = [s for s in scored if is_quotable(s)] or scored
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
    runner_up = next((s for s in scored if s is not best), None)
    partner = _neighbour(best, runner_up)
    chosen = _with_list_members([best], scored, cues, len(best.unit.text))
    if partner is not None:
        chosen.append(partner)
    used = sum(len(c.unit.text) for c in chosen)
    if best.unit.is_list_intro and len(chosen) == 1:
        # "Følgende prosjekt er tildelt midler:" says nothing without what follows it.
        follow = _what_follows(best, index, MAX_ANSWER_CHARS - used)
        chosen += follow
        used += sum(len(f.unit.text) for f in follow)
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
    for part in question_parts(question)[1:]:
        # "Når ble X stiftet, og hvor mange Y?": each later part gets its own passage unless one
        # already chosen answers it.
        found = _answer_to_part(part, question, hits, index, scorer, chosen)
        if found is not None and used + len(found.unit.text) <= MAX_ANSWER_CHARS:
            chosen.append(found)
            used += len(found.unit.text)
    composition = _render(chosen, best, index, _lead_maker(scorer, spans, span_threshold), partner)
    composition.features = answer_features(scorer, best, hits, runner_up)
    composition.best_shown = _shown_text(best.unit, ChunkView.of(best.hit.chunk, index))
    return composition


# A question that asks two things: "…, og hvem …", "… and how many …".
_SECOND_PART = re.compile(
    r"(?:,\s*|\s+)(?:og|and|samt)\s+(?=(?:hvem|hva|hvor|når|hvilke\w*|hvordan|kor|kva|kven"
    r"|korleis|koster|kostar|who|what|when|where|which|how)\b)"
    r"|\?\s+(?=\S)",
    re.IGNORECASE,
)
PART_SHARE = 0.5  # a part's passage must hold this share of the part's weighted terms


def is_quotable(s: ScoredUnit) -> bool:
    """Whether a unit can stand in an answer: not the document's title repeated, a source line
    or site navigation."""
    text = s.unit.text.strip(" .:|*").lower()
    return text != s.hit.chunk.doc.title.strip(" .:").lower() and not is_furniture(s.unit.text)


def question_parts(question: str) -> list[str]:
    """The separate questions in one ("Hvem er X, og hvem har Y?" → two)."""
    parts: list[str] = []
    for piece in _SECOND_PART.split(question):
        piece = (piece or "").strip(" ,?")
        if parts and len(parts[-1].split()) < 3:
            parts[-1] = f"{parts[-1]} og {piece}"  # "Når og hvor …" asks one thing
        elif piece:
            parts.append(piece)
    return parts


def _answer_to_part(
    part: str,
    question: str,
    hits: Sequence[Hit],
    index: LexicalIndex,
    scorer: QuestionScorer,
    chosen: list[ScoredUnit],
) -> ScoredUnit | None:
    """The best passage for one part of the question (the whole question as soft context), or
    None when a chosen passage already is that passage or none holds enough of the part."""
    part_scorer = QuestionScorer(part, index, question, scorer.model)
    taken = {(c.hit.chunk.chunk_id, c.unit.position) for c in chosen}
    for candidate in part_scorer.score(hits):
        if (candidate.hit.chunk.chunk_id, candidate.unit.position) in taken:
            return None  # the answer already holds this part's best passage
        if candidate.unit.kind == "heading" or candidate.coverage < PART_SHARE:
            return None
        if any(_same(candidate.unit.text, c.unit.text) for c in chosen):
            return None
        return candidate
    return None


def _neighbour(best: ScoredUnit, runner: ScoredUnit | None) -> ScoredUnit | None:
    """The runner-up, when it is the sentence just before or after the best one in its chunk and
    the two fit the first line together: then they lead as one passage. The answer often sits
    beside the sentence most like the question ("Hun døde i april i fjor." after the one naming
    her); on NorQuAD (3 grouped folds) this puts it in the first line for 3 % more questions."""
    if (
        runner is None
        or runner.hit is not best.hit
        or best.unit.kind != "sentence"
        or runner.unit.kind != "sentence"
        or abs(runner.unit.position - best.unit.position) != 1
        or len(best.unit.text) + len(runner.unit.text) >= LEAD_CHARS
    ):
        return None
    return runner


def _what_follows(lead: ScoredUnit, index: LexicalIndex, budget: int) -> list[ScoredUnit]:
    """The units after a lead-in ending in ':', read on into the document's next chunk.

    The list a lead-in announces: its items or headings, or else the one sentence after it.
    """
    out: list[ScoredUnit] = []
    for hit, unit in _units_after(lead, index):
        if unit.kind == "sentence" and out:
            break
        if len(unit.text) > budget or len(out) >= MAX_FOLLOWING_UNITS:
            break
        out.append(ScoredUnit(unit, lead.hit_rank, hit, 0.0, 0.0))
        budget -= len(unit.text)
        if unit.kind == "sentence":
            break
    return out


def _units_after(lead: ScoredUnit, index: LexicalIndex) -> Iterator[tuple[Hit, Unit]]:
    chunk = lead.hit.chunk
    for unit in ChunkView.of(chunk, index).units[lead.unit.position + 1 :]:
        yield lead.hit, unit
    pos = index.positions.get(chunk.chunk_id)
    if pos is None or pos + 1 >= len(index.chunks):
        return
    following = index.chunks[pos + 1]
    if following.doc.doc_id != chunk.doc.doc_id or following.index != chunk.index + 1:
        return
    hit = Hit(chunk=following, score=0.0)
    yield from ((hit, u) for u in ChunkView.of(following, index).units)


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


# Shown once under an answer whose quotes had OCR damage repaired; the citations' quotes (and
# Slack's "Vis utdrag") keep the source's own text.
OCR_NOTE = "(Feil fra tekstgjenkjenning (OCR) i kilden er rettet i sitatet.)"


def _shown_text(unit: Unit, view: ChunkView) -> str:
    """The unit as the answer shows it: with the ingest's OCR repairs when they replace words
    one for one (a certain repair, aligned word by word), else exactly as the source has it."""
    repaired = view.repaired[unit.position] if unit.position < len(view.repaired) else ""
    if not repaired or repaired == unit.text:
        return unit.text
    if len(repaired.split(" ")) != len(unit.text.split(" ")):
        return unit.text
    return repaired


def _render(
    chosen: list[ScoredUnit],
    best: ScoredUnit,
    index: LexicalIndex,
    lead: Callable[[list[str]], str] = " ".join,
    partner: ScoredUnit | None = None,
) -> Composition:
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
    repaired_any = False
    quotes: dict[int, list[str]] = {}
    first_hit: dict[int, Hit] = {}
    for hit in hits:
        n = numbers[id(hit)]
        first_hit.setdefault(n, hit)
        # The best passage is the first line; a list stays in reading order.
        lead_first = best.unit.kind != "item" and not any(
            s.unit.parent == best.unit.position for s in chosen if s.hit is best.hit
        )
        units = sorted(
            (s for s in chosen if s.hit is hit),
            key=lambda s: (not (lead_first and s is best), s.unit.position),
        )
        view = ChunkView.of(hit.chunk, index)
        chosen_positions = {s.unit.position for s in units}
        shown_parents: set[int] = set()
        for s in units:
            unit = s.unit
            quotes.setdefault(n, []).append(shorten(unit.text))
            shown = _shown_text(unit, view)
            repaired_any = repaired_any or shown != unit.text
            if s is partner:
                continue  # shown in the first line, beside the best passage
            pieces = [shown]
            if s is best and partner is not None:
                beside = _shown_text(partner.unit, view)
                repaired_any = repaired_any or beside != partner.unit.text
                pieces = (
                    [shown, beside] if unit.position < partner.unit.position else [beside, shown]
                )
            text = lead(pieces) if s is best else shorten(shown)
            if unit.kind != "item":
                lines.append(f"{text} [{n}]")
                continue
            parent = view.units[unit.parent] if unit.parent is not None else None
            if (
                parent is not None
                and parent.kind == "item"
                and parent.position not in chosen_positions
                and parent.position not in shown_parents
            ):
                # A sub-item means little without the item it belongs to.
                shown_parents.add(parent.position)
                lines.append(f"{'  ' * parent.depth}- {_shown_text(parent, view)}")
            lines.append(f"{'  ' * unit.depth}- {text} [{n}]")
    if repaired_any:
        lines.append(OCR_NOTE)
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


def _lead_maker(
    scorer: QuestionScorer, spans: Scorer | None, threshold: float
) -> Callable[[list[str]], str]:
    """How the lead passage is shown: its sentences (one, or two read as one) joined and cut to
    LEAD_CHARS around the answer, which is bold. The span ranker reads each sentence alone, as
    it was trained, and the surer one holds the bold."""

    def lead(pieces: list[str]) -> str:
        text = " ".join(pieces)
        found, sure, offset = None, -1.0, 0
        for piece in pieces:
            span, confidence = best_span(
                spans, threshold, piece, scorer.question, scorer.question_word
            )
            if span is not None and confidence > sure:
                found, sure = Span(span.start + offset, span.end + offset, span.text), confidence
            offset += len(piece) + 1
        if found is None:
            return shorten_around(text, _densest(text, scorer), LEAD_CHARS)
        shown = shorten_around(text, (found.start, found.end), LEAD_CHARS)
        # Uncut, the span stands where the ranker found it: a word that also comes earlier (the
        # other sentence of a pair names it too) is not bolded there.
        at = found.start if shown == text else shown.find(found.text)
        if at < 0:
            return shown
        return mark(shown, Span(at, at + len(found.text), found.text))

    return lead


def _densest(text: str, scorer: QuestionScorer) -> tuple[int, int]:
    """Where in a long passage the question's words sit closest together (its middle third)."""
    terms = {t for t, _ in scorer.groups[: scorer.asked]}
    places = [
        m.start() for m in re.finditer(r"\w+", text) if terms.intersection(analyze(m.group(0)))
    ]
    if not places:
        return (0, 0)
    middle = places[len(places) // 2]
    return (middle, middle)


def shorten_around(text: str, around: tuple[int, int], limit: int) -> str:
    """A passage longer than `limit`: the stretch of it around `around` (character offsets),
    cut at words and marked with '…' where cut."""
    if len(text) <= limit:
        return text
    start, end = around
    if end - start >= limit:
        return shorten(text, limit)
    room = limit - (end - start)
    lo = max(0, start - room // 3)  # more after the answer than before: sentences run on
    hi = min(len(text), lo + limit)
    lo = max(0, hi - limit)
    if lo > 0:
        cut = text.find(" ", lo)
        lo = cut + 1 if 0 <= cut < start else lo
    piece = text[lo:hi]
    if hi < len(text):
        piece = piece.rsplit(" ", 1)[0] + " …"
    return ("… " if lo > 0 else "") + piece


def shorten(text: str, limit: int = MAX_ANSWER_CHARS - 50) -> str:
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
