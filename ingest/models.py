"""The records that flow from files to the store: document metadata and chunks."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import date

# Where a document's date comes from, strongest evidence first (see ingest.manifest.build_meta).
DATE_SOURCES = ("manifest", "text", "text-year", "file")
# A date only the file gives (its own metadata: PDF/DOCX creation, HTML meta tags) says when
# the file was made, which may be long after the document was written: never stated.
FILE_DATE = "file"


@dataclass(frozen=True)
class DocumentMeta:
    """What the manifest (or the file itself) says about one document."""

    doc_id: str  # corpus-relative posix path, e.g. "møter/referat 2024.pdf"; stable identifier
    file: str  # the file name as it stands in the corpus folder
    title: str
    kind: str = ""
    author: str = ""
    date: date | None = None
    date_approximate: bool = True
    updated: date | None = None
    url: str = ""
    # DATE_SOURCES, or "" for a store written before sources were recorded (taken as stated).
    date_source: str = ""

    @property
    def effective_date(self) -> date | None:
        """The date recency is judged by: the last update when known, else the publication date."""
        return self.updated or self.date

    @property
    def stated_date(self) -> date | None:
        """The effective date when the document (or its manifest entry) states it; None when
        only the file gives one: such a date never makes a document the newest."""
        if self.updated is not None:
            return self.updated  # an update date is always read from the manifest or the text
        return None if self.date_source == FILE_DATE else self.date

    def fingerprint(self) -> str:
        """Hash of the metadata, so a manifest-only change is detected without re-embedding."""
        return hashlib.sha256(repr(sorted(asdict(self).items())).encode()).hexdigest()[:16]

    def to_metadata(self) -> dict[str, str | int | float | bool]:
        """Flatten to Chroma-compatible metadata (no None values)."""
        return {
            "doc_id": self.doc_id,
            "file": self.file,
            "title": self.title,
            "kind": self.kind,
            "author": self.author,
            "date": self.date.isoformat() if self.date else "",
            "date_approximate": self.date_approximate,
            "updated": self.updated.isoformat() if self.updated else "",
            "url": self.url,
            "date_source": self.date_source,
        }

    @classmethod
    def from_metadata(cls, meta: dict) -> DocumentMeta:
        def _date(value: object) -> date | None:
            return date.fromisoformat(value) if isinstance(value, str) and value else None

        return cls(
            doc_id=str(meta["doc_id"]),
            file=str(meta.get("file", "")),
            title=str(meta.get("title", "")),
            kind=str(meta.get("kind", "")),
            author=str(meta.get("author", "")),
            date=_date(meta.get("date")),
            date_approximate=bool(meta.get("date_approximate", True)),
            updated=_date(meta.get("updated")),
            url=str(meta.get("url", "")),
            date_source=str(meta.get("date_source", "")),
        )


@dataclass(frozen=True)
class Chunk:
    """A passage of one document, small enough for the embedding model to see whole."""

    doc_id: str
    content_hash: str  # hash of the document's source bytes; one version of a document
    index: int  # position of the chunk within the document version
    text: str  # faithful text from the source; the only text ever quoted to users
    heading: str = ""  # heading path, " > "-joined, e.g. "Organisering på tre nivå > Nivå 2"
    page: int | None = None  # 1-based page when known (PDF)
    start: int = 0  # character offsets into the document's cleaned text
    end: int = 0
    # Text used for lexical search and embedding when it differs from `text`
    # (e.g. OCR-damaged letters repaired). Never shown or quoted.
    search_text: str = ""
    extra: dict[str, str | int | float | bool] = field(default_factory=dict)

    @property
    def chunk_id(self) -> str:
        """Deterministic id: the same document version always yields the same ids."""
        return f"{self.doc_id}::{self.content_hash[:16]}::{self.index:05d}"

    @property
    def indexed_text(self) -> str:
        return self.search_text or self.text
