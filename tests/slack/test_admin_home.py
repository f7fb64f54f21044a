"""The secretariat's section of the Home tab: shown to HFBOT_ADMINS only, "Merk som håndtert"
and "Oppdater dokumentene" work from it, and it stays within Slack's view limits."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bot.slack.admin_home import ADMIN_REFRESH, MARK_HANDLED
from bot.slack.label_modal import FIND_ANSWER
from bot.types import Answer
from ingest.models import DocumentMeta
from ingest.report import IngestReport
from ingest.store import StoredDocument
from tests.slack.conftest import ADMIN, Bot
from tests.slack.fake_slack import action_ids, block_texts
from tests.slack.test_report import LEGEVAKT, StemEmbedder, refusal

SECTION = "For sekretariatet"


def open_home(bot: Bot, user: str) -> list[dict]:
    """Open the Home tab as `user`; the blocks the bot publishes for them."""
    before = len(bot.api.calls_to("views.publish"))
    bot.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"})
    published = bot.api.wait_for("views.publish", before + 1, timeout=20)[before]
    assert published.params["user_id"] == user
    return published.params["view"]["blocks"]


def click_in_home(bot: Bot, action_id: str, value: str, *, user: str = ADMIN) -> None:
    """A button click in the Home tab: a view container, no response_url."""
    reply = bot.interact(
        "block_actions",
        user,
        container={"type": "view", "view_id": "V1"},
        view={"id": "V1", "type": "home", "blocks": []},
        actions=[{"type": "button", "action_id": action_id, "value": value, "block_id": "b"}],
    )
    assert reply.status == 200


def button_values(blocks: list[dict], action_id: str) -> list[str]:
    values = [
        block["accessory"]["value"]
        for block in blocks
        if block.get("accessory", {}).get("action_id") == action_id
    ]
    values += [
        element["value"]
        for block in blocks
        if block.get("type") == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    ]
    return values


@pytest.fixture
def home_bot(make_bot: Callable[..., Bot]) -> Bot:
    ingests: list[float] = []

    def ingest() -> IngestReport:
        ingests.append(time.time())
        return IngestReport(added=1, unchanged=4, chunks=12)

    running = make_bot(run_ingest=ingest)
    running.answerer.embedder = StemEmbedder()
    running.extra["ingests"] = ingests
    return running


def test_only_admins_see_the_secretariat_section(home_bot: Bot) -> None:
    for question in LEGEVAKT:
        home_bot.feedback.record_answer(refusal(question), channel="C1", user_id="UASKER")

    everyone = open_home(home_bot, "UASKER")
    admin = open_home(home_bot, ADMIN)

    assert SECTION not in block_texts(everyone)
    assert "Drammen" not in block_texts(everyone)
    assert MARK_HANDLED not in action_ids(everyone) + [
        b.get("accessory", {}).get("action_id") for b in everyone
    ]
    text = block_texts(admin)
    assert SECTION in text and "Spørsmål uten svar" in text
    assert "*3×* «Hvem har ansvar for legevakten i Drammen?»" in text
    for part in ("*Dokumentene*", "*👎-svar*", "*Åpne saker hos sekretariatet*"):
        assert part in text
    assert ADMIN_REFRESH in action_ids(admin)
    # Everything everyone sees is there for the admin too, after the section.
    assert block_texts(everyone) in text


def test_marked_as_handled_hides_the_group_until_asked_again(home_bot: Bot) -> None:
    for question in LEGEVAKT[:2]:
        home_bot.feedback.record_answer(refusal(question), channel="C1", user_id="UASKER")
    home_bot.feedback.record_answer(refusal("Hva er KAD-plasser?"), channel="C1", user_id="U2")
    (legevakt, kad) = button_values(open_home(home_bot, ADMIN), MARK_HANDLED)

    click_in_home(home_bot, MARK_HANDLED, legevakt, user="UASKER")  # not an admin: nothing
    time.sleep(0.3)
    assert home_bot.feedback.handled_marks() == {}

    before = len(home_bot.api.calls_to("views.publish"))
    click_in_home(home_bot, MARK_HANDLED, legevakt)
    published = home_bot.api.wait_for("views.publish", before + 1, timeout=20)[before]
    blocks = published.params["view"]["blocks"]
    assert "Drammen" not in block_texts(blocks)
    assert "1 grupper er merket som håndtert" in block_texts(blocks)
    assert button_values(blocks, MARK_HANDLED) == [kad]

    time.sleep(0.01)
    home_bot.feedback.record_answer(
        refusal("Hvem er ansvarlig for legevakten i Drammen?"), channel="C1", user_id="U3"
    )
    text = block_texts(open_home(home_bot, ADMIN))
    assert "*3×*" in text and "spurt igjen etter at det ble merket som håndtert" in text


def test_refresh_button_runs_the_ingest_and_shows_the_result(home_bot: Bot) -> None:
    click_in_home(home_bot, ADMIN_REFRESH, "refresh", user="UASKER")
    time.sleep(0.3)
    assert home_bot.extra["ingests"] == []

    click_in_home(home_bot, ADMIN_REFRESH, "refresh")
    first, second = home_bot.api.wait_for("views.publish", 2, timeout=20)
    assert "Oppdaterer dokumentene" in block_texts(first.params["view"]["blocks"])
    assert "1 lagt til" in block_texts(second.params["view"]["blocks"])
    assert len(home_bot.extra["ingests"]) == 1


def test_the_admin_view_stays_within_slack_limits(make_bot: Callable[..., Bot]) -> None:
    long = "Hvordan " + "veldig " * 600 + "lang?"
    documents = {
        f"d{n}": StoredDocument(
            meta=DocumentMeta(
                doc_id=f"d{n}.pdf",
                file=f"d{n}.pdf",
                title=f"Et dokument med en lang tittel {n}",
                date=None if n % 2 else __import__("datetime").date(2010, 1, 1),
            ),
            content_hash="h",
            meta_fingerprint="f",
            chunk_count=3,
        )  # fmt: skip
        for n in range(400)
    }
    bot = make_bot(documents=lambda: documents)
    for n in range(60):
        # 60 different questions (no embedder here: grouped only when typed the same)
        bot.feedback.record_answer(
            refusal(f"Spørsmål nummer {n}: {long}"), channel="C1", user_id="U"
        )
    for _ in range(40):
        answer_id = bot.feedback.record_answer(
            Answer(question=long, text=long + " [1]", abstained=False), channel="C", user_id="U"
        )
        bot.feedback.record_vote(answer_id, "U", "down")
        bot.feedback.open_escalation(answer_id, "U")

    blocks = open_home(bot, ADMIN)

    assert len(blocks) <= 100
    for block in blocks:
        assert len(block.get("text", {}).get("text", "")) <= 3000
        for element in block.get("elements", []):
            assert (
                len(element.get("text", "") if isinstance(element.get("text"), str) else "") <= 3000
            )
    text = block_texts(blocks)
    assert "… og 48 grupper til" in text  # 60 groups, 12 shown with their buttons
    assert "… og 190 til" in text  # 200 undated documents, 10 named
    # 👎 answers: ten, each a section with its "Finn svaret" button, the rest counted.
    assert len(button_values(blocks, FIND_ANSWER)) == 12 + 10
    assert "… og 30 til (se `hfbot report`)" in text
    # Long entries: as many as fit in 3,000 characters, and the rest counted.
    for head, total in (("*Åpne saker hos sekretariatet* – 40", 40),):
        (part,) = [
            b["text"]["text"] for b in blocks if b.get("text", {}).get("text", "").startswith(head)
        ]
        shown = part.count("\n• ")
        assert 1 <= shown < 10 and part.endswith(f"… og {total - shown} til")
