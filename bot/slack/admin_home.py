"""The secretariat's section of the Home tab (HFBOT_ADMINS only): the report of bot.report as
Block Kit, with "Finn svaret" and "Merk som håndtert" per group of unanswered questions,
"Finn svaret" per 👎 answer, "Oppdater dokumentene", and the site's answer model ("Tilpass
svarmodellen", "Gjenopprett forrige modell").

Slack refuses a view over 100 blocks or a text over 3,000 characters, so every list is cut
with "… og N til" and the section keeps to its own block budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.report import CorpusStatus, DocumentLine, RefusalGroup, Report
from bot.slack.blocks import button, context, format_date, section
from bot.slack.label_modal import FIND_ANSWER
from bot.slack.mrkdwn import escape

ADMIN_REFRESH = "hfbot_admin_refresh"
MARK_HANDLED = "hfbot_mark_handled"
REFIT = "hfbot_refit_model"
RESTORE_MODEL = "hfbot_restore_model"

TEXT_LIMIT = 3000  # characters in one section text
ADMIN_BLOCK_BUDGET = 60  # of the view's 100; the rest is the Home tab everyone sees
MAX_GROUPS = 12  # groups of unanswered questions shown, each a section and its buttons
MAX_LISTED = 10  # documents, 👎 answers and escalations listed per part
MAX_QUESTION_CHARS = 300
NOT_STORED = "_(spørsmålsteksten lagres ikke)_"


@dataclass(frozen=True)
class SiteModelStatus:
    """The site's labels and answer model, for the "Svarmodellen" part."""

    labels: int = 0
    new_labels: bool = False  # labels newer than the last refit: "Tilpass svarmodellen"
    active: bool = False  # a site model answers (else the shipped one)
    has_previous: bool = False
    last_summary: str = ""  # what the last refit did, or why it was refused
    last_at: float | None = None
    last_taken: bool = False
    running: bool = False


def admin_blocks(
    report: Report, *, notice: str | None = None, site: SiteModelStatus | None = None
) -> list[dict]:
    """The admin section: corpus status, unanswered questions, 👎 answers, open escalations,
    and the site's answer model."""
    out: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": "For sekretariatet"}},
        context(
            f"Bare du og de andre i HFBOT_ADMINS ser dette. Spørsmål og 👎 fra de siste "
            f"{report.days} dagene; `hfbot report` gir det samme i terminalen."
        ),
    ]
    if notice:
        out.append(section(_clip(escape(notice))))
    out.append(
        {
            "type": "actions",
            "block_id": "hfbot_admin_actions",
            "elements": [button("Oppdater dokumentene", ADMIN_REFRESH, "refresh", "primary")],
        }
    )
    out += corpus_blocks(report.corpus)
    if report.sources:
        out.append(section(sources_text(report)))
    out.append({"type": "divider"})
    out += unanswered_blocks(report)
    out.append({"type": "divider"})
    out += downvoted_blocks(report)
    out.append({"type": "divider"})
    out.append(section(escalations_text(report)))
    out.append({"type": "divider"})
    if site is not None:
        out += site_model_blocks(site)
        out.append({"type": "divider"})
    return out[:ADMIN_BLOCK_BUDGET]


# ---- the four parts ------------------------------------------------------------------------------


def corpus_blocks(corpus: CorpusStatus) -> list[dict]:
    """The state of the corpus: a summary, then one section per list of documents to look at."""
    lines = ["*Dokumentene*"]
    if corpus.error:
        lines.append(f"⚠️ Dokumentlageret kunne ikke leses: {escape(corpus.error)}")
    else:
        lines.append(
            f"{corpus.documents} dokumenter, {corpus.chunks} tekstbiter · "
            f"modell `{escape(corpus.embedding_model)}`"
        )
    lines.append(last_ingest_line(corpus.last_ingest))
    years = f"{corpus.stale_after_years:g}"
    if not corpus.stale and not corpus.error:
        lines.append(f"Ingen dokumenter er eldre enn {years} år.")
    blocks = [section(_fitted(lines, []))]
    failed = corpus.failed
    if failed:
        entries = [
            f"• `{escape(str(f.get('file')))}`: {escape(str(f.get('error')))}" for f in failed
        ]
        total = int((corpus.last_ingest or {}).get("failed_count") or len(failed))
        blocks.append(section(_fitted(["*Filer som feilet ved siste innlesing:*"], entries, total)))
    for title, documents in (
        ("*Uten dato:*", corpus.date_missing),
        ("*Omtrentlig dato (bare året eller et anslag):*", corpus.date_approximate),
        (f"*Eldre enn {years} år – kanskje utdatert:*", corpus.stale),
    ):
        if documents:
            blocks.append(section(_fitted([title], [_doc(d) for d in documents])))
    return blocks


def sources_text(report: Report) -> str:
    """The web sources of SOURCES.yaml: failing ones first, with why and since when."""
    failing = [s for s in report.sources if s.failure]
    head = [f"*Nettkilder* – {len(report.sources)}, {len(failing)} feiler"]
    entries = []
    for source in report.sources:
        line = f"• <{source.url}|{escape(source.url)}>"
        if source.failure:
            since = _iso_time(source.failing_since)
            line += f"\n   ❌ feiler siden {since}: {escape(source.failure)}"
            if source.has_copy:
                line += " (siste gode versjon brukes)"
        line += (
            f"\n   hentet {_iso_time(source.last_fetched)}, endret {_iso_time(source.last_changed)}"
        )
        entries.append(line)
    return _fitted(head, entries)


def _iso_time(value: str) -> str:
    return slack_time(datetime.fromisoformat(value).timestamp()) if value else "aldri"


def last_ingest_line(note: dict[str, Any] | None) -> str:
    if not note:
        return "Ingen innlesing er registrert ennå (kjør «Oppdater dokumentene»)."
    when = slack_time(float(note.get("at", 0.0)))
    if note.get("error"):
        return f"❌ Siste innlesing {when} feilet: {escape(str(note['error']))}"
    counts = (
        f"{note.get('added', 0)} lagt til, {note.get('updated', 0)} oppdatert, "
        f"{note.get('removed', 0)} fjernet, {note.get('unchanged', 0)} uendret"
    )
    failed = int(note.get("failed_count") or len(note.get("failed") or []))
    if failed:
        return f"⚠️ Siste innlesing {when}: {counts}, {failed} feilet"
    return f"✅ Siste innlesing {when}: {counts}"


def unanswered_blocks(report: Report) -> list[dict]:
    head = f"*Spørsmål uten svar* – {report.unanswered_questions} de siste {report.days} dagene"
    if report.unanswered:
        head += f", {len(report.unanswered)} grupper, mest spurt først"
    if not report.question_text_stored:
        head += (
            "\n_Spørsmålstekstene lagres ikke (HFBOT_STORE_QUESTION_TEXT=false): gruppert etter "
            "nærmeste dokument._"
        )
    if report.handled_hidden:
        head += f"\n_{report.handled_hidden} grupper er merket som håndtert og skjult._"
    blocks = [section(head)]
    if not report.unanswered:
        blocks.append(context("Ingen ubesvarte spørsmål i perioden. 🎉"))
        return blocks
    for group in report.unanswered[:MAX_GROUPS]:
        blocks.append(section(group_text(group)))
        blocks.append(
            {
                "type": "actions",
                "block_id": f"hfbot_group_{group.id}",
                "elements": [
                    button("Finn svaret", FIND_ANSWER, group.id, "primary"),
                    button("Merk som håndtert", MARK_HANDLED, group.id),
                ],
            }
        )
    rest = len(report.unanswered) - MAX_GROUPS
    if rest > 0:
        blocks.append(context(f"… og {rest} grupper til (se `hfbot report`)."))
    return blocks


def group_text(group: RefusalGroup) -> str:
    question = f"«{_short(group.question)}»" if group.question else NOT_STORED
    lines = [f"*{group.count}×* {question}"]
    if group.variants:
        lines.append("Også: " + "; ".join(f"«{_short(v, 120)}»" for v in group.variants[:3]))
    if group.documents:
        lines.append("Nærmeste dokumenter: " + ", ".join(escape(d) for d in group.documents))
    tail = f"Sist spurt {slack_time(group.last_asked)}"
    if group.handled_at:
        tail += (
            f" – spurt igjen etter at det ble merket som håndtert {slack_time(group.handled_at)}"
        )
    lines.append(f"_{tail}_")
    return _fitted(lines, [])


def downvoted_blocks(report: Report) -> list[dict]:
    """The 👎 answers: a head, then one section per answer with its "Finn svaret" button."""
    head = f"*👎-svar* – {len(report.downvoted)} de siste {report.days} dagene, nyeste først"
    if not report.downvoted:
        return [section(head + "\nIngen svar har fått 👎 i perioden.")]
    blocks = [section(head)]
    for vote in report.downvoted[:MAX_LISTED]:
        question = f"«{_short(vote.question)}»" if vote.question else NOT_STORED
        entry = f"{slack_time(vote.voted_at)} {question}\n↳ {escape(vote.first_line)}"
        if vote.sources:
            entry += "\nKilder: " + ", ".join(escape(s) for s in vote.sources[:4])
        block = section(_clip(entry))
        if vote.answer_id:
            block["accessory"] = button("Finn svaret", FIND_ANSWER, vote.answer_id)
        blocks.append(block)
    rest = len(report.downvoted) - MAX_LISTED
    if rest > 0:
        blocks.append(context(f"… og {rest} til (se `hfbot report`)."))
    return blocks


def site_model_blocks(site: SiteModelStatus) -> list[dict]:
    """What the secretariat's labels have done to the answer model, and its two buttons."""
    which = "tilpasset dette nettstedet" if site.active else "den som fulgte med hfbot"
    lines = [
        "*Svarmodellen*",
        f"{site.labels} merkede spørsmål («Finn svaret»). Modellen som svarer nå: {which}.",
    ]
    if site.running:
        lines.append("⏳ Tilpasser svarmodellen … oversikten viser resultatet når det er gjort.")
    elif site.last_summary and site.last_at:
        mark = "✅" if site.last_taken else "↩️"
        lines.append(f"{mark} {slack_time(site.last_at)}: {escape(site.last_summary)}")
    blocks = [section(_clip("\n".join(lines)))]
    elements = []
    if site.new_labels and not site.running:
        elements.append(button("Tilpass svarmodellen", REFIT, "refit", "primary"))
    if site.active and not site.running:
        elements.append(button("Gjenopprett forrige modell", RESTORE_MODEL, "restore"))
    if elements:
        blocks.append({"type": "actions", "block_id": "hfbot_site_model", "elements": elements})
    return blocks


def escalations_text(report: Report) -> str:
    lines = [f"*Åpne saker hos sekretariatet* – {len(report.escalations)} ikke merket som løst"]
    if not report.escalations:
        lines.append("Ingen åpne saker.")
    entries = []
    for escalation in report.escalations:
        question = f"«{_short(escalation.question)}»" if escalation.question else NOT_STORED
        entry = f"• {slack_time(escalation.created_at)} <@{escalation.requested_by}>: {question}"
        entries.append(entry)
    return _fitted(lines, entries)


# ---- helpers -------------------------------------------------------------------------------------


def slack_time(timestamp: float) -> str:
    """A time Slack shows in each reader's own time zone (with a plain fallback)."""
    fallback = datetime.fromtimestamp(timestamp).strftime("%d.%m.%Y %H:%M")
    return f"<!date^{int(timestamp)}^{{date_num}} {{time}}|{fallback}>"


def _doc(doc: DocumentLine) -> str:
    when = format_date(doc.date, doc.approximate) if doc.date else "udatert"
    return f"• {escape(doc.title)} — {when} — `{escape(doc.file)}`"


def _short(text: str | None, limit: int = MAX_QUESTION_CHARS) -> str:
    text = " ".join((text or "").split())
    return escape(text if len(text) <= limit else text[: limit - 1].rstrip() + "…")


def _fitted(
    head: Sequence[str], entries: Sequence[str], total: int | None = None, limit: int = MAX_LISTED
) -> str:
    """The head lines, then as many entries as fit in one section (at most `limit`), then
    "… og N til" for the rest of `total` (default: all entries)."""
    total = len(entries) if total is None else total
    text = "\n".join(head)
    shown = 0
    for entry in entries[:limit]:
        reserve = len(f"\n… og {total} til") if total > shown + 1 else 0
        if len(text) + 1 + len(entry) + reserve > TEXT_LIMIT:
            break
        text += "\n" + entry
        shown += 1
    if total > shown:
        text += f"\n… og {total - shown} til"
    return _clip(text)


def _clip(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"
