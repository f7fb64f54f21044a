"""Hybrid retrieval over the store: Norwegian lexical search, fusion, index refresh, recency."""

from __future__ import annotations

from datetime import date

import numpy as np

from bot import retrieval
from bot.retrieval import Retriever
from ingest.models import Chunk, DocumentMeta
from ingest.store import Store
from tests.answer.simple_corpus import add_document
from tests.fakes import FakeEmbedder


def _files(hits) -> list[str]:
    out: list[str] = []
    for hit in hits:
        if hit.chunk.doc.file not in out:
            out.append(hit.chunk.doc.file)
    return out


def test_inflected_norwegian_question_finds_the_document(corpus_store) -> None:
    _, store = corpus_store
    retriever = Retriever(store, FakeEmbedder())
    hits = retriever.search("Hvilken stortingsmelding innførte samhandlingsreformen?")
    best_lexical = min((h for h in hits if h.lexical_rank), key=lambda h: h.lexical_rank)
    assert best_lexical.chunk.doc.file == "002_8cd09686609c0757.txt"  # "St. meld 47"
    assert "002_8cd09686609c0757.txt" in _files(hits)[:2]


def test_ocr_damaged_document_is_found_by_the_undamaged_word(corpus_store) -> None:
    _, store = corpus_store
    retriever = Retriever(store, FakeEmbedder())
    hits = retriever.search("Hvilken statssekretær innledet på partnerskapsmøtet?")
    assert hits[0].chunk.doc.file == "004_222ede703e19ef52.txt"
    assert "Bekeng" in hits[0].chunk.text


def test_index_follows_corpus_version_and_is_not_rebuilt_otherwise(empty_store: Store) -> None:
    embedder = FakeEmbedder()
    add_document(empty_store, embedder, file="a.txt", text="Legevakten i Lier har døgnåpent.")
    retriever = Retriever(empty_store, embedder, refresh_seconds=0.0)
    first = retriever.index()
    assert retriever.index() is first  # same corpus version: the cached index
    assert all(h.lexical_rank is None for h in retriever.search("Hvor ligger sykehusapoteket?"))

    add_document(empty_store, embedder, file="b.txt", text="Sykehusapoteket ligger i Drammen.")
    hits = retriever.search("Hvor ligger sykehusapoteket?")
    assert retriever.index() is not first
    assert hits and hits[0].chunk.doc.file == "b.txt"


def test_version_is_checked_at_most_every_refresh_interval(empty_store: Store) -> None:
    embedder = FakeEmbedder()
    add_document(empty_store, embedder, file="a.txt", text="Første dokument om legevakt.")
    retriever = Retriever(empty_store, embedder, refresh_seconds=3600)
    retriever.index()
    calls = 0
    real = empty_store.corpus_version

    def counting() -> str:
        nonlocal calls
        calls += 1
        return real()

    empty_store.corpus_version = counting  # type: ignore[method-assign]
    for _ in range(20):
        retriever.search("legevakt")
    assert calls == 0


def test_questions_about_now_prefer_the_newest_document(empty_store: Store) -> None:
    embedder = FakeEmbedder()
    add_document(
        empty_store,
        embedder,
        file="gammel.txt",
        when=date(2012, 1, 1),
        text="Samarbeidet omfatter 26 kommuner i helseområdet.",
    )
    add_document(
        empty_store,
        embedder,
        file="ny.txt",
        when=date(2024, 1, 1),
        text="Samarbeidet omfatter 21 kommuner i helseområdet.",
    )
    retriever = Retriever(empty_store, embedder)
    hits = retriever.search("Hvor mange kommuner omfatter samarbeidet nå?")
    assert hits[0].chunk.doc.file == "ny.txt"


def test_a_large_index_is_rebuilt_in_the_background_while_the_old_one_serves(
    empty_store: Store, monkeypatch
) -> None:
    import time

    import bot.retrieval as retrieval

    embedder = FakeEmbedder()
    add_document(empty_store, embedder, file="a.txt", text="Legevakten i Lier har døgnåpent.")
    retriever = Retriever(empty_store, embedder, refresh_seconds=0.0)
    old = retriever.index()
    monkeypatch.setattr(retrieval, "BACKGROUND_REBUILD_CHUNKS", 1)  # treat it as large
    add_document(empty_store, embedder, file="b.txt", text="Sykehusapoteket ligger i Drammen.")
    assert retriever.index() is old  # answers go on from the old version meanwhile
    deadline = time.monotonic() + 10
    while retriever.index() is old and time.monotonic() < deadline:
        time.sleep(0.05)
    assert {c.doc.file for c in retriever.index().chunks} == {"a.txt", "b.txt"}


def test_chunks_of_an_unfinished_write_are_never_retrieved(empty_store: Store) -> None:
    # A killed ingest leaves chunks that were written but never published.
    embedder = FakeEmbedder()
    add_document(empty_store, embedder, file="a.txt", text="Legevakten i Lier har døgnåpent.")
    stray_text = "Sykehusapoteket ligger i Drammen."
    meta = DocumentMeta(doc_id="b.txt", file="b.txt", title="B")
    stray = [Chunk(doc_id="b.txt", content_hash="unpublished", index=0, text=stray_text)]
    empty_store.write_chunks(stray, embedder.embed_documents([stray_text]), meta)

    hits = Retriever(empty_store, embedder).search(stray_text)
    assert [h.chunk.doc.file for h in hits] == ["a.txt"]
    assert hits[0].dense_rank == 1 and hits[0].dense_score > -1


def test_the_dense_side_finds_the_truly_nearest_chunks(corpus_store, monkeypatch) -> None:
    # In memory, the nearest chunks are the nearest by cosine, every time; the store's own index
    # (used above EXACT_DENSE_LIMIT) is approximate.
    _, store = corpus_store
    embedder = FakeEmbedder()
    question = "Hvor mange kommuner er med i helsefellesskapet?"
    exact = Retriever(store, embedder).search(question, k=50)
    dense = sorted((h for h in exact if h.dense_rank), key=lambda h: h.dense_rank)
    chunks, vectors = store.live_chunks_with_vectors()
    assert vectors is not None
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = np.asarray(embedder.embed_query(question), dtype=np.float32)
    cosine = vectors @ (query / np.linalg.norm(query))
    truly = [chunks[i].chunk_id for i in np.argsort(-cosine, kind="stable")[: len(dense)]]
    assert [h.chunk.chunk_id for h in dense] == truly
    assert [h.chunk.chunk_id for h in Retriever(store, embedder).search(question, k=50)] == [
        h.chunk.chunk_id for h in exact
    ]
    monkeypatch.setattr(retrieval, "EXACT_DENSE_LIMIT", 0)
    by_store = Retriever(store, embedder).search(question, k=50)
    assert {h.chunk.chunk_id for h in by_store if h.dense_rank} == set(truly)  # a small corpus
