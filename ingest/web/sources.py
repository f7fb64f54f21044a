"""SOURCES.yaml: the list of web pages, files, sitemaps and sites to follow that hfbot fetches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from ingest.manifest import ManifestError, _as_date

_FIELDS = {"url", "title", "kind", "author", "date", "updated", "sitemap", "follow"}
_FIELDS |= {"max_pages", "depth"}
DEFAULT_MAX_PAGES = 50
DEFAULT_DEPTH = 2


class SourcesError(ManifestError):
    """The source list cannot be read; the message says where and why."""


@dataclass(frozen=True)
class SourceEntry:
    """One entry: a page or file, or a sitemap / a site section whose pages are all fetched."""

    url: str
    title: str = ""
    kind: str = ""
    author: str = ""
    date: date | None = None
    updated: date | None = None
    sitemap: bool = False  # `url` is a sitemap: every page it lists is a document
    follow: str = ""  # fetch `url` and the pages it links to under this prefix
    max_pages: int = DEFAULT_MAX_PAGES
    depth: int = DEFAULT_DEPTH

    @property
    def is_listing(self) -> bool:
        return self.sitemap or bool(self.follow)


def read_sources(path: Path) -> list[SourceEntry]:
    """The entries of the source list; [] when the file is missing or lists nothing."""
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise SourcesError(f"{path}: not valid YAML{where}: {exc}") from exc
    if data is None:
        return []
    if not isinstance(data, list):
        raise SourcesError(f"{path}: expected a list of entries, each with a 'url' field")
    entries: list[SourceEntry] = []
    seen: set[str] = set()
    for n, item in enumerate(data, start=1):
        entry = _entry(path, n, item)
        if entry.url in seen:
            raise SourcesError(f"{path}: {entry.url} is listed twice")
        seen.add(entry.url)
        entries.append(entry)
    return entries


def _entry(path: Path, n: int, item: object) -> SourceEntry:
    if not isinstance(item, dict) or not item.get("url"):
        raise SourcesError(f"{path}: entry {n} has no 'url' field")
    url = str(item["url"]).strip()
    where = f"{path}: entry {n} ({url})"
    unknown = set(item) - _FIELDS
    if unknown:
        raise SourcesError(
            f"{where} has unknown field(s) {sorted(unknown)}; known: {sorted(_FIELDS)}"
        )
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise SourcesError(f"{where}: not an http(s) address")
    dates: dict[str, date | None] = {}
    for key in ("date", "updated"):
        value = item.get(key)
        try:
            dates[key] = _as_date(value) if value not in (None, "") else None
        except ValueError as exc:
            raise SourcesError(f"{where}: {key} {value!r} is not a date (use YYYY-MM-DD)") from exc
    sitemap = item.get("sitemap", False)
    if not isinstance(sitemap, bool):
        raise SourcesError(f"{where}: sitemap is true or false")
    follow = item.get("follow") or ""
    if follow is True:
        follow = url.rsplit("/", 1)[0] + "/"  # the folder the start page lies in
    if not isinstance(follow, str):
        raise SourcesError(f"{where}: follow is a URL prefix (or true: the start page's folder)")
    if sitemap and follow:
        raise SourcesError(f"{where}: give either 'sitemap' or 'follow', not both")
    depth = item.get("depth", DEFAULT_DEPTH)
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        raise SourcesError(f"{where}: depth must be a whole number, 0 or more")
    return SourceEntry(
        url=url,
        title=str(item.get("title") or "").strip(),
        kind=str(item.get("kind") or "").strip(),
        author=str(item.get("author") or "").strip(),
        date=dates["date"],
        updated=dates["updated"],
        sitemap=sitemap,
        follow=follow.strip(),
        max_pages=_positive(where, item.get("max_pages", DEFAULT_MAX_PAGES)),
        depth=depth,
    )


def _positive(where: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise SourcesError(f"{where}: max_pages must be a whole number, 1 or more")
    return value
