"""The Chroma boundary: chunks plus a document registry that makes each document swap atomic.

Chroma has no transactions, so versions are published through a registry collection:
a document is answerable from exactly the chunks whose `content_hash` its registry entry names.
Writing a new version adds chunks under new ids, then flips the registry entry in one write,
then deletes the old chunks. A kill at any point leaves either the old or the new version live;
`pending` markers let the next run sweep what a killed run left behind.

The write methods take several documents at once, so an ingest pays one Chroma round trip per
step for a group of documents rather than per document. Such a write need not land all or
nothing (it is split to Chroma's batch size, and Chroma has no transactions across records),
and nothing needs it to: every record is one document's, and each step (markers, chunks,
registry flips, sweeps, clearing markers) is done for all the documents before the next starts.
A write cut short leaves each document where a one-document run killed at that step would.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ingest.models import Chunk, DocumentMeta
from ingest.units import UNIT_VECTORS_KEY

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from hfbot.settings import Settings

CORPUS_RECORD = "__corpus__"
# Which embedding model the chunks' vectors come from: questions must be embedded by the same.
MODEL_RECORD = "__model__"
PENDING_PREFIX = "__pending__:"
_DUMMY_EMBEDDING = [1.0]  # registry records carry no meaning in vector space
# Dense searches read this many extra hits for stray chunks a killed run may have left.
STRAY_MARGIN = 8
_PAGE = 2000
_WRITE_BATCH = 1000  # records per Chroma write at most, whatever larger batch it accepts
_SWEEP_DOCS = 100  # documents per delete: its filter stays of a bounded size


class StoreUnavailable(RuntimeError):
    """The Chroma store cannot be reached or opened."""


@dataclass(frozen=True)
class StoredDocument:
    """A registry entry: which version of a document is live, and its metadata."""

    meta: DocumentMeta
    content_hash: str
    meta_fingerprint: str
    chunk_count: int
    ingested_at: float = 0.0


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from the store, with its document's live metadata."""

    chunk_id: str
    text: str
    search_text: str
    doc: DocumentMeta
    heading: str
    page: int | None
    start: int
    end: int
    index: int
    unit_vectors: str = ""  # its units' vectors, encoded (ingest.units)

    @property
    def indexed_text(self) -> str:
        return self.search_text or self.text


def make_client(settings: Settings) -> ClientAPI:
    """A Chroma client: a server when CHROMA_HOST is set, else an embedded store in the data dir."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(
                host=settings.chroma_host,
                port=settings.chroma_port,
                ssl=settings.chroma_ssl,
                settings=chroma_settings,
            )
        path = settings.data_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:  # chromadb raises a variety of errors for an unreachable server
        where = (
            f"Chroma server {settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_host
            else f"embedded store in {settings.data_dir}"
        )
        raise StoreUnavailable(f"cannot open the {where}: {exc}") from exc


class Store:
    """Chunks and the document registry of one hfbot collection."""

    def __init__(self, client: ClientAPI, name: str = "hfbot") -> None:
        self.client = client
        self.name = name
        try:
            self.chunks: Collection = client.get_or_create_collection(
                f"{name}_chunks", metadata={"hnsw:space": "cosine"}
            )
            self.registry: Collection = client.get_or_create_collection(f"{name}_documents")
        except Exception as exc:
            raise StoreUnavailable(f"cannot open collection {name!r}: {exc}") from exc

    def reattach(self) -> bool:
        """Find the collections by name again; True when another process had replaced them
        (`hfbot ingest --rebuild` drops and recreates them, so old handles name nothing)."""
        try:
            chunks = self.client.get_collection(f"{self.name}_chunks")
            registry = self.client.get_collection(f"{self.name}_documents")
        except Exception:  # not recreated yet (a rebuild in progress) or the server is away
            return False
        replaced = chunks.id != self.chunks.id or registry.id != self.registry.id
        self.chunks, self.registry = chunks, registry
        return replaced

    @classmethod
    def open(cls, settings: Settings) -> Store:
        return cls(make_client(settings), settings.collection)

    def close(self) -> None:
        """Release the client's files and connections (an embedded store holds several)."""
        # Closing a client that lost its server is not worth failing over.
        with contextlib.suppress(Exception):
            self.client.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---- registry (read) -------------------------------------------------------------------

    def documents(self) -> dict[str, StoredDocument]:
        """The live documents, by doc id."""
        docs: dict[str, StoredDocument] = {}
        for record_id, meta in self._iter_registry():
            if record_id in (CORPUS_RECORD, MODEL_RECORD) or record_id.startswith(PENDING_PREFIX):
                continue
            docs[record_id] = StoredDocument(
                meta=DocumentMeta.from_metadata(meta),
                content_hash=str(meta["content_hash"]),
                meta_fingerprint=str(meta.get("meta_fingerprint", "")),
                chunk_count=int(meta.get("chunk_count", 0)),
                ingested_at=float(meta.get("ingested_at", 0.0)),
            )
        return docs

    def corpus_version(self) -> str:
        """An opaque token that changes whenever the live corpus changes ("" for an empty store)."""
        got = self.registry.get(ids=[CORPUS_RECORD], include=["metadatas"])
        metas = got.get("metadatas") or []
        return str(metas[0].get("version", "")) if metas and metas[0] else ""

    def embedding_model(self) -> str | None:
        """The embedding model the store's vectors were made with (None: not recorded)."""
        got = self.registry.get(ids=[MODEL_RECORD], include=["metadatas"])
        metas = got.get("metadatas") or []
        name = metas[0].get("model") if metas and metas[0] else None
        return str(name) if name else None

    def pending(self) -> list[str]:
        """Doc ids a killed run may have left stray chunks for."""
        return [
            record_id.removeprefix(PENDING_PREFIX)
            for record_id, _ in self._iter_registry()
            if record_id.startswith(PENDING_PREFIX)
        ]

    # ---- write path --------------------------------------------------------------------------

    def mark_pending(self, *doc_ids: str) -> None:
        """Note documents about to get chunks no registry entry names (before writing them)."""
        now = time.time()
        self._put_registry({PENDING_PREFIX + d: {"doc_id": d, "at": now} for d in doc_ids})

    def set_embedding_model(self, name: str) -> None:
        """Record the model whose vectors the store holds (before the first chunk is written)."""
        self._put_registry({MODEL_RECORD: {"model": name, "at": time.time()}})

    def clear_pending(self, *doc_ids: str) -> None:
        """Drop the markers of documents whose strays are swept."""
        self._delete_registry([PENDING_PREFIX + d for d in doc_ids])

    def write_chunks(
        self,
        chunks: Sequence[Chunk],
        embeddings: Sequence[Sequence[float]],
        meta: DocumentMeta | Mapping[str, DocumentMeta],
    ) -> None:
        """Add document versions' chunks; invisible to readers until `publish`.

        `meta` is the chunks' document's metadata, or each document's by doc id when the
        chunks are several documents'.
        """
        if len(chunks) != len(embeddings):
            raise ValueError("one embedding per chunk")
        metas = {meta.doc_id: meta} if isinstance(meta, DocumentMeta) else meta
        batch = self._batch_size()
        for lo in range(0, len(chunks), batch):
            part = chunks[lo : lo + batch]
            self.chunks.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=[list(map(float, e)) for e in embeddings[lo : lo + batch]],
                documents=[c.text for c in part],
                metadatas=[self._chunk_metadata(c, metas[c.doc_id]) for c in part],
            )

    def publish(self, *docs: StoredDocument) -> None:
        """Make each `doc.content_hash` the live version of its document.

        One registry record per document, all in one write where Chroma's batch size allows.
        A write cut short may flip some of the documents and not others: each of them is still
        on one whole version, as long as its new chunks were all written before (they are).
        """
        now = time.time()
        self._put_registry(
            {
                doc.meta.doc_id: doc.meta.to_metadata()
                | {
                    "content_hash": doc.content_hash,
                    "meta_fingerprint": doc.meta_fingerprint,
                    "chunk_count": doc.chunk_count,
                    "ingested_at": doc.ingested_at or now,
                }
                for doc in docs
            }
        )

    def unpublish(self, *doc_ids: str) -> None:
        """Take documents out of answers at once (their chunks are swept after)."""
        self._delete_registry(list(doc_ids))

    def update_chunk_metadata(self, doc_id: str, content_hash: str, meta: DocumentMeta) -> None:
        """Rewrite the document metadata every chunk of one version carries."""
        got = self.chunks.get(
            where={"$and": [{"doc_id": doc_id}, {"content_hash": content_hash}]},
            include=["metadatas"],
        )
        ids, metas = got["ids"], got.get("metadatas") or []
        if ids:
            fresh = meta.to_metadata()
            self.chunks.update(ids=ids, metadatas=[dict(m) | fresh for m in metas])

    def sweep(self, keep: Mapping[str, str | None]) -> None:
        """Delete each document's chunks but those of version `keep[doc_id]` (all if None)."""
        clauses: list[dict[str, Any]] = [
            {"doc_id": doc_id}
            if keep_hash is None
            else {"$and": [{"doc_id": doc_id}, {"content_hash": {"$ne": keep_hash}}]}
            for doc_id, keep_hash in keep.items()
        ]
        for lo in range(0, len(clauses), _SWEEP_DOCS):
            part = clauses[lo : lo + _SWEEP_DOCS]
            self.chunks.delete(where=part[0] if len(part) == 1 else {"$or": part})

    def set_corpus_version(self, version: str | None = None) -> str:
        """Record the corpus version (derived from the registry unless given) and return it."""
        if version is None:
            docs = self.documents()
            parts = sorted(f"{d}:{s.content_hash}:{s.meta_fingerprint}" for d, s in docs.items())
            version = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16] if parts else ""
        self._put_registry({CORPUS_RECORD: {"version": version, "at": time.time()}})
        return version

    def reset(self) -> None:
        """Drop everything this collection holds (used by `ingest --rebuild`)."""
        for collection in (f"{self.name}_chunks", f"{self.name}_documents"):
            with contextlib.suppress(Exception):  # already gone
                self.client.delete_collection(collection)
        self.__init__(self.client, self.name)  # type: ignore[misc]

    # ---- read path ---------------------------------------------------------------------------

    def count(self) -> int:
        return self.chunks.count()

    def nearest(self, embedding: Sequence[float], n: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the n nearest chunks, best first, live or not.

        Ids and distances only: a reader that holds the live chunks already (the lexical
        index) need not fetch their text and metadata again.
        """
        if n <= 0:
            return []
        got = self.chunks.query(
            query_embeddings=[list(map(float, embedding))], n_results=n, include=["distances"]
        )
        distances = (got.get("distances") or [[]])[0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(got["ids"][0], distances, strict=False)]

    def live_chunks(self, live: dict[str, StoredDocument] | None = None) -> list[StoredChunk]:
        """Every live chunk (for the lexical index), in a stable order."""
        live = self.documents() if live is None else live
        out: list[StoredChunk] = []
        offset = 0
        while True:
            got = self.chunks.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            ids = got["ids"]
            for chunk_id, text, meta in zip(
                ids, got.get("documents") or [], got.get("metadatas") or [], strict=False
            ):
                stored = self._to_chunk(chunk_id, text, meta, live)
                if stored is not None:
                    out.append(stored)
            if len(ids) < _PAGE:
                break
            offset += _PAGE
        out.sort(key=lambda c: (c.doc.doc_id, c.index))
        return out

    # ---- internals ---------------------------------------------------------------------------

    @staticmethod
    def _chunk_metadata(chunk: Chunk, meta: DocumentMeta) -> dict[str, Any]:
        out: dict[str, Any] = meta.to_metadata() | {
            "content_hash": chunk.content_hash,
            "index": chunk.index,
            "heading": chunk.heading,
            "start": chunk.start,
            "end": chunk.end,
        }
        if chunk.page is not None:
            out["page"] = chunk.page
        if chunk.search_text and chunk.search_text != chunk.text:
            out["search_text"] = chunk.search_text
        out.update(chunk.extra)
        return out

    @staticmethod
    def _to_chunk(
        chunk_id: str,
        text: str | None,
        meta: Any,
        live: dict[str, StoredDocument],
    ) -> StoredChunk | None:
        if not meta:
            return None
        doc = live.get(str(meta.get("doc_id")))
        if doc is None or doc.content_hash != meta.get("content_hash"):
            return None  # not the published version of its document
        page = meta.get("page")
        return StoredChunk(
            chunk_id=chunk_id,
            text=text or "",
            search_text=str(meta.get("search_text", "")),
            doc=doc.meta,  # the registry's metadata wins over what the chunk carries
            heading=str(meta.get("heading", "")),
            page=int(page) if page is not None else None,
            start=int(meta.get("start", 0)),
            end=int(meta.get("end", 0)),
            index=int(meta.get("index", 0)),
            unit_vectors=str(meta.get(UNIT_VECTORS_KEY, "")),
        )

    def _iter_registry(self) -> Iterator[tuple[str, dict]]:
        offset = 0
        while True:
            got = self.registry.get(include=["metadatas"], limit=_PAGE, offset=offset)
            for record_id, meta in zip(got["ids"], got.get("metadatas") or [], strict=False):
                yield record_id, dict(meta or {})
            if len(got["ids"]) < _PAGE:
                return
            offset += _PAGE

    def _put_registry(self, records: Mapping[str, dict[str, Any]]) -> None:
        ids = list(records)
        batch = self._batch_size()
        for lo in range(0, len(ids), batch):
            part = ids[lo : lo + batch]
            self.registry.upsert(
                ids=part,
                embeddings=[_DUMMY_EMBEDDING] * len(part),
                documents=[""] * len(part),
                metadatas=[records[i] for i in part],
            )

    def _delete_registry(self, ids: Sequence[str]) -> None:
        batch = self._batch_size()
        for lo in range(0, len(ids), batch):
            self.registry.delete(ids=list(ids[lo : lo + batch]))

    def _batch_size(self) -> int:
        """Records per write: what Chroma takes at most, capped (a server may say -1)."""
        size = self._max_batch()
        return min(size, _WRITE_BATCH) if size > 0 else _WRITE_BATCH

    def _max_batch(self) -> int:
        try:
            return int(self.client.get_max_batch_size())
        except Exception:
            return _WRITE_BATCH
