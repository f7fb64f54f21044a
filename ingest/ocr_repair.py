"""Search text for OCR-damaged Norwegian: 'mgter' is found by 'møter'.

OCR often misreads æ, ø and å ('mgter' for 'møter', 'Arsrapport' for 'Årsrapport',
'baerekraftig' for 'bærekraftig'). For each word a few letter substitutions are tried; one is
accepted when it gives a Norwegian word (wordfreq's 'nb' list) far more common than the
word as written. A document is repaired only when it is Norwegian and many of its words are
repairable, so clean documents are never touched. The repair feeds search only: the text
quoted to users stays as the source wrote it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from functools import lru_cache

# (damaged, intended) letter groups seen in OCR of Norwegian.
_SUBSTITUTIONS: tuple[tuple[str, str], ...] = (
    ("aea", "ø"),
    ("ae", "æ"),
    ("ee", "æ"),
    ("ag", "ø"),
    ("ga", "ø"),
    ("g", "ø"),
    ("a", "å"),
    ("a", "ø"),
    ("e", "ø"),
    ("o", "ø"),
    ("i", "j"),
    ("A", "Å"),
    ("Ae", "Æ"),
    ("J", "Ø"),
    ("O", "Ø"),
)
_WORD = re.compile(r"[^\W\d_]+|&(?=\s+[a-zæøå])")
_MAX_EDITS = 3
_MIN_RATIO = 20.0  # the repaired word must be this much more common than the damaged one
_MIN_FREQ = 1e-8
_NORWEGIAN = {"og", "ikke", "det", "som", "til", "av", "med", "er", "en", "et", "har", "den"}
_ENGLISH = {"the", "and", "of", "to", "is", "that", "with", "are", "this", "be", "from"}


@lru_cache(maxsize=1)
def _frequencies() -> dict[str, float]:
    from wordfreq import get_frequency_dict

    return get_frequency_dict("nb")


def warm_up() -> None:
    """Load the word list now rather than at the first damaged document."""
    _frequencies()


def _freq(word: str) -> float:
    return _frequencies().get(word.lower(), 0.0)


def _compound_freq(word: str) -> float:
    """A stand-in frequency for a compound of two known words ('møte' + 'plan')."""
    w = word.lower()
    best = 0.0
    for i in range(3, len(w) - 2):
        head, tail = w[:i], w[i:]
        tail_f = _freq(tail)
        if tail_f < 1e-6 or len(tail) < 4:
            continue  # a rare or tiny tail ('-øste') makes a compound of anything
        head_f = _freq(head)
        if head_f < 1e-7 and head[-1] in "se":
            head_f = _freq(head[:-1])  # linking s/e: 'henvisning-s-forløp'
        if head_f >= 1e-7:
            best = max(best, head_f * tail_f)
    return best


def _candidates(word: str) -> set[str]:
    sites: list[tuple[int, int, str]] = []
    for damaged, intended in _SUBSTITUTIONS:
        start = word.find(damaged)
        while start != -1:
            sites.append((start, start + len(damaged), intended))
            start = word.find(damaged, start + 1)
    out: set[str] = set()
    for n in range(1, _MAX_EDITS + 1):
        for combo in itertools.combinations(sites, n):
            spans = sorted(combo)
            if any(a[1] > b[0] for a, b in itertools.pairwise(spans)):
                continue  # overlapping edits
            pieces, at = [], 0
            for s, e, rep in spans:
                pieces.append(word[at:s])
                pieces.append(rep)
                at = e
            pieces.append(word[at:])
            out.add("".join(pieces))
        if len(out) > 2000:
            break
    return out


@lru_cache(maxsize=50_000)
def _ranked(word: str) -> tuple[str, ...]:
    """Convincing repairs of `word`, most likely first (lower case; empty when none)."""
    if len(word) > 40:
        return ()
    scored: dict[str, float] = {}
    floor = _freq(word) * _MIN_RATIO
    for cand in _candidates(word):
        f = _freq(cand)
        if f >= _MIN_FREQ and f > floor:
            scored[cand.lower()] = f
    if not scored and _freq(word) == 0.0 and len(word) >= 7:
        # Compounds are rarely in the word list: judge them by their parts.
        floor = _compound_freq(word) * _MIN_RATIO
        for cand in _candidates(word):
            f = _compound_freq(cand)
            if f > floor:
                scored[cand.lower()] = f
    return tuple(sorted(scored, key=lambda c: -scored[c]))


def _cased(word: str, repaired: str) -> str:
    if word.isupper() and len(word) > 1:
        return repaired.upper()
    if word[:1].isupper():
        return repaired[:1].upper() + repaired[1:]
    return repaired


def repair_word(word: str) -> str:
    """The undamaged spelling of `word`, or `word` itself when no repair is convincing."""
    if word == "&":
        return "å"
    ranked = _ranked(word)
    return _cased(word, ranked[0]) if ranked else word


def looks_damaged(text: str) -> bool:
    """Norwegian text where many distinct words have a convincing repair."""
    words = [m.group(0) for m in _WORD.finditer(text)]
    lower = [w.lower() for w in words]
    nb = sum(1 for w in lower if w in _NORWEGIAN)
    en = sum(1 for w in lower if w in _ENGLISH)
    if nb < 5 or nb < 2 * en:
        return False
    distinct = {w for w in words if w != "&"}
    if not distinct:
        return False
    # Evidence is a word no Norwegian text uses ('mgter'), not a rare or nynorsk form
    # ('gjere') that a bokmål word list merely ranks low.
    repaired = sum(1 for w in distinct if _freq(w) == 0.0 and repair_word(w) != w)
    return repaired >= 5 and repaired >= 0.02 * len(distinct)


def repair_text(text: str) -> str:
    """`text` with every damaged word replaced by its repair (lengths may change)."""
    return _WORD.sub(lambda m: repair_word(m.group(0)), text)


def repair_for(document_text: str) -> Callable[[str], str] | None:
    """A repair function for a damaged document's passages, None for a clean document.

    Where a word has several convincing repairs, the document itself decides: 'Partnerskapsmate'
    could be '-måte' or '-møte', and the same report also says 'Partnerskapsmøtet'.
    """
    if not looks_damaged(document_text):
        return None
    words = {m.group(0) for m in _WORD.finditer(document_text)} - {"&"}
    # Which words the document holds (sound, or repaired without doubt), and from where.
    evidence: dict[str, set[str]] = {}
    for word in words:
        ranked = _ranked(word)
        if not ranked and _freq(word) > 1e-6:
            evidence.setdefault(word.lower(), set()).add(word)
        elif len(ranked) == 1:
            evidence.setdefault(ranked[0], set()).add(word)

    def supported(cand: str, source: str) -> bool:
        return any(
            (held == cand or (held.startswith(cand) and len(held) - len(cand) <= 3))
            and sources - {source}
            for held, sources in evidence.items()
        )

    chosen: dict[str, str] = {}
    for word in words:
        ranked = _ranked(word)
        if len(ranked) > 1:
            backed = [cand for cand in ranked if supported(cand, word)]
            if backed and backed[0] != ranked[0]:
                chosen[word] = _cased(word, backed[0])

    def repair(text: str) -> str:
        return _WORD.sub(lambda m: chosen.get(m.group(0)) or repair_word(m.group(0)), text)

    return repair
