"""The passages the bot considered for a question, best first: what "Finn svaret" shows.

The one adapter between labelling and the answer step: the question is retrieved and its units
scored exactly as bot.answering does (the same retriever, the same scorer with the answer model
in use), then listed with their document, section and date. Chunks past the few the answer
step reads are scored the same way and follow, so "Vis flere" has more to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.answer.compose import location_of
from bot.answer.features import CHUNKS_READ, QuestionScorer
from bot.followup import resolve
from ingest.units import clean

if TYPE_CHECKING:
    from bot.answering import Answerer
    from bot.retrieval import LexicalIndex

MAX_CANDIDATES = 30
CHUNKS_SEARCHED = 3 * CHUNKS_READ
MIN_CHARS = 12  # shorter units (a lone heading word, a page number) answer nothing


@dataclass(frozen=True)
class Candidate:
    key: str  # "<chunk id>#<unit position>": finds the passage again when the label is saved
    file: str
    title: str
    section: str
    date: str  # ISO, "" when unknown
    date_approximate: bool
    text: str


def candidate_passages(
    answerer: Answerer, question: str, limit: int = MAX_CANDIDATES
) -> list[Candidate]:
    """Up to `limit` distinct passages for the question, in the order the answer step ranks them."""
    resolved = resolve(question.strip(), ())
    hits = answerer.retriever.search(resolved.search_text, k=CHUNKS_SEARCHED)
    index = answerer.retriever.index()
    model = answerer.answer_model
    scorer = QuestionScorer(
        resolved.question, index, resolved.context, model.units if model is not None else None
    )
    out: list[Candidate] = []
    seen: set[str] = set()
    for start in range(0, len(hits), CHUNKS_READ):
        for scored in scorer.score(hits[start : start + CHUNKS_READ]):
            text = clean(scored.unit.text)
            if len(text) < MIN_CHARS or text.casefold() in seen:
                continue
            seen.add(text.casefold())
            out.append(_candidate(scored.hit, scored.unit.position, text))
            if len(out) >= limit:
                return out
    return out


def _candidate(hit, position: int, text: str) -> Candidate:  # type: ignore[no-untyped-def]
    doc = hit.chunk.doc
    when = doc.effective_date
    return Candidate(
        key=f"{hit.chunk.chunk_id}#{position}",
        file=doc.file,
        title=doc.title or doc.file,
        section=location_of(hit),
        date=when.isoformat() if when else "",
        date_approximate=bool(doc.date_approximate),
        text=text,
    )


def passage_for_key(index: LexicalIndex, key: str) -> Candidate | None:
    """The candidate a key names, read again from the store's current chunks (None when the
    document changed since the modal was opened)."""
    from bot.answer.units import heading_lines, split_units
    from bot.retrieval import Hit

    chunk_id, _, position = key.rpartition("#")
    where = index.positions.get(chunk_id)
    if where is None or not position.isdigit():
        return None
    chunk = index.chunks[where]
    for unit in split_units(chunk.text, heading_lines(chunk.heading)):
        if unit.position == int(position):
            return _candidate(Hit(chunk, 0.0), unit.position, clean(unit.text))
    return None
