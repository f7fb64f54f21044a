"""A Slack thread as conversation history for `answer(question, history)`."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.blocks import WORKING_TEXT
from bot.slack.mrkdwn import plain_text_from_slack
from bot.types import Turn

log = logging.getLogger(__name__)

MAX_TURNS = 10
# The bot's fallback text ends with its sources; history needs the answer only.
_SOURCES_MARKERS = ("\nKilder:", "\nNærmeste dokumenter:")


def thread_history(
    client: WebClient,
    channel: str,
    thread_ts: str,
    *,
    before_ts: str,
    bot_user_id: str | None,
    bot_id: str | None,
) -> list[Turn]:
    """The thread's turns before `before_ts` (the question being answered), oldest first."""
    try:
        response = client.conversations_replies(channel=channel, ts=thread_ts, limit=100)
    except SlackApiError as exc:
        # An answer without history beats no answer; the cause goes to the log.
        log.warning("could not read thread %s in %s: %s", thread_ts, channel, exc)
        return []
    messages = response.get("messages") or []
    return _turns(messages, before_ts=before_ts, bot_user_id=bot_user_id, bot_id=bot_id)


def bot_in_thread(
    client: WebClient, channel: str, thread_ts: str, bot_user_id: str | None, bot_id: str | None
) -> bool:
    """Whether the bot has posted in the thread, asked of Slack (when the database cannot say)."""
    try:
        response = client.conversations_replies(channel=channel, ts=thread_ts, limit=100)
    except SlackApiError as exc:
        log.warning("could not read thread %s in %s: %s", thread_ts, channel, exc)
        return False
    return any(
        (bot_user_id and m.get("user") == bot_user_id) or (bot_id and m.get("bot_id") == bot_id)
        for m in response.get("messages") or []
    )


DM_HISTORY_WINDOW_S = 30 * 60


def recent_dm_history(
    client: WebClient,
    channel: str,
    *,
    before_ts: str,
    bot_user_id: str | None,
    bot_id: str | None,
    window_s: float = DM_HISTORY_WINDOW_S,
) -> list[Turn]:
    """The DM's last turns within `window_s` before the question: a DM is one conversation."""
    oldest = f"{float(before_ts) - window_s:.6f}"
    try:
        response = client.conversations_history(
            channel=channel, latest=before_ts, oldest=oldest, inclusive=False, limit=2 * MAX_TURNS
        )
    except SlackApiError as exc:
        log.warning("could not read the DM history of %s: %s", channel, exc)
        return []
    messages = sorted(response.get("messages") or [], key=lambda m: float(m.get("ts", "0")))
    return _turns(messages, before_ts=before_ts, bot_user_id=bot_user_id, bot_id=bot_id)


def _turns(
    messages: list[dict], *, before_ts: str, bot_user_id: str | None, bot_id: str | None
) -> list[Turn]:
    turns: list[Turn] = []
    for message in messages:
        if float(message.get("ts", "0")) >= float(before_ts):
            continue
        from_bot = bool(
            (bot_user_id and message.get("user") == bot_user_id)
            or (bot_id and message.get("bot_id") == bot_id)
        )
        if message.get("bot_id") and not from_bot:
            continue  # other bots' chatter is not part of the conversation
        text = plain_text_from_slack(message.get("text", ""))
        if from_bot:
            for marker in _SOURCES_MARKERS:
                text = text.split(marker, 1)[0]
            if not text or text.startswith(WORKING_TEXT):
                continue
        if text:
            turns.append(Turn(role="assistant" if from_bot else "user", text=text.strip()))
    return turns[-MAX_TURNS:]
