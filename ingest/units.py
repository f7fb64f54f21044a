"""Split a chunk's faithful text into quotable units: sentences, bullet items and headings.

Each unit keeps the list item or heading it sits under, so "Oppstart 2021" under "FACT ung" can
be found by a question about FACT ung and shown with its parent line.
"""

from __future__ import annotations

import base64
import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^(\s*)(?:[-*•·▪◦–]|\d{1,2}[.)])\s+(.*)$")
# OCR turns bullets into "e", "¢" or "o"; trusted only when a neighbouring line looks the same.
_OCR_BULLET = re.compile(r"^(\s*)(?:[e¢o])\s+(\S.*)$")
_SENTENCE_END = re.compile(r"(?<=[.!?»”])\s+(?=[«\"(A-ZÆØÅ0-9])")
_ABBREVIATION_END = re.compile(
    r"(?:\b(?:St|Adm|dir|ca|nr|bl\.a|f\.eks|jf|mv|pr|kl|Dr|dvs|inkl|evt|tlf)\.|\b\d{1,2}\.)$",
    re.IGNORECASE,
)
_EMPHASIS = re.compile(r"\*\*|__")
# A Markdown table: "| a | b |" rows under a header row, "|---|---|" between them.
_TABLE_ROW = re.compile(r"^\s*\|.*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|[\s:|-]*-[\s:|-]*\|\s*$")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Unit:
    """One quotable piece of a chunk."""

    text: str  # the source's words, whitespace normalised, emphasis markers dropped
    kind: str  # "sentence", "item" or "heading"
    position: int  # order within the chunk
    depth: int = 0  # list nesting: 0 for top-level items and prose
    parent: int | None = None  # position of the item or list intro this one sits under
    heading: str = ""  # the headings above it within the chunk, " > "-joined

    @property
    def is_list_intro(self) -> bool:
        return self.text.endswith(":")


def clean(text: str) -> str:
    """Normalise whitespace and drop Markdown emphasis: the words stay exactly the source's."""
    return _SPACES.sub(" ", _EMPHASIS.sub("", text)).strip()


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of one paragraph, not split after common abbreviations or ordinals."""
    parts: list[str] = []
    for piece in _SENTENCE_END.split(paragraph):
        if parts and _ABBREVIATION_END.search(parts[-1]):
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return [p for p in (clean(p) for p in parts) if p]


def _bullet(lines: list[str], i: int) -> re.Match[str] | None:
    match = _BULLET.match(lines[i])
    if match:
        return match
    match = _OCR_BULLET.match(lines[i])
    if match is None:
        return None
    neighbours = [lines[j] for j in (i - 1, i + 1) if 0 <= j < len(lines) and lines[j].strip()]
    if any(_BULLET.match(n) or _OCR_BULLET.match(n) for n in neighbours):
        return match
    return None


def split_units(text: str, headings: Sequence[str] = ()) -> list[Unit]:
    """The units of a chunk's text in reading order.

    `headings` are lines known to be headings (the chunk's heading path from ingest): plain-text
    documents carry their headings as ordinary lines.
    """
    known = {clean(h).lower() for h in headings if h.strip()}
    lines = text.splitlines()
    units: list[Unit] = []
    heading = ""
    headings: list[tuple[int, str]] = []  # (level, title) of the open Markdown headings
    stack: list[tuple[int, int]] = []  # (indent, position) of open list items
    intro: int | None = None  # the prose line that introduces the list below it
    paragraph: list[str] = []

    def add(text_: str, kind: str, depth: int = 0, parent: int | None = None) -> int:
        units.append(Unit(text_, kind, len(units), depth, parent, heading))
        return len(units) - 1

    def flush() -> None:
        nonlocal intro
        if not paragraph:
            return
        joined = " ".join(line.strip() for line in paragraph)
        paragraph.clear()
        for sentence in split_sentences(joined):
            intro = add(sentence, "sentence")

    table_header: int | None = None  # the header row of the table being read
    for i, line in enumerate(lines):
        if _TABLE_ROW.match(line):
            # A row answers with its header: the row is an item under the header row, so
            # "23. mai" is found by a question about "partnarskapsmøtet" (a column name).
            flush()
            stack.clear()
            if not _TABLE_RULE.match(line):
                row = clean(line)
                if table_header is None:
                    table_header = add(row, "item")
                else:
                    add(row, "item", depth=1, parent=table_header)
            continue
        table_header = None
        if not line.strip():
            flush()
            continue
        head = _HEADING.match(line)
        if head is None and known and clean(line).lower() in known:
            head = _HEADING.match(f"### {line.strip()}")
        if head:
            flush()
            stack.clear()
            level, title = len(head.group(1)), clean(head.group(2))
            if title:
                while headings and headings[-1][0] >= level:
                    headings.pop()
                heading = " > ".join(t for _, t in headings)
                intro = add(title, "heading")
                headings.append((level, title))
                heading = " > ".join(t for _, t in headings)
            continue
        bullet = _bullet(lines, i)
        if bullet:
            flush()
            indent = len(bullet.group(1).expandtabs(4))
            body = clean(bullet.group(2))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            parent = stack[-1][1] if stack else intro
            if not body:
                continue
            pos = add(body, "item", depth=len(stack), parent=parent)
            stack.append((indent, pos))
            continue
        if stack and line.startswith((" ", "\t")) and not paragraph:
            # A wrapped continuation of the list item above it.
            last = units[stack[-1][1]]
            units[last.position] = Unit(
                clean(f"{last.text} {line}"),
                last.kind,
                last.position,
                last.depth,
                last.parent,
                last.heading,
            )
            continue
        stack.clear()
        paragraph.append(line)
    flush()
    return units


def heading_lines(heading_path: str) -> list[str]:
    """The separate headings of an ingest heading path ("A > B")."""
    return [part.strip() for part in heading_path.split(" > ") if part.strip()]


def search_units(text: str, search_text: str, headings: Sequence[str] = ()) -> list[str]:
    """For each unit of `text`, the same stretch of the repaired `search_text` (or itself).

    Ingest repairs OCR damage ("mgter" → "møter") in the search text only, and may lead it with
    the heading. Matching a question against the repaired words while quoting the faithful ones
    needs the two aligned: a character alignment of the two texts maps each unit across.
    """
    plain = [u.text for u in split_units(text, headings)]
    if not search_text or search_text == text:
        return plain
    text_lines, search_lines = text.strip().splitlines(), search_text.strip().splitlines()
    if len(search_lines) == len(text_lines) + 1:
        search_text = "\n".join(search_lines[1:])  # ingest led the search text with the heading
    # Word-level alignment: repairs replace words, so words are the natural unit (and fast).
    faithful, repaired = clean(text).split(" "), clean(search_text).split(" ")
    opcodes = difflib.SequenceMatcher(None, faithful, repaired, autojunk=False).get_opcodes()

    def across(pos: int) -> int:
        for _tag, i1, i2, j1, j2 in opcodes:
            if i1 <= pos < i2 or (pos == i2 == len(faithful)):
                return j1 + round((pos - i1) * (j2 - j1) / max(1, i2 - i1))
        return len(repaired)

    out: list[str] = []
    cursor = 0
    for unit in plain:
        words = unit.split(" ")
        start = _find_run(faithful, words, cursor)
        if start < 0:
            out.append(unit)
            continue
        cursor = start + len(words)
        out.append(" ".join(repaired[across(start) : across(cursor)]) or unit)
    return out


def _find_run(haystack: list[str], needle: list[str], start: int) -> int:
    """Index of the first run of `needle` in `haystack` at or after `start`, else -1."""
    n = len(needle)
    for i in range(start, len(haystack) - n + 1):
        if haystack[i : i + n] == needle:
            return i
    return -1


# ---- unit vectors: each unit embedded at ingest, stored with its chunk --------------------------
# The answer step reads how close each sentence is to the question. Embedding the units of the
# retrieved chunks per question would cost tens of query encodes, so they are embedded once, at
# ingest, and travel in the chunk's metadata: written and published with the chunk (never half
# there), read back with it. int8 keeps a unit at 4/3 × dims bytes of base64 (512 for e5-small).
UNIT_VECTORS_KEY = "unit_vectors"


def unit_texts(text: str, search_text: str, heading_path: str) -> list[str]:
    """What is embedded for each unit of a chunk: its repaired (search) text, in unit order."""
    return search_units(text, search_text, heading_lines(heading_path))


def encode_vectors(vectors: Sequence[Sequence[float]]) -> str:
    """Unit vectors as one base64 string of int8 rows (each row scaled to its largest value)."""
    if not len(vectors):
        return ""
    matrix = np.asarray(vectors, dtype=np.float32)
    peak = np.abs(matrix).max(axis=1, keepdims=True)
    scaled = np.round(matrix / np.where(peak > 0, peak, 1.0) * 127).astype(np.int8)
    return base64.b64encode(scaled.tobytes()).decode("ascii")


def decode_vectors(encoded: str, count: int, dims: int) -> np.ndarray | None:
    """The `count` unit vectors of `dims` values, unit length; None when they are missing or do
    not fit (a chunk stored by an older ingest or another model, or split differently)."""
    if not encoded or count <= 0:
        return None
    raw = np.frombuffer(base64.b64decode(encoded), dtype=np.int8)
    if raw.size != count * dims:
        return None
    matrix = raw.reshape(count, dims).astype(np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)
