"""When the documents do not answer: judge the evidence, and word the honest refusal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.answer.compose import Composition, make_citation, shorten
from bot.retrieval import Hit

# Share of the question's weighted terms the best passage (with its heading) must hold.
# Calibrated on unanswerable probes (parking, weather, elections, football, salaries …) and on
# answerable questions in bokmål, nynorsk and English: see tests/answer/test_quality.py.
MIN_SUPPORT = 0.5
# Besides the question's focus (its first term, which must be found), the passage's chunk must
# hold a fair share of the rest: "lønnen til direktøren" is not answered by a chunk on "lønn til
# samhandlingsleder".
MIN_REST_SUPPORT = 0.25
CLOSEST = 3

if TYPE_CHECKING:
    from bot.answer.model import AnswerModel
    from bot.types import Citation


def answer_probability(composition: Composition, model: AnswerModel) -> float:
    """The fitted probability that the composed answer answers the question."""
    if not composition.text or composition.features is None:
        return 0.0
    return float(model.answer.probability(composition.features[None, :])[0])


def is_weak(composition: Composition, model: AnswerModel | None = None) -> bool:
    """Whether the evidence is too weak to answer from: below the fitted model's threshold, or
    (without a model) short of the hand-set minimum shares."""
    if model is not None:
        return not model.answers(answer_probability(composition, model))
    return (
        not composition.text
        or not composition.focus_found
        or composition.support < MIN_SUPPORT
        or composition.rest_support < MIN_REST_SUPPORT
    )


def closest_documents(hits: Sequence[Hit], limit: int = CLOSEST) -> list:
    """The documents nearest to the question, one citation each, best first."""
    seen: set[str] = set()
    out = []
    for hit in hits:
        doc_id = hit.chunk.doc.doc_id
        if doc_id in seen:
            continue
        seen.add(doc_id)
        out.append(make_citation(len(out) + 1, hit, ""))
        if len(out) >= limit:
            break
    return out


NEAREST_CHARS = 300


def nearest_passage(composition: Composition) -> str:
    """The single closest passage, with its source, to show beside a refusal (never as an
    answer): the user may see at once that it is, or is not, what they were after."""
    best = composition.best
    if best is None or best.unit.kind == "heading" or len(best.unit.text) < 20:
        return ""
    text = composition.best_shown or best.unit.text
    note = ", OCR-feil rettet" if text != best.unit.text else ""
    source = make_citation(0, best.hit, "")
    return f"«{shorten(text, NEAREST_CHARS)}» ({source.title}, {_date_label(source)}{note})"


def _date_label(citation: Citation) -> str:
    """ "2025-01-31", "2021-12-31, omtrentlig" or "udatert"."""
    if not citation.date:
        return "udatert"
    return f"{citation.date}, omtrentlig" if citation.date_approximate else citation.date


def refusal_text(closest: Sequence, english: bool = False, nearest: str = "") -> str:
    """The Norwegian (and, for English questions, also English) 'the documents do not say',
    with the closest passage, marked as not an answer, and the closest documents."""
    lines = ["Jeg finner ikke svar på dette i dokumentene jeg har tilgang til."]
    if english:
        lines.append("(The documents I have do not answer this question.)")
    if nearest:
        lines.append(f"Nærmeste treff, som ikke svarer sikkert: {nearest}")
    if closest:
        lines.append("Nærmeste dokumenter:")
        lines.extend(f"- {c.title} ({_date_label(c)})" for c in closest)
    return "\n".join(lines)
