"""Document metadata: the hand-edited corpus/MANIFEST.yaml, or what a file says about itself."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from ingest.models import FILE_DATE, DocumentMeta

MANIFEST_NAME = "MANIFEST.yaml"
_FIELDS = {"file", "title", "kind", "author", "date", "date_approximate", "updated", "url", "notes"}
# The date a file's server gives (HTTP Last-Modified, written by `hfbot fetch`): approximate,
# used only when nothing else dates the document, and never makes it the newest.
_FIELDS.add("file_date")


class ManifestError(ValueError):
    """The manifest cannot be read; the message says where and why."""


@dataclass(frozen=True)
class ManifestEntry:
    """One hand-written entry; fields left out are derived from the file."""

    file: str
    fields: dict[str, Any]

    def fingerprint(self) -> str:
        blob = json.dumps(self.fields, sort_keys=True, default=str)
        return "manifest:" + hashlib.sha256(blob.encode()).hexdigest()[:16]


def read_manifest(folder: Path) -> dict[str, ManifestEntry]:
    """Entries of `folder/MANIFEST.yaml` by the file path they name (relative to the folder)."""
    path = folder / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" (line {mark.line + 1}, column {mark.column + 1})"
        raise ManifestError(f"{path}: not valid YAML{where}: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, list):
        raise ManifestError(f"{path}: expected a list of entries, each with a 'file' field")
    entries: dict[str, ManifestEntry] = {}
    for n, item in enumerate(data, start=1):
        if not isinstance(item, dict) or not item.get("file"):
            raise ManifestError(f"{path}: entry {n} has no 'file' field")
        unknown = set(item) - _FIELDS
        if unknown:
            raise ManifestError(
                f"{path}: entry {n} ({item['file']}) has unknown field(s) {sorted(unknown)}; "
                f"known fields: {sorted(_FIELDS)}"
            )
        fields = dict(item)
        for key in ("date", "updated", "file_date"):
            if fields.get(key) not in (None, ""):
                try:
                    fields[key] = _as_date(fields[key])
                except ValueError as exc:
                    raise ManifestError(
                        f"{path}: entry {n} ({item['file']}): {key} {fields[key]!r} is not a "
                        "date (use YYYY-MM-DD)"
                    ) from exc
        file = str(item["file"]).replace("\\", "/").strip("/")
        if file in entries:
            raise ManifestError(f"{path}: {file} is listed twice")
        entries[file] = ManifestEntry(file=file, fields=fields)
    return entries


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


# ---- metadata derived from the text ----------------------------------------------------------

_MONTHS = {
    "januar": 1,
    "februar": 2,
    "mars": 3,
    "april": 4,
    "mai": 5,
    "juni": 6,
    "juli": 7,
    "august": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "desember": 12,
}
_NUMERIC = r"(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})"
_WORDY = r"(\d{1,2})\.\s*(" + "|".join(_MONTHS) + r")\s+(\d{4})"
_ISO = r"(\d{4})-(\d{2})-(\d{2})"
_PUBLISHED = re.compile(r"\b(?:publisert|dato|skrevet)\b[:\s]*", re.IGNORECASE)
_UPDATED = re.compile(r"\b(?:sist\s+oppdatert|oppdatert|sist\s+endret|endret)\b[:\s]*", re.I)
_ANY_DATE = re.compile(f"{_NUMERIC}|{_WORDY}|{_ISO}", re.IGNORECASE)
_YEAR_HEADING = re.compile(r"\b(19[89]\d|20\d\d)\b")


def _date_at(text: str, pos: int) -> date | None:
    """The date written right after position `pos` (within the same line), if any."""
    line_end = text.find("\n", pos)
    m = _ANY_DATE.search(text, pos, line_end if line_end != -1 else len(text))
    if m is None or m.start() - pos > 3:
        return None
    return _parse_date_match(m)


def _parse_date_match(m: re.Match[str]) -> date | None:
    g = m.groups()
    try:
        if g[0]:
            return date(int(g[2]), int(g[1]), int(g[0]))
        if g[3]:
            return date(int(g[5]), _MONTHS[g[4].lower()], int(g[3]))
        return date(int(g[6]), int(g[7]), int(g[8]))
    except ValueError:
        return None


def dates_from_text(text: str) -> tuple[date | None, date | None]:
    """(published, updated) as the text states them near its top ("Publisert 12.06.2024")."""
    head = text[:4000]
    published = updated = None
    for m in _UPDATED.finditer(head):
        updated = updated or _date_at(head, m.end())
    for m in _PUBLISHED.finditer(head):
        start = m.start()
        if head[max(0, start - 5) : start].lower().endswith("sist "):
            continue
        published = published or _date_at(head, m.end())
    if published is None:
        # A dated heading ("Referat 14. juni 2018", "Årsrapport 2024") on one of the first lines.
        for line in [x for x in head.splitlines() if x.strip()][:3]:
            m = _ANY_DATE.search(line)
            if m is not None:
                published = _parse_date_match(m)
                break
    return published, updated


def year_from_heading(text: str) -> date | None:
    """A year in one of the first lines (a dated title), as 1 January of that year."""
    for line in text.strip().splitlines()[:3]:
        m = _YEAR_HEADING.search(line)
        if m:
            return date(int(m.group(1)), 1, 1)
    return None


def latest_year(text: str, today: date | None = None) -> date | None:
    """The latest year the text mentions, up to this one, as 1 January of that year.

    A text is written no earlier than the last year it speaks of in the past; later years
    ("plan for 2035") are plans, not dates.
    """
    this_year = (today or date.today()).year
    years = [int(y) for y in _YEAR_HEADING.findall(text)]
    past = [y for y in years if y <= this_year]
    return date(max(past), 1, 1) if past else None


_RUNS_ON = {"i", "og", "av", "for", "fra", "til", "med", "på", "om", "the", "of", "and"}


def title_from_text(text: str, path: Path) -> str:
    """The first heading or first short line of the text, else the file name."""
    lines = text.splitlines()[:30]
    for n, raw in enumerate(lines):
        line = raw.strip().lstrip("#").strip().strip("*").strip()
        if not line or len(line) > 150 or line.startswith("- "):
            continue
        if sum(ch.isalpha() for ch in line) < 3:
            continue
        # A title broken over two lines ("Årsrapport for Strategisk samarbeidsutvalg i").
        following = lines[n + 1].strip() if n + 1 < len(lines) else ""
        if line.split()[-1].lower() in _RUNS_ON and following and len(following.split()) <= 8:
            return f"{line} {following}"
        return line
    return path.stem.replace("_", " ")


def build_meta(
    doc_id: str,
    path: Path,
    entry: ManifestEntry | None,
    text: str | None,
    file_date: date | None = None,
) -> DocumentMeta:
    """Metadata from the manifest entry; what the entry leaves out comes from the text or file.

    The date, strongest evidence first (`date_source`): the manifest's ("manifest"), else
    one the text states ("text"), else a year in its title or the latest year it mentions
    ("text-year"), else the file's own metadata (`file_date`: "file"), else none ("udatert").
    All but the manifest's are approximate. The file's modification time is never used: after
    a copy or a fresh clone it is today, which says nothing about the document.
    """
    fields = dict(entry.fields) if entry else {}
    title = str(fields.get("title") or "").strip()
    published = fields.get("date") or None
    updated = fields.get("updated") or None
    approximate = bool(fields.get("date_approximate", False)) if published else True
    source = "manifest" if published else ""
    if text is not None and (not title or published is None):
        if not title:
            title = title_from_text(text, path)
        if published is None:
            published, text_updated = dates_from_text(text)
            updated = updated or text_updated
            approximate = True
            source = "text" if published else ""
    if published is None and text is not None:
        # "Årsrapport 2024", or the last year the text speaks of: no better clue.
        published = year_from_heading(text) or latest_year(text)
        source = "text-year" if published else ""
    file_date = file_date or fields.get("file_date") or None
    if published is None and file_date is not None:
        published, source = file_date, FILE_DATE
    if updated is not None and published is not None and updated < published:
        updated = None  # an "update" older than the publication says nothing new
    return DocumentMeta(
        doc_id=doc_id,
        file=path.name,
        title=title or path.stem,
        kind=str(fields.get("kind") or ""),
        author=str(fields.get("author") or ""),
        date=published,
        date_approximate=approximate,
        updated=updated,
        url=str(fields.get("url") or ""),
        date_source=source,
    )
