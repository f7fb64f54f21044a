"""The secretariat's report: the state of the corpus, questions the bot could not answer,
answers that got 👎, and escalations nobody has closed.

One builder serves both the admin section of the Slack Home tab and `hfbot report`. Refused
questions are the best list there is of documents to add, so similar ones are grouped: by
their embeddings when the texts are stored, else by the document closest to them.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from bot.slack.feedback import FeedbackStore, StoredAnswer
    from hfbot.settings import Settings
    from ingest.web.status import SourceStatus

DEFAULT_DAYS = 30
DAY_S = 24 * 3600
# Embedding models differ in how close unrelated texts are (multilingual-e5 puts them near 0.8,
# MiniLM near 0.45), so the grouping threshold is set per model: the mean similarity of these
# unrelated questions, plus this share of the distance from there to 1.0.
SIMILARITY_SHARE = 0.4
UNRELATED_QUESTIONS = (
    "Hvem leder partnerskapsmøtet?",
    "Hva koster parkering ved sykehuset?",
    "Når åpner den nye legevakten?",
    "Hvordan søker jeg om tilskudd til velferdsteknologi?",
    "Hvor mange ansatte har Vestre Viken?",
    "Hva er reglene for utskrivning av pasienter?",
    "Hvilke kurs finnes for helsesekretærer?",
    "Hvordan melder jeg et avvik?",
)
MAX_VARIANTS = 5  # other wordings of a question listed with its group
MAX_DOCUMENTS = 3  # closest documents listed with a group
NO_DOCUMENT = ""  # the group of refusals with no document near them at all


@dataclass(frozen=True)
class DocumentLine:
    file: str
    title: str
    date: str  # ISO; "" when unknown
    approximate: bool


@dataclass
class CorpusStatus:
    documents: int = 0
    chunks: int = 0
    embedding_model: str = ""
    last_ingest: dict[str, Any] | None = None
    date_missing: list[DocumentLine] = field(default_factory=list)
    date_approximate: list[DocumentLine] = field(default_factory=list)
    stale_after_years: float = 3.0
    stale: list[DocumentLine] = field(default_factory=list)
    error: str | None = None  # the store could not be read

    @property
    def failed(self) -> list[dict[str, str]]:
        return list((self.last_ingest or {}).get("failed") or [])


@dataclass
class RefusalGroup:
    """Similar questions the bot refused; `id` is the newest one's answer id."""

    id: str
    count: int
    last_asked: float
    question: str | None  # the most asked wording; None when texts are not stored
    variants: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)  # the closest documents' titles
    handled_at: float | None = None  # marked as handled before, and asked again since


@dataclass(frozen=True)
class DownvotedAnswer:
    voted_at: float
    question: str | None
    first_line: str
    sources: list[str]
    abstained: bool
    answer_id: str = ""  # for "Finn svaret"


@dataclass(frozen=True)
class OpenEscalation:
    id: str
    created_at: float
    requested_by: str
    question: str | None
    channel: str | None


@dataclass
class Report:
    days: int
    generated_at: float
    question_text_stored: bool
    corpus: CorpusStatus
    unanswered: list[RefusalGroup]
    unanswered_questions: int  # refusals in the period, handled groups included
    handled_hidden: int  # groups hidden because they were marked as handled
    downvoted: list[DownvotedAnswer]
    escalations: list[OpenEscalation]
    # The web sources of SOURCES.yaml (ingest.web), the troubled first.
    sources: list[SourceStatus] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        corpus = self.corpus
        return {
            "days": self.days,
            "generated_at": _iso(self.generated_at),
            "question_text_stored": self.question_text_stored,
            "corpus": {
                "documents": corpus.documents,
                "chunks": corpus.chunks,
                "embedding_model": corpus.embedding_model,
                "last_ingest": _ingest_json(corpus.last_ingest),
                "failed": corpus.failed,
                "date_missing": [asdict(d) for d in corpus.date_missing],
                "date_approximate": [asdict(d) for d in corpus.date_approximate],
                "stale_after_years": corpus.stale_after_years,
                "stale": [asdict(d) for d in corpus.stale],
                "error": corpus.error,
            },
            "unanswered": {
                "questions": self.unanswered_questions,
                "handled_hidden": self.handled_hidden,
                "groups": [
                    {
                        "id": g.id,
                        "count": g.count,
                        "last_asked": _iso(g.last_asked),
                        "question": g.question,
                        "variants": g.variants,
                        "documents": g.documents,
                        "handled_at": _iso(g.handled_at) if g.handled_at else None,
                    }
                    for g in self.unanswered
                ],
            },
            "downvoted": [
                {
                    "voted_at": _iso(d.voted_at),
                    "question": d.question,
                    "first_line": d.first_line,
                    "sources": d.sources,
                    "abstained": d.abstained,
                }
                for d in self.downvoted
            ],
            "open_escalations": [
                {
                    "id": e.id,
                    "created_at": _iso(e.created_at),
                    "requested_by": e.requested_by,
                    "question": e.question,
                    "channel": e.channel,
                }
                for e in self.escalations
            ],
            "sources": [s.to_json() for s in self.sources],
        }


# ---- building ----------------------------------------------------------------------------------


def build_report(
    settings: Settings,
    feedback: FeedbackStore,
    *,
    documents: Callable[[], Mapping[str, Any]] | None,
    last_ingest: dict[str, Any] | None = None,
    grouper: QuestionGrouper | None = None,
    days: int = DEFAULT_DAYS,
    now: float | None = None,
    embedding_model: Callable[[], str | None] | None = None,
) -> Report:
    """The four parts of the report over the last `days` days (escalations: all open ones)."""
    now = time.time() if now is None else now
    since = now - days * DAY_S
    corpus = corpus_status(
        settings,
        documents,
        last_ingest,
        today=date.fromtimestamp(now),
        embedding_model=embedding_model,
    )
    refusals = feedback.refusals(since)
    groups, hidden = group_refusals(refusals, grouper, feedback.handled_marks())
    downvoted = [
        DownvotedAnswer(
            voted_at=vote.voted_at,
            question=vote.answer.question,
            first_line=first_line(vote.answer.answer),
            sources=_source_names(vote.answer.citations),
            abstained=vote.answer.abstained,
            answer_id=vote.answer.id,
        )
        for vote in feedback.downvoted(since=since)
    ]
    escalations = []
    for escalation in feedback.open_escalations():
        stored = feedback.get_answer(escalation.answer_id)
        escalations.append(
            OpenEscalation(
                id=escalation.id,
                created_at=escalation.created_at,
                requested_by=escalation.requested_by,
                question=stored.question if stored else None,
                channel=escalation.channel,
            )
        )
    escalations.sort(key=lambda e: e.created_at, reverse=True)
    return Report(
        days=days,
        generated_at=now,
        question_text_stored=settings.store_question_text,
        corpus=corpus,
        unanswered=groups,
        unanswered_questions=len(refusals),
        handled_hidden=hidden,
        downvoted=downvoted,
        escalations=escalations,
        sources=_sources(settings),
    )


def _sources(settings: Settings) -> list[SourceStatus]:
    from ingest.web.status import source_statuses

    return source_statuses(settings)


def corpus_status(
    settings: Settings,
    documents: Callable[[], Mapping[str, Any]] | None,
    last_ingest: dict[str, Any] | None,
    *,
    today: date,
    embedding_model: Callable[[], str | None] | None = None,
) -> CorpusStatus:
    """The corpus part; `embedding_model` gives the model the store was built with (the setting
    may name another until `hfbot ingest --rebuild`)."""
    status = CorpusStatus(
        embedding_model=settings.embedding_model,
        last_ingest=last_ingest,
        stale_after_years=settings.stale_after_years,
    )
    try:
        if embedding_model is not None:
            status.embedding_model = embedding_model() or status.embedding_model
        docs = dict(documents()) if documents is not None else {}
    except Exception as exc:  # the store is down: the rest of the report still helps
        status.error = " ".join(str(exc).split())[:300] or type(exc).__name__
        return status
    cutoff = _years_before(today, settings.stale_after_years)
    status.documents = len(docs)
    for doc in sorted(docs.values(), key=lambda d: (d.meta.title or d.meta.file).lower()):
        meta = doc.meta
        status.chunks += int(getattr(doc, "chunk_count", 0) or 0)
        line = DocumentLine(
            file=meta.file,
            title=meta.title or meta.file,
            date=meta.date.isoformat() if meta.date else "",
            approximate=bool(meta.date_approximate),
        )
        if meta.date is None:
            status.date_missing.append(line)
            continue
        if meta.date_approximate:
            status.date_approximate.append(line)
        if (meta.updated or meta.date) < cutoff:
            status.stale.append(line)
    status.stale.sort(key=lambda d: d.date)
    return status


def _years_before(day: date, years: float) -> date:
    return date.fromordinal(max(1, day.toordinal() - round(years * 365.25)))


# ---- grouping refusals -------------------------------------------------------------------------


class QuestionGrouper:
    """Greedy clustering of question texts by cosine similarity of their embeddings.

    Only the LangChain `Embeddings` interface is used. Vectors are cached per text, so opening
    the Home tab again embeds only the questions asked since.
    """

    def __init__(
        self, embedder: Embeddings, *, share: float = SIMILARITY_SHARE, cache_size: int = 5000
    ) -> None:
        self.embedder = embedder
        self.share = share
        self._cache: OrderedDict[str, list[float]] = OrderedDict()  # text → its embedding
        self._cache_size = cache_size
        self._threshold: float | None = None
        self._lock = threading.Lock()

    @property
    def threshold(self) -> float:
        """Two questions at least this similar are taken to ask the same thing."""
        if self._threshold is None:
            vectors = self.vectors(UNRELATED_QUESTIONS)
            similarities = vectors @ vectors.T
            pairs = similarities[np.triu_indices(len(vectors), k=1)]
            unrelated = float(pairs.mean()) if pairs.size else 0.0
            self._threshold = unrelated + self.share * (1.0 - unrelated)
        return self._threshold

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for the texts, one row each (from the cache where it has them)."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        fresh = (
            dict(zip(missing, self.embedder.embed_documents(missing), strict=True))
            if missing
            else {}
        )
        with self._lock:
            for text, vector in fresh.items():
                self._cache[text] = vector
            rows = [fresh.get(t) or self._cache[t] for t in texts]
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms > 0, norms, 1.0)

    def group(self, texts: Sequence[str]) -> list[list[int]]:
        """Indexes of `texts` in groups. Each text joins the group whose centre is most similar
        when that is above the threshold, else starts one: give the most asked texts first."""
        if not texts:
            return []
        threshold = self.threshold
        vectors = self.vectors(texts)
        groups: list[list[int]] = []
        sums = np.zeros_like(vectors)  # row n: the sum of group n's vectors
        centres = np.zeros_like(vectors)  # row n: that sum as a unit vector
        for index, vector in enumerate(vectors):
            if groups:
                similarities = centres[: len(groups)] @ vector
                best = int(similarities.argmax())
                if similarities[best] >= threshold:
                    groups[best].append(index)
                    sums[best] += vector
                    centres[best] = sums[best] / (np.linalg.norm(sums[best]) or 1.0)
                    continue
            sums[len(groups)] = vector
            centres[len(groups)] = vector
            groups.append([index])
        return groups


def group_refusals(
    refusals: Sequence[StoredAnswer],
    grouper: QuestionGrouper | None,
    handled_marks: Mapping[str, float],
) -> tuple[list[RefusalGroup], int]:
    """Groups of similar refused questions, most asked first, and how many are hidden as handled.

    A group is hidden when one of its questions was the newest of a group marked as handled
    after the group's last question was asked: asked again, it shows again.
    """
    with_text = [r for r in refusals if r.question and r.question.strip()]
    without_text = [r for r in refusals if not (r.question and r.question.strip())]
    clusters: list[list[StoredAnswer]] = []

    by_wording: dict[str, list[StoredAnswer]] = {}
    for refusal in with_text:
        by_wording.setdefault(_wording(refusal.question or ""), []).append(refusal)
    wordings = sorted(by_wording, key=lambda w: (-len(by_wording[w]), w))
    if grouper is not None and len(wordings) > 1:
        representative = [by_wording[w][0].question or w for w in wordings]
        for indexes in grouper.group(representative):
            clusters.append([r for i in indexes for r in by_wording[wordings[i]]])
    else:
        clusters.extend(by_wording[w] for w in wordings)

    by_document: dict[str, list[StoredAnswer]] = {}
    for refusal in without_text:
        by_document.setdefault(_closest_key(refusal), []).append(refusal)
    clusters.extend(by_document.values())

    groups: list[RefusalGroup] = []
    hidden = 0
    for members in clusters:
        group = _refusal_group(members, handled_marks)
        if group is None:
            hidden += 1
        else:
            groups.append(group)
    groups.sort(key=lambda g: (-g.count, -g.last_asked))
    return groups, hidden


def _refusal_group(
    members: list[StoredAnswer], handled_marks: Mapping[str, float]
) -> RefusalGroup | None:
    members = sorted(members, key=lambda r: r.created_at, reverse=True)
    last_asked = members[0].created_at
    marks = [handled_marks[r.id] for r in members if r.id in handled_marks]
    if marks and max(marks) >= last_asked:
        return None
    # Wordings counted with case, spacing and end punctuation aside, most asked first (among
    # equals, the one asked last); each shown as it was typed most often (among equals, first).
    texts = [r.question.strip() for r in members if r.question and r.question.strip()]
    typed: dict[str, Counter[str]] = {}
    for text in reversed(texts):  # oldest first, so Counter order breaks ties by first typing
        typed.setdefault(_wording(text), Counter())[text] += 1
    newest = [_wording(t) for t in texts]
    ranked_keys = sorted(typed, key=lambda w: (-typed[w].total(), newest.index(w)))
    ranked = [typed[w].most_common(1)[0][0] for w in ranked_keys]
    documents = Counter(
        name for r in members for name in _source_names(r.closest or r.citations)[:MAX_DOCUMENTS]
    )
    return RefusalGroup(
        id=members[0].id,
        count=len(members),
        last_asked=last_asked,
        question=ranked[0] if ranked else None,
        variants=ranked[1 : 1 + MAX_VARIANTS],
        documents=[name for name, _ in documents.most_common(MAX_DOCUMENTS)],
        handled_at=max(marks) if marks else None,
    )


def _wording(question: str) -> str:
    """The same question typed twice: case, spacing and end punctuation aside."""
    return re.sub(r"\s+", " ", question.strip().lower()).rstrip(" ?.!")


def _closest_key(refusal: StoredAnswer) -> str:
    closest = refusal.closest or refusal.citations
    if not closest:
        return NO_DOCUMENT
    first = closest[0]
    return str(first.get("file") or first.get("title") or NO_DOCUMENT)


def _source_names(citations: Iterable[dict]) -> list[str]:
    names: list[str] = []
    for citation in citations:
        name = str(citation.get("title") or citation.get("file") or "").strip()
        if name and name not in names:
            names.append(name)
    return names


# ---- text --------------------------------------------------------------------------------------


def first_line(text: str, limit: int = 200) -> str:
    """The answer's first non-empty line, cut at `limit` characters."""
    line = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")


def _ingest_json(note: dict[str, Any] | None) -> dict[str, Any] | None:
    if not note:
        return None
    data = dict(note)
    data["at"] = _iso(float(note.get("at", 0.0)))
    return data


# ---- the terminal's form ---------------------------------------------------------------------
