"""`hfbot fetch`: bring the copies of the listed web sources up to date, losing nothing.

A source that times out, answers 5xx or cannot be reached keeps its last good copy, and the
state says since when it fails. A 404/410 removes a copy only after several fetches in a row.
A version much shorter than the last one (an error or login page served as 200) is held back.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock, Timeout

from ingest.loaders import LoadError
from ingest.web.discover import DOCUMENT_SUFFIXES, follows, page_links, sitemap_urls
from ingest.web.documents import (
    file_name,
    http_date,
    looks_like_login,
    read_copy,
    suffix_for,
    write_manifest,
)
from ingest.web.http import FetchError, PoliteClient
from ingest.web.sources import SourceEntry, read_sources
from ingest.web.state import SourceState, load_state, now_iso, save_state

if TYPE_CHECKING:
    import httpx

    from hfbot.settings import Settings

log = logging.getLogger(__name__)

DOCUMENTS = "documents"
# Below this many characters a page is too short to judge a shrink by.
_SHRINK_FLOOR = 200
_NESTED_SITEMAPS = 20


class FetchBusy(RuntimeError):
    """Another fetch of the same web folder is running."""


@dataclass
class FetchReport:
    """What a fetch did, address by address."""

    sources: int = 0  # entries in the source list
    asked: int = 0  # addresses requested
    unchanged: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        lines = [
            f"Fetched {self.asked} addresses from {self.sources} sources: {len(self.added)} added, "
            f"{len(self.updated)} updated, {len(self.removed)} removed, {self.unchanged} "
            f"unchanged, {len(self.failed)} failed."
        ]
        lines += [f"  added    {url}" for url in self.added]
        lines += [f"  updated  {url}" for url in self.updated]
        lines += [f"  removed  {url}" for url in self.removed]
        lines += [f"  FAILED   {f['url']}: {f['error']}" for f in self.failed]
        lines += [f"  warning  {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "sources": self.sources,
            "asked": self.asked,
            "unchanged": self.unchanged,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "failed": self.failed,
            "warnings": self.warnings,
        }


def documents_dir(settings: Settings) -> Path:
    return settings.web_dir / DOCUMENTS


def run_fetch(settings: Settings, transport: httpx.BaseTransport | None = None) -> FetchReport:
    """Fetch every listed source into the web folder; the store is not touched (ingest is)."""
    path = settings.resolved_sources_file
    report = FetchReport()
    if not path.exists():
        # A mistyped HFBOT_SOURCES_FILE must not read as "every source was removed".
        report.warnings.append(f"no source list at {path}: nothing fetched, nothing removed")
        return report
    entries = read_sources(path)
    report.sources = len(entries)
    web = settings.web_dir
    web.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(web / "fetch.lock"))
    try:
        lock.acquire(timeout=settings.ingest_lock_timeout_s)
    except Timeout:
        raise FetchBusy(f"another fetch is running (lock {lock.lock_file})") from None
    try:
        states = load_state(web)
        with PoliteClient(settings, transport) as http:
            run = _Run(settings, states, http, report)
            for entry in entries:
                run.entry(entry)
            run.forget_unlisted(entries)
        write_manifest(documents_dir(settings), _manifest(states, entries))
        save_state(web, states)
    finally:
        lock.release()
    return report


class _Run:
    def __init__(
        self,
        settings: Settings,
        states: dict[str, SourceState],
        http: PoliteClient,
        report: FetchReport,
    ) -> None:
        self.settings = settings
        self.states = states
        self.http = http
        self.report = report
        self.docs = documents_dir(settings)
        self.tmp = settings.web_dir / "tmp"
        self.now = now_iso()
        self.remove_after = settings.sources_remove_after

    # ---- entries ---------------------------------------------------------------------------

    def entry(self, entry: SourceEntry) -> None:
        if entry.sitemap:
            self._sitemap(entry)
        elif entry.follow:
            self._follow(entry)
        else:
            self._page(entry.url, entry)

    def _sitemap(self, entry: SourceEntry) -> None:
        listing = self._state(entry.url, entry, listing=True)
        try:
            got = self.http.get(entry.url, listing.etag, listing.last_modified)
            self.report.asked += 1
            if got.status == 304:
                pages = list(listing.links)
            elif got.status != 200:
                raise FetchError(f"the server answered HTTP {got.status}")
            else:
                pages, nested = sitemap_urls(got.body)
                for url in nested[:_NESTED_SITEMAPS]:
                    if len(pages) >= entry.max_pages:
                        break
                    inner = self.http.get(url)
                    if inner.status != 200:
                        raise FetchError(f"{url}: the server answered HTTP {inner.status}")
                    pages += sitemap_urls(inner.body)[0]
                if not pages:
                    raise FetchError("the sitemap lists no pages")
                listing.etag = got.headers.get("ETag", "")
                listing.last_modified = got.headers.get("Last-Modified", "")
        except FetchError as exc:
            # The pages found last time are still fetched; none counts as gone.
            self._fail(listing, f"sitemap: {exc}")
            for url in listing.links:
                self._page(url, entry)
            return
        listing.links = list(dict.fromkeys(pages))[: entry.max_pages]
        listing.succeeded(self.now)
        failures = len(self.report.failed)
        for url in listing.links:
            self._page(url, entry)
        self._not_found_again(entry, set(listing.links), complete=True, failures=failures)

    def _follow(self, entry: SourceEntry) -> None:
        failures = len(self.report.failed)
        queue: deque[tuple[str, int]] = deque([(entry.url, 0)])
        seen = {entry.url}
        reached: set[str] = set()
        while queue and len(reached) < entry.max_pages:
            url, depth = queue.popleft()
            reached.add(url)
            links = self._page(url, entry)
            if depth >= entry.depth or url.lower().endswith(DOCUMENT_SUFFIXES):
                continue
            for link in links:
                if link not in seen and follows(link, entry.follow, entry.url):
                    seen.add(link)
                    queue.append((link, depth + 1))
        self._not_found_again(entry, reached, complete=not queue, failures=failures)

    def _not_found_again(
        self, entry: SourceEntry, found: set[str], *, complete: bool, failures: int
    ) -> None:
        """Pages an entry led to before and not this time count as gone once, but only after a
        discovery in which nothing failed (a failed page hides the links it would have given)."""
        if len(self.report.failed) > failures:
            return
        for state in list(self.states.values()):
            if state.entry != entry.url or state.listing or state.url in found:
                continue
            if not state.file:
                del self.states[state.url]
            elif complete:
                self._missing(state, "no longer linked or listed")

    # ---- one address -----------------------------------------------------------------------

    def _page(self, url: str, entry: SourceEntry) -> list[str]:
        """Fetch one page or file; the links of the page (as last seen, when not fetched now)."""
        state = self._state(url, entry)
        has_copy = bool(state.file) and (self.docs / state.file).is_file()
        try:
            got = self.http.get(
                url,
                state.etag if has_copy else "",
                state.last_modified if has_copy else "",
            )
        except FetchError as exc:
            self._fail(state, str(exc))
            return state.links
        self.report.asked += 1
        if got.status == 304 and has_copy:
            state.succeeded(self.now)
            self.report.unchanged += 1
            return state.links
        if got.status in (404, 410):
            self._missing(state, f"HTTP {got.status}")
            return []
        if got.status != 200:
            self._fail(state, f"the server answered HTTP {got.status}")
            return state.links
        suffix = suffix_for(got.headers.get("Content-Type", ""), got.url)
        if suffix is None:
            kind = got.headers.get("Content-Type", "no Content-Type")
            self._fail(state, f"not a page or document hfbot reads ({kind})")
            return state.links
        links = page_links(got.body, got.url) if suffix == ".html" else []
        if looks_like_login(got.body, suffix, got.url):
            self._fail(state, "the server sent a login page; the last good copy is kept")
            return state.links
        try:
            copy = read_copy(got.body, suffix, self.tmp, int(self.settings.max_file_mb * 1e6))
        except LoadError as exc:
            self._fail(state, f"cannot read it: {exc}")
            return state.links
        validators = (got.headers.get("ETag", ""), got.headers.get("Last-Modified", ""))
        if has_copy and copy.text_hash == state.content_hash:
            copy.path.unlink(missing_ok=True)  # only the markup around the text changed
            state.etag, state.last_modified = validators
            state.links = links
            state.suspect_hash, state.suspect_count = "", 0
            state.succeeded(self.now)
            self.report.unchanged += 1
            return links
        if has_copy and self._shrank(state, copy.text_hash, copy.text_chars):
            copy.path.unlink(missing_ok=True)
            state.etag = state.last_modified = ""  # ask for the whole page next time
            self._fail(
                state,
                f"the page shrank from {state.text_chars} to {copy.text_chars} characters "
                "(an error or login page?); the last good copy is kept "
                f"({state.suspect_count} of {self.remove_after} fetches before it is taken)",
            )
            return state.links
        target = file_name(url, copy.suffix)
        if state.file and state.file != target:
            (self.docs / state.file).unlink(missing_ok=True)  # the type changed (HTML to PDF)
        (self.docs / target).parent.mkdir(parents=True, exist_ok=True)
        copy.path.replace(self.docs / target)
        (self.report.updated if state.file else self.report.added).append(url)
        state.file, state.final_url = target, got.url
        state.etag, state.last_modified = validators
        state.content_hash, state.text_chars, state.title = (
            copy.text_hash,
            copy.text_chars,
            copy.title,
        )
        state.date = copy.published.isoformat() if copy.published else ""
        state.updated = copy.updated.isoformat() if copy.updated else ""
        state.links = links
        state.suspect_hash, state.suspect_count = "", 0
        state.last_changed = self.now
        state.succeeded(self.now)
        return links

    def _shrank(self, state: SourceState, text_hash: str, chars: int) -> bool:
        """Whether a much shorter version is held back; the same one seen on enough fetches
        in a row is taken after all (the page really was cut)."""
        if state.text_chars < _SHRINK_FLOOR:
            return False
        if chars >= state.text_chars * self.settings.sources_shrink_limit:
            return False
        if state.suspect_hash == text_hash:
            state.suspect_count += 1
        else:
            state.suspect_hash, state.suspect_count = text_hash, 1
        return state.suspect_count < self.remove_after

    def _missing(self, state: SourceState, why: str) -> None:
        state.missing += 1
        state.etag = state.last_modified = ""
        if state.file and state.missing >= self.remove_after:
            (self.docs / state.file).unlink(missing_ok=True)
            state.file = state.content_hash = ""
            self.report.removed.append(state.url)
            self._fail(state, f"{why}: gone on {state.missing} fetches in a row; removed")
            return
        left = f"; removed after {self.remove_after}" if state.file else ""
        self._fail(state, f"{why}: gone on {state.missing} fetch(es) in a row{left}")

    def _fail(self, state: SourceState, why: str) -> None:
        state.failed(why, self.now)
        self.report.failed.append({"url": state.url, "error": why})
        log.info("fetch %s: %s", state.url, why)

    def _state(self, url: str, entry: SourceEntry, listing: bool = False) -> SourceState:
        state = self.states.get(url)
        if state is None:
            state = self.states[url] = SourceState(url=url)
        state.entry, state.listing = entry.url, listing
        return state

    def forget_unlisted(self, entries: list[SourceEntry]) -> None:
        """Addresses whose entry left the source list go at once: the secretariat removed it."""
        listed = {e.url for e in entries}
        for state in list(self.states.values()):
            if state.entry in listed:
                continue
            if state.file:
                (self.docs / state.file).unlink(missing_ok=True)
                self.report.removed.append(state.url)
            del self.states[state.url]


def _manifest(states: dict[str, SourceState], entries: list[SourceEntry]) -> list[dict[str, Any]]:
    """A MANIFEST.yaml entry per copy: its link, title, kind and the dates that can be trusted.

    The source list's date wins, then the page's own (its metadata); without either, ingest
    reads a "Publisert"/"Sist oppdatert" line or a year from the text. The server's
    Last-Modified goes in `file_date`: a last resort, approximate, and never the newest.
    """
    by_url = {e.url: e for e in entries}
    out: list[dict[str, Any]] = []
    for state in sorted(states.values(), key=lambda s: s.file):
        if not state.file or state.listing:
            continue
        entry = by_url.get(state.entry)
        own = entry is not None and entry.url == state.url and not entry.sitemap
        item: dict[str, Any] = {"file": state.file, "url": state.final_url or state.url}
        title = (entry.title if own and entry else "") or state.title
        if title:
            item["title"] = title
        for key in ("kind", "author"):
            value = getattr(entry, key, "") if entry else ""
            if value:
                item[key] = value
        published = (entry.date if own and entry else None) or _iso(state.date)
        updated = (entry.updated if own and entry else None) or _iso(state.updated)
        if published:
            item["date"] = published
            item["date_approximate"] = False
        if updated:
            item["updated"] = updated
        served = http_date(state.last_modified)
        if not published and served:
            item["file_date"] = served
        item["notes"] = f"fetched from {state.url}"
        out.append(item)
    return out


def _iso(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
