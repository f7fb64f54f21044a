"""Mentions in channels: answer in a thread under the question."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_sdk import WebClient

from bot.slack.history import thread_history
from bot.slack.mrkdwn import plain_text_from_slack
from bot.slack.responder import ChannelSink, answer_question

if TYPE_CHECKING:
    from slack_bolt import Ack, App, BoltContext

    from bot.slack.deps import BotDeps


def ack_event(ack: Ack) -> None:
    ack()


def is_from_a_bot(event: dict, context: BoltContext) -> bool:
    """Messages from bots (this one included) are never questions."""
    # message events can have $.event.bot_id while they do not have a user id
    return bool(
        event.get("bot_id")
        or event.get("subtype") == "bot_message"
        or not event.get("user")
        or event.get("user") == context.bot_user_id
    )


def register(app: App, deps: BotDeps) -> None:
    def answer_mention(event: dict, client: WebClient, context: BoltContext) -> None:
        if is_from_a_bot(event, context):
            return
        channel, ts = event["channel"], event["ts"]
        # Reply in the thread the mention was in, or start one under the question.
        thread_ts = event.get("thread_ts") or ts

        def history() -> list:
            if not event.get("thread_ts"):
                return []
            return thread_history(
                client,
                channel,
                event["thread_ts"],
                before_ts=ts,
                bot_user_id=context.bot_user_id,
                bot_id=context.bot_id,
            )

        answer_question(
            deps,
            sink=ChannelSink(client, channel, thread_ts, react_ts=ts),
            question=plain_text_from_slack(event.get("text", "")),
            user=event["user"],
            channel=channel,
            thread_ts=thread_ts,
            history=history,
        )

    app.event("app_mention")(ack=ack_event, lazy=[answer_mention])
