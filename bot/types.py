"""What the read path hands to its callers (CLI, eval, Slack): answers with numbered citations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Turn:
    """One earlier message of a conversation (a Slack thread, a chat session)."""

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class Citation:
    """A numbered source behind an answer: enough for a user to check it."""

    n: int
    file: str  # file name as it stands in the corpus folder
    title: str
    date: str  # ISO date, "" when unknown
    date_approximate: bool
    location: str  # where in the document: "side 3", a heading path, or ""
    url: str
    quote: str  # the passage quoted from the source, verbatim
    doc_id: str = ""
    kind: str = ""

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "file": self.file,
            "title": self.title,
            "date": self.date,
            "location": self.location,
            "url": self.url,
            "quote": self.quote,
        }


@dataclass
class Answer:
    """A short answer in the question's language, or an honest abstention."""

    question: str
    text: str  # mrkdwn-neutral plain text with [n] markers; lists as "- " lines
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    # When abstaining: the closest documents, so the user knows where to look.
    closest: list[Citation] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    mode: Literal["extractive", "llm", "message"] = "extractive"

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "closest": [c.to_json() for c in self.closest],
            "mode": self.mode,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }

    def as_dict(self) -> dict:
        return asdict(self)
