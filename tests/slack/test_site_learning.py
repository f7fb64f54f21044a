"""The secretariat teaches the bot, end to end over the bundled corpus (FakeEmbedder): questions
the bot refuses are labelled in the Finn svaret modal, "Tilpass svarmodellen" refits with the
real bot.answer.fit behind the guard over a small reference set (recorded in the model file as
`hfbot fit` does, its corpus relative to the repository's root), and when the guard takes the
new model the labelled questions are answered; when it refuses, nothing the users see changes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot import site_model
from bot.answering import Answerer
from bot.site_store import LabelStore, SiteModels
from bot.slack.admin_home import REFIT, RESTORE_MODEL
from bot.slack.feedback import answers
from bot.slack.label_modal import FIND_ANSWER, SHOW_MORE
from hfbot.settings import REPO_ROOT, load_settings
from ingest.pipeline import run_ingest
from tests.fakes import FakeEmbedder
from tests.slack.conftest import Bot
from tests.slack.fake_slack import action_ids, block_texts
from tests.slack.test_admin_home import click_in_home
from tests.slack.test_label_modal import click_in_modal, submit, ticked

pytestmark = pytest.mark.slow

REFUSED = "Jeg finner ikke svar"
# Questions the hand-set rules refuse (the shipped model is fitted for another embedding model),
# and the words of the passage that answers each.
TAUGHT = [
    ("Hvor mange deltakere var det på møtet i februar?", "80 deltakere"),
    ("Hvor mange personer arbeider i Vestre Viken HF?", "9400 ansatte"),
]
# A reference set small enough for the budget: facts from four documents and refusals.
REFERENCE_IDS = {"x01", "x04", "x06", "x07", "x08", "x10", "x13", "p01", "p09", "p12",
                 "u01", "u02", "u03", "u05", "u09", "u14"}  # fmt: skip
REFIT_WAIT_S = 90


@pytest.fixture
def learning_bot(
    make_bot: Callable[..., Bot], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Bot:
    monkeypatch.setattr(
        "ingest.embedder.make_embedder", lambda settings, model=None: FakeEmbedder()
    )
    everything = yaml.safe_load(
        (REPO_ROOT / "tests" / "answer" / "extra-questions.yaml").read_text(encoding="utf-8")
    )
    reference = tmp_path / "reference.yaml"
    reference.write_text(
        yaml.safe_dump([q for q in everything if q["id"] in REFERENCE_IDS], allow_unicode=True),
        encoding="utf-8",
    )
    info = {"question_sets": [str(reference)], "corpora": ["corpus"]}
    monkeypatch.setattr(site_model, "shipped_info", lambda: dict(info))
    settings = load_settings()
    assert not run_ingest(settings, embedder=FakeEmbedder()).failed
    answerer = Answerer(
        settings, site_models=SiteModels.from_settings(settings), index_refresh_s=0.0
    )
    bot = make_bot(answerer=answerer)
    bot.api.handlers["views.open"] = lambda params: {"ok": True, "view": {"id": "VMODAL"}}
    return bot


def ask(bot: Bot, question: str) -> str:
    """Ask in a channel; the text of the bot's reply."""
    before = len(bot.api.calls_to("chat.postMessage"))
    bot.mention(question)
    post = bot.api.wait_for("chat.postMessage", before + 1, timeout=30)[before]
    return block_texts(post.params["blocks"])


def answer_id_of(bot: Bot, question: str) -> str:
    query = select(answers.c.id).where(answers.c.question == question)
    with bot.feedback.engine.connect() as conn:
        return conn.execute(query).scalars().all()[-1]


def label_in_modal(bot: Bot, question: str, words: str) -> None:
    """Finn svaret on the refused question: Vis flere until the passage holding `words` shows,
    tick it, mark the words, save."""
    before = len(bot.api.calls_to("views.update"))
    click_in_home(bot, FIND_ANSWER, answer_id_of(bot, question))
    for _ in range(3):  # the modal shows at most 30 passages, ten at a time
        view = bot.api.wait_for("views.update", before + 1, timeout=30)[before].params["view"]
        before += 1
        shown = [b["text"]["text"] for b in view["blocks"] if b.get("type") == "section"][1:]
        found = [n for n, text in enumerate(shown) if words in text]
        if found:
            break
        click_in_modal(bot, view, {}, SHOW_MORE)
    else:
        raise AssertionError(f"no passage with «{words}» among the candidates: {shown}")
    options = [
        o["value"]
        for b in view["blocks"]
        if b.get("block_id", "").startswith("hfbot_label_pick_")
        for o in b["element"]["options"]
    ]
    must = {"hfbot_label_must": {"value": {"type": "plain_text_input", "value": words}}}
    assert submit(bot, view, {**ticked(options[found[0]]), **must}) == {}


def test_labelled_refusals_are_answered_after_the_guarded_refit(learning_bot: Bot) -> None:
    bot = learning_bot
    started = time.monotonic()
    for question, _ in TAUGHT:
        assert REFUSED in ask(bot, question)
    for question, words in TAUGHT:
        label_in_modal(bot, question, words)
    labels = LabelStore(bot.feedback.engine).all()
    assert [(label.question, label.must) for label in labels] == [(q, (w,)) for q, w in TAUGHT]

    click_in_home(bot, REFIT, "refit")
    (done, *_) = bot.api.wait_for(
        "views.publish",
        timeout=REFIT_WAIT_S,
        where=lambda c: "merkede spørsmål riktig" in json.dumps(c.params, ensure_ascii=False),
    )
    home = done.params["view"]["blocks"]
    attempt = SiteModels(bot.feedback.engine).latest_attempt()
    assert attempt is not None and attempt.summary in block_texts(home)
    assert f"av {len(TAUGHT)} merkede spørsmål riktig" in attempt.summary
    if attempt.status == "active":
        assert RESTORE_MODEL in action_ids(home)
        for question, words in TAUGHT:
            reply = ask(bot, question)
            assert REFUSED not in reply and words in reply, reply
    else:
        # Refused by the guard: the Home tab says why, and the bot answers as before.
        assert attempt.summary.startswith("Ikke tatt i bruk: ")
        assert RESTORE_MODEL not in action_ids(home)
        assert REFUSED in ask(bot, TAUGHT[0][0])
    print(f"\n{attempt.status}: {attempt.summary} ({time.monotonic() - started:.0f} s)")
