"""Buttons under answers: 👍/👎, "Vis utdrag", "Spør sekretariatet", "Del i kanalen", and
"Merk som løst" under escalations."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack import blocks
from bot.slack.blocks import Message, notice
from bot.slack.feedback import StoredAnswer
from bot.types import Answer, Citation

if TYPE_CHECKING:
    from slack_bolt import Ack, App, Respond

    from bot.slack.deps import BotDeps

log = logging.getLogger(__name__)

Handler = Callable[[dict, WebClient, "Respond"], None]

GONE_TEXT = "Jeg finner ikke dette svaret lenger – spør gjerne på nytt."
THANKS_UP = "Takk for tilbakemeldingen! 👍"
THANKS_DOWN = (
    "Takk – jeg noterer at svaret ikke var godt nok. Trenger du et svar fra et menneske, "
    "trykk «Spør sekretariatet»."
)
FAILED_CLICK_TEXT = "Beklager, noe gikk galt med knappen. Prøv igjen om litt – feilen er logget."
NOT_IN_CHANNEL_TEXT = (
    "Jeg er ikke med i denne kanalen og kan ikke dele svaret her. Inviter meg med "
    "`/invite @hfbot` og prøv igjen."
)


def ack_action(ack: Ack) -> None:
    ack()


def _value(body: dict) -> str:
    return str((body.get("actions") or [{}])[0].get("value", ""))


def _user(body: dict) -> str:
    return str((body.get("user") or {}).get("id", ""))


def _channel(body: dict) -> str:
    return str((body.get("channel") or (body.get("container") or {})).get("id", "")) or str(
        (body.get("container") or {}).get("channel_id", "")
    )


def tell_user(body: dict, client: WebClient, respond: Respond, messages: list[Message]) -> None:
    """A reply only the clicking user sees, in the thread of the message they clicked."""
    container = body.get("container") or {}
    if container.get("is_ephemeral") or not _channel(body):
        for message in messages:
            respond(response_type="ephemeral", replace_original=False, **message.as_kwargs())
        return
    message_ = body.get("message") or {}
    thread_ts = message_.get("thread_ts") or container.get("thread_ts")
    for message in messages:
        kwargs = {"thread_ts": thread_ts} if thread_ts else {}
        client.chat_postEphemeral(
            channel=_channel(body), user=_user(body), **message.as_kwargs(), **kwargs
        )


def stored_to_answer(stored: StoredAnswer, question: str) -> Answer:
    citations = [
        Citation(
            n=int(c.get("n", 0)),
            file=str(c.get("file", "")),
            title=str(c.get("title", "")),
            date=str(c.get("date", "")),
            date_approximate=bool(c.get("date_approximate", False)),
            location=str(c.get("location", "")),
            url=str(c.get("url", "")),
            quote=str(c.get("quote", "")),
        )
        for c in stored.citations
    ]
    return Answer(
        question=question, text=stored.answer, abstained=stored.abstained, citations=citations
    )


def register(app: App, deps: BotDeps) -> None:
    def question_of(stored: StoredAnswer) -> str | None:
        return stored.question or deps.questions.get(stored.id)

    def vote(body: dict, client: WebClient, respond: Respond) -> None:
        answer_id = _value(body)
        up = body["actions"][0]["action_id"] == blocks.VOTE_UP
        try:
            if deps.feedback.get_answer(answer_id) is None:
                tell_user(body, client, respond, [notice(GONE_TEXT)])
                return
            deps.feedback.record_vote(answer_id, _user(body), "up" if up else "down")
        except Exception:
            log.exception("could not store feedback for %s", answer_id)
            tell_user(body, client, respond, [notice("Beklager, jeg fikk ikke lagret dette.")])
            return
        tell_user(body, client, respond, [notice(THANKS_UP if up else THANKS_DOWN)])

    def show_quotes(body: dict, client: WebClient, respond: Respond) -> None:
        stored = deps.feedback.get_answer(_value(body))
        if stored is None:
            tell_user(body, client, respond, [notice(GONE_TEXT)])
            return
        tell_user(body, client, respond, blocks.quotes_messages(stored.citations))

    def escalate(body: dict, client: WebClient, respond: Respond) -> None:
        target = deps.settings.escalation_channel
        stored = deps.feedback.get_answer(_value(body))
        if not target or stored is None:
            tell_user(
                body,
                client,
                respond,
                [notice(GONE_TEXT if target else "Ingen kanal for sekretariatet er satt opp.")],
            )
            return
        channel, mention = escalation_target(target)
        user = _user(body)
        escalation_id = deps.feedback.open_escalation(stored.id, user)
        message = blocks.escalation_message(
            question=question_of(stored),
            answer_text=stored.answer,
            requested_by=user,
            permalink=_permalink(client, stored),
            escalation_id=escalation_id,
            mention=mention,
        )
        try:
            posted = client.chat_postMessage(
                channel=channel, unfurl_links=False, **message.as_kwargs()
            )
        except SlackApiError as exc:
            log.error("could not post escalation to %s: %s", channel, exc)
            tell_user(
                body,
                client,
                respond,
                [
                    notice(
                        "Jeg fikk ikke sendt spørsmålet til sekretariatet (er jeg med i "
                        "kanalen deres?). Feilen er logget."
                    )
                ],
            )
            return
        deps.feedback.set_escalation_message(escalation_id, channel, posted["ts"])
        tell_user(
            body,
            client,
            respond,
            [notice("Spørsmålet er sendt til sekretariatet – de svarer deg så snart de kan.")],
        )

    def resolve(body: dict, client: WebClient, respond: Respond) -> None:
        escalation_id = _value(body)
        user = _user(body)
        if not deps.feedback.resolve_escalation(escalation_id, user):
            tell_user(body, client, respond, [notice("Denne saken er allerede løst.")])
            return
        escalation = deps.feedback.get_escalation(escalation_id)
        stored = deps.feedback.get_answer(escalation.answer_id) if escalation else None
        if escalation is None or stored is None or not escalation.channel:
            return
        message = blocks.escalation_message(
            question=question_of(stored),
            answer_text=stored.answer,
            requested_by=escalation.requested_by,
            permalink=_permalink(client, stored),
            escalation_id=escalation_id,
            resolved_by=user,
        )
        client.chat_update(
            channel=escalation.channel, ts=escalation.message_ts, **message.as_kwargs()
        )

    def post_in_channel(body: dict, client: WebClient, respond: Respond) -> None:
        stored = deps.feedback.get_answer(_value(body))
        if stored is None:
            respond(
                response_type="ephemeral", replace_original=False, **notice(GONE_TEXT).as_kwargs()
            )
            return
        question = question_of(stored) or ""
        user = _user(body)
        channel = _channel(body) or stored.channel
        answer = stored_to_answer(stored, question)
        head = f"<@{user}> spurte: " + blocks.escape(question)
        try:
            # The shared answer gets its own id, so its thread takes follow-ups.
            posted_ts: str | None = None
            shared_id = deps.feedback.record_answer(answer, channel=channel, user_id=user)
            deps.questions.put(shared_id, question)
            messages = blocks.answer_messages(
                answer, shared_id, escalation=bool(deps.settings.escalation_channel)
            )
            messages[0].blocks = blocks.sections(head)[:1] + messages[0].blocks
            for message in messages[:1] + messages[1:]:
                response = client.chat_postMessage(
                    channel=channel,
                    thread_ts=posted_ts,
                    unfurl_links=False,
                    **message.as_kwargs(),
                )
                posted_ts = posted_ts or response["ts"]
            deps.feedback.set_thread(shared_id, posted_ts)
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("could not share an answer in %s: %s", channel, error)
            text = (
                NOT_IN_CHANNEL_TEXT
                if error in ("not_in_channel", "channel_not_found")
                else (f"Jeg fikk ikke delt svaret ({error}).")
            )
            respond(response_type="ephemeral", replace_original=False, **notice(text).as_kwargs())
            return
        respond(delete_original=True)

    def guarded(handler: Handler) -> Handler:
        """Every click ends in something the user sees, even when the database is down."""

        def run(body: dict, client: WebClient, respond: Respond) -> None:
            try:
                handler(body, client, respond)
            except Exception:
                log.exception("button %s failed", (body.get("actions") or [{}])[0].get("action_id"))
                try:
                    tell_user(body, client, respond, [notice(FAILED_CLICK_TEXT)])
                except Exception:
                    log.exception("could not tell the user about the failure either")

        run.__name__ = handler.__name__  # Bolt names lazy listeners after the function
        return run

    for action_id, handler in (
        (blocks.VOTE_UP, vote),
        (blocks.VOTE_DOWN, vote),
        (blocks.SHOW_QUOTES, show_quotes),
        (blocks.ESCALATE, escalate),
        (blocks.RESOLVE, resolve),
        (blocks.POST_IN_CHANNEL, post_in_channel),
    ):
        app.action(action_id)(ack=ack_action, lazy=[guarded(handler)])


def escalation_target(setting: str) -> tuple[str, str]:
    """HFBOT_ESCALATION_CHANNEL → (channel to post in, mention to put first).

    "C0123" posts in the channel; "C0123 S0456" also mentions user group S0456 (or user U…).
    A lone user group id cannot be posted to, so it is posted to the first channel given.
    """
    tokens = setting.replace(",", " ").split()
    channel = next((t for t in tokens if t[:1] in ("C", "G", "D")), tokens[0] if tokens else "")
    mentions = []
    for token in tokens:
        if token.startswith("S"):
            mentions.append(f"<!subteam^{token}>")
        elif token.startswith(("U", "W")):
            mentions.append(f"<@{token}>")
    return channel, " ".join(mentions)


def _permalink(client: WebClient, stored: StoredAnswer) -> str | None:
    ts = stored.message_ts or stored.thread_ts
    if not ts:
        return None
    try:
        return str(client.chat_getPermalink(channel=stored.channel, message_ts=ts)["permalink"])
    except SlackApiError as exc:
        log.warning("no permalink for %s/%s: %s", stored.channel, ts, exc)
        return None
