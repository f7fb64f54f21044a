"""Follow-up questions: turn "Og i 2025?" into a question retrieval can answer on its own."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.norwegian import content_terms
from bot.types import Turn

_YEAR = re.compile(r"\b(19|20)\d{2}\b")
# Openers that lean on the previous question: "og …", "hva med …", "enn …", "and …".
_ELLIPTIC_START = re.compile(
    r"^\s*(og|men|enn|hva med|kva med|hvordan med|korleis med|samme|også|and|but|what about"
    r"|how about|same)\b",
    re.IGNORECASE,
)
_PRONOUN = re.compile(
    r"\b(det|den|dette|denne|disse|de|dei|der|dit|it|they|them|this|that|there|those)\b",
    re.IGNORECASE,
)
SHORT = 3  # a follow-up with at most this many content terms cannot stand on its own


def previous_question(history: Sequence[Turn]) -> str | None:
    for turn in reversed(history):
        if turn.role == "user" and turn.text.strip():
            return turn.text.strip()
    return None


def needs_context(question: str) -> bool:
    """Whether a question leans on what was asked before it."""
    terms = content_terms(question)
    if _ELLIPTIC_START.match(question):
        return True
    if len(terms) <= SHORT and _PRONOUN.search(question):
        return True
    return len(terms) <= 1


def contextualize(question: str, history: Sequence[Turn]) -> str:
    """The question to search and answer with: standalone, or merged with the previous question.

    A year in the follow-up replaces the year of the previous question ("Og i 2025?" after a
    question about 2024 asks the same about 2025); otherwise the follow-up is appended.
    """
    previous = previous_question(history)
    if not previous or not needs_context(question):
        return question
    years = _YEAR.findall(question)
    follow_years = [m.group(0) for m in _YEAR.finditer(question)]
    if years and _YEAR.search(previous):
        merged = _YEAR.sub(follow_years[0], previous)
        rest = _YEAR.sub("", _ELLIPTIC_START.sub("", question)).strip(" ?.!,")
        rest = re.sub(r"^(i|in|for|om|på)\b", "", rest, flags=re.IGNORECASE).strip()
        return f"{merged} {rest}".strip() if rest else merged
    return f"{previous} {question}"
