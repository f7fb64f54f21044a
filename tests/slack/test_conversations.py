"""Mentions, DMs, thread follow-ups and the slash command, through signed HTTP requests."""

from __future__ import annotations

import json
import time

import pytest

from bot.slack import blocks
from tests.slack.conftest import DIRECT, Bot
from tests.slack.fake_slack import BOT_ID, BOT_USER_ID, action_ids, block_texts

pytestmark = pytest.mark.slow  # starts an HTTP server and a fake Slack per test


def test_mention_is_answered_in_a_thread_under_the_question_with_sources(bot: Bot) -> None:
    event = bot.mention("Hvem sitter i partnerskapsmøtet?")
    assert bot.extra["last_reply"].status == 200

    (post,) = bot.api.wait_for("chat.postMessage")
    params = post.params
    assert params["channel"] == "CGEN"
    assert params["thread_ts"] == event["ts"]  # threaded, not loose in the channel
    text = block_texts(params["blocks"])
    assert "Svar på: Hvem sitter i partnerskapsmøtet? [1]" in text
    assert "Kilder" in text
    assert (
        "<https://vestreviken.no/nyheter/partnerskapsmote|Partnerskapsmøte i helsefellesskapet>"
        in text
    )
    assert "07.02.2022" in text and "Deltakere" in text
    assert action_ids(params["blocks"]) == [
        blocks.VOTE_UP,
        blocks.VOTE_DOWN,
        blocks.SHOW_QUOTES,
        blocks.ESCALATE,
    ]
    assert params["text"].startswith("Svar på: Hvem sitter")  # fallback for notifications
    (reaction,) = bot.api.wait_for("reactions.add")
    assert reaction.params["name"] == "eyes" and reaction.params["timestamp"] == event["ts"]
    assert bot.answerer.calls == [("Hvem sitter i partnerskapsmøtet?", ())]


def test_direct_message_is_answered_in_the_dm(bot: Bot) -> None:
    bot.message("Hva er et helsefellesskap?", channel="DUSER", channel_type="im")
    (post,) = bot.api.wait_for("chat.postMessage")
    assert post.params["channel"] == "DUSER"
    assert "thread_ts" not in post.params
    assert "Svar på: Hva er et helsefellesskap?" in block_texts(post.params["blocks"])


def test_reply_in_a_thread_the_bot_answered_in_is_a_follow_up_with_history(bot: Bot) -> None:
    first = bot.mention("Når var partnerskapsmøtet i 2024?")
    (answer_post,) = bot.api.wait_for("chat.postMessage")
    thread = first["ts"]
    bot.api.replies[("CGEN", thread)] = [
        {
            "ts": thread,
            "user": "UASKER",
            "text": f"<@{BOT_USER_ID}> Når var partnerskapsmøtet i 2024?",
        },
        {
            "ts": bot.api.next_ts(),
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": answer_post.params["text"],
        },
    ]
    follow_up = bot.message("Og i 2025?", channel="CGEN", channel_type="channel", thread_ts=thread)
    bot.api.replies[("CGEN", thread)].append(
        {"ts": follow_up["ts"], "user": "UASKER", "text": "Og i 2025?"}
    )
    posts = bot.api.wait_for("chat.postMessage", 2)
    assert posts[1].params["thread_ts"] == thread
    question, history = bot.answerer.calls[-1]
    assert question == "Og i 2025?"
    assert [t.role for t in history] == ["user", "assistant"]
    assert history[0].text == "Når var partnerskapsmøtet i 2024?"
    assert history[1].text.startswith("Svar på: Når var partnerskapsmøtet i 2024?")
    assert "Kilder" not in history[1].text


def test_thanks_and_emoji_in_an_answered_thread_get_no_answer(bot: Bot) -> None:
    first = bot.mention("Hva er helsefellesskapet?")
    bot.api.wait_for("chat.postMessage")
    for text in ("Takk!", ":+1:", "tusen takk :pray:", "ok"):
        bot.message(text, channel="CGEN", channel_type="channel", thread_ts=first["ts"])
    bot.message(
        "Ok, men hvem leder det?", channel="CGEN", channel_type="channel", thread_ts=first["ts"]
    )
    posts = bot.api.wait_for("chat.postMessage", 2)
    time.sleep(0.3)
    assert len(bot.api.calls_to("chat.postMessage")) == 2
    assert posts[1].params["thread_ts"] == first["ts"]
    assert [q for q, _ in bot.answerer.calls] == [
        "Hva er helsefellesskapet?",
        "Ok, men hvem leder det?",
    ]


def test_replies_in_threads_without_the_bot_are_left_alone(bot: Bot) -> None:
    bot.message("Lunsj?", channel="CGEN", channel_type="channel", thread_ts="1600000000.000100")
    bot.message("Hei alle", channel="CGEN", channel_type="channel")
    time.sleep(0.5)
    assert bot.api.calls_to("chat.postMessage") == []
    assert bot.answerer.calls == []


def test_own_and_other_bots_messages_are_ignored(bot: Bot) -> None:
    bot.message(
        "Jeg er en bot", channel="DUSER", channel_type="im", bot_id="BOTHER", subtype="bot_message"
    )
    bot.message(
        "Mitt eget svar", channel="DUSER", channel_type="im", user=BOT_USER_ID, bot_id=BOT_ID
    )
    bot.message("endret", channel="DUSER", channel_type="im", subtype="message_changed")
    bot.mention("fra en annen bot", bot_id="BOTHER")
    time.sleep(0.5)
    assert bot.api.calls_to("chat.postMessage") == []
    assert bot.answerer.calls == []


def test_empty_mention_gets_short_help(bot: Bot) -> None:
    event = bot.mention("")
    (post,) = bot.api.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == event["ts"]
    assert "Skriv spørsmålet ditt" in post.params["text"]
    assert bot.answerer.calls == []


def test_slash_command_acks_at_once_and_answers_ephemerally(bot: Bot) -> None:
    bot.answerer.delay_s = 2.5  # a slow answer must not hold up the ack
    reply = bot.command("Hva gjør faglige samarbeidsutvalg?")
    assert reply.status == 200
    assert reply.seconds < 1.0
    ack = reply.json()
    assert ack["response_type"] == "ephemeral"
    assert "Leter i dokumentene" in ack["text"]

    (response,) = bot.wait_responses(1)
    assert response["response_type"] == "ephemeral"
    assert response["replace_original"] is True
    text = block_texts(response["blocks"])
    assert "Svar på: Hva gjør faglige samarbeidsutvalg?" in text
    assert blocks.POST_IN_CHANNEL in action_ids(response["blocks"])
    assert bot.api.calls_to("chat.postMessage") == []  # nothing in the channel


def test_slash_answer_can_be_shared_in_the_channel(bot: Bot) -> None:
    bot.command("Hva er et helsefellesskap?", channel="CGEN")
    (response,) = bot.wait_responses(1)
    answer_id = response["blocks"][-1]["elements"][0]["value"]
    bot.click(blocks.POST_IN_CHANNEL, answer_id, channel="CGEN", ephemeral=True)
    (post,) = bot.api.wait_for("chat.postMessage")
    assert post.params["channel"] == "CGEN"
    text = block_texts(post.params["blocks"])
    assert "<@UASKER> spurte: Hva er et helsefellesskap?" in text
    assert "Svar på: Hva er et helsefellesskap?" in text
    assert blocks.POST_IN_CHANNEL not in action_ids(post.params["blocks"])
    deleted = bot.wait_responses(2)[-1]
    assert deleted.get("delete_original") is True


def test_sharing_where_the_bot_is_not_a_member_explains_how_to_invite_it(bot: Bot) -> None:
    bot.api.errors["chat.postMessage"] = "not_in_channel"
    bot.command("Hva er et helsefellesskap?", channel="CPRIV")
    (response,) = bot.wait_responses(1)
    answer_id = response["blocks"][-1]["elements"][0]["value"]
    bot.click(blocks.POST_IN_CHANNEL, answer_id, channel="CPRIV", ephemeral=True)
    explained = bot.wait_responses(2)[-1]
    assert "/invite @hfbot" in explained["text"]


@pytest.mark.parametrize("word", ["hjelp", "", "HJELP "])
def test_slash_help_explains_usage_without_answering(bot: Bot, word: str) -> None:
    reply = bot.command(word)
    assert reply.status == 200
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    assert "Slik bruker du hfbot" in block_texts(body["blocks"])
    assert "oppdater" not in block_texts(body["blocks"])  # admin help is for admins
    time.sleep(0.3)
    assert bot.answerer.calls == []
    assert bot.responses() == []


def test_signature_is_required(bot: Bot) -> None:
    body = json.dumps(
        {
            "type": "event_callback",
            "event_id": "EvX",
            "event": {
                "type": "app_mention",
                "user": "U1",
                "text": f"<@{BOT_USER_ID}> hei",
                "ts": "1.0",
                "channel": "CGEN",
            },
        }
    ).encode()
    now = int(time.time())
    forged = bot.post(body, "application/json", signature="v0=" + "0" * 64)
    unsigned = bot.post(body, "application/json", signed=False)
    stale = bot.post(body, "application/json", timestamp=now - 6 * 60)
    wrong_secret = bot.post(
        body,
        "application/json",
        signature=__import__("tests.slack.conftest", fromlist=["sign"]).sign(
            body, now, "another-secret"
        ),
        timestamp=now,
    )
    assert [r.status for r in (forged, unsigned, stale, wrong_secret)] == [401, 401, 401, 401]
    time.sleep(0.5)
    assert bot.api.calls_to("chat.postMessage") == []
    assert bot.answerer.calls == []


def test_healthz_answers_without_a_signature(bot: Bot) -> None:

    with DIRECT.open(bot.url + "/healthz", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok"}


def test_url_verification_challenge_is_answered_when_signed(bot: Bot) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"}).encode()
    reply = bot.post(body, "application/json")
    assert reply.status == 200 and reply.json() == {"challenge": "abc123"}
    assert bot.post(body, "application/json", signed=False).status == 401


def test_home_tab_is_rebuilt_when_the_corpus_changes(make_bot) -> None:
    version = ["v1"]
    documents: dict = {}
    bot = make_bot(corpus_version=lambda: version[0], documents=lambda: documents)
    home = {"type": "app_home_opened", "user": "UNEW", "channel": "D1", "tab": "home"}
    bot.event(home)
    bot.api.wait_for("views.publish")
    asked = len(bot.answerer.calls)
    assert asked >= 1  # the introduction is composed by the answerer
    bot.event(home)
    bot.api.wait_for("views.publish", 2)
    assert len(bot.answerer.calls) == asked  # cached for this corpus version
    version[0] = "v2"
    bot.event(home)
    third = bot.api.wait_for("views.publish", 3)[2]
    assert len(bot.answerer.calls) == 2 * asked
    assert "Ingen dokumenter er lagt inn" in block_texts(third.params["view"]["blocks"])
