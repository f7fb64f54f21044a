"""The store `hfbot eval --corpus` answers from: the given folders, ingested into a store of
their own in the cache folder (never the user's data dir).

The store's folder is named by a key over the corpus content (every file's path, size and
content hash, manifests included) and the embedding model, so a second run over the same
folders opens the finished store and embeds nothing, and a question set over another corpus
is one command. Several answerers (say, with other answer-step parameters) can share it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.answering import Answerer
from ingest.pipeline import META_VERSION, PIPELINE_VERSION, run_ingest
from ingest.report import IngestReport
from ingest.store import Store

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from hfbot.settings import Settings

log = logging.getLogger(__name__)

EVAL_STORES = "eval-stores"
MARKER = "eval-store.json"  # written once the store holds the whole corpus
KEY_VERSION = "1"  # bump when what the key covers changes
KEEP_STORES = 8  # eval stores kept in the cache, most recently used first
PRUNE_AFTER_S = 24 * 3600  # a store used within this time is never pruned (it may be in use)


class EvalCorpusError(ValueError):
    """A --corpus folder is missing or not a folder."""


@dataclass
class EvalStore:
    """A store holding exactly the eval corpus, with the embedder it was built with."""

    settings: Settings  # the caller's settings, pointed at this store
    store: Store
    embedder: Embeddings
    path: Path
    reused: bool  # True when the store was finished by an earlier run
    report: IngestReport | None = None  # the ingest this run did (None when reused)

    def answerer(self, **options: Any) -> Answerer:
        """A fresh Answerer over this store; `options` go to the Answerer (its parameters)."""
        return Answerer(self.settings, store=self.store, embedder=self.embedder, **options)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> EvalStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def resolve_folders(folders: Sequence[str | Path]) -> list[Path]:
    roots: list[Path] = []
    for folder in folders:
        path = Path(folder).expanduser()
        if not path.is_dir():
            what = "not a folder" if path.exists() else "no such folder"
            raise EvalCorpusError(f"--corpus: {what}: {path}")
        resolved = path.resolve()
        if resolved not in roots:
            roots.append(resolved)
    if not roots:
        raise EvalCorpusError("--corpus: give at least one folder")
    return roots


def corpus_base(roots: Sequence[Path]) -> Path:
    """The folder doc ids are relative to: the one root, else the roots' common parent."""
    if len(roots) == 1:
        return roots[0]
    return Path(os.path.commonpath([str(r) for r in roots]))


def model_name(settings: Settings, embedder: Embeddings | None) -> str:
    if embedder is not None:
        return str(getattr(embedder, "model_name", type(embedder).__name__))
    return settings.embedding_model


def corpus_key(roots: Sequence[Path], model: str) -> str:
    """Hash of every file under the roots (path from the base, size, content) and the model.

    Content, not times: a fresh clone of the same corpus finds the same store.
    """
    base = corpus_base(roots)
    digest = hashlib.sha256(
        f"hfbot-eval-store:{KEY_VERSION}:{PIPELINE_VERSION}:{META_VERSION}:{model}\n".encode()
    )
    seen: set[Path] = set()
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if name.startswith(".") or path in seen:
                    continue  # hidden files are not ingested; nested roots list a file once
                seen.add(path)
                rel = path.relative_to(base).as_posix()
                size, content = _file_digest(path)
                digest.update(f"{rel}\0{size}\0{content}\n".encode())
    return digest.hexdigest()[:24]


def _file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            size += len(block)
            digest.update(block)
    return size, digest.hexdigest()


def open_eval_store(
    settings: Settings,
    folders: Sequence[str | Path],
    embedder: Embeddings | None = None,
    *,
    progress: bool = False,
) -> EvalStore:
    """The cached store of `folders` (ingested together), building it when not there yet."""
    roots = resolve_folders(folders)
    if embedder is None:
        from ingest.embedder import make_embedder

        embedder = make_embedder(settings)  # loads its model on first use only
    model = model_name(settings, embedder)
    key = corpus_key(roots, model)
    path = Path(settings.cache_dir).expanduser() / EVAL_STORES / key
    store_settings = settings.model_copy(
        update={
            "data_dir": path,
            "corpus_dir": corpus_base(roots),
            "collection": "eval",
            "chroma_host": None,  # always embedded: a shared server is the users' store
        }
    )
    # A copy keeps cached properties computed from the old data dir; this one is derived again.
    vars(store_settings).pop("resolved_database_url", None)
    path.mkdir(parents=True, exist_ok=True)
    marker = path / MARKER
    store = Store.open(store_settings)
    try:
        reused = _finished(marker, key) and bool(store.documents())
        report = None
        if reused:
            os.utime(marker)  # most recently used: the last to be pruned
        else:
            report = run_ingest(
                store_settings, roots, store=store, embedder=embedder, progress=progress
            )
            if not report.failed:
                # Failed documents are not marked done: the next run tries them again.
                _write_marker(marker, key, roots, model, report)
    except BaseException:
        store.close()
        raise
    _prune(path.parent, keep=path)
    return EvalStore(store_settings, store, embedder, path, reused, report)


def _finished(marker: Path, key: str) -> bool:
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("key") == key
    except (OSError, ValueError, AttributeError):
        return False


def _write_marker(
    marker: Path, key: str, roots: Sequence[Path], model: str, report: IngestReport
) -> None:
    note = {
        "key": key,
        "folders": [str(r) for r in roots],
        "model": model,
        "documents": report.added + report.updated + report.unchanged + report.metadata_updated,
        "chunks": report.chunks,
        "built_at": time.time(),
    }
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps(note, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(marker)


def _prune(folder: Path, keep: Path) -> None:
    """Drop the least recently used eval stores beyond KEEP_STORES (none used in the last day)."""
    try:
        stores = [p for p in folder.iterdir() if p.is_dir() and p != keep]
    except OSError:
        return
    now = time.time()

    def last_used(p: Path) -> float:
        with contextlib.suppress(OSError):
            return (p / MARKER).stat().st_mtime
        with contextlib.suppress(OSError):
            return p.stat().st_mtime
        return now

    stores.sort(key=last_used, reverse=True)
    for old in stores[KEEP_STORES - 1 :]:
        if now - last_used(old) > PRUNE_AFTER_S:
            log.info("removing the eval store %s (not used for a while)", old)
            shutil.rmtree(old, ignore_errors=True)
