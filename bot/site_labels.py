"""Site labels: questions the secretariat answered by pointing at the passage that answers them.

A label is a question set entry in the eval format (`question`, `sources`, `must`, `kind:
unanswerable`; see bot.answer.evaluate.load_questions), so `hfbot eval` and `hfbot fit` read
an export as they read the dev sets. Beside those keys a label keeps the passages themselves
(document file and text, with section and date for people): a label made before a document
changed keeps its meaning, and one whose passage is gone is reported instead of quietly
teaching the fit.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ingest.units import clean

if TYPE_CHECKING:
    from bot.answer.evaluate import EvalQuestion
    from ingest.store import StoredChunk

# When the admin marks no exact words, a right answer must quote the start of each ticked
# passage: long enough to be that passage, short enough to survive the answer's shortening.
FRAGMENT_CHARS = 80
SITE_SET_NAME = "site-labels"


class LabelFileError(ValueError):
    """A label file that cannot be read or is not in the question-set format."""


@dataclass(frozen=True)
class LabelPassage:
    """One passage the admin ticked: its document file and its words, as the store held them."""

    file: str
    text: str
    title: str = ""
    section: str = ""
    date: str = ""

    def to_json(self) -> dict:
        out = {"file": self.file, "text": self.text}
        for key in ("title", "section", "date"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_json(cls, raw: dict) -> LabelPassage:
        if not isinstance(raw, dict) or not raw.get("file") or not raw.get("text"):
            raise LabelFileError(f"a passage needs `file` and `text`: {raw!r}")
        return cls(
            file=str(raw["file"]),
            text=str(raw["text"]),
            title=str(raw.get("title") or ""),
            section=str(raw.get("section") or ""),
            date=str(raw.get("date") or ""),
        )


@dataclass(frozen=True)
class Label:
    question: str
    passages: tuple[LabelPassage, ...] = ()
    must: tuple[str, ...] = ()  # the exact words the admin marked (optional)
    unanswerable: bool = False  # "Står ikke i dokumentene"
    sources: tuple[str, ...] = ()  # files without a passage (an imported plain question set)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_by: str = ""
    created_at: float = field(default_factory=time.time)
    answer_id: str | None = None  # the refused or 👎 answer it was made from

    @property
    def files(self) -> tuple[str, ...]:
        """The documents that hold the answer, each once."""
        return tuple(dict.fromkeys([*(p.file for p in self.passages), *self.sources]))

    def required_words(self) -> tuple[str, ...]:
        """What a right answer contains: the marked words, else the start of each passage."""
        if self.unanswerable:
            return ()
        if self.must:
            return self.must
        return tuple(dict.fromkeys(fragment(p.text) for p in self.passages))

    def to_entry(self) -> dict:
        """The label as a question-set entry (extra keys are ignored by `hfbot eval`)."""
        entry: dict = {"id": self.id, "question": self.question}
        if self.unanswerable:
            entry["kind"] = "unanswerable"
        else:
            entry["sources"] = list(self.files)
            entry["must"] = list(self.required_words())
            if self.passages:
                entry["passages"] = [p.to_json() for p in self.passages]
                entry["must_marked"] = bool(self.must)
        entry["labelled_by"] = self.created_by
        entry["labelled_at"] = datetime.fromtimestamp(self.created_at, UTC).isoformat(
            timespec="seconds"
        )
        return entry

    @classmethod
    def from_entry(cls, entry: dict, position: int = 0) -> Label:
        if not isinstance(entry, dict) or not str(entry.get("question", "")).strip():
            raise LabelFileError(f"entry {position} has no question")
        passages = tuple(LabelPassage.from_json(p) for p in entry.get("passages") or ())
        unanswerable = str(entry.get("kind", "")) == "unanswerable"
        must = tuple(str(m) for m in entry.get("must") or ())
        if passages and not entry.get("must_marked", True):
            must = ()  # derived from the passages on export: derived again, not frozen
        files = {p.file for p in passages}
        sources = tuple(str(s) for s in entry.get("sources") or () if str(s) not in files)
        label = cls(
            question=str(entry["question"]).strip(),
            passages=passages,
            must=must,
            unanswerable=unanswerable,
            sources=() if unanswerable else sources,
            created_by=str(entry.get("labelled_by") or ""),
        )
        if entry.get("id"):
            label = replace(label, id=str(entry["id"]))
        when = entry.get("labelled_at")
        if when:
            try:
                stamp = when if isinstance(when, datetime) else datetime.fromisoformat(str(when))
                label = replace(label, created_at=stamp.timestamp())
            except ValueError:
                pass
        return label

    def as_question(self, set_name: str = SITE_SET_NAME) -> EvalQuestion:
        from bot.answer.evaluate import EvalQuestion

        return EvalQuestion(
            id=self.id,
            question=self.question,
            sources=() if self.unanswerable else self.files,
            must=self.required_words(),
            kind="unanswerable" if self.unanswerable else "fact",
            set_name=set_name,
        )


def fragment(text: str, limit: int = FRAGMENT_CHARS) -> str:
    """The start of a passage, cut at a word: what an answer quoting it certainly holds."""
    text = clean(text)
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut or text[:limit]


# ---- files ---------------------------------------------------------------------------------------


def dump_labels(labels: Iterable[Label]) -> str:
    return yaml.safe_dump(
        [label.to_entry() for label in labels], allow_unicode=True, sort_keys=False, width=100
    )


def write_labels(labels: Iterable[Label], path: Path) -> int:
    labels = list(labels)
    Path(path).write_text(dump_labels(labels), encoding="utf-8")
    return len(labels)


def read_labels(path: Path) -> list[Label]:
    """Labels from a file in the question-set format (an export, or any eval question set)."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LabelFileError(f"cannot read {path}: {exc}") from exc
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise LabelFileError(f"{path}: expected a list of questions")
    return [Label.from_entry(entry, i) for i, entry in enumerate(raw, start=1)]


# ---- do the passages still exist? ----------------------------------------------------------------


@dataclass(frozen=True)
class MissingPassage:
    label: Label
    passage: LabelPassage
    reason: str  # "document" (no such file in the store) or "text" (the words are gone)


def _norm(text: str) -> str:
    return clean(text).casefold()


def missing_passages(
    labels: Sequence[Label], chunks: Sequence[StoredChunk]
) -> list[MissingPassage]:
    """Ticked passages the store no longer holds: the document is gone or its words changed."""
    texts: dict[str, list[str]] = {}
    for chunk in chunks:
        texts.setdefault(chunk.doc.file, []).append(_norm(chunk.text))
    missing: list[MissingPassage] = []
    for label in labels:
        for passage in label.passages:
            held = texts.get(passage.file)
            if held is None:
                missing.append(MissingPassage(label, passage, "document"))
            elif not any(_norm(passage.text) in text for text in held):
                missing.append(MissingPassage(label, passage, "text"))
    return missing


def usable_labels(
    labels: Sequence[Label], chunks: Sequence[StoredChunk]
) -> tuple[list[Label], list[MissingPassage]]:
    """The labels a fit may learn from (every passage still there), and what is missing."""
    missing = missing_passages(labels, chunks)
    stale = {m.label.id for m in missing}
    return [label for label in labels if label.id not in stale], missing


def describe_missing(item: MissingPassage) -> str:
    what = "dokumentet finnes ikke lenger" if item.reason == "document" else "teksten er endret"
    return f"{item.label.id} «{item.label.question}»: {item.passage.file}: {what}"
