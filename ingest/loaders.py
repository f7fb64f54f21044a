"""Files to text: one loader per format, each returning the text page by page."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

# Larger files are refused rather than read into memory: no corpus document is this big.
MAX_FILE_BYTES = 50 * 1024 * 1024


class LoadError(ValueError):
    """A file that cannot be turned into text; the message is one line for the user."""


@dataclass(frozen=True)
class Page:
    """Text of one page (PDF) or of the whole document (page None)."""

    text: str
    number: int | None = None


@dataclass(frozen=True)
class Loaded:
    """What a loader read from a file."""

    pages: list[Page]
    format: str
    # The date the file's own metadata gives (HTML meta tags, PDF creation, DOCX created).
    published: date | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.pages)


def load_text(path: Path) -> Loaded:
    return Loaded([Page(decode_text(path.read_bytes(), path))], "text")


def load_markdown(path: Path) -> Loaded:
    text = decode_text(path.read_bytes(), path)
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.DOTALL)  # YAML front matter
    return Loaded([Page(text)], "markdown")


def decode_text(data: bytes, path: Path) -> str:
    """Bytes of a text file to str: UTF-8 when it is, else the detected legacy encoding."""
    if not data.strip():
        raise LoadError("empty file")
    if _looks_binary(data):
        raise LoadError(f"not a text file (binary content in a {path.suffix or 'nameless'} file)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # UTF-8 with a stray bad byte or two (a bad copy-paste) is still UTF-8: reading it as
    # Windows-1252 would garble every æ, ø and å in it.
    lenient = data.decode("utf-8-sig", errors="replace")
    bad = lenient.count("\ufffd")
    if bad <= max(2, len(lenient) // 2000) and any(
        ord(ch) > 127 and ch != "\ufffd" for ch in lenient
    ):
        return lenient
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["cp1252", "latin_1", "iso8859_15", "utf_16", "cp850"])
    match = best.best()
    if match is None:
        raise LoadError("text in an unknown encoding")
    # Norwegian text from Windows is cp1252 nearly always; latin-1 differs only in 0x80-0x9F,
    # where cp1252 has the typographic quotes and dashes these documents use.
    encoding = "cp1252" if match.encoding in ("latin_1", "iso8859_15") else match.encoding
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return str(match)


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 with a byte-order mark
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return control > len(head) * 0.05


def load_pdf(path: Path) -> Loaded:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as exc:  # pypdf raises several types for unsupported ciphers
                raise LoadError("encrypted PDF (password protected)") from exc
            if not ok:
                raise LoadError("encrypted PDF (password protected)")
        pages = [
            Page(page.extract_text() or "", number) for number, page in enumerate(reader.pages, 1)
        ]
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise LoadError(f"corrupt or unreadable PDF: {_one_line(exc)}") from exc
    if not any(p.text.strip() for p in pages):
        raise LoadError("PDF has no text layer (scanned images need OCR first)")
    created = None
    try:
        created = _as_date(reader.metadata.creation_date if reader.metadata else None)
    except Exception:  # malformed date strings are common in PDF metadata
        created = None
    return Loaded(pages, "pdf", created)


def load_docx(path: Path) -> Loaded:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise LoadError(f"corrupt or unreadable DOCX: {_one_line(exc)}") from exc
    except Exception as exc:  # zipfile.BadZipFile and lxml errors for damaged packages
        raise LoadError(f"corrupt or unreadable DOCX: {_one_line(exc)}") from exc
    lines: list[str] = []
    for block in _docx_blocks(document):
        lines.append(block)
    text = "\n".join(lines).strip()
    if not text:
        raise LoadError("empty document")
    created = _as_date(document.core_properties.created)
    if created == _DOCX_TEMPLATE_DATE:
        created = None  # python-docx's blank template, not the author's date
    return Loaded([Page(text)], "docx", created)


def _docx_blocks(document: object) -> list[str]:
    """Paragraphs and tables in document order, headings as Markdown '#', lists as '- '."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out: list[str] = []
    for item in document.iter_inner_content():  # type: ignore[attr-defined]
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            level = _heading_level(style)
            if level:
                out.extend(["", "#" * level + " " + text, ""])
            elif "List" in style or _is_numbered(item):
                out.append("- " + text)
            else:
                out.extend([text, ""])
        elif isinstance(item, Table):
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = " ".join(cell.text.split())
                    if value and (not cells or cells[-1] != value):  # merged cells repeat
                        cells.append(value)
                if cells:
                    out.append("- " + " | ".join(cells))
            out.append("")
    return out


def _is_numbered(paragraph: Any) -> bool:
    """A list item made with Word's numbering rather than a list style."""
    props = paragraph._p.pPr
    return props is not None and props.numPr is not None


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    m = re.fullmatch(r"(?:Heading|Overskrift)\s*(\d)", style)
    return min(int(m.group(1)), 6) if m else 0


def load_html(path: Path) -> Loaded:
    import trafilatura

    raw = path.read_bytes()
    if not raw.strip():
        raise LoadError("empty file")
    html = decode_text(raw, path)
    text = trafilatura.extract(
        html,
        output_format="markdown",
        include_comments=False,
        include_tables=True,
        include_links=False,
        favor_recall=True,
    )
    if not text or not text.strip():
        raise LoadError("no main text found in the HTML page")
    title = ""
    meta = trafilatura.extract_metadata(html)
    if meta is not None and meta.title:
        title = meta.title.strip()
    if title and not text.lstrip().startswith("#") and title not in text[:300]:
        text = f"# {title}\n\n{text}"
    published = None
    if meta is not None and meta.date:
        try:
            published = date.fromisoformat(str(meta.date)[:10])
        except ValueError:
            published = None
    return Loaded([Page(text)], "html", published)


_DOCX_TEMPLATE_DATE = date(2013, 12, 23)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date) or not 1980 <= value.year <= date.today().year + 1:
        return None
    return value


LOADERS: dict[str, Callable[[Path], Loaded]] = {
    ".txt": load_text,
    ".text": load_text,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".html": load_html,
    ".htm": load_html,
}


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in LOADERS


def load(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Loaded:
    """Read a supported file; `LoadError` with a one-line reason otherwise."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(f"unsupported file type {path.suffix or '(none)'}")
    size = path.stat().st_size
    if size == 0:
        raise LoadError("empty file")
    if size > max_bytes:
        raise LoadError(
            f"file too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB, "
            "HFBOT_MAX_FILE_MB)"
        )
    try:
        loaded = loader(path)
    except LoadError:
        raise
    except Exception as exc:  # a parser failing in an unforeseen way is still one bad file
        raise LoadError(f"cannot read {path.suffix} file: {_one_line(exc)}") from exc
    if not any(p.text.strip() for p in loaded.pages):
        raise LoadError("no text in file")
    return loaded


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
