"""`hfbot eval`: run question sets through the one answer function and score them.

Each failed question is put down to the first step of the answer path that went wrong, so a
score says where to work: `retrieval` (no source document among the retrieved chunks),
`refusal` (an answerable question refused, or an unanswerable one answered), `selection` (a
source was retrieved but the answer lacks what it must say) or `citation` (the answer is
right but does not cite a source document).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.answer.span import normalise, token_f1
from bot.answering import ENGLISH_LEAD, Answerer, Result
from bot.types import Answer


class QuestionSetError(ValueError):
    """The question file cannot be read or is not in the expected format."""


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    sources: tuple[str, ...] = ()
    must: tuple[str, ...] = ()
    kind: str = "fact"
    newest_wins: bool = False
    set_name: str = ""  # the question file it came from, for per-file figures

    @property
    def unanswerable(self) -> bool:
        return self.kind == "unanswerable"


@dataclass
class EvalResult:
    item: EvalQuestion
    answer: str
    abstained: bool
    citations: list[dict]
    latency_ms: float
    answer_ok: bool
    citation_ok: bool
    retrieval_rank: int | None  # 1-based rank of the first source document among retrieved docs
    passed: bool
    failure: str | None = None  # the step that failed (FAILURE_STEPS), None when passed
    lead_ok: bool = False  # the first line holds every must string and cites a source
    bold: str | None = None  # the words the first line marks as the answer

    def to_json(self) -> dict:
        return {
            "set": self.item.set_name,
            "id": self.item.id,
            "question": self.item.question,
            "kind": self.item.kind,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": self.citations,
            "latency_ms": round(self.latency_ms, 1),
            "answer_ok": self.answer_ok,
            "citation_ok": self.citation_ok,
            "retrieval_rank": self.retrieval_rank,
            "passed": self.passed,
            "lead_ok": self.lead_ok,
            "bold": self.bold,
            "failure": self.failure,
        }


# In the order of the answer path: a failure is put down to the first step that went wrong.
FAILURE_STEPS = ("retrieval", "refusal", "selection", "citation")


@dataclass
class EvalReport:
    results: list[EvalResult] = field(default_factory=list)

    def set_names(self) -> list[str]:
        """The question files in the order they were run."""
        return list(dict.fromkeys(r.item.set_name for r in self.results))

    def summary(self, set_name: str | None = None) -> dict:
        """Figures over all results, or over one question file's."""
        results = [r for r in self.results if set_name is None or r.item.set_name == set_name]
        answerable = [r for r in results if not r.item.unanswerable]
        unanswerable = [r for r in results if r.item.unanswerable]
        ranks = [r.retrieval_rank for r in answerable if r.item.sources]
        latencies = sorted(r.latency_ms for r in results)

        def share(values: Sequence[bool]) -> float | None:
            return round(sum(values) / len(values), 3) if values else None

        return {
            "questions": len(results),
            "passed": sum(r.passed for r in results),
            "answer_accuracy": share([r.answer_ok for r in answerable]),
            "lead_accuracy": share([r.lead_ok for r in answerable]),
            **_span_figures([r for r in answerable if len(r.item.must) == 1]),
            "citation_accuracy": share([r.citation_ok for r in answerable]),
            "abstention_accuracy": share([r.abstained for r in unanswerable]),
            "unanswerable_refused": sum(r.abstained for r in unanswerable),
            "unanswerable": len(unanswerable),
            "false_abstentions": sum(r.abstained for r in answerable),
            "hit_at_1": share([rank is not None and rank <= 1 for rank in ranks]),
            "hit_at_5": share([rank is not None and rank <= 5 for rank in ranks]),
            "mrr": round(statistics.fmean([1 / r if r else 0.0 for r in ranks]), 3)
            if ranks
            else None,
            "latency_p50_ms": round(_percentile(latencies, 50), 1) if latencies else None,
            "latency_p95_ms": round(_percentile(latencies, 95), 1) if latencies else None,
            "failures": {step: sum(r.failure == step for r in results) for step in FAILURE_STEPS},
        }

    def summaries(self) -> dict[str, dict]:
        """Each question file's figures, by file."""
        return {name: self.summary(name) for name in self.set_names()}

    def to_json(self) -> dict:
        return {
            "summary": self.summary(),
            "sets": self.summaries(),
            "results": [r.to_json() for r in self.results],
        }


def summary_line(s: dict) -> str:
    """One question file's figures on one line."""
    spans = (
        f"bold span exact {s['span_exact']}, F1 {s['span_f1']} ({s['bold_share']} bold); "
        if s.get("span_f1") is not None
        else ""
    )
    return (
        f"{s['passed']}/{s['questions']} passed; answer {s['answer_accuracy']}, "
        f"first line {s['lead_accuracy']}; {spans}"
        f"citation {s['citation_accuracy']}, refused {s['unanswerable_refused']}/"
        f"{s['unanswerable']} unanswerable, {s['false_abstentions']} false refusals; "
        f"hit@5 {s['hit_at_5']}, mrr {s['mrr']}; failed at {failure_counts(s['failures'])}"
    )


def failure_counts(failures: dict[str, int]) -> str:
    return ", ".join(f"{step} {n}" for step, n in failures.items())


def _span_figures(results: Sequence[EvalResult]) -> dict:
    """How well the bold words match the one annotated answer: exact match and token F1 over
    every such question (no bold counts 0), and the share with bold."""
    if not results:
        return {"span_exact": None, "span_f1": None, "bold_share": None}
    exact = [bool(r.bold) and normalise(r.bold) == normalise(r.item.must[0]) for r in results]
    f1 = [token_f1(r.bold, r.item.must[0]) if r.bold else 0.0 for r in results]
    return {
        "span_exact": round(statistics.fmean(exact), 3),
        "span_f1": round(statistics.fmean(f1), 3),
        "bold_share": round(statistics.fmean([bool(r.bold) for r in results]), 3),
    }


def _percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: a figure that was actually measured)."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return float(sorted_values[int(rank) - 1])


def load_question_sets(paths: Sequence[Path]) -> list[EvalQuestion]:
    """The questions of several files, each marked with its file's name (its path when two
    files share a name)."""
    names = [Path(p).name for p in paths]
    out: list[EvalQuestion] = []
    for path, name in zip(paths, names, strict=True):
        out.extend(load_questions(path, str(path) if names.count(name) > 1 else name))
    return out


def load_questions(path: Path, set_name: str | None = None) -> list[EvalQuestion]:
    """Questions in the format of the shared dev set: a YAML list of mappings."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise QuestionSetError(f"cannot read {path}: {exc}") from exc
    if not isinstance(raw, list):
        raise QuestionSetError(f"{path}: expected a list of questions")
    out: list[EvalQuestion] = []
    for i, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict) or not str(entry.get("question", "")).strip():
            raise QuestionSetError(f"{path}: entry {i} has no question")
        out.append(
            EvalQuestion(
                id=str(entry.get("id", f"q{i}")),
                question=str(entry["question"]),
                sources=tuple(str(s) for s in entry.get("sources") or ()),
                must=tuple(str(m) for m in entry.get("must") or ()),
                kind=str(entry.get("kind", "fact")),
                newest_wins=bool(entry.get("newest_wins", False)),
                set_name=Path(path).name if set_name is None else set_name,
            )
        )
    return out


def _file_ranks(result: Result) -> list[str]:
    """Retrieved document files in rank order, each once."""
    files: list[str] = []
    for hit in result.hits:
        if hit.chunk.doc.file not in files:
            files.append(hit.chunk.doc.file)
    return files


def score(item: EvalQuestion, result: Result) -> EvalResult:
    answer = result.answer
    text = unmarked(answer.text).lower()
    cited = {c.file for c in answer.citations}
    files = _file_ranks(result)
    rank = next((i for i, f in enumerate(files, start=1) if f in item.sources), None)
    if item.unanswerable:
        answer_ok = citation_ok = answer.abstained
    else:
        answer_ok = not answer.abstained and all(m.lower() in text for m in item.must)
        citation_ok = not answer.abstained and (not item.sources or bool(cited & set(item.sources)))
    passed = answer_ok and citation_ok
    lead_ok = answer_ok and _lead_ok(item, answer)
    return EvalResult(
        item=item,
        answer=answer.text,
        abstained=answer.abstained,
        citations=[c.to_json() for c in answer.citations],
        latency_ms=answer.timings_ms.get("total", 0.0),
        answer_ok=answer_ok,
        citation_ok=citation_ok,
        retrieval_rank=rank,
        passed=passed,
        failure=None if passed else failed_step(item, answer.abstained, rank, answer_ok),
        lead_ok=lead_ok,
        bold=bold_span(answer.text) if not answer.abstained else None,
    )


_MARKER = re.compile(r"\[(\d+)\]")


def lead_line(text: str) -> str:
    """The answer's first line: what a reader sees first (an English asker's note skipped)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and lines[0] == ENGLISH_LEAD and len(lines) > 1:
        return lines[1]
    return lines[0] if lines else ""


def unmarked(text: str) -> str:
    """The answer without its bold marks (a must string may span the bold's edge)."""
    return text.replace("**", "")


def bold_span(text: str) -> str | None:
    """The words the answer's first line marks in bold, if any."""
    found = _BOLD.search(lead_line(text))
    return found.group(1) if found else None


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _lead_ok(item: EvalQuestion, answer: Answer) -> bool:
    """Whether the first line holds every must string and cites one of the sources."""
    lead = unmarked(lead_line(answer.text))
    if not all(m.lower() in lead.lower() for m in item.must):
        return False
    if not item.sources:
        return True
    files = {c.n: c.file for c in answer.citations}
    return any(files.get(int(n)) in item.sources for n in _MARKER.findall(lead))


def failed_step(item: EvalQuestion, abstained: bool, rank: int | None, answer_ok: bool) -> str:
    """The first step of the answer path that went wrong for a question that failed."""
    if item.unanswerable:
        return "refusal"  # it answered what the documents do not say
    if item.sources and rank is None:
        return "retrieval"
    if abstained:
        return "refusal"  # a false refusal: the source was there
    if not answer_ok:
        return "selection"
    return "citation"


def run_eval(
    answerer: Answerer,
    questions: Sequence[EvalQuestion],
    on_result: Callable[[EvalResult], None] | None = None,
) -> EvalReport:
    """Every question through `answerer` in this process, scored.

    Only the answerer decides the answers: a caller may run the same questions (or a part of
    them) through answerers with other parameters over one store and compare the reports.
    """
    report = EvalReport()
    for item in questions:
        result = score(item, answerer.run(item.question))
        report.results.append(result)
        if on_result is not None:
            on_result(result)
    return report
