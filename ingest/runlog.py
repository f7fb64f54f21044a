"""A note of the last ingest run (when, what it did, which files failed) for the secretariat.

Written after every run that is not a dry run, whether it changed anything, failed on some
files or failed as a whole. It lives in two places:

- `ingest-last-run.json` in the data dir, always: cheap, and readable without opening Chroma;
- a `<collection>_runs` collection of the Chroma server, when there is one. Bot replicas
  each have their own data dir but share the server, so any replica's report sees the run
  made by another replica or by `docker compose run ingest`.

`last_run` prefers the newer of the two. Losing the note costs nothing but the report's line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hfbot.settings import Settings
    from ingest.report import IngestReport
    from ingest.store import Store

log = logging.getLogger(__name__)

NOTE_NAME = "ingest-last-run.json"
_RECORD_ID = "last"
_MAX_FAILURES = 200  # files listed in the note at most (a broken folder may hold thousands)


def _note_path(settings: Settings) -> Path:
    return settings.data_dir / NOTE_NAME


def run_note(report: IngestReport | None, *, error: str | None = None) -> dict[str, Any]:
    """The note for one run: its counts, failed files, and `error` when the run itself failed."""
    data = report.to_json() if report is not None else {}
    data.pop("documents", None)  # per-document names: the registry has the live ones
    failed = list(data.get("failed", []))
    data["failed"] = failed[:_MAX_FAILURES]
    data["failed_count"] = len(failed)
    data["at"] = time.time()
    data["error"] = error
    data["ok"] = error is None and not failed
    return data


def record(
    settings: Settings,
    report: IngestReport | None,
    *,
    store: Store | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """Keep the note of a run that just ended; never raises (the run's result matters more)."""
    note = run_note(report, error=error)
    path = _note_path(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(note, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        log.warning("could not write the ingest note %s: %s", path, exc)
    if settings.chroma_host:
        try:
            _with_store(settings, store, lambda s: _runs(s).upsert(**_record(note)))
        except Exception as exc:  # an unreachable server already failed the run; note it locally
            log.warning("could not write the ingest note to the Chroma server: %s", exc)
    return note


def last_run(settings: Settings, store: Store | None = None) -> dict[str, Any] | None:
    """The newest note of a run, from the Chroma server or the data dir; None before any run."""
    notes: list[dict[str, Any]] = []
    with contextlib.suppress(OSError, ValueError):
        notes.append(json.loads(_note_path(settings).read_text(encoding="utf-8")))
    if settings.chroma_host:
        try:
            got = _with_store(settings, store, lambda s: _runs(s).get(ids=[_RECORD_ID]))
            for document in got.get("documents") or []:
                notes.append(json.loads(document))
        except Exception as exc:
            log.warning("could not read the ingest note from the Chroma server: %s", exc)
    notes = [n for n in notes if isinstance(n, dict) and isinstance(n.get("at"), int | float)]
    return max(notes, key=lambda n: n["at"]) if notes else None


def _with_store(settings: Settings, store: Store | None, use):  # type: ignore[no-untyped-def]
    if store is not None:
        return use(store)
    from ingest.store import Store

    with Store.open(settings) as opened:
        return use(opened)


def _runs(store: Store):  # type: ignore[no-untyped-def]
    # A collection of its own: the registry's readers need not know about it, and
    # `ingest --rebuild` (which drops the registry) keeps the history of runs.
    return store.client.get_or_create_collection(f"{store.name}_runs")


def _record(note: dict[str, Any]) -> dict[str, Any]:
    return {
        "ids": [_RECORD_ID],
        "embeddings": [[1.0]],  # the note has no meaning in vector space
        "documents": [json.dumps(note, ensure_ascii=False)],
        "metadatas": [{"at": float(note["at"])}],
    }
