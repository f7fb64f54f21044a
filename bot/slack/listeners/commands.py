"""`/hfbot <question>` (answer only the asker sees), `/hfbot hjelp`, `/hfbot oppdater` (admins)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack import admin
from bot.slack.blocks import WORKING_TEXT, help_message, notice
from bot.slack.responder import EphemeralSink, answer_question

if TYPE_CHECKING:
    from slack_bolt import Ack, App, Respond

    from bot.slack.deps import BotDeps

COMMAND = "/hfbot"
HELP_WORDS = {"", "hjelp", "help", "?"}
REFRESH_WORDS = {"oppdater", "update", "refresh"}
REFRESHING_TEXT = "Oppdaterer dokumentene … jeg sier fra når det er gjort."


def _kind(command: dict) -> str:
    word = (command.get("text") or "").strip().lower()
    if word in HELP_WORDS:
        return "help"
    if word in REFRESH_WORDS:
        return "refresh"
    return "question"


def register(app: App, deps: BotDeps) -> None:
    def ack_command(ack: Ack, command: dict) -> None:
        # Everything here is instant; questions and refreshes run after the ack (lazy).
        kind = _kind(command)
        if kind == "help":
            message = help_message(is_admin=deps.is_admin(command.get("user_id")))
        elif kind == "refresh":
            text = REFRESHING_TEXT if deps.is_admin(command.get("user_id")) else admin.REFUSAL_TEXT
            message = notice(text)
        else:
            message = notice(WORKING_TEXT)
        ack(response_type="ephemeral", **message.as_kwargs())

    def run_command(command: dict, respond: Respond) -> None:
        kind = _kind(command)
        user = command.get("user_id", "")
        if kind == "help":
            return
        if kind == "refresh":
            if deps.is_admin(user):  # everyone else was refused in the ack; nothing runs
                respond(
                    response_type="ephemeral",
                    replace_original=True,
                    **notice(admin.refresh_corpus(deps)).as_kwargs(),
                )
            return
        answer_question(
            deps,
            sink=EphemeralSink(respond),
            question=(command.get("text") or "").strip(),
            user=user,
            channel=command.get("channel_id", ""),
            thread_ts=None,
            ephemeral=True,
        )

    app.command(COMMAND)(ack=ack_command, lazy=[run_command])
