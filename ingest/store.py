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

`ingest --rebuild` swaps the whole store the same way, one level up: it fills a fresh
*generation* of the two collections (`<name>_<generation>_chunks`, `..._documents`) that no
reader looks at, then flips one pointer record (`<name>_generation`) to it and drops the
generation before. Readers follow the pointer, so a running bot answers from the old store
until the new one is complete, and from the new one right after. A rebuild killed midway leaves
the pointer on the old generation; the next run drops the generation it left half-built.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

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
# The pointer collection's records: which generation readers answer from, and the generations
# being built (by whom, since when), so that a cleanup never drops one a live run is filling.
_CURRENT_RECORD = "current"
_BUILD_PREFIX = "build:"
# A build record older than this is taken for a run that died on another machine (on this
# machine a dead builder is seen at once from its process id).
STALE_BUILD_S = 6 * 3600

_T = TypeVar("_T")


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


def _collection_names(name: str, generation: str) -> tuple[str, str]:
    """(chunks, registry) of one generation; "" is the generation stores began with."""
    base = f"{name}_{generation}" if generation else name
    return f"{base}_chunks", f"{base}_documents"


# "g", milliseconds in base 36 (8 digits until the year 5138), 4 hex digits: short (Chroma
# allows 63 characters a name) and of a shape no collection name someone chose is likely to
# have, since a cleanup drops what has it.
_GENERATION = r"g[0-9a-z]{8}[0-9a-f]{4}"


def _new_generation() -> str:
    millis = int(time.time() * 1000)
    digits = ""
    while millis:
        millis, rest = divmod(millis, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
    return f"g{digits:0>8}{secrets.token_hex(2)}"


def _builder_alive(record: Mapping[str, Any]) -> bool:
    """Whether the run that recorded this build may still be filling its generation."""
    started = float(record.get("at", 0.0))
    if time.time() - started > STALE_BUILD_S:
        return False
    if record.get("host") != socket.gethostname():
        return True  # another machine's run: only its age tells
    try:
        os.kill(int(record.get("pid", 0)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OverflowError):
        return True  # a process of another user holds that id: not ours to judge
    return True


def _following(method: Callable[..., _T]) -> Callable[..., _T]:
    """A read that fails because another process switched generations (and dropped the one
    this handle names) is made again on the current generation."""

    @functools.wraps(method)
    def read(self: Store, *args: Any, **kwargs: Any) -> _T:
        try:
            return method(self, *args, **kwargs)
        except Exception:
            if not self.follow():
                raise
            return method(self, *args, **kwargs)

    return read


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
    """Chunks and the document registry of one hfbot collection.

    A store opened by name answers from the generation the pointer names and follows it when
    another process switches it; one opened on a `generation` (a rebuild filling it) stays on it.
    """

    def __init__(
        self, client: ClientAPI, name: str = "hfbot", generation: str | None = None
    ) -> None:
        self.client = client
        self.name = name
        self.pinned = generation is not None
        self.generation = ""
        try:
            self.pointer: Collection = client.get_or_create_collection(f"{name}_generation")
            if generation is not None:
                self._attach(generation, create=True)
            else:
                self._attach_current()
        except StoreUnavailable:
            raise
        except Exception as exc:
            raise StoreUnavailable(f"cannot open collection {name!r}: {exc}") from exc

    def _attach(self, generation: str, *, create: bool) -> None:
        chunks_name, registry_name = _collection_names(self.name, generation)
        if create:
            chunks = self.client.get_or_create_collection(
                chunks_name, metadata={"hnsw:space": "cosine"}
            )
            registry = self.client.get_or_create_collection(registry_name)
        else:
            chunks = self.client.get_collection(chunks_name)
            registry = self.client.get_collection(registry_name)
        self.chunks: Collection = chunks
        self.registry: Collection = registry
        self.generation = generation

    def _attach_current(self) -> None:
        # A generation the pointer names is complete and exists, unless a switch dropped it
        # between reading the pointer and opening it: then the pointer has moved on. Only the
        # first generation ("", before any rebuild) is created here, by whoever comes first.
        for _ in range(5):
            generation = self.current_generation()
            try:
                self._attach(generation, create=not generation)
                return
            except Exception:
                if self.current_generation() == generation:
                    raise
        raise StoreUnavailable(f"collection {self.name!r} keeps changing generation")

    def current_generation(self) -> str:
        """The generation readers answer from ("" until the first rebuild)."""
        got = self.pointer.get(ids=[_CURRENT_RECORD], include=["metadatas"])
        metas = got.get("metadatas") or []
        return str(metas[0].get("generation", "")) if metas and metas[0] else ""

    def follow(self) -> bool:
        """Move to the generation the pointer names; True when it had changed."""
        if self.pinned:
            return False
        try:
            if self.current_generation() == self.generation:
                return False
            self._attach_current()
        except Exception:  # the server is away: stay where we are, the caller's read fails
            return False
        return True

    def reattach(self) -> bool:
        """Find the collections again; True when another process had replaced them: switched
        the generation (`hfbot ingest --rebuild`), or dropped and recreated them by name."""
        if self.follow():
            return True
        if self.pinned:
            return False
        chunks_name, registry_name = _collection_names(self.name, self.generation)
        try:
            chunks = self.client.get_collection(chunks_name)
            registry = self.client.get_collection(registry_name)
        except Exception:  # not recreated yet or the server is away
            return False
        replaced = chunks.id != self.chunks.id or registry.id != self.registry.id
        self.chunks, self.registry = chunks, registry
        return replaced

    # ---- generations (ingest --rebuild) -------------------------------------------------------

    def new_generation(self) -> Store:
        """An empty store on a fresh generation no reader sees until `switch_to` it."""
        generation = _new_generation()
        self.pointer.upsert(
            ids=[_BUILD_PREFIX + generation],
            embeddings=[_DUMMY_EMBEDDING],
            documents=[""],
            metadatas=[
                {
                    "generation": generation,
                    "host": socket.gethostname(),
                    "pid": os.getpid(),
                    "at": time.time(),
                }
            ],
        )
        return Store(self.client, self.name, generation=generation)

    def switch_to(self, built: Store) -> None:
        """Readers answer from `built` from now on; the generation before is dropped.

        The flip is one record write: a kill before it leaves the old generation answering
        (and `built` to the next run's `drop_orphans`), a kill after it leaves the old one to it.
        """
        before = self.current_generation()
        self.pointer.upsert(
            ids=[_CURRENT_RECORD],
            embeddings=[_DUMMY_EMBEDDING],
            documents=[""],
            metadatas=[{"generation": built.generation, "at": time.time()}],
        )
        self.pointer.delete(ids=[_BUILD_PREFIX + built.generation])
        self._attach(built.generation, create=False)
        if before != built.generation:
            self.drop_generation(before)

    def drop_generation(self, generation: str) -> None:
        """Delete one generation's collections (never the one readers answer from)."""
        if generation == self.current_generation():
            raise ValueError(f"generation {generation!r} is the live one")
        for collection in _collection_names(self.name, generation):
            with contextlib.suppress(Exception):  # already gone
                self.client.delete_collection(collection)
        with contextlib.suppress(Exception):
            self.pointer.delete(ids=[_BUILD_PREFIX + generation])

    def generations(self) -> list[str]:
        """Every generation of this store that has a collection, "" for the first."""
        return sorted(self._collections_by_generation())

    def _collections_by_generation(self) -> dict[str, list[str]]:
        pattern = re.compile(rf"{re.escape(self.name)}(?:_({_GENERATION}))?_(?:chunks|documents)")
        found: dict[str, list[str]] = {}
        for collection in self.client.list_collections():
            name = getattr(collection, "name", str(collection))
            match = pattern.fullmatch(name)
            if match:
                found.setdefault(match.group(1) or "", []).append(name)
        return found

    def orphans(self) -> dict[str, list[str]]:
        """The generations a killed rebuild or a killed switch left, each with the collections
        it still has: neither the live one, this handle's, nor one a live run is filling."""
        current = self.current_generation()
        got = self.pointer.get(include=["metadatas"])
        builds = {
            record_id.removeprefix(_BUILD_PREFIX): dict(meta or {})
            for record_id, meta in zip(got["ids"], got.get("metadatas") or [], strict=False)
            if record_id.startswith(_BUILD_PREFIX)
        }
        collections = self._collections_by_generation()
        left: dict[str, list[str]] = {}
        for generation in sorted(set(collections) | set(builds)):
            if generation == current or generation == self.generation:
                continue
            if generation in builds and _builder_alive(builds[generation]):
                continue  # a rebuild still at work
            left[generation] = sorted(collections.get(generation, []))
        return left

    def drop_orphans(self) -> list[str]:
        """Drop the generations a killed rebuild or a killed switch left (returns them)."""
        dropped = list(self.orphans())
        for generation in dropped:
            self.drop_generation(generation)
        return dropped

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

    @_following
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

    @_following
    def corpus_version(self) -> str:
        """An opaque token that changes whenever the live corpus changes ("" for an empty store).

        Readers ask this every few seconds (the lexical index's refresh), so it is where they
        move to a generation a rebuild switched to: the version then read is the new one's.
        """
        self.follow()
        got = self.registry.get(ids=[CORPUS_RECORD], include=["metadatas"])
        metas = got.get("metadatas") or []
        return str(metas[0].get("version", "")) if metas and metas[0] else ""

    @_following
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
        """Drop everything this collection holds, every generation (used by tests)."""
        for generation in self.generations():
            for collection in _collection_names(self.name, generation):
                with contextlib.suppress(Exception):  # already gone
                    self.client.delete_collection(collection)
        with contextlib.suppress(Exception):
            self.client.delete_collection(f"{self.name}_generation")
        self.__init__(self.client, self.name)  # type: ignore[misc]

    # ---- read path ---------------------------------------------------------------------------

    @_following
    def count(self) -> int:
        return self.chunks.count()

    @_following
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
        return self._read_live(live, with_vectors=False)[0]

    def live_chunks_with_vectors(
        self, live: dict[str, StoredDocument] | None = None
    ) -> tuple[list[StoredChunk], np.ndarray | None]:
        """Every live chunk, and their embeddings read in the same pass (a row per chunk, in the
        chunks' order; None when one has none)."""
        return self._read_live(live, with_vectors=True)

    def _read_live(
        self, live: dict[str, StoredDocument] | None, with_vectors: bool
    ) -> tuple[list[StoredChunk], np.ndarray | None]:
        try:
            return self._live_chunks(self.documents() if live is None else live, with_vectors)
        except Exception:
            if not self.follow():
                raise
            # `live` was the dropped generation's registry: this one's documents name the chunks.
            return self._live_chunks(self.documents(), with_vectors)

    def _live_chunks(
        self, live: dict[str, StoredDocument], with_vectors: bool
    ) -> tuple[list[StoredChunk], np.ndarray | None]:
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        rows: list[tuple[StoredChunk, Any]] = []
        offset = 0
        while True:
            got = self.chunks.get(include=include, limit=_PAGE, offset=offset)
            ids = got["ids"]
            vectors = got.get("embeddings") if with_vectors else None
            for i, (chunk_id, text, meta) in enumerate(
                zip(ids, got.get("documents") or [], got.get("metadatas") or [], strict=False)
            ):
                stored = self._to_chunk(chunk_id, text, meta, live)
                if stored is not None:
                    rows.append((stored, None if vectors is None else vectors[i]))
            if len(ids) < _PAGE:
                break
            offset += _PAGE
        rows.sort(key=lambda row: (row[0].doc.doc_id, row[0].index))
        chunks = [chunk for chunk, _ in rows]
        if not with_vectors or not rows or any(v is None for _, v in rows):
            return chunks, None
        return chunks, np.asarray([v for _, v in rows], dtype=np.float32)

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
