"""Loaded text to clean text: Unicode and whitespace normalised, bullets marked, boilerplate gone.

Cleaning never adds words: it normalises characters and whitespace, marks list bullets as
"- ", unwraps lines a converter hard-wrapped mid-sentence, and drops navigation, page
headers/footers and passages a document repeats.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from ingest.loaders import Page

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BULLET_GLYPH = re.compile(r"^(\s*)(?:[•●▪■◦·‣⁃∙○►▸✓✔➢→]|[*+–—](?=\s))\s*")
# OCR reads a bullet "•" as "e", "o" or "¢"; only trusted when several lines do it.
_OCR_BULLET = re.compile(r"^(\s*)[e¢o©]\s+(?=[A-ZÆØÅ])")
_MD_HEADING = re.compile(r"^#{1,6}\s")
_BULLET = re.compile(r"^\s*(?:-\s|\d{1,2}[.)]\s)")
_WORD = re.compile(r"[^\W\d_]+")
_URL = re.compile(r"(?:https?://|www\.)\S+$")
_NAV_WORDS = {
    "meny",
    "menu",
    "submeny",
    "hovedmeny",
    "undermeny",
    "eng",
    "english",
    "en",
    "no",
    "nb",
    "nn",
    "norsk",
    "søk",
    "search",
    "logg inn",
    "logg ut",
    "hopp til innhold",
    "hopp til hovedinnhold",
    "gå til innhold",
    "gå til hovedinnhold",
    "til toppen",
    "tilbake til toppen",
    "til forsiden",
    "forsiden",
    "hjem",
    "home",
    "del",
    "del siden",
    "del denne siden",
    "skriv ut",
    "print",
    "tips en venn",
    "a a",
    "aa",
    "a a a",
    "lukk",
    "åpne meny",
    "lukk meny",
    "vis meny",
    "skjul meny",
    "nettstedskart",
    "snarveier",
    "facebook",
    "twitter",
    "linkedin",
    "instagram",
    "youtube",
}


@dataclass(frozen=True)
class CleanDoc:
    """A document's clean text; blocks are separated by a blank line."""

    text: str
    page_starts: tuple[tuple[int, int], ...] = ()  # (offset, page number), ascending

    @cached_property
    def _starts(self) -> list[int]:
        return [start for start, _ in self.page_starts]

    def page_at(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        i = bisect.bisect_right(self._starts, offset) - 1
        return self.page_starts[max(i, 0)][1]


@dataclass
class _Block:
    lines: list[str]
    page: int | None

    @property
    def key(self) -> str:
        text = " ".join(self.lines).lower()
        return " ".join(re.sub(r"[#*_`>|]", " ", text).split())


def normalise_line(line: str) -> str:
    """NFC, visible spaces only, single inner spaces; a bullet keeps its indentation."""
    line = _CONTROL.sub("", unicodedata.normalize("NFC", line).translate(_INVISIBLE))
    line = line.replace("\t", "  ").rstrip()
    body = line.lstrip(" \u00a0")
    indent = len(line) - len(body)
    body = _SPACES.sub(" ", body)
    return " " * min(indent, 8) + body if indent else body


def clean_pages(pages: Sequence[Page]) -> CleanDoc:
    """Clean a loaded document, keeping track of which page each passage came from."""
    page_lines = [
        (page.number, [normalise_line(x) for x in _split_lines(page.text)]) for page in pages
    ]
    if len(page_lines) >= 3:
        page_lines = _drop_running_headers(page_lines)
    all_lines = [line for _, lines in page_lines for line in lines]
    ocr_bullets = sum(1 for line in all_lines if _OCR_BULLET.match(line)) >= 2
    blocks: list[_Block] = []
    for number, lines in page_lines:
        lines = [_mark_bullet(line, ocr_bullets) for line in lines]
        lines = [line for line in lines if _keeps(line)]
        for block_lines in _split_blocks(lines):
            blocks.append(_Block(_unwrap(block_lines), number))
    blocks = _join_broken_blocks(blocks)
    blocks = _drop_navigation(blocks)
    blocks = _drop_repeats(blocks)
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    offset = 0
    for block in blocks:
        text = "\n".join(block.lines)
        if block.page is not None and (not starts or starts[-1][1] != block.page):
            starts.append((offset, block.page))
        parts.append(text)
        offset += len(text) + 2
    return CleanDoc("\n\n".join(parts), tuple(starts))


def clean_text(text: str) -> str:
    """Clean a single text (no pages)."""
    return clean_pages([Page(text)]).text


def _split_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n").split("\n")


def _mark_bullet(line: str, ocr_bullets: bool) -> str:
    m = _BULLET_GLYPH.match(line)
    if m:
        rest = line[m.end() :]
        return f"{m.group(1)}- {rest}" if rest else ""
    if ocr_bullets:
        m = _OCR_BULLET.match(line)
        if m:
            return f"{m.group(1)}- {line[m.end() :]}"
    return line


def _keeps(line: str) -> bool:
    """Lines holding no letter or digit (rules, arrows, stray dashes) carry nothing to find."""
    stripped = line.strip()
    if not stripped:
        return True  # block separator
    if stripped in ("-", "- "):
        return False
    return any(ch.isalnum() for ch in stripped)


def _split_blocks(lines: list[str]) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _unwrap(lines: list[str]) -> list[str]:
    """Join lines that a converter broke mid-sentence (the next line starts in lower case)."""
    out: list[str] = []
    for line in lines:
        body = line.strip()
        if out and _continues(out[-1], line):
            out[-1] = out[-1] + " " + body
        elif _BULLET.match(line) or _MD_HEADING.match(body):
            out.append(line.rstrip() if _BULLET.match(line) else body)
        else:
            out.append(body)
    return out


def _continues(previous: str, line: str) -> bool:
    """Whether `line` carries on the sentence `previous` was cut off in."""
    body = line.strip()
    if _BULLET.match(line) or _MD_HEADING.match(previous) or _URL.match(body):
        return False
    if _URL.match(previous.strip()):
        return False
    if body[:1].islower():
        return True
    # A wrapped line may start with a number ("... ikke igangsatt i" / "2024.").
    return (
        body[:1].isdigit() and len(previous) >= 40 and not previous.endswith((".", ":", "!", "?"))
    )


def _join_broken_blocks(blocks: list[_Block]) -> list[_Block]:
    """A blank line in the middle of a sentence (a page or column break) is not a break."""
    out: list[_Block] = []
    for block in blocks:
        if (
            out
            and _continues(out[-1].lines[-1], block.lines[0])
            and not out[-1].lines[-1].rstrip().endswith((".", ":", "!", "?", ";"))
        ):
            prev = out[-1]
            merged = prev.lines[:-1] + [prev.lines[-1] + " " + block.lines[0].strip()]
            out[-1] = _Block(merged + block.lines[1:], prev.page)
            continue
        out.append(block)
    return out


def _is_prose(line: str) -> bool:
    words = _WORD.findall(line)
    return len(words) >= 7 or (len(words) >= 3 and line.rstrip().endswith((".", "!", "?")))


def _is_nav(line: str) -> bool:
    stripped = line.strip().lower()
    if stripped in _NAV_WORDS:
        return True
    # Font-size and language toggles ("A A", "A+ A-") are short letter-and-symbol tokens.
    return len(stripped) <= 5 and not any(ch.isdigit() for ch in stripped) and " " in stripped


def _drop_navigation(blocks: list[_Block]) -> list[_Block]:
    """Drop a web page's menu lines before its first real content and after its last."""
    flat = [(bi, li) for bi, block in enumerate(blocks) for li in range(len(block.lines))]
    if not flat:
        return blocks

    def is_content(pos: tuple[int, int]) -> bool:
        line = blocks[pos[0]].lines[pos[1]]
        return _is_prose(line) or bool(_BULLET.match(line)) or bool(_MD_HEADING.match(line))

    drop: set[tuple[int, int]] = set()
    first = next((i for i, pos in enumerate(flat) if is_content(pos)), len(flat))
    lead = [i for i in range(first) if _is_nav(blocks[flat[i][0]].lines[flat[i][1]])]
    if lead:
        drop.update(flat[: lead[-1] + 1])
    last = next((i for i in range(len(flat) - 1, -1, -1) if is_content(flat[i])), -1)
    tail = [i for i in range(last + 1, len(flat)) if _is_nav(blocks[flat[i][0]].lines[flat[i][1]])]
    if tail:
        drop.update(flat[tail[0] :])
    if not drop:
        return blocks
    out: list[_Block] = []
    for bi, block in enumerate(blocks):
        kept = [line for li, line in enumerate(block.lines) if (bi, li) not in drop]
        if kept:
            out.append(_Block(kept, block.page))
    return out


def _drop_repeats(blocks: list[_Block]) -> list[_Block]:
    """Drop passages the document already holds: a long block, or a run of several blocks."""
    keys = [block.key for block in blocks]
    first_seen: dict[str, int] = {}
    drop: set[int] = set()
    i = 0
    while i < len(blocks):
        key = keys[i]
        j = first_seen.get(key)
        if j is None or not key:
            first_seen.setdefault(key, i)
            i += 1
            continue
        run = 0
        while i + run < len(blocks) and j + run < i and keys[i + run] == keys[j + run]:
            run += 1
        run_chars = sum(len(keys[i + k]) for k in range(run))
        if run_chars >= 60 or (run >= 3 and run_chars >= 30):
            drop.update(range(i, i + run))
            i += run
        else:
            i += 1
    return [block for n, block in enumerate(blocks) if n not in drop]


def _drop_running_headers(
    page_lines: list[tuple[int | None, list[str]]],
) -> list[tuple[int | None, list[str]]]:
    """Drop lines printed at the top or bottom of most pages (titles, 'Side 3 av 9')."""

    def key(line: str) -> str:
        # Page numbers differ from page to page ("Side 3 av 9"); other text must repeat as is.
        plain = line.strip().lower()
        numbered = re.sub(r"\d+", "#", plain)
        return numbered if len(numbered) <= 20 else plain

    counts: Counter[str] = Counter()
    for _, lines in page_lines:
        content = [line for line in lines if line.strip()]
        edge = {key(line) for line in content[:3] + content[-3:] if len(line.strip()) <= 100}
        counts.update(edge)
    threshold = max(3, len(page_lines) // 2)
    running = {k for k, n in counts.items() if n >= threshold and k}
    if not running:
        return page_lines
    out = []
    for number, lines in page_lines:
        content_idx = [i for i, line in enumerate(lines) if line.strip()]
        edge_idx = set(content_idx[:3] + content_idx[-3:])
        out.append(
            (number, [x for i, x in enumerate(lines) if not (i in edge_idx and key(x) in running)])
        )
    return out
