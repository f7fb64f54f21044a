""" "Finn svaret": the modal keeps within Slack's limits, only admins open and submit it, and a
submission saves the label, marks the question handled and thanks the admin."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from bot.candidates import Candidate
from bot.site_store import LabelStore
from bot.slack import label_modal
from bot.slack.label_modal import FIND_ANSWER, SHOW_MORE, ModalState, label_view
from bot.slack.listeners.labelling import SiteTeaching
from tests.slack.conftest import ADMIN, Bot
from tests.slack.test_admin_home import click_in_home
from tests.slack.test_report import refusal

PASSAGE = "Partnerskapsmøtet er helsefellesskapets øverste organ, og det møtes en gang i året."


def candidate(n: int, text: str = PASSAGE, key: str | None = None) -> Candidate:
    return Candidate(
        key=key or f"chunk-{n}#{n}",
        file=f"doc{n}.txt",
        title=f"Et dokument med en svært lang tittel som fortsetter og fortsetter {n}",
        section="side 2, Deltakere",
        date="2024-01-11",
        date_approximate=n % 2 == 0,
        text=text,
    )


def check_limits(view: dict) -> None:
    assert len(view["blocks"]) <= 100
    assert len(view["private_metadata"]) <= 3000
    assert len(view["title"]["text"]) <= 24
    for block in view["blocks"]:
        assert len(block.get("text", {}).get("text", "")) <= 3000
        element = block.get("element", {})
        if element.get("type") == "checkboxes":
            assert 1 <= len(element["options"]) <= 10
            for option in element["options"]:
                assert len(option["text"]["text"]) <= 75
                assert len(option["value"]) <= 150


def test_the_modal_stays_within_slack_limits_however_long_the_passages() -> None:
    long = "Lang tekst " * 700
    found = [candidate(n, long) for n in range(60)] + [candidate(99, key="x" * 200)]
    for shown in (10, 20, 30, 40):
        view = label_view(ModalState("a" * 32, shown=shown), "Hvem? " * 400, found)
        check_limits(view)
        picks = [b for b in view["blocks"] if b.get("block_id", "").startswith("hfbot_label_pick_")]
        assert sum(len(b["element"]["options"]) for b in picks) == min(shown, 30)
    first = label_view(ModalState("a"), "Hvem?", found)["blocks"]
    assert any(b.get("block_id") == "hfbot_label_actions" for b in first)  # "Vis flere"


@pytest.fixture
def make_labelling_bot(make_bot, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Bot]:
    """A bot whose candidate passages are twelve made-up ones (the questions asked for them in
    bot.extra["asked"]), and whose views.open gives the modal the id VMODAL."""
    found = [candidate(n) for n in range(1, 13)]
    asked: list[str] = []

    def candidates(self, question: str) -> list[Candidate]:
        asked.append(question)
        return found

    monkeypatch.setattr(SiteTeaching, "candidates", candidates)
    monkeypatch.setattr(
        SiteTeaching, "passage", lambda self, key: next((c for c in found if c.key == key), None)
    )

    def make(env: dict | None = None) -> Bot:
        bot = make_bot(env)
        bot.api.handlers["views.open"] = lambda params: {"ok": True, "view": {"id": "VMODAL"}}
        bot.extra["asked"] = asked
        return bot

    return make


@pytest.fixture
def labelling_bot(make_labelling_bot: Callable[..., Bot]) -> Bot:
    return make_labelling_bot()


def submit(bot: Bot, view: dict, values: dict, user: str = ADMIN) -> dict:
    view = {**view, "id": "VMODAL", "state": {"values": values}}
    reply = bot.interact("view_submission", user, view=view)
    assert reply.status == 200
    return reply.json()


def ticked(*keys: str) -> dict:
    return {
        "hfbot_label_pick_0": {
            "value": {"type": "checkboxes", "selected_options": [{"value": k} for k in keys]}
        }
    }


def test_an_admin_labels_a_refused_question_and_it_is_handled(labelling_bot: Bot) -> None:
    bot = labelling_bot
    answer_id = bot.feedback.record_answer(
        refusal("Hvor ofte møtes partnerskapsmøtet?"), channel="C1", user_id="U1"
    )
    click_in_home(bot, FIND_ANSWER, answer_id, user="UASKER")  # not an admin: no modal
    click_in_home(bot, FIND_ANSWER, answer_id)
    (opened,) = bot.api.wait_for("views.open", 1, timeout=10)
    assert opened.params["trigger_id"] == "trigger"
    (updated,) = bot.api.wait_for("views.update", 1, timeout=10)
    view = updated.params["view"]
    check_limits(view)
    text = json.dumps(view, ensure_ascii=False)
    assert "Hvor ofte møtes partnerskapsmøtet?" in text and "Vis flere" in text
    assert "Står ikke i dokumentene" in text
    assert "11.01.2024 — side 2, Deltakere" in text  # document, date and section

    # Words that are not in the ticked passage: Slack shows the error in the modal.
    must = {"hfbot_label_must": {"value": {"type": "plain_text_input", "value": "to ganger"}}}
    reply = submit(bot, view, {**ticked("chunk-1#1"), **must})
    assert reply["response_action"] == "errors"
    assert "står ikke i utdragene" in reply["errors"]["hfbot_label_must"]
    assert submit(bot, view, {})["response_action"] == "errors"  # nothing ticked

    must["hfbot_label_must"]["value"]["value"] = "en gang i året"
    assert submit(bot, view, {**ticked("chunk-1#1"), **must}, user="UASKER") == {}
    labels = LabelStore(bot.feedback.engine)
    assert labels.count() == 0  # not an admin: nothing saved
    assert submit(bot, view, {**ticked("chunk-1#1"), **must}) == {}
    (label,) = labels.all()
    assert label.question == "Hvor ofte møtes partnerskapsmøtet?"
    assert label.must == ("en gang i året",) and label.passages[0].file == "doc1.txt"
    assert label.created_by == ADMIN and label.answer_id == answer_id
    assert answer_id in bot.feedback.handled_marks()
    published = bot.api.wait_for("views.publish", 1, timeout=10)[-1]
    assert "Takk! Svaret er merket" in json.dumps(published.params, ensure_ascii=False)
    assert "Tilpass svarmodellen" in json.dumps(published.params, ensure_ascii=False)


def test_unanswerable_is_saved_as_a_confirmed_refusal(labelling_bot: Bot) -> None:
    bot = labelling_bot
    question = "Hva koster parkering?"
    answer_id = bot.feedback.record_answer(refusal(question), channel="C1", user_id="U1")
    view = label_view(ModalState(answer_id), "Hva koster parkering?", [candidate(1)])
    none = {
        label_modal.NONE_BLOCK: {
            "value": {"type": "checkboxes", "selected_options": [{"value": "unanswerable"}]}
        }
    }
    both = submit(bot, view, {**ticked("chunk-1#1"), **none})
    assert both["response_action"] == "errors"
    assert submit(bot, view, none) == {}
    (label,) = LabelStore(bot.feedback.engine).all()
    assert label.unanswerable and not label.passages
    bot.api.wait_for("views.publish", 1, timeout=10)  # thanked


def click_in_modal(bot: Bot, view: dict, values: dict, action_id: str, user: str = ADMIN) -> None:
    """A button inside the open modal: Slack sends the view as it is, with what is typed."""
    reply = bot.interact(
        "block_actions",
        user,
        container={"type": "view", "view_id": "VMODAL"},
        view={**view, "id": "VMODAL", "hash": "H1", "state": {"values": values}},
        actions=[
            {"type": "button", "action_id": action_id, "value": "more",
             "block_id": "hfbot_label_actions"}
        ],
    )  # fmt: skip
    assert reply.status == 200


def picks(view: dict) -> list[str]:
    return [
        option["value"]
        for block in view["blocks"]
        if block.get("block_id", "").startswith("hfbot_label_pick_")
        for option in block["element"]["options"]
    ]


def test_vis_flere_shows_the_next_passages_and_a_later_one_can_be_ticked(
    labelling_bot: Bot,
) -> None:
    bot = labelling_bot
    answer_id = bot.feedback.record_answer(
        refusal("Hvor ofte møtes partnerskapsmøtet?"), channel="C1", user_id="U1"
    )
    click_in_home(bot, FIND_ANSWER, answer_id)
    (first,) = bot.api.wait_for("views.update", 1, timeout=10)
    view = first.params["view"]
    assert len(picks(view)) == 10 and "Vis flere" in json.dumps(view, ensure_ascii=False)

    click_in_modal(bot, view, {}, SHOW_MORE)
    more = bot.api.wait_for("views.update", 2, timeout=10)[1].params
    # The same modal, updated only if nobody changed it meanwhile (Slack's hash).
    assert more["view_id"] == "VMODAL" and more["hash"] == "H1"
    shown = more["view"]
    check_limits(shown)
    assert picks(shown) == [f"chunk-{n}#{n}" for n in range(1, 13)]
    assert "Vis flere" not in json.dumps(shown, ensure_ascii=False)  # all twelve are shown
    assert "Hvor ofte møtes partnerskapsmøtet?" in json.dumps(shown, ensure_ascii=False)

    second_page = {
        "hfbot_label_pick_1": {
            "value": {"type": "checkboxes", "selected_options": [{"value": "chunk-12#12"}]}
        }
    }
    assert submit(bot, shown, second_page) == {}
    (label,) = LabelStore(bot.feedback.engine).all()
    assert label.passages[0].file == "doc12.txt" and label.answer_id == answer_id


def test_without_stored_question_texts_the_admin_types_it_and_vis_utdrag_finds_passages(
    make_labelling_bot: Callable[..., Bot],
) -> None:
    bot = make_labelling_bot({"HFBOT_STORE_QUESTION_TEXT": "false"})
    answer_id = bot.feedback.record_answer(
        refusal("Hvor ofte møtes partnerskapsmøtet?"), channel="C1", user_id="U1"
    )
    click_in_home(bot, FIND_ANSWER, answer_id)
    (first,) = bot.api.wait_for("views.update", 1, timeout=10)
    view = first.params["view"]
    assert picks(view) == [] and bot.extra["asked"] == []  # nothing to search for yet
    assert any(b.get("block_id") == label_modal.QUESTION_BLOCK for b in view["blocks"])
    assert "Vis utdrag" in json.dumps(view, ensure_ascii=False)

    typed = {
        label_modal.QUESTION_BLOCK: {
            "value": {"type": "plain_text_input", "value": " Hvor ofte  møtes de? "}
        }
    }
    click_in_modal(bot, view, typed, SHOW_MORE)
    shown = bot.api.wait_for("views.update", 2, timeout=10)[1].params["view"]
    assert bot.extra["asked"] == ["Hvor ofte møtes de?"]
    assert len(picks(shown)) == 10 and "Vis flere" in json.dumps(shown, ensure_ascii=False)
    (question,) = [b for b in shown["blocks"] if b.get("block_id") == label_modal.QUESTION_BLOCK]
    assert question["element"]["initial_value"] == "Hvor ofte møtes de?"  # kept as typed

    assert submit(bot, shown, {**typed, **ticked("chunk-2#2")}) == {}
    (label,) = LabelStore(bot.feedback.engine).all()
    assert label.question == "Hvor ofte møtes de?" and label.passages[0].file == "doc2.txt"


def test_vis_flere_from_someone_else_changes_nothing(labelling_bot: Bot) -> None:
    view = label_view(ModalState("a1"), "Hvem?", [candidate(n) for n in range(1, 13)])
    click_in_modal(bot=labelling_bot, view=view, values={}, action_id=SHOW_MORE, user="UASKER")
    time.sleep(0.3)
    assert labelling_bot.api.calls_to("views.update") == []
