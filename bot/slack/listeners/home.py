"""The App Home tab: what the partnership is (from the corpus, with sources), example questions,
and the documents the bot knows with their dates. Built once per corpus version.

Admins (HFBOT_ADMINS) see the secretariat's section above it, built afresh on every visit:
the report of bot.report, with its "Merk som håndtert" and "Oppdater dokumentene" buttons."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from slack_sdk import WebClient

from bot.report import QuestionGrouper, build_report
from bot.slack import admin, admin_home
from bot.slack.blocks import answer_body, context, format_date, section, sections, source_line
from bot.slack.listeners import labelling
from bot.slack.mrkdwn import escape, from_markdown, link

if TYPE_CHECKING:
    from slack_bolt import Ack, App

    from bot.slack.deps import BotDeps

log = logging.getLogger(__name__)

# The Home tab's introduction: each heading answered from the corpus, shown when it is answered.
ONBOARDING = (
    ("Hva er Helsefellesskap Vest-Viken?", "Hva er Helsefellesskap Vest-Viken?"),
    ("Hvem er med?", "Hvem deltar i helsefellesskapet?"),
    ("Hvordan er det organisert?", "Hvordan er helsefellesskapet organisert?"),
)
EXAMPLE_QUESTIONS = (
    "Hvilke kommuner er med i helsefellesskapet?",
    "Hvem deltar på partnerskapsmøtet?",
    "Hva gjør de faglige samarbeidsutvalgene?",
    "Hva er de prioriterte pasientgruppene?",
)
HOME_BLOCK_LIMIT = 100  # a Home tab view holds at most 100 blocks
ADMIN_FAILED = "Sekretariatets oversikt kunne ikke lages akkurat nå – feilen er logget."
REFRESHING = "Oppdaterer dokumentene … oversikten viser resultatet når det er gjort."
STORE_DOWN_HOME = (
    "Dokumentlageret er ikke tilgjengelig akkurat nå, så jeg kan ikke vise oversikten. "
    "Prøv igjen om litt."
)


class HomeView:
    """The Home tab's blocks, cached per corpus version (the answer costs a retrieval)."""

    def __init__(self, deps: BotDeps) -> None:
        self.deps = deps
        self._cache: dict[str, list[dict]] = {}
        self._lock = threading.Lock()

    def blocks(self) -> list[dict]:
        version = self.deps.corpus_version()
        with self._lock:
            cached = self._cache.get(version)
            if cached is None:
                cached = self._build()
                self._cache = {version: cached}  # older versions are never shown again
            return cached

    def _build(self) -> list[dict]:
        deps = self.deps
        out: list[dict] = [
            {"type": "header", "text": {"type": "plain_text", "text": "Velkommen til hfbot"}},
            section(
                "Jeg svarer på spørsmål om *Helsefellesskap Vest-Viken* – samarbeidet mellom "
                "Vestre Viken HF og kommunene – ut fra dokumentene under, og viser alltid "
                "kildene. Nevn meg i en kanal, send meg en melding her, eller bruk `/hfbot`."
            ),
            {"type": "divider"},
        ]
        answers = [(heading, deps.answerer.answer(q, ())) for heading, q in ONBOARDING]
        answered = [(h, a) for h, a in answers if not a.abstained] or answers[:1]
        for heading, answer in answered:
            out += sections(f"*{escape(heading)}*\n" + from_markdown(answer_body(answer)))
            sources = answer.citations or answer.closest
            if sources:
                out.append(context("\n".join(source_line(c) for c in sources)))
        out.append({"type": "divider"})
        out += sections(
            "*Eksempler på spørsmål*\n" + "\n".join(f"• {escape(q)}" for q in EXAMPLE_QUESTIONS)
        )
        out.append({"type": "divider"})
        out += sections("*Dokumentene jeg kjenner*\n" + document_lines(deps.documents()))
        return out[:HOME_BLOCK_LIMIT]


def document_lines(documents: dict) -> str:
    """One line per live document, newest first: title — date — file."""
    if not documents:
        return "_Ingen dokumenter er lagt inn ennå._"
    docs = sorted(
        documents.values(),
        key=lambda d: d.meta.stated_date.isoformat() if d.meta.stated_date else "",
        reverse=True,
    )
    lines = []
    for doc in docs:
        meta = doc.meta
        when = format_date(meta.date.isoformat() if meta.date else "", meta.date_approximate)
        if meta.updated:
            when += f", oppdatert {format_date(meta.updated.isoformat(), False)}"
        title = link(meta.url, meta.title) if meta.url else escape(meta.title or meta.file)
        lines.append(f"• {title} — {when} — `{escape(meta.file)}`")
    return "\n".join(lines)


class AdminSection:
    """The secretariat's report as blocks; question embeddings are cached between visits."""

    def __init__(self, deps: BotDeps) -> None:
        self.deps = deps
        self._grouper: QuestionGrouper | None = None
        self._lock = threading.Lock()

    def grouper(self) -> QuestionGrouper | None:
        embedder = getattr(self.deps.answerer, "embedder", None)
        if embedder is None or not hasattr(embedder, "embed_documents"):
            return None  # identical wordings are still grouped
        with self._lock:
            if self._grouper is None or self._grouper.embedder is not embedder:
                self._grouper = QuestionGrouper(embedder)
            return self._grouper

    def _store_model(self) -> str | None:
        """The model the answerer's store was built with, when the answerer has a store."""
        from ingest.embedder import store_model

        store = getattr(self.deps.answerer, "store", None)
        return store_model(self.deps.settings, store) if store is not None else None

    def blocks(
        self, notice: str | None = None, site: labelling.SiteTeaching | None = None
    ) -> list[dict]:
        from ingest import runlog

        deps = self.deps
        try:
            report = build_report(
                deps.settings,
                deps.feedback,
                documents=deps.documents,
                last_ingest=runlog.last_run(deps.settings),
                grouper=self.grouper(),
                embedding_model=self._store_model,
            )
        except Exception as exc:
            log.exception("the secretariat's report could not be built")
            return [section(f"{ADMIN_FAILED} ({escape(type(exc).__name__)})"), divider()]
        try:
            status = site.status() if site is not None else None
        except Exception:
            log.exception("the site's labels and answer model could not be read")
            status = None
        return admin_home.admin_blocks(report, notice=notice, site=status)


def divider() -> dict:
    return {"type": "divider"}


def register(app: App, deps: BotDeps) -> None:
    view = HomeView(deps)
    admin_section = AdminSection(deps)
    teaching: list[labelling.SiteTeaching] = []

    def ack_home(ack: Ack) -> None:
        ack()

    def home_blocks(user: str, notice: str | None = None) -> list[dict]:
        try:
            blocks = view.blocks()
        except Exception as exc:
            from ingest.store import StoreUnavailable

            if isinstance(exc, StoreUnavailable):
                log.error("Home tab: store unavailable: %s", exc)
            else:
                log.exception("Home tab could not be built")
            blocks = [section(STORE_DOWN_HOME)]
        if deps.is_admin(user):
            blocks = admin_section.blocks(notice, teaching[0] if teaching else None) + blocks
        return blocks[:HOME_BLOCK_LIMIT]

    def publish(client: WebClient, user: str, notice: str | None = None) -> None:
        client.views_publish(
            user_id=user, view={"type": "home", "blocks": home_blocks(user, notice)}
        )

    def publish_home(event: dict, client: WebClient) -> None:
        # ignore the app_home_opened event for anything but the Home tab
        if event.get("tab") != "home":
            return
        publish(client, event["user"])

    def mark_handled(body: dict, client: WebClient) -> None:
        user = str((body.get("user") or {}).get("id", ""))
        if not deps.is_admin(user):  # the button is shown to admins only
            log.warning("%s clicked 'Merk som håndtert' without being an admin", user)
            return
        group_id = str((body.get("actions") or [{}])[0].get("value", ""))
        deps.feedback.mark_handled(group_id, user)
        publish(client, user)

    def refresh(body: dict, client: WebClient) -> None:
        user = str((body.get("user") or {}).get("id", ""))
        if not deps.is_admin(user):
            log.warning("%s clicked 'Oppdater dokumentene' without being an admin", user)
            return
        publish(client, user, notice=REFRESHING)
        publish(client, user, notice=admin.refresh_corpus(deps))

    # "Finn svaret", "Tilpass svarmodellen", "Gjenopprett forrige modell": they end in the Home tab.
    teaching.append(labelling.register(app, deps, publish))
    app.event("app_home_opened")(ack=ack_home, lazy=[publish_home])
    app.action(admin_home.MARK_HANDLED)(ack=ack_home, lazy=[mark_handled])
    app.action(admin_home.ADMIN_REFRESH)(ack=ack_home, lazy=[refresh])
