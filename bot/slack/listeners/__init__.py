"""Bolt listeners, one module per kind of Slack request; each exposes `register(app, deps)`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.slack.deps import BotDeps


def register_listeners(app: App, deps: BotDeps) -> None:
    from bot.slack.listeners import actions, commands, events, home, messages

    for module in (events, messages, commands, actions, home):
        module.register(app, deps)
