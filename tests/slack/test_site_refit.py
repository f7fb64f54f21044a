""" "Tilpass svarmodellen" and "Gjenopprett forrige modell" in the admin Home tab, as Slack sends
the clicks: the refit runs in the background (a stub fitter, so the guard's figures are the
test's), the Home tab says what changed, one refit at a time, and the restore brings the model
before back. The real fit behind the button: tests/slack/test_site_learning.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from bot.answer.evaluate import EvalQuestion
from bot.site_store import LabelStore, SiteModels
from bot.slack.admin_home import REFIT, RESTORE_MODEL
from bot.slack.listeners.labelling import REFITTING, SiteTeaching
from tests.answer.site_fakes import PARKING_LABEL, StubFitter, improving, reference_folders
from tests.slack.conftest import ADMIN, Bot
from tests.slack.fake_slack import action_ids, block_texts
from tests.slack.test_admin_home import click_in_home, open_home

WAIT_S = 30  # the background refit ingests three one-page folders with the fake embedder


class GatedFitter:
    """A stub fitter that holds the refit until the test opens the gate (bounded)."""

    def __init__(self, figures: StubFitter) -> None:
        self.figures = figures
        self.started = threading.Event()
        self.gate = threading.Event()

    def cross_validate(self, questions: Sequence[EvalQuestion]) -> dict[str, int]:
        self.started.set()
        assert self.gate.wait(WAIT_S), "the test never let the refit go on"
        return self.figures.cross_validate(questions)

    def evaluate(self, model, questions: Sequence[EvalQuestion]) -> int:
        return self.figures.evaluate(model, questions)

    def fit(self, questions: Sequence[EvalQuestion]):
        return self.figures.fit(questions)


@pytest.fixture
def teaching_bot(
    make_bot: Callable[..., Bot], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Bot:
    folders = reference_folders(tmp_path, monkeypatch)
    bot = make_bot({"HFBOT_CORPUS_DIR": str(folders.site)})
    LabelStore(bot.feedback.engine).add(PARKING_LABEL)
    bot.extra["folders"] = folders
    return bot


def use_fitter(monkeypatch: pytest.MonkeyPatch, fitter) -> None:
    monkeypatch.setattr(
        SiteTeaching, "make_fitter", staticmethod(lambda answerer, folds, sources: fitter)
    )


def publishes(bot: Bot) -> int:
    return len(bot.api.calls_to("views.publish"))


def published_saying(bot: Bot, text: str) -> list[dict]:
    """The first Home tab published that says `text` (a bounded wait for the background)."""
    (first, *_) = bot.api.wait_for(
        "views.publish",
        timeout=WAIT_S,
        where=lambda c: text in block_texts(c.params["view"]["blocks"]),
    )
    return first.params["view"]["blocks"]


def test_an_admin_refits_in_the_background_and_the_home_tab_says_what_changed(
    teaching_bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = teaching_bot
    fitter = GatedFitter(improving())
    use_fitter(monkeypatch, fitter)
    home = open_home(bot, ADMIN)
    assert "1 merkede spørsmål" in block_texts(home) and REFIT in action_ids(home)
    assert RESTORE_MODEL not in action_ids(home)  # the shipped model answers

    click_in_home(bot, REFIT, "refit", user="UASKER")  # not an admin: nothing happens
    time.sleep(0.3)
    assert not fitter.started.is_set()

    before = publishes(bot)
    click_in_home(bot, REFIT, "refit")
    first = bot.api.wait_for("views.publish", before + 1, timeout=10)[before]
    assert REFITTING in block_texts(first.params["view"]["blocks"])
    assert fitter.started.wait(WAIT_S)
    # While it runs: the Home tab says so, and a second click starts no second refit.
    running = open_home(bot, ADMIN)
    assert "⏳ Tilpasser svarmodellen" in block_texts(running)
    assert REFIT not in action_ids(running)
    before = publishes(bot)
    click_in_home(bot, REFIT, "refit")
    again = bot.api.wait_for("views.publish", before + 1, timeout=10)[before]
    assert REFITTING in block_texts(again.params["view"]["blocks"])

    fitter.gate.set()
    summary = "0 → 1 av 1 merkede spørsmål riktig; referansesettene uendret"
    done = published_saying(bot, summary)
    assert "✅" in block_texts(done)
    assert REFIT not in action_ids(done)  # no labels newer than this refit
    assert RESTORE_MODEL in action_ids(done)
    assert "Modellen som svarer nå: tilpasset dette nettstedet" in block_texts(done)
    models = SiteModels(bot.feedback.engine)
    active = models.active()
    assert active is not None and active.created_by == ADMIN
    assert fitter.figures.fitted == [4]  # one refit ran, not two (3 reference + 1 label)

    # Gjenopprett forrige modell: the shipped one answers again.
    click_in_home(bot, RESTORE_MODEL, "restore", user="UASKER")
    time.sleep(0.3)
    assert models.active() is not None
    before = publishes(bot)
    click_in_home(bot, RESTORE_MODEL, "restore")
    restored = bot.api.wait_for("views.publish", before + 1, timeout=10)[before]
    blocks = restored.params["view"]["blocks"]
    assert "Gjenopprettet: modellen som fulgte med hfbot svarer igjen." in block_texts(blocks)
    assert "Modellen som svarer nå: den som fulgte med hfbot" in block_texts(blocks)
    assert RESTORE_MODEL not in action_ids(blocks)
    assert models.active() is None


def test_a_refit_the_guard_refuses_is_reported_and_nothing_changes(
    teaching_bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = teaching_bot
    hurts = StubFitter(before={"ref.yaml": 2}, after={"ref.yaml": 1, "site-labels": 1}, site_now=0)
    use_fitter(monkeypatch, hurts)
    click_in_home(bot, REFIT, "refit")
    blocks = published_saying(bot, "Ikke tatt i bruk: referansesettene ble dårligere")
    assert "↩️" in block_texts(blocks) and "ref.yaml 2 → 1 av 3" in block_texts(blocks)
    assert RESTORE_MODEL not in action_ids(blocks)
    assert SiteModels(bot.feedback.engine).active() is None


def test_a_refit_that_cannot_start_says_why_and_stays_offered(
    teaching_bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = teaching_bot
    fitter = improving()
    use_fitter(monkeypatch, fitter)
    # The model file names a folder this machine does not have (say, a bot in a container).
    bot.extra["folders"].info["corpora"].append("../shared/dev-corpus-2")
    click_in_home(bot, REFIT, "refit")
    blocks = published_saying(bot, "finnes ikke på denne maskinen: ../shared/dev-corpus-2")
    assert fitter.seen == []
    assert REFIT in action_ids(blocks)  # the labels are still new: the admin can try again
    assert SiteModels(bot.feedback.engine).latest_attempt() is None
