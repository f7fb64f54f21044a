"""The store publishes document versions atomically: readers see the old or the new, never both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hfbot.settings import Settings
from ingest.models import Chunk, DocumentMeta
from ingest.store import Store, StoredDocument
from tests.fakes import FakeEmbedder
from tests.ingest.conftest import live_texts, nearest_live


def _doc(doc_id: str = "a.txt", title: str = "A") -> DocumentMeta:
    return DocumentMeta(doc_id=doc_id, file=doc_id, title=title)


def _chunks(doc_id: str, content_hash: str, texts: list[str]) -> list[Chunk]:
    return [
        Chunk(doc_id=doc_id, content_hash=content_hash, index=i, text=t)
        for i, t in enumerate(texts)
    ]


def _write(store: Store, emb: FakeEmbedder, meta: DocumentMeta, h: str, texts: list[str]) -> None:
    chunks = _chunks(meta.doc_id, h, texts)
    store.write_chunks(chunks, emb.embed_documents(texts), meta)


def _both_stores(settings: Settings, request: pytest.FixtureRequest) -> Store:
    if request.param == "server":
        host, port = request.getfixturevalue("chroma_server")
        settings = settings.model_copy(update={"chroma_host": host, "chroma_port": port})
        store = Store.open(settings.model_copy(update={"collection": f"t{id(request)}"}))
        store.reset()
        return store
    return Store.open(settings)


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.slow)])
def store(settings: Settings, request: pytest.FixtureRequest) -> Iterator[Store]:
    with _both_stores(settings, request) as opened:
        yield opened


def test_unpublished_chunks_are_invisible(store: Store, fake_embedder: FakeEmbedder) -> None:
    meta = _doc()
    _write(store, fake_embedder, meta, "h1", ["kommuner samarbeider", "sykehus"])
    assert store.live_chunks() == []
    store.publish(StoredDocument(meta, "h1", meta.fingerprint(), 2))
    assert [c.text for c in store.live_chunks()] == ["kommuner samarbeider", "sykehus"]


def test_new_version_replaces_old_in_one_flip(store: Store, fake_embedder: FakeEmbedder) -> None:
    meta = _doc()
    _write(store, fake_embedder, meta, "h1", ["gammel tekst"])
    store.publish(StoredDocument(meta, "h1", meta.fingerprint(), 1))
    _write(store, fake_embedder, meta, "h2", ["ny tekst"])
    # Both versions sit in the store, but only the published one is answerable.
    assert [c.text for c in store.live_chunks()] == ["gammel tekst"]
    store.publish(StoredDocument(meta, "h2", meta.fingerprint(), 1))
    assert [c.text for c in store.live_chunks()] == ["ny tekst"]
    # The old version is still the nearest chunk in the store, and never found.
    old_id = _chunks(meta.doc_id, "h1", ["gammel tekst"])[0].chunk_id
    assert store.nearest(fake_embedder.embed_query("gammel tekst"), 1)[0][0] == old_id
    hits = nearest_live(store, fake_embedder.embed_query("gammel tekst"), k=5)
    assert [h.text for h in hits] == ["ny tekst"]
    store.sweep({meta.doc_id: "h2"})
    assert store.count() == 1


def test_corpus_version_changes_with_content(store: Store, fake_embedder: FakeEmbedder) -> None:
    meta = _doc()
    assert store.corpus_version() == ""
    _write(store, fake_embedder, meta, "h1", ["x"])
    store.publish(StoredDocument(meta, "h1", meta.fingerprint(), 1))
    v1 = store.set_corpus_version()
    assert store.corpus_version() == v1 != ""
    store.unpublish(meta.doc_id)
    assert store.set_corpus_version() != v1


def test_several_documents_per_write_in_pieces_of_the_batch_size(
    store: Store, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Store, "_max_batch", lambda self: 2)  # every write takes several calls
    metas = [_doc(f"{n}.txt", f"Dokument {n}") for n in range(5)]
    store.mark_pending(*(m.doc_id for m in metas))
    assert sorted(store.pending()) == sorted(m.doc_id for m in metas)
    chunks = [c for m in metas for c in _chunks(m.doc_id, "h1", [f"{m.title} del 1", "del 2"])]
    store.write_chunks(
        chunks,
        fake_embedder.embed_documents([c.text for c in chunks]),
        {m.doc_id: m for m in metas},
    )
    assert store.count() == 10 and store.live_chunks() == []
    store.publish(*(StoredDocument(m, "h1", m.fingerprint(), 2) for m in metas))
    assert live_texts(store) == {m.doc_id: [f"{m.title} del 1", "del 2"] for m in metas}
    # Each chunk carries its own document's metadata.
    got = store.chunks.get(include=["metadatas"])
    assert all(meta["title"] == f"Dokument {meta['doc_id'][0]}" for meta in got["metadatas"])

    store.unpublish("0.txt", "1.txt")
    store.sweep({"0.txt": None, "1.txt": None, "2.txt": "h1", "3.txt": "h1"})
    store.clear_pending(*(m.doc_id for m in metas))
    assert sorted(store.documents()) == ["2.txt", "3.txt", "4.txt"]
    assert store.count() == 6 and store.pending() == []
