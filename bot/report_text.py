"""The secretariat's report as terminal text (`hfbot report`); bot.report builds it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.report import DocumentLine, Report

TEXT_LISTED = 50  # items per part in the terminal report; --json has them all


def render_text(report: Report) -> str:
    """The report for a terminal (`hfbot report`)."""
    corpus = report.corpus
    out = [f"hfbot report: the last {report.days} days (made {_local(report.generated_at)})", ""]
    out.append("Corpus")
    if corpus.error:
        out.append(f"  the store could not be read: {corpus.error}")
    else:
        out.append(
            f"  {corpus.documents} documents, {corpus.chunks} chunks, "
            f"embedding model {corpus.embedding_model}"
        )
    out.append("  " + _ingest_text(corpus.last_ingest))
    failed = corpus.failed
    total_failed = int((corpus.last_ingest or {}).get("failed_count") or len(failed))
    out += _text_list(
        f"failed files ({total_failed})",
        [f"{f.get('file')}: {f.get('error')}" for f in failed],
        total_failed,
    )
    out += _text_list(
        f"no date ({len(corpus.date_missing)})", [_doc_text(d) for d in corpus.date_missing]
    )
    out += _text_list(
        f"approximate date ({len(corpus.date_approximate)})",
        [_doc_text(d) for d in corpus.date_approximate],
    )
    out += _text_list(
        f"older than {corpus.stale_after_years:g} years ({len(corpus.stale)})",
        [_doc_text(d) for d in corpus.stale],
    )

    out += [
        "",
        f"Unanswered questions ({report.unanswered_questions}, "
        f"{len(report.unanswered)} groups, most asked first)",
    ]
    if not report.question_text_stored:
        out.append("  (HFBOT_STORE_QUESTION_TEXT=false: grouped by the closest document)")
    if report.handled_hidden:
        out.append(f"  {report.handled_hidden} groups marked as handled are hidden")
    if not report.unanswered:
        out.append("  none")
    for group in report.unanswered[:TEXT_LISTED]:
        question = f"«{group.question}»" if group.question else "(question text not stored)"
        out.append(f"  {group.count}× {question}")
        out.append(f"      last asked {_local(group.last_asked)}  [group {group.id[:8]}]")
        if group.handled_at:
            out.append(f"      asked again after it was marked handled {_local(group.handled_at)}")
        for variant in group.variants:
            out.append(f"      also: «{variant}»")
        if group.documents:
            out.append("      closest documents: " + ", ".join(group.documents))
    out += _more(len(report.unanswered))

    out += ["", f"Answers that got 👎 ({len(report.downvoted)}, newest first)"]
    if not report.downvoted:
        out.append("  none")
    for vote in report.downvoted[:TEXT_LISTED]:
        question = f"«{vote.question}»" if vote.question else "(question text not stored)"
        out.append(f"  {_local(vote.voted_at)}  {question}")
        out.append(f"      answer: {vote.first_line}")
        if vote.sources:
            out.append("      sources: " + ", ".join(vote.sources))
    out += _more(len(report.downvoted))

    out += ["", f"Open escalations ({len(report.escalations)}, not marked solved)"]
    if not report.escalations:
        out.append("  none")
    for escalation in report.escalations[:TEXT_LISTED]:
        question = (
            f"«{escalation.question}»" if escalation.question else "(question text not stored)"
        )
        where = f" in {escalation.channel}" if escalation.channel else ""
        out.append(
            f"  {_local(escalation.created_at)}  {escalation.requested_by}{where}: {question}"
        )
    out += _more(len(report.escalations))
    out += _sources_text(report)
    return "\n".join(out)


def _sources_text(report: Report) -> list[str]:
    """Each web source: when last fetched and changed, and what failed since when."""
    if not report.sources:
        return []
    failing = sum(1 for s in report.sources if s.failure)
    out = ["", f"Web sources ({len(report.sources)}, {failing} failing; troubled first)"]
    for source in report.sources[:TEXT_LISTED]:
        kind = " (listing)" if source.listing else "" if source.has_copy else " (no copy)"
        out.append(f"  {source.url}{kind}")
        out.append(
            f"      fetched {_iso_local(source.last_fetched)}, "
            f"changed {_iso_local(source.last_changed)}"
        )
        if source.failure:
            out.append(f"      FAILING since {_iso_local(source.failing_since)}: {source.failure}")
    return out + _more(len(report.sources))


def _iso_local(value: str) -> str:
    return _local(datetime.fromisoformat(value).timestamp()) if value else "never"


def _ingest_text(note: dict[str, Any] | None) -> str:
    if not note:
        return "last ingest: none recorded yet"
    when = _local(float(note.get("at", 0.0)))
    if note.get("error"):
        return f"last ingest {when}: FAILED: {note['error']}"
    failed = int(note.get("failed_count") or len(note.get("failed") or []))
    result = "ok" if not failed else f"{failed} files failed"
    return (
        f"last ingest {when}: {result}: {note.get('added', 0)} added, "
        f"{note.get('updated', 0)} updated, {note.get('removed', 0)} removed, "
        f"{note.get('unchanged', 0)} unchanged ({float(note.get('seconds', 0.0)):.1f} s)"
    )


def _doc_text(doc: DocumentLine) -> str:
    when = f"{doc.date}{' (approximate)' if doc.approximate else ''}" if doc.date else "no date"
    return f"{doc.title} — {when} — {doc.file}"


def _text_list(head: str, lines: Sequence[str], total: int | None = None) -> list[str]:
    total = len(lines) if total is None else total
    if not total:
        return [f"  {head}: none"]
    return [f"  {head}:"] + [f"    {line}" for line in lines[:TEXT_LISTED]] + _more(total, 4)


def _more(total: int, indent: int = 2) -> list[str]:
    return [f"{' ' * indent}... and {total - TEXT_LISTED} more"] if total > TEXT_LISTED else []


def _local(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")
