"""What hfbot knows of each fetched address: validators, the last good copy, and its troubles.

One JSON file in the web folder, written whole to a temporary file and renamed over the old
one, so a fetch killed at any moment leaves the previous state or the new one, never half.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATE_NAME = "state.json"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class SourceState:
    """One address: a page or file (with a copy in the documents folder) or a listing."""

    url: str
    entry: str = ""  # the SOURCES.yaml entry it came from (its own url, a sitemap, a start page)
    listing: bool = False  # a sitemap or a start page's links: discovery, not a document
    file: str = ""  # the last good copy, relative to the documents folder ("" = none)
    final_url: str = ""  # where the content was found after redirects: the citation link
    etag: str = ""
    last_modified: str = ""
    content_hash: str = ""  # of the extracted text: a page whose markup alone changed is unchanged
    text_chars: int = 0
    title: str = ""
    date: str = ""  # the page's own publication date (its metadata), ISO
    updated: str = ""  # the page's own "last updated" date, ISO
    links: list[str] = field(default_factory=list)  # a followed page's links, for 304s
    last_fetched: str = ""  # the last time the server answered usefully (200 or 304)
    last_changed: str = ""  # the last time the copy changed
    last_failed: str = ""
    failure: str = ""  # why the last fetch failed ("" = it did not)
    failing_since: str = ""
    missing: int = 0  # fetches in a row that found it gone (404/410, or no longer listed)
    suspect_hash: str = ""  # a much shorter version held back, and how many fetches saw it
    suspect_count: int = 0

    def succeeded(self, at: str) -> None:
        self.last_fetched = at
        self.failure = self.failing_since = ""
        self.missing = 0

    def failed(self, why: str, at: str) -> None:
        self.last_failed = at
        self.failure = why
        self.failing_since = self.failing_since or at

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceState:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def state_path(web_dir: Path) -> Path:
    return web_dir / STATE_NAME


def load_state(web_dir: Path) -> dict[str, SourceState]:
    """Every known address by url; {} before the first fetch (or for an unreadable file)."""
    try:
        data = json.loads(state_path(web_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    items = data.get("sources", []) if isinstance(data, dict) else []
    states = [SourceState.from_json(item) for item in items if isinstance(item, dict)]
    return {s.url: s for s in states if s.url}


def save_state(web_dir: Path, states: dict[str, SourceState], at: str = "") -> None:
    web_dir.mkdir(parents=True, exist_ok=True)
    path = state_path(web_dir)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    payload = {"saved_at": at or now_iso(), "sources": [asdict(s) for s in states.values()]}
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
