"""Hybrid retrieval: dense search in the store plus Norwegian BM25, fused by reciprocal rank.

The lexical index is derived from the store's live chunks (the store is the single source of
truth) and rebuilt when the store's corpus version changes. The version is checked at most every
few seconds, so several bot processes can share one Chroma server and all follow its updates.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import bm25s
import numpy as np
from langchain_core.embeddings import Embeddings

from bot.norwegian import analyze, query_terms
from ingest.store import STRAY_MARGIN, Store, StoredChunk, StoredDocument

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

# Reciprocal rank fusion, weighted: the English MiniLM model is weak on Norwegian, so its ranks
# count for half of BM25's, unless the question's words are mostly unknown to the corpus (an
# English question, say), when the dense ranker is all there is to go by. A small k keeps a clear
# BM25 winner on top instead of flattening the first dozen ranks together.
RRF_K = 10
LEXICAL_WEIGHT = 1.0
# Measured again with multilingual-e5 (130 dev questions, MRR of the source document): dense
# weight 0.25 → 0.910, 0.5 → 0.899, 1.0 → 0.867, 1.5 → 0.866; answers passed 92, 92, 94, 94.
# Differences within noise on both counts; 0.5 stays.
DENSE_WEIGHT = 0.5
DENSE_WEIGHT_UNKNOWN_WORDS = 1.0
CANDIDATES = 20  # how deep BM25 is read before fusing (it is cheap)
DENSE_CANDIDATES = 10  # how deep the dense ranking is read
# Up to this many stored chunks, the dense ranking is exact, over the live chunks' vectors held
# in memory, read with their texts in one pass (1.5 KB a chunk for e5-small: 150 MB at the
# limit). Chroma's HNSW index is approximate: over 2,566 chunks it missed a ninth-nearest chunk
# in one process and found it in the next, so the same question could get other hits from run
# to run. Exact is also quicker here: 0.2 ms against 1.1 ms a query. A larger corpus is searched
# by the store's index.
EXACT_DENSE_LIMIT = 100_000
ALTERNATIVE_WEIGHT = 0.5
PREPARED = 8  # lexical candidates handed to `while_embedding`
BACKGROUND_REBUILD_CHUNKS = 5000  # indexes this large are rebuilt while the old one serves
CACHE_LIMIT = 5000  # per-chunk analyses kept for answer composition
# Query embeddings run here so BM25 and answer preparation overlap them (torch releases the GIL).
_EMBEDDING_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="hfbot-dense")

# "nå", "i dag", "current" …: the question asks about the present state, so newer documents win.
_NOW_CUES = re.compile(
    r"\b(nå|no|i dag|idag|fortsatt|framleis|fremdeles|per i dag|for tiden|aktuell\w*|gjeldende"
    r"|siste|nyeste|now|today|current(ly)?|still|latest|presently)\b",
    re.IGNORECASE,
)


def asks_about_now(question: str) -> bool:
    """Whether the question asks about the current state of affairs."""
    return bool(_NOW_CUES.search(question))


@dataclass
class Hit:
    """One retrieved chunk with how each ranker saw it."""

    chunk: StoredChunk
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    lexical_score: float = 0.0
    dense_score: float = 0.0
    # The question's embedding, as searched: the answer step compares it with the chunk's units.
    query_vector: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass
class LexicalIndex:
    """BM25 over the analysed text of every live chunk of one corpus version."""

    version: str
    chunks: list[StoredChunk]
    live: dict[str, StoredDocument]
    bm25: bm25s.BM25 | None = None
    vocabulary: frozenset[str] = field(default_factory=frozenset)
    doc_freq: dict[str, int] = field(default_factory=dict)
    newest: date | None = None
    oldest: date | None = None
    # Per-chunk analysis for answer composition, filled on first use (bot.answer.compose.ChunkView).
    cache: dict[str, Any] = field(default_factory=dict)
    # chunk id → position in `chunks`: dense hits are looked up here, not fetched from the store.
    positions: dict[str, int] = field(default_factory=dict)
    # The chunks' embeddings, unit length, a row per chunk (None: the store's index searches).
    vectors: np.ndarray | None = None

    @classmethod
    def build(
        cls, version: str, chunks: list[StoredChunk], live: dict[str, StoredDocument]
    ) -> LexicalIndex:
        corpus = [analyze(searchable_text(c)) or [""] for c in chunks]
        bm25 = None
        if chunks:
            bm25 = bm25s.BM25(k1=1.2, b=0.75)
            bm25.index(corpus, show_progress=False)
        doc_freq: dict[str, int] = {}
        for terms in corpus:
            for term in set(terms):
                doc_freq[term] = doc_freq.get(term, 0) + 1
        # Stated dates only: a date only the file gives never makes a document the newest.
        dates = [d for d in (s.meta.stated_date for s in live.values()) if d]
        return cls(
            version=version,
            chunks=chunks,
            live=live,
            bm25=bm25,
            vocabulary=frozenset(doc_freq),
            doc_freq=doc_freq,
            newest=max(dates) if dates else None,
            oldest=min(dates) if dates else None,
            positions={chunk.chunk_id: pos for pos, chunk in enumerate(chunks)},
        )

    def search(
        self, terms: Sequence[str], k: int, alternatives: Sequence[str] = ()
    ) -> list[tuple[int, float]]:
        """(chunk position, BM25 score) of the best k chunks with any matching term.

        Alternatives (words that may answer for a question word) count for half.
        """
        if self.bm25 is None:
            return []
        known = [t for t in dict.fromkeys(terms) if t in self.vocabulary]
        extra = [t for t in dict.fromkeys(alternatives) if t in self.vocabulary]
        if not known and not extra:
            return []
        scores = self.bm25.get_scores(known) if known else np.zeros(len(self.chunks))
        if extra:
            scores = scores + ALTERNATIVE_WEIGHT * self.bm25.get_scores(extra)
        # bm25s numbers its vocabulary in set order, which changes with Python's hash seed, and
        # sums a chunk's term scores in that order: the last bits differ from run to run. Cut
        # to 6 decimals, near-ties rank the same every time (the fit is reproducible).
        scores = np.round(scores, 6)
        if len(scores) <= k:
            order = np.argsort(-scores)
        else:
            top = np.argpartition(-scores, k)[:k]
            order = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]

    def idf(self, term: str) -> float:
        """BM25-style inverse document frequency; unseen terms get the highest value."""
        n = max(1, len(self.chunks))
        df = self.doc_freq.get(term, 0)
        return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))

    def recency(self, doc: StoredDocument | None) -> float:
        """0 for the oldest document (or one without a stated date), 1 for the newest."""
        if doc is None or self.newest is None or self.oldest is None:
            return 0.0
        when = doc.meta.stated_date
        if when is None:
            return 0.0
        span = (self.newest - self.oldest).days
        return 1.0 if span <= 0 else (when - self.oldest).days / span


def searchable_text(chunk: StoredChunk) -> str:
    """What BM25 sees of a chunk: its (repaired) text plus where it sits and in which document."""
    return f"{chunk.doc.title}\n{chunk.heading}\n{chunk.indexed_text}"


class Retriever:
    """Dense + lexical search over one store, with the lexical index cached per corpus version."""

    def __init__(
        self,
        store: Store,
        embedder: Embeddings,
        *,
        refresh_seconds: float = 5.0,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.refresh_seconds = refresh_seconds
        self._index: LexicalIndex | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self._rebuilding = False

    # ---- the lexical index -----------------------------------------------------------------

    def index(self) -> LexicalIndex:
        """The lexical index of the store's current corpus version (rebuilt when it changed).

        A small index is rebuilt at once; a large one in the background while the previous
        version keeps answering, so no question waits the many seconds a big rebuild takes.
        """
        index = self._index
        if index is not None and time.monotonic() - self._checked_at < self.refresh_seconds:
            return index
        with self._lock:
            index = self._index
            if index is not None and time.monotonic() - self._checked_at < self.refresh_seconds:
                return index
            version = self.store.corpus_version()
            self._checked_at = time.monotonic()
            if index is not None and version == index.version and version:
                return index
            if index is None or len(index.chunks) < BACKGROUND_REBUILD_CHUNKS:
                self._index = self._build(version)
            elif not self._rebuilding:
                self._rebuilding = True
                threading.Thread(
                    target=self._rebuild, args=(version,), name="hfbot-index", daemon=True
                ).start()
            return self._index  # type: ignore[return-value]

    def _build(self, version: str) -> LexicalIndex:
        started = time.perf_counter()
        live = self.store.documents()
        vectors = None
        if self.store.count() <= EXACT_DENSE_LIMIT:
            chunks, vectors = self.store.live_chunks_with_vectors(live)
        else:
            chunks = self.store.live_chunks(live)
        index = LexicalIndex.build(version, chunks, live)
        if vectors is not None:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            index.vectors = vectors / np.where(norms > 0, norms, 1.0)
        log.info(
            "lexical index for corpus version %r: %d chunks in %.0f ms",
            version,
            len(chunks),
            (time.perf_counter() - started) * 1000,
        )
        return index

    def _rebuild(self, version: str) -> None:
        try:
            index = self._build(version)
            with self._lock:
                self._index = index
        except Exception:  # the old index keeps serving; the next check tries again
            log.exception("rebuilding the lexical index failed")
            self._checked_at = 0.0
        finally:
            self._rebuilding = False

    # ---- search ------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 8,
        *,
        now: bool | None = None,
        while_embedding: Callable[[LexicalIndex, list[StoredChunk]], None] | None = None,
    ) -> list[Hit]:
        """The k best live chunks for a query, fused from both rankers, with a recency prior.

        The query embedding (the slowest step) runs on a worker thread; meanwhile BM25 runs
        here and `while_embedding` may start work on the lexical candidates.
        """
        index = self.index()
        if not index.chunks:
            return []
        # The dense side (embedding, then the nearest ids) runs on a worker thread while BM25
        # runs here.
        dense_future = _EMBEDDING_POOL.submit(self._dense, query, index)
        try:
            terms, alternatives = query_terms(query)
            lexical = index.search(terms, CANDIDATES, alternatives)
            if while_embedding is not None:
                while_embedding(index, [index.chunks[pos] for pos, _ in lexical[:PREPARED]])
        finally:
            query_vector, dense = dense_future.result()
        known = sum(t in index.vocabulary for t in terms)
        dense_weight = DENSE_WEIGHT if known * 2 >= len(terms) else DENSE_WEIGHT_UNKNOWN_WORDS
        wants_now = asks_about_now(query) if now is None else now

        hits: dict[str, Hit] = {}
        for rank, (pos, score) in enumerate(lexical, start=1):
            chunk = index.chunks[pos]
            hit = hits.setdefault(chunk.chunk_id, Hit(chunk=chunk, score=0.0))
            hit.lexical_rank, hit.lexical_score = rank, score
            hit.score += LEXICAL_WEIGHT / (RRF_K + rank)
        for rank, (chunk, similarity) in enumerate(dense, start=1):
            hit = hits.setdefault(chunk.chunk_id, Hit(chunk=chunk, score=0.0))
            hit.dense_rank, hit.dense_score = rank, similarity
            hit.score += dense_weight / (RRF_K + rank)
        # Documents contradict each other across years: a mild pull towards the newest always,
        # a strong one when the question asks about the present.
        weight = 0.03 if wants_now else 0.005
        for hit in hits.values():
            hit.score += weight * index.recency(index.live.get(hit.chunk.doc.doc_id))
        best = sorted(hits.values(), key=lambda h: -h.score)[:k]
        for hit in best:
            hit.query_vector = query_vector
        return best

    def _dense(
        self, query: str, index: LexicalIndex
    ) -> tuple[np.ndarray, list[tuple[StoredChunk, float]]]:
        """The query's embedding, and the nearest live chunks of the index's corpus version with
        their similarity."""
        embedding = self.embedder.embed_query(query)
        query_vector = np.asarray(embedding, dtype=np.float32)
        if index.vectors is not None and index.vectors.shape[1] == query_vector.size:
            norm = float(np.linalg.norm(query_vector)) or 1.0
            similarity = index.vectors @ (query_vector / norm)
            # Ties keep the index's (document, chunk) order: the same hits every run.
            best = np.argsort(-similarity, kind="stable")[:DENSE_CANDIDATES]
            return query_vector, [(index.chunks[i], float(similarity[i])) for i in best]
        hits: list[tuple[StoredChunk, float]] = []
        for chunk_id, similarity in self.store.nearest(embedding, DENSE_CANDIDATES + STRAY_MARGIN):
            pos = index.positions.get(chunk_id)
            if pos is not None:  # stray chunks of a killed run, or of a newer version
                hits.append((index.chunks[pos], similarity))
        return query_vector, hits[:DENSE_CANDIDATES]
