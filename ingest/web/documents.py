"""Fetched bytes to a document copy: its file type, its text (through the ingest loaders), its
own dates, whether it is a login page, and the MANIFEST.yaml that labels the copies."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from ingest.clean import clean_pages
from ingest.loaders import load
from ingest.manifest import MANIFEST_NAME

_CONTENT_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/plain": ".txt",
    "text/markdown": ".md",
}
_SUFFIXES = {".html", ".htm", ".pdf", ".docx", ".txt", ".md"}
_PASSWORD_FIELD = re.compile(rb"<input[^>]+type\s*=\s*[\"']?password", re.IGNORECASE)
_LOGIN_PATH = re.compile(r"(?:^|[/_.-])(?:login|logg-?inn|signin|sign-in|auth|sso)(?:$|[/_.?-])")


@dataclass(frozen=True)
class Copy:
    """A fetched version, read: a temporary file beside its final place, and what it says."""

    path: Path
    suffix: str
    text_hash: str
    text_chars: int
    title: str
    published: date | None
    updated: date | None


def suffix_for(content_type: str, url: str) -> str | None:
    """The file type to store the body as: the server's Content-Type, else the address's."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in _CONTENT_TYPES:
        return _CONTENT_TYPES[kind]
    suffix = Path(urlsplit(url).path).suffix.lower()
    if suffix in _SUFFIXES and kind in ("", "application/octet-stream", "binary/octet-stream"):
        return ".html" if suffix == ".htm" else suffix
    return None


def file_name(url: str, suffix: str) -> str:
    """A stable, readable copy name: `host/last-path-part-<hash>.ext`."""
    parts = urlsplit(url)
    stem = [p for p in parts.path.split("/") if p]
    slug = _slug(Path(stem[-1]).stem if stem else "index") or "index"
    digest = hashlib.sha256(url.encode()).hexdigest()[:8]
    return f"{_slug(parts.hostname or 'site')}/{slug[:60]}-{digest}{suffix}"


def read_copy(body: bytes, suffix: str, folder: Path, max_bytes: int) -> Copy:
    """Write the body to a temporary file in `folder` and read it as ingest will (LoadError when
    it cannot be read); the caller moves the file into place or deletes it."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=suffix, prefix=".fetch-", dir=folder)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        loaded = load(path, max_bytes)
        text = clean_pages(loaded.pages).text
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    published, updated = page_dates(body) if suffix == ".html" else (None, None)
    return Copy(
        path=path,
        suffix=suffix,
        text_hash=hashlib.sha256(text.encode()).hexdigest(),
        text_chars=len(text),
        title=_html_title(body) if suffix == ".html" else "",
        published=published,
        updated=updated,
    )


def page_dates(body: bytes) -> tuple[date | None, date | None]:
    """(published, updated) as the page's markup states them (meta tags, JSON-LD, <time>);
    no guessing from its free text or its address."""
    from htmldate import find_date

    found: list[date | None] = []
    for original in (True, False):
        try:
            value = find_date(
                body.decode("utf-8", errors="replace"),
                extensive_search=False,
                original_date=original,
                max_date=date.today().isoformat(),
            )
        except Exception:  # htmldate on a broken page: no date, not a failed fetch
            value = None
        found.append(date.fromisoformat(value) if value else None)
    published, updated = found
    return published, (updated if updated and published and updated > published else None)


def _html_title(body: bytes) -> str:
    import trafilatura

    meta = trafilatura.extract_metadata(body.decode("utf-8", errors="replace"), extensive=False)
    return (meta.title or "").strip() if meta is not None else ""


def looks_like_login(body: bytes, suffix: str, final_url: str) -> bool:
    """A login form, or a redirect to a login address: not the document that was asked for."""
    if _LOGIN_PATH.search(urlsplit(final_url).path.lower()):
        return True
    return suffix == ".html" and _PASSWORD_FIELD.search(body) is not None


def http_date(value: str) -> date | None:
    """A Last-Modified header as a date (None when absent or malformed)."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).date()
    except (TypeError, ValueError, IndexError):
        return None


def write_manifest(folder: Path, entries: list[dict[str, object]]) -> None:
    """The copies' MANIFEST.yaml, rewritten only when it changes (an unchanged run must leave
    the folder as it was, so the next ingest finds nothing to do)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MANIFEST_NAME
    text = "# Written by `hfbot fetch` from SOURCES.yaml: edit that file, not this one.\n"
    text += yaml.safe_dump(entries, allow_unicode=True, sort_keys=False) if entries else "[]\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    tmp = path.with_name(f".{MANIFEST_NAME}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
