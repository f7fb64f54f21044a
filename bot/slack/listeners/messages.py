"""Messages: DMs to the bot, follow-ups in threads it answered in, files uploaded in a DM."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from slack_sdk import WebClient

from bot.slack import admin
from bot.slack.blocks import notice
from bot.slack.history import bot_in_thread, recent_dm_history, thread_history
from bot.slack.listeners.events import ack_event, is_from_a_bot
from bot.slack.mrkdwn import plain_text_from_slack
from bot.slack.responder import ChannelSink, add_reaction, answer_question

if TYPE_CHECKING:
    from slack_bolt import App, BoltContext

    from bot.slack.deps import BotDeps

log = logging.getLogger(__name__)

# Subtypes that are people writing; edits, joins, deletions and bot posts are not questions.
QUESTION_SUBTYPES = {None, "file_share", "thread_broadcast"}


def register(app: App, deps: BotDeps) -> None:
    def on_message(event: dict, client: WebClient, context: BoltContext) -> None:
        if event.get("subtype") not in QUESTION_SUBTYPES or is_from_a_bot(event, context):
            return
        if event.get("channel_type") == "im":
            _direct_message(deps, event, client, context)
        else:
            _thread_reply(deps, event, client, context)

    app.event("message")(ack=ack_event, lazy=[on_message])


def _direct_message(deps: BotDeps, event: dict, client: WebClient, context: BoltContext) -> None:
    channel, ts, user = event["channel"], event["ts"], event["user"]
    thread_ts = event.get("thread_ts")
    question = plain_text_from_slack(event.get("text", ""))
    sink = ChannelSink(client, channel, thread_ts, react_ts=ts)
    files = event.get("files") or []
    if files:
        if deps.is_admin(user):
            _add_files(deps, client, sink, channel, ts, files)
            return
        if not question:
            sink.send([notice(admin.REFUSAL_TEXT)])
            return
        # A question typed into an upload's comment is still a question.
    ids = {"bot_user_id": context.bot_user_id, "bot_id": context.bot_id}

    def history() -> list:
        if thread_ts:
            return thread_history(client, channel, thread_ts, before_ts=ts, **ids)
        return recent_dm_history(client, channel, before_ts=ts, **ids)

    answer_question(
        deps,
        sink=sink,
        question=question,
        user=user,
        channel=channel,
        thread_ts=thread_ts,
        history=history,
    )


def _thread_reply(deps: BotDeps, event: dict, client: WebClient, context: BoltContext) -> None:
    thread_ts = event.get("thread_ts")
    if not thread_ts or thread_ts == event["ts"]:
        return  # channel chatter outside threads is not for the bot
    if context.bot_user_id and f"<@{context.bot_user_id}>" in event.get("text", ""):
        return  # a mention: the app_mention listener answers it
    channel, ts = event["channel"], event["ts"]
    if not _answered_in(deps, client, context, channel, thread_ts):
        return
    question = plain_text_from_slack(event.get("text", ""))
    if is_chatter(question):
        return  # "takk!", 👍 or a file in the thread asks nothing

    def history() -> list:
        return thread_history(
            client,
            channel,
            thread_ts,
            before_ts=ts,
            bot_user_id=context.bot_user_id,
            bot_id=context.bot_id,
        )

    answer_question(
        deps,
        sink=ChannelSink(client, channel, thread_ts, react_ts=ts),
        question=question,
        user=event["user"],
        channel=channel,
        thread_ts=thread_ts,
        history=history,
    )


_EMOJI = re.compile(r":[a-z0-9_+'-]+:")
_THANKS = {
    "takk",
    "tusen",
    "mange",
    "ok",
    "okei",
    "flott",
    "supert",
    "bra",
    "fint",
    "thanks",
    "thank",
    "you",
    "ja",
    "nei",
    "for",
    "det",
    "så",
    "mye",
    "perfekt",
}


def is_chatter(text: str) -> bool:
    """A thread reply that is not a question for the bot: empty, emoji only, or thanks."""
    words = re.findall(r"\w+", _EMOJI.sub(" ", text).lower())
    return not words or (len(words) <= 4 and all(w in _THANKS for w in words) and "?" not in text)


def _answered_in(
    deps: BotDeps, client: WebClient, context: BoltContext, channel: str, thread_ts: str
) -> bool:
    try:
        return deps.feedback.answered_in_thread(channel, thread_ts)
    except Exception:
        log.exception("could not look up thread %s in the database; asking Slack", thread_ts)
        return bot_in_thread(client, channel, thread_ts, context.bot_user_id, context.bot_id)


def _add_files(
    deps: BotDeps, client: WebClient, sink: ChannelSink, channel: str, ts: str, files: list
) -> None:
    add_reaction(client, channel, ts, "inbox_tray")
    for file in files:
        try:
            added = admin.add_uploaded_file(deps, client, file)
            text = admin.added_text(added)
        except admin.UploadError as exc:
            log.warning("upload from Slack not added: %s", exc)
            text = str(exc)
        except Exception as exc:
            log.exception("upload from Slack failed")
            text = f"Noe gikk galt med filen: {exc}. Feilen er logget."
        sink.send([notice(text)])
