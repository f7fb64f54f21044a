"""The secretariat teaches the bot from the Home tab: "Finn svaret" (a modal to point at the
passage that answers a refused or 👎 question), "Tilpass svarmodellen" (a guarded refit in the
background) and "Gjenopprett forrige modell". HFBOT_ADMINS only."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_sdk import WebClient

from bot.site_labels import Label, LabelPassage
from bot.site_store import LabelStore, SiteModels
from bot.slack import admin_home, label_modal
from bot.slack.label_modal import ModalState

if TYPE_CHECKING:
    from slack_bolt import Ack, App

    from bot.candidates import Candidate
    from bot.site_model import MakeFitter
    from bot.slack.deps import BotDeps

log = logging.getLogger(__name__)

Publish = Callable[..., None]  # publish(client, user, notice=None): the user's Home tab again
NOT_ADMIN = "Bare sekretariatet (HFBOT_ADMINS) kan merke svar."
REFITTING = "Tilpasser svarmodellen i bakgrunnen … oversikten viser resultatet når det er gjort."


class SiteTeaching:
    """Labels and site models over the bot's database, and the one refit that may run."""

    # (answerer, folds, question-set names) → Fitter for the refit; None: bot.answer.fit's.
    make_fitter: MakeFitter | None = None

    def __init__(self, deps: BotDeps) -> None:
        self.deps = deps
        self.labels = LabelStore(deps.feedback.engine)
        self.models = SiteModels(deps.feedback.engine)
        self.refitting = threading.Lock()
        self.saved_views: set[str] = set()  # submissions that made a label (to thank once)

    def status(self) -> admin_home.SiteModelStatus:
        latest = self.models.latest_attempt()
        active = self.models.active()
        newest = self.labels.newest_at()
        return admin_home.SiteModelStatus(
            labels=self.labels.count(),
            new_labels=newest is not None and (latest is None or newest > latest.labels_at),
            active=active is not None,
            has_previous=self.models.has_previous(),
            last_summary=latest.summary if latest else "",
            last_at=latest.created_at if latest else None,
            last_taken=bool(latest and latest.status != "refused"),
            running=self.refitting.locked(),
        )

    def candidates(self, question: str) -> list[Candidate]:
        from bot.candidates import candidate_passages

        try:
            return candidate_passages(self.deps.answerer, question)  # type: ignore[arg-type]
        except Exception:
            log.exception("could not find candidate passages for a label")
            return []

    def passage(self, key: str) -> Candidate | None:
        from bot.candidates import passage_for_key

        try:
            index = self.deps.answerer.retriever.index()  # type: ignore[attr-defined]
        except Exception:
            log.exception("could not read the store to save a label")
            return None
        return passage_for_key(index, key)


def validate(teaching: SiteTeaching, state: ModalState, view: dict, user: str) -> dict | Label:
    """The label the admin made, or {block_id: message} for what must be fixed."""
    submission = label_modal.read_submission(view)
    stored = teaching.deps.feedback.get_answer(state.answer_id) if state.answer_id else None
    question = submission.question or (stored.question if stored else None)
    if not question:
        return {label_modal.QUESTION_BLOCK: "Skriv spørsmålet."}
    first_pick = label_modal.PICK_BLOCK.format(0)
    pick_block = first_pick if first_pick in (view.get("state") or {}).get("values", {}) else None
    where = pick_block or label_modal.NONE_BLOCK
    if submission.unanswerable and submission.keys:
        return {label_modal.NONE_BLOCK: "Kryss av for utdrag eller «Står ikke i dokumentene»."}
    if not submission.unanswerable and not submission.keys:
        return {where: "Kryss av for utdraget som svarer, eller «Står ikke i dokumentene»."}
    passages: list[LabelPassage] = []
    for key in submission.keys:
        found = teaching.passage(key)
        if found is None:
            return {
                where: "Dokumentet er endret siden vinduet ble åpnet: åpne «Finn svaret» igjen."
            }
        passages.append(
            LabelPassage(found.file, found.text, found.title, found.section, found.date)
        )
    texts = " ".join(p.text for p in passages).casefold()
    for words in submission.must:
        if words.casefold() not in texts:
            return {label_modal.MUST_BLOCK: f"«{words}» står ikke i utdragene du krysset av."}
    return Label(
        question=question,
        passages=tuple(passages),
        must=tuple(submission.must),
        unanswerable=submission.unanswerable,
        created_by=user,
        answer_id=state.answer_id or None,
    )


def register(app: App, deps: BotDeps, publish: Publish) -> SiteTeaching:
    teaching = SiteTeaching(deps)

    def ack_only(ack: Ack) -> None:
        ack()

    def user_of(body: dict) -> str:
        return str((body.get("user") or {}).get("id", ""))

    def open_modal(body: dict, client: WebClient) -> None:
        user = user_of(body)
        if not deps.is_admin(user):
            log.warning("%s clicked 'Finn svaret' without being an admin", user)
            return
        answer_id = str((body.get("actions") or [{}])[0].get("value", ""))
        stored = deps.feedback.get_answer(answer_id)
        question = stored.question if stored else None
        state = ModalState(answer_id, ask_question=not question)
        # The trigger expires in 3 s: open at once, fill in when the passages are found.
        opened = client.views_open(
            trigger_id=body["trigger_id"], view=label_modal.loading_view(state)
        )
        view_id = (opened.get("view") or {}).get("id")
        found = teaching.candidates(question) if question else []
        client.views_update(view_id=view_id, view=label_modal.label_view(state, question, found))

    def show_more(body: dict, client: WebClient) -> None:
        user = user_of(body)
        if not deps.is_admin(user):  # only admins open the modal; a stray click shows nothing
            log.warning("%s clicked 'Vis flere' without being an admin", user)
            return
        view = body.get("view") or {}
        state = ModalState.load(view.get("private_metadata", ""))
        typed = label_modal.read_submission(view).question
        stored = deps.feedback.get_answer(state.answer_id) if state.answer_id else None
        question = typed or (stored.question if stored else None)
        found = teaching.candidates(question) if question else []
        if found and any(
            b.get("block_id", "").startswith("hfbot_label_pick_") for b in view.get("blocks", [])
        ):
            state.shown += label_modal.PAGE
        client.views_update(
            view_id=view.get("id"),
            hash=view.get("hash"),
            view=label_modal.label_view(state, question, found),
        )

    def submit(ack: Ack, body: dict, view: dict) -> None:
        user = user_of(body)
        if not deps.is_admin(user):
            log.warning("%s submitted a label without being an admin", user)
            ack()
            return
        state = ModalState.load(view.get("private_metadata", ""))
        made = validate(teaching, state, view, user)
        if isinstance(made, dict):
            ack(response_action="errors", errors=made)
            return
        teaching.labels.add(made)
        if state.answer_id:
            deps.feedback.mark_handled(state.answer_id, user)
        teaching.saved_views.add(str(view.get("id")))
        ack()

    def thank(body: dict, client: WebClient) -> None:
        user = user_of(body)
        view_id = str((body.get("view") or {}).get("id"))
        if view_id in teaching.saved_views:  # not after a submission with errors
            teaching.saved_views.discard(view_id)
            publish(
                client,
                user,
                notice="Takk! Svaret er merket, og spørsmålet er merket som håndtert. "
                "Trykk «Tilpass svarmodellen» når du har merket det du vil.",
            )

    def refit(body: dict, client: WebClient) -> None:
        user = user_of(body)
        if not deps.is_admin(user):
            log.warning("%s clicked 'Tilpass svarmodellen' without being an admin", user)
            return
        if not teaching.refitting.acquire(blocking=False):
            publish(client, user, notice=REFITTING)
            return

        def run() -> None:
            from bot.site_model import run_site_refit

            try:
                decision = run_site_refit(
                    deps.settings, created_by=user, make_fitter=teaching.make_fitter
                )
                notice = decision.summary()
            except Exception as exc:
                log.exception("refit with site labels failed")
                notice = f"Tilpasningen feilet: {exc}. Svarmodellen i bruk er uendret."
            finally:
                teaching.refitting.release()
            publish(client, user, notice=notice)

        threading.Thread(target=run, name="hfbot-refit", daemon=True).start()
        publish(client, user, notice=REFITTING)

    def restore(body: dict, client: WebClient) -> None:
        user = user_of(body)
        if not deps.is_admin(user):
            log.warning("%s clicked 'Gjenopprett forrige modell' without being an admin", user)
            return
        from bot.site_model import restore_previous

        publish(client, user, notice=restore_previous(deps.settings))

    app.action(label_modal.FIND_ANSWER)(ack=ack_only, lazy=[open_modal])
    app.action(label_modal.SHOW_MORE)(ack=ack_only, lazy=[show_more])
    app.view_submission(label_modal.CALLBACK)(ack=submit, lazy=[thank])
    app.action(admin_home.REFIT)(ack=ack_only, lazy=[refit])
    app.action(admin_home.RESTORE_MODEL)(ack=ack_only, lazy=[restore])
    return teaching
