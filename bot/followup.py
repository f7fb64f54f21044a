"""Follow-up questions: turn "Og i 2025?" into a question retrieval can answer on its own."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

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
    """The latest earlier question that stood on its own (else simply the latest one)."""
    asked = [t.text.strip() for t in history if t.role == "user" and t.text.strip()]
    for text in reversed(asked):
        if not needs_context(text):
            return text
    return asked[-1] if asked else None


def needs_context(question: str) -> bool:
    """Whether a question leans on what was asked before it."""
    terms = content_terms(question)
    if _ELLIPTIC_START.match(question):
        return True
    if len(terms) <= SHORT and _PRONOUN.search(question):
        return True
    return len(terms) <= 1


@dataclass(frozen=True)
class Resolved:
    """A question made answerable on its own: what it asks, plus softer context for search."""

    question: str  # what is asked: its terms must be answered
    context: str = ""  # the earlier question, when the follow-up names its own subject

    @property
    def search_text(self) -> str:
        return f"{self.question} {self.context}".strip()


def resolve(question: str, history: Sequence[Turn]) -> Resolved:
    """Standalone questions stay as they are; follow-ups borrow from the previous question.

    A year in the follow-up replaces the year of the previous question ("Og i 2025?" after a
    question about 2024 asks the same about 2025). A follow-up with words of its own ("Hva med
    KAD-plasser?") asks about those, with the previous question as context; one without ("Hvor
    var det?") asks about the previous question's subject.
    """
    previous = previous_question(history)
    if not previous or not needs_context(question):
        return Resolved(question)
    follow_years = [m.group(0) for m in _YEAR.finditer(question)]
    if follow_years and _YEAR.search(previous):
        merged = _YEAR.sub(follow_years[0], previous)
        rest = _YEAR.sub("", _ELLIPTIC_START.sub("", question)).strip(" ?.!,")
        rest = re.sub(r"^(i|in|for|om|på)\b", "", rest, flags=re.IGNORECASE).strip()
        return Resolved(f"{merged} {rest}".strip() if rest else merged)
    if content_terms(question):
        return Resolved(question, context=previous)
    return Resolved(f"{question} {previous}")


def contextualize(question: str, history: Sequence[Turn]) -> str:
    """The text to search with for a question in a conversation."""
    return resolve(question, history).search_text
