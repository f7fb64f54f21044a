"""A note of the last complete ingest, so a run with nothing to do need not open the store.

The note holds the size, times and inode of every corpus file and of the embedded store's
database file. When all of them are as the last complete run left them, nothing can
have changed and the run ends without importing Chroma. Any difference, a Chroma server
(which other machines may write to), or a failed document means the full check runs.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hfbot.settings import Settings

STATE_NAME = "ingest-state.json"


def _state_path(settings: Settings) -> Path:
    return settings.data_dir / STATE_NAME


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    # ctime and inode too: copying tools can set a file's mtime back, never its ctime.
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def corpus_signature(roots: list[Path], key: dict[str, Any]) -> dict[str, Any]:
    """Every file under the roots (hidden ones aside) with its size and time, plus `key`."""
    files: list[list[Any]] = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                files.append([str(path), _stat(path)])
    return {"key": key, "roots": [str(r) for r in roots], "files": files}


def store_signature(settings: Settings) -> list[Any] | None:
    """The embedded store's database files as they stand; None for a Chroma server."""
    if settings.chroma_host:
        return None
    folder = settings.data_dir / "chroma"
    return [_stat(folder / name) for name in ("chroma.sqlite3", "chroma.sqlite3-wal")]


def unchanged_since_last_run(settings: Settings, corpus: dict[str, Any]) -> dict[str, Any] | None:
    """The last run's summary when neither the corpus nor the store has changed since."""
    store = store_signature(settings)
    if store is None:
        return None
    try:
        saved = json.loads(_state_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if saved.get("corpus") != corpus or saved.get("store") != store:
        return None
    summary = saved.get("summary")
    return summary if isinstance(summary, dict) else None


def forget(settings: Settings) -> None:
    """Drop the note before a run writes anything, so a killed run cannot leave it stale."""
    with contextlib.suppress(FileNotFoundError):
        _state_path(settings).unlink()


def remember(settings: Settings, corpus: dict[str, Any], summary: dict[str, Any]) -> None:
    store = store_signature(settings)
    if store is None:
        return
    path = _state_path(settings)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(
        json.dumps({"corpus": corpus, "store": store, "summary": summary}), encoding="utf-8"
    )
    tmp.replace(path)
