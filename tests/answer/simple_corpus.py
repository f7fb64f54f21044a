"""A tiny stand-in loader for the read-path tests: paragraphs of text files straight into a Store.

It writes through the same Store calls the ingest pipeline uses (write_chunks → publish →
set_corpus_version), so retrieval and answering see exactly what they would after an ingest.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import yaml

from ingest.models import Chunk, DocumentMeta
from ingest.store import Store, StoredDocument

_HEADING = re.compile(r"^#{1,6}\s+(.*)$")


def paragraph_chunks(doc_id: str, text: str, content_hash: str, limit: int = 700) -> list[Chunk]:
    """Blank-line paragraphs packed into chunks of at most ~limit characters, split at headings."""
    chunks: list[Chunk] = []
    buf: list[str] = []
    heading = ""
    buf_heading = ""

    def flush() -> None:
        body = "\n\n".join(buf).strip()
        if body:
            chunks.append(Chunk(doc_id, content_hash, len(chunks), body, heading=buf_heading))
        buf.clear()

    for para in re.split(r"\n\s*\n", text):
        if not para.strip():
            continue
        head = _HEADING.match(para.strip())
        if head:
            flush()
            heading = head.group(1).strip()
        if buf and sum(len(p) for p in buf) + len(para) > limit:
            flush()
        if not buf:
            buf_heading = heading
        buf.append(para.strip("\n"))
    flush()
    return chunks


def add_document(
    store: Store,
    embedder,
    *,
    file: str,
    text: str,
    title: str = "",
    when: date | None = None,
    url: str = "",
    kind: str = "",
) -> None:
    """Write and publish one document, then bump the corpus version."""
    content_hash = hashlib.sha256(text.encode()).hexdigest()
    meta = DocumentMeta(
        doc_id=file,
        file=file,
        title=title or file,
        kind=kind,
        date=when,
        date_approximate=False,
        url=url,
    )
    chunks = paragraph_chunks(file, text, content_hash)
    vectors = embedder.embed_documents([c.indexed_text for c in chunks])
    store.write_chunks(chunks, vectors, meta)
    store.publish(StoredDocument(meta, content_hash, meta.fingerprint(), len(chunks)))
    store.set_corpus_version()


def load_folder(store: Store, embedder, folder: Path) -> None:
    """Every .txt/.md file of a folder, with metadata from its MANIFEST.yaml when present."""
    manifest: dict[str, dict] = {}
    if (folder / "MANIFEST.yaml").exists():
        manifest = {e["file"]: e for e in yaml.safe_load((folder / "MANIFEST.yaml").read_text())}
    files: Iterable[Path] = sorted(p for p in folder.iterdir() if p.suffix in {".txt", ".md"})
    for path in files:
        entry = manifest.get(path.name, {})
        when = entry.get("updated") or entry.get("date")
        add_document(
            store,
            embedder,
            file=path.name,
            text=path.read_text(encoding="utf-8"),
            title=str(entry.get("title", path.stem)),
            when=when if isinstance(when, date) else None,
            url=str(entry.get("url", "")),
            kind=str(entry.get("kind", "")),
        )
