"""Faults and bad input: re-deliveries, rate limits, a store that goes away, floods, long texts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from bot.slack.responder import FAILED_TEXT, STORE_DOWN_TEXT
from bot.types import Citation
from tests.slack.conftest import Bot
from tests.slack.doubles import ScriptedAnswerer, store_down
from tests.slack.fake_slack import block_texts

pytestmark = pytest.mark.slow


def _mention_event(bot: Bot, text: str, channel: str = "CGEN") -> dict:
    return {
        "type": "app_mention",
        "user": "UASKER",
        "text": f"<@UBOT> {text}",
        "ts": bot.api.next_ts(),
        "channel": channel,
    }


def test_redelivered_event_is_answered_once(bot: Bot) -> None:
    event = _mention_event(bot, "Hva er partnerskapsmøtet?")
    first = bot.event(event, event_id="EvSAME")
    again = bot.event(event, event_id="EvSAME", retry=1)
    third = bot.event(event, event_id="EvSAME", retry=2)
    assert [r.status for r in (first, again, third)] == [200, 200, 200]
    bot.api.wait_for("chat.postMessage")
    time.sleep(0.5)
    assert len(bot.api.calls_to("chat.postMessage")) == 1
    assert len(bot.answerer.calls) == 1


def test_rate_limited_web_api_call_is_retried_after_retry_after(bot: Bot) -> None:
    bot.api.rate_limit_once.add("chat.postMessage")
    bot.mention("Hva er partnerskapsmøtet?")
    calls = bot.api.wait_for("chat.postMessage", 2, timeout=15)
    assert calls[1].at - calls[0].at >= 0.9  # waited for Retry-After: 1
    assert calls[0].params == calls[1].params
    assert "Svar på" in block_texts(calls[1].params["blocks"])


def test_user_asking_too_fast_is_told_to_wait(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot(env={"HFBOT_RATE_LIMIT_PER_MINUTE": "2"})
    for n in range(3):
        bot.mention(f"Spørsmål nummer {n}")
        bot.api.wait_for("chat.postMessage", n + 1)
    posts = bot.api.calls_to("chat.postMessage")
    assert "Svar på: Spørsmål nummer 0" in posts[0].params["text"]
    assert "Svar på: Spørsmål nummer 1" in posts[1].params["text"]
    assert "vent litt" in posts[2].params["text"]
    assert len(bot.answerer.calls) == 2  # the third was not queued
    assert len(bot.api.calls_to("reactions.add")) == 2  # and got no 👀 either
    # Someone else is not slowed down by it.
    bot.mention("Fra en annen", user="UOTHER")
    assert "Svar på: Fra en annen" in bot.api.wait_for("chat.postMessage", 4)[3].params["text"]


def test_store_unavailable_gives_a_norwegian_message_and_the_bot_recovers(bot: Bot) -> None:
    bot.answerer.fail_with, bot.answerer.fail_times = store_down(times=1)
    event = bot.mention("Hvem leder helsefellesskapet?")
    (post,) = bot.api.wait_for("chat.postMessage")
    assert post.params["text"] == STORE_DOWN_TEXT
    assert post.params["thread_ts"] == event["ts"]
    bot.mention("Hvem leder helsefellesskapet?")  # the store is back
    posts = bot.api.wait_for("chat.postMessage", 2)
    assert "Svar på: Hvem leder helsefellesskapet?" in posts[1].params["text"]


def test_unexpected_error_still_ends_in_a_message(bot: Bot) -> None:
    bot.answerer.fail_with, bot.answerer.fail_times = RuntimeError("boom"), 1
    bot.command("Hvem leder helsefellesskapet?")
    (response,) = bot.wait_responses(1)
    assert response["text"] == FAILED_TEXT


def test_twenty_questions_at_once_are_all_answered_none_twice(bot: Bot) -> None:
    bot.answerer.delay_s = 0.2
    events = [_mention_event(bot, f"Spørsmål {n}", channel=f"C{n:02d}") for n in range(20)]
    replies = []

    def send(event: dict, n: int) -> None:
        replies.append(bot.event(event, event_id=f"EvFLOOD{n}"))
        replies.append(bot.event(event, event_id=f"EvFLOOD{n}", retry=1))  # Slack retries too

    threads = [threading.Thread(target=send, args=(e, n)) for n, e in enumerate(events)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(replies) == 40 and all(r.status == 200 for r in replies)
    assert max(r.seconds for r in replies) < 3.0
    posts = bot.api.wait_for("chat.postMessage", 20, timeout=30)
    time.sleep(0.5)
    posts = bot.api.calls_to("chat.postMessage")
    assert len(posts) == 20
    assert sorted(p.params["thread_ts"] for p in posts) == sorted(e["ts"] for e in events)
    assert sorted(q for q, _ in bot.answerer.calls) == sorted(f"Spørsmål {n}" for n in range(20))


def test_five_thousand_character_question_gets_a_valid_message(bot: Bot) -> None:
    question = ("Hvordan samarbeider kommunene med sykehuset om utskrivning? " * 90)[:5000]
    bot.mention(question)
    (post,) = bot.api.wait_for("chat.postMessage")
    for block in post.params["blocks"]:
        assert len(block.get("text", {}).get("text", "")) <= 3000
    assert len(post.params["blocks"]) <= 50
    assert bot.answerer.calls[0][0] == question.strip()


def test_long_answers_are_split_into_sections_and_messages(bot: Bot) -> None:
    paragraph = "Dette er en lang setning om helsefellesskapet og kommunene. " * 20
    bot.answerer.text = "\n\n".join(f"{n}. {paragraph}" for n in range(200))  # ~250k chars
    event = bot.mention("Fortell alt")
    posts = bot.api.wait_for("chat.postMessage", 2)
    time.sleep(0.5)
    posts = bot.api.calls_to("chat.postMessage")
    assert len(posts) >= 2
    seen = ""
    for post in posts:
        blocks = post.params["blocks"]
        assert 1 <= len(blocks) <= 50
        assert post.params["text"]  # every message keeps a fallback
        assert post.params["thread_ts"] == event["ts"]
        for block in blocks:
            assert len(block.get("text", {}).get("text", "")) <= 3000
        seen += block_texts(blocks)
    assert "199. Dette er en lang setning" in seen  # nothing lost at the end
    assert posts[-1].params["blocks"][-1]["type"] == "actions"  # buttons after the last part


def test_titles_and_urls_with_markup_characters_render_escaped_and_clickable(bot: Bot) -> None:
    bot.answerer.text = "Svar med <tag> & **viktig** [1]"
    bot.answerer.citations = [
        Citation(
            n=1,
            file="a.pdf",
            title="Avtale <2024> & tillegg | vedlegg",
            date="2024-06-12",
            date_approximate=False,
            location="side 3",
            url="https://example.org/wiki/Helse_(Vest) dokument.pdf?a=1&b=2",
            quote="sitat",
        ),
        Citation(
            n=2,
            file="b.txt",
            title="Uten lenke > alt",
            date="2011-01-01",
            date_approximate=True,
            location="",
            url="javascript:alert(1)",
            quote="",
        ),
    ]
    bot.mention("Hva står i avtalen?")
    (post,) = bot.api.wait_for("chat.postMessage")
    text = block_texts(post.params["blocks"])
    assert "Svar med &lt;tag&gt; &amp; *viktig* [1]" in text
    assert (
        "<https://example.org/wiki/Helse_%28Vest%29%20dokument.pdf?a=1&b=2"
        "|Avtale &lt;2024&gt; &amp; tillegg ¦ vedlegg>" in text
    )
    assert "12.06.2024 — side 3" in text
    assert "Uten lenke &gt; alt — ca. 2011" in text
    assert "javascript" not in text
    assert "<tag>" not in post.params["text"]


def test_streamed_answer_updates_the_message_at_a_bounded_rate(
    make_bot: Callable[..., Bot],
) -> None:
    answerer = ScriptedAnswerer()
    answerer.stream_parts = [f"Delsvar {'ord ' * n}" for n in range(1, 8)]  # 0.3 s apart
    bot = make_bot(env={"HFBOT_LLM": "openai:test-model"}, answerer=answerer)
    event = bot.mention("Hva er helsefellesskapet?")
    bot.api.wait_for("chat.update", where=lambda c: "Svar på" in c.params.get("text", ""))
    (placeholder,) = bot.api.calls_to("chat.postMessage")
    assert placeholder.params["thread_ts"] == event["ts"]
    assert "Leter i dokumentene" in placeholder.params["text"]
    updates = bot.api.calls_to("chat.update")
    assert 2 <= len(updates) <= 4  # ~2.4 s of streaming, at most one update a second (+ final)
    partial = [u for u in updates if "Delsvar" in u.params["text"]]
    for earlier, later in zip(partial, partial[1:], strict=False):
        assert later.at - earlier.at >= 0.95
    final = updates[-1].params
    assert final["ts"] == placeholder.params.get("ts", final["ts"])
    assert "Kilder" in block_texts(final["blocks"])


def test_slash_answers_fit_the_response_url_limit(make_bot: Callable[..., Bot]) -> None:
    answerer = ScriptedAnswerer()
    answerer.stream_parts = ["Delsvar", "Delsvar to"]
    answerer.text = "\n\n".join(f"{n}. " + "Lang setning om samarbeid. " * 40 for n in range(900))
    bot = make_bot(env={"HFBOT_LLM": "openai:test-model"}, answerer=answerer)
    bot.command("Fortell alt")
    bot.wait_responses(4, timeout=15)
    time.sleep(0.5)
    responses = bot.responses()
    assert len(responses) == 4  # a response_url takes at most five posts; the ack was one
    assert responses[0]["replace_original"] is True
    assert "for langt" in responses[2]["text"]
    assert responses[-1]["blocks"][-1]["type"] == "actions"
    assert not any("skriver svar" in block_texts(r["blocks"]) for r in responses)
