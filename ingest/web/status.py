"""Each web source as the secretariat's report shows it: fetched, changed, failed and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ingest.web.state import load_state

if TYPE_CHECKING:
    from hfbot.settings import Settings


@dataclass(frozen=True)
class SourceStatus:
    url: str
    listing: bool  # a sitemap or a followed section's start, not a document itself
    has_copy: bool  # a good copy is answerable (or will be after the next ingest)
    last_fetched: str  # ISO times, "" for never
    last_changed: str
    last_failed: str
    failure: str  # why the last fetch failed; "" when it did not
    failing_since: str
    missing: int  # fetches in a row that found it gone

    @property
    def gone(self) -> bool:
        return self.missing > 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def source_statuses(settings: Settings) -> list[SourceStatus]:
    """Every known address, the troubled first: gone ones (soon removed), then failing ones,
    then the rest by address."""
    lines = [
        SourceStatus(
            url=s.url,
            listing=s.listing,
            has_copy=bool(s.file),
            last_fetched=s.last_fetched,
            last_changed=s.last_changed,
            last_failed=s.last_failed,
            failure=s.failure,
            failing_since=s.failing_since,
            missing=s.missing,
        )
        for s in load_state(settings.web_dir).values()
    ]
    return sorted(lines, key=lambda s: (not s.gone, not s.failure, s.url))
