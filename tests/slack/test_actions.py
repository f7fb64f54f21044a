"""Buttons: 👍/👎 stored and listed by `hfbot feedback`, quoted passages, escalation."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from bot.slack import blocks
from hfbot.cli import cli
from tests.slack.conftest import ESCALATION_CHANNEL, POSTGRES_URL, Bot, postgres_schema
from tests.slack.fake_slack import action_ids, block_texts

pytestmark = pytest.mark.slow


def _answer(bot: Bot, question: str) -> tuple[str, dict]:
    """Ask in a channel; returns the answer id carried by the buttons and the posted message."""
    count = len(bot.api.calls_to("chat.postMessage"))
    bot.mention(question)
    post = bot.api.wait_for("chat.postMessage", count + 1)[-1].params
    actions = post["blocks"][-1]
    assert actions["type"] == "actions"
    return actions["elements"][0]["value"], post


def test_votes_are_stored_and_feedback_lists_the_thumbs_down(bot: Bot) -> None:
    good, _ = _answer(bot, "Hvem leder partnerskapsmøtet?")
    bad, post = _answer(bot, "Hva koster parkering ved sykehuset?")
    bot.click(blocks.VOTE_UP, good, message_ts="1.1")
    bot.click(blocks.VOTE_DOWN, bad, message_ts="1.2", thread_ts=post["thread_ts"])
    thanks = bot.api.wait_for("chat.postEphemeral", 2)
    assert {t.params["user"] for t in thanks} == {"UASKER"}
    assert any("ikke var godt nok" in t.params["text"] for t in thanks)
    assert any(t.params.get("thread_ts") == post["thread_ts"] for t in thanks)
    assert bot.feedback.votes_for(good) == {"UASKER": "up"}
    assert bot.feedback.votes_for(bad) == {"UASKER": "down"}

    result = CliRunner().invoke(cli, ["feedback"])
    assert result.exit_code == 0, result.output
    assert "Hva koster parkering ved sykehuset?" in result.output
    assert "Svar på: Hva koster parkering" in result.output
    assert "Hvem leder partnerskapsmøtet?" not in result.output
    as_json = json.loads(CliRunner().invoke(cli, ["feedback", "--json"]).output)
    assert [d["question"] for d in as_json["downvoted"]] == ["Hva koster parkering ved sykehuset?"]


def test_a_changed_vote_replaces_the_first(bot: Bot) -> None:
    answer_id, _ = _answer(bot, "Hvem leder partnerskapsmøtet?")
    bot.click(blocks.VOTE_DOWN, answer_id)
    bot.api.wait_for("chat.postEphemeral")
    bot.click(blocks.VOTE_UP, answer_id)
    bot.api.wait_for("chat.postEphemeral", 2)
    assert bot.feedback.votes_for(answer_id) == {"UASKER": "up"}
    assert bot.feedback.downvoted() == []


def test_question_text_is_not_stored_when_switched_off(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot(env={"HFBOT_STORE_QUESTION_TEXT": "false"})
    bot.answerer.text = "Dokumentene sier ikke noe om enkeltpersoner."
    answer_id, _ = _answer(bot, "Mitt personnummer er 01019912345, hva gjelder for meg?")
    bot.click(blocks.VOTE_DOWN, answer_id)
    bot.api.wait_for("chat.postEphemeral")
    stored = bot.feedback.get_answer(answer_id)
    assert stored is not None and stored.question is None
    output = CliRunner().invoke(cli, ["feedback"]).output
    assert "01019912345" not in output
    assert "(question text not stored)" in output


def test_show_quotes_posts_the_passages_to_the_user(bot: Bot) -> None:
    answer_id, post = _answer(bot, "Hva er partnerskapsmøtet?")
    bot.click(blocks.SHOW_QUOTES, answer_id, thread_ts=post["thread_ts"])
    (shown,) = bot.api.wait_for("chat.postEphemeral")
    text = block_texts(shown.params["blocks"])
    assert "&gt; Partnerskapsmøtet er helsefellesskapets øverste organ." in text
    assert "Partnerskapsmøte i helsefellesskapet" in text
    assert shown.params["thread_ts"] == post["thread_ts"]


def test_escalation_reaches_the_secretariat_and_can_be_resolved(bot: Bot) -> None:
    answer_id, post = _answer(bot, "Kan vi få hjelp med en avtale?")
    bot.api.wait_for("chat.postMessage")
    bot.click(blocks.ESCALATE, answer_id, thread_ts=post["thread_ts"])
    escalation = bot.api.wait_for(
        "chat.postMessage", where=lambda c: c.params["channel"] == ESCALATION_CHANNEL
    )[0].params
    text = block_texts(escalation["blocks"])
    assert "<@UASKER> ber sekretariatet om hjelp" in text
    assert "Kan vi få hjelp med en avtale?" in text
    assert "Svar på: Kan vi få hjelp med en avtale?" in text
    assert "<https://hfbot-test.slack.com/archives/CGEN/p" in text  # link to the thread
    assert action_ids(escalation["blocks"]) == [blocks.RESOLVE]
    confirm = bot.api.wait_for("chat.postEphemeral")[0].params
    assert "sendt til sekretariatet" in confirm["text"]
    (open_case,) = bot.feedback.open_escalations()

    resolve_id = escalation["blocks"][-1]["elements"][0]["value"]
    bot.click(blocks.RESOLVE, resolve_id, user="USEKR", channel=ESCALATION_CHANNEL)
    (updated,) = bot.api.wait_for("chat.update")
    assert updated.params["channel"] == ESCALATION_CHANNEL
    assert updated.params["ts"] == open_case.message_ts
    assert "Løst av <@USEKR>" in block_texts(updated.params["blocks"])
    assert blocks.RESOLVE not in action_ids(updated.params["blocks"])
    assert bot.feedback.open_escalations() == []
    # A second click on a stale button does not reopen or re-post anything.
    bot.click(blocks.RESOLVE, resolve_id, user="USEKR2", channel=ESCALATION_CHANNEL)
    bot.api.wait_for("chat.postEphemeral", 2)
    assert len(bot.api.calls_to("chat.update")) == 1


def test_no_escalation_button_without_a_secretariat_channel(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot(env={"HFBOT_ESCALATION_CHANNEL": ""})
    _, post = _answer(bot, "Hva er partnerskapsmøtet?")
    assert blocks.ESCALATE not in action_ids(post["blocks"])


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="HFBOT_TEST_DATABASE_URL not set")
def test_bot_on_postgresql_dedupes_and_stores_votes(make_bot: Callable[..., Bot]) -> None:
    with postgres_schema(POSTGRES_URL) as url:
        bot = make_bot(env={"HFBOT_DATABASE_URL": url})
        event = {
            "type": "app_mention",
            "user": "UASKER",
            "text": "<@UBOT> Hei?",
            "ts": bot.api.next_ts(),
            "channel": "CGEN",
        }
        bot.event(event, event_id="EvPG")
        bot.event(event, event_id="EvPG", retry=1)
        post = bot.api.wait_for("chat.postMessage")[0].params
        answer_id = post["blocks"][-1]["elements"][0]["value"]
        bot.click(blocks.VOTE_DOWN, answer_id)
        bot.api.wait_for("chat.postEphemeral")
        assert [v.answer.question for v in bot.feedback.downvoted()] == ["Hei?"]
        assert len(bot.api.calls_to("chat.postMessage")) == 1
        bot.feedback.close()


def test_a_click_while_the_database_is_broken_still_gets_a_reply(bot: Bot) -> None:
    from sqlalchemy import text

    answer_id, _ = _answer(bot, "Hva er partnerskapsmøtet?")
    with bot.feedback.engine.begin() as conn:
        conn.execute(text("DROP TABLE hfbot_answers"))
    bot.click(blocks.SHOW_QUOTES, answer_id)
    (reply,) = bot.api.wait_for("chat.postEphemeral")
    assert "noe gikk galt" in reply.params["text"]


def test_feedback_command_with_nothing_to_show_and_with_no_database(monkeypatch) -> None:
    result = CliRunner().invoke(cli, ["feedback"])
    assert result.exit_code == 0 and "No answers have got 👎." in result.output
    monkeypatch.setenv("HFBOT_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/x")
    result = CliRunner().invoke(cli, ["feedback"])
    assert result.exit_code == 1 and "cannot read the bot's database" in result.output
