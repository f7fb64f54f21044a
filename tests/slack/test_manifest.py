"""The Slack app manifest asks for exactly what the bot uses."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from hfbot.settings import REPO_ROOT

BOT_PACKAGE = REPO_ROOT / "bot" / "slack"
# Web API methods → the bot scope each needs (None: no scope needed).
SCOPE_OF = {
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_getPermalink": None,
    "reactions_add": "reactions:write",
    "conversations_replies": "channels:history",
    "conversations_history": "im:history",
    "files_info": "files:read",
    "views_publish": None,
    "views_open": None,  # modals need no scope of their own
    "views_update": None,
}


def _manifest() -> dict:
    return yaml.safe_load((REPO_ROOT / "slack-app-manifest.yaml").read_text(encoding="utf-8"))


def _bot_source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in Path(BOT_PACKAGE).rglob("*.py"))


def test_every_web_api_method_the_bot_calls_is_covered_by_a_scope() -> None:
    called = set(re.findall(r"client\.([a-z]+_[A-Za-z]+)\(", _bot_source()))
    assert called, "no Web API calls found"
    assert called <= set(SCOPE_OF), f"add the scope for {called - set(SCOPE_OF)} to the manifest"
    scopes = set(_manifest()["oauth_config"]["scopes"]["bot"])
    needed = {SCOPE_OF[m] for m in called if SCOPE_OF[m]}
    # Events and the slash command bring their own scopes; thread follow-ups in private
    # channels and DMs need the history scopes of those conversation types too.
    needed |= {"app_mentions:read", "commands", "groups:history", "im:history"}
    assert scopes == needed


def test_events_match_the_listeners() -> None:
    events = set(_manifest()["settings"]["event_subscriptions"]["bot_events"])
    source = _bot_source()
    listened = set(re.findall(r'app\.event\("([a-z_]+)"\)', source))
    assert listened == {"app_mention", "message", "app_home_opened"}
    assert events == {
        "app_mention",
        "app_home_opened",
        "message.channels",
        "message.groups",
        "message.im",
    }


def test_slash_command_and_surfaces() -> None:
    manifest = _manifest()
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/hfbot"
    assert command["url"].endswith("/slack/events")
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False
