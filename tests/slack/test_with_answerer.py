"""The bot over the real read path: bot.answering.Answerer on the bundled corpus (FakeEmbedder)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from bot.answering import Answerer
from hfbot.settings import BUNDLED_CORPUS, load_settings
from ingest.pipeline import run_ingest
from ingest.store import Store
from tests.fakes import FakeEmbedder
from tests.slack.conftest import Bot
from tests.slack.fake_slack import block_texts

pytestmark = pytest.mark.slow

CORPUS_FILES = {p.name for p in BUNDLED_CORPUS.iterdir() if p.suffix == ".txt"}


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    path = tmp_path_factory.mktemp("slack-corpus")
    client = chromadb.PersistentClient(
        path=str(path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    store = Store(client, "slackcorpus")
    settings = load_settings(HFBOT_DATA_DIR=path / "data", HFBOT_CORPUS_DIR=BUNDLED_CORPUS)
    report = run_ingest(settings, store=store, embedder=FakeEmbedder())
    assert report.added == 5, report.summary()
    return store


@pytest.fixture
def real_bot(make_bot: Callable[..., Bot], corpus_store: Store, isolated_env: Path) -> Bot:
    settings = load_settings()
    answerer = Answerer(settings, store=corpus_store, embedder=FakeEmbedder())
    return make_bot(
        answerer=answerer,
        documents=corpus_store.documents,
        corpus_version=corpus_store.corpus_version,
    )


def test_mention_gets_a_cited_answer_from_the_corpus(real_bot: Bot) -> None:
    event = real_bot.mention("Hvor mange kommuner er med i helsefellesskapet?")
    (post,) = real_bot.api.wait_for("chat.postMessage", timeout=30)
    assert post.params["thread_ts"] == event["ts"]
    text = block_texts(post.params["blocks"])
    assert "[1]" in text
    assert "*Kilder*" in text or "*Nærmeste dokumenter*" in text
    cited = [f for f in CORPUS_FILES if f in text] + [
        t for t in ("Partnerskapsmøte", "Helsefelleskapet", "Kommunehelsesamarbeidet") if t in text
    ]
    assert cited, text
    assert len(post.params["text"]) <= 3000


def test_five_thousand_characters_and_emoji_only_get_sensible_replies(real_bot: Bot) -> None:
    long_question = ("Hvordan er helsefellesskapet organisert og hvem deltar? " * 100)[:5000]
    real_bot.mention(long_question)
    real_bot.message("🙂🙂🙂", channel="DUSER", channel_type="im")
    posts = real_bot.api.wait_for("chat.postMessage", 2, timeout=30)
    texts = [p.params["text"] for p in posts]
    assert any("svært langt" in t or "[1]" in t for t in texts)
    assert any("ingen ord" in t.lower() or "skriv" in t.lower() for t in texts)
    for post in posts:
        for block in post.params["blocks"]:
            assert len(block.get("text", {}).get("text", "")) <= 3000


def test_home_tab_shows_what_the_partnership_is_examples_and_documents(real_bot: Bot) -> None:
    real_bot.event({"type": "app_home_opened", "user": "UNEW", "channel": "DNEW", "tab": "home"})
    (published,) = real_bot.api.wait_for("views.publish", timeout=30)
    assert published.params["user_id"] == "UNEW"
    view = published.params["view"]
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    text = block_texts(view["blocks"])
    assert "Hva er Helsefellesskap Vest-Viken?" in text
    assert "*[1]* " in text  # the introduction shows its sources
    assert "Eksempler på spørsmål" in text
    for file in CORPUS_FILES:
        assert file in text  # every document, with its date
    assert "07.02.2022" in text or "2022" in text
    # A second visit reuses the view built for this corpus version.
    calls_before = len(real_bot.api.calls)
    real_bot.event({"type": "app_home_opened", "user": "UNEW2", "channel": "D2", "tab": "home"})
    second = real_bot.api.wait_for("views.publish", 2, timeout=30)[1]
    assert second.params["view"]["blocks"] == view["blocks"]
    assert len(real_bot.api.calls) - calls_before == 1


def test_messages_tab_opening_does_not_publish(real_bot: Bot) -> None:
    import time

    real_bot.event({"type": "app_home_opened", "user": "UNEW", "channel": "D", "tab": "messages"})
    time.sleep(0.3)
    assert real_bot.api.calls_to("views.publish") == []


class SlowFakeChat(GenericFakeChatModel):
    """A chat model that writes its canned answers a token at a time, like a real one."""

    delay_s: float = 0.1

    def _stream(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        for chunk in super()._stream(*args, **kwargs):
            time.sleep(self.delay_s)
            yield chunk


def test_llm_answer_streams_into_the_message_and_ends_cited(
    make_bot: Callable[..., Bot], corpus_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HFBOT_LLM", "openai:test-model")
    text = (
        "Helsefellesskapet er samarbeidet mellom Vestre Viken HF og 21 kommuner [1]. "
        "Representanter fra helseforetak, kommuner, fastleger og brukere møtes for å planlegge "
        "tjenestene sammen [1]."
    )
    # One canned reply: a second LLM call (answer() after stream()) would fall back to the
    # extractive text and fail the last assertions.
    llm = SlowFakeChat(messages=iter([AIMessage(content=text)]))
    answerer = Answerer(load_settings(), store=corpus_store, embedder=FakeEmbedder(), llm=llm)
    bot = make_bot(
        env={"HFBOT_LLM": "openai:test-model"},
        answerer=answerer,
        documents=corpus_store.documents,
        corpus_version=corpus_store.corpus_version,
    )
    event = bot.mention("Hva er helsefellesskapet?")
    final = bot.api.wait_for(
        "chat.update", where=lambda c: "Kilder" in block_texts(c.params["blocks"]), timeout=60
    )[0].params
    (placeholder,) = bot.api.calls_to("chat.postMessage")
    assert placeholder.params["thread_ts"] == event["ts"]
    assert "Leter i dokumentene" in placeholder.params["text"]
    updates = bot.api.calls_to("chat.update")
    partial = [u for u in updates if "skriver svar" in block_texts(u.params["blocks"])]
    assert len(partial) >= 2  # the answer grew in place
    assert len(partial[-1].params["text"]) > len(partial[0].params["text"])
    for earlier, later in zip(partial, partial[1:], strict=False):
        assert later.at - earlier.at >= 0.95  # at most one update a second
    assert "21 kommuner [1]" in block_texts(final["blocks"])
    assert final["ts"] == updates[0].params["ts"]
