"""`hfbot serve` as a container runs it: a subprocess, the real model, the bundled corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.slack.feedback import FeedbackStore
from hfbot.cli import cli
from tests.conftest import free_port
from tests.slack.conftest import BOT_TOKEN, DIRECT, SIGNING_SECRET, Bot
from tests.slack.fake_slack import FakeSlackAPI, block_texts


def test_serve_refuses_to_start_without_a_way_to_verify_slack(monkeypatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "SLACK_SIGNING_SECRET" in result.output
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2 and "SLACK_BOT_TOKEN" in result.output
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("SLACK_API_URL", "https://slack.example.org/")
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2 and "/api/" in result.output


def test_serve_reports_a_wrong_token_or_database_clearly(
    fake_api: FakeSlackAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("SLACK_API_URL", fake_api.api_url)
    fake_api.errors["auth.test"] = "invalid_auth"
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 1
    assert "cannot reach Slack with SLACK_BOT_TOKEN" in result.output
    assert "invalid_auth" in result.output
    monkeypatch.setenv(
        "HFBOT_DATABASE_URL", f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/x"
    )
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 1 and "cannot open the bot's database" in result.output


@pytest.mark.slow
def test_hfbot_serve_answers_a_signed_mention(
    fake_api: FakeSlackAPI, isolated_env: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_api.api_url,
        "HFBOT_DATA_DIR": str(isolated_env),
        "NO_PROXY": "127.0.0.1,localhost",
    }
    # An answer from 200 days ago: HFBOT_RETENTION_DAYS (90) deletes it when the bot starts.
    old = _old_answer(f"sqlite:///{isolated_env / 'hfbot.sqlite3'}", days=200)
    hfbot = Path(sys.executable).parent / "hfbot"
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [str(hfbot), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 240  # first start ingests the bundled corpus
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                with DIRECT.open(url + "/healthz", timeout=2) as response:
                    assert json.loads(response.read()) == {"status": "ok"}
                    break
            except OSError:
                assert time.monotonic() < deadline, "hfbot serve did not come up"
                time.sleep(0.5)
        bot = Bot(url, fake_api, None, None, None)  # type: ignore[arg-type]
        event = bot.mention("Hvor mange kommuner er med i helsefellesskapet nå?")
        assert bot.extra["last_reply"].status == 200
        (post,) = fake_api.wait_for("chat.postMessage", timeout=60)
        assert post.params["thread_ts"] == event["ts"]
        text = block_texts(post.params["blocks"])
        # A cited answer from the corpus; which passage wins is the eval's to judge (the
        # multilingual-e5 default and MiniLM pick different ones here).
        assert "[1]" in text and "helsefellesskap" in text.lower() and ".txt" in text
        assert (isolated_env / "hfbot.sqlite3").exists()
        feedback = FeedbackStore(f"sqlite:///{isolated_env / 'hfbot.sqlite3'}")
        try:
            assert feedback.get_answer(old) is None
            assert feedback.counts()["answers"] == 1  # the question just answered
        finally:
            feedback.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _old_answer(url: str, days: float) -> str:
    from sqlalchemy import update

    from bot.slack.feedback import answers
    from bot.types import Answer

    feedback = FeedbackStore(url)
    try:
        answer = Answer(question="Gammelt spørsmål?", text="Svar.", abstained=False)
        answer_id = feedback.record_answer(answer, channel="C1", user_id="U1")
        with feedback.engine.begin() as conn:
            conn.execute(
                update(answers)
                .where(answers.c.id == answer_id)
                .values(created_at=time.time() - days * 24 * 3600)
            )
    finally:
        feedback.close()
    return answer_id
