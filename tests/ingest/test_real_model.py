"""The bundled corpus through the real embedding model: what the read path will get."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hfbot.settings import Settings
from ingest.embedder import make_embedder
from ingest.pipeline import run_ingest
from ingest.store import Store
from tests.ingest.conftest import nearest_live


@pytest.mark.slow
def test_bundled_corpus_with_the_real_model(corpus_copy: Path, settings: Settings) -> None:
    embedder = make_embedder(settings)

    report = run_ingest(settings, [corpus_copy], embedder=embedder)

    assert report.added == 5 and report.failed == []
    store = Store.open(settings)
    chunks = store.live_chunks()
    assert len(chunks) == report.chunks
    # The model sees every chunk whole.
    assert max(embedder.count_tokens(c.indexed_text) for c in chunks) <= embedder.max_tokens
    by_doc: dict[str, list] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk.doc.doc_id, []).append(chunk)

    org = " ".join(c.text for c in by_doc["002_8cd09686609c0757.txt"])
    assert org.count("Politisk og administrativ toppledelse") == 1
    web = "\n".join(c.text for c in by_doc["001_b62b5ad0e7f9da97.txt"])
    assert "Submeny" not in web and not web.startswith("vestregionen")

    # 'møter' finds the OCR-damaged annual report through its repaired search text.
    ocr = by_doc["004_222ede703e19ef52.txt"]
    assert any(re.search(r"\bmøter\b", c.search_text) for c in ocr)
    assert not any(re.search(r"\bmøter\b", c.text) for c in ocr)  # quotes stay as written
    query = embedder.embed_query("Årsrapport Strategisk samarbeidsutvalg 2024")
    hits = nearest_live(store, query, k=3)
    assert hits[0].doc.doc_id == "004_222ede703e19ef52.txt"
    # Each chunk's text is exactly a span of the cleaned document.
    assert all(c.end - c.start == len(c.text) for c in chunks)
