"""Clean text to chunks that follow the document's structure and fit the embedding model.

A chunk is a contiguous span of the clean text (so `text` is exactly what the source says),
made of whole lines: headings open sections, a bullet keeps its sub-bullets, and small
sibling sections under one heading are packed together. Every chunk's search text (heading
path plus the text, OCR-repaired when needed) fits the model's input in word pieces.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ingest.clean import CleanDoc
from ingest.models import Chunk

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)")
_BULLET = re.compile(r"^(\s*)(?:-\s|\d{1,2}[.)]\s)")
_WORD = re.compile(r"[^\W\d_]+|\d+")
_URL_LINE = re.compile(r"(?:https?://|www\.)\S+")
_TRAILING_WORDS = {"i", "og", "av", "for", "fra", "til", "med", "på", "pa", "om", "som", "the"}
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"«(]?[A-ZÆØÅ0-9])")

TokenCounter = Callable[[str], int]
Repair = Callable[[str], str]


@dataclass
class _Line:
    start: int
    end: int
    text: str
    heading_level: int = 0  # >0 for headings
    indent: int = -1  # >=0 for bullets

    @property
    def title(self) -> str:
        m = _MD_HEADING.match(self.text)
        return (m.group(2) if m else self.text).strip().strip("*").strip()


@dataclass
class _Unit:
    """Lines that stay together: a heading, a paragraph line, or a bullet with its sub-items."""

    start: int
    end: int
    path: tuple[str, ...]
    is_heading: bool = False
    tokens: int = 0
    bullet_indent: int = -1  # >=0 when the unit is a bullet item
    is_link: bool = False  # a bare URL line


@dataclass
class _Piece:
    start: int
    end: int
    path: tuple[str, ...]
    tokens: int
    whole_section: bool = True
    units: list[_Unit] = field(default_factory=list)


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    pos = 0
    for raw in text.split("\n"):
        end = pos + len(raw)
        if raw.strip():
            line = _Line(pos, end, raw)
            m = _BULLET.match(raw)
            if m:
                line.indent = len(m.group(1))
            elif _MD_HEADING.match(raw):
                line.heading_level = len(_MD_HEADING.match(raw).group(1))  # type: ignore[union-attr]
            out.append(line)
        pos = end + 1
    return out


def _is_prose(text: str) -> bool:
    words = _WORD.findall(text)
    return len(words) >= 7 or (len(words) >= 3 and text.rstrip().endswith((".", "!", "?")))


def _looks_like_title(text: str) -> bool:
    stripped = text.strip().strip("*").strip()
    words = _WORD.findall(stripped)
    if not words or len(words) > 12 or len(stripped) > 100:
        return False
    if stripped.endswith((".", ",", ";", ":")) or stripped.count(",") > 1:
        return False
    if re.search(r"\w: \w", stripped):  # "... representanter: Snorre Birk" is prose
        return False
    return stripped[:1].isupper() or stripped[:1].isdigit()


def _mark_plain_headings(text: str, lines: list[_Line]) -> None:
    """Find headings in text without markup: a short title line followed by its body."""
    has_markdown = any(line.heading_level for line in lines)
    level = 0
    for i, line in enumerate(lines):
        if line.heading_level:
            level = line.heading_level
            continue
        if line.indent >= 0 or i + 1 >= len(lines) or not _looks_like_title(line.text):
            continue
        if has_markdown and not re.fullmatch(r"\*\*[^*]+\*\*", line.text.strip()):
            continue  # a Markdown document marks its headings; only bold lines stand in
        nxt = lines[i + 1]
        starts_block = (
            i == 0
            or "\n\n" in text[lines[i - 1].end : line.start + 1]
            or bool(_URL_LINE.fullmatch(lines[i - 1].text.strip()))
        )
        if not starts_block or nxt.heading_level:
            continue
        same_block = "\n\n" not in text[line.end : nxt.start + 1]
        last_word = (_WORD.findall(line.text) or [""])[-1].lower()
        if same_block and nxt.indent < 0 and last_word in _TRAILING_WORDS:
            continue  # "... samarbeidsutvalg i" runs on into the next line
        # The body must follow at once: a bullet or a sentence, not another short line.
        if nxt.indent >= 0 or _is_prose(nxt.text):
            line.heading_level = (level + 1) if has_markdown else 1


def _units(text: str, lines: list[_Line]) -> list[_Unit]:
    path: list[tuple[int, str]] = []
    units: list[_Unit] = []
    for line in lines:
        if line.heading_level:
            while path and path[-1][0] >= line.heading_level:
                path.pop()
            path.append((line.heading_level, line.title))
            units.append(_Unit(line.start, line.end, tuple(t for _, t in path), is_heading=True))
            continue
        current = tuple(t for _, t in path)
        prev = units[-1] if units else None
        # Sub-items and continuation lines of a bullet stay with it.
        if (
            prev is not None
            and not prev.is_heading
            and prev.path == current
            and prev.bullet_indent >= 0
            and line.indent > prev.bullet_indent
        ):
            prev.end = line.end
            continue
        # Plain lines of one paragraph (no blank line between) stay together: a converter's
        # line breaks are not sentence ends.
        if (
            prev is not None
            and not prev.is_heading
            and prev.path == current
            and prev.bullet_indent < 0
            and line.indent < 0
            and not prev.is_link
            and not _URL_LINE.fullmatch(line.text.strip())
            and "\n\n" not in text[prev.end : line.start + 1]
        ):
            prev.end = line.end
            continue
        unit = _Unit(line.start, line.end, current, bullet_indent=line.indent)
        unit.is_link = bool(_URL_LINE.fullmatch(line.text.strip()))
        units.append(unit)
    return units


def _split_long(
    text: str, start: int, end: int, limit: int, count: TokenCounter, lines_first: bool
) -> list[tuple]:
    """Spans of one over-long unit, cut at line or sentence ends, else between words.

    A list item with sub-items is cut between its lines first; a paragraph between its
    sentences first (its line breaks may fall mid-sentence).
    """
    first, second = ("\n", None) if lines_first else (None, "\n")
    segments: list[tuple[int, int]] = []
    for ls, le in _cut(text, start, end, first):
        if count(text[ls:le]) <= limit:
            segments.append((ls, le))
            continue
        for ss, se in _cut(text, ls, le, second):
            if count(text[ss:se]) <= limit:
                segments.append((ss, se))
            else:
                segments.extend(_cut_words(text, ss, se, limit, count))
    # Put the segments back together in parts of about equal size, each within the limit.
    sizes = [count(text[s:e]) for s, e in segments]
    parts_needed = max(1, -(-sum(sizes) // limit))
    goal = sum(sizes) / parts_needed
    spans: list[tuple[int, int]] = []
    acc = 0
    for (s, e), size in zip(segments, sizes, strict=True):
        if spans and acc < goal and count(text[spans[-1][0] : e]) <= limit:
            spans[-1] = (spans[-1][0], e)
            acc += size
        else:
            spans.append((s, e))
            acc = size
    return spans


def _cut(text: str, start: int, end: int, sep: str | None) -> list[tuple[int, int]]:
    """Split a span at newlines (sep "\\n") or sentence ends (sep None), trimmed."""
    piece = text[start:end]
    if sep == "\n":
        marks = [start + i + 1 for i, ch in enumerate(piece) if ch == "\n"]
    else:
        marks = [start + m.end() for m in _SENTENCE_END.finditer(piece)]
    cuts = [start, *marks, end]
    out = []
    for a, b in itertools.pairwise(cuts):
        a, b = _trim(text, a, b)
        if a < b:
            out.append((a, b))
    return out


def _cut_words(
    text: str, start: int, end: int, limit: int, count: TokenCounter
) -> list[tuple[int, int]]:
    words = [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", text[start:end])]
    spans: list[tuple[int, int]] = []
    lo = 0
    while lo < len(words):
        hi = lo + 1
        step = 16
        while hi < len(words):
            nxt = min(len(words), hi + step)
            if count(text[words[lo][0] : words[nxt - 1][1]]) > limit:
                if step == 1:
                    break
                step = max(1, step // 2)
                continue
            hi = nxt
        spans.append((words[lo][0], words[hi - 1][1]))
        lo = hi
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _common_path(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        out.append(x)
    return tuple(out)


def chunk_document(
    doc: CleanDoc,
    doc_id: str,
    content_hash: str,
    count_tokens: TokenCounter,
    max_tokens: int = 256,
    target_tokens: int = 200,
    repair: Repair | None = None,
) -> list[Chunk]:
    """Chunks of one document version, in document order."""
    text = doc.text
    target = min(target_tokens, max_tokens)
    # The heading path is put before the text for the embedding; keep room for it.
    heading_room = 24

    def search_of(start: int, end: int) -> str:
        return repair(text[start:end]) if repair else text[start:end]

    def count(s: str) -> int:
        return count_tokens(repair(s)) if repair else count_tokens(s)

    lines = _lines(text)
    if not lines:
        return []
    _mark_plain_headings(text, lines)
    # Word pieces add up line by line, except the model's start/end markers, counted once.
    specials = count_tokens("")
    # A bare link list carries no words a question would use; it stays out of the index,
    # and no chunk spans across it.
    sections: list[list[_Unit]] = []
    gaps: list[int] = []
    after_gap = False
    for unit in _units(text, lines):
        if unit.is_link:
            gaps.append(unit.start)
            after_gap = True
            continue
        unit.tokens = max(1, count(text[unit.start : unit.end]) - specials)
        # A chunk stays on one page, so its page number is the whole truth.
        new_page = bool(sections) and doc.page_at(unit.start) != doc.page_at(sections[-1][-1].start)
        if new_page:
            gaps.append(unit.start)
        if unit.is_heading or not sections or after_gap or new_page:
            sections.append([unit])
        else:
            sections[-1].append(unit)
        after_gap = False

    pieces: list[_Piece] = []
    limit = target - heading_room
    hard_limit = max_tokens - heading_room - specials
    for section in sections:
        path = section[0].path
        total = sum(u.tokens for u in section)
        if total <= limit:
            pieces.append(_Piece(section[0].start, section[-1].end, path, total, True, section))
            continue
        # Parts of about equal size rather than full parts and a scrap at the end.
        goal = total / -(-total // limit)
        current: list[_Unit] = []
        for unit in section:
            if unit.tokens > limit:
                # Headings and lead-ins just before the long unit open its first part.
                lead = []
                while current and _leads_in(text, current[-1]):
                    lead.insert(0, current.pop())
                if current:
                    pieces.append(_pack(current, path))
                current = []
                spans = _split_long(
                    text, unit.start, unit.end, limit, count, lines_first=unit.bullet_indent >= 0
                )
                if lead:
                    spans[0] = (lead[0].start, spans[0][1])
                for s, e in spans:
                    pieces.append(_Piece(s, e, path, count(text[s:e]) - specials, False))
                continue
            held = sum(u.tokens for u in current)
            in_list = bool(current) and current[-1].bullet_indent >= 0 and unit.bullet_indent >= 0
            # A list may use the model's whole input rather than be cut in two.
            cap = hard_limit if in_list else limit
            if current and (held + unit.tokens > cap or (held >= goal and not in_list)):
                # A heading or a lead-in ("... består av:") never ends a chunk.
                carry = []
                while current and _leads_in(text, current[-1]):
                    carry.insert(0, current.pop())
                if current:
                    pieces.append(_pack(current, path))
                current = carry
            current.append(unit)
        if current:
            pieces.append(_pack(current, path))

    # Pack small sibling sections (same parent heading) into one chunk.
    packed: list[_Piece] = []
    for piece in pieces:
        prev = packed[-1] if packed else None
        siblings = bool(prev and prev.path and piece.path and prev.path[0] == piece.path[0])
        # A stray line before the first heading ("VESTRE VIKEN") joins what follows.
        preamble = bool(prev and not prev.path and prev.tokens <= 12)
        if (
            prev is not None
            and prev.whole_section
            and piece.whole_section
            and (siblings or preamble)
            and prev.tokens + piece.tokens <= limit
            and not any(prev.end <= g <= piece.start for g in gaps)
        ):
            packed[-1] = _Piece(
                prev.start,
                piece.end,
                piece.path if preamble else _common_path(prev.path, piece.path),
                prev.tokens + piece.tokens,
                True,
            )
        else:
            packed.append(piece)

    chunks: list[Chunk] = []
    for piece in packed:
        start, end = _trim(text, piece.start, piece.end)
        if start >= end:
            continue
        for s, e in _fit(text, start, end, piece.path, max_tokens, count_tokens, search_of):
            body = text[s:e]
            heading = " > ".join(piece.path)
            search = _search_text(body, piece.path, search_of(s, e))
            page = doc.page_at(s)
            last_page = doc.page_at(e - 1)
            extra: dict[str, str | int | float | bool] = {}
            if last_page is not None and page is not None and last_page != page:
                extra["page_end"] = last_page
            chunks.append(
                Chunk(
                    doc_id=doc_id,
                    content_hash=content_hash,
                    index=len(chunks),
                    text=body,
                    heading=heading,
                    page=page,
                    start=s,
                    end=e,
                    search_text=search if search != body else "",
                    extra=extra,
                )
            )
    return chunks


def _leads_in(text: str, unit: _Unit) -> bool:
    """A heading, or a line that announces what follows ("Deltagere:", "... består av:")."""
    return unit.is_heading or text[unit.start : unit.end].rstrip().endswith(":")


def _pack(units: list[_Unit], path: tuple[str, ...]) -> _Piece:
    return _Piece(units[0].start, units[-1].end, path, sum(u.tokens for u in units), False, units)


def _search_text(body: str, path: tuple[str, ...], repaired: str) -> str:
    """What is embedded and indexed: the heading path (unless the chunk opens with it) + text."""
    if not path:
        return repaired
    first_line = body.split("\n", 1)[0].lstrip("#").strip().strip("*").strip()
    prefix = [p for p in path if p != first_line]
    if not prefix:
        return repaired
    return " > ".join(prefix) + "\n" + repaired


def _fit(
    text: str,
    start: int,
    end: int,
    path: tuple[str, ...],
    max_tokens: int,
    count_tokens: TokenCounter,
    search_of: Callable[[int, int], str],
) -> list[tuple[int, int]]:
    """Split a span at line (else word) boundaries until each part's search text fits."""
    search = _search_text(text[start:end], path, search_of(start, end))
    if count_tokens(search) <= max_tokens:
        return [(start, end)]
    body = text[start:end]
    breaks = [start + i for i, ch in enumerate(body) if ch == "\n"]
    if not breaks:
        breaks = [start + m.start() for m in re.finditer(r" ", body)]
    if not breaks:
        return [(start, end)]  # one giant token run: nothing left to split at
    mid = breaks[len(breaks) // 2]
    left = _trim(text, start, mid)
    right = _trim(text, mid, end)
    out: list[tuple[int, int]] = []
    for s, e in (left, right):
        if s < e:
            out.extend(_fit(text, s, e, path, max_tokens, count_tokens, search_of))
    return out
