"""The ingest run: make the store mirror the corpus folder(s), incrementally and crash-safely.

Each document version is written invisibly, published with one registry write, then its old
chunks are swept. A `pending` marker brackets every change, so a run killed at any moment
leaves each document answerable from exactly one version and the next run cleans up.
Documents go through these steps a group at a time (one store write per step and group).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock, Timeout

from ingest import runlog
from ingest.chunking import chunk_document
from ingest.clean import clean_pages
from ingest.loaders import Loaded, LoadError, is_supported, load
from ingest.manifest import MANIFEST_NAME, ManifestEntry, ManifestError, build_meta, read_manifest
from ingest.models import Chunk, DocumentMeta
from ingest.report import IngestReport
from ingest.store import Store, StoredDocument, StoreUnavailable
from ingest.units import UNIT_VECTORS_KEY, encode_vectors, unit_texts

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from hfbot.settings import Settings

__all__ = ["IngestBusy", "IngestReport", "IngestUsageError", "ensure_ingested", "run_ingest"]

log = logging.getLogger(__name__)

# Bump when cleaning or chunking changes, so every document is re-chunked on the next run.
PIPELINE_VERSION = "7"
SOURCES_NAME = "SOURCES.yaml"  # the web source list may lie in the corpus folder
WEB_PREFIX = "web:"  # doc ids of fetched web documents (ingest.web), beside the corpus's paths
DERIVED_META = "derived"  # fingerprint of metadata taken from the file itself
# Bump when deriving metadata changes (dates, titles): every document's metadata is derived
# again on the next run, without re-embedding. 2: dates record their source, no file mtimes.
META_VERSION = "2"
# Chunks embedded and written per round: while one round embeds, the next documents are read
# and chunked on another thread, so rounds are kept short enough to overlap.
EMBED_GROUP = 256
PREPARE_AHEAD = 8  # documents read and chunked ahead of the embedding (bounds memory)
EMBED_SLICE = 256  # texts per encode call (the progress bar moves per slice)


class IngestUsageError(ValueError):
    """The command was asked for something impossible (a missing folder, say)."""


class IngestBusy(RuntimeError):
    """Another ingest holds the lock."""


@dataclass
class _Source:
    doc_id: str
    path: Path
    entry: ManifestEntry | None
    content_hash: str = ""

    @property
    def meta_fingerprint(self) -> str:
        base = self.entry.fingerprint() if self.entry else DERIVED_META
        return f"{base}+{META_VERSION}"


@dataclass
class _Prepared:
    source: _Source
    meta: DocumentMeta
    chunks: list[Chunk]
    is_update: bool
    units: list[list[str]] = field(default_factory=list)  # per chunk: its units' texts


@dataclass(frozen=True)
class _Run:
    """What one ingest run works with, from the discovered sources to the end of the run.

    `store` is the generation being brought in line: a rebuild runs on a copy naming the fresh
    generation it fills. `report` is the one object the steps add to.
    """

    settings: Settings
    sources: dict[str, _Source]
    report: IngestReport
    store: Store
    embedder: Embeddings | None
    progress: bool
    rebuild: bool
    dry_run: bool
    keep_web: bool = False  # leave the store's web documents alone (no fetch here yet)


def run_ingest(
    settings: Settings,
    folders: Sequence[str | Path] | None = None,
    *,
    rebuild: bool = False,
    dry_run: bool = False,
    store: Store | None = None,
    embedder: Embeddings | None = None,
    progress: bool = False,
) -> IngestReport:
    """Make the store hold exactly the supported documents of `folders` (default: the corpus)."""
    started = time.perf_counter()
    roots = _resolve_folders(folders or [settings.corpus_dir])
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.data_dir / "ingest.lock"))
    try:
        lock.acquire(timeout=0 if dry_run else settings.ingest_lock_timeout_s)
    except Timeout:
        if not dry_run:
            raise IngestBusy(
                f"another ingest is running (lock {lock.lock_file} held for more than "
                f"{settings.ingest_lock_timeout_s:.0f} s); try again when it has finished"
            ) from None
        # A dry run only reads; it may look while another run works.
    try:
        if store is None:
            report = _run_noted(settings, roots, rebuild, dry_run, embedder, progress)
        else:
            report = _run_locked(settings, roots, rebuild, dry_run, store, embedder, progress)
        report.seconds = time.perf_counter() - started
        if not dry_run:
            runlog.record(settings, report, store=store)
    except Exception as exc:
        if not dry_run:  # the secretariat's report says the last run failed, and why
            runlog.record(settings, None, error=_one_line(exc) or type(exc).__name__)
        raise
    finally:
        if lock.is_locked:
            lock.release()
    return report


def _run_noted(
    settings: Settings,
    roots: list[Path],
    rebuild: bool,
    dry_run: bool,
    embedder: Embeddings | None,
    progress: bool,
) -> IngestReport:
    """A run that ends at once when nothing changed since the last complete run."""
    from ingest import state

    key = {
        "pipeline": PIPELINE_VERSION,
        "meta": META_VERSION,
        "model": _model_name(settings, embedder),
        "collection": settings.collection,
        "corpus_dir": str(settings.corpus_dir.expanduser().resolve()),
    }
    web, _ = _web_root(settings, roots)
    corpus = state.corpus_signature(roots + ([web] if web else []), key)
    if not rebuild:
        noted = state.unchanged_since_last_run(settings, corpus)
        if noted is not None:
            return IngestReport(
                unchanged=int(noted.get("documents", 0)),
                skipped=list(noted.get("skipped", [])),
                warnings=list(noted.get("warnings", [])),
                dry_run=dry_run,
            )
    if dry_run:
        return _run_locked(settings, roots, rebuild, dry_run, None, embedder, progress)
    state.forget(settings)
    report = _run_locked(settings, roots, rebuild, dry_run, None, embedder, progress)
    if not report.failed:
        documents = report.unchanged + report.added + report.updated + report.metadata_updated
        state.remember(
            settings,
            corpus,
            {"documents": documents, "skipped": report.skipped, "warnings": report.warnings},
        )
    return report


def ensure_ingested(
    settings: Settings,
    store: Store | None = None,
    embedder: Embeddings | None = None,
    progress: bool = False,
) -> IngestReport | None:
    """Ingest the configured corpus when the store holds no documents; None when not needed."""
    if store is None:
        with Store.open(settings) as owned:
            return ensure_ingested(settings, owned, embedder, progress)
    if store.documents():
        return None
    return run_ingest(settings, store=store, embedder=embedder, progress=progress)


# ---- planning --------------------------------------------------------------------------------


def _resolve_folders(folders: Iterable[str | Path]) -> list[Path]:
    roots: list[Path] = []
    for folder in folders:
        path = Path(folder).expanduser()
        if not path.exists():
            raise IngestUsageError(f"no such folder: {path}")
        if not path.is_dir():
            raise IngestUsageError(f"not a folder: {path} (give the folder that holds it)")
        resolved = path.resolve()
        if resolved not in roots:
            roots.append(resolved)
    return roots


def _doc_base(roots: list[Path], corpus_dir: Path) -> Path:
    """Doc ids are paths relative to this folder: the corpus folder when the roots lie in it
    (so a sub-folder's documents keep the ids a whole-corpus run gives them), else the
    common parent of the roots."""
    corpus = corpus_dir.expanduser().resolve()
    if all(root == corpus or corpus in root.parents for root in roots):
        return corpus
    if len(roots) == 1:
        return roots[0]
    return Path(os.path.commonpath([str(r) for r in roots]))


def _discover(roots: list[Path], corpus_dir: Path, report: IngestReport) -> dict[str, _Source]:
    base = _doc_base(roots, corpus_dir)
    sources: dict[str, _Source] = {}
    manifests: dict[Path, dict[str, ManifestEntry]] = {}
    manifest_folders: list[Path] = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            rel_parts = path.relative_to(root).parts
            if any(part.startswith(".") for part in rel_parts) or not path.is_file():
                continue  # hidden files and folders (.git, .DS_Store) are not documents
            if path.name == MANIFEST_NAME:
                manifest_folders.append(path.parent)
                continue
            if path.name == SOURCES_NAME and path.parent == root:
                continue  # the web source list (`hfbot fetch`), not a document
            doc_id = path.relative_to(base).as_posix()
            if not is_supported(path) or path.name.startswith("~$"):
                if doc_id not in report.skipped:
                    report.skipped.append(doc_id)
                continue
            sources[doc_id] = _Source(doc_id, path, _manifest_entry(path, root, manifests))
    # A misspelt file name in the manifest would silently leave a document without its title.
    for folder in manifest_folders:
        entries = manifests.get(folder) or read_manifest(folder)
        for name in entries:
            if not (folder / name).is_file():
                where = (folder / MANIFEST_NAME).relative_to(base).as_posix()
                report.warnings.append(f"{where}: no file {name!r} for its entry")
    return sources


def _web_root(settings: Settings, roots: list[Path]) -> tuple[Path | None, bool]:
    """(the fetched web documents' folder, whether to leave web documents alone).

    An ingest of the corpus folder takes in what `hfbot fetch` fetched (ingest.web), with
    doc ids `web:<copy>`. Before any fetch here (a replica whose data dir never fetched),
    the web documents in the store are left as they are rather than removed.
    """
    if roots != [settings.corpus_dir.expanduser().resolve()]:
        return None, False
    folder = settings.web_dir / "documents"
    if not folder.is_dir():
        return None, True
    return folder.resolve(), False


def _discover_web(folder: Path, report: IngestReport) -> dict[str, _Source]:
    found = _discover([folder], folder, report)
    return {WEB_PREFIX + d: _Source(WEB_PREFIX + d, s.path, s.entry) for d, s in found.items()}


def _manifest_entry(
    path: Path, root: Path, cache: dict[Path, dict[str, ManifestEntry]]
) -> ManifestEntry | None:
    """The entry for `path` in the nearest MANIFEST.yaml between its folder and the root."""
    folder = path.parent
    while True:
        if folder not in cache:
            cache[folder] = read_manifest(folder)
        entry = cache[folder].get(path.relative_to(folder).as_posix())
        if entry is not None or folder == root or root not in folder.parents:
            return entry
        folder = folder.parent


def _content_hash(path: Path, model_name: str) -> str:
    digest = hashlib.sha256(f"hfbot-ingest:{PIPELINE_VERSION}:{model_name}\n".encode())
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _model_name(settings: Settings, embedder: Embeddings | None) -> str:
    if embedder is not None:
        return str(getattr(embedder, "model_name", type(embedder).__name__))
    return settings.embedding_model


# ---- the run ---------------------------------------------------------------------------------


def _run_locked(
    settings: Settings,
    roots: list[Path],
    rebuild: bool,
    dry_run: bool,
    store: Store | None,
    embedder: Embeddings | None,
    progress: bool,
) -> IngestReport:
    report = IngestReport(dry_run=dry_run)
    web, keep_web = _web_root(settings, roots)
    try:
        sources = _discover(roots, settings.corpus_dir, report)
        if web is not None:
            sources |= _discover_web(web, report)
    except ManifestError as exc:
        # Without its manifest every document's metadata would be wrong: change nothing.
        report.failed.append({"file": MANIFEST_NAME, "error": str(exc)})
        return report
    # A store handed in stays open for the caller; one opened here is closed at the end.
    opened = Store.open(settings) if store is None else contextlib.nullcontext(store)
    with opened as target:
        return _apply(
            _Run(
                settings=settings,
                sources=sources,
                report=report,
                store=target,
                embedder=embedder,
                progress=progress,
                rebuild=rebuild,
                dry_run=dry_run,
                keep_web=keep_web,
            )
        )


def _apply(run: _Run) -> IngestReport:
    """Bring the store in line with the discovered sources."""
    if not run.dry_run:
        dropped = run.store.drop_orphans()
        if dropped:
            log.info("dropped what an interrupted rebuild left: generations %s", dropped)
    if run.rebuild and not run.dry_run:
        return _rebuild(run)
    return _apply_to(run)


def _rebuild(run: _Run) -> IngestReport:
    """Fill a fresh generation of the store with every source, then switch readers to it.

    Readers answer from the old store all along, and from the new one once it is complete:
    a rebuild that fails or is killed leaves the old one as it was.
    """
    store, report = run.store, run.report
    building = store.new_generation()
    try:
        _apply_to(replace(run, store=building))
        if not building.documents() and store.documents():
            # Every document failed (a broken model, say): an empty store answers nothing.
            report.warnings.append(
                "the rebuild read no document; the store keeps the documents it had"
            )
            store.drop_generation(building.generation)
            return report
        store.switch_to(building)
    except BaseException:
        with contextlib.suppress(Exception):  # the next run drops it otherwise
            store.drop_generation(building.generation)
        raise
    return report


def _apply_to(run: _Run) -> IngestReport:
    """Bring one generation of the store in line with the sources (`rebuild`: it is empty)."""
    settings, sources, report, store = run.settings, run.sources, run.report, run.store
    if not run.dry_run:
        _recover(store)
    live = {} if run.rebuild else store.documents()
    embedder = _keep_store_model(settings, store, run.embedder, run.rebuild, report)
    model_name = _model_name(settings, embedder)

    to_embed: list[_Source] = []
    meta_only: list[tuple[_Source, StoredDocument]] = []
    for doc_id, source in sources.items():
        try:
            source.content_hash = _content_hash(source.path, model_name)
        except OSError as exc:
            report.failed.append({"file": doc_id, "error": f"cannot read file: {exc.strerror}"})
            continue
        stored = live.get(doc_id)
        if stored is None or stored.content_hash != source.content_hash:
            to_embed.append(source)
        elif stored.meta_fingerprint != source.meta_fingerprint or stored.meta.file != (
            source.path.name
        ):
            meta_only.append((source, stored))
        else:
            report.unchanged += 1
    # A file that cannot be read keeps its old version live rather than vanishing.
    failed_ids = {f["file"] for f in report.failed}
    removed = sorted(
        d
        for d in live
        if d not in sources
        and d not in failed_ids
        and not (run.keep_web and d.startswith(WEB_PREFIX))
    )

    if run.dry_run:
        for source in to_embed:
            kind = "updated" if source.doc_id in live else "added"
            report.documents[kind].append(source.doc_id)
        report.added = len(report.documents["added"])
        report.updated = len(report.documents["updated"])
        report.removed = len(removed)
        report.documents["removed"] = removed
        report.metadata_updated = len(meta_only)
        report.documents["metadata"] = [s.doc_id for s, _ in meta_only]
        return report

    if removed:
        _remove(store, removed)
        report.removed += len(removed)
        report.documents["removed"].extend(removed)

    relabelled: list[StoredDocument] = []
    for source, stored in meta_only:
        try:
            relabelled.append(_update_metadata(store, source, stored, settings))
        except LoadError as exc:
            report.failed.append({"file": source.doc_id, "error": str(exc)})
            continue
        except StoreUnavailable:
            raise
        except Exception as exc:  # one broken document must not stop the others
            log.exception("cannot update the metadata of %s", source.doc_id)
            report.failed.append({"file": source.doc_id, "error": _one_line(exc)})
    # Registry last: a kill before leaves the old fingerprints, so the next run does it again.
    store.publish(*relabelled)
    report.metadata_updated += len(relabelled)
    report.documents["metadata"].extend(d.meta.doc_id for d in relabelled)

    if to_embed:
        if store.embedding_model() != model_name:
            store.set_embedding_model(model_name)  # before its first vectors are written
        _embed_and_publish(settings, store, embedder, to_embed, live, report, run.progress)

    if report.changed or (run.rebuild or not store.corpus_version()):
        store.set_corpus_version()
    return report


def _keep_store_model(
    settings: Settings,
    store: Store,
    embedder: Embeddings | None,
    rebuild: bool,
    report: IngestReport,
) -> Embeddings | None:
    """The embedder for this run: never a second model in one store.

    A store keeps the model it was built with until `--rebuild`: when HFBOT_EMBEDDING_MODEL
    has changed since, new documents are embedded with the store's model and the report says
    how to switch. An embedder handed in that does not match the store is refused.
    """
    if rebuild:
        return embedder
    from ingest.embedder import REBUILD_HINT, make_embedder_of, mismatch_hint, store_model

    stored = store_model(settings, store)
    wanted = _model_name(settings, embedder)
    if stored is None or stored == wanted:
        return embedder
    if embedder is not None:
        raise IngestUsageError(
            f"the store was built with {stored}, this run would embed with {wanted}: {REBUILD_HINT}"
        )
    report.warnings.append(mismatch_hint(stored, settings.embedding_model))
    return make_embedder_of(settings, stored)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _recover(store: Store) -> None:
    """Sweep what a killed run left: chunks of versions that never went live."""
    pending = store.pending()
    if not pending:
        return
    live = store.documents()
    store.sweep({d: live[d].content_hash if d in live else None for d in pending})
    store.clear_pending(*pending)
    log.info("recovered %s after an interrupted ingest", ", ".join(pending))
    store.set_corpus_version()


def _remove(store: Store, doc_ids: list[str]) -> None:
    store.mark_pending(*doc_ids)
    store.unpublish(*doc_ids)  # each one gone at once, whether or not the others are
    store.sweep(dict.fromkeys(doc_ids))
    store.clear_pending(*doc_ids)


def _read_meta(source: _Source, loaded: Loaded | None, settings: Settings) -> DocumentMeta:
    text = None
    entry = source.entry
    needs_text = entry is None or not entry.fields.get("title") or not entry.fields.get("date")
    if needs_text:
        if loaded is None:
            loaded = load(source.path, int(settings.max_file_mb * 1e6))
        text = clean_pages(loaded.pages).text
    file_date = loaded.published if loaded is not None else None
    return build_meta(source.doc_id, source.path, entry, text, file_date)


def _update_metadata(
    store: Store, source: _Source, stored: StoredDocument, settings: Settings
) -> StoredDocument:
    """Rewrite the metadata a document's chunks carry; the registry entry to publish after."""
    meta = _read_meta(source, None, settings)
    store.update_chunk_metadata(source.doc_id, stored.content_hash, meta)
    return StoredDocument(
        meta=meta,
        content_hash=stored.content_hash,
        meta_fingerprint=source.meta_fingerprint,
        chunk_count=stored.chunk_count,
    )


def _prepare(
    source: _Source, settings: Settings, counter: Any, max_tokens: int, is_update: bool
) -> _Prepared:
    from ingest.ocr_repair import repair_for

    loaded = load(source.path, int(settings.max_file_mb * 1e6))
    clean = clean_pages(loaded.pages)
    if not clean.text.strip():
        raise LoadError("no text left after cleaning")
    meta = _read_meta(source, loaded, settings)
    chunks = chunk_document(
        clean,
        source.doc_id,
        source.content_hash,
        counter,
        max_tokens=max_tokens,
        repair=repair_for(clean.text),
    )
    if not chunks:
        raise LoadError("no text to index")
    units = [unit_texts(c.text, c.search_text, c.heading) for c in chunks]
    return _Prepared(source, meta, chunks, is_update, units)


def _embed_and_publish(
    settings: Settings,
    store: Store,
    embedder: Embeddings | None,
    sources: list[_Source],
    live: dict[str, StoredDocument],
    report: IngestReport,
    progress: bool,
) -> None:
    from ingest.embedder import make_embedder

    embedder = embedder or make_embedder(settings)
    counter = embedder.count_tokens  # type: ignore[attr-defined]
    max_tokens = int(getattr(embedder, "max_tokens", 256) or 256)
    show = progress or sys.stderr.isatty()
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=0, unit="chunk", desc="Embedding", file=sys.stderr, leave=False)

    group: list[_Prepared] = []

    def flush() -> None:
        if group:
            _write_group(store, embedder, group, report, bar)
            group.clear()

    def prepare(source: _Source) -> _Prepared:
        return _prepare(source, settings, counter, max_tokens, source.doc_id in live)

    try:
        for source, outcome in _prefetched(prepare, sources, PREPARE_AHEAD):
            try:
                prepared = outcome.result()
            except LoadError as exc:
                report.failed.append({"file": source.doc_id, "error": str(exc)})
                continue
            except Exception as exc:  # one broken document must not stop the others
                log.exception("cannot ingest %s", source.doc_id)
                report.failed.append({"file": source.doc_id, "error": _one_line(exc)})
                continue
            group.append(prepared)
            if bar is not None:
                bar.total += len(prepared.chunks)
                bar.refresh()
            if sum(len(p.chunks) for p in group) >= EMBED_GROUP:
                flush()
        flush()
    finally:
        if bar is not None:
            bar.close()


def _prefetched(
    work: Callable[[_Source], _Prepared], sources: Sequence[_Source], ahead: int
) -> Iterator[tuple[_Source, Future[_Prepared]]]:
    """Each source with its `work` started on a worker thread, at most `ahead` in advance."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hfbot-prepare") as pool:
        pending: deque[tuple[_Source, Future[_Prepared]]] = deque()
        upcoming = iter(sources)
        try:
            for source in upcoming:
                pending.append((source, pool.submit(work, source)))
                if len(pending) > ahead:
                    yield pending.popleft()
            while pending:
                yield pending.popleft()
        finally:
            for _, future in pending:  # a failed round: drop the work not started yet
                future.cancel()


def _embed_all(embedder: Embeddings, texts: list[str], bar: Any) -> list[list[float]]:
    # Similar lengths in one batch waste no padding.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors: list[list[float]] = [[] for _ in texts]
    for lo in range(0, len(order), EMBED_SLICE):
        idx = order[lo : lo + EMBED_SLICE]
        for i, vec in zip(idx, embedder.embed_documents([texts[i] for i in idx]), strict=True):
            vectors[i] = vec
        if bar is not None:
            bar.update(len(idx))
    return vectors


def _write_group(
    store: Store,
    embedder: Embeddings,
    group: list[_Prepared],
    report: IngestReport,
    bar: Any,
) -> None:
    chunks = [c for p in group for c in p.chunks]
    units = [u for p in group for u in p.units]
    vectors = _embed_all(embedder, [c.indexed_text for c in chunks], bar)
    unit_vectors = _embed_all(embedder, [t for texts in units for t in texts], None)
    start = 0
    for chunk, texts in zip(chunks, units, strict=True):
        chunk.extra[UNIT_VECTORS_KEY] = encode_vectors(unit_vectors[start : start + len(texts)])
        start += len(texts)
    # One store write per step for the whole group, each step done for every document before
    # the next begins. No step needs its write to land all or nothing (a write may be split to
    # Chroma's batch size, and Chroma has no transactions across records):
    # - markers: a document whose marker is missing has no chunks written yet;
    # - chunks: unpublished chunks are invisible, and their documents carry markers;
    # - registry flips: one record per document, so each document is on its old or its new
    #   version (whole, as all the group's chunks were written before), whichever others are;
    # - sweeps delete only chunks no registry entry names, and clearing a marker comes after
    #   its document's sweep: a marker left behind makes the next run sweep that document.
    doc_ids = [p.source.doc_id for p in group]
    store.mark_pending(*doc_ids)
    try:
        store.write_chunks(
            chunks,
            vectors,  # type: ignore[arg-type]
            {p.source.doc_id: p.meta for p in group},
        )
    except Exception as exc:
        if "dimension" in str(exc).lower():
            raise IngestUsageError(
                f"the store holds embeddings of another model ({_one_line(exc)}); "
                "run `hfbot ingest --rebuild` after changing HFBOT_EMBEDDING_MODEL"
            ) from exc
        raise
    store.publish(
        *(
            StoredDocument(
                meta=p.meta,
                content_hash=p.source.content_hash,
                meta_fingerprint=p.source.meta_fingerprint,
                chunk_count=len(p.chunks),
            )
            for p in group
        )
    )
    # A new document has no old chunks: strays of a killed run went in recovery.
    updates = {p.source.doc_id: p.source.content_hash for p in group if p.is_update}
    if updates:
        store.sweep(updates)
    store.clear_pending(*doc_ids)
    report.chunks += len(chunks)
    for prepared in group:
        if prepared.is_update:
            report.updated += 1
            report.documents["updated"].append(prepared.source.doc_id)
        else:
            report.added += 1
            report.documents["added"].append(prepared.source.doc_id)
